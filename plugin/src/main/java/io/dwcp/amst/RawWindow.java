package io.dwcp.amst;

/**
 * How many bytes of QEMU's stream a session may have read and not yet delivered to the peer's
 * QEMU. At the switch-over QEMU's last bytes queue behind everything read before them, so this
 * bound sets how long the destination still has to catch up while the VM is paused: the
 * migration's downtime. It is also what makes QEMU's own bandwidth estimate true through an
 * encoding tunnel: QEMU can write only as fast as the peer's QEMU receives.
 *
 * <p>The bound is the largest delivery rate seen over the last {@link #RATE_SAMPLES} samples
 * times (two round trips + the drain target): two round trips keep a path of that rate full (as
 * BBR keeps two bandwidth-delay products in flight), and the drain target is the time the last
 * bytes may queue behind earlier ones. To that come the bytes that have crossed the link but are not
 * counted as delivered yet: those the receiver holds back until the next digest checkpoint
 * verifies them, and those an ACK has not reported yet. They queue ahead of nothing at the
 * switch-over (the last checkpoint follows QEMU's last bytes at once), but without them the bound
 * throttled the stream: on S2, pass-through with an unbounded raw window moved 324 Mbit/s in bulk
 * against 265-281 with the bound. It stays between a minimum (two digest checkpoints, so the
 * receiver can always release what it holds back) and the configured maximum, and is the maximum
 * until the first rate is measured.
 *
 * <p>Not thread-safe: owned by its session's event loop.
 */
public final class RawWindow {
    /** Samples the rate's maximum is taken over (one per adaptation interval: 10 s by default). */
    public static final int RATE_SAMPLES = 10;

    private final long maxBytes;
    private final long minBytes;
    private final long drainNanos;
    private final long heldBytes;
    private final double[] rates = new double[RATE_SAMPLES];
    private int nextRate;
    private long lastNanos;
    private long lastDelivered = -1;
    private long limit;

    /**
     * @param maxBytes the bound before any measurement and at most ({@code amst.raw-window})
     * @param minBytes the bound at least (at most {@code maxBytes})
     * @param drainNanos how long the last bytes may queue at the switch-over
     *         ({@code amst.switchover-drain}); 0 keeps the bound at {@code maxBytes}
     * @param heldBytes bytes across the link and not counted as delivered yet (a checkpoint
     *         interval, plus what an ACK may wait to report)
     */
    public RawWindow(long maxBytes, long minBytes, long drainNanos, long heldBytes) {
        if (minBytes <= 0 || maxBytes < minBytes || drainNanos < 0 || heldBytes < 0) {
            throw new IllegalArgumentException("maxBytes " + maxBytes + ", minBytes " + minBytes + ", drainNanos "
                    + drainNanos + ", heldBytes " + heldBytes);
        }
        this.maxBytes = maxBytes;
        this.minBytes = minBytes;
        this.drainNanos = drainNanos;
        this.heldBytes = heldBytes;
        this.limit = maxBytes;
    }

    public long limit() {
        return limit;
    }

    /**
     * The highest delivery rate of the last {@link #RATE_SAMPLES} samples, bytes per second; 0
     * before the first (measured whatever the drain target, also 0).
     */
    public double maxRate() {
        double maxRate = 0;
        for (double rate : rates) {
            maxRate = Math.max(maxRate, rate);
        }
        return maxRate;
    }

    /**
     * A measurement: {@code delivered} bytes of this direction's stream reached the peer's QEMU so
     * far (cumulative, from the peer's ACKs); {@code minRttMicros} is the path's lowest RTT (0:
     * unknown).
     */
    public void sample(long nowNanos, long delivered, long minRttMicros) {
        if (lastDelivered >= 0 && nowNanos > lastNanos) {
            double rate = (delivered - lastDelivered) * 1e9 / (nowNanos - lastNanos);
            rates[nextRate] = Math.max(0, rate);
            nextRate = (nextRate + 1) % RATE_SAMPLES;
        }
        lastDelivered = delivered;
        lastNanos = nowNanos;
        double maxRate = maxRate();
        if (drainNanos == 0) {
            return; // the bound stays the maximum; the rate is still measured (see maxRate)
        }
        if (maxRate <= 0) {
            return; // nothing delivered yet: keep the maximum, so the start is not throttled
        }
        double seconds = 2 * minRttMicros / 1e6 + drainNanos / 1e9;
        limit = Math.max(minBytes, Math.min(maxBytes, (long) (maxRate * seconds) + heldBytes));
    }
}
