package io.dwcp.session;

import io.dwcp.amst.TunnelStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Measures the links from this host to its peers from the outside of the sessions: what their
 * source sessions sent and what the kernel says of their streams (TCP_INFO). Two kinds of
 * measurement, both of the link from this host to the session's peer:
 * <ul>
 * <li>{@link #sample}: the source sessions open now, per peer: goodput = tunnel bytes sent since
 * the last sample (or the session's start) per second, summed over the peer's sessions; RTT = the
 * smallest smoothed RTT of their streams; loss = retransmitted segments per million sent in the
 * interval (0 when fewer than 1000 segments were sent: too few to say). A peer whose sessions sent
 * nothing in the interval gives no measurement.</li>
 * <li>{@link #ended}: one source session that ended: goodput = all its tunnel bytes over its whole
 * life; RTT = the smallest seen by any sample or now; loss over its whole life.</li>
 * </ul>
 * An RTT of 0 means not measured (no stream open when it was looked at). Segments are estimated
 * as bytes sent / MSS, as the stream count controller does.
 *
 * <p>Thread-safe (its per-session state is guarded by this object); reads only counters and
 * TCP_INFO, no I/O, so it may run on any thread, an event loop included.
 */
public final class LinkSampler {
    static final long MIN_SEGMENTS_FOR_LOSS = 1000;
    static final long FORGET_AFTER_MILLIS = 60_000;

    /** A measurement of the link from this host to {@code peer}. */
    public record Measurement(
            String peer, long rttMicros, long goodputBytesPerSecond, int lossPpm, long measuredAtMillis) {}

    /** What one source session shows at one moment (rttMicros 0: unknown). */
    record Figures(
            long sessionId,
            String peer,
            long startMillis,
            long bytesSent,
            long rttMicros,
            long retransmits,
            long segments) {}

    private static final class Tracked {
        long lastBytes;
        long lastMillis;
        long minRttMicros;
        long retransmits;
        long segments;
    }

    // by session id; guarded by this
    private final Map<Long, Tracked> tracked = new HashMap<>();

    /** The open source sessions' links, one measurement per peer. */
    public List<Measurement> sample(Collection<Session> sessions, long nowMillis) {
        List<Figures> figures = new ArrayList<>();
        for (Session session : sessions) {
            if (session.role() == Session.Role.SOURCE && session.state() == Session.State.OPEN) {
                figures.add(figures(session));
            }
        }
        return sample(figures, nowMillis);
    }

    /** The link a source session measured over its life; empty for a destination session, or one that sent nothing. */
    public Optional<Measurement> ended(Session session, long nowMillis) {
        if (session.role() != Session.Role.SOURCE) {
            return Optional.empty();
        }
        return ended(figures(session), nowMillis);
    }

    private static Figures figures(Session session) {
        long rtt = 0;
        long retransmits = 0;
        long segments = 0;
        for (TunnelStream stream : session.streamsSnapshot()) {
            var info = stream.tcpInfo();
            if (info.isEmpty()) {
                continue;
            }
            if (info.get().rtt() > 0 && (rtt == 0 || info.get().rtt() < rtt)) {
                rtt = info.get().rtt();
            }
            retransmits += info.get().totalRetrans();
            segments += info.get().sndMss() == 0
                    ? 0
                    : stream.bytesSent() / info.get().sndMss();
        }
        // streams closed (the session ended) or not read yet: the lowest RTT the session's controller saw
        long sessionRtt = session.minRttMicros();
        if (sessionRtt > 0 && (rtt == 0 || sessionRtt < rtt)) {
            rtt = sessionRtt;
        }
        return new Figures(
                session.id(),
                session.peer().name(),
                session.startMillis(),
                session.tunnelBytesSent(),
                rtt,
                retransmits,
                segments);
    }

    synchronized List<Measurement> sample(List<Figures> sessions, long nowMillis) {
        Map<String, long[]> peers = new TreeMap<>(); // peer -> {bytes per second, min rtt, retransmits, segments}
        Set<Long> open = new HashSet<>();
        for (Figures session : sessions) {
            open.add(session.sessionId());
            Tracked last = tracked.computeIfAbsent(session.sessionId(), id -> {
                Tracked fresh = new Tracked();
                fresh.lastMillis = session.startMillis();
                return fresh;
            });
            long elapsed = nowMillis - last.lastMillis;
            if (elapsed <= 0) {
                continue;
            }
            long rate = Math.max(0, session.bytesSent() - last.lastBytes) * 1000 / elapsed;
            long retransmits = Math.max(0, session.retransmits() - last.retransmits);
            long segments = Math.max(0, session.segments() - last.segments);
            last.lastBytes = session.bytesSent();
            last.lastMillis = nowMillis;
            last.retransmits = Math.max(last.retransmits, session.retransmits());
            last.segments = Math.max(last.segments, session.segments());
            if (session.rttMicros() > 0 && (last.minRttMicros == 0 || session.rttMicros() < last.minRttMicros)) {
                last.minRttMicros = session.rttMicros();
            }
            long[] peer = peers.computeIfAbsent(session.peer(), name -> new long[4]);
            peer[0] += rate;
            if (session.rttMicros() > 0 && (peer[1] == 0 || session.rttMicros() < peer[1])) {
                peer[1] = session.rttMicros();
            }
            peer[2] += retransmits;
            peer[3] += segments;
        }
        // a session that ended is forgotten by ended(), which needs what was sampled (its streams are
        // closed by then); one whose end was never told is forgotten after a minute without a sample
        tracked.entrySet()
                .removeIf(entry -> !open.contains(entry.getKey())
                        && nowMillis - entry.getValue().lastMillis > FORGET_AFTER_MILLIS);
        List<Measurement> measurements = new ArrayList<>();
        peers.forEach((peer, figures) -> {
            // nothing sent in the interval (QEMU paused, the tail being acknowledged): it says nothing of the link
            if (figures[0] > 0) {
                measurements.add(
                        new Measurement(peer, figures[1], figures[0], lossPpm(figures[2], figures[3]), nowMillis));
            }
        });
        return measurements;
    }

    synchronized Optional<Measurement> ended(Figures session, long nowMillis) {
        Tracked last = tracked.remove(session.sessionId());
        long duration = nowMillis - session.startMillis();
        if (duration <= 0 || session.bytesSent() == 0) {
            return Optional.empty();
        }
        long rtt = session.rttMicros();
        if (last != null && last.minRttMicros > 0 && (rtt == 0 || last.minRttMicros < rtt)) {
            rtt = last.minRttMicros;
        }
        // the streams may be closed by now: the sampled totals then stand for the whole life
        long retransmits = Math.max(session.retransmits(), last == null ? 0 : last.retransmits);
        long segments = Math.max(session.segments(), last == null ? 0 : last.segments);
        return Optional.of(new Measurement(
                session.peer(), rtt, session.bytesSent() * 1000 / duration, lossPpm(retransmits, segments), nowMillis));
    }

    private static int lossPpm(long retransmits, long segments) {
        if (segments < MIN_SEGMENTS_FOR_LOSS) {
            return 0;
        }
        return (int) Math.min(1_000_000, retransmits * 1_000_000 / segments);
    }
}
