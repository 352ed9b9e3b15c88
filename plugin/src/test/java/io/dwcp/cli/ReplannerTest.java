package io.dwcp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.itp.Destination;
import io.dwcp.itp.Evacuation;
import io.dwcp.itp.Link;
import io.dwcp.itp.Plan;
import io.dwcp.itp.Planner;
import io.dwcp.itp.Vm;
import io.dwcp.pba.Prediction;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The re-plan at a slot release: only when a link's predicted goodput moved by more than 20 %, and said. */
class ReplannerTest {
    private static final long GIB = 1L << 30;

    private final FakeDwcpd dwcpd = new FakeDwcpd();
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final FakePredictor beta = new FakePredictor();
    private final Planner planner = new Planner();
    private final Replanner replanner = new Replanner(
            planner,
            dwcpd,
            new EvacuationView(new PrintStream(bytes, true, StandardCharsets.UTF_8)),
            Map.of("beta", beta),
            () -> 42L);
    private final Evacuation evacuation = new Evacuation(
            List.of(Vm.of("vm1", GIB, 0), Vm.of("vm2", GIB, 0), Vm.of("vm3", GIB, 0)),
            List.of(new Destination("beta", Long.MAX_VALUE / 4, 8)),
            Map.of("beta", new Link("beta", 12.5e6, Duration.ZERO, 12.5e6)),
            12.5e6,
            List.of(),
            Duration.ofMillis(300));
    private final Plan plan = planner.plan(evacuation);

    private String out() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static Prediction bits(double bitsPerSecond) {
        return new Prediction(bitsPerSecond, bitsPerSecond, bitsPerSecond);
    }

    @Test
    void aSmallMoveKeepsThePlan() {
        beta.prediction = bits(100e6 * 1.15);
        assertSame(
                plan, replanner.replanIfMoved(plan, evacuation, evacuation.vms().subList(1, 3), Map.of()));
        assertEquals("", out());
        assertTrue(dwcpd.calls.contains("region"), dwcpd.calls.toString());
    }

    @Test
    void noPredictionKeepsThePlan() {
        assertSame(plan, replanner.replanIfMoved(plan, evacuation, evacuation.vms(), Map.of()));
        assertEquals("", out());
    }

    @Test
    void aLargeMoveReplansTheWaitingVmsOnThePredictedRate() {
        beta.prediction = bits(40e6);
        Plan replanned =
                replanner.replanIfMoved(plan, evacuation, evacuation.vms().subList(1, 3), Map.of("beta", 1L));
        assertEquals(5e6, replanned.linkBytesPerSecond().get("beta"), 1e-6);
        assertEquals(
                List.of("vm2", "vm3"),
                replanned.steps().stream().map(step -> step.vm().id()).sorted().toList());
        assertEquals(
                "Re-planned the 2 VMs not yet started (running ones go on): predicted link goodput moved "
                        + "(beta 100.0 Mbit/s -> 40.0 Mbit/s)",
                out().lines().findFirst().orElseThrow());
        assertTrue(out().contains("Evacuation plan: 2 VMs to move"), out());
    }

    @Test
    void theControlPlanesLatestMeasurementFeedsThePredictor() {
        dwcpd.region = Optional.of(new Dwcpd.Region(
                "eu",
                "alpha",
                "alpha",
                10,
                true,
                3,
                List.of(),
                10,
                List.of(
                        new Dwcpd.Link("alpha", "beta", 20_000, 50_000_000, 0, 1),
                        new Dwcpd.Link("gamma", "beta", 20_000, 1, 0, 1)),
                10,
                List.of()));
        replanner.replanIfMoved(plan, evacuation, evacuation.vms(), Map.of());
        assertEquals(1, beta.observed.size());
        assertEquals(42, (long) beta.observed.get(0)[0]);
        assertEquals(400e6, beta.observed.get(0)[1], 1e-6);
    }

    @Test
    void noControlPlaneIsNoMeasurement() {
        dwcpd.down = "dwcpd is not running";
        beta.prediction = bits(40e6);
        Plan replanned = replanner.replanIfMoved(plan, evacuation, evacuation.vms(), Map.of());
        assertEquals(0, beta.observed.size());
        assertEquals(5e6, replanned.linkBytesPerSecond().get("beta"), 1e-6);
    }
}
