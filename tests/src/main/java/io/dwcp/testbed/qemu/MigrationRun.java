package io.dwcp.testbed.qemu;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.logging.Logger;

/**
 * Drives one live migration between two started VMs and measures it the same way whatever carries
 * the stream (QEMU's own TCP, or a tunnel in between): times come from QEMU's event timestamps
 * (the source's STOP, the destination's RESUME) on the host clock both share, and bytes from the
 * network, not from QEMU's counters.
 */
public final class MigrationRun {
    private static final Logger LOG = Logger.getLogger(MigrationRun.class.getName());
    private static final Duration POLL = Duration.ofMillis(100);
    private static final Duration RESUME_GRACE = Duration.ofSeconds(60);

    /**
     * Bytes on the wire, read before and after a migration. A migration's count starts from its
     * origin: the counters as {@code migrate} is sent, or earlier when the tunnel already sent
     * bytes for it (spare streams primed once the migration was announced).
     */
    public interface WireCounter {
        long forwardBytes();

        long reverseBytes();

        /** Where the migration's forward count starts; by default the counter as {@code migrate} is sent. */
        default long forwardOrigin() {
            return forwardBytes();
        }

        /** Where the migration's reverse count starts; by default the counter as {@code migrate} is sent. */
        default long reverseOrigin() {
            return reverseBytes();
        }

        static WireCounter of(LongSupplier forward, LongSupplier reverse) {
            return new Counters(forward, reverse, -1, -1);
        }

        /** Counts from the counters' values now (e.g. when the migration is announced), not from {@code migrate}. */
        static WireCounter since(LongSupplier forward, LongSupplier reverse) {
            return new Counters(forward, reverse, forward.getAsLong(), reverse.getAsLong());
        }
    }

    /** Live counters; an origin below 0 is read at {@code migrate}. */
    private record Counters(LongSupplier forward, LongSupplier reverse, long forwardStart, long reverseStart)
            implements WireCounter {
        @Override
        public long forwardBytes() {
            return forward.getAsLong();
        }

        @Override
        public long reverseBytes() {
            return reverse.getAsLong();
        }

        @Override
        public long forwardOrigin() {
            return forwardStart < 0 ? forwardBytes() : forwardStart;
        }

        @Override
        public long reverseOrigin() {
            return reverseStart < 0 ? reverseBytes() : reverseStart;
        }
    }

    /** The workload's own integrity verdict on a running VM. */
    public interface GuestCheck {
        Check check(QemuVm vm);
    }

    public record Check(boolean intact, String detail) {}

    /** Reports progress while a migration runs: a line every few seconds. */
    public interface Progress {
        void update(String status, long elapsedMs, long transferredBytes, long remainingBytes, long iterations);
    }

    private MigrationRun() {}

    /**
     * Migrates {@code source} to {@code destination}. Both must already be configured for the mode.
     *
     * @param listenUri  what the destination QEMU listens on ({@code migrate-incoming})
     * @param connectUri what the source QEMU connects to ({@code migrate})
     * @param timeLimit  a migration still running then is cancelled and reported as not converged
     */
    public static MigrationResult run(
            QemuVm source,
            QemuVm destination,
            String listenUri,
            String connectUri,
            Duration timeLimit,
            WireCounter wire,
            GuestCheck guestCheck,
            Progress progress) {
        requireNonNull(wire, "wire is null");
        requireNonNull(guestCheck, "guestCheck is null");
        Qmp src = source.qmp();
        Qmp dst = destination.qmp();
        drainEvents(src);
        drainEvents(dst);

        dst.execute("migrate-incoming", Map.of("uri", listenUri));
        long forward0 = wire.forwardOrigin();
        long reverse0 = wire.reverseOrigin();
        long startMillis = System.currentTimeMillis();
        long startNanos = System.nanoTime();
        src.execute("migrate", Map.of("uri", connectUri));

        long stopAt = -1;
        long resumeAt = -1;
        long lastReport = 0;
        String status = "setup";
        JsonNode info = null;
        double maxMbps = -1;
        double switchoverMbps = -1;
        long switchoverRemaining = -1;
        while (true) {
            sleep(POLL);
            stopAt = stopAt >= 0 ? stopAt : eventTime(src, "STOP");
            resumeAt = resumeAt >= 0 ? resumeAt : eventTime(dst, "RESUME");
            info = src.execute("query-migrate");
            status = info.path("status").asText();
            if (status.equals("active") && stopAt < 0) {
                // the last poll before the VM stopped: what QEMU decided the switch-over on
                switchoverMbps = info.path("ram").path("mbps").asDouble(-1);
                switchoverRemaining = info.path("ram").path("remaining").asLong(-1);
                maxMbps = Math.max(maxMbps, switchoverMbps);
            }
            long elapsedMs = (System.nanoTime() - startNanos) / 1_000_000;
            if (progress != null && elapsedMs - lastReport >= 5000) {
                lastReport = elapsedMs;
                progress.update(
                        status,
                        elapsedMs,
                        info.path("ram").path("transferred").asLong(),
                        info.path("ram").path("remaining").asLong(),
                        info.path("ram").path("dirty-sync-count").asLong());
            }
            if (status.equals("completed") || status.equals("failed") || status.equals("cancelled")) {
                break;
            }
            if (elapsedMs > timeLimit.toMillis()) {
                return cancel(source, info, wire, forward0, reverse0, startNanos, timeLimit, guestCheck);
            }
        }
        if (!status.equals("completed")) {
            String error = info.path("error-desc").asText("QEMU reported " + status);
            return notCompleted(
                    MigrationResult.FAILED,
                    source,
                    info,
                    wire,
                    forward0,
                    reverse0,
                    startNanos,
                    "source: " + error,
                    guestCheck);
        }
        long deadline = System.nanoTime() + RESUME_GRACE.toNanos();
        while (resumeAt < 0 && System.nanoTime() < deadline) {
            sleep(POLL);
            resumeAt = eventTime(dst, "RESUME");
            if (!destination.isAlive()) {
                break;
            }
        }
        stopAt = stopAt >= 0 ? stopAt : eventTime(src, "STOP");
        if (resumeAt < 0) {
            String detail = destination.isAlive()
                    ? "destination did not resume within " + RESUME_GRACE.toSeconds() + " s of the source completing"
                    : "destination QEMU exited: " + destination.stderr().strip();
            return notCompleted(
                    MigrationResult.FAILED, source, info, wire, forward0, reverse0, startNanos, detail, guestCheck);
        }
        long forward = settledForward(wire) - forward0;
        long reverse = wire.reverseBytes() - reverse0;
        Check verdict = guestCheck.check(destination);
        JsonNode ram = info.path("ram");
        return new MigrationResult(
                MigrationResult.COMPLETED,
                resumeAt - startMillis,
                stopAt >= 0 ? resumeAt - stopAt : -1,
                info.path("downtime").asLong(-1),
                forward,
                reverse,
                guestRam(source),
                ram.path("normal").asLong(),
                zeroPages(ram),
                ram.path("dirty-sync-count").asLong(),
                verdict.intact(),
                verdict.detail(),
                resumeAt - startMillis,
                0,
                new MigrationResult.QemuEstimate(maxMbps, switchoverMbps, switchoverRemaining, stopAt));
    }

