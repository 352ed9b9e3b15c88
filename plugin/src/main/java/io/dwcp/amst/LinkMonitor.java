package io.dwcp.amst;

import static java.util.Objects.requireNonNull;

import io.netty.channel.epoll.EpollTcpInfo;
import java.util.List;

/**
 * What a session's streams say of the link: from the kernel's TCP_INFO of each stream and the
 * credit the peer acknowledged, at each controller interval, the goodput, the rate the streams'
 * congestion windows allow, the loss, the RTT, and the share of the interval in which the tunnel
 * itself held QEMU back (reading paused for a full window or queue).
 *
 * <p>The link's minimum RTT is the lowest smoothed RTT any stream of the session reported: the
 * one figure the stream count controller, the raw window, the head re-send threshold and the
 * codec use.
 *
 * <p>Owned by the session's event loop; not thread-safe. Times are {@link System#nanoTime}
 * values passed in, so it is tested without a clock.
 */
public final class LinkMonitor {
    /** Fewer new segments than this in an interval say nothing of loss. */
    static final long MIN_SEGMENTS_FOR_LOSS = 1000;

    /**
     * One stream's figures at a sample: its TCP_INFO (RTT in microseconds), the frame bytes it sent,
     * and its busy time since the last sample.
     */
    public record StreamReading(
            long rttMicros,
            long congestionWindow,
            long mss,
            long totalRetransmits,
            long bytesSent,
            TunnelStream.Busy busy) {
        public StreamReading {
            requireNonNull(busy, "busy is null");
        }

        /** Without a busy time (not known). */
        public StreamReading(long rttMicros, long congestionWindow, long mss, long totalRetransmits, long bytesSent) {
            this(rttMicros, congestionWindow, mss, totalRetransmits, bytesSent, TunnelStream.Busy.UNKNOWN);
        }

        public static StreamReading of(EpollTcpInfo info, long bytesSent, TunnelStream.Busy busy) {
            return new StreamReading(info.rtt(), info.sndCwnd(), info.sndMss(), info.totalRetrans(), bytesSent, busy);
        }
    }

    /**
     * The link over one interval.
     *
     * @param seconds the interval's length
     * @param goodput credit the peer consumed per second
     * @param tunnelLimited share of the interval in which reading QEMU was paused by the tunnel (0..1)
     * @param loss retransmitted over sent segments; 0 when too few segments were sent to tell
     * @param rttMicros the streams' mean smoothed RTT; 0 when none reported one
     * @param minRttMicros the lowest smoothed RTT seen so far
     * @param linkBytesPerSecond the larger of the goodput and what the congestion windows allow per RTT
     * @param bufferLimited share of the streams' busy time (summed over them) that the peer's receive
     *     windows or the sockets' send buffers, not the congestion windows, held them back (0..1);
     *     NaN when the kernel gave no busy time
     */
    public record Sample(
            double seconds,
            double goodput,
            double tunnelLimited,
            double loss,
            long rttMicros,
            long minRttMicros,
            double linkBytesPerSecond,
            double bufferLimited) {}

    private final long intervalNanos;
    private long lastNanos;
    private long lastConsumedCredit;
    private long lastRetransmits;
    private long lastSegments;
    private boolean paused;
    private long pausedSinceNanos;
    private long pausedNanos;
    private long minRttMicros;
    private double linkBytesPerSecond;
    // the goodput of the last GOODPUT_SAMPLES samples, a ring
    private final double[] goodputs = new double[GOODPUT_SAMPLES];
    private int nextGoodput;

    /** Samples {@link #highestGoodput} is the highest of. */
    public static final int GOODPUT_SAMPLES = 10;

    /**
     * @param nowNanos the session's start
     * @param intervalNanos the controller interval: a sample covers at least half of it
     */
    public LinkMonitor(long nowNanos, long intervalNanos) {
        if (intervalNanos <= 0) {
            throw new IllegalArgumentException("interval must be positive: " + intervalNanos);
        }
        this.lastNanos = nowNanos;
        this.intervalNanos = intervalNanos;
    }

