package io.dwcp.gossip;

import static java.util.Objects.requireNonNull;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A vector clock: per replica, the number of its events seen (absent = 0). Immutable. {@link
 * #merge} (pointwise maximum) is the join of the lattice: commutative, associative, idempotent.
 * In gossip, a node's clock counts the updates of each origin it holds without a gap, so the
 * clock is also the digest a peer compares to know what to send.
 */
public final class VectorClock {
    /** How two clocks relate. */
    public enum Order {
        EQUAL,
        BEFORE,
        AFTER,
        CONCURRENT
    }

    private static final VectorClock EMPTY = new VectorClock(new TreeMap<>());

    private final TreeMap<String, Long> counters;

    private VectorClock(TreeMap<String, Long> counters) {
        this.counters = counters;
    }

    public static VectorClock empty() {
        return EMPTY;
    }

    public static VectorClock of(Map<String, Long> counters) {
        TreeMap<String, Long> copy = new TreeMap<>();
        counters.forEach((replica, counter) -> {
            requireNonNull(replica, "replica is null");
            if (counter < 0) {
                throw new IllegalArgumentException("negative counter for " + replica + ": " + counter);
            }
            if (counter > 0) {
                copy.put(replica, counter);
            }
        });
        return new VectorClock(copy);
    }

    public long get(String replica) {
        return counters.getOrDefault(replica, 0L);
    }

    /** This clock with the replica's counter set (must not go back). */
    public VectorClock with(String replica, long counter) {
        if (counter < get(replica)) {
            throw new IllegalArgumentException(
                    "counter of " + replica + " would go back from " + get(replica) + " to " + counter);
        }
        TreeMap<String, Long> copy = new TreeMap<>(counters);
        copy.put(replica, counter);
        return new VectorClock(copy);
    }

    public VectorClock increment(String replica) {
        return with(replica, get(replica) + 1);
    }

    public boolean contains(Dot dot) {
        return get(dot.replica()) >= dot.counter();
    }

    public VectorClock merge(VectorClock other) {
        TreeMap<String, Long> merged = new TreeMap<>(counters);
        other.counters.forEach((replica, counter) -> merged.merge(replica, counter, Math::max));
        return new VectorClock(merged);
    }

    public Order compare(VectorClock other) {
        boolean less = false;
        boolean greater = false;
        Set<String> replicas = new TreeSet<>(counters.keySet());
        replicas.addAll(other.counters.keySet());
        for (String replica : replicas) {
            long mine = get(replica);
            long theirs = other.get(replica);
            less |= mine < theirs;
            greater |= mine > theirs;
        }
        if (less && greater) {
            return Order.CONCURRENT;
        }
        return less ? Order.BEFORE : greater ? Order.AFTER : Order.EQUAL;
    }

    /** True if every counter of this clock is at most the other's. */
    public boolean isCoveredBy(VectorClock other) {
        Order order = compare(other);
        return order == Order.EQUAL || order == Order.BEFORE;
    }

    public Map<String, Long> counters() {
        return java.util.Collections.unmodifiableMap(counters);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof VectorClock clock && counters.equals(clock.counters);
    }

    @Override
    public int hashCode() {
        return counters.hashCode();
    }

    @Override
    public String toString() {
        return counters.toString();
    }
}
