package io.dwcp.amst;

/**
 * Paces the reading of QEMU's stream at a rate a little above what the peer's QEMU is measured to
 * receive, so that QEMU's own bandwidth estimate is true. QEMU decides when to switch over from the
 * bytes it wrote in its last interval of about 100 ms: remaining bytes under that rate times its
 * downtime limit, and it stops the VM. Through the tunnel it writes in bursts (the raw window opens
 * by a checkpoint's worth at a time, an ACK frees 1 MiB): on S2 its estimate swung between 13 and
 * 800 Mbit/s while the tunnel delivered a steady 290, and a switch-over decided at the top of a
 * swing left four times as much for the VM's pause as QEMU had planned (downtimes of 1.3-2.0 s
 * against its limit of 300 ms).
 *
 * <p>A token bucket: reading may go on while the bytes read stay within the rate times the time
 * elapsed plus a burst of {@link #BURST_NANOS} at the rate; beyond, it pauses until the tokens come
 * back. No rate (before the first measurement, or pacing switched off) means no pacing: the start
 * of a migration is never held back.
 *
 * <p>Not thread-safe: owned by its session's event loop.
 */
public final class ReadPacer {
    /** The most the bucket holds: this long at the rate. */
    public static final long BURST_NANOS = 10_000_000L;

    private double bytesPerSecond;
    private double tokens;
    private long lastNanos;

    /** The pace, bytes per second; 0 or less: no pacing from now on. */
    public void pace(double bytesPerSecond, long nowNanos) {
        refill(nowNanos);
        if (bytesPerSecond <= 0 || Double.isNaN(bytesPerSecond)) {
            this.bytesPerSecond = 0;
            tokens = 0;
            return;
        }
        if (this.bytesPerSecond == 0) {
            tokens = burst(bytesPerSecond); // pacing starts with a full bucket
        }
        this.bytesPerSecond = bytesPerSecond;
        tokens = Math.min(tokens, burst(bytesPerSecond));
    }

    /** The pace in force, bytes per second; 0 when not pacing. */
    public double pace() {
        return bytesPerSecond;
    }

    /** {@code bytes} were read from QEMU. */
    public void read(long bytes, long nowNanos) {
        if (bytesPerSecond == 0) {
            return;
        }
        refill(nowNanos);
        tokens -= bytes;
    }

    /** How long reading must pause before it may go on: 0 when it may go on now. */
    public long waitNanos(long nowNanos) {
        if (bytesPerSecond == 0) {
            return 0;
        }
        refill(nowNanos);
        return tokens >= 0 ? 0 : Math.max(1, (long) Math.ceil(-tokens / bytesPerSecond * 1e9));
    }

    private void refill(long nowNanos) {
        if (bytesPerSecond > 0 && nowNanos > lastNanos) {
            tokens = Math.min(burst(bytesPerSecond), tokens + bytesPerSecond * (nowNanos - lastNanos) / 1e9);
        }
        lastNanos = Math.max(lastNanos, nowNanos);
    }

    private static double burst(double bytesPerSecond) {
        return bytesPerSecond * BURST_NANOS / 1e9;
    }
}
