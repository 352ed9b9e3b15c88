package io.dwcp.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.amst.AmstAck;
import io.dwcp.amst.Frame;
import io.dwcp.amst.FrameType;
import io.dwcp.amst.Receiver;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.Test;

/**
 * A session's ACKs without sockets: the session's loop is a hand-written executor that runs what
 * it was given when the test says so (its timer keeps delayed tasks apart, with their delays), the
 * QEMU connections are records, and a sent ACK lands in a list.
 */
class AckSchedulerTest {
    private static final long WINDOW = 1 << 20;
    /** An eighth of the window: below {@link AckScheduler#COALESCE_BYTES}. */
    private static final long COALESCE = WINDOW / 8;

    private record FakeConnection(int index, long delivered) implements AckScheduler.Connection {}

    /** The session's loop: tasks wait until {@link #runAll}, delayed ones until {@link #fireTimers}. */
    private static final class FakeLoop implements Executor, AckScheduler.Timer {
        final List<Runnable> tasks = new ArrayList<>();
        final List<Runnable> timers = new ArrayList<>();
        final List<Long> delays = new ArrayList<>();

        @Override
        public void execute(Runnable task) {
            tasks.add(task);
        }

        @Override
        public void after(long millis, Runnable task) {
            delays.add(millis);
            timers.add(task);
        }

        void runAll() {
            List<Runnable> now = List.copyOf(tasks);
            tasks.clear();
            now.forEach(Runnable::run);
        }

        void fireTimers() {
            List<Runnable> now = List.copyOf(timers);
            timers.clear();
            now.forEach(Runnable::run);
        }
    }

    private final Receiver receiver = new Receiver(WINDOW, 64 << 10);
    private final List<FakeConnection> connections = new ArrayList<>();
    private final FakeLoop loop = new FakeLoop();
    private final List<AmstAck> sent = new ArrayList<>();
    private long qemuBytesWritten;
    private boolean open = true;
    private final AckScheduler acks = new AckScheduler(
            receiver, connections, () -> qemuBytesWritten, loop, loop, 4L << 20, () -> open, sent::add);

    @Test
    void smallChangesGoTogetherInOneAckAfterTheDelay() {
        connections.add(new FakeConnection(0, 10));
        connections.add(new FakeConnection(1, 20));
        qemuBytesWritten = 30;

        acks.consumed(100);
        acks.consumed(50);
        acks.schedule();
        assertEquals(List.of(), sent, "nothing goes at once below the coalescing size");
        assertTrue(loop.tasks.isEmpty(), "nothing after the current task either");
        assertEquals(List.of(AckScheduler.MAX_DELAY_MILLIS), loop.delays, "one timer for all of them");

        loop.fireTimers();
        assertEquals(1, sent.size());
        AmstAck ack = sent.get(0);
        assertEquals(150, ack.consumedCredit());
        assertEquals(30, ack.delivered());
        assertEquals(
                List.of(new AmstAck.ChannelDelivered(0, 10), new AmstAck.ChannelDelivered(1, 20)),
                ack.channels(),
                "what each connection delivered, in channel order");

        loop.fireTimers();
        assertEquals(1, sent.size(), "no timer left");
        acks.consumed(1);
        assertEquals(2, loop.delays.size(), "a later change arms the timer again");
    }

    @Test
    void changesThatReachTheCoalescingSizeGoOnceTheLoopsCurrentTaskIsDone() {
        acks.consumed(COALESCE / 2);
        assertEquals(1, loop.timers.size());
        qemuBytesWritten = COALESCE / 2 - 1;
        acks.schedule();
        assertTrue(loop.tasks.isEmpty(), "one byte short of the coalescing size");
        qemuBytesWritten = COALESCE / 2;
        acks.schedule();
        acks.consumed(7);
        assertEquals(1, loop.tasks.size(), "credit and delivered bytes together reached it: one ACK for all");
        assertEquals(List.of(), sent, "not before the loop is done with its task");

        loop.runAll();
        assertEquals(1, sent.size());
        assertEquals(COALESCE / 2 + 7, sent.get(0).consumedCredit());
        assertEquals(COALESCE / 2, sent.get(0).delivered());

        loop.fireTimers();
        assertEquals(1, sent.size(), "the timer armed before finds nothing new to say");

        acks.consumed(COALESCE - 1);
        assertTrue(loop.tasks.isEmpty(), "counted from the last ACK");
        acks.consumed(1);
        loop.runAll();
        assertEquals(2, sent.size());
    }

    @Test
    void theCoalescingSizeIsAtMostAMebibyte() {
        Receiver wide = new Receiver(64L << 20, 64 << 10);
        AckScheduler scheduler = new AckScheduler(
                wide, connections, () -> qemuBytesWritten, loop, loop, 64L << 20, () -> open, sent::add);
        scheduler.consumed(AckScheduler.COALESCE_BYTES - 1);
        assertTrue(loop.tasks.isEmpty());
        scheduler.consumed(1);
        assertEquals(1, loop.tasks.size());
    }

    @Test
    void aSmallCheckpointIntervalMakesTheCoalescingSizeSmaller() {
        // a raw window of two 64 KiB checkpoints must not wait for 1 MiB or the delay
        AckScheduler scheduler = new AckScheduler(
                new Receiver(64L << 20, 64 << 10),
                connections,
                () -> qemuBytesWritten,
                loop,
                loop,
                64 << 10,
                () -> open,
                sent::add);
        scheduler.consumed((16 << 10) - 1);
        assertTrue(loop.tasks.isEmpty());
        scheduler.consumed(1);
        assertEquals(1, loop.tasks.size(), "a quarter of the checkpoint interval");
    }

    @Test
    void anAckScheduledForASessionThatEndedIsNotSent() {
        acks.consumed(COALESCE);
        acks.schedule();
        open = false;
        loop.runAll();
        loop.fireTimers();
        assertEquals(List.of(), sent);

        open = true;
        acks.consumed(COALESCE);
        assertEquals(1, loop.tasks.size(), "a later change schedules an ACK again");
        loop.runAll();
        assertEquals(1, sent.size());
    }

    @Test
    void sendGoesAtOnce() {
        acks.send();
        assertEquals(1, sent.size());
        assertTrue(loop.tasks.isEmpty());
    }

    @Test
    void theAckNamesTheNextSequenceExpected() {
        Frame frame = new Frame(FrameType.DATA, 0, 0, Unpooled.wrappedBuffer(new byte[16]));
        assertTrue(receiver.add(frame));
        receiver.poll().release();
        assertEquals(1, acks.ack().nextSequence());
        assertEquals(List.of(), acks.ack().channels(), "no connection yet");
    }
}
