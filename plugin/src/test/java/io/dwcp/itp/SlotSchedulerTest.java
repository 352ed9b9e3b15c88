package io.dwcp.itp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The slot-driven schedule on hand-made plans: no planner, no simulator, no clock. */
class SlotSchedulerTest {
    private static final long GIB = 1L << 30;
    private static final SlotScheduler ITP = new SlotScheduler(SlotScheduler.Mode.ITP, OptionalInt.empty());
    private static final SlotScheduler SERIAL = new SlotScheduler(SlotScheduler.Mode.SERIAL, OptionalInt.empty());
    private static final SlotScheduler ALL = new SlotScheduler(SlotScheduler.Mode.ALL_AT_ONCE, OptionalInt.empty());

    /** A hand-written plan: steps in the order given ("vm@link", "vm@link/group"), concurrency per link. */
    private static Plan plan(Map<String, Integer> concurrency, List<Plan.Refusal> refused, String... steps) {
        List<Plan.Step> list = new ArrayList<>();
        Map<String, Double> rates = new HashMap<>();
        for (String step : steps) {
            String[] parts = step.split("[@/]");
            Vm vm = Vm.of(parts[0], GIB, 0);
            if (parts.length > 2) {
                vm = vm.inGroup(parts[2]);
            }
            list.add(
                    new Plan.Step(list.size() + 1, vm, parts[1], false, Double.NaN, Double.NaN, Double.NaN, List.of()));
            rates.put(parts[1], 100e6);
        }
        concurrency.keySet().forEach(link -> rates.putIfAbsent(link, 100e6));
        return new Plan(list, refused, concurrency, rates, 1e9, Double.NaN);
    }

    private static Plan plan(Map<String, Integer> concurrency, String... steps) {
        return plan(concurrency, List.of(), steps);
    }

    /** An evacuation run by hand: what started, what ended how. */
    private static final class Run {
        final Set<String> moved = new HashSet<>();
        final Map<String, String> notMoved = new HashMap<>();
        final Map<String, String> running = new LinkedHashMap<>();

        SlotScheduler.State state() {
            return new SlotScheduler.State(moved, notMoved, running);
        }

        /** Asks the scheduler and starts what it says; returns the VMs started. */
        List<String> step(SlotScheduler scheduler, Plan plan, List<OrderConstraint> orders) {
            SlotScheduler.Decision decision = scheduler.decide(plan, orders, state());
            decision.starts().forEach(s -> running.put(s.vm().id(), s.destination()));
            notMoved.putAll(decision.left());
            return decision.starts().stream().map(s -> s.vm().id()).toList();
        }

        void moved(String vm) {
            assertTrue(running.remove(vm) != null, vm + " was not running");
            moved.add(vm);
        }

        void failed(String vm) {
            assertTrue(running.remove(vm) != null, vm + " was not running");
            notMoved.put(vm, "failed");
        }
    }

    @Test
    void itpFillsEachLinksSlotsInPlanOrder() {
        Plan plan = plan(Map.of("a", 2, "b", 1), "a1@a", "b1@b", "a2@a", "a3@a", "b2@b");
        Run run = new Run();
        assertEquals(List.of("a1", "b1", "a2"), run.step(ITP, plan, List.of()));
        assertEquals(List.of(), run.step(ITP, plan, List.of()), "nothing freed, nothing more");
        run.moved("b1");
        assertEquals(List.of("b2"), run.step(ITP, plan, List.of()), "b's slot freed: b's next");
        run.moved("a2");
        assertEquals(List.of("a3"), run.step(ITP, plan, List.of()));
        assertEquals(2, ITP.linkSlots(plan, "a"));
        assertEquals(1, ITP.linkSlots(plan, "unknown"));
        assertEquals(SlotScheduler.UNLIMITED, ITP.totalSlots());
    }

