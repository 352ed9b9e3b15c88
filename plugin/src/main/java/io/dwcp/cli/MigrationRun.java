package io.dwcp.cli;

import static java.util.Objects.requireNonNull;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongConsumer;

/**
 * One live migration of a domain through the local dwcpd, as {@code dwcp migrate} and {@code dwcp
 * evacuate} both run it: check that the domain runs, announce the migration to dwcpd ({@code POST
 * /v1/migrations}, which opens the migration's own socket), have libvirt migrate peer-to-peer
 * through that socket while sampling libvirt's job and dwcpd's session, abort the job on Ctrl-C or
 * at the timeout, and release the announcement.
 *
 * <p>A migration that fails or is aborted leaves the domain running at the source: libvirt's
 * pre-copy only stops the source at the switch-over, after the destination has the whole state; on
 * any error before that, libvirt cancels the job and resumes nothing because nothing was paused
 * (and if the switch-over itself fails, libvirt resumes the source before reporting). The
 * flags never include post-copy, so there is no window in which only the destination holds the
 * guest.
 *
 * <p>Threads: {@link #run} belongs to the caller's thread, which samples progress; the blocking
 * libvirt call runs on a {@code dwcp-migrate} thread owned by the run and shut down before it
 * returns. Several runs may go on at once on different threads (each with its own libvirt
 * connections and its own dwcpd migration); they share only {@code interrupts} and the output
 * streams, whose {@code println} is atomic.
 */
final class MigrationRun {
    /** Where and how a run reports: error lines start with {@code prefix} ({@code "dwcp migrate: "}). */
    record Output(
            PrintStream out,
            PrintStream err,
            String prefix,
            MigrateCommand.Progress progress,
            boolean terminal,
            int columns,
            Duration pollInterval,
            Duration lineInterval) {
        Output {
            requireNonNull(out, "out is null");
            requireNonNull(err, "err is null");
            requireNonNull(prefix, "prefix is null");
            requireNonNull(progress, "progress is null");
            requireNonNull(pollInterval, "pollInterval is null");
            requireNonNull(lineInterval, "lineInterval is null");
        }
    }

    /** What to migrate where: everything of {@link MigrateCommand.Plan} but the socket, which dwcpd names on announcement. */
    record Request(
            String domain,
            String peer,
            String connectUri,
            String destinationUri,
            int flags,
            OptionalInt parallel,
            OptionalLong bandwidthMiB,
            OptionalLong timeoutSeconds) {
        Request {
            requireNonNull(domain, "domain is null");
            requireNonNull(peer, "peer is null");
            requireNonNull(connectUri, "connectUri is null");
            requireNonNull(destinationUri, "destinationUri is null");
            requireNonNull(parallel, "parallel is null");
            requireNonNull(bandwidthMiB, "bandwidthMiB is null");
            requireNonNull(timeoutSeconds, "timeoutSeconds is null");
        }
    }

    /**
     * How the run ended: the exit code {@code dwcp migrate} gives for it, the reason when it did not
     * migrate, the time from the job's start to its end, and the bytes dwcpd sent on the wire.
     */
    record Result(ExitCode code, Optional<String> reason, Duration elapsed, long guestBytes, long wireBytes) {
        boolean migrated() {
            return code == ExitCode.OK;
        }

        static Result before(ExitCode code, String reason) {
            return new Result(code, Optional.of(reason), Duration.ZERO, 0, 0);
        }
    }

    private MigrationRun() {}

    /** Runs the migration; {@code interrupts} counts Ctrl-C (1: abort the job, 2: stop waiting for it). */
    static Result run(Output output, Libvirt libvirt, Dwcpd dwcpd, Request request, AtomicInteger interrupts) {
        return run(output, libvirt, dwcpd, request, interrupts, bytes -> {});
    }

