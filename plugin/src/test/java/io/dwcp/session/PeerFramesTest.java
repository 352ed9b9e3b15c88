package io.dwcp.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.amst.AmstAbort;
import io.dwcp.amst.AmstAccept;
import io.dwcp.amst.AmstAck;
import io.dwcp.amst.AmstConfig;
import io.dwcp.amst.AmstFin;
import io.dwcp.amst.AmstHello;
import io.dwcp.amst.AmstOpen;
import io.dwcp.amst.AmstPing;
import io.dwcp.amst.AmstPong;
import io.dwcp.amst.Frame;
import io.dwcp.amst.FrameCodec;
import io.dwcp.amst.FrameSender;
import io.dwcp.amst.FrameType;
import io.dwcp.amst.Receiver;
import io.dwcp.amst.TunnelStream;
import io.dwcp.codec.IdentityStreamCodec;
import io.dwcp.codec.PassthroughSessionCodecs;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What the peer's frames do, without a session: the owner is a hand-written {@link
 * PeerFrames.Owner} that records what it was asked, the stream an {@link EmbeddedChannel}, the
 * session's loop (for the ACKs) a list of tasks; the session has no QEMU connection and neither
 * role's side, so what needs one is refused as a session would refuse it.
 */
class PeerFramesTest {
    private static final long WINDOW = 1 << 20;

    /** The session: open or not, and what the frames asked of it. */
    private static final class FakeOwner implements PeerFrames.Owner {
        boolean open = true;
        int acknowledged;
        int checkDone;
        final List<String> failures = new ArrayList<>();

        @Override
        public boolean isOpen() {
            return open;
        }

        @Override
        public QemuChannel newChannel(int index) {
            throw new AssertionError("no channel is opened in these tests");
        }

        @Override
        public void acknowledged() {
            acknowledged++;
        }

        @Override
        public void checkDone() {
            checkDone++;
        }

        @Override
        public void fail(String reason, boolean notifyPeer) {
            failures.add(reason + (notifyPeer ? " (peer told)" : ""));
        }
    }

    private final TunnelStats stats = new TunnelStats();
    private final EmbeddedChannel wire = new EmbeddedChannel();
    private final TunnelStream stream = new TunnelStream(0, wire);
    private final FrameSender sender = new FrameSender(WINDOW, stats);
    private final Receiver receiver = new Receiver(WINDOW, 64 << 10);
    private final List<Runnable> loop = new ArrayList<>();
    private final List<AmstAck> acks = new ArrayList<>();
    private final Map<Integer, QemuChannel> channels = new TreeMap<>();
    private final FakeOwner owner = new FakeOwner();
    private final AckScheduler ackScheduler = new AckScheduler(
            receiver,
            channels.values(),
            () -> 0,
            loop::add,
            (millis, task) -> loop.add(task),
            4 << 20,
            () -> true,
            acks::add);
    private final QemuReadGate gate = new QemuReadGate(
            new AmstConfig(), WINDOW, channels.values(), () -> true, reading -> {}, true, new ManualClock(), "[test]");
    private final PeerFrames frames =
            new PeerFrames(owner, sender, receiver, ackScheduler, gate, channels, null, null, stats, "alpha");

    @AfterEach
    void release() {
        sender.releaseAll();
        receiver.releaseAll();
        wire.finishAndReleaseAll();
    }

    private List<Frame> written() {
        List<Frame> written = new ArrayList<>();
        Object message;
        while ((message = wire.readOutbound()) != null) {
            written.add((Frame) message);
        }
        return written;
    }

    private static Frame sequenced(FrameType type, long sequence, int channel, ByteBuf payload) {
        return new Frame(type, sequence, channel, payload);
    }

    private String refusal(Frame frame) {
        return assertThrows(SessionFailure.class, () -> frames.onFrame(stream, frame))
                .getMessage();
    }

