package io.dwcp.pba;

import java.time.Duration;
import java.util.ArrayDeque;

/**
 * The mean of the measurements of the last {@code window} (by time), at every horizon. The band
 * is their standard deviation.
 */
public final class SlidingMeanPredictor implements GoodputPredictor {
    private record Sample(long timeNanos, double bitsPerSecond) {}

    private final long windowNanos;
    private final ArrayDeque<Sample> samples = new ArrayDeque<>();
    private double sum;
    private double sumOfSquares;

    public SlidingMeanPredictor(Duration window) {
        if (window.isNegative() || window.isZero()) {
            throw new IllegalArgumentException("window must be > 0: " + window);
        }
        this.windowNanos = window.toNanos();
    }

    @Override
    public void observe(long timeNanos, double bitsPerSecond) {
        samples.addLast(new Sample(timeNanos, bitsPerSecond));
        sum += bitsPerSecond;
        sumOfSquares += bitsPerSecond * bitsPerSecond;
        while (samples.peekFirst().timeNanos() <= timeNanos - windowNanos) {
            Sample old = samples.removeFirst();
            sum -= old.bitsPerSecond();
            sumOfSquares -= old.bitsPerSecond() * old.bitsPerSecond();
        }
    }

    @Override
    public Prediction predict(Duration horizon) {
        if (samples.isEmpty()) {
            return Prediction.UNKNOWN;
        }
        int n = samples.size();
        double mean = sum / n;
        double variance = Math.max(0, sumOfSquares / n - mean * mean);
        return Prediction.withSigma(mean, Math.sqrt(variance));
    }

    @Override
    public String name() {
        return "mean" + Duration.ofNanos(windowNanos).toSeconds() + "s";
    }
}
