package io.dwcp.itp;

import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * How many migrations a source host runs at once, learned from what they make: a slow start on
 * the aggregate rate of the running migrations (the guest bytes they process per second, all of
 * them together) at each concurrency. The plan's slots assume the links are the bottleneck; on a
 * host short of CPU (the dwcpd encoding and the guests on the same cores) a second migration does
 * not double the aggregate, it halves each migration's rate, and each then re-sends more of what its
 * guest dirtied meanwhile.
 *
 * <p>The rules:
 * <ul>
 * <li>The limit starts at one migration at once. It never goes below one: when nothing runs, the
 * next VM starts whatever the limit ({@link #gate}), so an evacuation never starves.</li>
 * <li>A measurement at concurrency {@code k} is the aggregate rate over the time during which the
 * same {@code k} migrations ran and every one of them had been processing bytes for at least the
 * {@code warmUp} ({@link #WARM_UP}), summed over all such spans at {@code k}; it is taken once that
 * time reaches the {@code window} ({@link #WINDOW}). A migration that just started is still
 * setting up, then ramps up (its streams' congestion windows, the daemons' JIT): counting those
 * seconds made one migration at once look slower than it is, and a second one look like a gain
 * (measured: 45 Mbit/s for one, 117 for two, on a host where two at once then took longer than one
 * after the other).</li>
 * <li>At the limit {@code k = 1}, once measured, the limit goes to 2: a probe.</li>
 * <li>At the limit {@code k >= 2}, once measured, the {@code k}th migration must have added at
 * least {@code minMarginalGain} ({@link #MIN_MARGINAL_GAIN}) of one migration's rate at {@code
 * k - 1} to the aggregate: {@code A_k - A_(k-1) >= minMarginalGain x A_(k-1) / (k - 1)}. Then the
 * limit goes to {@code k + 1} (the host scales: go wider, up to the plan's slots); else back to
 * {@code k - 1}, for good (the host is settled there).</li>
 * </ul>
 *
 * <p>Why one half: {@code n} VMs of {@code M} bytes dirtying {@code D} bytes/s each, moved {@code
 * k} at a time at an aggregate {@code A_k}, take about {@code n M / (A_k - k D)} (each migration
 * sends {@code M / (1 - D / r)} at its rate {@code r = A_k / k}); the {@code k}th migration pays
 * when {@code A_k - A_(k-1) > D}. The planner lets a VM share a link only when its share is at
 * least {@link Planner#MARGIN} times its dirty rate, so {@code D} is at most one migration's rate
 * over {@code MARGIN}: a gain of {@code 1 / MARGIN} of it pays for every VM the plan runs side by
 * side, and a gain below that (a CPU-bound host: none) costs more than it brings to some of them.
 *
 * <p>Pure: no clock, no thread, no I/O; the caller gives the time and the bytes. Belongs to the one
 * thread that calls it ({@code dwcp evacuate}'s main thread).
 */
public final class ConcurrencyLearner {
    /** The least a further migration must add to the aggregate, as a share of one migration's rate before it. */
    public static final double MIN_MARGINAL_GAIN = 1 / Planner.MARGIN;
    /** How long a concurrency must be measured (summed over its spans) before it is judged. */
    public static final Duration WINDOW = Duration.ofSeconds(10);
    /** How long a migration processes bytes before its rate counts. */
    public static final Duration WARM_UP = Duration.ofSeconds(5);

    /**
     * A change of the limit: from, to, the aggregate measured at the limit before ({@code from},
     * bytes/s) and at one less ({@code NaN} when {@code from} is 1), and whether it is for good.
     */
    public record Change(int from, int to, double aggregate, double previousAggregate, boolean settled) {
        /** One line for the operator. */
        public String describe() {
            if (from == 1) {
                return String.format(
                        Locale.ROOT,
                        "1 migration at once processed %s; trying 2 at once",
                        PlanRenderer.rate(aggregate));
            }
            double gain = aggregate - previousAggregate;
            double perMigration = previousAggregate / (from - 1);
            return String.format(
                    Locale.ROOT,
                    "%d migrations at once processed %s, %d processed %s: the %s gained %s, %s %.0f%% of one "
                            + "migration's %s; %s",
                    from,
                    PlanRenderer.rate(aggregate),
                    from - 1,
                    PlanRenderer.rate(previousAggregate),
                    ordinal(from),
                    PlanRenderer.rate(gain),
                    to > from ? "at least" : "less than",
                    100 * MIN_MARGINAL_GAIN,
                    PlanRenderer.rate(perMigration),
                    to > from
                            ? "trying " + to + " at once"
                            : "at most " + to + " at once from now (this host does not gain from more)");
        }

        private static String ordinal(int k) {
            return switch (k) {
                case 2 -> "second";
                case 3 -> "third";
                default -> k + "th";
            };
        }
    }

    /** Bytes and time summed at one concurrency. */
    private static final class Measured {
        double bytes;
        long nanos;
    }

    private final long windowNanos;
    private final double minMarginalGain;
    private final long warmUpNanos;
    private final Map<Integer, Measured> measured = new HashMap<>();
    // when each running migration was first seen with bytes processed
    private final Map<String, Long> flowingSince = new HashMap<>();
    private Map<String, Long> lastBytes = Map.of();
    private long lastNanos;
    private boolean lastFlowing;
    private int limit = 1;
    private boolean settled;

    public ConcurrencyLearner() {
        this(WINDOW, MIN_MARGINAL_GAIN, WARM_UP);
    }

    public ConcurrencyLearner(Duration window, double minMarginalGain, Duration warmUp) {
        if (window.isNegative() || window.isZero() || !(minMarginalGain >= 0) || warmUp.isNegative()) {
            throw new IllegalArgumentException("need a window > 0, a gain >= 0 and a warm-up >= 0: " + window + ", "
                    + minMarginalGain + ", " + warmUp);
        }
        this.windowNanos = window.toNanos();
        this.minMarginalGain = minMarginalGain;
        this.warmUpNanos = warmUp.toNanos();
    }

    /** The most migrations to run at once now (at least 1). */
    public int limit() {
        return limit;
    }

    /** Whether the limit is for good (a further migration did not pay). */
    public boolean settled() {
        return settled;
    }

    /** The aggregate rate (bytes/s) measured at {@code k} migrations at once, once measured over the window. */
    public OptionalDouble aggregate(int k) {
        Measured at = measured.get(k);
        return at == null || at.nanos < windowNanos
                ? OptionalDouble.empty()
                : OptionalDouble.of(at.bytes / (at.nanos / 1e9));
    }

    /**
     * A sample: at {@code nanos}, the guest bytes each running migration has processed so far, by VM
     * (every running migration, none else). Returns the change of the limit it made, if any.
     */
    public Optional<Change> sample(long nanos, Map<String, Long> bytes) {
        boolean flowing = !bytes.isEmpty() && bytes.values().stream().allMatch(b -> b > 0);
        flowingSince.keySet().retainAll(bytes.keySet());
        bytes.forEach((vm, processed) -> {
            if (processed > 0) {
                flowingSince.putIfAbsent(vm, nanos);
            }
        });
        boolean warm =
                flowing && bytes.keySet().stream().allMatch(vm -> lastNanos - flowingSince.get(vm) >= warmUpNanos);
        if (flowing && lastFlowing && warm && bytes.keySet().equals(lastBytes.keySet()) && nanos > lastNanos) {
            long added = 0;
            for (Map.Entry<String, Long> entry : bytes.entrySet()) {
                added += Math.max(0, entry.getValue() - lastBytes.get(entry.getKey()));
            }
            Measured at = measured.computeIfAbsent(bytes.size(), k -> new Measured());
            at.bytes += added;
            at.nanos += nanos - lastNanos;
        }
        lastBytes = Map.copyOf(bytes);
        lastNanos = nanos;
        lastFlowing = flowing;
        return judge();
    }

    private Optional<Change> judge() {
        if (settled) {
            return Optional.empty();
        }
        int k = limit;
        OptionalDouble now = aggregate(k);
        if (now.isEmpty()) {
            return Optional.empty();
        }
        if (k == 1) {
            limit = 2;
            return Optional.of(new Change(1, 2, now.getAsDouble(), Double.NaN, false));
        }
        OptionalDouble before = aggregate(k - 1);
        if (before.isEmpty()) {
            return Optional.empty();
        }
        double perMigration = before.getAsDouble() / (k - 1);
        if (now.getAsDouble() - before.getAsDouble() >= minMarginalGain * perMigration) {
            limit = k + 1;
            return Optional.of(new Change(k, k + 1, now.getAsDouble(), before.getAsDouble(), false));
        }
        limit = k - 1;
        settled = true;
        return Optional.of(new Change(k, k - 1, now.getAsDouble(), before.getAsDouble(), true));
    }

    /**
     * The gate for one {@link SlotScheduler} decision with {@code running} migrations running: a
     * unit starts while the total stays within the limit, or when nothing runs (never starve).
     */
    public SlotScheduler.Gate gate(int running) {
        int[] total = {running};
        return (unit, idle) -> {
            if (!idle && total[0] + unit.size() > limit) {
                return false;
            }
            total[0] += unit.size();
            return true;
        };
    }
}
