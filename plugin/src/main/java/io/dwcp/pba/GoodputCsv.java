package io.dwcp.pba;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.time.Duration;
import java.util.Arrays;

/**
 * Goodput measurements as recorded by the daemon, one per line:
 * <pre>
 *   file   = header LF *( row LF )
 *   header = "time_ms,bits_per_second"
 *   row    = time-ms "," bits-per-second   ; time-ms: integer ms from any origin, non-decreasing;
 *                                           ; bits-per-second: decimal >= 0, the goodput measured
 *                                           ; over the interval that ended at time-ms
 * </pre>
 * Lines starting with {@code #} and blank lines are ignored. {@link #read} resamples onto a
 * regular {@link GoodputSeries} from the first row's time: a bucket's goodput is the mean of the
 * rows that fall in it; a bucket without a row repeats the previous bucket (the daemon did not
 * sample, the link did not stop).
 */
public final class GoodputCsv {
    public static final String HEADER = "time_ms,bits_per_second";

    private GoodputCsv() {}

    public static GoodputSeries read(Reader reader, Duration bucket) throws IOException {
        long bucketMillis = bucket.toMillis();
        if (bucketMillis <= 0) {
            throw new IllegalArgumentException("bucket must be >= 1 ms: " + bucket);
        }
        BufferedReader lines = new BufferedReader(reader);
        String line;
        int number = 0;
        boolean headerSeen = false;
        long origin = 0;
        long previous = Long.MIN_VALUE;
        double[] sums = new double[256];
        int[] counts = new int[256];
        int buckets = 0;
        while ((line = lines.readLine()) != null) {
            number++;
            String text = line.strip();
            if (text.isEmpty() || text.startsWith("#")) {
                continue;
            }
            if (!headerSeen) {
                if (!text.equals(HEADER)) {
                    throw new TraceFormatException(
                            "line " + number + ": expected header '" + HEADER + "', found '" + text + "'");
                }
                headerSeen = true;
                continue;
            }
            int comma = text.indexOf(',');
            if (comma < 0 || text.indexOf(',', comma + 1) >= 0) {
                throw new TraceFormatException(
                        "line " + number + ": expected 2 fields time_ms,bits_per_second, found '" + text + "'");
            }
            long millis;
            double bitsPerSecond;
            try {
                millis = Long.parseLong(text.substring(0, comma).strip());
                bitsPerSecond = Double.parseDouble(text.substring(comma + 1).strip());
            } catch (NumberFormatException e) {
                throw new TraceFormatException("line " + number + ": not numbers: '" + text + "'");
            }
            if (!(bitsPerSecond >= 0) || Double.isInfinite(bitsPerSecond)) {
                throw new TraceFormatException(
                        "line " + number + ": bits_per_second must be finite and >= 0, found " + bitsPerSecond);
            }
            if (previous == Long.MIN_VALUE) {
                origin = millis;
            } else if (millis < previous) {
                throw new TraceFormatException(
                        "line " + number + ": time " + millis + " ms is before the previous " + previous + " ms");
            }
            previous = millis;
            int index = Math.toIntExact((millis - origin) / bucketMillis);
            if (index >= sums.length) {
                int length = Math.max(sums.length * 2, index + 1);
                sums = Arrays.copyOf(sums, length);
                counts = Arrays.copyOf(counts, length);
            }
            sums[index] += bitsPerSecond;
            counts[index]++;
            buckets = Math.max(buckets, index + 1);
        }
        if (!headerSeen) {
            throw new TraceFormatException("no header '" + HEADER + "'");
        }
        if (buckets == 0) {
            throw new TraceFormatException("no measurement after the header");
        }
        double[] series = new double[buckets];
        for (int i = 0; i < buckets; i++) {
            series[i] = counts[i] > 0 ? sums[i] / counts[i] : series[i - 1];
        }
        return new GoodputSeries(bucket, series);
    }

    /** Writes {@code series} in this format, one row at the end of each bucket. */
    public static void write(GoodputSeries series, Writer writer) throws IOException {
        writer.write(HEADER);
        writer.write('\n');
        long bucketMillis = series.bucket().toMillis();
        for (int i = 0; i < series.size(); i++) {
            writer.write((i + 1) * bucketMillis + "," + series.bitsPerSecond(i) + "\n");
        }
    }
}
