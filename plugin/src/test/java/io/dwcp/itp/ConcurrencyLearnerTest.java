package io.dwcp.itp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.IntToDoubleFunction;
import org.junit.jupiter.api.Test;

/** The slow start on the aggregate rate: fed rates by hand, and driving the scheduler against hand-written hosts. */
class ConcurrencyLearnerTest {
    private static final long SECOND = 1_000_000_000L;
    private static final double MB = 1e6;
    /** The hand-written host's VMs: 100 MB each, about 17 s alone at 6 MB/s. */
    private static final long VM_BYTES = 100_000_000L;

    /** Feeds {@code seconds} one-second samples of the VMs each making {@code rate} bytes/s from {@code bytes}. */
    private static Optional<ConcurrencyLearner.Change> feed(
            ConcurrencyLearner learner, long[] clock, Map<String, Long> bytes, double rate, int seconds) {
        Optional<ConcurrencyLearner.Change> change = Optional.empty();
        for (int i = 0; i < seconds; i++) {
            clock[0] += SECOND;
            bytes.replaceAll((vm, b) -> b + (long) rate);
            Optional<ConcurrencyLearner.Change> now = learner.sample(clock[0], bytes);
            if (now.isPresent()) {
                assertTrue(change.isEmpty(), "one change at a time: " + change + ", " + now);
                change = now;
            }
        }
        return change;
    }

    /** The rules alone: every second with bytes counts. */
    private static ConcurrencyLearner noWarmUp() {
        return new ConcurrencyLearner(ConcurrencyLearner.WINDOW, ConcurrencyLearner.MIN_MARGINAL_GAIN, Duration.ZERO);
    }

    @Test
    void aMigrationsFirstSecondsDoNotCount() {
        ConcurrencyLearner learner = new ConcurrencyLearner();
        long[] clock = {0};
        Map<String, Long> bytes = new LinkedHashMap<>(Map.of("vm1", 1L));
        // ramping up for the warm-up at 1 MB/s, then 5 MB/s: only the 5 MB/s count
        assertEquals(Optional.empty(), feed(learner, clock, bytes, 1 * MB, 5));
        assertTrue(learner.aggregate(1).isEmpty());
        assertEquals(Optional.empty(), feed(learner, clock, bytes, 5 * MB, 10));
        Optional<ConcurrencyLearner.Change> probe = feed(learner, clock, bytes, 5 * MB, 1);
        assertEquals(Optional.of(new ConcurrencyLearner.Change(1, 2, 5 * MB, Double.NaN, false)), probe);
        // a second migration starts: its ramp (and the first's rate meanwhile) does not count either
        bytes.put("vm2", 1L);
        assertEquals(Optional.empty(), feed(learner, clock, bytes, 1 * MB, 5));
        assertTrue(learner.aggregate(2).isEmpty(), "the second's warm-up is not measured");
        // then each makes 2.6 MB/s: 5.2 together, no gain worth a second migration
        assertEquals(Optional.empty(), feed(learner, clock, bytes, 2.6 * MB, 10));
        Optional<ConcurrencyLearner.Change> back = feed(learner, clock, bytes, 2.6 * MB, 1);
        assertEquals(Optional.of(new ConcurrencyLearner.Change(2, 1, 5.2 * MB, 5 * MB, true)), back);
    }

    @Test
    void oneMigrationIsMeasuredThenASecondIsTried() {
        ConcurrencyLearner learner = noWarmUp();
        assertEquals(1, learner.limit());
        long[] clock = {0};
        Map<String, Long> bytes = new LinkedHashMap<>(Map.of("vm1", 0L));
        // setting up (no byte yet): not counted
        assertEquals(Optional.empty(), feed(learner, clock, new LinkedHashMap<>(bytes), 0, 30));
        assertTrue(learner.aggregate(1).isEmpty());
        bytes.put("vm1", 1L);
        // the first sample with bytes marks where the span starts; ten seconds are counted after it
        assertEquals(Optional.empty(), feed(learner, clock, bytes, 5 * MB, 10));
        Optional<ConcurrencyLearner.Change> change = feed(learner, clock, bytes, 5 * MB, 1);
        assertEquals(Optional.of(new ConcurrencyLearner.Change(1, 2, 5 * MB, Double.NaN, false)), change);
        assertEquals(2, learner.limit());
        assertEquals(5 * MB, learner.aggregate(1).getAsDouble(), 1);
        assertEquals(
                "1 migration at once processed 40.0 Mbit/s; trying 2 at once",
                change.get().describe());
    }

