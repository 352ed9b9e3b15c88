package io.dwcp.pba;

/**
 * The spread of observations around a predictor's level, for its band: an exponentially weighted
 * mean of squared residuals, {@code v <- v + a (r^2 - v)} with {@code a = 1 - exp(-dt / tau)}, and
 * {@code sigma = sqrt(v)}. The band does not widen with the horizon: goodput is mean-reverting at
 * the horizons of interest (seconds), so the spread of the series bounds the error.
 */
final class ResidualScale {
    private final double tauSeconds;
    private double variance = Double.NaN;

    ResidualScale(double tauSeconds) {
        if (!(tauSeconds > 0)) {
            throw new IllegalArgumentException("tau must be > 0 s: " + tauSeconds);
        }
        this.tauSeconds = tauSeconds;
    }

    void add(double residual, double elapsedSeconds) {
        double squared = residual * residual;
        if (Double.isNaN(variance)) {
            variance = squared;
            return;
        }
        variance += Smoothing.weight(elapsedSeconds, tauSeconds) * (squared - variance);
    }

    double sigma() {
        return Double.isNaN(variance) ? 0 : Math.sqrt(variance);
    }
}
