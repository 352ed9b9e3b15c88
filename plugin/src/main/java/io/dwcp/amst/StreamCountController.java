package io.dwcp.amst;

/**
 * Chooses the number of TCP streams of a session, once per interval, by hill climbing on the
 * measured goodput (bytes the receiver consumed per second):
 * <ul>
 * <li>only while the tunnel is the bottleneck (QEMU was paused for the window or for full
 * streams during part of the interval) does it probe: the count is doubled;</li>
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
        if (min < 1 || max < min || initial < min || initial > max) {
            throw new IllegalArgumentException("need 1 <= min <= initial <= max: " + min + ", " + initial + ", " + max);
        }
        this.min = min;
        this.max = max;
        this.count = initial;
        this.previousCount = initial;
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
     * As {@link #update(double, double, double)}, with the streams' smoothed RTT and the lowest RTT
     * seen (microseconds, 0 when unknown).
     */
    public int update(
            double throughput, double tunnelLimitedFraction, double lossRate, long rttMicros, long minRttMicros) {
        return update(throughput, Double.NaN, tunnelLimitedFraction, lossRate, rttMicros, minRttMicros);
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
