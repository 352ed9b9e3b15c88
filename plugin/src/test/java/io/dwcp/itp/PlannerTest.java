package io.dwcp.itp;

import static io.dwcp.itp.Fixtures.GIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PlannerTest {
    private static final double MBIT = 1e6 / 8;
    private static final EvacuationSimulator EXACT = new EvacuationSimulator(30, Duration.ofDays(1), false);

    @Test
    void concurrencyFillsTheLinkWithHeadroom() {
        // 300 Mbit/s link, 100 Mbit/s per migration: 3 fill it, 1.25 x 3 -> 4
        Evacuation evacuation =
                Fixtures.evacuation(List.of(Vm.of("a", GIB, 0)), 1, 300 * MBIT, 100 * MBIT, 1e10, List.of());
        assertEquals(4, new Planner().plan(evacuation).concurrency().get("h1"));
        // the uplink (200 Mbit/s) is the bottleneck: 1.25 x 2 -> 3
        Evacuation narrow =
                Fixtures.evacuation(List.of(Vm.of("a", GIB, 0)), 1, 300 * MBIT, 100 * MBIT, 200 * MBIT, List.of());
        assertEquals(3, new Planner().plan(narrow).concurrency().get("h1"));
    }

    @Test
    void refusesAGuestNoLinkCanOutrun() {
        Evacuation evacuation = Fixtures.evacuation(
                List.of(Vm.of("calm", GIB, 1 * MBIT), Vm.of("wild", GIB, 120 * MBIT)),
                2,
                300 * MBIT,
                100 * MBIT,
                1e10,
                List.of());
        Plan plan = new Planner().plan(evacuation);
        assertEquals(
                List.of("calm"), plan.steps().stream().map(s -> s.vm().id()).toList());
        assertEquals(1, plan.refused().size());
        assertEquals("wild", plan.refused().get(0).vm().id());
        assertEquals(
                "cannot converge by pre-copy: dirties 120.0 Mbit/s, the best share any link gives one migration is 100.0 Mbit/s; "
                        + "left on the source (post-copy or auto-converge)",
                plan.refused().get(0).reason());
    }

    @Test
    void heavyGuestsRunWithFewerPeers() {
        // full-link share 300 / 4 = 75 Mbit/s; "hot" needs 2 x 45 = 90 Mbit/s
        List<Vm> vms = new ArrayList<>();
        for (int i = 1; i <= 6; i++) {
            vms.add(Vm.of("cool" + i, 4 * GIB, 2 * MBIT));
        }
        vms.add(Vm.of("hot", GIB, 45 * MBIT));
        Evacuation evacuation = Fixtures.evacuation(vms, 1, 300 * MBIT, 100 * MBIT, 1e10, List.of());
        Plan plan = new Planner().plan(evacuation);
        Plan.Step hot = plan.step("hot");
        assertTrue(hot.heavy());
        assertFalse(plan.step("cool1").heavy());
        assertTrue(
                hot.reasons().stream()
                        .anyMatch(r -> r.startsWith("heavy: dirties 45.0 Mbit/s, needs a share >= 90.0 Mbit/s")),
                hot.reasons().toString());
        SimulationResult result = EXACT.run(
                evacuation,
                Capacity.constant(evacuation),
                new PlanPolicy(new Planner(), plan, Double.POSITIVE_INFINITY));
        assertEquals(7, result.converged());
        // before hot, the link holds the plan's 4; while hot runs, at most 300 / 90 = 3 (hot and two others)
        SimulationResult.Outcome hotOutcome = result.outcome("hot");
        assertTrue(hotOutcome.startSeconds() > 0);
        assertEquals(4, mostAtOnce(result, 0, hotOutcome.startSeconds()));
        assertTrue(mostAtOnce(result, hotOutcome.startSeconds(), hotOutcome.endSeconds()) <= 3);
    }

    /** The most migrations running at once at any start within {@code [from, to)}. */
    private static long mostAtOnce(SimulationResult result, double from, double to) {
        long most = 0;
        for (SimulationResult.Outcome at : result.outcomes()) {
            double t = at.startSeconds();
            if (t >= from && t < to) {
                most = Math.max(
                        most,
                        result.outcomes().stream()
                                .filter(o -> o.startSeconds() <= t && t < o.endSeconds())
                                .count());
            }
        }
        return most;
    }

    @Test
    void longestTailFirst() {
        // "small" has little work itself, but "big" (8 GiB) waits for it: small's tail is the longest, then big's
        List<Vm> vms = List.of(
                Vm.of("mid1", 4 * GIB, 0), Vm.of("small", GIB, 0), Vm.of("mid2", 4 * GIB, 0), Vm.of("big", 8 * GIB, 0));
        Evacuation evacuation =
                Fixtures.evacuation(vms, 1, 300 * MBIT, 100 * MBIT, 1e10, List.of(new OrderConstraint("small", "big")));
        Plan plan = new Planner().plan(evacuation);
        assertEquals(
                List.of("small", "big", "mid1", "mid2"),
                plan.steps().stream().map(s -> s.vm().id()).toList());
        SimulationResult result = EXACT.run(
                evacuation,
                Capacity.constant(evacuation),
                new PlanPolicy(new Planner(), plan, Double.POSITIVE_INFINITY));
        assertTrue(
                result.outcome("big").startSeconds() >= result.outcome("small").endSeconds());
        // the others do not wait for big: they start at once
        assertEquals(0, result.outcome("mid1").startSeconds());
        assertEquals(0, result.outcome("mid2").startSeconds());
    }

    @Test
    void aBaselineDrawsItsVmToItsHolder() {
        Vm vm = Vm.of("db", 8 * GIB, 1 * MBIT).withBaseline("h3", 0.8);
        Evacuation evacuation = Fixtures.evacuation(List.of(vm), 4, 300 * MBIT, 100 * MBIT, 1e10, List.of());
        Plan.Step step = new Planner().plan(evacuation).step("db");
        assertEquals("h3", step.destination());
        assertEquals(
                "baseline on h3: first round 1.6 GiB instead of 8.0 GiB",
                step.reasons().get(0));
    }

    @Test
    void withAllElseEqualEachVmGoesWhereItsBaselineIs() {
        // two equal VMs, two equal links; by name alone both would pick h1 first
        Vm a = Vm.of("a", 4 * GIB, 1 * MBIT).withBaseline("h2", 0.5);
        Vm b = Vm.of("b", 4 * GIB, 1 * MBIT).withBaseline("h1", 0.5);
        Evacuation evacuation = Fixtures.evacuation(List.of(a, b), 2, 300 * MBIT, 100 * MBIT, 1e10, List.of());
        Plan plan = new Planner().plan(evacuation);
        assertEquals("h2", plan.step("a").destination());
        assertEquals("h1", plan.step("b").destination());
        assertEquals(
                "Planned with a baseline at the destination: a on h2 (first round 2.0 GiB of 4.0 GiB), "
                        + "b on h1 (first round 2.0 GiB of 4.0 GiB)",
                PlanRenderer.render(plan)
                        .lines()
                        .filter(line -> line.startsWith("Planned with a baseline"))
                        .findFirst()
                        .orElse("none"));
        // without baselines: no such line
        Plan without = new Planner()
                .plan(Fixtures.evacuation(
                        List.of(Vm.of("a", 4 * GIB, 1 * MBIT), Vm.of("b", 4 * GIB, 1 * MBIT)),
                        2,
                        300 * MBIT,
                        100 * MBIT,
                        1e10,
                        List.of()));
        assertFalse(PlanRenderer.render(without).contains("Planned with a baseline"), PlanRenderer.render(without));
    }

    @Test
    void ofTwoBaselinesTheLargerShareWinsAndABusyHolderIsPassedOverSayingSo() {
        Vm db = Vm.of("db", 8 * GIB, 1 * MBIT).withBaseline("h1", 0.3).withBaseline("h2", 0.9);
        Evacuation evacuation = Fixtures.evacuation(List.of(db), 3, 300 * MBIT, 100 * MBIT, 1e10, List.of());
        assertEquals("h2", new Planner().plan(evacuation).step("db").destination());
        assertEquals(0.9, db.baseline("h2").orElseThrow().share());
        assertEquals(8 * GIB, db.firstRoundBytes("h3"), 1e-6);
        // a small share on a link that the big VMs keep busy: the VM goes elsewhere, and says why
        List<Vm> vms = new ArrayList<>();
        vms.add(Vm.of("big1", 16 * GIB, 0));
        vms.add(Vm.of("big2", 16 * GIB, 0));
        vms.add(Vm.of("small", 2 * GIB, 0).withBaseline("h1", 0.05));
        Plan plan = new Planner().plan(Fixtures.evacuation(vms, 2, 300 * MBIT, 100 * MBIT, 1e10, List.of()));
        assertEquals("h1", plan.step("big1").destination(), PlanRenderer.render(plan));
        assertEquals("h2", plan.step("small").destination(), PlanRenderer.render(plan));
        assertEquals(
                "baseline on h1 not used: that link would finish later",
                plan.step("small").reasons().get(0));
        assertFalse(PlanRenderer.render(plan).contains("Planned with a baseline"), PlanRenderer.render(plan));
    }

    @Test
    void groupsShareADestinationAndStartTogether() {
        List<Vm> vms = new ArrayList<>();
        for (int i = 1; i <= 8; i++) {
            vms.add(Vm.of("vm" + i, 2 * GIB, 1 * MBIT));
        }
        vms.set(2, vms.get(2).inGroup("web"));
        vms.set(5, vms.get(5).inGroup("web"));
        vms.set(7, vms.get(7).inGroup("web"));
        Evacuation evacuation = Fixtures.evacuation(vms, 3, 100 * MBIT, 50 * MBIT, 1e10, List.of());
        Plan plan = new Planner().plan(evacuation);
        String destination = plan.step("vm3").destination();
        assertEquals(destination, plan.step("vm6").destination());
        assertEquals(destination, plan.step("vm8").destination());
        SimulationResult result = EXACT.run(
                evacuation,
                Capacity.constant(evacuation),
                new PlanPolicy(new Planner(), plan, Double.POSITIVE_INFINITY));
        double start = result.outcome("vm3").startSeconds();
        assertEquals(start, result.outcome("vm6").startSeconds());
        assertEquals(start, result.outcome("vm8").startSeconds());
    }

    @Test
    void orderConstraintsHoldInTheEvacuation() {
        List<Vm> vms = new ArrayList<>();
        for (int i = 1; i <= 10; i++) {
            vms.add(Vm.of("vm" + i, (1 + i % 3) * GIB, 1 * MBIT));
        }
        // the app servers wait for the database
        List<OrderConstraint> orders = List.of(
                new OrderConstraint("vm9", "vm1"),
                new OrderConstraint("vm9", "vm2"),
                new OrderConstraint("vm1", "vm5"));
        Evacuation evacuation = Fixtures.evacuation(vms, 2, 200 * MBIT, 100 * MBIT, 1e10, orders);
        Plan plan = new Planner().plan(evacuation);
        assertTrue(
                plan.step("vm5").reasons().contains("after vm1"),
                plan.step("vm5").reasons().toString());
        SimulationResult result = EXACT.run(
                evacuation,
                Capacity.constant(evacuation),
                new PlanPolicy(new Planner(), plan, Double.POSITIVE_INFINITY));
        for (OrderConstraint order : orders) {
            assertTrue(
                    result.outcome(order.after()).startSeconds()
                            >= result.outcome(order.before()).endSeconds(),
                    order.toString());
        }
        assertEquals(10, result.converged());
    }

    @Test
    void respectsRoomAndSlots() {
        List<Vm> vms = List.of(Vm.of("a", 6 * GIB, 0), Vm.of("b", 6 * GIB, 0), Vm.of("c", 6 * GIB, 0));
        Map<String, Link> links = new HashMap<>();
        links.put("big", new Link("big", 1e9, Duration.ofMillis(10), 1e8));
        links.put("small", new Link("small", 1e9, Duration.ofMillis(10), 1e8));
        Evacuation evacuation = new Evacuation(
                vms,
                List.of(new Destination("big", 100 * GIB, 1), new Destination("small", 7 * GIB, 5)),
                links,
                1e10,
                List.of(),
                Duration.ofMillis(300));
        Plan plan = new Planner().plan(evacuation);
        assertEquals(2, plan.steps().size());
        assertEquals(
                1,
                plan.steps().stream().filter(s -> s.destination().equals("big")).count());
        assertEquals(
                1,
                plan.steps().stream()
                        .filter(s -> s.destination().equals("small"))
                        .count());
        assertTrue(
                plan.refused().get(0).reason().startsWith("no destination has room left for"),
                plan.refused().get(0).reason());
    }

    @Test
    void predictedMakespanIsNoShorterThanTheDataOverTheBottleneck() {
        List<Vm> vms = new ArrayList<>();
        double bytes = 0;
        for (int i = 1; i <= 12; i++) {
            Vm vm = Vm.of("vm" + i, (1 + i % 4) * GIB, (i % 5) * MBIT);
            vms.add(vm);
            bytes += vm.memoryBytes();
        }
        Evacuation evacuation = Fixtures.evacuation(vms, 3, 200 * MBIT, 100 * MBIT, 400 * MBIT, List.of());
        Plan plan = new Planner().plan(evacuation);
        assertTrue(plan.predictedMakespanSeconds() >= bytes / (400 * MBIT), plan.predictedMakespanSeconds() + " s");
        for (Plan.Step step : plan.steps()) {
            assertFalse(Double.isNaN(step.predictedEndSeconds()), step.vm().id());
            assertTrue(step.predictedEndSeconds() <= plan.predictedMakespanSeconds());
        }
    }

    @Test
    void rendersTheDryRun() {
        Evacuation evacuation = Fixtures.evacuation(
                List.of(Vm.of("db", 8 * GIB, 1 * MBIT).withBaseline("h1", 0.5), Vm.of("wild", GIB, 500 * MBIT)),
                1,
                300 * MBIT,
                100 * MBIT,
                1e10,
                List.of());
        String text = PlanRenderer.render(new Planner().plan(evacuation));
        String[] lines = text.split("\n");
        assertTrue(lines[0].startsWith("Evacuation plan: 1 VMs to move, 1 refused; predicted makespan "), lines[0]);
        assertEquals("Links (estimate, most migrations at once): h1 300.0 Mbit/s x4; uplink 80000.0 Mbit/s", lines[1]);
        assertEquals("Planned with a baseline at the destination: db on h1 (first round 4.0 GiB of 8.0 GiB)", lines[2]);
        assertTrue(
                lines[4].matches(
                        "\\s+1  db\\s+8\\.0 GiB\\s+1\\.0 Mbit/s  h1\\s+0s\\s+\\S+\\s+0\\.\\d\\d s  baseline on h1: .*"),
                lines[4]);
        assertTrue(lines[5].contains("wild") && lines[5].contains("refused: cannot converge"), lines[5]);
    }

    /**
     * The bench's S2 re-plan: four waiting guests (256/384 MiB, 500 or 2,500 pages/s) on one link
     * whose goodput, measured from the CPU-bound migrations that ran, came out at 45.7 Mbit/s, below
     * the heavy guests' 81.9 Mbit/s dirty rate. Planned afresh they are refused; planned again after
     * the first plan accepted them, they are tried, alone on the link, with the reason.
     */
    @Test
    void aReplanTriesTheVmsAnEarlierPlanAcceptedInsteadOfRefusingThem() {
        double page = 4096;
        List<Vm> waiting = List.of(
                Vm.of("v1", GIB / 4, 500 * page),
                Vm.of("v2", 3 * GIB / 8, 2500 * page),
                Vm.of("v4", GIB / 4, 2500 * page),
                Vm.of("v5", 3 * GIB / 8, 500 * page));
        double measured = 45.7 * MBIT;
        Evacuation rest = new Evacuation(
                waiting,
                List.of(new Destination("b", Long.MAX_VALUE / 4, 1 << 20)),
                Map.of("b", new Link("b", measured, Duration.ofMillis(140), measured)),
                measured,
                List.of(),
                Duration.ofMillis(300));
        Plan fresh = new Planner().planWithoutTimeline(rest);
        assertEquals(
                List.of("v2", "v4"),
                fresh.refused().stream().map(r -> r.vm().id()).sorted().toList());

        Plan replanned = new Planner().planWithoutTimeline(rest, java.util.Set.of("v1", "v2", "v4", "v5"));
        assertEquals(List.of(), replanned.refused());
        assertEquals(
                List.of("v1", "v2", "v4", "v5"),
                replanned.steps().stream().map(s -> s.vm().id()).sorted().toList());
        Plan.Step v2 = replanned.step("v2");
        assertTrue(v2.heavy(), "tried alone");
        assertTrue(
                v2.reasons().stream()
                        .anyMatch(r ->
                                r.startsWith("tried although the model says it may not converge: dirties 81.9 Mbit/s")
                                        && r.contains("--timeout aborts it")),
                v2.reasons().toString());
        assertTrue(replanned.step("v1").reasons().stream().noneMatch(r -> r.startsWith("tried")));
    }

    @Test
    void aVmNoEarlierPlanAcceptedIsStillRefused() {
        double measured = 45.7 * MBIT;
        Evacuation rest = new Evacuation(
                List.of(Vm.of("wild", GIB, 120 * MBIT), Vm.of("calm", GIB, 1 * MBIT)),
                List.of(new Destination("b", Long.MAX_VALUE / 4, 1 << 20)),
                Map.of("b", new Link("b", measured, Duration.ZERO, measured)),
                measured,
                List.of(),
                Duration.ofMillis(300));
        Plan plan = new Planner().planWithoutTimeline(rest, java.util.Set.of("calm"));
        assertEquals(
                List.of("wild"), plan.refused().stream().map(r -> r.vm().id()).toList());
    }

    /** A re-plan is taken only when the simulator predicts it finishes the waiting VMs clearly sooner. */
    @Test
    void aReplanIsTakenOnlyWhenItPays() {
        SlotScheduler itp = new SlotScheduler(SlotScheduler.Mode.ITP, java.util.OptionalInt.empty());
        List<Vm> vms = new ArrayList<>();
        for (int i = 1; i <= 4; i++) {
            vms.add(Vm.of("vm" + i, GIB, 0));
        }
        Map<String, Link> links = Map.of(
                "b", new Link("b", 100 * MBIT, Duration.ZERO, 100 * MBIT),
                "c", new Link("c", 100 * MBIT, Duration.ZERO, 100 * MBIT));
        List<Destination> hosts = List.of(
                new Destination("b", Long.MAX_VALUE / 4, 1 << 20), new Destination("c", Long.MAX_VALUE / 4, 1 << 20));
        Evacuation evacuation = new Evacuation(vms, hosts, links, 200 * MBIT, List.of(), Duration.ofMillis(300));
        Planner planner = new Planner();
        Plan plan = planner.plan(evacuation);
        assertEquals(
                2,
                plan.steps().stream().filter(s -> s.destination().equals("b")).count());

        // both links lose a fifth: the same plan is as good as any, keep it
        Evacuation slower = evacuation.withLinkRates(Map.of("b", 80 * MBIT, "c", 80 * MBIT), 160 * MBIT);
        Planner.Replan kept = planner.replan(plan, slower, itp, SlotScheduler.REPLAN_GAIN);
        assertFalse(kept.adopted());
        assertTrue(plan == kept.plan());
        assertTrue(kept.replannedSeconds() >= (1 - SlotScheduler.REPLAN_GAIN) * kept.keepSeconds());
        // the old trigger takes it anyway
        assertTrue(planner.replan(plan, slower, itp, -1).adopted());

        // b falls to a tenth: moving its VMs to c pays
        Evacuation broken = evacuation.withLinkRates(Map.of("b", 10 * MBIT, "c", 100 * MBIT), 110 * MBIT);
        Planner.Replan taken = planner.replan(plan, broken, itp, SlotScheduler.REPLAN_GAIN);
        assertTrue(taken.adopted());
        assertTrue(taken.replannedSeconds() < 0.9 * taken.keepSeconds(), taken.toString());
        assertTrue(taken.plan().steps().stream()
                        .filter(s -> s.destination().equals("c"))
                        .count()
                > 2);
        // deterministic
        assertEquals(taken, planner.replan(plan, broken, itp, SlotScheduler.REPLAN_GAIN));
    }
}
