package io.dwcp.itp.sim;

import io.dwcp.itp.EvacuationSimulator;
import io.dwcp.itp.MigrationPolicy;
import io.dwcp.itp.Plan;
import io.dwcp.itp.PlanPolicy;
import io.dwcp.itp.PlanRenderer;
import io.dwcp.itp.Planner;
import io.dwcp.itp.PrecopyModel;
import io.dwcp.itp.SimulationResult;
import io.dwcp.itp.SlotPolicy;
import io.dwcp.itp.SlotScheduler;
import io.dwcp.pba.GoodputSeries;
import io.dwcp.pba.MahimahiTrace;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Runs the naive policies and the planner on the same seeded scenarios and prints one row per
 * scenario and policy: makespan, VMs converged / failed / not started, total and worst downtime,
 * data sent; and, for the planner, its predicted makespan and how often it re-planned. The rows
 * {@code evacuate itp}, {@code evacuate serial} and {@code evacuate all-at-once} are {@code dwcp
 * evacuate --policy ...}: the planner's plan started by the {@link SlotScheduler} the command uses
 * ({@link SlotPolicy}).
 * <pre>
 *   mvn -B -ntp -q -pl plugin -am package -DskipTests
 *   java -cp 'plugin/target/classes:plugin/target/lib/*' io.dwcp.itp.sim.PlannerComparison \
 *       --trace plugin/src/test/resources/io/dwcp/pba/traces/TMobile-UMTS-driving.down --scenario large --seeds 1,2,3
 * </pre>
 */
@Command(
        name = "itp-compare",
        mixinStandardHelpOptions = true,
        description =
                "Simulate host evacuations (ITP): naive policies against the planner, on seeded scenarios whose links follow a trace.")
public final class PlannerComparison implements Callable<Integer> {
    /** Re-plan when a link estimate moved by more than this (relative) since the plan. */
    public static final double REPLAN_THRESHOLD = 0.25;
    /** dwcp evacuate's: a link's predicted goodput moving by more than 20 % re-plans the waiting VMs. */
    public static final double EVACUATE_REPLAN_THRESHOLD = 0.2;

    /** One policy on one scenario; for the planner, its predicted makespan and re-plans. */
    public record Row(
            String scenario, long seed, SimulationResult result, double predictedMakespanSeconds, int replans) {}

    @Option(
            names = "--trace",
            required = true,
            description = "mahimahi trace whose shape every link follows (1 s buckets)")
    Path trace;

    @Option(
            names = "--scenario",
            defaultValue = "small",
            description = "small (6 VMs / 1 link), medium (40 / 5), large (200 / 20); default ${DEFAULT-VALUE}")
    String scenario;

    @Option(
            names = "--seeds",
            split = ",",
            defaultValue = "1,2,3",
            description = "scenario seeds (default ${DEFAULT-VALUE})")
    List<Long> seeds;

    @Option(
            names = "--fill-headroom",
            defaultValue = "" + Planner.FILL_HEADROOM,
            description =
                    "planner: migrations per link beyond what fills it at its estimate (default ${DEFAULT-VALUE})")
    double fillHeadroom;

    @Option(
            names = "--replan-gain",
            defaultValue = "" + SlotScheduler.REPLAN_GAIN,
            description =
                    "evacuate rows: a re-plan is taken when it is predicted to finish the waiting VMs this much (relative) "
                            + "sooner than keeping the plan; below 0: every re-plan is taken, the trigger before (default ${DEFAULT-VALUE})")
    double replanGain;

    @Option(
            names = "--evacuate-only",
            description = "only the rows of dwcp evacuate (itp, serial, all-at-once; with and without re-plans)")
    boolean evacuateOnly;

    @Option(
            names = "--dry-run",
            description = "also print the plan of the first seed, as dwcp evacuate --dry-run would")
    boolean dryRun;

    private final PrintStream out;

    public PlannerComparison() {
        this(System.out);
    }

