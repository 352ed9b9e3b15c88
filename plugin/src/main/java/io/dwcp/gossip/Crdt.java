package io.dwcp.gossip;

/**
 * A state-based CRDT value of the gossiped map. {@link #merge} is commutative, associative and
 * idempotent (a join semilattice), so replicas that received the same updates in any order, any
 * number of times, hold the same value. Both kinds carry strings: what a region publishes
 * (leader, hosts, summaries) is small text.
 */
public sealed interface Crdt permits LwwRegister, OrSet {
    /** The join of this value and another of the same kind. */
    Crdt merge(Crdt other);

    /** Kind check shared by the implementations. */
    static <T extends Crdt> T sameKind(Crdt value, Class<T> kind) {
        if (!kind.isInstance(value)) {
            throw new IllegalArgumentException("cannot merge " + kind.getSimpleName() + " with "
                    + value.getClass().getSimpleName());
        }
        return kind.cast(value);
    }
}
