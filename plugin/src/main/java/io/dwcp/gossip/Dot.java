package io.dwcp.gossip;

import static java.util.Objects.requireNonNull;

/** One event of one replica: the replica's id and its counter at that event (counters start at 1). */
public record Dot(String replica, long counter) implements Comparable<Dot> {
    public Dot {
        requireNonNull(replica, "replica is null");
        if (counter < 1) {
            throw new IllegalArgumentException("counter must be positive: " + counter);
        }
    }

    @Override
    public int compareTo(Dot other) {
        int byReplica = replica.compareTo(other.replica);
        return byReplica != 0 ? byReplica : Long.compare(counter, other.counter);
    }

    @Override
    public String toString() {
        return replica + ":" + counter;
    }
}
