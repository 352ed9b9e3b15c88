package io.dwcp.itp;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The heuristic evacuation planner. With the link estimates of the {@link Evacuation} ({@code C_d}
 * per link, {@code p_d} per migration on it, {@code U} the uplink):
 * <ol>
 * <li><b>Concurrency per link.</b> The link's part of the uplink is {@code C'_d = min(C_d, U C_d
 * / sum C)}; it needs {@code k_d = ceil(1.25 C'_d / p_d)} migrations at once to stay full (25%
 * headroom for a capacity that varies); each then gets {@code s_d = min(p_d, C'_d / k_d)}.</li>
 * <li><b>Heavy VMs.</b> A VM is heavy on {@code d} if {@code MARGIN x dirty > s_d}: it would not
 * converge fast in a full link, so it runs with fewer peers, at up to {@code min(p_d, C_d, U)}.
 * A VM that dirties at least that fast on every link cannot converge by pre-copy: it is refused
 * (left on the source, for post-copy or auto-converge).</li>
 * <li><b>Destinations.</b> VMs of a dependency group form one unit (one destination, started
 * together); other VMs are units of one. Units go, longest first, each to the destination with
 * room (free RAM, slots) where the link would finish soonest: {@code max(load_d + sent_d / C'_d,
 * T_d)}, with {@code sent_d} and {@code T_d} from {@link PrecopyModel} at the VM's share there.
 * A baseline held at a destination shrinks the first round there, so it is favoured unless its
 * link is busier by more than the baseline saves (longest-processing-time-first list scheduling,
 * a classic for makespan).</li>
 * <li><b>Order.</b> Longest tail first: a VM's tail is its estimated duration plus the longest
 * tail of the VMs that must come after it (critical-path list scheduling; without constraints,
 * longest first). A VM thus always comes before those that wait for it.</li>
 * <li><b>Timeline.</b> The plan is run through the {@link EvacuationSimulator} at the estimated
 * rates, which gives each step's predicted start, end and downtime and the predicted makespan.</li>
 * </ol>
 * {@link PlanPolicy} carries the plan out: the admission rules are there.
 */
public final class Planner {
    /** A migration's share must be at least this times its dirty rate: the dirty set at least halves every round. */
    public static final double MARGIN = 2;
    /** Migrations beyond what fills a link at its estimate, for a capacity that varies. */
    public static final double FILL_HEADROOM = 1.25;

    private final int maxRounds;
    private final double fillHeadroom;

    public Planner() {
        this(PrecopyModel.DEFAULT_MAX_ROUNDS, FILL_HEADROOM);
    }

    public Planner(int maxRounds, double fillHeadroom) {
        if (maxRounds < 1 || !(fillHeadroom >= 1)) {
            throw new IllegalArgumentException(
                    "need maxRounds >= 1 and fill headroom >= 1: " + maxRounds + ", " + fillHeadroom);
        }
        this.maxRounds = maxRounds;
        this.fillHeadroom = fillHeadroom;
    }

    /** A plan with its predicted timeline. */
    public Plan plan(Evacuation evacuation) {
        Plan plan = planWithoutTimeline(evacuation);
        SimulationResult predicted = new EvacuationSimulator(maxRounds, Duration.ofDays(30), false)
                .run(evacuation, Capacity.constant(evacuation), new PlanPolicy(this, plan, Double.POSITIVE_INFINITY));
        List<Plan.Step> steps = new ArrayList<>();
        for (Plan.Step step : plan.steps()) {
            SimulationResult.Outcome outcome = predicted.outcome(step.vm().id());
            steps.add(step.withTimeline(outcome.startSeconds(), outcome.endSeconds(), outcome.downtimeSeconds()));
        }
        return new Plan(
                steps,
                plan.refused(),
                plan.concurrency(),
                plan.linkBytesPerSecond(),
                plan.uplinkBytesPerSecond(),
                predicted.makespanSeconds());
    }

    /** The decisions only (timeline NaN): what a re-plan during the evacuation needs. */
    public Plan planWithoutTimeline(Evacuation evacuation) {
        return planWithoutTimeline(evacuation, Set.of());
    }

    /**
     * As {@link #planWithoutTimeline(Evacuation)}, but the VMs of {@code accepted} (those an earlier
     * plan accepted) are never refused for convergence: one that the model says cannot converge at
     * these estimates is planned anyway, as a heavy VM (alone on its link, at the most any link
     * gives one migration), with a reason saying so. A re-plan needs that: the goodput it is made
     * with was measured from the running migrations, which on a host short of CPU are their own
     * bottleneck, well below the link; that is weaker evidence than the first plan had. A VM whose
     * migration then does not converge is aborted by {@code --timeout} and keeps running on the
     * source, as any failed migration.
     */
    public Plan planWithoutTimeline(Evacuation evacuation, Set<String> accepted) {
        Links links = new Links(evacuation, fillHeadroom);
        Map<String, Integer> levels = evacuation.levels();
        List<Unit> units = units(evacuation);
        List<Plan.Refusal> refused = new ArrayList<>();
        Map<String, Double> load = new HashMap<>();
        Map<String, Long> freeMemory = new HashMap<>();
        Map<String, Integer> freeSlots = new HashMap<>();
        for (Destination destination : evacuation.destinations()) {
            load.put(destination.id(), 0.0);
            freeMemory.put(destination.id(), destination.freeMemoryBytes());
            freeSlots.put(destination.id(), destination.slots());
        }
        for (Unit unit : units) {
            unit.bestCost = Double.POSITIVE_INFINITY;
            for (Destination destination : evacuation.destinations()) {
                Placement placement = placement(unit, destination.id(), links, evacuation, accepted);
                if (placement != null) {
                    unit.bestCost = Math.min(unit.bestCost, placement.linkSeconds);
                }
            }
        }
        units.sort(Comparator.comparingDouble((Unit u) -> -u.bestCost).thenComparing(u -> u.name));
        List<Chosen> chosen = new ArrayList<>();
        for (Unit unit : units) {
            if (unit.bestCost == Double.POSITIVE_INFINITY) {
                for (Vm vm : unit.vms) {
                    refused.add(new Plan.Refusal(vm, cannotConverge(vm, unit, links)));
                }
                continue;
            }
            Placement best = null;
            double bestFinish = Double.POSITIVE_INFINITY;
            for (Destination destination : evacuation.destinations()) {
                String id = destination.id();
                if (freeMemory.get(id) < unit.memory() || freeSlots.get(id) < unit.vms.size()) {
                    continue;
                }
                Placement placement = placement(unit, id, links, evacuation, accepted);
                if (placement == null) {
                    continue;
                }
                double finish = Math.max(load.get(id) + placement.linkSeconds, placement.seconds);
                if (finish < bestFinish) {
                    bestFinish = finish;
                    best = placement;
                }
            }
            if (best == null) {
                for (Vm vm : unit.vms) {
                    refused.add(new Plan.Refusal(
                            vm,
                            String.format(
                                    Locale.ROOT,
                                    "no destination has room left for %s (%s, %d VM%s): left on the source",
                                    unit.name,
                                    PlanRenderer.bytes(unit.memory()),
                                    unit.vms.size(),
                                    unit.vms.size() == 1 ? "" : "s")));
                }
                continue;
            }
            String id = best.destination;
            load.merge(id, best.linkSeconds, Double::sum);
            freeMemory.merge(id, -unit.memory(), Long::sum);
            freeSlots.merge(id, -unit.vms.size(), Integer::sum);
            chosen.add(new Chosen(unit, best, bestFinish));
        }
        Map<String, Double> tails = tails(chosen, evacuation);
        Map<Chosen, Double> priority = new HashMap<>();
        for (Chosen c : chosen) {
            priority.put(
                    c,
                    c.unit.vms.stream()
                            .mapToDouble(vm -> tails.get(vm.id()))
                            .max()
                            .orElse(0));
        }
        chosen.sort(Comparator.comparingDouble((Chosen c) -> -priority.get(c)).thenComparing(c -> c.unit.name));
        List<Plan.Step> steps = new ArrayList<>();
        for (Chosen c : chosen) {
            for (Vm vm : c.unit.vms) {
                steps.add(new Plan.Step(
                        steps.size() + 1,
                        vm,
                        c.placement.destination,
                        c.placement.heavy,
                        Double.NaN,
                        Double.NaN,
                        Double.NaN,
                        reasons(vm, c, links, evacuation, levels)));
            }
        }
        Map<String, Double> rates = new LinkedHashMap<>();
        evacuation
                .destinations()
                .forEach(d -> rates.put(d.id(), evacuation.link(d.id()).bytesPerSecond()));
        return new Plan(steps, refused, links.concurrency, rates, evacuation.uplinkBytesPerSecond(), Double.NaN);
    }

    /**
     * A re-plan of the waiting VMs and whether it was taken: {@code plan} is the new plan when
     * {@code adopted}, else the current one; the predicted makespans (from now, at the re-plan's
     * estimates) of keeping the current plan and of the new one ({@code NaN} when not compared).
     */
    public record Replan(Plan plan, boolean adopted, double keepSeconds, double replannedSeconds) {}

    /**
     * At a slot release, with link estimates that moved: plans the VMs of {@code rest} (the waiting
     * ones, with the destinations' room now and the new estimates) again, never refusing one that
     * {@code current} accepted ({@link #planWithoutTimeline(Evacuation, Set)}), and takes the new
     * plan only when it pays: both plans are run for those VMs from an idle start at the new
     * estimates, under {@code scheduler}'s slots, and the new one must move more VMs, or as many
     * {@code gain} (relative) sooner ({@link SlotScheduler#replanPays}). A re-plan reshuffles
     * order, destinations and concurrency on figures that a minute later have moved again; without
     * a clear gain it costs more than it saves. {@code gain < 0}: take every re-plan (the trigger
     * before this rule, kept for comparisons).
     */
    public Replan replan(Plan current, Evacuation rest, SlotScheduler scheduler, double gain) {
        Set<String> accepted = new HashSet<>();
        current.steps().forEach(step -> accepted.add(step.vm().id()));
        Plan candidate = planWithoutTimeline(rest, accepted);
        if (gain < 0) {
            return new Replan(candidate, true, Double.NaN, Double.NaN);
        }
        SimulationResult keep = predict(rest, current, scheduler);
        SimulationResult replanned = predict(rest, candidate, scheduler);
        boolean pays = SlotScheduler.replanPays(
                keep.converged(), keep.makespanSeconds(), replanned.converged(), replanned.makespanSeconds(), gain);
        if (pays) {
            // and it must not lose if the links come back to the figures the current plan was made with
            Evacuation back = rest.withLinkRates(current.linkBytesPerSecond(), current.uplinkBytesPerSecond());
            SimulationResult keepBack = predict(back, current, scheduler);
            SimulationResult replannedBack = predict(back, candidate, scheduler);
            pays = SlotScheduler.replanHolds(
                    keep.makespanSeconds(),
                    replanned.makespanSeconds(),
                    keepBack.converged(),
                    keepBack.makespanSeconds(),
                    replannedBack.converged(),
                    replannedBack.makespanSeconds(),
                    gain);
        }
        return new Replan(pays ? candidate : current, pays, keep.makespanSeconds(), replanned.makespanSeconds());
    }

    /**
     * What {@code plan}'s steps for the VMs of {@code evacuation} give, from an idle start, at its
     * constant estimates, started by {@code scheduler} (deterministic).
     */
    public SimulationResult predict(Evacuation evacuation, Plan plan, SlotScheduler scheduler) {
        Set<String> ids = new HashSet<>();
        evacuation.vms().forEach(vm -> ids.add(vm.id()));
        Plan only = new Plan(
                plan.steps().stream().filter(s -> ids.contains(s.vm().id())).toList(),
                plan.refused().stream().filter(r -> ids.contains(r.vm().id())).toList(),
                plan.concurrency(),
                plan.linkBytesPerSecond(),
                plan.uplinkBytesPerSecond(),
                Double.NaN);
        return new EvacuationSimulator(maxRounds, Duration.ofDays(30), false)
                .run(
                        evacuation,
                        Capacity.constant(evacuation),
                        new SlotPolicy(this, only, scheduler, Double.POSITIVE_INFINITY, "predict"));
    }

    /**
     * Per VM, the time from its start to the end of the longest chain of order constraints that
     * follows it: {@code tail(v) = T(v) + max tail(w)} over the VMs {@code w} that come after
     * {@code v}, with {@code T} the migration's estimated duration at its share.
     */
    private static Map<String, Double> tails(List<Chosen> chosen, Evacuation evacuation) {
        Map<String, Double> durations = new HashMap<>();
        for (Chosen c : chosen) {
            c.unit.vms.forEach(vm -> durations.put(vm.id(), c.placement.seconds));
        }
        Map<String, List<String>> after = new HashMap<>();
        for (OrderConstraint order : evacuation.orders()) {
            after.computeIfAbsent(order.before(), k -> new ArrayList<>()).add(order.after());
        }
        Map<String, Double> tails = new HashMap<>();
        for (String vm : durations.keySet()) {
            tail(vm, durations, after, tails);
        }
        return tails;
    }

    private static double tail(
            String vm, Map<String, Double> durations, Map<String, List<String>> after, Map<String, Double> tails) {
        Double known = tails.get(vm);
        if (known != null) {
            return known;
        }
        double longest = 0;
        for (String next : after.getOrDefault(vm, List.of())) {
            if (durations.containsKey(next)) {
                longest = Math.max(longest, tail(next, durations, after, tails));
            }
        }
        double tail = durations.getOrDefault(vm, 0.0) + longest;
        tails.put(vm, tail);
        return tail;
    }

    /** Per link: its part of the uplink, the concurrency that fills it, the share each then gets. */
    static final class Links {
        final Map<String, Double> effective = new HashMap<>();
        final Map<String, Integer> concurrency = new LinkedHashMap<>();
        final Map<String, Double> fullShare = new HashMap<>();
        final Map<String, Double> aloneShare = new HashMap<>();

        Links(Evacuation evacuation, double fillHeadroom) {
            double total = 0;
            for (Destination destination : evacuation.destinations()) {
                total += evacuation.link(destination.id()).bytesPerSecond();
            }
            double uplink = evacuation.uplinkBytesPerSecond();
            for (Destination destination : evacuation.destinations()) {
                Link link = evacuation.link(destination.id());
                double capacity = link.bytesPerSecond();
                double part = total > 0 ? Math.min(capacity, uplink * capacity / total) : 0;
                int k = Math.max(1, (int) Math.ceil(fillHeadroom * part / link.perMigrationBytesPerSecond()));
                effective.put(link.destination(), part);
                concurrency.put(link.destination(), k);
                fullShare.put(link.destination(), Math.min(link.perMigrationBytesPerSecond(), part / k));
                aloneShare.put(
                        link.destination(), Math.min(link.perMigrationBytesPerSecond(), Math.min(capacity, uplink)));
            }
        }
    }

    /** {@code tried}: a VM of it does not converge by the model, but an earlier plan accepted it. */
    private record Placement(String destination, boolean heavy, double linkSeconds, double seconds, boolean tried) {}

    private record Chosen(Unit unit, Placement placement, double finish) {}

    private static final class Unit {
        final String name;
        final List<Vm> vms;
        double bestCost;

        Unit(String name, List<Vm> vms) {
            this.name = name;
            this.vms = vms;
        }

        long memory() {
            return vms.stream().mapToLong(Vm::memoryBytes).sum();
        }
    }

    private static List<Unit> units(Evacuation evacuation) {
        List<Unit> units = new ArrayList<>();
        Map<String, List<Vm>> groups = evacuation.groups();
        for (Vm vm : evacuation.vms()) {
            if (vm.group().isEmpty()) {
                units.add(new Unit(vm.id(), List.of(vm)));
            }
        }
        groups.forEach((group, members) -> units.add(new Unit("group " + group, members)));
        return units;
    }

    /**
     * The unit's cost on {@code destination}, or null if one of its VMs cannot converge there and
     * is not in {@code accepted} (an accepted one is costed until its cancellation, alone).
     */
    private Placement placement(
            Unit unit, String destination, Links links, Evacuation evacuation, Set<String> accepted) {
        Link link = evacuation.link(destination);
        double effective = links.effective.get(destination);
        if (!(effective > 0)) {
            return null;
        }
        boolean heavy = false;
        boolean tried = false;
        double linkSeconds = 0;
        double seconds = 0;
        for (Vm vm : unit.vms) {
            boolean vmHeavy = MARGIN * vm.dirtyBytesPerSecond() > links.fullShare.get(destination);
            double vmShare = vmHeavy ? links.aloneShare.get(destination) : links.fullShare.get(destination);
            PrecopyModel.Estimate estimate = PrecopyModel.estimate(
                    vm.firstRoundBytes(destination),
                    vm.memoryBytes(),
                    vm.dirtyBytesPerSecond(),
                    vmShare,
                    evacuation.downtimeLimitSeconds(),
                    link.rttSeconds(),
                    maxRounds);
            if (!estimate.converges()) {
                if (!accepted.contains(vm.id()) || !(estimate.seconds() < Double.POSITIVE_INFINITY)) {
                    return null;
                }
                // accepted before: tried alone, costed until its cancellation
                vmHeavy = true;
                tried = true;
            }
            heavy |= vmHeavy;
            linkSeconds += estimate.bytesSent() / effective;
            seconds = Math.max(seconds, estimate.seconds());
        }
        return new Placement(destination, heavy, linkSeconds, seconds, tried);
    }

    private String cannotConverge(Vm vm, Unit unit, Links links) {
        double best = links.aloneShare.values().stream()
                .mapToDouble(Double::doubleValue)
                .max()
                .orElse(0);
        String who = unit.vms.size() > 1 ? " (with its " + unit.name + ")" : "";
        return String.format(
                Locale.ROOT,
                "cannot converge by pre-copy%s: dirties %s, the best share any link gives one migration is %s; "
                        + "left on the source (post-copy or auto-converge)",
                who,
                PlanRenderer.rate(vm.dirtyBytesPerSecond()),
                PlanRenderer.rate(best));
    }

    private List<String> reasons(
            Vm vm, Chosen chosen, Links links, Evacuation evacuation, Map<String, Integer> levels) {
        List<String> reasons = new ArrayList<>();
        String destination = chosen.placement.destination;
        if (vm.baseline(destination).isPresent()) {
            reasons.add(String.format(
                    Locale.ROOT,
                    "baseline on %s: first round %s instead of %s",
                    destination,
                    PlanRenderer.bytes((long) vm.firstRoundBytes(destination)),
                    PlanRenderer.bytes(vm.memoryBytes())));
        } else if (!vm.baselines().isEmpty()) {
            List<String> holders = vm.baselines().stream()
                    .map(Vm.Baseline::destination)
                    .sorted()
                    .toList();
            reasons.add(String.format(
                    Locale.ROOT,
                    "baseline on %s not used: %s would finish later",
                    String.join(", ", holders),
                    holders.size() == 1 ? "that link" : "those links"));
        }
        reasons.add(String.format(
                Locale.ROOT,
                "%s: link busy until ~%s with it, the soonest with room",
                destination,
                PlanRenderer.duration(chosen.finish)));
        double full = links.fullShare.get(destination);
        double alone = links.aloneShare.get(destination);
        if (chosen.placement.tried
                && !PrecopyModel.estimate(
                                vm.firstRoundBytes(destination),
                                vm.memoryBytes(),
                                vm.dirtyBytesPerSecond(),
                                alone,
                                evacuation.downtimeLimitSeconds(),
                                evacuation.link(destination).rttSeconds(),
                                maxRounds)
                        .converges()) {
            reasons.add(String.format(
                    Locale.ROOT,
                    "tried although the model says it may not converge: dirties %s, one migration gets up to %s on %s "
                            + "by the goodput measured so far (the running migrations' own rate, maybe not the link's); "
                            + "an earlier plan accepted it. If it does not converge, --timeout aborts it and it keeps running here",
                    PlanRenderer.rate(vm.dirtyBytesPerSecond()),
                    PlanRenderer.rate(alone),
                    destination));
        }
        if (chosen.placement.heavy && MARGIN * vm.dirtyBytesPerSecond() > full) {
            reasons.add(String.format(
                    Locale.ROOT,
                    "heavy: dirties %s, needs a share >= %s, more than %s in a full link: runs with fewer peers",
                    PlanRenderer.rate(vm.dirtyBytesPerSecond()),
                    PlanRenderer.rate(MARGIN * vm.dirtyBytesPerSecond()),
                    PlanRenderer.rate(full)));
        } else {
            reasons.add(String.format(
                    Locale.ROOT,
                    "up to %d at once on %s (share %s >= %.0fx dirty %s)",
                    links.concurrency.get(destination),
                    destination,
                    PlanRenderer.rate(full),
                    MARGIN,
                    PlanRenderer.rate(vm.dirtyBytesPerSecond())));
        }
        vm.group().ifPresent(group -> reasons.add("group " + group + ": same destination, started together"));
        int level = levels.get(vm.id());
        if (level > 0) {
            List<String> before = evacuation.orders().stream()
                    .filter(o -> o.after().equals(vm.id()))
                    .map(OrderConstraint::before)
                    .toList();
            reasons.add("after " + String.join(", ", before));
        }
        return reasons;
    }
}