    @Test
    void aFlatAggregateSettlesBackAtOneForGood() {
        ConcurrencyLearner learner = noWarmUp();
        long[] clock = {0};
        feed(learner, clock, new LinkedHashMap<>(Map.of("vm1", 1L)), 6 * MB, 11);
        assertEquals(2, learner.limit());
        // the second one: while it sets up, the first alone; then both, each at half (a CPU-bound host)
        Map<String, Long> two = new LinkedHashMap<>(Map.of("vm1", 100 * (long) MB, "vm2", 0L));
        feed(learner, clock, two, 0, 3);
        two.put("vm2", 1L);
        Optional<ConcurrencyLearner.Change> change = feed(learner, clock, two, 3.1 * MB, 11);
        assertEquals(Optional.of(new ConcurrencyLearner.Change(2, 1, 6.2 * MB, 6 * MB, true)), change);
        assertEquals(1, learner.limit());
        assertTrue(learner.settled());
        assertEquals(
                "2 migrations at once processed 49.6 Mbit/s, 1 processed 48.0 Mbit/s: the second gained 1.6 Mbit/s, "
                        + "less than 50% of one migration's 48.0 Mbit/s; at most 1 at once from now (this host does "
                        + "not gain from more)",
                change.get().describe());
        // for good: whatever comes later
        assertEquals(Optional.empty(), feed(learner, clock, two, 50 * MB, 60));
        assertEquals(1, learner.limit());
    }

    @Test
    void aScalingAggregateGoesWiderAndTheThresholdIsHalfAMigration() {
        ConcurrencyLearner learner = noWarmUp();
        long[] clock = {0};
        feed(learner, clock, new LinkedHashMap<>(Map.of("a", 1L)), 4 * MB, 11);
        // exactly half a migration more: pays
        Optional<ConcurrencyLearner.Change> up =
                feed(learner, clock, new LinkedHashMap<>(Map.of("a", 1L, "b", 1L)), 3 * MB, 11);
        assertEquals(Optional.of(new ConcurrencyLearner.Change(2, 3, 6 * MB, 4 * MB, false)), up);
        assertTrue(up.get().describe().endsWith("at least 50% of one migration's 32.0 Mbit/s; trying 3 at once"));
        // a third adds 1.4 MB/s, less than half of 3 MB/s (6 / 2): back to 2
        Optional<ConcurrencyLearner.Change> down =
                feed(learner, clock, new LinkedHashMap<>(Map.of("a", 1L, "b", 1L, "c", 1L)), 2.48 * MB, 11);
        assertEquals(3, down.get().from());
        assertEquals(2, down.get().to());
        assertEquals(2, learner.limit());
        assertTrue(learner.settled());
    }

    @Test
    void spansAtOneConcurrencyAddUpAndAChangedSetStartsAfresh() {
        ConcurrencyLearner learner = new ConcurrencyLearner(Duration.ofSeconds(10), 0.5, Duration.ZERO);
        long[] clock = {0};
        // four short migrations of 3 s each, one after another: 4 x 2 counted seconds (the first sample of each
        // only marks where its span starts)
        for (int i = 0; i < 4; i++) {
            feed(learner, clock, new LinkedHashMap<>(Map.of("vm" + i, 1L)), 2 * MB, 3);
        }
        assertTrue(learner.aggregate(1).isEmpty(), "8 s counted");
        Optional<ConcurrencyLearner.Change> change =
                feed(learner, clock, new LinkedHashMap<>(Map.of("vm9", 1L)), 2 * MB, 3);
        assertTrue(change.isPresent(), "10 s counted over five migrations");
        assertEquals(2 * MB, learner.aggregate(1).getAsDouble(), 1);
        // nothing running: nothing counted, and nothing starves
        assertEquals(Optional.empty(), learner.sample(clock[0] + SECOND, Map.of()));
    }

    @Test
    void theGateKeepsTheLimitButNeverStarves() {
        ConcurrencyLearner learner = new ConcurrencyLearner();
        Plan.Step a = step("a", 1);
        Plan.Step b = step("b", 2);
        SlotScheduler.Gate idle = learner.gate(0);
        assertTrue(idle.admits(List.of(a, b), true), "a group of two starts on an idle host even at limit 1");
        SlotScheduler.Gate one = learner.gate(1);
        assertFalse(one.admits(List.of(b), false));
        SlotScheduler.Gate fresh = learner.gate(0);
        assertTrue(fresh.admits(List.of(a), true));
        assertFalse(fresh.admits(List.of(b), false), "the first counts as running");
    }

    private static Plan.Step step(String vm, int order) {
        return new Plan.Step(order, Vm.of(vm, 1L << 30, 0), "d", false, Double.NaN, Double.NaN, Double.NaN, List.of());
    }