    /** The tunnel stopped reading QEMU (window, queue or raw window full). */
    public void readingPaused(long nowNanos) {
        if (!paused) {
            paused = true;
            pausedSinceNanos = nowNanos;
        }
    }

    /** The tunnel reads QEMU again. */
    public void readingResumed(long nowNanos) {
        if (paused) {
            paused = false;
            pausedNanos += nowNanos - pausedSinceNanos;
        }
    }

    /** A stream's smoothed RTT, whenever one is read; 0 (not known yet) is ignored. */
    public void observeRtt(long rttMicros) {
        if (rttMicros > 0 && (minRttMicros == 0 || rttMicros < minRttMicros)) {
            minRttMicros = rttMicros;
        }
    }

    /** The lowest smoothed RTT of any stream so far, in microseconds; 0 if none yet. */
    public long minRttMicros() {
        return minRttMicros;
    }

    /**
     * The highest goodput of the last {@link #GOODPUT_SAMPLES} samples, bytes per second (0 before
     * the first): what the link was seen to carry lately, unlowered by an interval in which QEMU
     * wrote little. (The congestion windows' rate in {@link #linkBytesPerSecond} ran 3-5 times
     * above the link on S2 and S3 with BBR and many streams.)
     */
    public double highestGoodput() {
        double highest = 0;
        for (double goodput : goodputs) {
            highest = Math.max(highest, goodput);
        }
        return highest;
    }

    /** The link's rate at the last sample (bytes per second); 0 before the first. */
    public double linkBytesPerSecond() {
        return linkBytesPerSecond;
    }

    /** Whether enough of an interval passed since the last sample for a new one. */
    public boolean due(long nowNanos) {
        return nowNanos - lastNanos >= intervalNanos / 2;
    }

    /**
     * Takes a sample and starts the next interval.
     *
     * @param consumedCredit the credit the peer acknowledged as consumed so far
     * @param streams the live streams' figures
     */
    public Sample sample(long nowNanos, long consumedCredit, List<StreamReading> streams) {
        double seconds = Math.max(1e-9, (nowNanos - lastNanos) / 1e9);
        long pausedInInterval = pausedNanos + (paused ? nowNanos - pausedSinceNanos : 0);
        pausedNanos = 0;
        if (paused) {
            pausedSinceNanos = nowNanos;
        }
        lastNanos = nowNanos;
        double goodput = (consumedCredit - lastConsumedCredit) / seconds;
        lastConsumedCredit = consumedCredit;
        goodputs[nextGoodput] = Math.max(0, goodput);
        nextGoodput = (nextGoodput + 1) % GOODPUT_SAMPLES;

        long retransmits = 0;
        long segments = 0;
        long rttSum = 0;
        int rttCount = 0;
        // what the streams' congestion windows allow per RTT: the link's rate when the tunnel is not what limits
        double windowRate = 0;
        long busyMicros = 0;
        long bufferLimitedMicros = 0;
        for (StreamReading stream : streams) {
            if (stream.rttMicros() > 0) {
                windowRate += (double) stream.congestionWindow() * stream.mss() * 1e6 / stream.rttMicros();
                rttSum += stream.rttMicros();
                rttCount++;
                observeRtt(stream.rttMicros());
            }
            busyMicros += stream.busy().busyMicros();
            bufferLimitedMicros += stream.busy().bufferLimitedMicros();
            retransmits += stream.totalRetransmits();
            segments += stream.mss() == 0 ? 0 : stream.bytesSent() / stream.mss();
        }
        long rtt = rttCount == 0 ? 0 : rttSum / rttCount;
        double loss = segments - lastSegments >= MIN_SEGMENTS_FOR_LOSS
                ? Math.max(0, retransmits - lastRetransmits) / (double) (segments - lastSegments)
                : 0;
        lastRetransmits = retransmits;
        lastSegments = segments;
        double limited = Math.min(1, pausedInInterval / 1e9 / seconds);
        linkBytesPerSecond = Math.max(goodput, windowRate);
        double bufferLimited = busyMicros == 0 ? Double.NaN : (double) bufferLimitedMicros / busyMicros;
        return new Sample(seconds, goodput, limited, loss, rtt, minRttMicros, linkBytesPerSecond, bufferLimited);
    }
}
