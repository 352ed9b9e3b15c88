package io.dwcp.gossip;

import static java.util.Objects.requireNonNull;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One replica of the gossiped map (key to {@link Crdt}) and its push-pull anti-entropy.
 *
 * <p>Every local change is an update with the next {@link Dot} of this node; a node's {@link
 * VectorClock} counts, per origin, the updates it holds without a gap, and is the digest it sends.
 * Every {@link #round()} the node sends its digest to {@code fanout} random peers; a peer answers
 * with its own clock and what the digest lacks; the node then pushes what the peer's clock lacks
 * (see {@link GossipMessage}). Updates of each origin are kept in a bounded log so a peer gets
 * just what it lacks; a peer further behind than the log gets a snapshot (the whole map and its
 * clock), which merging makes safe. Merges are CRDT joins, so duplicates, reordering across
 * origins and concurrent writers never lose an update.
 *
 * <p>Not thread-safe: every method runs on the node's owner thread (dwcpd's gossip executor,
 * or the simulation's loop). Listeners run on that thread too.
 */
public final class GossipNode {
    private static final Logger log = LoggerFactory.getLogger(GossipNode.class);

    /** Called with each key whose value changed, on the node's thread. */
    @FunctionalInterface
    public interface Listener {
        void changed(String key, Crdt value, Optional<Dot> dot);
    }

    private final String id;
    private final GossipTransport transport;
    private final LongSupplier clockMillis;
    private final Random random;
    private final GossipStats stats;
    private final int fanout;
    private final int logCapacity;
    private final List<Listener> listeners = new ArrayList<>();

    private final TreeMap<String, Crdt> state = new TreeMap<>();
    private final Map<String, ArrayDeque<GossipUpdate>> logs = new HashMap<>();
    private VectorClock clock = VectorClock.empty();
    private List<String> peers = List.of();
    private long lastTimestamp;

    public GossipNode(
            String id,
            GossipTransport transport,
            LongSupplier clockMillis,
            Random random,
            GossipStats stats,
            int fanout,
            int logCapacity) {
        this.id = requireNonNull(id, "id is null");
        this.transport = requireNonNull(transport, "transport is null");
        this.clockMillis = requireNonNull(clockMillis, "clockMillis is null");
        this.random = requireNonNull(random, "random is null");
        this.stats = requireNonNull(stats, "stats is null");
        if (fanout < 1) {
            throw new IllegalArgumentException("fanout must be at least 1: " + fanout);
        }
        if (logCapacity < 1) {
            throw new IllegalArgumentException("logCapacity must be at least 1: " + logCapacity);
        }
        this.fanout = fanout;
        this.logCapacity = logCapacity;
    }

    public String id() {
        return id;
    }

    public void addListener(Listener listener) {
        listeners.add(requireNonNull(listener, "listener is null"));
    }

    /** The peers rounds choose from (this node's id is left out). */
    public void setPeers(List<String> peers) {
        List<String> others = new ArrayList<>(peers);
        others.remove(id);
        this.peers = List.copyOf(others);
    }

    public List<String> peers() {
        return peers;
    }

    public VectorClock clock() {
        return clock;
    }

    public Optional<Crdt> get(String key) {
        return Optional.ofNullable(state.get(key));
    }

    public SortedMap<String, Crdt> state() {
        return Collections.unmodifiableSortedMap(new TreeMap<>(state));
    }

    /** A timestamp above the wall clock and every timestamp this node has seen (a hybrid logical clock). */
    public long nextTimestamp() {
        lastTimestamp = Math.max(lastTimestamp + 1, clockMillis.getAsLong());
        return lastTimestamp;
    }

    /** Writes the register with a fresh {@link #nextTimestamp()}. */
    public LwwRegister write(String key, String value) {
        return write(key, value, nextTimestamp());
    }

    /** Writes the register with the given timestamp (a region leader passes one derived from its term). */
    public LwwRegister write(String key, String value, long timestamp) {
        LwwRegister register = new LwwRegister(value, timestamp, id);
        update(key, register);
        return (LwwRegister) state.get(key);
    }

    public void add(String key, String element) {
        update(key, OrSet.addition(element, new Dot(id, clock.get(id) + 1)));
    }

    public void remove(String key, String element) {
        Crdt current = state.get(key);
        if (current instanceof OrSet set && set.contains(element)) {
            update(key, set.removal(element));
        }
    }

    /**
     * Assigns a multi-value register (an {@link OrSet} replacing what this node observes): a
     * value assigned concurrently elsewhere survives next to this one until a node that saw both
     * assigns again; {@link OrSet#isConcurrent()} tells.
     */
    public void assign(String key, String value) {
        Crdt current = state.get(key);
        OrSet observed = current instanceof OrSet set ? set : OrSet.empty();
        update(key, observed.assignment(value, new Dot(id, clock.get(id) + 1)));
    }

    /** Applies a local change as the next update of this node. */
    public void update(String key, Crdt delta) {
        apply(new GossipUpdate(new Dot(id, clock.get(id) + 1), key, delta));
    }

    /**
     * Starts from a state held elsewhere (a new region leader takes what its region's ZooKeeper
     * holds): merged as a snapshot received from a peer.
     */
    public void restore(GossipMessage.Snapshot snapshot) {
        apply(snapshot);
    }

    /** This node's whole map and clock, as a peer far behind would receive it. */
    public GossipMessage.Snapshot snapshot() {
        return GossipMessage.Snapshot.of(clock, state);
    }

    /** One anti-entropy round: this node's digest to {@code fanout} random peers. */
    public void round() {
        stats.round();
        if (peers.isEmpty()) {
            return;
        }
        List<String> shuffled = new ArrayList<>(peers);
        int count = Math.min(fanout, shuffled.size());
        for (int i = 0; i < count; i++) {
            Collections.swap(shuffled, i, i + random.nextInt(shuffled.size() - i));
            transport.send(shuffled.get(i), new GossipMessage.Digest(id, clock));
        }
    }

    /** A message from a peer (the transport calls this on the node's thread). */
    public void receive(GossipMessage message) {
        if (message instanceof GossipMessage.Digest digest) {
            transport.send(digest.sender(), new GossipMessage.Reply(id, clock, payloadFor(digest.clock())));
        } else if (message instanceof GossipMessage.Reply reply) {
            apply(reply.payload());
            GossipMessage.Payload missing = payloadFor(reply.clock());
            if (!missing.isEmpty()) {
                transport.send(reply.sender(), new GossipMessage.Push(id, missing));
            }
        } else if (message instanceof GossipMessage.Push push) {
            apply(push.payload());
        }
    }

    /** What a peer holding {@code theirs} lacks: logged updates, or a snapshot if the log was trimmed. */
    GossipMessage.Payload payloadFor(VectorClock theirs) {
        List<GossipUpdate> updates = new ArrayList<>();
        for (Map.Entry<String, Long> entry : clock.counters().entrySet()) {
            String origin = entry.getKey();
            long mine = entry.getValue();
            long known = theirs.get(origin);
            if (mine <= known) {
                continue;
            }
            ArrayDeque<GossipUpdate> originLog = logs.get(origin);
            if (originLog == null
                    || originLog.isEmpty()
                    || originLog.peekFirst().dot().counter() > known + 1) {
                stats.snapshotSent();
                return new GossipMessage.Payload(List.of(), GossipMessage.Snapshot.of(clock, state));
            }
            for (GossipUpdate update : originLog) {
                if (update.dot().counter() > known) {
                    updates.add(update);
                }
            }
        }
        return updates.isEmpty() ? GossipMessage.Payload.EMPTY : new GossipMessage.Payload(updates, null);
    }

    private void apply(GossipMessage.Payload payload) {
        for (GossipUpdate update : payload.updates()) {
            apply(update);
        }
        if (payload.snapshot() != null) {
            apply(payload.snapshot());
        }
    }

    private void apply(GossipUpdate update) {
        String origin = update.dot().replica();
        long expected = clock.get(origin) + 1;
        if (update.dot().counter() < expected) {
            stats.duplicate();
            return;
        }
        if (update.dot().counter() > expected) {
            // a gap: the sender's log starts later than what we hold; a later round brings a snapshot
            stats.gap();
            return;
        }
        clock = clock.with(origin, expected);
        ArrayDeque<GossipUpdate> originLog = logs.computeIfAbsent(origin, ignored -> new ArrayDeque<>());
        originLog.addLast(update);
        if (originLog.size() > logCapacity) {
            originLog.removeFirst();
        }
        stats.applied();
        merge(update.key(), update.delta(), Optional.of(update.dot()));
    }

    private void apply(GossipMessage.Snapshot snapshot) {
        VectorClock before = clock;
        snapshot.entries().forEach((key, value) -> merge(key, value, Optional.empty()));
        clock = clock.merge(snapshot.clock());
        // the updates between what we logged and the snapshot's clock are not in our log: serve
        // peers behind that point with snapshots from now on
        for (Map.Entry<String, Long> entry : snapshot.clock().counters().entrySet()) {
            if (entry.getValue() > before.get(entry.getKey())) {
                logs.remove(entry.getKey());
            }
        }
        stats.snapshotApplied();
    }

    private void merge(String key, Crdt delta, Optional<Dot> dot) {
        Crdt current = state.get(key);
        Crdt merged;
        try {
            merged = current == null ? delta : current.merge(delta);
        } catch (IllegalArgumentException e) {
            // two origins used one key for different kinds: keep ours, say which key
            log.error("[gossip={}] key {} not merged: {}", id, key, e.getMessage());
            return;
        }
        if (delta instanceof LwwRegister register) {
            lastTimestamp = Math.max(lastTimestamp, register.timestamp());
        }
        if (merged.equals(current)) {
            return;
        }
        state.put(key, merged);
        for (Listener listener : listeners) {
            listener.changed(key, merged, dot);
        }
    }
}