    /**
     * A hand-written source host: {@code aggregate.applyAsDouble(k)} bytes/s in all while {@code k}
     * migrations run, shared equally; each migration sets up for 2 s (no byte) and then sends its
     * VM's memory. One link, the plan's 4 slots on it; 16 VMs; the scheduler with the learner's gate,
     * asked every second as {@code dwcp evacuate} asks it. Returns the most migrations that ran at
     * once, and the same from second {@code laterFrom} on; {@code trace} gets the changes and the count.
     */
    private static int[] evacuate(IntToDoubleFunction aggregate, ConcurrencyLearner learner, StringBuilder trace) {
        return evacuate(aggregate, learner, trace, 60);
    }

    private static int[] evacuate(
            IntToDoubleFunction aggregate, ConcurrencyLearner learner, StringBuilder trace, int laterFrom) {
        List<Plan.Step> steps = new ArrayList<>();
        for (int i = 1; i <= 16; i++) {
            steps.add(new Plan.Step(
                    i, Vm.of("vm" + i, VM_BYTES, 0), "d", false, Double.NaN, Double.NaN, Double.NaN, List.of()));
        }
        Plan plan = new Plan(steps, List.of(), Map.of("d", 4), Map.of("d", 100 * MB), 100 * MB, Double.NaN);
        SlotScheduler scheduler = new SlotScheduler(SlotScheduler.Mode.ITP, OptionalInt.empty());
        Map<String, Long> sent = new LinkedHashMap<>();
        Map<String, Integer> setup = new HashMap<>();
        List<String> moved = new ArrayList<>();
        int most = 0;
        int mostLater = 0;
        for (int second = 0; moved.size() < steps.size(); second++) {
            assertTrue(second < 3600, "the evacuation ends");
            Map<String, String> running = new HashMap<>();
            sent.keySet().forEach(vm -> running.put(vm, "d"));
            SlotScheduler.Decision decision = scheduler.decide(
                    plan,
                    List.of(),
                    new SlotScheduler.State(new java.util.HashSet<>(moved), Map.of(), running),
                    learner.gate(running.size()));
            for (Plan.Step step : decision.starts()) {
                sent.put(step.vm().id(), 0L);
                setup.put(step.vm().id(), 2);
            }
            most = Math.max(most, sent.size());
            if (second >= laterFrom) {
                mostLater = Math.max(mostLater, sent.size());
            }
            long sending = setup.values().stream().filter(s -> s == 0).count();
            double each = sending == 0 ? 0 : aggregate.applyAsDouble((int) sending) / sending;
            for (String vm : List.copyOf(sent.keySet())) {
                if (setup.get(vm) > 0) {
                    setup.merge(vm, -1, Integer::sum);
                    continue;
                }
                long now = sent.get(vm) + (long) each;
                sent.put(vm, now);
            }
            learner.sample((second + 1) * SECOND, sent)
                    .ifPresent(change -> trace.append(change.describe()).append('\n'));
            trace.append(second).append(": ").append(sent.size()).append(" running\n");
            for (String vm : List.copyOf(sent.keySet())) {
                if (sent.get(vm) >= VM_BYTES) {
                    sent.remove(vm);
                    setup.remove(vm);
                    moved.add(vm);
                }
            }
        }
        return new int[] {most, mostLater};
    }

    @Test
    void aCpuBoundHostStaysAtOneOrTwo() {
        ConcurrencyLearner learner = new ConcurrencyLearner();
        // the aggregate stays flat (a little lost to switching between them) however many run
        StringBuilder trace = new StringBuilder();
        int[] most = evacuate(k -> 6 * MB * (k == 1 ? 1 : 0.97), learner, trace);
        assertEquals(2, most[0], "one probe of two at once:\n" + trace);
        assertEquals(1, most[1], "then one at a time:\n" + trace);
        assertEquals(1, learner.limit());
        assertTrue(learner.settled());
    }

    @Test
    void aLinkBoundHostGoesWider() {
        ConcurrencyLearner learner = new ConcurrencyLearner();
        // each migration its own 6 MB/s (its window on a long path): the aggregate scales
        StringBuilder trace = new StringBuilder();
        int[] most = evacuate(k -> 6 * MB * k, learner, trace);
        assertEquals(4, most[0], "up to the plan's four slots:\n" + trace);
        assertEquals(4, most[1], trace.toString());
        assertFalse(learner.settled());
        assertTrue(learner.limit() >= 4, "limit " + learner.limit());
    }

    @Test
    void aHostThatScalesToTwoSettlesAtTwo() {
        ConcurrencyLearner learner = new ConcurrencyLearner();
        // two cores: two migrations make twice one, a third adds nothing; three measurements, each
        // after its migrations' warm-up, take until about second 63, and the probe's third
        // migration then runs to its end
        StringBuilder trace = new StringBuilder();
        int[] most = evacuate(k -> 6 * MB * Math.min(k, 2), learner, trace, 90);
        assertEquals(3, most[0], "one probe of three:\n" + trace);
        assertEquals(2, most[1], trace.toString());
        assertEquals(2, learner.limit());
        assertTrue(learner.settled());
    }
}
