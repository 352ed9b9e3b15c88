package io.dwcp.itp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EvacuationSimulatorTest {
    private static final EvacuationSimulator EXACT = new EvacuationSimulator(30, Duration.ofDays(1), false);

    @Test
    void oneMigrationAtAConstantRateIsThePrecopyModel() {
        Vm vm = Vm.of("vm1", 400_000_000L, 2e6);
        Evacuation evacuation = Fixtures.evacuation(List.of(vm), 1, 10e6, 100e6, 1e9, List.of());
        SimulationResult result =
                EXACT.run(evacuation, Capacity.constant(evacuation), Fixtures.fixed(Map.of("vm1", "h1")));
        PrecopyModel.Estimate estimate =
                PrecopyModel.estimate(vm.memoryBytes(), vm.memoryBytes(), 2e6, 10e6, 0.3, 0.05, 30);
        SimulationResult.Outcome outcome = result.outcome("vm1");
        assertEquals(SimulationResult.Status.CONVERGED, outcome.status());
        assertEquals(estimate.rounds(), outcome.rounds());
        assertEquals(estimate.seconds(), outcome.endSeconds(), 1e-6);
        assertEquals(estimate.downtimeSeconds(), outcome.downtimeSeconds(), 1e-9);
        assertEquals(estimate.bytesSent(), outcome.bytesSent(), 1e-3);
        assertEquals(estimate.seconds(), result.makespanSeconds(), 1e-6);
    }

    @Test
    void migrationsOnOneLinkShareIt() {
        // two idle 100 MB guests on a 10 MB/s link: 5 MB/s each, 20 s, then the RTT
        Evacuation evacuation = Fixtures.evacuation(
                List.of(Vm.of("a", 100_000_000L, 0), Vm.of("b", 100_000_000L, 0)), 1, 10e6, 100e6, 1e9, List.of());
        SimulationResult result =
                EXACT.run(evacuation, Capacity.constant(evacuation), Fixtures.fixed(Map.of("a", "h1", "b", "h1")));
        assertEquals(20.05, result.outcome("a").endSeconds(), 1e-9);
        assertEquals(20.05, result.outcome("b").endSeconds(), 1e-9);
        assertEquals(2, result.converged());
    }

    @Test
    void aCapacityChangeMidRoundChangesTheRate() {
        // 1000 MB idle guest: 100 MB/s for 5 s (500 MB), then 200 MB/s for the other 500 MB: 2.5 s
        Evacuation evacuation =
                Fixtures.evacuation(List.of(Vm.of("a", 1_000_000_000L, 0)), 1, 100e6, 1e9, 1e10, List.of());
        SimulationResult result =
                EXACT.run(evacuation, Fixtures.step(100e6, 5, 200e6, 1e10), Fixtures.fixed(Map.of("a", "h1")));
        assertEquals(7.5 + 0.05, result.makespanSeconds(), 1e-9);
    }

    @Test
    void aMigrationThatCannotConvergeIsCancelledAndGivesItsRoomBack() {
        // the destination has room for one of the two; "hot" dirties faster than the link: cancelled after 30 rounds,
        // then "cold" gets the room
        Vm hot = Vm.of("hot", 100_000_000L, 20e6);
        Vm cold = Vm.of("cold", 100_000_000L, 0);
        Evacuation evacuation = new Evacuation(
                List.of(hot, cold),
                List.of(new Destination("h1", 150_000_000L, 1)),
                Map.of("h1", new Link("h1", 10e6, Duration.ZERO, 100e6)),
                1e9,
                List.of(),
                Duration.ofMillis(300));
        SimulationResult result =
                EXACT.run(evacuation, Capacity.constant(evacuation), Fixtures.fixed(Map.of("hot", "h1", "cold", "h1")));
        SimulationResult.Outcome failed = result.outcome("hot");
        assertEquals(SimulationResult.Status.FAILED, failed.status());
        assertEquals(30, failed.rounds());
        // every round resends all 100 MB at 10 MB/s
        assertEquals(300, failed.endSeconds(), 1e-6);
        SimulationResult.Outcome moved = result.outcome("cold");
        assertEquals(SimulationResult.Status.CONVERGED, moved.status());
        assertEquals(300, moved.startSeconds(), 1e-6);
        assertEquals(1, result.failed());
        assertEquals(1, result.converged());
    }

    @Test
    void linkEstimatesFollowTheCapacity() {
        // "never" is never started: it keeps the policy asked until "a" ends
        Evacuation evacuation = Fixtures.evacuation(
                List.of(Vm.of("a", 5_000_000_000L, 0), Vm.of("never", 1, 0)), 1, 100e6, 1e9, 1e10, List.of());
        double[] seen = new double[2];
        MigrationPolicy probe = new MigrationPolicy() {
            @Override
            public List<Start> decide(SimulationView view) {
                if (view.time() == 0) {
                    seen[0] = view.estimatedLinkBytesPerSecond("h1");
                    return List.of(new Start("a", "h1"));
                }
                seen[1] = view.estimatedLinkBytesPerSecond("h1");
                return List.of();
            }

            @Override
            public String name() {
                return "probe";
            }
        };
        SimulationResult result =
                EvacuationSimulator.withPredictions().run(evacuation, Fixtures.step(100e6, 10, 300e6, 1e10), probe);
        assertEquals(1, result.notStarted());
        assertEquals(100e6, seen[0], 1);
        // 1 GB by t = 10 s, 4 GB more at 300 MB/s: the last decision, near t = 23 s, sees an estimate near 300 MB/s
        assertTrue(seen[1] > 250e6 && seen[1] < 320e6, "estimate " + seen[1]);
    }
}
