package io.dwcp.transport;

/**
 * How long bytes of QEMU's stream take from being read at the source to being written into the
 * peer's QEMU (the peer's ACKs report the cumulative bytes delivered): the tunnel's own delay,
 * which holds the link's round trip and also the encoding, the digest checkpoints the receiver
 * waits for and the destination QEMU's reading. The lowest such delay over an interval is the
 * pipeline's propagation delay as {@link RawWindow} needs it; the link's RTT alone is smaller, and
 * a window sized from it keeps the pipeline from ever filling.
 *
 * <p>Reads are recorded at most once per {@link #RESOLUTION_NANOS} (the latest offset of that
 * period), in a ring of {@link #CAPACITY} marks; when the ring is full new marks are skipped until
 * deliveries free some, so a sample is late rather than wrong. Not thread-safe: owned by its
 * session's event loop.
 */
public final class DeliveryClock
{
    public static final long RESOLUTION_NANOS = 1_000_000;
    static final int CAPACITY = 8192;

    private final long[] offsets = new long[CAPACITY];
    private final long[] times = new long[CAPACITY];
    private int head;
    private int size;
    private long intervalMinNanos = Long.MAX_VALUE;

    /** {@code cumulativeRead} bytes of QEMU's stream were read by {@code nowNanos}. */
    public void read(long cumulativeRead, long nowNanos)
    {
        if (size > 0) {
            int last = (head + size - 1) % CAPACITY;
            if (nowNanos - times[last] < RESOLUTION_NANOS) {
                offsets[last] = cumulativeRead;
                return;
            }
        }
        if (size == CAPACITY) {
            return;
        }
        int slot = (head + size) % CAPACITY;
        offsets[slot] = cumulativeRead;
        times[slot] = nowNanos;
        size++;
    }

    /** The peer reports {@code cumulativeDelivered} bytes written into its QEMU, known at {@code nowNanos}. */
    public void delivered(long cumulativeDelivered, long nowNanos)
    {
        long readAt = -1;
        while (size > 0 && offsets[head] <= cumulativeDelivered) {
            readAt = times[head];
            head = (head + 1) % CAPACITY;
            size--;
        }
        if (readAt >= 0) {
            intervalMinNanos = Math.min(intervalMinNanos, nowNanos - readAt);
        }
    }

    /** The lowest delay seen since the last call, in microseconds (0 when nothing was delivered); starts a new interval. */
    public long takeIntervalMinMicros()
    {
        long min = intervalMinNanos;
        intervalMinNanos = Long.MAX_VALUE;
        return min == Long.MAX_VALUE ? 0 : min / 1000;
    }
}
