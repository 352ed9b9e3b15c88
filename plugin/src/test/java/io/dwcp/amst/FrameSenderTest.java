package io.dwcp.amst;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/** The sender over real (embedded) Netty channels: window, striping, re-sending. */
class FrameSenderTest {
    private static final int PAYLOAD = 1000;
    private static final long COST = FrameCodec.frameCost(PAYLOAD);

    @Test
    void windowStopsTransmissionAndAcksReopenIt() {
        SenderStats stats = new SenderStats();
        FrameSender sender = new FrameSender(10 * COST, stats);
        EmbeddedChannel channel = new EmbeddedChannel();
        sender.streamUp(new TunnelStream(0, channel));
        int sent = 0;
        while (sender.canAcceptMore()) {
            sender.send(FrameType.DATA, 0, Unpooled.buffer(PAYLOAD).writeZero(PAYLOAD));
            sent++;
        }
        assertEquals(10, sent);
        assertTrue(sender.isWindowFull());
        // frames beyond the window (QEMU reads already in flight) are held, not transmitted
        sender.send(FrameType.DATA, 0, Unpooled.buffer(PAYLOAD).writeZero(PAYLOAD));
        sender.send(FrameType.DATA, 0, Unpooled.buffer(PAYLOAD).writeZero(PAYLOAD));
        assertEquals(10, drain(channel).size());
        assertEquals(12 * COST, sender.inFlight());

        // the receiver consumed 2 frames: the 2 held frames go out, the window is full again
        sender.acknowledge(5, 2 * COST);
        List<Frame> more = drain(channel);
        assertEquals(List.of(10L, 11L), more.stream().map(Frame::sequence).toList());
        assertFalse(sender.canAcceptMore());
        sender.acknowledge(12, 12 * COST);
        assertTrue(sender.canAcceptMore());
        assertEquals(0, sender.unacknowledgedCount());
        channel.finishAndReleaseAll();
    }

    @Test
    void stripesOverStreamsAndResendsAFailedStreamsFrames() {
        SenderStats stats = new SenderStats();
        FrameSender sender = new FrameSender(1000 * COST, stats);
        List<EmbeddedChannel> channels = new ArrayList<>();
        List<TunnelStream> streams = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            EmbeddedChannel channel = new EmbeddedChannel();
            channels.add(channel);
            TunnelStream stream = new TunnelStream(i, channel);
            streams.add(stream);
            sender.streamUp(stream);
        }
        for (int i = 0; i < 30; i++) {
            sender.send(FrameType.DATA, 0, Unpooled.buffer(PAYLOAD).writeZero(PAYLOAD));
        }
        List<Long> onFailed =
                drain(channels.get(1)).stream().map(Frame::sequence).toList();
        assertEquals(10, onFailed.size());
        assertEquals(10, drain(channels.get(0)).size());
        assertEquals(10, drain(channels.get(2)).size());

        // frames up to 14 are acknowledged; stream 1 fails: its unacknowledged frames (15..29) go out on the others, in
        // order
        sender.acknowledge(15, 15 * COST);
        sender.streamDown(streams.get(1));
        List<Long> resent = new ArrayList<>();
        resent.addAll(drain(channels.get(0)).stream().map(Frame::sequence).toList());
        resent.addAll(drain(channels.get(2)).stream().map(Frame::sequence).toList());
        List<Long> expected =
                onFailed.stream().filter(sequence -> sequence >= 15).toList();
        assertEquals(expected, resent.stream().sorted().toList());
        assertEquals(expected.size(), stats.framesResent.sum());