    private static MigrationResult cancel(
            QemuVm source,
            JsonNode info,
            WireCounter wire,
            long forward0,
            long reverse0,
            long startNanos,
            Duration timeLimit,
            GuestCheck guestCheck) {
        LOG.info(source.name() + ": not converged after " + timeLimit.toSeconds() + " s, cancelling");
        source.qmp().execute("migrate_cancel");
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        JsonNode last = info;
        while (System.nanoTime() < deadline) {
            last = source.qmp().execute("query-migrate");
            String status = last.path("status").asText();
            if (!status.equals("cancelling") && !status.equals("active") && !status.equals("device")) {
                break;
            }
            sleep(POLL);
        }
        return notCompleted(
                MigrationResult.NOT_CONVERGED,
                source,
                info,
                wire,
                forward0,
                reverse0,
                startNanos,
                "cancelled at the time limit of " + timeLimit.toSeconds() + " s",
                guestCheck);
    }

    /** A migration that did not complete must leave the source VM running and intact: that is checked too. */
    private static MigrationResult notCompleted(
            String status,
            QemuVm source,
            JsonNode info,
            WireCounter wire,
            long forward0,
            long reverse0,
            long startNanos,
            String detail,
            GuestCheck guestCheck) {
        long elapsedMs = (System.nanoTime() - startNanos) / 1_000_000;
        long forward = wire.forwardBytes() - forward0;
        long reverse = wire.reverseBytes() - reverse0;
        boolean intact = false;
        String verdict;
        if (!source.isAlive()) {
            verdict = "source QEMU exited";
        } else {
            String state = source.runState();
            if (!state.equals("running")) {
                // QEMU leaves the source paused when the last phase failed: resume it, as libvirt does.
                source.qmp().execute("cont");
                state = source.runState();
            }
            Check check = guestCheck.check(source);
            intact = check.intact() && state.equals("running");
            verdict = "source " + state + ": " + check.detail();
        }
        JsonNode ram = info.path("ram");
        return new MigrationResult(
                status,
                -1,
                -1,
                -1,
                forward,
                reverse,
                guestRam(source),
                ram.path("normal").asLong(),
                zeroPages(ram),
                ram.path("dirty-sync-count").asLong(),
                intact,
                detail + "; " + verdict,
                elapsedMs,
                ram.path("remaining").asLong(),
                MigrationResult.QemuEstimate.NONE);
    }

    /** The forward counter once the last segments have left (it stops growing), at most a second later. */
    private static long settledForward(WireCounter wire) {
        long previous = wire.forwardBytes();
        for (int i = 0; i < 10; i++) {
            sleep(Duration.ofMillis(100));
            long now = wire.forwardBytes();
            if (now == previous) {
                return now;
            }
            previous = now;
        }
        return previous;
    }

    private static long zeroPages(JsonNode ram) {
        // 7.2 calls them "duplicate"; newer QEMU also reports "zero-pages"
        return ram.has("zero-pages")
                ? ram.path("zero-pages").asLong()
                : ram.path("duplicate").asLong();
    }

    private static long guestRam(QemuVm vm) {
        return (long) vm.config().ramMiB() << 20;
    }

    /** The host-clock time in ms of the first queued event named {@code name}, or -1; other events are dropped. */
    private static long eventTime(Qmp qmp, String name) {
        try {
            for (JsonNode event; (event = qmp.nextEvent(Duration.ZERO)) != null; ) {
                if (event.path("event").asText().equals(name)) {
                    JsonNode ts = event.path("timestamp");
                    return ts.path("seconds").asLong() * 1000
                            + ts.path("microseconds").asLong() / 1000;
                }
            }
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QmpException("interrupted waiting for " + name);
        }
    }

    private static void drainEvents(Qmp qmp) {
        try {
            while (qmp.nextEvent(Duration.ZERO) != null) {
                // events from before this migration do not count
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QmpException("interrupted during a migration");
        }
    }
}
