package io.dwcp.itp;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * The path from the evacuated host to one destination: its (predicted) goodput, its RTT, and the
 * most one migration can use of it ({@code perMigrationBytesPerSecond}: one migration's streams,
 * window and CPU limit it; that is why concurrency pays at all).
 */
public record Link(String destination, double bytesPerSecond, Duration rtt, double perMigrationBytesPerSecond) {
    public Link {
        requireNonNull(destination, "destination is null");
        requireNonNull(rtt, "rtt is null");
        if (!(bytesPerSecond >= 0) || !(perMigrationBytesPerSecond > 0) || rtt.isNegative()) {
            throw new IllegalArgumentException(destination + ": need rate >= 0, per-migration rate > 0, RTT >= 0: "
                    + bytesPerSecond + ", " + perMigrationBytesPerSecond + ", " + rtt);
        }
    }

    public double rttSeconds() {
        return rtt.toNanos() / 1e9;
    }

    public Link withBytesPerSecond(double estimate) {
        return new Link(destination, estimate, rtt, perMigrationBytesPerSecond);
    }
}
