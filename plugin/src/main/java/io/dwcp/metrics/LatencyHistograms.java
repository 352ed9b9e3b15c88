package io.dwcp.metrics;

import io.prometheus.metrics.core.metrics.Histogram;

/**
 * Histograms of durations in seconds, for a distribution that matters (a stream's RTT, how long a
 * frame takes to be acknowledged): classic buckets from 0.1 ms (two hosts on one LAN) to 2 s (an
 * intercontinental path with deep queues), roughly 1-2.5-5 per decade, and {@code +Inf}.
 *
 * <p>Classic buckets only, no exemplars: an observation is a bucket search and three
 * {@code LongAdder}/{@code DoubleAdder} additions, with no allocation (outside a scrape in
 * progress, during which the library buffers observations), so it may be called on an event loop
 * for every frame.
 */
public final class LatencyHistograms {
    private static final double[] UPPER_BOUNDS_SECONDS = {
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2
    };

    private LatencyHistograms() {}

    /** A builder with these buckets; the caller names it (ending in {@code _seconds}) and builds or registers it. */
    public static Histogram.Builder builder() {
        return Histogram.builder()
                .classicOnly()
                .classicUpperBounds(UPPER_BOUNDS_SECONDS)
                .withoutExemplars();
    }

    /** The buckets' upper bounds, in seconds (a copy). */
    public static double[] upperBoundsSeconds() {
        return UPPER_BOUNDS_SECONDS.clone();
    }
}
