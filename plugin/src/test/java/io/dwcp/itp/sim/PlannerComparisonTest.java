package io.dwcp.itp.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.itp.SimulationResult;
import io.dwcp.pba.BundledTraces;
import io.dwcp.pba.GoodputSeries;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The planner against the naive policies, on seeded scenarios whose links follow a real cellular
 * trace (scaled): every figure comes from the simulation. Seeds are fixed so a failure replays.
 */
class PlannerComparisonTest {
    private static final GoodputSeries SHAPE = BundledTraces.raw("TMobile-UMTS-driving.down", Duration.ofSeconds(1));
    private static final ScenarioGenerator GENERATOR = new ScenarioGenerator(SHAPE);

    /**
     * {@code leftByOrder}: the VMs the planner left on the source only because a VM they come after
     * did not move (an order constraint the naive policies ignore).
     */
    private record Outcome(
            SimulationResult sequential, SimulationResult allAtOnce, SimulationResult planner, long leftByOrder) {
        double bestNaive() {
            return Math.min(sequential.makespanSeconds(), allAtOnce.makespanSeconds());
        }
    }

    private static Outcome run(ScenarioGenerator.Spec spec, long seed) {
        ScenarioGenerator.Scenario scenario = GENERATOR.generate(spec, seed);
        List<PlannerComparison.Row> rows = PlannerComparison.compare(scenario);
        assertEquals("one at a time", rows.get(0).result().policy());
        assertEquals("all at once", rows.get(1).result().policy());
        assertEquals("planner", rows.get(2).result().policy());
        SimulationResult planner = rows.get(2).result();
        long leftByOrder = planner.outcomes().stream()
                .filter(o -> o.status() == SimulationResult.Status.NOT_STARTED)
                .filter(o -> scenario.evacuation().orders().stream()
                        .anyMatch(order -> order.after().equals(o.vm())
                                && planner.outcome(order.before()).status() != SimulationResult.Status.CONVERGED))
                .count();
        return new Outcome(rows.get(0).result(), rows.get(1).result(), planner, leftByOrder);
    }

    /** The planner finishes strictly sooner than both naive policies and leaves no more VMs behind. */
    private static Outcome plannerBeatsBothNaivePolicies(ScenarioGenerator.Spec spec, long seed, String context) {
        Outcome outcome = run(spec, seed);
        assertTrue(outcome.planner().makespanSeconds() < outcome.bestNaive(), context + ": " + outcome);
        noMoreLeftBehind(outcome, context);
        return outcome;
    }

    /** Not counting the VMs left because one they come after did not move (the naive policies ignore the order). */
    private static void noMoreLeftBehind(Outcome outcome, String context) {
        long planner = outcome.planner().notMoved() - outcome.leftByOrder();
        assertTrue(planner <= outcome.sequential().notMoved(), context + ": " + outcome);
        assertTrue(planner <= outcome.allAtOnce().notMoved(), context + ": " + outcome);
    }

    @Test
    void plannerBeatsBothNaivePoliciesAcrossHosts() {
        for (long seed = 1; seed <= 5; seed++) {
            plannerBeatsBothNaivePolicies(ScenarioGenerator.Spec.medium(), seed, "40 VMs / 5 hosts, seed " + seed);
        }
    }

    @Test
    void plannerBeatsBothNaivePoliciesAtScale() {
        Outcome outcome = plannerBeatsBothNaivePolicies(ScenarioGenerator.Spec.large(), 1, "200 VMs / 20 hosts");
        // all at once starves the heavy guests: longer downtimes than the planner's
        assertTrue(
                outcome.planner().worstDowntimeSeconds() < outcome.allAtOnce().worstDowntimeSeconds(),
                outcome.toString());
    }

    @Test
    void plannerBeatsBothNaivePoliciesOnOneLink() {
        for (long seed = 1; seed <= 5; seed++) {
            plannerBeatsBothNaivePolicies(ScenarioGenerator.Spec.small(), seed, "6 VMs / 1 link, seed " + seed);
        }
    }

    @Test
    void aSeedIsAScenario() {
        ScenarioGenerator.Scenario first = GENERATOR.generate(ScenarioGenerator.Spec.medium(), 42);
        ScenarioGenerator.Scenario again = GENERATOR.generate(ScenarioGenerator.Spec.medium(), 42);
        assertEquals(first.evacuation(), again.evacuation());
        assertEquals(
                PlannerComparison.compare(first).get(2).result().makespanSeconds(),
                PlannerComparison.compare(again).get(2).result().makespanSeconds());
    }

    @Test
    void linksFollowTheTraceAroundTheirMean() {
        ScenarioGenerator.Scenario scenario = GENERATOR.generate(ScenarioGenerator.Spec.medium(), 7);
        String host = scenario.evacuation().destinations().get(0).id();
        double mean = scenario.evacuation().link(host).bytesPerSecond();
        double sum = 0;
        for (int second = 0; second < SHAPE.size(); second++) {
            sum += scenario.capacity().linkBytesPerSecond(host, second + 0.5);
        }
        // one whole loop of the trace averages to the link's mean
        assertEquals(mean, sum / SHAPE.size(), mean * 1e-9);
        assertEquals(3.0, scenario.capacity().nextChange(2.0));
        assertEquals(3.0, scenario.capacity().nextChange(2.5));
    }
}
