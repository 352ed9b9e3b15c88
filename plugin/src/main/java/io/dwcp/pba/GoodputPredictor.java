package io.dwcp.pba;

import java.time.Duration;

/**
 * Predicts a link's goodput from its measured history. The owner feeds each measurement (the
 * goodput over the interval that ended at {@code timeNanos}, times non-decreasing) and asks for
 * the goodput {@code horizon} after the last observation. Not thread-safe: one owner.
 */
public interface GoodputPredictor {
    /** The span a prediction is the mean over, ending at the horizon. */
    Duration WINDOW = Duration.ofSeconds(1);

    /** A measurement: mean goodput in bit/s over the interval that ended at {@code timeNanos}. */
    void observe(long timeNanos, double bitsPerSecond);

    /**
     * The goodput expected at {@code horizon} after the last observation, as the mean over the
     * {@link #WINDOW} that ends there (a single 100 ms bucket of a cellular link is mostly noise);
     * {@link Prediction#UNKNOWN} before any observation.
     */
    Prediction predict(Duration horizon);

    /** Short name, as in the evaluation tables. */
    String name();
}
