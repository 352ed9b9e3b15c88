package io.dwcp.session;

import static java.util.Objects.requireNonNull;

import io.dwcp.amst.AmstAbort;
import io.dwcp.amst.AmstAccept;
import io.dwcp.amst.AmstAck;
import io.dwcp.amst.AmstCheckpoint;
import io.dwcp.amst.AmstFin;
import io.dwcp.amst.AmstFrameListener;
import io.dwcp.amst.AmstFrameReader;
import io.dwcp.amst.AmstHello;
import io.dwcp.amst.AmstOpen;
import io.dwcp.amst.AmstPing;
import io.dwcp.amst.AmstPong;
import io.dwcp.amst.Frame;
import io.dwcp.amst.FrameSender;
import io.dwcp.amst.FrameType;
import io.dwcp.amst.Receiver;
import io.dwcp.amst.TunnelStream;
import io.netty.buffer.ByteBuf;
import java.util.Map;

/**
 * The peer's frames of one session, read by {@link AmstFrameReader}: control frames (ACK, PING,
 * PONG, ABORT) at once, sequenced ones in sequence order once the {@link Receiver} put them back in
 * order. What the session's role does with OPEN, ACCEPT and CHANNEL_OPEN is its {@link SourceSide}'s
 * or {@link DestinationSide}'s (the other role's frame fails the session), a connection's DATA,
 * CHECKPOINT and FIN its {@link QemuChannel}'s, and the credit a frame consumed goes back with the
 * next ACK ({@link AckScheduler}). A frame the session cannot take throws {@link SessionFailure}.
 *
 * <p>Threads: the session's event loop, which owns everything given here.
 */
final class PeerFrames implements AmstFrameListener {
    /** What a frame asks of its session beyond the pieces given here; on the session's loop. */
    interface Owner {
        /** Whether the session is still open (frames after its end are not read). */
        boolean isOpen();

        /** A destination's new QEMU connection for a CHANNEL_OPEN. */
        QemuChannel newChannel(int index);

        /** An ACK was applied: drained streams close, reading and completion are checked again. */
        void acknowledged();

        /** A connection's stream ended (its FIN): completion is checked again. */
        void checkDone();

        void fail(String reason, boolean notifyPeer);
    }

    private final Owner owner;
    private final FrameSender sender;
    private final Receiver receiver;
    private final AckScheduler acks;
    private final QemuReadGate gate;
    private final Map<Integer, QemuChannel> channels;
    private final SourceSide source;
    private final DestinationSide destination;
    private final TunnelStats stats;
    private final String peerName;

    /**
     * @param channels the session's QEMU connections by index (a CHANNEL_OPEN adds one)
     * @param source the session's source side, null at a destination
     * @param destination the session's destination side, null at a source
     * @param peerName the peer's name, for its PING round-trip times
     */
    PeerFrames(
            Owner owner,
            FrameSender sender,
            Receiver receiver,
            AckScheduler acks,
            QemuReadGate gate,
            Map<Integer, QemuChannel> channels,
            SourceSide source,
            DestinationSide destination,
            TunnelStats stats,
            String peerName) {
        this.owner = requireNonNull(owner, "owner is null");
        this.sender = requireNonNull(sender, "sender is null");
        this.receiver = requireNonNull(receiver, "receiver is null");
        this.acks = requireNonNull(acks, "acks is null");
        this.gate = requireNonNull(gate, "gate is null");
        this.channels = requireNonNull(channels, "channels is null");
        this.source = source;
        this.destination = destination;
        this.stats = requireNonNull(stats, "stats is null");
        this.peerName = requireNonNull(peerName, "peerName is null");
    }

    /** A frame from the peer (sequenced or control) on one of the streams, which this then owns. */
    void onFrame(TunnelStream stream, Frame frame) {
        if (!frame.type().isSequenced()) {
            try {
                AmstFrameReader.readControl(stream, frame, this);
            } finally {
                frame.release();
            }
            return;
        }
        if (!receiver.add(frame)) {
            stats.framesDuplicate.increment();
            return;
        }
        Frame next;
        while (owner.isOpen() && (next = receiver.poll()) != null) {
            try {
                AmstFrameReader.readSequenced(next, this);
            } finally {
                next.release();
            }
        }
        acks.schedule();
    }

    @Override
    public void onHello(TunnelStream stream, AmstHello hello) {
        throw new SessionFailure("HELLO on an established stream");
    }

    @Override
    public void onAck(TunnelStream stream, AmstAck ack) {
        sender.acknowledge(ack.nextSequence(), ack.consumedCredit());
        gate.peerDelivered(ack.delivered());
        for (AmstAck.ChannelDelivered delivered : ack.channels()) {
            QemuChannel channel = channels.get(delivered.channel());
            if (channel != null) {
                channel.peerDelivered(delivered.delivered());
            }
        }
        owner.acknowledged();
    }

    @Override
    public void onPing(TunnelStream stream, AmstPing ping) {
        sender.sendControl(stream, new AmstPong(ping.timestampNanos()), false);
    }

    @Override
    public void onPong(TunnelStream stream, AmstPong pong) {
        long rttNanos = System.nanoTime() - pong.timestampNanos();
        stream.recordRtt(rttNanos);
        stats.pingRtt(peerName, rttNanos);
    }

    @Override
    public void onAbort(TunnelStream stream, AmstAbort abort) {
        owner.fail("peer aborted the session: " + abort.reason(), false);
    }

    @Override
    public void onOpen(AmstOpen open, long credit) {
        if (destination == null) {
            throw new SessionFailure("unexpected OPEN");
        }
        destination.onOpen(open);
        acks.consumed(credit);
    }

    @Override
    public void onAccept(AmstAccept accept, long credit) {
        if (source == null) {
            throw new SessionFailure("unexpected ACCEPT");
        }
        source.onAnswer(accept);
        acks.consumed(credit);
    }

    @Override
    public void onChannelOpen(int index, long credit) {
        if (destination == null || !destination.isOpened()) {
            throw new SessionFailure("CHANNEL_OPEN before OPEN");
        }
        if (channels.containsKey(index) || index != channels.size()) {
            throw new SessionFailure("CHANNEL_OPEN " + index + ": expected channel " + channels.size());
        }
        QemuChannel channel = owner.newChannel(index);
        channels.put(index, channel);
        acks.consumed(credit);
        destination.onChannelOpen(channel);
    }

    @Override
    public void onData(int channel, ByteBuf data, long credit) {
        channel(FrameType.DATA, channel).onData(data.retain(), credit);
    }

    @Override
    public void onCheckpoint(int channel, AmstCheckpoint checkpoint, long credit) {
        channel(FrameType.CHECKPOINT, channel).onCheckpoint(checkpoint);
        acks.consumed(credit);
    }

    @Override
    public void onFin(int channel, AmstFin fin, long credit) {
        channel(FrameType.FIN, channel).onFin(fin);
        acks.consumed(credit);
        owner.checkDone();
    }

    private QemuChannel channel(FrameType type, int index) {
        QemuChannel channel = channels.get(index);
        if (channel == null) {
            throw new SessionFailure(type + " for unknown channel " + index);
        }
        return channel;
    }
}
