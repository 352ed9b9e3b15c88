package io.dwcp.hde;

import static java.util.Objects.requireNonNull;

import jakarta.inject.Inject;
import java.io.Closeable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * dwcpd's background work on baselines, on one thread this class owns ({@code hde-baseline-jobs}):
 * writing a migration's recording as a baseline (the commit: once it completed, or what a failed
 * one moved, see {@code SessionRecording#keepPartial}), and a periodic check that
 * removes baselines older than {@code hde.baseline-max-age} and saves when each was last used.
 * {@code LATENT -> STARTED -> CLOSED}: the daemon starts it and closes it with itself.
 *
 * <h2>A session's baseline, as others see it ({@link #outcome})</h2>
 * <pre>
 * RECORDING --completed--> COMMITTING --> COMMITTED (id, pages, bytes) | FAILED (reason)
 * RECORDING --recording stopped (size limit, disk)--> FAILED (reason)
 * RECORDING --the session ended having recorded no page--> NONE (reason)
 * </pre>
 * A session that recorded nothing (recording off, no room to start) has no outcome. The newest
 * {@value #KEPT_OUTCOMES} outcomes are kept. A committed baseline is labelled with the VM the
 * {@link Owners} name for its session (the control socket knows the domain a migration carries).
 *
 * <h2>Closing</h2>
 * No new commit is accepted (a session completing now gets FAILED "dwcpd stopped"); commits in
 * flight get the close timeout to finish, then are interrupted (the interrupted write removes its
 * temporary file) and end FAILED. Last-use times are saved.
 *
 * <p>Thread-safe: the outcomes are guarded by this object; the store is thread-safe; commits and
 * checks run on the job thread only.
 */
public final class BaselineJobs implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(BaselineJobs.class);
    static final int KEPT_OUTCOMES = 256;
    /** Within systemd's TimeoutStopSec (30 s, dwcpd.service), with room for the rest of the shutdown. */
    static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(20);

    public enum State {
        RECORDING,
        COMMITTING,
        COMMITTED,
        FAILED,
        NONE;

        public boolean isFinal() {
            return switch (this) {
                case RECORDING, COMMITTING -> false;
                case COMMITTED, FAILED, NONE -> true;
            };
        }
    }

    private enum Lifecycle {
        LATENT,
        STARTED,
        CLOSED
    }

    /** The baseline of one session at this host. {@code baseline}: present once COMMITTED; {@code reason}: with FAILED and NONE. */
    public record Outcome(
            long sessionId,
            String role,
            State state,
            Optional<BaselineStore.BaselineInfo> baseline,
            Optional<String> reason,
            long startedMillis,
            OptionalLong endedMillis) {
        public Outcome {
            requireNonNull(role, "role is null");
            requireNonNull(state, "state is null");
            requireNonNull(baseline, "baseline is null");
            requireNonNull(reason, "reason is null");
            requireNonNull(endedMillis, "endedMillis is null");
        }

        private Outcome next(
                State next, Optional<BaselineStore.BaselineInfo> info, Optional<String> why, OptionalLong ended) {
            return new Outcome(sessionId, role, next, info, why, startedMillis, ended);
        }
    }

    /** Which VM a session migrated, when this host knows it. Called on the job thread. */
    public interface Owners {
        Optional<BaselineStore.Owner> ownerOf(long sessionId);
    }

    private final BaselineStore store;
    private final Duration checkInterval;
    private final Duration closeTimeout;
    private final LongSupplier clock;
    private final ScheduledExecutorService executor;
    private final Map<Long, Outcome> outcomes = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Outcome> eldest) {
            return size() > KEPT_OUTCOMES;
        }
    };
    private Lifecycle lifecycle = Lifecycle.LATENT;
    private volatile Owners owners = sessionId -> Optional.empty();

    @Inject
    public BaselineJobs(HdeConfig config, BaselineStore store) {
        this(store, checkInterval(config.getBaselineMaxAge()), DEFAULT_CLOSE_TIMEOUT, System::currentTimeMillis);
    }

    /**
     * @param checkInterval how often expired baselines are removed and last-use times saved
     * @param closeTimeout how long {@link #close} waits for commits in flight
     */
    public BaselineJobs(BaselineStore store, Duration checkInterval, Duration closeTimeout, LongSupplier clock) {
        this.store = requireNonNull(store, "store is null");
        this.checkInterval = requireNonNull(checkInterval, "checkInterval is null");
        this.closeTimeout = requireNonNull(closeTimeout, "closeTimeout is null");
        this.clock = requireNonNull(clock, "clock is null");
        if (checkInterval.isNegative() || checkInterval.isZero()) {
            throw new IllegalArgumentException("check interval must be positive: " + checkInterval);
        }
        ScheduledThreadPoolExecutor pool = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread thread = new Thread(runnable, "hde-baseline-jobs");
            thread.setDaemon(true);
            return thread;
        });
        // on close, commits already queued still run (within the close timeout); the periodic check stops
        pool.setExecuteExistingDelayedTasksAfterShutdownPolicy(true);
        pool.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
        this.executor = pool;
    }

    /** A tenth of the age limit, between 1 minute and 1 hour (1 hour without an age limit). */
    static Duration checkInterval(Duration maxAge) {
        if (maxAge.isZero()) {
            return Duration.ofHours(1);
        }
        Duration tenth = maxAge.dividedBy(10);
        if (tenth.compareTo(Duration.ofMinutes(1)) < 0) {
            return Duration.ofMinutes(1);
        }
        return tenth.compareTo(Duration.ofHours(1)) > 0 ? Duration.ofHours(1) : tenth;
    }

    /** Who tells the VM of a session (the control socket's registry); replaces the earlier one. */
    public void setOwners(Owners owners) {
        this.owners = requireNonNull(owners, "owners is null");
    }

    /** Schedules the periodic check (the first at once: a daemon down for a week finds old baselines). */
    public synchronized void start() {
        if (lifecycle != Lifecycle.LATENT) {
            throw new IllegalStateException(
                    "baseline jobs already " + lifecycle.name().toLowerCase(Locale.ROOT));
        }
        lifecycle = Lifecycle.STARTED;
        executor.scheduleWithFixedDelay(this::check, 0, checkInterval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The outcome of the session's baseline here, if it recorded one. */
    public synchronized Optional<Outcome> outcome(long sessionId) {
        return Optional.ofNullable(outcomes.get(sessionId));
    }

    /** Every outcome kept, oldest first. */
    public synchronized List<Outcome> outcomes() {
        return new ArrayList<>(outcomes.values());
    }

    /** Runs the periodic check now, on the job thread, and waits for it (operators' and tests' use). */
    public void checkNow() throws InterruptedException {
        try {
            executor.submit(this::check).get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("baseline check failed", e.getCause());
        } catch (RejectedExecutionException e) {
            throw new IllegalStateException("baseline jobs are closed");
        }
    }

    synchronized void recordingStarted(long sessionId, String role) {
        outcomes.put(
                sessionId,
                new Outcome(
                        sessionId,
                        role,
                        State.RECORDING,
                        Optional.empty(),
                        Optional.empty(),
                        clock.getAsLong(),
                        OptionalLong.empty()));
    }

    /** The recording ended without a commit: FAILED (it stopped) or NONE (the session ended having recorded nothing to keep). */
    synchronized void recordingEnded(long sessionId, State state, String reason) {
        if (state != State.FAILED && state != State.NONE) {
            throw new IllegalArgumentException("a recording ends failed or with none: " + state);
        }
        Outcome outcome = outcomes.get(sessionId);
        if (outcome != null && !outcome.state().isFinal()) {
            outcomes.put(
                    sessionId,
                    outcome.next(state, Optional.empty(), Optional.of(reason), OptionalLong.of(clock.getAsLong())));
        }
    }

    /** The session completed: writes its recording as a baseline on the job thread. Takes the recorder over. */
    void commit(long sessionId, String context, BaselineRecorder recorder) {
        requireNonNull(recorder, "recorder is null");
        synchronized (this) {
            Outcome outcome = outcomes.get(sessionId);
            if (outcome == null) {
                outcome = new Outcome(
                        sessionId,
                        "unknown",
                        State.RECORDING,
                        Optional.empty(),
                        Optional.empty(),
                        clock.getAsLong(),
                        OptionalLong.empty());
            }
            if (lifecycle == Lifecycle.CLOSED) {
                recorder.close();
                outcomes.put(
                        sessionId,
                        outcome.next(
                                State.FAILED,
                                Optional.empty(),
                                Optional.of("dwcpd stopped before the baseline was written"),
                                OptionalLong.of(clock.getAsLong())));
                log.info("{} baseline not stored: dwcpd stops", context);
                return;
            }
            outcomes.put(
                    sessionId,
                    outcome.next(State.COMMITTING, Optional.empty(), Optional.empty(), OptionalLong.empty()));
            try {
                executor.execute(() -> runCommit(sessionId, context, recorder));
            } catch (RejectedExecutionException e) {
                recorder.close();
                outcomes.put(
                        sessionId,
                        outcome.next(
                                State.FAILED,
                                Optional.empty(),
                                Optional.of("dwcpd stopped before the baseline was written"),
                                OptionalLong.of(clock.getAsLong())));
            }
        }
    }

    private void runCommit(long sessionId, String context, BaselineRecorder recorder) {
        Outcome ended;
        try {
            if (recorder.distinctPages() == 0) {
                // every page recorded was sent again as zero or in QEMU's own encoding
                recorder.close();
                ended = finished(sessionId, State.NONE, Optional.empty(), Optional.of("no page was recorded"));
                log.debug("{} baseline outcome {}", context, ended);
                return;
            }
            BaselineStore.BaselineInfo info = recorder.commitContentAddressed();
            Optional<BaselineStore.Owner> owner = owners.ownerOf(sessionId);
            if (owner.isPresent()) {
                store.setOwner(info.id(), owner.get());
            }
            log.info(
                    "{} baseline {} stored{}: {} distinct pages, {} bytes",
                    context,
                    info.id(),
                    owner.map(vm -> " for " + vm.domain()).orElse(""),
                    info.pages(),
                    info.bytes());
            ended = finished(sessionId, State.COMMITTED, Optional.of(info), Optional.empty());
        } catch (BaselineStoreException | RuntimeException e) {
            recorder.close();
            String reason = Thread.currentThread().isInterrupted()
                    ? "dwcpd stopped while the baseline was written"
                    : String.valueOf(e.getMessage());
            log.info("{} baseline not stored: {}", context, reason);
            ended = finished(sessionId, State.FAILED, Optional.empty(), Optional.of(reason));
        }
        log.debug("{} baseline outcome {}", context, ended);
    }

    private synchronized Outcome finished(
            long sessionId, State state, Optional<BaselineStore.BaselineInfo> info, Optional<String> reason) {
        Outcome outcome = outcomes.get(sessionId);
        if (outcome == null) {
            // evicted by newer sessions meanwhile: keep the newest anyway
            outcome = new Outcome(
                    sessionId,
                    "unknown",
                    State.COMMITTING,
                    Optional.empty(),
                    Optional.empty(),
                    clock.getAsLong(),
                    OptionalLong.empty());
        }
        Outcome ended = outcome.next(state, info, reason, OptionalLong.of(clock.getAsLong()));
        outcomes.put(sessionId, ended);
        return ended;
    }

    private void check() {
        try {
            store.removeExpired();
            store.saveUsage();
        } catch (BaselineStoreException | RuntimeException e) {
            // the next check tries again; the operator sees why in the log
            log.warn("periodic baseline check failed: {}", e.getMessage());
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            if (lifecycle == Lifecycle.CLOSED) {
                return;
            }
            lifecycle = Lifecycle.CLOSED;
        }
        executor.shutdown();
        boolean finished;
        try {
            finished = executor.awaitTermination(closeTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            finished = false;
        }
        if (!finished) {
            log.info(
                    "baseline commits still running after {} s: interrupting them (nothing half-written is kept)",
                    closeTimeout.toSeconds());
            executor.shutdownNow();
            try {
                if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
                    log.warn("the baseline job thread did not end within 5 s of its interruption");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (this) {
            for (Outcome outcome : List.copyOf(outcomes.values())) {
                if (outcome.state() == State.COMMITTING) {
                    outcomes.put(
                            outcome.sessionId(),
                            outcome.next(
                                    State.FAILED,
                                    Optional.empty(),
                                    Optional.of("dwcpd stopped before the baseline was written"),
                                    OptionalLong.of(clock.getAsLong())));
                }
            }
        }
        try {
            store.saveUsage();
        } catch (BaselineStoreException e) {
            log.warn("cannot save when baselines were last used: {}", e.getMessage());
        }
    }
}
