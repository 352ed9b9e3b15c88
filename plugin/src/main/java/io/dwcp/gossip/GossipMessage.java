package io.dwcp.gossip;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The three legs of one push-pull anti-entropy exchange between nodes A and B:
 * <pre>
 * A -> B  Digest(A, clock of A)
 * B -> A  Reply(B, clock of B, what A lacks: updates, or a snapshot when B's log no longer has them)
 * A -> B  Push(A, what B lacks)          (only when there is something)
 * </pre>
 * The wire format is {@link GossipCodec}.
 */
public sealed interface GossipMessage {
    String sender();

    /** Leg 1: who I am and what I hold. */
    record Digest(String sender, VectorClock clock) implements GossipMessage {
        public Digest {
            requireNonNull(sender, "sender is null");
            requireNonNull(clock, "clock is null");
        }
    }

    /** Leg 2: my clock and what your digest lacks. */
    record Reply(String sender, VectorClock clock, Payload payload) implements GossipMessage {
        public Reply {
            requireNonNull(sender, "sender is null");
            requireNonNull(clock, "clock is null");
            requireNonNull(payload, "payload is null");
        }
    }

    /** Leg 3: what your reply's clock lacks. */
    record Push(String sender, Payload payload) implements GossipMessage {
        public Push {
            requireNonNull(sender, "sender is null");
            requireNonNull(payload, "payload is null");
        }
    }

    /**
     * Updates in order per origin (each origin's counters contiguous from what the receiver
     * holds), or, when the sender's log was trimmed, a snapshot: its whole map and the clock that
     * map covers. {@code snapshot} is null when absent.
     */
    record Payload(List<GossipUpdate> updates, Snapshot snapshot) {
        public static final Payload EMPTY = new Payload(List.of(), null);

        public Payload {
            updates = List.copyOf(updates);
        }

        public boolean isEmpty() {
            return updates.isEmpty() && snapshot == null;
        }
    }

    /** A node's whole map and the clock it covers. */
    record Snapshot(VectorClock clock, SortedMap<String, Crdt> entries) {
        public Snapshot {
            requireNonNull(clock, "clock is null");
            entries = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(entries));
        }

        public static Snapshot of(VectorClock clock, Map<String, Crdt> entries) {
            return new Snapshot(clock, new TreeMap<>(entries));
        }
    }
}
