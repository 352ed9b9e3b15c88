package io.dwcp.pba;

/** Time-aware smoothing weights, so irregular measurement intervals weigh what they cover. */
final class Smoothing {
    private Smoothing() {}

    /** {@code 1 - exp(-dt / tau)}: the weight of a new sample that covers {@code dt} seconds. */
    static double weight(double elapsedSeconds, double tauSeconds) {
        if (elapsedSeconds <= 0) {
            return 0;
        }
        return -Math.expm1(-elapsedSeconds / tauSeconds);
    }

    static double seconds(long nanos) {
        return nanos / 1e9;
    }
}
