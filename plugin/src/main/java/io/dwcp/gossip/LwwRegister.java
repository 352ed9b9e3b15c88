package io.dwcp.gossip;

import static java.util.Objects.requireNonNull;

import java.util.Comparator;

/**
 * Last-writer-wins register. The write with the greatest {@code (timestamp, writer, value)} wins:
 * a total order, so merge is a join. Writers take a timestamp above every one they have seen
 * ({@link GossipNode} keeps a hybrid clock: wall time, bumped past what it received), so a
 * replica's new write always beats what it read; concurrent writes of two replicas resolve the
 * same way everywhere. For region-owned keys the timestamp starts with the leader's term, so a
 * deposed leader never wins against its successor.
 */
public record LwwRegister(String value, long timestamp, String writer) implements Crdt {
    private static final Comparator<LwwRegister> ORDER = Comparator.comparingLong(LwwRegister::timestamp)
            .thenComparing(LwwRegister::writer)
            .thenComparing(LwwRegister::value);

    public LwwRegister {
        requireNonNull(value, "value is null");
        requireNonNull(writer, "writer is null");
    }

    @Override
    public LwwRegister merge(Crdt other) {
        LwwRegister register = Crdt.sameKind(other, LwwRegister.class);
        return ORDER.compare(this, register) >= 0 ? this : register;
    }
}
