package io.dwcp.session;

import static java.util.Objects.requireNonNull;

import io.dwcp.amst.AmstPing;
import io.dwcp.amst.ControlPayload;
import io.dwcp.amst.FrameSender;
import io.dwcp.amst.StreamPool;
import io.dwcp.amst.TunnelStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A session's tunnel streams as they come and go: a stream that comes up joins the {@link
 * FrameSender} (and the source's {@link StreamPool}); one that goes down leaves them, and while
 * the session is open a failed one is counted and its slot dialled again (at the destination a
 * clean close is the source retiring it, and a stream the source drained is no failure either).
 * It also PINGs every stream at each keepalive, closes drained streams once they carry no
 * unacknowledged frame, fails the session when it had no stream for {@code tunnel.reconnect-timeout},
 * and closes every stream when the session ends.
 *
 * <p>Threads: owned by the session's event loop; {@link #bytesSent} is also read by the control
 * socket and the metrics endpoint from their threads (an adder, the sender's copy-on-write stream
 * list and the streams' own counters: best effort).
 */
final class SessionStreams {
    private static final Logger log = LoggerFactory.getLogger(SessionStreams.class);

    private final FrameSender sender;
    private final StreamPool pool;
    private final boolean destination;
    private final TunnelStats stats;
    private final Duration reconnectTimeout;
    private final String peerName;
    private final String context;
    // what streams that went down had sent: bytesSent() counts the live ones' own
    private final LongAdder retiredBytesSent = new LongAdder();
    // when the session last had a stream (or started)
    private long lastStreamNanos;

    /**
     * @param pool the source's stream pool, which dials the streams; null at a destination
     * @param role the session's role (at the destination, a clean close is the source retiring a stream)
     * @param reconnectTimeout how long the session may have no stream ({@code tunnel.reconnect-timeout})
     * @param peerName the peer's name, for the failure
     * @param context the session's log context
     * @param startNanos the session's start: it has had no stream since
     */
    SessionStreams(
            FrameSender sender,
            StreamPool pool,
            Session.Role role,
            TunnelStats stats,
            Duration reconnectTimeout,
            String peerName,
            String context,
            long startNanos) {
        this.sender = requireNonNull(sender, "sender is null");
        this.pool = pool;
        this.destination = requireNonNull(role, "role is null") == Session.Role.DESTINATION;
        this.stats = requireNonNull(stats, "stats is null");
        this.reconnectTimeout = requireNonNull(reconnectTimeout, "reconnectTimeout is null");
        this.peerName = requireNonNull(peerName, "peerName is null");
        this.context = requireNonNull(context, "context is null");
        this.lastStreamNanos = startNanos;
    }

    /** The session heard from the peer on one of its streams. */
    void seen(long nowNanos) {
        lastStreamNanos = nowNanos;
    }

    /** A stream is up (TLS and HELLO done) while the session is open: frames may go on it. */
    void up(TunnelStream stream, long nowNanos) {
        lastStreamNanos = nowNanos;
        stats.streamsOpened.increment();
        if (pool != null) {
            pool.up(stream);
        }
        sender.streamUp(stream);
    }

    /**
     * A stream closed: it leaves the sender (which re-sends its unacknowledged frames on the others)
     * and the pool. While the session is {@code open}, a stream that neither the source retired
     * (a clean close at the destination) nor drained failed: it is counted, and the source dials its
     * slot again.
     */
    void down(TunnelStream stream, String reason, boolean clean, boolean open, long nowNanos) {
        if (sender.streams().contains(stream)) {
            retiredBytesSent.add(stream.bytesSent());
        }
        sender.streamDown(stream);
        if (pool != null) {
            pool.down(stream);
        }
        if (!open) {
            return;
        }
        if (destination && clean) {
            log.debug(
                    "{} {} closed by the source ({} streams left)",
                    context,
                    stream,
                    sender.streams().size());
        } else if (!stream.isDraining()) {
            stats.streamsFailed.increment();
            log.info(
                    "{} {} failed ({}); its unacknowledged frames were re-sent on {} other streams",
                    context,
                    stream,
                    reason,
                    sender.streams().size());
            if (pool != null) {
                pool.failed(stream.index());
            }
        }
        if (!sender.streams().isEmpty()) {
            lastStreamNanos = nowNanos;
        }
    }

    /** Closes the streams the source drained once none of their frames waits for an acknowledgement. */
    void closeDrained() {
        for (TunnelStream stream : List.copyOf(sender.streams())) {
            if (stream.isDraining() && !sender.hasUnacknowledged(stream)) {
                stream.channel().close();
            }
        }
    }

    /** The keepalive: a PING on every stream (its PONG measures the stream's RTT). */
    void ping(long nowNanos) {
        for (TunnelStream stream : sender.streams()) {
            sender.sendControl(stream, new AmstPing(nowNanos), false);
        }
    }

    /** Fails the session when it has had no stream for longer than the reconnect timeout. */
    void checkConnected(long nowNanos) {
        if (sender.streams().isEmpty() && nowNanos - lastStreamNanos > reconnectTimeout.toNanos()) {
            throw new SessionFailure(
                    "no tunnel stream to peer " + peerName + " for " + reconnectTimeout.toSeconds() + "s");
        }
    }

    /**
     * The session ended: each stream closes once {@code last}'s control frame (one for each
     * stream: the last ACK, an ABORT) is written, or at once if {@code last} is null.
     */
    void closeAll(Supplier<? extends ControlPayload> last) {
        for (TunnelStream stream : List.copyOf(sender.streams())) {
            if (last != null) {
                sender.sendControl(stream, last.get(), true);
            } else {
                stream.channel().close();
            }
        }
    }

    /** Frame bytes sent on the session's streams so far, those that went down included (any thread). */
    long bytesSent() {
        long bytes = retiredBytesSent.sum();
        for (TunnelStream stream : sender.streams()) {
            bytes += stream.bytesSent();
        }
        return bytes;
    }
}
