package io.dwcp.pba;

import java.time.Duration;

/**
 * The last measurement is the prediction at every horizon (persistence). The band is the spread of
 * the change between consecutive measurements.
 */
public final class LastValuePredictor implements GoodputPredictor {
    private final ResidualScale scale = new ResidualScale(10);
    private double last = Double.NaN;
    private long lastTimeNanos;

    @Override
    public void observe(long timeNanos, double bitsPerSecond) {
        if (!Double.isNaN(last)) {
            scale.add(bitsPerSecond - last, Smoothing.seconds(timeNanos - lastTimeNanos));
        }
        last = bitsPerSecond;
        lastTimeNanos = timeNanos;
    }

    @Override
    public Prediction predict(Duration horizon) {
        return Double.isNaN(last) ? Prediction.UNKNOWN : Prediction.withSigma(last, scale.sigma());
    }

    @Override
    public String name() {
        return "last";
    }
}
