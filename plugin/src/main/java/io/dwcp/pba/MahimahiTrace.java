package io.dwcp.pba;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.time.Duration;

/**
 * Reads a mahimahi link trace into a {@link GoodputSeries}. Grammar (ravinet/mahimahi, {@code
 * traces/}):
 * <pre>
 *   trace = *( time-ms LF )        ; non-decreasing integers, milliseconds from the start
 * </pre>
 * Each line is one opportunity to deliver one 1500-byte packet; a time repeated {@code k} times
 * is {@code k} packets in that millisecond. Bucket {@code i} carries {@code 12,000 bit x packets
 * in [i * bucket, (i + 1) * bucket)}; the series ends with the bucket of the last line, so a
 * trailing partial bucket counts as a full one (at most one bucket of bias).
 */
public final class MahimahiTrace {
    public static final int PACKET_BITS = 1500 * 8;

    private MahimahiTrace() {}

    public static GoodputSeries read(Reader reader, Duration bucket) throws IOException {
        long bucketMillis = bucket.toMillis();
        if (bucketMillis <= 0 || bucket.toNanos() % 1_000_000 != 0) {
            throw new IllegalArgumentException("bucket must be a whole number of milliseconds > 0: " + bucket);
        }
        long[] packets = new long[1024];
        int buckets = 0;
        long previous = 0;
        BufferedReader lines = new BufferedReader(reader);
        String line;
        int number = 0;
        while ((line = lines.readLine()) != null) {
            number++;
            String text = line.strip();
            if (text.isEmpty()) {
                continue;
            }
            long millis;
            try {
                millis = Long.parseLong(text);
            } catch (NumberFormatException e) {
                throw new TraceFormatException("line " + number + ": expected a time in ms, found '" + text + "'");
            }
            if (millis < previous) {
                throw new TraceFormatException(
                        "line " + number + ": time " + millis + " ms is before the previous " + previous + " ms");
            }
            previous = millis;
            int index = Math.toIntExact(millis / bucketMillis);
            if (index >= packets.length) {
                long[] larger = new long[Math.max(packets.length * 2, index + 1)];
                System.arraycopy(packets, 0, larger, 0, packets.length);
                packets = larger;
            }
            packets[index]++;
            buckets = Math.max(buckets, index + 1);
        }
        if (buckets == 0) {
            throw new TraceFormatException("empty trace: no delivery opportunity");
        }
        double seconds = bucketMillis / 1000.0;
        double[] bitsPerSecond = new double[buckets];
        for (int i = 0; i < buckets; i++) {
            bitsPerSecond[i] = packets[i] * (double) PACKET_BITS / seconds;
        }
        return new GoodputSeries(bucket, bitsPerSecond);
    }
}
