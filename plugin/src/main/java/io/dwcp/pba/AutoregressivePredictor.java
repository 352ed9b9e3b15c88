package io.dwcp.pba;

import java.time.Duration;

/**
 * A learned predictor: an autoregressive model of order {@code p} with an intercept, fitted online
 * by recursive least squares with forgetting factor {@code lambda} (memory of about {@code 1 / (1 -
 * lambda)} measurements). Measurements are taken as a regular series (the step is the smoothed
 * interval between them) and scaled by the first non-zero one so the matrix stays well
 * conditioned. With {@code x = [1, y(t-1) .. y(t-p)]}:
 * <pre>
 *   e     = y(t) - theta' x
 *   k     = P x / (lambda + x' P x)
 *   theta = theta + k e
 *   P     = (P - k x' P) / lambda
 * </pre>
 * A prediction {@code h} ahead iterates the model {@code n = h / step} steps on its own forecasts
 * and returns the mean of the last {@code W / step} of them, clamped to {@code [0, 2 max(y)]} over
 * the lags, so an unstable fit cannot run away. Until it has seen {@code WARM_UP} fitted
 * measurements it predicts the mean of its lags. The band is the weighted spread of {@code e}.
 */
public final class AutoregressivePredictor implements GoodputPredictor {
    static final int WARM_UP = 50;
    private static final double INITIAL_COVARIANCE = 100;

    private final int order;
    private final double forgetting;
    private final double[] theta;
    private final double[][] covariance;
    /** Newest first, scaled. */
    private final double[] lags;

    private final ResidualScale scale = new ResidualScale(5);
    private int seen;
    private int fitted;
    private double unit = Double.NaN;
    private double stepSeconds = Double.NaN;
    private long lastTimeNanos;

    public AutoregressivePredictor(int order, double forgetting) {
        if (order < 1 || order > 64) {
            throw new IllegalArgumentException("order must be in [1, 64]: " + order);
        }
        if (!(forgetting > 0.9 && forgetting <= 1)) {
            throw new IllegalArgumentException("forgetting must be in (0.9, 1]: " + forgetting);
        }
        this.order = order;
        this.forgetting = forgetting;
        this.theta = new double[order + 1];
        this.covariance = new double[order + 1][order + 1];
        for (int i = 0; i <= order; i++) {
            covariance[i][i] = INITIAL_COVARIANCE;
        }
        this.lags = new double[order];
    }

    @Override
    public void observe(long timeNanos, double bitsPerSecond) {
        if (Double.isNaN(unit)) {
            if (bitsPerSecond <= 0) {
                return;
            }
            unit = bitsPerSecond;
        } else {
            double elapsed = Smoothing.seconds(timeNanos - lastTimeNanos);
            stepSeconds = Double.isNaN(stepSeconds) ? elapsed : stepSeconds + 0.05 * (elapsed - stepSeconds);
        }
        lastTimeNanos = timeNanos;
        double y = bitsPerSecond / unit;
        if (seen >= order) {
            double[] x = regressors(lags);
            double error = y - dot(theta, x);
            // the band follows the errors of what predict() answers: the lags' mean until warmed up
            double answered = fitted < WARM_UP ? y - lagMean(order) : error;
            scale.add(answered * unit, Double.isNaN(stepSeconds) ? 0.1 : stepSeconds);
            update(x, error);
            fitted++;
        }
        System.arraycopy(lags, 0, lags, 1, order - 1);
        lags[0] = y;
        seen++;
    }

    private double[] regressors(double[] newestFirst) {
        double[] x = new double[order + 1];
        x[0] = 1;
        System.arraycopy(newestFirst, 0, x, 1, order);
        return x;
    }

    private void update(double[] x, double error) {
        int n = order + 1;
        double[] px = new double[n];
        for (int i = 0; i < n; i++) {
            px[i] = dot(covariance[i], x);
        }
        double denominator = forgetting + dot(x, px);
        for (int i = 0; i < n; i++) {
            theta[i] += px[i] / denominator * error;
        }
        // P is symmetric, so x' P = (P x)'
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                covariance[i][j] = (covariance[i][j] - px[i] * px[j] / denominator) / forgetting;
            }
        }
    }

    private static double dot(double[] a, double[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += a[i] * b[i];
        }
        return sum;
    }

    private double lagMean(int count) {
        double sum = 0;
        for (int i = 0; i < count; i++) {
            sum += lags[i];
        }
        return count == 0 ? 0 : sum / count;
    }

    @Override
    public Prediction predict(Duration horizon) {
        if (Double.isNaN(unit)) {
            return Prediction.UNKNOWN;
        }
        int available = Math.min(seen, order);
        double max = 0;
        for (int i = 0; i < available; i++) {
            max = Math.max(max, lags[i]);
        }
        if (fitted < WARM_UP || Double.isNaN(stepSeconds) || stepSeconds <= 0) {
            return Prediction.withSigma(lagMean(available) * unit, scale.sigma());
        }
        int steps = Math.max(1, (int) Math.round(horizon.toNanos() / 1e9 / stepSeconds));
        int window = Math.max(1, Math.min(steps, (int) Math.round(WINDOW.toNanos() / 1e9 / stepSeconds)));
        double ceiling = 2 * max;
        double[] path = lags.clone();
        double sum = 0;
        for (int step = 1; step <= steps; step++) {
            double next = Math.min(ceiling, Math.max(0, dot(theta, regressors(path))));
            System.arraycopy(path, 0, path, 1, order - 1);
            path[0] = next;
            if (step > steps - window) {
                sum += next;
            }
        }
        return Prediction.withSigma(sum / window * unit, scale.sigma());
    }

    @Override
    public String name() {
        return "ar" + order + "-rls";
    }
}
