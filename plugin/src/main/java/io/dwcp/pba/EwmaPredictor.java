package io.dwcp.pba;

import java.time.Duration;

/**
 * Exponentially weighted moving average with a time constant: for a measurement {@code y} that
 * covers {@code dt} seconds, {@code L <- L + a (y - L)}, {@code a = 1 - exp(-dt / tau)}. The
 * prediction is {@code L} at every horizon; the band is the weighted spread of {@code y - L}.
 */
public final class EwmaPredictor implements GoodputPredictor {
    private final double tauSeconds;
    private final ResidualScale scale;
    private double level = Double.NaN;
    private long lastTimeNanos;

    public EwmaPredictor(Duration timeConstant) {
        this.tauSeconds = timeConstant.toNanos() / 1e9;
        if (!(tauSeconds > 0)) {
            throw new IllegalArgumentException("time constant must be > 0: " + timeConstant);
        }
        this.scale = new ResidualScale(Math.max(tauSeconds, 5));
    }

    @Override
    public void observe(long timeNanos, double bitsPerSecond) {
        if (Double.isNaN(level)) {
            level = bitsPerSecond;
        } else {
            double elapsed = Smoothing.seconds(timeNanos - lastTimeNanos);
            scale.add(bitsPerSecond - level, elapsed);
            level += Smoothing.weight(elapsed, tauSeconds) * (bitsPerSecond - level);
        }
        lastTimeNanos = timeNanos;
    }

    @Override
    public Prediction predict(Duration horizon) {
        return Double.isNaN(level) ? Prediction.UNKNOWN : Prediction.withSigma(level, scale.sigma());
    }

    @Override
    public String name() {
        return "ewma" + (tauSeconds >= 1 ? Math.round(tauSeconds) + "s" : Math.round(tauSeconds * 1000) + "ms");
    }
}
