package io.dwcp.pba;

/**
 * A predicted goodput (bit/s) with an uncertainty band: {@code lower <= bitsPerSecond <= upper},
 * meant to hold the truth about 80% of the time (measured as "band" by {@link
 * PredictorEvaluation}). {@link #UNKNOWN} before any observation.
 */
public record Prediction(double bitsPerSecond, double lowerBitsPerSecond, double upperBitsPerSecond) {
    /** Nothing observed yet. */
    public static final Prediction UNKNOWN = new Prediction(Double.NaN, Double.NaN, Double.NaN);

    /** z of the two-sided 80% interval of a normal distribution. */
    static final double Z80 = 1.2816;

    public Prediction {
        if (!Double.isNaN(bitsPerSecond)
                && !(lowerBitsPerSecond <= bitsPerSecond && bitsPerSecond <= upperBitsPerSecond)) {
            throw new IllegalArgumentException("need lower <= value <= upper: " + lowerBitsPerSecond + ", "
                    + bitsPerSecond + ", " + upperBitsPerSecond);
        }
    }

    /** {@code value +- Z80 * sigma}, value and lower bound at least 0. */
    static Prediction withSigma(double value, double sigma) {
        double clamped = Math.max(0, value);
        double half = Z80 * Math.max(0, sigma);
        return new Prediction(clamped, Math.max(0, clamped - half), clamped + half);
    }

    public boolean known() {
        return !Double.isNaN(bitsPerSecond);
    }

    public boolean contains(double bitsPerSecond) {
        return lowerBitsPerSecond <= bitsPerSecond && bitsPerSecond <= upperBitsPerSecond;
    }
}
