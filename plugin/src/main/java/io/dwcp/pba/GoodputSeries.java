package io.dwcp.pba;

import java.time.Duration;
import java.util.Arrays;

/**
 * Goodput over consecutive buckets of equal length: {@code bitsPerSecond[i]} is the mean over
 * {@code [i * bucket, (i + 1) * bucket)}. Immutable.
 */
public final class GoodputSeries {
    private final Duration bucket;
    private final double[] bitsPerSecond;

    public GoodputSeries(Duration bucket, double[] bitsPerSecond) {
        if (bucket.isNegative() || bucket.isZero()) {
            throw new IllegalArgumentException("bucket must be > 0: " + bucket);
        }
        for (int i = 0; i < bitsPerSecond.length; i++) {
            if (!(bitsPerSecond[i] >= 0) || Double.isInfinite(bitsPerSecond[i])) {
                throw new IllegalArgumentException(
                        "goodput of bucket " + i + " must be finite and >= 0: " + bitsPerSecond[i]);
            }
        }
        this.bucket = bucket;
        this.bitsPerSecond = bitsPerSecond.clone();
    }

    public Duration bucket() {
        return bucket;
    }

    public int size() {
        return bitsPerSecond.length;
    }

    public Duration duration() {
        return bucket.multipliedBy(bitsPerSecond.length);
    }

    public double bitsPerSecond(int index) {
        return bitsPerSecond[index];
    }

    /** The mean over buckets {@code [from, to)}. */
    public double mean(int from, int to) {
        if (from < 0 || to > bitsPerSecond.length || from >= to) {
            throw new IllegalArgumentException(
                    "need 0 <= from < to <= " + bitsPerSecond.length + ": " + from + ", " + to);
        }
        double sum = 0;
        for (int i = from; i < to; i++) {
            sum += bitsPerSecond[i];
        }
        return sum / (to - from);
    }

    public double mean() {
        return bitsPerSecond.length == 0 ? 0 : mean(0, bitsPerSecond.length);
    }

    /** Every bucket times {@code factor} (a cellular trace as a WAN path: e.g. x30). */
    public GoodputSeries scaled(double factor) {
        if (!(factor > 0) || Double.isInfinite(factor)) {
            throw new IllegalArgumentException("factor must be finite and > 0: " + factor);
        }
        return new GoodputSeries(
                bucket, Arrays.stream(bitsPerSecond).map(v -> v * factor).toArray());
    }

    /** The number of buckets that make up {@code span} (at least 1). */
    public int buckets(Duration span) {
        return (int) Math.max(1, Math.round((double) span.toNanos() / bucket.toNanos()));
    }

    public double[] toArray() {
        return bitsPerSecond.clone();
    }
}