    PlannerComparison(PrintStream out) {
        this.out = out;
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new PlannerComparison()).execute(args));
    }

    @Override
    public Integer call() {
        ScenarioGenerator.Spec spec = switch (scenario) {
            case "small" -> ScenarioGenerator.Spec.small();
            case "medium" -> ScenarioGenerator.Spec.medium();
            case "large" -> ScenarioGenerator.Spec.large();
            default -> null;
        };
        if (spec == null || !(fillHeadroom >= 1)) {
            System.err.println("itp-compare: need --scenario small, medium or large (not '" + scenario
                    + "') and --fill-headroom >= 1");
            return 2;
        }
        GoodputSeries shape;
        try (Reader reader = Files.newBufferedReader(trace, StandardCharsets.US_ASCII)) {
            shape = MahimahiTrace.read(reader, Duration.ofSeconds(1));
        } catch (IOException | RuntimeException e) {
            System.err.println("itp-compare: " + trace + ": " + e.getMessage());
            return 2;
        }
        ScenarioGenerator generator = new ScenarioGenerator(shape);
        List<Row> rows = new ArrayList<>();
        for (long seed : seeds) {
            ScenarioGenerator.Scenario generated = generator.generate(spec, seed);
            if (dryRun && seed == seeds.get(0)) {
                out.println(PlanRenderer.render(
                        new Planner(PrecopyModel.DEFAULT_MAX_ROUNDS, fillHeadroom).plan(generated.evacuation())));
            }
            Planner planner = new Planner(PrecopyModel.DEFAULT_MAX_ROUNDS, fillHeadroom);
            rows.addAll(
                    evacuateOnly
                            ? evacuate(generated, planner, planner.plan(generated.evacuation()), replanGain, true)
                            : compare(generated, planner, replanGain));
        }
        out.print(table(rows));
        return 0;
    }

    /** The two naive policies and the planner (re-planning) on one scenario. */
    public static List<Row> compare(ScenarioGenerator.Scenario scenario) {
        return compare(scenario, new Planner());
    }

    /** As {@link #compare(ScenarioGenerator.Scenario)}, with this planner. */
    public static List<Row> compare(ScenarioGenerator.Scenario scenario, Planner planner) {
        return compare(scenario, planner, SlotScheduler.REPLAN_GAIN);
    }

    /** As {@link #compare(ScenarioGenerator.Scenario, Planner)}, the evacuate rows taking re-plans that gain {@code replanGain}. */
    public static List<Row> compare(ScenarioGenerator.Scenario scenario, Planner planner, double replanGain) {
        EvacuationSimulator simulator = EvacuationSimulator.withPredictions();
        List<Row> rows = new ArrayList<>();
        for (MigrationPolicy naive : List.of(new SequentialPolicy(), new AllAtOncePolicy())) {
            rows.add(new Row(
                    scenario.name(),
                    scenario.seed(),
                    simulator.run(scenario.evacuation(), scenario.capacity(), naive),
                    Double.NaN,
                    0));
        }
        Plan plan = planner.plan(scenario.evacuation());
        PlanPolicy policy = new PlanPolicy(planner, plan, REPLAN_THRESHOLD);
        SimulationResult result = simulator.run(scenario.evacuation(), scenario.capacity(), policy);
        rows.add(new Row(scenario.name(), scenario.seed(), result, plan.predictedMakespanSeconds(), policy.replans()));
        PlanPolicy fixed = new PlanPolicy(planner, plan, Double.POSITIVE_INFINITY);
        SimulationResult once = simulator.run(scenario.evacuation(), scenario.capacity(), fixed);
        rows.add(new Row(
                scenario.name(),
                scenario.seed(),
                renamed(once, "planner, no re-plan"),
                plan.predictedMakespanSeconds(),
                0));
        rows.addAll(evacuate(scenario, planner, plan, replanGain, false));
        return rows;
    }

    /**
     * What dwcp evacuate does with --policy itp, serial and all-at-once: the plan's destinations and
     * order, started slot by slot, re-planned at slot releases ({@code EvacuateCommand.REPLAN_THRESHOLD},
     * taken when it gains {@code replanGain}); with {@code alsoFixed}, each also without re-plans.
     */
    public static List<Row> evacuate(
            ScenarioGenerator.Scenario scenario, Planner planner, Plan plan, double replanGain, boolean alsoFixed) {
        EvacuationSimulator simulator = EvacuationSimulator.withPredictions();
        List<Row> rows = new ArrayList<>();
        for (SlotScheduler.Mode mode : SlotScheduler.Mode.values()) {
            String name = "evacuate " + mode.name().toLowerCase(Locale.ROOT).replace('_', '-');
            SlotPolicy evacuate = new SlotPolicy(
                    planner,
                    plan,
                    new SlotScheduler(mode, OptionalInt.empty()),
                    EVACUATE_REPLAN_THRESHOLD,
                    replanGain,
                    name);
            rows.add(new Row(
                    scenario.name(),
                    scenario.seed(),
                    simulator.run(scenario.evacuation(), scenario.capacity(), evacuate),
                    plan.predictedMakespanSeconds(),
                    evacuate.replans()));
            if (alsoFixed) {
                SlotPolicy fixed = new SlotPolicy(
                        planner,
                        plan,
                        new SlotScheduler(mode, OptionalInt.empty()),
                        Double.POSITIVE_INFINITY,
                        name + ", no re-plan");
                rows.add(new Row(
                        scenario.name(),
                        scenario.seed(),
                        simulator.run(scenario.evacuation(), scenario.capacity(), fixed),
                        plan.predictedMakespanSeconds(),
                        0));
            }
        }
        return rows;
    }

    private static SimulationResult renamed(SimulationResult result, String policy) {
        return new SimulationResult(
                policy,
                result.makespanSeconds(),
                result.converged(),
                result.failed(),
                result.notStarted(),
                result.totalDowntimeSeconds(),
                result.worstDowntimeSeconds(),
                result.bytesSent(),
                result.outcomes());
    }

    public static String table(List<Row> rows) {
        StringBuilder table = new StringBuilder();
        table.append(
                "| scenario | seed | policy | makespan | converged | failed | not started | total downtime | worst downtime | sent | predicted makespan | re-plans |\n");
        table.append("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Row row : rows) {
            SimulationResult r = row.result();
            table.append(String.format(
                    Locale.ROOT,
                    "| %s | %d | %s | %s | %d | %d | %d | %.2f s | %.2f s | %.0f GiB | %s | %s |%n",
                    row.scenario(),
                    row.seed(),
                    r.policy(),
                    PlanRenderer.duration(r.makespanSeconds()),
                    r.converged(),
                    r.failed(),
                    r.notStarted(),
                    r.totalDowntimeSeconds(),
                    r.worstDowntimeSeconds(),
                    r.bytesSent() / (1L << 30),
                    Double.isNaN(row.predictedMakespanSeconds())
                            ? "-"
                            : PlanRenderer.duration(row.predictedMakespanSeconds()),
                    r.policy().startsWith("planner") || r.policy().startsWith("evacuate")
                            ? Integer.toString(row.replans())
                            : "-"));
        }
        return table.toString();
    }
}