    @Test
    void aLongVmHoldsOnlyItsOwnSlot() {
        // "long" takes one of a's two slots for the whole evacuation: the four others go one after another in the
        // other slot, each as soon as the one before ended (waves would have waited for "long" after the first)
        Plan plan = plan(Map.of("a", 2), "long@a", "s1@a", "s2@a", "s3@a", "s4@a");
        Run run = new Run();
        assertEquals(List.of("long", "s1"), run.step(ITP, plan, List.of()));
        for (String next : List.of("s2", "s3", "s4")) {
            String previous = "s" + (Integer.parseInt(next.substring(1)) - 1);
            run.moved(previous);
            assertEquals(List.of(next), run.step(ITP, plan, List.of()), "after " + previous);
            assertTrue(run.running.containsKey("long"));
        }
        run.moved("s4");
        assertEquals(List.of(), run.step(ITP, plan, List.of()));
        run.moved("long");
        assertEquals(List.of(), run.step(ITP, plan, List.of()));
    }

    @Test
    void aFailedVmFreesItsSlot() {
        Plan plan = plan(Map.of("a", 2), "a1@a", "a2@a", "a3@a");
        Run run = new Run();
        assertEquals(List.of("a1", "a2"), run.step(ITP, plan, List.of()));
        run.failed("a1");
        assertEquals(List.of("a3"), run.step(ITP, plan, List.of()));
    }

    @Test
    void aVmWaitsForTheVmsItComesAfterWithoutBlockingOthers() {
        // app after db: app waits while db runs, the VMs after app in plan order do not
        Plan plan = plan(Map.of("a", 3), "db@a", "app@a", "x@a", "y@a");
        List<OrderConstraint> orders = List.of(new OrderConstraint("db", "app"));
        Run run = new Run();
        assertEquals(List.of("db", "x", "y"), run.step(ITP, plan, orders));
        run.moved("x");
        assertEquals(List.of(), run.step(ITP, plan, orders), "db still runs");
        run.moved("db");
        assertEquals(List.of("app"), run.step(ITP, plan, orders));
    }

    @Test
    void aDependantOfAFailedVmIsLeftWithTheReasonAndSoAreItsOwnDependants() {
        Plan plan = plan(Map.of("a", 1), "db@a", "app@a", "web@a", "other@a");
        List<OrderConstraint> orders = List.of(new OrderConstraint("db", "app"), new OrderConstraint("app", "web"));
        Run run = new Run();
        assertEquals(List.of("db"), run.step(ITP, plan, orders));
        run.failed("db");
        SlotScheduler.Decision decision = ITP.decide(plan, orders, run.state());
        assertEquals(
                Map.of(
                        "app", "not started: it comes after db (--after), which was not moved",
                        "web", "not started: it comes after app (--after), which was not moved"),
                decision.left());
        assertEquals(List.of("app", "web"), List.copyOf(decision.left().keySet()), "in plan order");
        assertEquals(
                List.of("other"),
                decision.starts().stream().map(s -> s.vm().id()).toList(),
                "the slot goes to the next VM that can move");
    }

    @Test
    void aDependantOfAVmThePlanRefusedIsLeft() {
        Vm hot = Vm.of("hot", GIB, 1e9);
        Plan plan = plan(Map.of("a", 2), List.of(new Plan.Refusal(hot, "cannot converge")), "app@a", "x@a");
        SlotScheduler.Decision decision =
                ITP.decide(plan, List.of(new OrderConstraint("hot", "app")), SlotScheduler.State.start());
        assertEquals(Map.of("app", "not started: it comes after hot (--after), which was not moved"), decision.left());
        assertEquals(
                List.of("x"), decision.starts().stream().map(s -> s.vm().id()).toList());
    }

    @Test
    void aGroupStartsTogetherOrWaitsAndKeepsItsPlaceOnItsLink() {
        // w1+w2 need both of a's slots: while one is taken they wait, and a3 (after them in plan order) waits too;
        // b's VM is not held up
        Plan plan = plan(Map.of("a", 2, "b", 1), "a1@a", "w1@a/web", "w2@a/web", "a3@a", "b1@b");
        Run run = new Run();
        assertEquals(List.of("a1", "b1"), run.step(ITP, plan, List.of()));
        run.moved("b1");
        assertEquals(List.of(), run.step(ITP, plan, List.of()));
        run.moved("a1");
        assertEquals(List.of("w1", "w2"), run.step(ITP, plan, List.of()));
        run.moved("w1");
        assertEquals(List.of("a3"), run.step(ITP, plan, List.of()));
    }

