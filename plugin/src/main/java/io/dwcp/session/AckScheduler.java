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
 * it). Every figure in it is cumulative, so a later ACK says all an earlier one did.
 *
 * <p>Whatever changes them (credit consumed, bytes written into QEMU, frames received) asks for
 * an ACK ({@link #schedule}), and changes are coalesced: once the credit consumed and the bytes
 * delivered since the last ACK reach the coalescing size (at most {@value #COALESCE_BYTES} bytes,
 * an eighth of the peer's window, and a quarter of the digest checkpoint interval, so half an
 * eighth of the smallest raw window), the ACK goes as soon as the session's loop has done
 * what it was doing; below that it goes at the latest {@value #MAX_DELAY_MILLIS} ms after the
 * first change. Both bounds are small against the windows they open (64 MiB by default; the raw
 * window at least two digest checkpoints), so the peer never waits on them, and they cut the ACKs
 * from one per read of a stream (about one per frame) to about one per MiB: each costs a TLS
 * record, a write and a flush here and a read, an unwrap and a wake-up at the peer.
 *
 * <p>Threads: owned by the session's event loop (the flags, the figures of the last ACK, the
 * receiver's credit); the ACK is sent from a task given to that loop, now or after the delay.
 */
final class AckScheduler {
    /** The most credit and delivered bytes an ACK waits to coalesce before it goes. */
    static final long COALESCE_BYTES = 1 << 20;
    /** The longest an ACK waits for more changes after the first one. */
    static final long MAX_DELAY_MILLIS = 10;

    /** Runs a task on the session's loop after a delay. */
    interface Timer {
        void after(long millis, Runnable task);
    }

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
    private final Timer timer;
    private final BooleanSupplier open;
    private final Consumer<AmstAck> send;
    private final long coalesceBytes;
    private boolean dueNow;
    private boolean timerArmed;
    private boolean changed;
    private long ackedCredit;
    private long ackedDelivered;

    /**
     * @param receiver the session's receiver: the credit consumed and the next sequence expected
     * @param connections the session's QEMU connections, in channel order (a live view)
     * @param qemuBytesWritten the bytes written into the local QEMU connections so far
     * @param loop the session's event loop, which sends a scheduled ACK after its current task
     * @param timer runs a delayed ACK on the session's loop
     * @param checkpointInterval {@code amst.checkpoint-interval}: the raw window is at least twice it
     * @param open whether the session is still open (a scheduled ACK of an ended session is not sent)
     * @param send sends an ACK on some stream (dropped if there is none)
     */
    AckScheduler(
            Receiver receiver,
            Collection<? extends Connection> connections,
            LongSupplier qemuBytesWritten,
            Executor loop,
            Timer timer,
            long checkpointInterval,
            BooleanSupplier open,
            Consumer<AmstAck> send) {
        this.receiver = requireNonNull(receiver, "receiver is null");
        this.connections = requireNonNull(connections, "connections is null");
        this.qemuBytesWritten = requireNonNull(qemuBytesWritten, "qemuBytesWritten is null");
        this.loop = requireNonNull(loop, "loop is null");
        this.timer = requireNonNull(timer, "timer is null");
        this.coalesceBytes =
                Math.max(1, Math.min(COALESCE_BYTES, Math.min(receiver.window() / 8, checkpointInterval / 4)));
        this.open = requireNonNull(open, "open is null");
        this.send = requireNonNull(send, "send is null");
    }

    /** Window credit the local QEMU side consumed: returned to the peer with the next ACK. */
    void consumed(long cost) {
        receiver.consumed(cost);
        schedule();
    }

    /**
     * Something an ACK reports changed: the ACK goes after the loop's current task once the changes
     * since the last one reach the coalescing size, else at the latest after the delay.
     */
    void schedule() {
        changed = true;
        if (dueNow) {
            return;
        }
        long pending = receiver.consumedCredit() - ackedCredit + qemuBytesWritten.getAsLong() - ackedDelivered;
        if (pending >= coalesceBytes) {
            dueNow = true;
            loop.execute(() -> {
                dueNow = false;
                sendIfChanged();
            });
        } else if (!timerArmed) {
            timerArmed = true;
            timer.after(MAX_DELAY_MILLIS, () -> {
                timerArmed = false;
                sendIfChanged();
            });
        }
    }

    private void sendIfChanged() {
        if (changed && open.getAsBoolean()) {
            send();
        }
    }

    /** Sends an ACK now (a stream came up, the keepalive, the session's end). */
    void send() {
        AmstAck ack = ack();
        changed = false;
        ackedCredit = ack.consumedCredit();
        ackedDelivered = ack.delivered();
        send.accept(ack);
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