    /**
     * As {@link #run(Output, Libvirt, Dwcpd, Request, AtomicInteger)}; {@code processed} is given
     * the guest bytes the job has processed at every sample (on the calling thread).
     */
    static Result run(
            Output output,
            Libvirt libvirt,
            Dwcpd dwcpd,
            Request request,
            AtomicInteger interrupts,
            LongConsumer processed) {
        String prefix = output.prefix();
        try (Libvirt.Connection connection = libvirt.open(request.connectUri());
                Libvirt.Connection monitorConnection = libvirt.open(request.connectUri())) {
            Libvirt.Domain migrating = connection.domain(request.domain());
            Libvirt.Domain monitored = monitorConnection.domain(request.domain());
            if (!migrating.isActive()) {
                String reason =
                        "domain '" + request.domain() + "' is not running (a live migration needs a running domain)";
                output.err().println(prefix + reason);
                return Result.before(ExitCode.LIBVIRT_ERROR, reason);
            }
            Dwcpd.Migration announced;
            try {
                announced = dwcpd.announce(request.domain(), request.peer());
            } catch (Dwcpd.UnavailableException e) {
                output.err().println(prefix + e.getMessage());
                return Result.before(ExitCode.DWCPD_UNAVAILABLE, e.getMessage());
            }
            MigrateCommand.Plan plan = new MigrateCommand.Plan(
                    request.domain(),
                    request.peer(),
                    request.connectUri(),
                    request.destinationUri(),
                    MigrateCommand.migrateUri(announced.socket()),
                    request.flags(),
                    request.parallel(),
                    request.bandwidthMiB(),
                    request.timeoutSeconds());
            Result result = migrate(output, dwcpd, announced.id(), plan, migrating, monitored, interrupts, processed);
            // done with it: dwcpd forgets it and lets go of the VM's lock (or, if its session still runs
            // after a second Ctrl-C, lets go when the session ends)
            try {
                dwcpd.release(announced.id());
            } catch (Dwcpd.UnavailableException e) {
                output.err()
                        .println(prefix + e.getMessage()
                                + " (dwcpd lets go of the VM's lock when the announcement expires)");
            }
            return result;
        } catch (Libvirt.LibvirtException e) {
            output.err().println(prefix + e.getMessage());
            return Result.before(ExitCode.LIBVIRT_ERROR, e.getMessage());
        }
    }