    @Test
    void aGroupLargerThanItsLinksSlotsStartsWhenTheLinkIsIdle() {
        Plan plan = plan(Map.of("a", 2), "a1@a", "g1@a/g", "g2@a/g", "g3@a/g");
        Run run = new Run();
        assertEquals(List.of("a1"), run.step(ITP, plan, List.of()));
        run.moved("a1");
        assertEquals(List.of("g1", "g2", "g3"), run.step(ITP, plan, List.of()));
    }

    @Test
    void aGroupMemberThatCannotMoveLeavesTheWholeGroup() {
        Plan plan = plan(Map.of("a", 2), "db@a", "w1@a/web", "w2@a/web");
        List<OrderConstraint> orders = List.of(new OrderConstraint("db", "w2"));
        Run run = new Run();
        assertEquals(List.of("db"), run.step(ITP, plan, orders), "w2 waits for db, so w1 waits with it");
        run.failed("db");
        SlotScheduler.Decision decision = ITP.decide(plan, orders, run.state());
        assertEquals(
                Map.of(
                        "w1", "not started: its group moves together and w2 cannot move",
                        "w2", "not started: it comes after db (--after), which was not moved"),
                decision.left());
        assertEquals(List.of(), decision.starts());
    }

    @Test
    void serialRunsOneAtATimeInPlanOrder() {
        Plan plan = plan(Map.of("a", 3, "b", 3), "a1@a", "b1@b", "w1@a/web", "w2@a/web", "a2@a");
        Run run = new Run();
        List<String> order = new ArrayList<>();
        while (true) {
            List<String> started = run.step(SERIAL, plan, List.of());
            if (started.isEmpty()) {
                break;
            }
            order.addAll(started);
            assertTrue(run.running.size() == 1 || started.size() == 2, "one at a time, a group together: " + started);
            started.forEach(run::moved);
        }
        assertEquals(List.of("a1", "b1", "w1", "w2", "a2"), order);
        assertEquals(1, SERIAL.totalSlots());
        assertEquals(SlotScheduler.UNLIMITED, SERIAL.linkSlots(plan, "a"));
    }

    @Test
    void allAtOnceStartsEveryReadyVmAtTheStart() {
        Plan plan = plan(Map.of("a", 1, "b", 1), "a1@a", "a2@a", "b1@b", "app@b", "w1@a/web", "w2@a/web");
        List<OrderConstraint> orders = List.of(new OrderConstraint("a1", "app"));
        Run run = new Run();
        assertEquals(List.of("a1", "a2", "b1", "w1", "w2"), run.step(ALL, plan, orders), "beyond the plan's x1");
        run.moved("a1");
        assertEquals(List.of("app"), run.step(ALL, plan, orders));
    }

    @Test
    void maxConcurrentCapsEveryMode() {
        Plan plan = plan(Map.of("a", 3, "b", 3), "a1@a", "b1@b", "a2@a", "b2@b");
        SlotScheduler two = new SlotScheduler(SlotScheduler.Mode.ITP, OptionalInt.of(2));
        Run run = new Run();
        assertEquals(List.of("a1", "b1"), run.step(two, plan, List.of()));
        run.moved("b1");
        assertEquals(List.of("a2"), run.step(two, plan, List.of()), "in plan order, on any link");
        SlotScheduler allTwo = new SlotScheduler(SlotScheduler.Mode.ALL_AT_ONCE, OptionalInt.of(2));
        assertEquals(
                2,
                allTwo.decide(plan, List.of(), SlotScheduler.State.start())
                        .starts()
                        .size());
        assertThrows(
                IllegalArgumentException.class, () -> new SlotScheduler(SlotScheduler.Mode.ITP, OptionalInt.of(0)));
    }

    @Test
    void aReplanCoversOnlyTheWaitingVmsAndRunningOnesKeepTheirSlots() {
        Plan first = plan(Map.of("a", 2, "b", 1), "a1@a", "a2@a", "a3@a", "a4@a");
        Run run = new Run();
        assertEquals(List.of("a1", "a2"), run.step(ITP, first, List.of()));
        run.moved("a1");
        // a re-plan of the waiting a3, a4 (a got slower: one slot; a4 now goes first, to b): a2 runs on, untouched,
        // and still holds a's one slot
        Plan second = plan(Map.of("a", 1, "b", 1), "a4@b", "a3@a");
        assertEquals(List.of("a4"), run.step(ITP, second, List.of()));
        assertEquals(Map.of("a2", "a", "a4", "b"), run.running);
        run.moved("a2");
        assertEquals(List.of("a3"), run.step(ITP, second, List.of()));
        assertEquals(List.of(), run.step(ITP, second, List.of()), "nothing started twice");
    }

