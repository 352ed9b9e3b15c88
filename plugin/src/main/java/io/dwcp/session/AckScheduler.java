package io.dwcp.session;

import static java.util.Objects.requireNonNull;

import io.dwcp.amst.AmstAck;
import io.dwcp.amst.Receiver;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * A session's acknowledgements to its peer. An ACK returns the window credit the local side
 * consumed ({@link Receiver}), names the next sequence number expected, and counts what reached
 * the local QEMU: in all, and per connection (the peer's raw window of each connection opens by
 * it). Whatever changes them (credit consumed, bytes written into QEMU, frames received) asks for
 * one ACK ({@link #schedule}); the ACK goes once the session's loop has done what it was doing,
 * so a burst of changes sends one ACK with all of them.
 *
 * <p>Threads: owned by the session's event loop (the scheduled flag, the receiver's credit); the
 * ACK is sent from a task given to that loop.
 */
final class AckScheduler {
    /** A QEMU connection as an ACK counts it: {@link QemuChannel}. */
    interface Connection {
        int index();

        /** Bytes of the peer's stream on this connection written into QEMU (or dropped: QEMU is gone). */
        long delivered();
    }

    private final Receiver receiver;
    private final Collection<? extends Connection> connections;
    private final LongSupplier qemuBytesWritten;
    private final Executor loop;
    private final BooleanSupplier open;
    private final Consumer<AmstAck> send;
    private boolean scheduled;

    /**
     * @param receiver the session's receiver: the credit consumed and the next sequence expected
     * @param connections the session's QEMU connections, in channel order (a live view)
     * @param qemuBytesWritten the bytes written into the local QEMU connections so far
     * @param loop the session's event loop, which sends a scheduled ACK after its current task
     * @param open whether the session is still open (a scheduled ACK of an ended session is not sent)
     * @param send sends an ACK on some stream (dropped if there is none)
     */
    AckScheduler(
            Receiver receiver,
            Collection<? extends Connection> connections,
            LongSupplier qemuBytesWritten,
            Executor loop,
            BooleanSupplier open,
            Consumer<AmstAck> send) {
        this.receiver = requireNonNull(receiver, "receiver is null");
        this.connections = requireNonNull(connections, "connections is null");
        this.qemuBytesWritten = requireNonNull(qemuBytesWritten, "qemuBytesWritten is null");
        this.loop = requireNonNull(loop, "loop is null");
        this.open = requireNonNull(open, "open is null");
        this.send = requireNonNull(send, "send is null");
    }

    /** Window credit the local QEMU side consumed: returned to the peer with the next ACK. */
    void consumed(long cost) {
        receiver.consumed(cost);
        schedule();
    }

    /** An ACK goes after the loop's current task, unless one is already scheduled. */
    void schedule() {
        if (!scheduled) {
            scheduled = true;
            loop.execute(() -> {
                scheduled = false;
                if (open.getAsBoolean()) {
                    send();
                }
            });
        }
    }

    /** Sends an ACK now (a stream came up, the keepalive). */
    void send() {
        send.accept(ack());
    }

    /** The ACK of what was received, consumed and delivered so far. */
    AmstAck ack() {
        List<AmstAck.ChannelDelivered> delivered = new ArrayList<>(connections.size());
        for (Connection connection : connections) {
            delivered.add(new AmstAck.ChannelDelivered(connection.index(), connection.delivered()));
        }
        return receiver.ack(qemuBytesWritten.getAsLong(), delivered);
    }
}
