package io.dwcp.codec;

/**
 * What the session measured of its link.
 *
 * @param minRttMicros the path's lowest RTT: the lowest RTT sample of the session's streams so far
 *     (TCP_INFO's tcpi_min_rtt), or their lowest smoothed RTT where the kernel gives none; 0 if none yet
 * @param bytesPerSecond the link's estimated rate (0 if unknown)
 * @param codecHeldNanos how long the session has not read QEMU so far because its codec lane was
 *     behind (cumulative since the session started), -1 if unknown: while it grows, the encoder
 *     limits how fast QEMU can write
 */
public record LinkMeasurement(long minRttMicros, double bytesPerSecond, long codecHeldNanos) {
    /** Without the codec lane's figure. */
    public LinkMeasurement(long minRttMicros, double bytesPerSecond) {
        this(minRttMicros, bytesPerSecond, -1);
    }
}