    @Test
    void aGateRefusalKeepsTheUnitsPlaceOnItsLink() {
        Plan plan = plan(Map.of("a", 3, "b", 3), "heavy@a", "a2@a", "b1@b");
        SlotScheduler.Gate noHeavyWhileBusy =
                (unit, idle) -> idle || !unit.get(0).vm().id().equals("heavy");
        SlotScheduler.State busy = new SlotScheduler.State(Set.of(), Map.of(), Map.of("x", "b"));
        assertEquals(
                List.of("b1"),
                ITP.decide(plan, List.of(), busy, noHeavyWhileBusy).starts().stream()
                        .map(s -> s.vm().id())
                        .toList());
        assertEquals(
                List.of("heavy", "a2", "b1"),
                ITP.decide(plan, List.of(), SlotScheduler.State.start(), noHeavyWhileBusy).starts().stream()
                        .map(s -> s.vm().id())
                        .toList());
    }

    @Test
    void aLinkMovedByMoreThanTheThresholdCallsForAReplan() {
        Plan plan = plan(Map.of("a", 1, "b", 1, "c", 1), "a1@a", "b1@b", "c1@c");
        Map<String, Double> moved =
                SlotScheduler.movedLinks(plan, Map.of("a", 125e6, "b", 85e6, "c", 79e6, "d", 1e6), 0.2);
        assertEquals(Map.of("a", 125e6, "c", 79e6), moved);
        assertEquals(List.of("a", "c"), List.copyOf(moved.keySet()));
        assertTrue(SlotScheduler.movedLinks(plan, Map.of("a", 110e6), 0.2).isEmpty());
    }

    @Test
    void waitingIsWhatAReplanCovers() {
        Evacuation evacuation = Fixtures.evacuation(
                List.of(Vm.of("v1", GIB, 0), Vm.of("v2", GIB, 0), Vm.of("v3", GIB, 0), Vm.of("v4", GIB, 0)),
                1,
                100e6,
                100e6,
                1e9,
                List.of());
        SlotScheduler.State state = new SlotScheduler.State(Set.of("v1"), Map.of("v2", "failed"), Map.of("v3", "h1"));
        assertEquals(
                List.of("v4"), state.waiting(evacuation).stream().map(Vm::id).toList());
    }

    @Test
    void aReplanPaysWhenItMovesMoreOrIsClearlySooner() {
        // more VMs moved wins whatever the makespan; fewer never
        assertTrue(SlotScheduler.replanPays(3, 100, 4, 200, 0.1));
        assertFalse(SlotScheduler.replanPays(4, 200, 3, 10, 0.1));
        // as many: more than 10 % sooner
        assertTrue(SlotScheduler.replanPays(4, 100, 4, 89.9, 0.1));
        assertFalse(SlotScheduler.replanPays(4, 100, 4, 90, 0.1));
        assertFalse(SlotScheduler.replanPays(4, 100, 4, 100, 0.1));
        assertFalse(SlotScheduler.replanPays(4, 100, 4, 120, 0.1));
        // gain 0: any gain
        assertTrue(SlotScheduler.replanPays(4, 100, 4, 99, 0));
    }

    @Test
    void aReplanThatPaysMustAlsoHoldIfTheLinksComeBack() {
        // 20 % sooner at the new figures, 30 % later if they come back: 0.8 x 1.3 = 1.04, not taken
        assertFalse(SlotScheduler.replanHolds(100, 80, 4, 100, 4, 130, 0.1));
        // a link at a tenth for good: 5x sooner, 2x later if it came back: 0.2 x 2 = 0.4, taken
        assertTrue(SlotScheduler.replanHolds(1000, 200, 4, 100, 4, 200, 0.1));
        // as fast if they come back: the gain alone decides
        assertTrue(SlotScheduler.replanHolds(100, 85, 4, 100, 4, 100, 0.1));
        assertFalse(SlotScheduler.replanHolds(100, 95, 4, 100, 4, 100, 0.1));
        // fewer moved if they come back: never
        assertFalse(SlotScheduler.replanHolds(1000, 100, 4, 100, 3, 50, 0.1));
    }
}
