package io.dwcp.session;

import static java.util.Objects.requireNonNull;

import io.dwcp.amst.AmstProtocolException;
import io.dwcp.amst.ReorderBuffer;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a session's work runs: its event loop, which owns the session's state, and its codec
 * lane, which runs the codec's work one task at a time, in order, on the daemon's codec threads
 * ({@link io.dwcp.codec.CodecThreads}). A task on the loop runs <em>guarded</em>: what it throws fails the session (a
 * {@link SessionFailure} with its message, a protocol error or a broken window as the peer's
 * fault, anything else as an internal error, logged with its stack trace). A lane task's {@link
 * RuntimeException} is thrown again on the loop, so it fails the session there; lane work the
 * codec threads refuse (the daemon is stopping) fails it too.
 *
 * <p>Threads: {@link #run}, {@link #onLane}, {@link #schedule} and {@link #submit} may be called
 * from any thread; the periodic timers ({@link #scheduleAtFixedDelay}, {@link #cancelTimers}) are
 * the loop's; the codec's closed flag ({@link #codecClosed}) is the lane's.
 */
final class SessionTasks {
    private static final Logger log = LoggerFactory.getLogger(SessionTasks.class);

    private final EventLoop loop;
    private final Executor lane;
    private final String context;
    private final Consumer<String> fail;
    private final List<ScheduledFuture<?>> timers = new ArrayList<>();
    // the lane's: the codec was closed, later lane tasks only release what they were given
    private boolean codecClosed;

    /**
     * @param loop the session's event loop
     * @param lane the session's codec lane: tasks one at a time, in submission order
     * @param context the session's log context
     * @param fail fails the session with a reason, telling the peer (on the loop)
     */
    SessionTasks(EventLoop loop, Executor lane, String context, Consumer<String> fail) {
        this.loop = requireNonNull(loop, "loop is null");
        this.lane = requireNonNull(lane, "lane is null");
        this.context = requireNonNull(context, "context is null");
        this.fail = requireNonNull(fail, "fail is null");
    }

    /** Runs the task on the session's event loop: at once when called there, else after what it was given before. */
    void run(Runnable task) {
        if (loop.inEventLoop()) {
            guarded(task);
        } else {
            loop.execute(() -> guarded(task));
        }
    }

    /** Runs the task on the session's loop and completes the future once it did (from any thread). */
    Future<?> submit(Runnable task) {
        return loop.submit(() -> guarded(task));
    }

    /**
     * Runs codec work on this session's codec lane, after every lane task given before; a
     * {@link RuntimeException} it throws fails the session (on its loop). The task hands its
     * results to the loop with {@link #run}.
     */
    void onLane(Runnable task) {
        try {
            lane.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    run(() -> {
                        throw e;
                    });
                }
            });
        } catch (RejectedExecutionException e) {
            run(() -> fail.accept("the codec threads stopped (dwcpd is shutting down)"));
        }
    }

    /** On the lane: whether the codec was closed (a task then only releases its buffers). */
    boolean codecClosed() {
        return codecClosed;
    }

    /** Closes the codec on the lane, after every lane task given before; later tasks see {@link #codecClosed}. */
    void closeCodec(Runnable close) {
        onLane(() -> {
            codecClosed = true;
            close.run();
        });
    }

    /** Runs the task on the session's loop after a delay, guarded. */
    void schedule(Runnable task, long delayNanos) {
        loop.schedule(() -> guarded(task), delayNanos, TimeUnit.NANOSECONDS);
    }

    /** Runs the task on the session's loop every {@code periodNanos} until {@link #cancelTimers}, guarded. */
    void scheduleAtFixedDelay(Runnable task, long periodNanos) {
        timers.add(loop.scheduleWithFixedDelay(() -> guarded(task), periodNanos, periodNanos, TimeUnit.NANOSECONDS));
    }

    /** The session ended: its periodic tasks stop. */
    void cancelTimers() {
        for (ScheduledFuture<?> timer : timers) {
            timer.cancel(false);
        }
    }

    private void guarded(Runnable task) {
        try {
            task.run();
        } catch (SessionFailure e) {
            fail.accept(e.getMessage());
        } catch (AmstProtocolException e) {
            fail.accept("protocol error from the peer: " + e.getMessage());
        } catch (ReorderBuffer.ReorderOverflowException e) {
            fail.accept("peer broke the window: " + e.getMessage());
        } catch (RuntimeException e) {
            log.error("{} internal error", context, e);
            fail.accept("internal error: " + e);
        }
    }
}