    @Test
    void aPingIsAnsweredOnItsStreamAndAPongMeasuresTheStreamsRtt() {
        frames.onFrame(stream, Frame.control(FrameType.PING, new AmstPing(1234).encode()));
        List<Frame> written = written();
        assertEquals(1, written.size());
        assertEquals(FrameType.PONG, written.get(0).type());
        assertEquals(1234, AmstPong.decode(written.get(0).payload()).timestampNanos());
        written.forEach(Frame::release);

        frames.onFrame(stream, Frame.control(FrameType.PONG, new AmstPong(System.nanoTime() - 2_000_000).encode()));
        assertTrue(stream.rttNanos() >= 2_000_000, "rtt " + stream.rttNanos());
    }

    @Test
    void anAckFreesTheWindowAndTheSessionChecksWhatItAllows() {
        sender.streamUp(stream);
        sender.send(FrameType.DATA, 0, Unpooled.wrappedBuffer(new byte[100]));
        written().forEach(Frame::release);
        assertEquals(FrameCodec.frameCost(100), sender.inFlight());

        AmstAck ack = new AmstAck(1, FrameCodec.frameCost(100), 100, List.of(new AmstAck.ChannelDelivered(3, 100)));
        frames.onFrame(stream, Frame.control(FrameType.ACK, ack.encode()));
        assertEquals(0, sender.inFlight());
        assertEquals(0, sender.unacknowledgedCount());
        assertEquals(1, owner.acknowledged, "drained streams, reading and completion are checked again");
    }

    @Test
    void anAbortFailsTheSessionWithoutTellingThePeer() {
        frames.onFrame(stream, Frame.control(FrameType.ABORT, new AmstAbort("digest mismatch").encode()));
        assertEquals(List.of("peer aborted the session: digest mismatch"), owner.failures);
    }

    @Test
    void aHelloOnAnEstablishedStreamIsRefused() {
        assertEquals(
                "HELLO on an established stream",
                refusal(Frame.control(FrameType.HELLO, new AmstHello(0x42, 0, WINDOW).encode())));
    }

    @Test
    void theOtherRolesFramesAreRefused() {
        byte[] offer =
                CodecSelection.offer(new PassthroughSessionCodecs(new IdentityStreamCodec()).newSource(1, "test"));
        ByteBuf open = new AmstOpen(AmstOpen.TargetKind.UNIX_SOCKET, "beta", "", offer).encode();
        assertEquals("unexpected OPEN", refusal(sequenced(FrameType.OPEN, 0, 0, open)));

        AmstAccept accept = new AmstAccept(Unpooled.EMPTY_BUFFER, true);
        assertEquals("unexpected ACCEPT", refusal(sequenced(FrameType.ACCEPT, 1, accept.channel(), accept.encode())));
        assertEquals(
                "CHANNEL_OPEN before OPEN", refusal(sequenced(FrameType.CHANNEL_OPEN, 2, 0, Unpooled.EMPTY_BUFFER)));
    }

    @Test
    void aFrameForAConnectionNeverOpenedIsRefused() {
        assertEquals(
                "DATA for unknown channel 5",
                refusal(sequenced(FrameType.DATA, 0, 5, Unpooled.wrappedBuffer(new byte[10]))));
        assertEquals("FIN for unknown channel 2", refusal(sequenced(FrameType.FIN, 1, 2, new AmstFin(0, 0L).encode())));
        assertEquals(0, owner.checkDone);
    }

    @Test
    void sequencedFramesAreReadInOrderAndOnlyWhileTheSessionIsOpen() {
        // the second frame overtakes the first: it waits for it, and an ACK is asked for
        frames.onFrame(stream, sequenced(FrameType.DATA, 1, 5, Unpooled.wrappedBuffer(new byte[10])));
        assertEquals(1, receiver.waiting());
        assertEquals(1, loop.size(), "an ACK is scheduled");

        // a copy of a frame already waiting is a duplicate
        frames.onFrame(stream, sequenced(FrameType.DATA, 1, 5, Unpooled.wrappedBuffer(new byte[10])));
        assertEquals(1, stats.framesDuplicate.sum());

        // once the session ended, the frames the first one releases are not read
        owner.open = false;
        frames.onFrame(stream, sequenced(FrameType.DATA, 0, 5, Unpooled.wrappedBuffer(new byte[10])));
        assertEquals(List.of(), owner.failures);
        assertEquals(2, receiver.waiting());
    }
}
