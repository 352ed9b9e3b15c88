package io.dwcp.itp.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.itp.EvacuationSimulator;
import io.dwcp.itp.Plan;
import io.dwcp.itp.Planner;
import io.dwcp.itp.SimulationResult;
import io.dwcp.itp.SlotPolicy;
import io.dwcp.itp.SlotScheduler;
import io.dwcp.pba.BundledTraces;
import io.dwcp.pba.GoodputSeries;
import java.time.Duration;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/**
 * {@code dwcp evacuate}'s slot-driven schedule against the waves it replaced, on the same plans
 * and seeded scenarios, without re-plans (the schedules alone). Not a theorem: on the 6-VM
 * scenario's seed 2 the slots finish later (list scheduling has such anomalies); across hosts,
 * where one long VM held a whole wave, they finish clearly sooner.
 */
class SlotsAgainstWavesTest {
    private static final GoodputSeries SHAPE = BundledTraces.raw("TMobile-UMTS-driving.down", Duration.ofSeconds(1));
    private static final ScenarioGenerator GENERATOR = new ScenarioGenerator(SHAPE);
    private static final EvacuationSimulator SIMULATOR = EvacuationSimulator.withPredictions();

    private static SimulationResult slots(Planner planner, Plan plan, ScenarioGenerator.Scenario scenario) {
        return SIMULATOR.run(
                scenario.evacuation(),
                scenario.capacity(),
                new SlotPolicy(
                        planner,
                        plan,
                        new SlotScheduler(SlotScheduler.Mode.ITP, OptionalInt.empty()),
                        Double.POSITIVE_INFINITY,
                        "slots"));
    }

    @Test
    void acrossHostsSlotsFinishSoonerThanWaves() {
        Planner planner = new Planner();
        for (long seed = 1; seed <= 3; seed++) {
            ScenarioGenerator.Scenario scenario = GENERATOR.generate(ScenarioGenerator.Spec.medium(), seed);
            Plan plan = planner.plan(scenario.evacuation());
            SimulationResult waves = SIMULATOR.run(
                    scenario.evacuation(), scenario.capacity(), new WavePolicy(plan, SlotScheduler.Mode.ITP));
            SimulationResult slots = slots(planner, plan, scenario);
            // at least a tenth sooner (measured: 1h03m33s -> 39m45s, 58m51s -> 43m26s, 56m51s -> 37m57s)
            assertTrue(
                    slots.makespanSeconds() < 0.9 * waves.makespanSeconds(),
                    "seed " + seed + ": slots " + slots.makespanSeconds() + " s, waves " + waves.makespanSeconds()
                            + " s");
        }
    }

    @Test
    void serialIsTheSameScheduleEitherWay() {
        // one slot in all: a wave of one and a slot of one are the same thing (no VM here comes after one that
        // fails, the only difference: waves started such VMs, slots leave them)
        Planner planner = new Planner();
        ScenarioGenerator.Scenario scenario = GENERATOR.generate(ScenarioGenerator.Spec.small(), 1);
        Plan plan = planner.plan(scenario.evacuation());
        SimulationResult waves = SIMULATOR.run(
                scenario.evacuation(), scenario.capacity(), new WavePolicy(plan, SlotScheduler.Mode.SERIAL));
        SimulationResult slots = SIMULATOR.run(
                scenario.evacuation(),
                scenario.capacity(),
                new SlotPolicy(
                        planner,
                        plan,
                        new SlotScheduler(SlotScheduler.Mode.SERIAL, OptionalInt.empty()),
                        Double.POSITIVE_INFINITY,
                        "slots"));
        assertEquals(waves.makespanSeconds(), slots.makespanSeconds(), 1e-6);
        for (SimulationResult.Outcome outcome : slots.outcomes()) {
            assertEquals(waves.outcome(outcome.vm()).startSeconds(), outcome.startSeconds(), 1e-6, outcome.vm());
        }
    }
}
