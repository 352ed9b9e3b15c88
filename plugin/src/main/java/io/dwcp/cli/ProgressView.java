package io.dwcp.cli;

import static java.util.Objects.requireNonNull;

import io.dwcp.itp.PrecopyModel;
import io.dwcp.pba.GoodputPredictor;
import io.dwcp.pba.GoodputPredictors;
import io.dwcp.pba.Prediction;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * Renders a migration's progress from libvirt's job statistics (guest data as QEMU counts it)
 * and dwcpd's session (bytes on the wire): a one-line bar for a terminal, a plain line for logs,
 * and the final summary. Rates shown are averaged over the last samples (EWMA); not thread-safe.
 *
 * <p>The ETA is PBA's: every sample of the guest data rate feeds the predictor links use ({@link
 * GoodputPredictors#forLinks}), and the time left is {@link PrecopyModel}'s at the rate it
 * predicts, from the data remaining in this pass and the guest's dirty rate (the passes still to
 * come, then the stop-and-copy within QEMU's default 300 ms downtime limit). When the model says the
 * migration does not converge at that rate, there is no ETA and the line says so.
 */
public final class ProgressView {
    private static final int BAR = 20;
    private static final double SMOOTHING = 0.4;
    /** QEMU's default downtime limit, which the ETA's last pass must fit. */
    static final double DOWNTIME_LIMIT_SECONDS = 0.3;

    private static final Duration HORIZON = Duration.ofSeconds(1);

    private final String domain;
    private final String peer;
    private JobStats job = JobStats.NONE;
    private Optional<Dwcpd.Migration> tunnel = Optional.empty();
    private long firstNanos = -1;
    private long lastNanos = -1;
    private long lastData;
    private long lastWire;
    private double dataRate = -1;
    private double wireRate = -1;
    private long maxIteration;
    private final GoodputPredictor rateForecast = GoodputPredictors.forLinks().create();

    public ProgressView(String domain, String peer) {
        this.domain = requireNonNull(domain, "domain is null");
        this.peer = requireNonNull(peer, "peer is null");
    }

    /** A new sample taken at {@code nanos} (System.nanoTime()). */
    public void update(long nanos, JobStats job, Optional<Dwcpd.Migration> tunnel) {
        requireNonNull(job, "job is null");
        requireNonNull(tunnel, "tunnel is null");
        if (firstNanos < 0) {
            firstNanos = nanos;
        }
        long wire = tunnel.map(Dwcpd.Migration::tunnelBytesSent).orElse(0L);
        if (lastNanos >= 0 && nanos > lastNanos) {
            double seconds = (nanos - lastNanos) / 1e9;
            if (job.isActive()) {
                double data = job.memoryBytesPerSecond().isPresent()
                        ? job.memoryBytesPerSecond().getAsLong()
                        : Math.max(0, job.dataProcessed() - lastData) / seconds;
                dataRate = dataRate < 0 ? data : SMOOTHING * data + (1 - SMOOTHING) * dataRate;
                rateForecast.observe(nanos, 8 * data);
            }
            if (tunnel.isPresent()) {
                double wireNow = Math.max(0, wire - lastWire) / seconds;
                wireRate = wireRate < 0 ? wireNow : SMOOTHING * wireNow + (1 - SMOOTHING) * wireRate;
            }
        }
        lastNanos = nanos;
        if (job.isActive()) {
            this.job = job;
            lastData = job.dataProcessed();
            maxIteration = Math.max(maxIteration, job.memoryIteration().orElse(0));
        }
        if (tunnel.isPresent()) {
            this.tunnel = tunnel;
            lastWire = wire;
        }
    }

    /** Percent of the current pass sent: (total - remaining) / total. */
    int percent() {
        if (job.dataTotal() <= 0) {
            return 0;
        }
        long done = Math.max(0, job.dataTotal() - job.dataRemaining());
        return (int) Math.min(100, done * 100 / job.dataTotal());
    }

    OptionalDouble compressionRatio() {
        if (tunnel.isEmpty()) {
            return OptionalDouble.empty();
        }
        Dwcpd.Migration migration = tunnel.get();
        if (migration.compressionRatio().isPresent()) {
            return migration.compressionRatio();
        }
        return migration.tunnelBytesSent() > 0 && migration.qemuBytes() > 0
                ? OptionalDouble.of((double) migration.qemuBytes() / migration.tunnelBytesSent())
                : OptionalDouble.empty();
    }

    /** The guest data rate PBA expects over the next second (bytes/s), or empty before any sample. */
    OptionalDouble predictedRate() {
        Prediction prediction = rateForecast.predict(HORIZON);
        return prediction.known() ? OptionalDouble.of(prediction.bitsPerSecond() / 8) : OptionalDouble.empty();
    }

    /** The pre-copy model at the predicted rate, or empty without a rate. */
    private Optional<PrecopyModel.Estimate> estimate() {
        OptionalDouble rate = predictedRate();
        if (!job.isActive() || rate.isEmpty() || !(rate.getAsDouble() > 0)) {
            return Optional.empty();
        }
        return Optional.of(PrecopyModel.estimate(
                job.dataRemaining(),
                Math.max(job.dataTotal(), job.dataRemaining()),
                job.dirtyBytesPerSecond().orElse(0),
                rate.getAsDouble(),
                DOWNTIME_LIMIT_SECONDS,
                0,
                PrecopyModel.DEFAULT_MAX_ROUNDS));
    }

