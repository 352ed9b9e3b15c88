package io.dwcp.gossip;

import java.util.concurrent.atomic.LongAdder;

/** Counters of one gossip node and its transport (thread-safe; names {@code dwcp_gossip_*}). */
public final class GossipStats
{
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

    void round()
    {
        rounds.increment();
    }

    /** A transport sent a message of this many bytes. */
    public void sent(int bytes)
    {
        messagesSent.increment();
        bytesSent.add(bytes);
    }

    /** A transport received a message of this many bytes. */
    public void received(int bytes)
    {
        messagesReceived.increment();
        bytesReceived.add(bytes);
    }

    public void sendFailed()
    {
        sendFailures.increment();
    }

    public void malformed()
    {
        malformed.increment();
    }

    /** A connection refused: TLS failed (unknown CA), or the certificate is not the peer's. */
    public void peerRefused()
    {
        peersRefused.increment();
    }

    public long peersRefused()
    {
        return peersRefused.sum();
    }

    void applied()
    {
        updatesApplied.increment();
    }

    void duplicate()
    {
        duplicates.increment();
    }

    void gap()
    {
        outOfOrder.increment();
    }

    void snapshotSent()
    {
        snapshotsSent.increment();
    }

    void snapshotApplied()
    {
        snapshotsApplied.increment();
    }

    public long rounds()
    {
        return rounds.sum();
    }

    public long messagesSent()
    {
        return messagesSent.sum();
    }

    public long messagesReceived()
    {
        return messagesReceived.sum();
    }

    public long bytesSent()
    {
        return bytesSent.sum();
    }

    public long bytesReceived()
    {
        return bytesReceived.sum();
    }

    public long sendFailures()
    {
        return sendFailures.sum();
    }

    public long malformedMessages()
    {
        return malformed.sum();
    }

    public long updatesApplied()
    {
        return updatesApplied.sum();
    }

    public long duplicates()
    {
        return duplicates.sum();
    }

    public long outOfOrder()
    {
        return outOfOrder.sum();
    }

    public long snapshotsSent()
    {
        return snapshotsSent.sum();
    }

    public long snapshotsApplied()
    {
        return snapshotsApplied.sum();
    }

    public void appendPrometheus(StringBuilder out)
    {
        out.append("dwcp_gossip_rounds_total ").append(rounds()).append('\n');
        out.append("dwcp_gossip_messages_sent_total ").append(messagesSent()).append('\n');
        out.append("dwcp_gossip_messages_received_total ").append(messagesReceived()).append('\n');
        out.append("dwcp_gossip_bytes_sent_total ").append(bytesSent()).append('\n');
        out.append("dwcp_gossip_bytes_received_total ").append(bytesReceived()).append('\n');
        out.append("dwcp_gossip_send_failures_total ").append(sendFailures()).append('\n');
        out.append("dwcp_gossip_malformed_messages_total ").append(malformedMessages()).append('\n');
        out.append("dwcp_gossip_peers_refused_total ").append(peersRefused()).append('\n');
        out.append("dwcp_gossip_updates_applied_total ").append(updatesApplied()).append('\n');
        out.append("dwcp_gossip_duplicate_updates_total ").append(duplicates()).append('\n');
        out.append("dwcp_gossip_out_of_order_updates_total ").append(outOfOrder()).append('\n');
        out.append("dwcp_gossip_snapshots_sent_total ").append(snapshotsSent()).append('\n');
        out.append("dwcp_gossip_snapshots_applied_total ").append(snapshotsApplied()).append('\n');
    }
}
