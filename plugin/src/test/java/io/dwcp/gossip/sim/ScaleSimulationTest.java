package io.dwcp.gossip.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The scale simulation at CI size (1,000 hosts in 20 regions), seeded, so the figures are the same
 * on every run; the aims are asserted in simulated time. The full size (10,000 hosts in 50
 * regions) runs with {@code -Ddwcp.simulation.full=true}, or through {@link ScaleSimulation#main}.
 */
class ScaleSimulationTest {
    private static final long SEED = Long.getLong("dwcp.test.seed", 7L);

    private static void assertAims(ScaleSimulation.Report report) {
        System.out.print(report.table());
        String context = " (seed " + report.parameters().seed() + ")";
        assertTrue(report.probes() > 100, "probes" + context);
        // 99 % of hosts informed within 3 s: for the typical update, and for all but the updates
        // caught by a regional failover (its hosts wait for the new leader)
        assertTrue(report.to99Percent().p50() <= 3_000, "median time to 99 %: " + report.to99Percent() + context);
        assertTrue(
                report.fractionOfUpdates99PercentWithin3s() >= 0.90,
                "updates at 99 % within 3 s: " + report.fractionOfUpdates99PercentWithin3s() + context);
        assertTrue(report.failoverMillis().max() <= 5_000, "failover: " + report.failoverMillis() + context);
        assertTrue(
                report.bytesPerHostPerSecond() < 1024,
                "bytes per host per second: " + report.bytesPerHostPerSecond() + context);
        assertTrue(
                report.fractionOfReadsWithin5s() >= 0.99,
                "reads within the staleness bound: " + report.fractionOfReadsWithin5s() + context);
    }

    @Test
    void ciSizeMeetsTheAimsAndIsDeterministic() {
        ScaleSimulation.Parameters parameters = ScaleSimulation.Parameters.of(20, 50, SEED, 40_000);
        ScaleSimulation.Report report = ScaleSimulation.run(parameters);
        assertAims(report);
        assertEquals(report, ScaleSimulation.run(parameters), "same seed, same figures");
    }

    @Test
    @EnabledIfSystemProperty(named = "dwcp.simulation.full", matches = "true")
    void fullSize() {
        assertAims(ScaleSimulation.run(ScaleSimulation.Parameters.of(50, 200, SEED, 120_000)));
    }
}