    /** Seconds until the migration completes at the predicted rate, or empty (no rate yet, or no convergence). */
    OptionalDouble etaSeconds() {
        return estimate()
                .filter(PrecopyModel.Estimate::converges)
                .map(estimate -> OptionalDouble.of(estimate.seconds()))
                .orElse(OptionalDouble.empty());
    }

    /** Whether the model says the migration does not converge at the predicted rate and dirty rate. */
    boolean notConverging() {
        return estimate().map(estimate -> !estimate.converges()).orElse(false);
    }

    /** The terminal line: at most {@code width} characters, no newline. */
    public String bar(int width) {
        int percent = percent();
        int filled = percent * BAR / 100;
        StringBuilder line = new StringBuilder();
        line.append(domain)
                .append(" -> ")
                .append(peer)
                .append(" [")
                .append("#".repeat(filled))
                .append("-".repeat(BAR - filled))
                .append("] ")
                .append(String.format(Locale.ROOT, "%3d%%", percent))
                .append(' ')
                .append(bytes(job.dataProcessed()));
        tunnel.ifPresent(migration -> {
            line.append(" wire ").append(bytes(migration.tunnelBytesSent()));
            compressionRatio().ifPresent(ratio -> line.append(String.format(Locale.ROOT, " x%.2f", ratio)));
        });
        line.append(' ').append(rate(dataRate));
        job.memoryIteration().ifPresent(iteration -> line.append(" iter ").append(iteration));
        job.dirtyBytesPerSecond().ifPresent(dirty -> line.append(" dirty ").append(rate(dirty)));
        line.append(" ETA ")
                .append(
                        etaSeconds().isPresent()
                                ? duration(etaSeconds().getAsDouble())
                                : notConverging() ? "n/c" : "--:--");
        return line.length() > width ? line.substring(0, Math.max(0, width)) : line.toString();
    }

    /** A plain line for a log (stdout is not a terminal). */
    public String line() {
        StringBuilder line = new StringBuilder();
        line.append(String.format(
                Locale.ROOT,
                "[%s] %s -> %s: %d%% of %s, %s sent",
                duration(job.elapsedMillis() / 1000.0),
                domain,
                peer,
                percent(),
                bytes(job.dataTotal()),
                bytes(job.dataProcessed())));
        tunnel.ifPresent(migration -> {
            line.append(", wire ").append(bytes(migration.tunnelBytesSent()));
            compressionRatio().ifPresent(ratio -> line.append(String.format(Locale.ROOT, " (ratio %.2f)", ratio)));
        });
        line.append(", ").append(rate(dataRate));
        job.memoryIteration().ifPresent(iteration -> line.append(", iteration ").append(iteration));
        job.dirtyBytesPerSecond().ifPresent(dirty -> line.append(", dirty ").append(rate(dirty)));
        etaSeconds().ifPresent(eta -> line.append(", ETA ").append(duration(eta)));
        if (notConverging()) {
            line.append(", not converging at this rate");
        }
        return line.toString();
    }

    /** The closing line of a migration that completed. */
    public String summary(long nanos) {
        double seconds = firstNanos < 0 ? 0 : (nanos - firstNanos) / 1e9;
        StringBuilder line = new StringBuilder();
        line.append(String.format(
                Locale.ROOT,
                "Migrated %s to %s in %.1f s: guest data %s",
                domain,
                peer,
                seconds,
                bytes(job.dataProcessed())));
        tunnel.ifPresent(migration -> {
            line.append(", on the wire ").append(bytes(migration.tunnelBytesSent()));
            compressionRatio().ifPresent(ratio -> line.append(String.format(Locale.ROOT, " (ratio %.2f)", ratio)));
            Dwcpd.Reuse reuse = migration.reuse();
            if (reuse.referencedPages() + reuse.deltaPages() > 0) {
                line.append(String.format(
                        Locale.ROOT,
                        "; reused %s the destination held (%d pages as references, %d as deltas)",
                        bytes(4096.0 * (reuse.referencedPages() + reuse.deltaPages())),
                        reuse.referencedPages(),
                        reuse.deltaPages()));
            }
        });
        if (seconds > 0) {
            line.append(", ").append(rate(job.dataProcessed() / seconds)).append(" average");
        }
        if (maxIteration > 0) {
            line.append(", ").append(maxIteration).append(maxIteration == 1 ? " iteration" : " iterations");
        }
        return line.append('.').toString();
    }

    static String bytes(double bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        int unit = 0;
        while (bytes >= 1024 && unit < units.length - 1) {
            bytes /= 1024;
            unit++;
        }
        return unit == 0
                ? String.format(Locale.ROOT, "%.0f B", bytes)
                : String.format(Locale.ROOT, "%.1f %s", bytes, units[unit]);
    }

    static String rate(double bytesPerSecond) {
        return bytesPerSecond < 0 ? "-- B/s" : bytes(bytesPerSecond) + "/s";
    }

    /** m:ss, or h:mm:ss from an hour on. */
    static String duration(double seconds) {
        long total = Math.round(Math.max(0, seconds));
        long hours = total / 3600;
        long minutes = total / 60 % 60;
        long rest = total % 60;
        return hours > 0
                ? String.format(Locale.ROOT, "%d:%02d:%02d", hours, minutes, rest)
                : String.format(Locale.ROOT, "%d:%02d", minutes, rest);
    }
}
