package io.dwcp.pba;

import java.time.Duration;

/**
 * Holt's double exponential smoothing with a damped trend, in continuous time so irregular
 * measurement intervals are weighed by what they cover. Level {@code L} (bit/s) and trend {@code
 * T} (bit/s per second); the trend decays with time constant {@code tauD}, so its contribution
 * over {@code h} seconds is {@code D(h) = tauD (1 - exp(-h / tauD))} (bounded: the prediction does
 * not run away at long horizons). For a measurement {@code y} after {@code dt} seconds:
 * <pre>
 *   f  = L + T D(dt)                                    (one-step forecast)
 *   L' = f + a (y - f)                                  a = 1 - exp(-dt / tauL)
 *   T' = phi T + b ((L' - L) / dt - phi T)              b = 1 - exp(-dt / tauT), phi = exp(-dt / tauD)
 *   prediction(h) = mean over [h - W, h] of L' + T' D(s)
 * </pre>
 * The band is the weighted spread of {@code y - f}. No seasonal term (Holt-Winters): the traces
 * have no period to learn at these horizons.
 */
public final class HoltPredictor implements GoodputPredictor {
    private final double levelTau;
    private final double trendTau;
    private final double dampingTau;
    private final ResidualScale scale;
    private double level = Double.NaN;
    private double trend;
    private long lastTimeNanos;

    public HoltPredictor(Duration levelTimeConstant, Duration trendTimeConstant, Duration dampingTimeConstant) {
        this.levelTau = positiveSeconds(levelTimeConstant, "level time constant");
        this.trendTau = positiveSeconds(trendTimeConstant, "trend time constant");
        this.dampingTau = positiveSeconds(dampingTimeConstant, "damping time constant");
        this.scale = new ResidualScale(Math.max(levelTau, 5));
    }

    private static double positiveSeconds(Duration duration, String what) {
        double seconds = duration.toNanos() / 1e9;
        if (!(seconds > 0)) {
            throw new IllegalArgumentException(what + " must be > 0: " + duration);
        }
        return seconds;
    }

    @Override
    public void observe(long timeNanos, double bitsPerSecond) {
        if (Double.isNaN(level)) {
            level = bitsPerSecond;
            lastTimeNanos = timeNanos;
            return;
        }
        double elapsed = Smoothing.seconds(timeNanos - lastTimeNanos);
        if (elapsed <= 0) {
            level += 0.5 * (bitsPerSecond - level);
            return;
        }
        double forecast = level + trend * damped(elapsed);
        scale.add(bitsPerSecond - forecast, elapsed);
        double newLevel = forecast + Smoothing.weight(elapsed, levelTau) * (bitsPerSecond - forecast);
        double decayedTrend = trend * Math.exp(-elapsed / dampingTau);
        trend = decayedTrend + Smoothing.weight(elapsed, trendTau) * ((newLevel - level) / elapsed - decayedTrend);
        level = newLevel;
        lastTimeNanos = timeNanos;
    }

    private double damped(double seconds) {
        return -dampingTau * Math.expm1(-seconds / dampingTau);
    }

    @Override
    public Prediction predict(Duration horizon) {
        if (Double.isNaN(level)) {
            return Prediction.UNKNOWN;
        }
        double end = horizon.toNanos() / 1e9;
        double start = Math.max(0, end - WINDOW.toNanos() / 1e9);
        // mean of D(s) over [start, end], by the integral of D
        double meanDamped =
                end > start ? (integralOfDamped(end) - integralOfDamped(start)) / (end - start) : damped(end);
        return Prediction.withSigma(level + trend * meanDamped, scale.sigma());
    }

    /** The integral of D from 0 to s: {@code tauD s - tauD^2 (1 - exp(-s / tauD))}. */
    private double integralOfDamped(double seconds) {
        return dampingTau * seconds - dampingTau * damped(seconds);
    }

    @Override
    public String name() {
        return "holt";
    }
}
