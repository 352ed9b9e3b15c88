package io.dwcp.amst;

/**
 * Chooses the number of TCP streams of a session, once per interval, by hill climbing on the
 * measured goodput (bytes the receiver consumed per second):
 * <ul>
 * <li>only while the tunnel is the bottleneck (QEMU was paused for the window or for full
 * streams during part of the interval) and the streams themselves are what limits it does it
 * probe: the count is doubled. The streams limit it when the kernel says that for at least
 * {@code BUFFER_LIMITED} (half) of their busy time the peer's receive windows or the sockets' send
 * buffers held them back (per-connection limits that more connections lift), or when the kernel
 * does not say. Where their congestion windows (the path) or the ends' CPUs limit them, new
 * streams only start cold: each takes its share of frames from its first RTTs, while the
 * receiver delivers in order, so every stream waits for the slowest. On the test bed's S2 (140 ms,
 * 500 Mbit/s) a probe from 8 to 16 streams took goodput from 38.9 to 14.4 MB/s for its second,
 * and 8 fixed streams took the {@code light} migrations from 5.9 to 5.6 s (S1), 7.7 to 6.6 s (S2)
 * and 18.1 to 15.0 s (S3) against the controller that probed whenever the tunnel limited
 * (medians of 2-3 runs);</li>
 * <li>after a probe, if goodput grew by at least {@code GAIN} (10%) over what was expected at the
 * old count, the count stays and the next interval probes again; otherwise the count goes back to
 * what it was and probing pauses for {@code HOLD_INTERVALS} intervals. What was expected is the
 * goodput of the interval before the probe or, when the caller gives one, PBA's forecast of the
 * next interval at the old count if that is higher (an interval that dipped, the link recovering
 * on its own, does not credit the probe with the recovery);</li>
 * <li>when streams retransmit more than {@code LOSS_THRESHOLD} (2%) of what they send, or their
 * RTT rose above {@code RTT_INFLATION} (2) times the lowest seen on a WAN path (minimum RTT of at
 * least 1 ms), and goodput did not grow, one stream in four is shed: more streams only add to the
 * loss or fill the bottleneck's queue;</li>
 * <li>when QEMU is the bottleneck (never paused), nothing changes.</li>
 * </ul>
 * Always within [min, max].
 */
public final class StreamCountController {
    static final double GAIN = 1.10;
    static final double BUFFER_LIMITED = 0.50;
    /** Intervals a session's controller does not probe at its start ({@link #StreamCountController(int, int, int, int)}). */
    public static final int SETTLE_INTERVALS = 3;

    static final double LOSS_THRESHOLD = 0.02;
    static final int HOLD_INTERVALS = 5;
    static final double RTT_INFLATION = 2.0;
    static final long WAN_MIN_RTT_MICROS = 1000;

    private final int min;
    private final int max;
    private int count;
    private int previousCount;
    private double previousThroughput;
    private boolean probing;
    private int hold;
    private String lastReason = "start";

    public StreamCountController(int min, int max, int initial) {
        this(min, max, initial, 0);
    }

    /**
     * @param settleIntervals intervals at the start that are not probed (the streams' own start:
     *     slow start, the receive windows' growth, the JIT), so that a probe is not judged against a
     *     ramp; loss and RTT inflation are acted on from the first
     */
    public StreamCountController(int min, int max, int initial, int settleIntervals) {
        if (min < 1 || max < min || initial < min || initial > max || settleIntervals < 0) {
            throw new IllegalArgumentException("need 1 <= min <= initial <= max and settleIntervals >= 0: " + min + ", "
                    + initial + ", " + max + ", " + settleIntervals);
        }
        this.min = min;
        this.max = max;
        this.count = initial;
        this.previousCount = initial;
        this.hold = settleIntervals;
    }

    public int count() {
        return count;
    }

    public String lastReason() {
        return lastReason;
    }

    /**
     * One interval's measurements: goodput in bytes/s, the fraction of the interval QEMU was
     * paused by the tunnel (0..1), and retransmitted segments / sent segments (0..1).
     * Returns the stream count for the next interval.
     */
    public int update(double throughput, double tunnelLimitedFraction, double lossRate) {
        return update(throughput, tunnelLimitedFraction, lossRate, 0, 0);
    }

    /**
     * As {@link #update(double, double, double)}, knowing which share of the streams' busy time
     * their buffers (not their congestion windows) held them back, 0..1; NaN when not known.
     */
    public int update(double throughput, double tunnelLimitedFraction, double bufferLimitedFraction, double lossRate) {
        return update(throughput, Double.NaN, tunnelLimitedFraction, bufferLimitedFraction, lossRate, 0, 0);
    }

    /**
     * As {@link #update(double, double, double)}, with the streams' smoothed RTT and the lowest RTT
     * seen (microseconds, 0 when unknown).
     */
    public int update(
            double throughput, double tunnelLimitedFraction, double lossRate, long rttMicros, long minRttMicros) {
        return update(throughput, Double.NaN, tunnelLimitedFraction, Double.NaN, lossRate, rttMicros, minRttMicros);
    }

    /**
     * As {@link #update(double, double, double, long, long)}, with {@code forecast}: the goodput
     * (bytes/s) a predictor expects over the next interval if the count stays, from the
     * measurements up to this one; {@code NaN} when it has none. A probe started now must beat
     * the higher of it and this interval's goodput.
     */
    public int update(
            double throughput,
            double forecast,
            double tunnelLimitedFraction,
            double lossRate,
            long rttMicros,
            long minRttMicros) {
        return update(throughput, forecast, tunnelLimitedFraction, Double.NaN, lossRate, rttMicros, minRttMicros);
    }

    /**
     * As {@link #update(double, double, double, double, long, long)}, with {@code
     * bufferLimitedFraction}: the share of the streams' busy time that their buffers held them back
     * (0..1; NaN: not known). A tunnel-limited interval whose streams were held back by their
     * congestion windows, not their buffers, is not probed.
     */
    public int update(
            double throughput,
            double forecast,
            double tunnelLimitedFraction,
            double bufferLimitedFraction,
            double lossRate,
            long rttMicros,
            long minRttMicros) {
        boolean queueing = minRttMicros >= WAN_MIN_RTT_MICROS && rttMicros > RTT_INFLATION * minRttMicros;
        if (probing) {
            probing = false;
            if (throughput > 0 && throughput >= previousThroughput * GAIN) {
                lastReason = "probe helped";
                previousThroughput = throughput;
                previousCount = count;
                return count;
            }
            lastReason = "probe did not help: back";
            count = previousCount;
            hold = HOLD_INTERVALS;
            return count;
        }
        if ((lossRate > LOSS_THRESHOLD || queueing) && throughput < previousThroughput * GAIN && count > min) {
            lastReason = lossRate > LOSS_THRESHOLD ? "loss" : "rtt inflation";
            count = Math.max(min, count - Math.max(1, count / 4));
            previousCount = count;
            previousThroughput = throughput;
            hold = HOLD_INTERVALS;
            return count;
        }
        previousThroughput = throughput;
        if (hold > 0) {
            hold--;
            lastReason = "hold";
            return count;
        }
        if (tunnelLimitedFraction >= 0.2 && count < max) {
            if (bufferLimitedFraction < BUFFER_LIMITED) {
                lastReason = "tunnel-limited, not by the streams' buffers";
                return count;
            }
            lastReason = "tunnel-limited: probe";
            if (forecast > throughput) {
                previousThroughput = forecast;
            }
            previousCount = count;
            count = Math.min(max, count * 2);
            probing = true;
            return count;
        }
        lastReason = "steady";
        return count;
    }
}
