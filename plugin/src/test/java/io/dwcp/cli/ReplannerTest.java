package io.dwcp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.itp.Destination;
import io.dwcp.itp.Evacuation;
import io.dwcp.itp.Link;
import io.dwcp.itp.Plan;
import io.dwcp.itp.Planner;
import io.dwcp.itp.SlotScheduler;
import io.dwcp.itp.Vm;
import io.dwcp.pba.Prediction;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
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
            new SlotScheduler(SlotScheduler.Mode.ITP, OptionalInt.empty()),
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
    void aLargeMoveThatANewPlanDoesNotBeatKeepsThePlanAndSaysSo() {
        // one link, guests that dirty nothing: at 40 Mbit/s a new plan is the same plan, no sooner
        beta.prediction = bits(40e6);
        assertSame(
                plan, replanner.replanIfMoved(plan, evacuation, evacuation.vms().subList(1, 3), Map.of("beta", 1L)));
        assertTrue(
                out().lines()
                        .findFirst()
                        .orElseThrow()
                        .startsWith("Kept the plan of the 2 VMs not yet started: predicted link goodput moved "
                                + "(beta 100.0 Mbit/s -> 40.0 Mbit/s), but a new plan would not finish them more than "
                                + "10% sooner (predicted ~"),
                out());
    }

    @Test
    void aLargeMoveReplansTheWaitingVmsWhenANewPlanIsClearlySooner() {
        FakePredictor gamma = new FakePredictor();
        Replanner twoLinks = new Replanner(
                planner,
                new SlotScheduler(SlotScheduler.Mode.ITP, OptionalInt.empty()),
                dwcpd,
                new EvacuationView(new PrintStream(bytes, true, StandardCharsets.UTF_8)),
                Map.of("beta", beta, "gamma", gamma),
                () -> 42L);
        List<Vm> vms = List.of(
                Vm.of("vm1", GIB, 0),
                Vm.of("vm2", GIB, 0),
                Vm.of("vm3", GIB, 0),
                Vm.of("vm4", GIB, 0),
                Vm.of("vm5", GIB, 0));
        Evacuation both = new Evacuation(
                vms,
                List.of(
                        new Destination("beta", Long.MAX_VALUE / 4, 8),
                        new Destination("gamma", Long.MAX_VALUE / 4, 8)),
                Map.of(
                        "beta", new Link("beta", 12.5e6, Duration.ZERO, 12.5e6),
                        "gamma", new Link("gamma", 12.5e6, Duration.ZERO, 12.5e6)),
                25e6,
                List.of(),
                Duration.ofMillis(300));
        Plan first = planner.plan(both);
        // beta falls to a tenth, gamma holds
        beta.prediction = bits(10e6);
        gamma.prediction = bits(100e6);
        Plan replanned = twoLinks.replanIfMoved(first, both, vms.subList(1, 5), Map.of());
        assertEquals(1.25e6, replanned.linkBytesPerSecond().get("beta"), 1e-6);
        assertEquals(
                List.of("vm2", "vm3", "vm4", "vm5"),
                replanned.steps().stream().map(step -> step.vm().id()).sorted().toList());
        assertTrue(replanned.steps().stream()
                        .filter(s -> s.destination().equals("gamma"))
                        .count()
                >= 3);
        assertEquals(
                "Re-planned the 4 VMs not yet started (running ones go on): predicted link goodput moved "
                        + "(beta 100.0 Mbit/s -> 10.0 Mbit/s)",
                out().lines().findFirst().orElseThrow());
        assertTrue(out().contains("Evacuation plan: 4 VMs to move"), out());
    }

    /**
     * The bench's S2 run: planned at 500 Mbit/s, the first migrations (CPU-bound) made 45.7 Mbit/s,
     * below the heavy guests' 81.9 Mbit/s dirty rate; the re-plan refused them. Now it refuses none
     * of the VMs the plan accepted.
     */
    @Test
    void aGoodputMeasuredFromCpuBoundMigrationsRefusesNoVmThePlanAccepted() {
        double page = 4096;
        List<Vm> vms = List.of(
                Vm.of("v1", GIB / 4, 500 * page),
                Vm.of("v2", 3 * GIB / 8, 2500 * page),
                Vm.of("v3", GIB / 2, 500 * page),
                Vm.of("v4", GIB / 4, 2500 * page),
                Vm.of("v5", 3 * GIB / 8, 500 * page),
                Vm.of("v6", GIB / 2, 2500 * page));
        Evacuation s2 = new Evacuation(
                vms,
                List.of(new Destination("beta", Long.MAX_VALUE / 4, 1 << 20)),
                Map.of("beta", new Link("beta", 62.5e6, Duration.ofMillis(140), 62.5e6)),
                62.5e6,
                List.of(),
                Duration.ofMillis(300));
        Plan first = planner.plan(s2);
        assertEquals(List.of(), first.refused());
        beta.prediction = bits(45.7e6);
        List<Vm> waiting = List.of(vms.get(0), vms.get(1), vms.get(3), vms.get(4));
        Plan after = replanner.replanIfMoved(first, s2, waiting, Map.of("beta", 1L));
        assertEquals(List.of(), after.refused(), out());
        for (Vm vm : waiting) {
            after.step(vm.id());
        }
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
        replanner.replanIfMoved(plan, evacuation, evacuation.vms(), Map.of());
        assertEquals(0, beta.observed.size());
        // the predictor's figure alone moved the link (a new plan, or the plan kept, says so)
        assertTrue(out().contains("beta 100.0 Mbit/s -> 40.0 Mbit/s"), out());
    }
}
