package io.dwcp.gossip;

import java.util.concurrent.atomic.LongAdder;

/** Counters of one gossip node and its transport (thread-safe; names {@code dwcp_gossip_*}). */
public final class GossipStats {
    private final LongAdder rounds = new LongAdder();
    private final LongAdder messagesSent = new LongAdder();
    private final LongAdder messagesReceived = new LongAdder();
    private final LongAdder bytesSent = new LongAdder();
    private final LongAdder bytesReceived = new LongAdder();
    private final LongAdder sendFailures = new LongAdder();
    private final LongAdder malformed = new LongAdder();
    private final LongAdder peersRefused = new LongAdder();
    private final LongAdder updatesApplied = new LongAdder();
    private final LongAdder duplicates = new LongAdder();
    private final LongAdder outOfOrder = new LongAdder();
    private final LongAdder snapshotsSent = new LongAdder();
    private final LongAdder snapshotsApplied = new LongAdder();

    void round() {
        rounds.increment();
    }

    /** A transport sent a message of this many bytes. */
    public void sent(int bytes) {
        messagesSent.increment();
        bytesSent.add(bytes);
    }

    /** A transport received a message of this many bytes. */
    public void received(int bytes) {
        messagesReceived.increment();
        bytesReceived.add(bytes);
    }

    public void sendFailed() {
        sendFailures.increment();
    }

    public void malformed() {
        malformed.increment();
    }

    /** A connection refused: TLS failed (unknown CA), or the certificate is not the peer's. */
    public void peerRefused() {
        peersRefused.increment();
    }

    public long peersRefused() {
        return peersRefused.sum();
    }

    void applied() {
        updatesApplied.increment();
    }

    void duplicate() {
        duplicates.increment();
    }

    void gap() {
        outOfOrder.increment();
    }

    void snapshotSent() {
        snapshotsSent.increment();
    }

    void snapshotApplied() {
        snapshotsApplied.increment();
    }

    public long rounds() {
        return rounds.sum();
    }

    public long messagesSent() {
        return messagesSent.sum();
    }

    public long messagesReceived() {
        return messagesReceived.sum();
    }

    public long bytesSent() {
        return bytesSent.sum();
    }

    public long bytesReceived() {
        return bytesReceived.sum();
    }

    public long sendFailures() {
        return sendFailures.sum();
    }

    public long malformedMessages() {
        return malformed.sum();
    }

    public long updatesApplied() {
        return updatesApplied.sum();
    }

    public long duplicates() {
        return duplicates.sum();
    }

    public long outOfOrder() {
        return outOfOrder.sum();
    }

    public long snapshotsSent() {
        return snapshotsSent.sum();
    }

    public long snapshotsApplied() {
        return snapshotsApplied.sum();
    }
}
