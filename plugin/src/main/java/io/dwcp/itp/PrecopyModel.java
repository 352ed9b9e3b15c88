package io.dwcp.itp;

/**
 * The cost of one pre-copy live migration at a constant rate {@code r} (bytes/s), for a guest of
 * {@code M} bytes that dirties {@code d} bytes/s, with downtime limit {@code L} and RTT {@code
 * rtt}. Round 0 sends {@code D0} (all of memory, less a baseline held at the destination); each
 * later round sends what the guest dirtied during the previous one:
 * <pre>
 *   T_k     = D_k / r
 *   D_(k+1) = min(M, d T_k)          (= D0 (d/r)^(k+1) while below M)
 * </pre>
 * After round {@code k}, if the dirty set can be sent within the limit, {@code D_(k+1) / r <= L},
 * the guest is paused and it is sent (stop-and-copy):
 * <pre>
 *   downtime = D_(k+1) / r + rtt
 *   time     = T_0 + ... + T_k + downtime
 *   sent     = D_0 + ... + D_(k+1)  (about D0 / (1 - d/r))
 * </pre>
 * If {@code d >= r} the dirty set never shrinks and the migration does not converge; with {@code
 * d < r} it converges after about {@code log(L r / D0) / log(d / r)} rounds, unless that exceeds
 * {@code maxRounds}, after which dwcp cancels it (the VM stays on the source).
 */
public final class PrecopyModel {
    /** The rounds after which a migration that has not converged is cancelled. */
    public static final int DEFAULT_MAX_ROUNDS = 30;

    private PrecopyModel() {}

    /** The outcome at a constant rate; on no convergence, time and bytes until the cancellation. */
    public record Estimate(boolean converges, int rounds, double bytesSent, double seconds, double downtimeSeconds) {}

    public static Estimate estimate(
            double firstRoundBytes,
            double memoryBytes,
            double dirtyBytesPerSecond,
            double bytesPerSecond,
            double downtimeLimitSeconds,
            double rttSeconds,
            int maxRounds) {
        if (!(bytesPerSecond > 0)) {
            return new Estimate(false, 0, 0, Double.POSITIVE_INFINITY, Double.NaN);
        }
        double round = firstRoundBytes;
        double sent = 0;
        double seconds = 0;
        for (int k = 0; k < maxRounds; k++) {
            double duration = round / bytesPerSecond;
            sent += round;
            seconds += duration;
            double dirty = Math.min(memoryBytes, dirtyBytesPerSecond * duration);
            if (dirty / bytesPerSecond <= downtimeLimitSeconds) {
                double downtime = dirty / bytesPerSecond + rttSeconds;
                return new Estimate(true, k + 1, sent + dirty, seconds + downtime, downtime);
            }
            round = dirty;
        }
        return new Estimate(false, maxRounds, sent, seconds, Double.NaN);
    }

    /** Whether a rate can ever converge: the guest must dirty slower than the rate. */
    public static boolean canConverge(double dirtyBytesPerSecond, double bytesPerSecond) {
        return dirtyBytesPerSecond < bytesPerSecond;
    }
}