    private static Result migrate(
            Output output,
            Dwcpd dwcpd,
            String migrationId,
            MigrateCommand.Plan plan,
            Libvirt.Domain migrating,
            Libvirt.Domain monitored,
            AtomicInteger interrupts,
            LongConsumer processed) {
        String prefix = output.prefix();
        MigrateCommand.Progress progress = output.progress();
        boolean bar = progress == MigrateCommand.Progress.BAR
                || (progress == MigrateCommand.Progress.AUTO && output.terminal());
        boolean lines = progress == MigrateCommand.Progress.LINES
                || (progress == MigrateCommand.Progress.AUTO && !output.terminal());
        ProgressView view = new ProgressView(plan.domain(), plan.peer());
        if (!bar && progress != MigrateCommand.Progress.NONE) {
            output.out()
                    .println("Migrating " + plan.domain() + " to " + plan.peer() + " (" + plan.destinationUri()
                            + ") through " + plan.migrateUri());
        }
        ExecutorService executor = Executors.newSingleThreadExecutor(runnable -> {
            Thread thread = new Thread(runnable, "dwcp-migrate");
            thread.setDaemon(true);
            return thread;
        });
        long start = System.nanoTime();
        try {
            long deadline = plan.timeoutSeconds().isPresent()
                    ? start + TimeUnit.SECONDS.toNanos(plan.timeoutSeconds().getAsLong())
                    : Long.MAX_VALUE;
            Future<?> job = executor.submit(() -> {
                migrating.migrate(plan.destinationUri(), plan.parameters(), plan.flags());
                return null;
            });
            boolean abortRequested = false;
            boolean timedOut = false;
            boolean statsNoted = false;
            long lastLine = Long.MIN_VALUE;
            JobStats last = JobStats.NONE;
            while (!job.isDone()) {
                try {
                    job.get(output.pollInterval().toMillis(), TimeUnit.MILLISECONDS);
                    break;
                } catch (TimeoutException e) {
                    // still running: sample and draw
                } catch (ExecutionException e) {
                    break;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    interrupts.incrementAndGet();
                }
                if (interrupts.get() >= 2) {
                    output.err().println();
                    String reason =
                            "interrupted again: no longer waiting for libvirt to cancel the job (virsh domjobinfo "
                                    + MigrateCommand.shellQuote(plan.domain()) + ")";
                    output.err().println(prefix + reason);
                    return new Result(
                            ExitCode.INTERRUPTED, Optional.of(reason), elapsed(start), last.dataProcessed(), 0);
                }
                boolean timeUp = System.nanoTime() - deadline > 0;
                if (!abortRequested && (interrupts.get() > 0 || timeUp)) {
                    abortRequested = true;
                    timedOut = interrupts.get() == 0;
                    if (bar) {
                        output.out().println();
                    }
                    output.err()
                            .println(
                                    timedOut
                                            ? prefix + "not finished after "
                                                    + plan.timeoutSeconds().getAsLong()
                                                    + " s: aborting the migration job of " + plan.domain()
                                            : prefix + "interrupted: aborting the migration job of " + plan.domain()
                                                    + " (Ctrl-C again: stop waiting)");
                    try {
                        monitored.abortJob();
                    } catch (Libvirt.LibvirtException e) {
                        output.err().println(prefix + e.getMessage());
                    }
                }
                JobStats stats = JobStats.NONE;
                try {
                    stats = monitored.jobStats();
                } catch (Libvirt.LibvirtException e) {
                    if (!statsNoted) {
                        statsNoted = true;
                        output.err().println(prefix + "no job statistics: " + e.getMessage());
                    }
                }
                if (stats.isActive()) {
                    last = stats;
                    processed.accept(stats.dataProcessed());
                }
                long now = System.nanoTime();
                view.update(now, stats, sample(dwcpd, migrationId));
                if (abortRequested) {
                    continue;
                }
                if (bar) {
                    output.out().print("\r" + view.bar(output.columns() - 1) + "\033[K");
                    output.out().flush();
                } else if (lines
                        && (lastLine == Long.MIN_VALUE
                                || now - lastLine >= output.lineInterval().toNanos())) {
                    lastLine = now;
                    output.out().println(view.line());
                }
            }
            if (bar && !abortRequested) {
                output.out().println();
            }
            try {
                job.get();
            } catch (ExecutionException e) {
                String message = e.getCause().getMessage();
                Optional<Dwcpd.Migration> tunnel = sample(dwcpd, migrationId);
                long wire = tunnel.map(Dwcpd.Migration::tunnelBytesSent).orElse(0L);
                if (abortRequested && !timedOut) {
                    output.err()
                            .println(prefix + "migration of " + plan.domain()
                                    + " aborted; it keeps running on this host");
                    return new Result(
                            ExitCode.INTERRUPTED,
                            Optional.of("interrupted (Ctrl-C): the job was aborted"),
                            elapsed(start),
                            last.dataProcessed(),
                            wire);
                }
                if (timedOut) {
                    output.err()
                            .println(prefix + "migration of " + plan.domain() + " did not finish within "
                                    + plan.timeoutSeconds().getAsLong()
                                    + " s and was aborted; it keeps running on this host");
                    return new Result(
                            ExitCode.MIGRATION_FAILED,
                            Optional.of("not finished within "
                                    + plan.timeoutSeconds().getAsLong() + " s: aborted"),
                            elapsed(start),
                            last.dataProcessed(),
                            wire);
                }
                output.err().println(prefix + message);
                Optional<String> failure = tunnel.flatMap(Dwcpd.Migration::failure);
                failure.ifPresent(reason -> output.err().println(prefix + "dwcpd: " + reason));
                output.err().println(prefix + plan.domain() + " keeps running on this host");
                String reason =
                        message + failure.map(f -> " (dwcpd: " + f + ")").orElse("");
                return new Result(
                        ExitCode.MIGRATION_FAILED, Optional.of(reason), elapsed(start), last.dataProcessed(), wire);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new Result(
                        ExitCode.INTERRUPTED, Optional.of("interrupted"), elapsed(start), last.dataProcessed(), 0);
            }
            Duration elapsed = elapsed(start);
            // the session ends a moment after libvirt's job: wait briefly for its final byte counts
            Optional<Dwcpd.Migration> tunnel = sample(dwcpd, migrationId);
            for (int i = 0; i < 20 && tunnel.isPresent() && tunnel.get().state().equals("open"); i++) {
                sleep(Duration.ofMillis(100));
                tunnel = sample(dwcpd, migrationId);
            }
            view.update(System.nanoTime(), JobStats.NONE, tunnel);
            if (abortRequested) {
                output.err().println(prefix + "the migration completed before it could be aborted");
            }
            if (progress != MigrateCommand.Progress.NONE) {
                output.out().println(view.summary(System.nanoTime()));
            }
            return new Result(
                    ExitCode.OK,
                    Optional.empty(),
                    elapsed,
                    last.dataProcessed(),
                    tunnel.map(Dwcpd.Migration::tunnelBytesSent).orElse(0L));
        } finally {
            executor.shutdownNow();
        }
    }

    private static Duration elapsed(long startNanos) {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }

    private static Optional<Dwcpd.Migration> sample(Dwcpd dwcpd, String id) {
        try {
            return dwcpd.migration(id);
        } catch (Dwcpd.UnavailableException e) {
            return Optional.empty();
        }
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
