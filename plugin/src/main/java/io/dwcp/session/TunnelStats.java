package io.dwcp.session;

import io.dwcp.amst.SenderStats;
import io.dwcp.metrics.LatencyHistograms;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of the daemon's tunnel (thread-safe): what its senders count ({@link SenderStats}), and
 * QEMU bytes, frames received, sessions, streams, digest checks, refused connections and the
 * streams' PING round trips. Exported on {@code /metrics} by {@link TunnelMetrics}.
 */
public final class TunnelStats extends SenderStats {
    public final LongAdder qemuBytesRead = new LongAdder();
    public final LongAdder qemuBytesWritten = new LongAdder();
    public final LongAdder tunnelBytesReceived = new LongAdder();
    public final LongAdder framesDuplicate = new LongAdder();
    public final LongAdder acksSent = new LongAdder();
    public final LongAdder sessionsStarted = new LongAdder();
    public final LongAdder sessionsCompleted = new LongAdder();
    public final LongAdder sessionsFailed = new LongAdder();
    public final LongAdder streamsOpened = new LongAdder();
    public final LongAdder streamsFailed = new LongAdder();
    public final LongAdder digestMismatches = new LongAdder();
    /** Streams that started as spares (source). */
    public final LongAdder spareStreamsTaken = new LongAdder();
    /** Spare streams this daemon keeps open to its peers now (source). */
    public final AtomicInteger spareStreamsReady = new AtomicInteger();
    /** PAD bytes spare streams sent to open their congestion windows (source). */
    public final LongAdder sparePrimeBytes = new LongAdder();
    /** Peers' spare streams this daemon holds now (destination). */
    public final AtomicInteger spareStreamsHeld = new AtomicInteger();

    private final Map<String, LongAdder> connectionsRefused = new ConcurrentHashMap<>();

    /**
     * Completed source sessions: nanoseconds their reading of QEMU was held back, by what held it
     * ({@link QemuReadGate.Hold}, by ordinal): where a migration's time went that QEMU could not
     * write.
     */
    private final LongAdder[] qemuReadHeldNanos = new LongAdder[QemuReadGate.Hold.values().length];

    {
        for (int i = 0; i < qemuReadHeldNanos.length; i++) {
            qemuReadHeldNanos[i] = new LongAdder();
        }
    }

    /** A completed source session's {@link QemuReadGate#heldNanos}. */
    void qemuReadHeld(long[] nanos) {
        for (int i = 0; i < qemuReadHeldNanos.length; i++) {
            qemuReadHeldNanos[i].add(nanos[i]);
        }
    }

    /** Seconds completed source sessions held back reading QEMU for {@code hold}. */
    double qemuReadHeldSeconds(QemuReadGate.Hold hold) {
        return qemuReadHeldNanos[hold.ordinal()].sum() / 1e9;
    }

    /**
     * Every PING round trip measured on a stream, by peer: what a frame sees end to end, the
     * queueing in the stream's socket buffers included (the TCP_INFO RTT leaves that out).
     */
    public final Histogram pingRttSeconds = LatencyHistograms.builder()
            .name("dwcp_ping_rtt_seconds")
            .help("Round trips of the PINGs on the tunnel streams, queueing in the streams included, by peer")
            .labelNames("peer")
            .build();

    /**
     * Source sessions: from the session's start (QEMU's first connection accepted) to the first byte
     * read from QEMU: the streams' set-up (TCP and TLS unless spares were ready), OPEN, and, for
     * HDE, the destination's codec answer.
     */
    public final Histogram sessionStartSeconds = LatencyHistograms.builder()
            .name("dwcp_session_start_seconds")
            .help("Source sessions: from QEMU's connection to the first byte read from it")
            .build();

    /**
     * Source sessions: from QEMU's switch-over, as the encoder saw it in the stream (the guest
     * stopped; HDE sessions only), to the destination's verification of the whole stream: the part
     * of the migration's downtime the tunnel spends delivering QEMU's last bytes and those queued
     * before them.
     */
    public final Histogram switchoverSeconds = LatencyHistograms.builder()
            .name("dwcp_switchover_seconds")
            .help(
                    "Source sessions: from QEMU's switch-over seen in its stream to the destination's verification of the whole stream")
            .build();

    /** A source session completed {@code nanos} after its encoder saw QEMU's switch-over. */
    public void switchoverCompleted(long nanos) {
        switchoverSeconds.observe(Unit.nanosToSeconds(nanos));
    }

    /** A source session read its first byte from QEMU {@code nanos} after it started. */
    public void sessionStarted(long nanos) {
        sessionStartSeconds.observe(Unit.nanosToSeconds(nanos));
    }

    /** A PING to {@code peer} came back after {@code nanos}. */
    public void pingRtt(String peer, long nanos) {
        pingRttSeconds.labelValues(peer).observe(Unit.nanosToSeconds(nanos));
    }

    public void refused(String reason) {
        connectionsRefused.computeIfAbsent(reason, ignored -> new LongAdder()).increment();
    }

    public Map<String, LongAdder> connectionsRefused() {
        return connectionsRefused;
    }

    public long refusedCount(String reason) {
        LongAdder adder = connectionsRefused.get(reason);
        return adder == null ? 0 : adder.sum();
    }
}
