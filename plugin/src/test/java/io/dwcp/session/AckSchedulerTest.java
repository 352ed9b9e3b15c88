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
 * it was given when the test says so, the QEMU connections are records, and a sent ACK lands in a
 * list.
 */
class AckSchedulerTest {
    private static final long WINDOW = 1 << 20;

    private record FakeConnection(int index, long delivered) implements AckScheduler.Connection {}

    /** The session's loop: tasks wait until {@link #runAll}. */
    private static final class FakeLoop implements Executor {
        final List<Runnable> tasks = new ArrayList<>();

        @Override
        public void execute(Runnable task) {
            tasks.add(task);
        }

        void runAll() {
            List<Runnable> now = List.copyOf(tasks);
            tasks.clear();
            now.forEach(Runnable::run);
        }
    }

    private final Receiver receiver = new Receiver(WINDOW, 64 << 10);
    private final List<FakeConnection> connections = new ArrayList<>();
    private final FakeLoop loop = new FakeLoop();
    private final List<AmstAck> sent = new ArrayList<>();
    private long qemuBytesWritten;
    private boolean open = true;
    private final AckScheduler acks =
            new AckScheduler(receiver, connections, () -> qemuBytesWritten, loop, () -> open, sent::add);

    @Test
    void theCreditConsumedGoesBackWithOneAckOnceTheLoopsCurrentTaskIsDone() {
        connections.add(new FakeConnection(0, 10));
        connections.add(new FakeConnection(1, 20));
        qemuBytesWritten = 30;

        acks.consumed(100);
        acks.consumed(50);
        acks.schedule();
        assertEquals(List.of(), sent, "nothing goes before the loop is done with its task");
        assertEquals(1, loop.tasks.size(), "one ACK for all of them");

        loop.runAll();
        assertEquals(1, sent.size());
        AmstAck ack = sent.get(0);
        assertEquals(150, ack.consumedCredit());
        assertEquals(30, ack.delivered());
        assertEquals(
                List.of(new AmstAck.ChannelDelivered(0, 10), new AmstAck.ChannelDelivered(1, 20)),
                ack.channels(),
                "what each connection delivered, in channel order");
    }

    @Test
    void anAckScheduledForASessionThatEndedIsNotSent() {
        acks.schedule();
        open = false;
        loop.runAll();
        assertEquals(List.of(), sent);

        open = true;
        acks.schedule();
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