        // with no stream left, frames wait and go out when one comes back
        sender.streamDown(streams.get(0));
        sender.streamDown(streams.get(2));
        sender.send(FrameType.DATA, 0, Unpooled.buffer(PAYLOAD).writeZero(PAYLOAD));
        EmbeddedChannel fresh = new EmbeddedChannel();
        sender.streamUp(new TunnelStream(1, fresh));
        List<Long> afterReconnect = drain(fresh).stream().map(Frame::sequence).toList();
        assertEquals(15 + 1, afterReconnect.size());
        assertEquals(30L, afterReconnect.get(afterReconnect.size() - 1));
        sender.releaseAll();
        channels.forEach(EmbeddedChannel::finishAndReleaseAll);
        fresh.finishAndReleaseAll();
    }

    private static List<Frame> drain(EmbeddedChannel channel) {
        List<Frame> frames = new ArrayList<>();
        Object message;
        while ((message = channel.readOutbound()) != null) {
            Frame frame = (Frame) message;
            frames.add(frame);
            frame.release();
        }
        return frames;
    }

    /** The frames of the stream holding the one the receiver waits for, out longer than the threshold, go again on another stream, once per threshold. */
    @Test
    void stalledHeadIsResentOnAnotherStream() {
        SenderStats stats = new SenderStats();
        long[] now = {0};
        FrameSender sender = new FrameSender(1000 * COST, stats, () -> now[0]);
        EmbeddedChannel slow = new EmbeddedChannel();
        EmbeddedChannel fast = new EmbeddedChannel();
        TunnelStream slowStream = new TunnelStream(0, slow);
        sender.streamUp(slowStream);
        sender.streamUp(new TunnelStream(1, fast));
        // the slow stream's TCP hears nothing from the peer (say, waiting for a retransmission timeout)
        boolean[] slowFlows = {false};
        Predicate<TunnelStream> flowing = stream -> stream != slowStream || slowFlows[0];
        for (int i = 0; i < 4; i++) {
            sender.send(FrameType.DATA, 0, Unpooled.buffer(PAYLOAD).writeZero(PAYLOAD));
        }
        assertEquals(List.of(0L, 2L), drain(slow).stream().map(Frame::sequence).toList());
        assertEquals(List.of(1L, 3L), drain(fast).stream().map(Frame::sequence).toList());
        // the receiver got 1..3 but not 0: its ACK says next = 0
        sender.acknowledge(0, 0);
        now[0] = 99;
        assertEquals(0, sender.resendStalledHead(100, flowing));
        now[0] = 100;
        // a head queued behind earlier bytes of a stream whose TCP still moves is not copied
        slowFlows[0] = true;
        assertEquals(0, sender.resendStalledHead(100, flowing));
        assertTrue(drain(fast).isEmpty());
        slowFlows[0] = false;
        // frame 0 and frame 2, both stuck on the slow stream, go on the fast one
        assertEquals(2, sender.resendStalledHead(100, flowing));
        assertEquals(List.of(0L, 2L), drain(fast).stream().map(Frame::sequence).toList());
        assertEquals(2, stats.framesResent.sum());
        // their clocks restarted: not again before another threshold
        now[0] = 150;
        assertEquals(0, sender.resendStalledHead(100, flowing));
        // everything acknowledged: nothing is stalled
        sender.acknowledge(4, 4 * COST);
        now[0] = 1000;
        assertEquals(0, sender.resendStalledHead(100, flowing));
        assertEquals(0, sender.unacknowledgedCount());
        slow.finishAndReleaseAll();
        fast.finishAndReleaseAll();
    }

    /** When no other stream moves bytes either (the whole link stalls), a copy would only queue behind the same bottleneck. */
    @Test
    void noResendWhileEveryStreamIsStalled() {
        SenderStats stats = new SenderStats();
        long[] now = {0};
        FrameSender sender = new FrameSender(1000 * COST, stats, () -> now[0]);
        EmbeddedChannel first = new EmbeddedChannel();
        EmbeddedChannel second = new EmbeddedChannel();
        TunnelStream slow = new TunnelStream(0, first);
        TunnelStream other = new TunnelStream(1, second);
        sender.streamUp(slow);
        sender.streamUp(other);
        for (int i = 0; i < 2; i++) {
            sender.send(FrameType.DATA, 0, Unpooled.buffer(PAYLOAD).writeZero(PAYLOAD));
        }
        assertEquals(List.of(0L), drain(first).stream().map(Frame::sequence).toList());
        assertEquals(List.of(1L), drain(second).stream().map(Frame::sequence).toList());
        boolean[] otherFlows = {false};
        now[0] = 100;
        assertEquals(0, sender.resendStalledHead(100, stream -> stream == other && otherFlows[0]));
        assertEquals(1, stats.resendsWithheld.sum());
        assertEquals(0, stats.framesResent.sum());
        assertTrue(drain(second).isEmpty());
        // the other stream's TCP moves again: the head goes on it
        otherFlows[0] = true;
        assertEquals(1, sender.resendStalledHead(100, stream -> stream == other && otherFlows[0]));
        assertEquals(List.of(0L), drain(second).stream().map(Frame::sequence).toList());
        assertEquals(1, stats.framesResent.sum());
        sender.releaseAll();
        first.finishAndReleaseAll();
        second.finishAndReleaseAll();
    }

    /**
     * Each acknowledged frame adds its time since its first copy to the delivery histogram; a
     * frame held by a full window counts from when it went out, a re-sent one from its first copy.
     */
    @Test
    void acknowledgedFramesAddTheirDeliveryTime() {
        SenderStats stats = new SenderStats();
        long[] now = {0};
        FrameSender sender = new FrameSender(2 * COST, stats, () -> now[0]);
        EmbeddedChannel first = new EmbeddedChannel();
        EmbeddedChannel second = new EmbeddedChannel();
        TunnelStream failing = new TunnelStream(0, first);
        sender.streamUp(failing);
        sender.streamUp(new TunnelStream(1, second));
        sender.send(FrameType.DATA, 0, Unpooled.buffer(PAYLOAD).writeZero(PAYLOAD)); // 0 at t = 0, on stream 0
        now[0] = 1_000_000;
        sender.send(FrameType.DATA, 0, Unpooled.buffer(PAYLOAD).writeZero(PAYLOAD)); // 1 at 1 ms, on stream 1
        sender.send(FrameType.DATA, 0, Unpooled.buffer(PAYLOAD).writeZero(PAYLOAD)); // 2 held: the window is full
        assertEquals(0, stats.frameDeliverySeconds.getCount(), "nothing acknowledged yet");

        // stream 0 fails at 3 ms: frame 0 goes again on stream 1, but its delivery counts from t = 0
        now[0] = 3_000_000;
        sender.streamDown(failing);
        // at 4 ms the ACK covers 0 and 1 and frees their credit: frame 2 goes out at 4 ms
        now[0] = 4_000_000;
        sender.acknowledge(2, 2 * COST);
        assertEquals(2, stats.frameDeliverySeconds.getCount());
        assertEquals(0.004 + 0.003, stats.frameDeliverySeconds.getSum(), 1e-12);
        // at 4.5 ms, frame 2: 0.5 ms after it went out, not 4.5 ms after it was handed over
        now[0] = 4_500_000;
        sender.acknowledge(3, 3 * COST);
        assertEquals(3, stats.frameDeliverySeconds.getCount());
        assertEquals(0.0075, stats.frameDeliverySeconds.getSum(), 1e-12);
        // an ACK that covers nothing new adds nothing
        now[0] = 9_000_000;
        sender.acknowledge(3, 3 * COST);
        assertEquals(3, stats.frameDeliverySeconds.getCount());
        drain(first);
        drain(second);
        first.finishAndReleaseAll();
        second.finishAndReleaseAll();
    }

    @Test
    void noResendWithASingleStream() {
        long[] now = {0};
        FrameSender sender = new FrameSender(1000 * COST, new SenderStats(), () -> now[0]);
        EmbeddedChannel only = new EmbeddedChannel();
        sender.streamUp(new TunnelStream(0, only));
        sender.send(FrameType.DATA, 0, Unpooled.buffer(PAYLOAD).writeZero(PAYLOAD));
        now[0] = 1_000_000;
        assertEquals(0, sender.resendStalledHead(1, stream -> false));
        only.finishAndReleaseAll();
    }

    /** Control frames are counted like data: tunnelBytesSent and the stream's count are the bytes the encoder put on the wire. */
    @Test
    void countsEveryByteOnTheWireControlFramesIncluded() {
        SenderStats stats = new SenderStats();
        FrameSender sender = new FrameSender(1000 * COST, stats);
        EmbeddedChannel wire = new EmbeddedChannel(new FrameEncoder());
        TunnelStream stream = new TunnelStream(0, wire);
        sender.sendControl(stream, new AmstHello(42, 0, 1000 * COST), false);
        sender.streamUp(stream);
        sender.send(FrameType.DATA, 0, Unpooled.buffer(PAYLOAD).writeZero(PAYLOAD));
        assertTrue(sender.sendControl(new AmstAck(1, 0, 0)));
        sender.sendControl(stream, new AmstPing(123), false);
        sender.sendControl(stream, new AmstPong(456), false);
        long beforeClose = wireBytes(wire);
        assertEquals(24 + 20 + 24 + PAYLOAD + 24 + 24 + 24 + 8 + 24 + 8, beforeClose);
        assertEquals(beforeClose, stats.tunnelBytesSent.sum());
        assertEquals(beforeClose, stream.bytesSent());
        assertEquals(5, stream.framesSent());

        sender.sendControl(stream, new AmstAbort("stop"), true);
        long abort = wireBytes(wire);
        assertEquals(24 + 4, abort);
        assertFalse(wire.isOpen(), "the stream closes after the ABORT");
        assertEquals(beforeClose + abort, stats.tunnelBytesSent.sum());
        assertEquals(beforeClose + abort, stream.bytesSent());

        // before a stream belongs to a session (the tunnel port's late ABORT): the daemon's total still counts it
        EmbeddedChannel unattached = new EmbeddedChannel(new FrameEncoder());
        new ControlWriter(stats).writeUnattached(unattached, new AmstAbort("ended"), true);
        assertEquals(24 + 5, wireBytes(unattached));
        assertEquals(beforeClose + abort + 24 + 5, stats.tunnelBytesSent.sum());
        sender.releaseAll();
        wire.finishAndReleaseAll();
        unattached.finishAndReleaseAll();
    }

    private static long wireBytes(EmbeddedChannel channel) {
        long bytes = 0;
        Object message;
        while ((message = channel.readOutbound()) != null) {
            io.netty.buffer.ByteBuf buffer = (io.netty.buffer.ByteBuf) message;
            bytes += buffer.readableBytes();
            buffer.release();
        }
        return bytes;
    }

    /**
     * At the stream's end the newest transmitted, unacknowledged frames get a second copy on
     * another stream, within the budget, oldest first; acknowledged and held frames get none.
     */
    @Test
    void theTailIsCopiedOnOtherStreamsWithinTheBudget() {
        SenderStats stats = new SenderStats();
        FrameSender sender = new FrameSender(8 * COST, stats);
        List<EmbeddedChannel> channels = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            EmbeddedChannel channel = new EmbeddedChannel();
            channels.add(channel);
            sender.streamUp(new TunnelStream(i, channel));
        }
        // 10 frames: 0..7 go out round robin (frame n on stream n % 3), 8 and 9 are held by the window
        for (int i = 0; i < 10; i++) {
            sender.send(FrameType.DATA, 0, Unpooled.buffer(PAYLOAD).writeZero(PAYLOAD));
        }
        List<List<Long>> first = new ArrayList<>();
        for (EmbeddedChannel channel : channels) {
            first.add(drain(channel).stream().map(Frame::sequence).toList());
        }
        assertEquals(List.of(List.of(0L, 3L, 6L), List.of(1L, 4L, 7L), List.of(2L, 5L)), first);
        // 0..2 were acknowledged without their credit being consumed: the window stays full
        sender.acknowledge(3, 0);

        // a budget of four frames and a half: the four newest transmitted ones, 4..7
        int copied = sender.copyTail(4 * (FrameCodec.HEADER_LENGTH + PAYLOAD) + PAYLOAD / 2);
        assertEquals(4, copied);
        assertEquals(4, stats.tailCopies.sum());
        List<Long> copies = new ArrayList<>();
        for (int i = 0; i < channels.size(); i++) {
            for (Frame frame : drain(channels.get(i))) {
                assertFalse(
                        first.get(i).contains(frame.sequence()),
                        "frame " + frame.sequence() + " copied on its own stream");
                copies.add(frame.sequence());
            }
        }
        assertEquals(List.of(4L, 5L, 6L, 7L), copies.stream().sorted().toList());

        assertEquals(0, sender.copyTail(0), "no budget, no copies");
        FrameSender alone = new FrameSender(8 * COST, new SenderStats());
        EmbeddedChannel only = new EmbeddedChannel();
        alone.streamUp(new TunnelStream(0, only));
        alone.send(FrameType.DATA, 0, Unpooled.buffer(PAYLOAD).writeZero(PAYLOAD));
        assertEquals(0, alone.copyTail(1 << 20), "one stream: nowhere else to copy to");
        alone.releaseAll();
        only.finishAndReleaseAll();
        sender.releaseAll();
        channels.forEach(EmbeddedChannel::finishAndReleaseAll);
    }
}
