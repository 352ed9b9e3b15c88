package io.dwcp.testbed.wan;

import static java.util.Objects.requireNonNull;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A link capacity trace in mahimahi's format: one integer per line, the millisecond (from the
 * start) of one delivery opportunity for {@value #OPPORTUNITY_BYTES} bytes; several lines may
 * name the same millisecond. The trace repeats with a period of its last timestamp. An opportunity
 * that finds the queue empty is lost; a packet may use the rest of one opportunity and the
 * beginning of the next (as mahimahi's link queue does).
 */
public record RateTrace(Path source, long[] opportunityMillis, long periodMillis) {
    public static final int OPPORTUNITY_BYTES = 1500;

    public RateTrace {
        requireNonNull(opportunityMillis, "opportunityMillis is null");
        if (opportunityMillis.length == 0 || periodMillis <= 0) {
            throw new IllegalArgumentException("empty trace " + source);
        }
    }

    public static RateTrace load(Path file) {
        long[] times = new long[1024];
        int count = 0;
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII)) {
            long previous = 0;
            int lineNumber = 0;
            for (String line; (line = reader.readLine()) != null; ) {
                lineNumber++;
                String trimmed = line.strip();
                if (trimmed.isEmpty()) {
                    continue;
                }
                long value;
                try {
                    value = Long.parseLong(trimmed);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(
                            file + ":" + lineNumber + ": not a millisecond count: '" + trimmed + "'");
                }
                if (value < previous) {
                    throw new IllegalArgumentException(
                            file + ":" + lineNumber + ": " + value + " goes back in time (after " + previous + ")");
                }
                previous = value;
                if (count == times.length) {
                    times = Arrays.copyOf(times, count * 2);
                }
                times[count++] = value;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read rate trace " + file, e);
        }
        if (count == 0) {
            throw new IllegalArgumentException("rate trace " + file + " is empty");
        }
        long period = Math.max(1, times[count - 1]);
        return new RateTrace(file, Arrays.copyOf(times, count), period);
    }

    /** The trace's own mean rate, in bit/s. */
    public double meanBitsPerSecond() {
        return opportunityMillis.length * (double) OPPORTUNITY_BYTES * 8 * 1000 / periodMillis;
    }
}
