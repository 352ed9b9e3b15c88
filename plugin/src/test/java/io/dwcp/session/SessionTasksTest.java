package io.dwcp.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.amst.AmstProtocolException;
import io.dwcp.amst.FrameType;
import io.dwcp.amst.ReorderBuffer;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Where a session's work runs, without threads: the loop is an {@link EmbeddedChannel}'s (the
 * test's thread, with a clock the test moves), the codec lane a hand-written executor that runs
 * its tasks when the test says so; the session's failures land in a list.
 */
class SessionTasksTest {
    /** The codec lane: tasks wait, in order, until {@link #runAll}. */
    private static final class FakeLane implements Executor {
        final List<Runnable> tasks = new ArrayList<>();

        @Override
        public void execute(Runnable task) {
            tasks.add(task);
        }

        void runAll() {
            while (!tasks.isEmpty()) {
                tasks.remove(0).run();
            }
        }
    }

    private final EmbeddedChannel channel = new EmbeddedChannel();
    private final FakeLane lane = new FakeLane();
    private final List<String> failures = new ArrayList<>();

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
    }

    private SessionTasks tasks(Executor lane) {
        return new SessionTasks(channel.eventLoop(), lane, "[test]", failures::add);
    }

    @Test
    void whatATaskThrowsFailsTheSessionWithItsReason() {
        SessionTasks tasks = tasks(lane);
        tasks.run(() -> {
            throw new SessionFailure("no OPEN from the source within 10s");
        });
        tasks.run(() -> {
            throw new ReorderBuffer.ReorderOverflowException("too far ahead");
        });
        tasks.run(() -> {
            throw new AmstProtocolException(FrameType.ACK, "channels", "ascending", "3 after 5");
        });
        tasks.run(() -> {
            throw new IllegalStateException("a bug");
        });
        channel.runPendingTasks();
        assertEquals(4, failures.size(), failures.toString());
        assertEquals("no OPEN from the source within 10s", failures.get(0));
        assertEquals("peer broke the window: too far ahead", failures.get(1));
        assertTrue(failures.get(2).startsWith("protocol error from the peer: "), failures.get(2));
        assertEquals("internal error: java.lang.IllegalStateException: a bug", failures.get(3));
    }

    @Test
    void aLaneTaskThatThrowsFailsTheSessionOnItsLoop() {
        SessionTasks tasks = tasks(lane);
        tasks.onLane(() -> {
            throw new SessionFailure("refused the source's codec: unknown mode");
        });
        assertEquals(List.of(), failures, "the lane has not run it yet");
        lane.runAll();
        channel.runPendingTasks();
        assertEquals(List.of("refused the source's codec: unknown mode"), failures);
    }

    @Test
    void laneWorkTheCodecThreadsRefuseFailsTheSession() {
        SessionTasks tasks = tasks(task -> {
            throw new RejectedExecutionException("shut down");
        });
        tasks.onLane(() -> {});
        channel.runPendingTasks();
        assertEquals(List.of("the codec threads stopped (dwcpd is shutting down)"), failures);
    }

    @Test
    void theCodecClosesAfterEveryLaneTaskGivenBefore() {
        SessionTasks tasks = tasks(lane);
        List<String> seen = new ArrayList<>();
        tasks.onLane(() -> seen.add("encode, closed=" + tasks.codecClosed()));
        tasks.closeCodec(() -> seen.add("close"));
        tasks.onLane(() -> seen.add("release, closed=" + tasks.codecClosed()));
        assertEquals(List.of(), seen);
        lane.runAll();
        assertEquals(List.of("encode, closed=false", "close", "release, closed=true"), seen);
    }

    @Test
    void periodicTasksRunUntilCancelledAndScheduledOnesAreGuarded() {
        channel.freezeTime();
        SessionTasks tasks = tasks(lane);
        int[] ticks = {0};
        tasks.scheduleAtFixedDelay(() -> ticks[0]++, TimeUnit.SECONDS.toNanos(1));
        tasks.schedule(
                () -> {
                    throw new SessionFailure("late");
                },
                TimeUnit.MILLISECONDS.toNanos(1500));

        channel.advanceTimeBy(1, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        assertEquals(1, ticks[0]);
        assertEquals(List.of(), failures);
        channel.advanceTimeBy(1, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        assertEquals(2, ticks[0]);
        assertEquals(List.of("late"), failures);

        tasks.cancelTimers();
        channel.advanceTimeBy(5, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        assertEquals(2, ticks[0], "the session ended: its timers stopped");
    }

    @Test
    void submitCompletesOnceTheLoopRanTheTask() {
        SessionTasks tasks = tasks(lane);
        Future<?> done = tasks.submit(() -> {
            throw new SessionFailure("aborted by the operator");
        });
        channel.runPendingTasks();
        assertTrue(done.isDone());
        assertTrue(done.isSuccess(), "its failure went to the session, not to the future");
        assertEquals(List.of("aborted by the operator"), failures);
    }
}
