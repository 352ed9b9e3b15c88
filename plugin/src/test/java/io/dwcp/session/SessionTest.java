package io.dwcp.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.util.concurrent.MoreExecutors;
import io.dwcp.amst.AmstAck;
import io.dwcp.amst.AmstCheckpoint;
import io.dwcp.amst.AmstConfig;
import io.dwcp.amst.AmstFin;
import io.dwcp.amst.AmstOpen;
import io.dwcp.amst.Frame;
import io.dwcp.amst.FrameType;
import io.dwcp.amst.StreamChecksum;
import io.dwcp.amst.TunnelStream;
import io.dwcp.codec.CodecMode;
import io.dwcp.codec.IdentityStreamCodec;
import io.dwcp.codec.PassthroughSessionCodecs;
import io.dwcp.config.HostAndPort;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The session's state machine without sockets: the tunnel stream and the QEMU connection are
 * Netty's {@link EmbeddedChannel}s, whose event loop is the session's, and the codec lane is a
 * direct executor, so every step runs at once on the test's thread (the lanes on real threads are
 * {@code CodecThreadsTest}'s and the daemon tests'); the owner is a hand-written {@link SessionHost}. The test plays the source
 * daemon: it writes the frames a source would send and reads what the destination session sends
 * back.
 */
class SessionTest {
    private static final String NODE = "beta";
    private static final PeerConfig SOURCE =
            new PeerConfig("alpha", new HostAndPort("192.0.2.1", 7470), OptionalInt.empty());
    private static final long WINDOW = 1 << 20;
    /** Pass-through for every mode: the source in these tests offers pass-through. */
    private static final PassthroughSessionCodecs PASSTHROUGH = new PassthroughSessionCodecs(new IdentityStreamCodec());

    private final EmbeddedChannel wire = new EmbeddedChannel();
    private final TunnelStream stream = new TunnelStream(0, wire);
    private final EmbeddedChannel qemu = new EmbeddedChannel();
    private final FakeHost host = new FakeHost();
    private final TunnelStats stats = new TunnelStats();
    private final List<Frame> sent = new ArrayList<>();
    private long nextSequence;

    /** The owner: connects the destination QEMU at once (to {@link #qemu}), records the rest. */
    private final class FakeHost implements SessionHost {
        final List<Target> qemuConnects = new ArrayList<>();
        final List<String> failures = new ArrayList<>();
        final List<Session> removed = new ArrayList<>();

        final Map<Integer, Consumer<Throwable>> dials = new java.util.TreeMap<>();
        final List<Integer> dialOrder = new ArrayList<>();

        @Override
        public void connectStream(Session session, int slot, Consumer<Throwable> onFailure) {
            dials.put(slot, onFailure);
            dialOrder.add(slot);
        }

        @Override
        public void connectToQemu(
                Session session, Target target, int index, long deadlineNanos, Consumer<Channel> result) {
            qemuConnects.add(target);
            result.accept(qemu);
        }

        @Override
        public String describe(Target target) {
            return "unix:" + target.value();
        }

        final List<Session> opened = new ArrayList<>();

        @Override
        public void opened(Session session) {
            opened.add(session);
        }

        @Override
        public void failed(Session session, String reason) {
            failures.add(reason);
        }

        @Override
        public void removed(Session session) {
            removed.add(session);
        }
    }

    @AfterEach
    void release() {
        sent.forEach(Frame::release);
        wire.finishAndReleaseAll();
        qemu.finishAndReleaseAll();
    }

    private Session destination() {
        SessionSettings settings = new SessionSettings(
                NODE,
                new TunnelConfig(),
                new AmstConfig(),
                stats,
                new CodecSelection(
                        CodecMode.PASSTHROUGH, Map.of(CodecMode.PASSTHROUGH, PASSTHROUGH, CodecMode.HDE, PASSTHROUGH)),
                MoreExecutors::directExecutor);
        Session session =
                new Session(settings, host, 0x42, Session.Role.DESTINATION, SOURCE, wire.eventLoop(), null, "", WINDOW);
        session.run(session::start);
        session.run(() -> session.streamUp(stream));
        return session;
    }

    @Test
    void rebuildsTheSourcesStreamInOrderDeliversOnlyWhatWasVerifiedAndCompletes() {
        Session session = destination();
        open(session, NODE + "/0123abcd");
        assertEquals(1, count(FrameType.ACCEPT), "the destination answers the codec offer");
        channelOpen(session, 0);
        assertEquals(
                List.of("beta/0123abcd"),
                host.qemuConnects.stream().map(Target::value).toList());
        assertEquals(List.of(session), host.opened, "the owner hears which migration the session carries");
        assertEquals(java.util.Optional.of("0123abcd"), session.migrationId());

        byte[] first = "the first part of the stream ".getBytes(StandardCharsets.UTF_8);
        byte[] second = "and its end".getBytes(StandardCharsets.UTF_8);
        // the second DATA frame overtakes the first on the wire
        Frame early = sequenced(FrameType.DATA, 0, Unpooled.wrappedBuffer(second), nextSequence + 1);
        Frame late = sequenced(FrameType.DATA, 0, Unpooled.wrappedBuffer(first), nextSequence);
        nextSequence += 2;
        session.run(() -> session.onFrame(stream, early));
        session.run(() -> session.onFrame(stream, late));
        assertEquals(0, delivered().length, "nothing reaches QEMU before a checkpoint or FIN verified it");

        deliver(
                session,
                FrameType.CHECKPOINT,
                0,
                new AmstCheckpoint(first.length + second.length, StreamChecksum.of(first, second)).encode());
        assertEquals(
                new String(first, StandardCharsets.UTF_8) + new String(second, StandardCharsets.UTF_8),
                new String(delivered(), StandardCharsets.UTF_8));
        deliver(
                session,
                FrameType.FIN,
                0,
                new AmstFin(first.length + second.length, StreamChecksum.of(first, second)).encode());
        assertEquals(Session.State.OPEN, session.state(), "the destination QEMU's own stream has not ended yet");

        // the destination QEMU closes: its (empty) return stream ends with a FIN the source must acknowledge
        qemu.close();
        assertEquals(1, count(FrameType.FIN));
        assertEquals(Session.State.OPEN, session.state(), "waits for the source's acknowledgement");
        acknowledgeEverything(session);

        assertEquals(Session.State.COMPLETED, session.state());
        assertEquals(List.of(session), host.removed);
        assertEquals(1, stats.sessionsCompleted.sum());
        assertEquals(first.length + second.length, session.qemuBytesWritten());
    }

    @Test
    void creditReturnsOnceAFrameIsDecodedAndTheAckCountsWhatEachConnectionDelivered() {
        Session session = destination();
        open(session, NODE + "/0123abcd");
        channelOpen(session, 0);
        byte[] bytes = "sixteen bytes..!".getBytes(StandardCharsets.UTF_8);
        deliver(session, FrameType.DATA, 0, Unpooled.wrappedBuffer(bytes));
        AmstAck held = lastAck(session);
        assertEquals(0, delivered().length, "held back until verified");
        assertEquals(
                List.of(new AmstAck.ChannelDelivered(0, 0)),
                held.channels(),
                "every connection is named; none delivered anything yet");
        assertEquals(3, held.nextSequence());
        assertTrue(
                held.consumedCredit() >= io.dwcp.amst.FrameCodec.frameCost(bytes.length),
                "the DATA frame's credit is back before its bytes reached QEMU: " + held);

        deliver(session, FrameType.CHECKPOINT, 0, new AmstCheckpoint(bytes.length, StreamChecksum.of(bytes)).encode());
        assertEquals(bytes.length, delivered().length);
        assertEquals(
                List.of(new AmstAck.ChannelDelivered(0, bytes.length)),
                lastAck(session).channels());
        assertEquals(bytes.length, lastAck(session).delivered());
    }

    @Test
    void aDigestMismatchFailsTheSessionAndNothingUnverifiedReachesQemu() {
        Session session = destination();
        open(session, NODE);
        channelOpen(session, 0);
        deliver(
                session,
                FrameType.DATA,
                0,
                Unpooled.wrappedBuffer("a corrupted page".getBytes(StandardCharsets.UTF_8)));
        deliver(
                session,
                FrameType.FIN,
                0,
                new AmstFin(16, StreamChecksum.of("the page it was.".getBytes(StandardCharsets.UTF_8))).encode());

        assertEquals(Session.State.FAILED, session.state());
        assertTrue(
                session.failure()
                        .orElseThrow()
                        .startsWith("end-to-end digest mismatch on channel 0 at stream offset 16"),
                session.failure().orElseThrow());
        assertEquals(1, stats.digestMismatches.sum());
        assertEquals(0, delivered().length);
        assertFalse(qemu.isOpen(), "the destination QEMU's connection is closed without the unverified bytes");
        assertEquals(1, count(FrameType.ABORT), "the source is told");
        assertEquals(host.failures, List.of(session.failure().orElseThrow()));
        assertEquals(List.of(session), host.removed);
    }

    @Test
    void aFrameForAChannelNeverOpenedFailsTheSession() {
        Session session = destination();
        open(session, NODE);
        deliver(session, FrameType.DATA, 5, Unpooled.wrappedBuffer(new byte[10]));
        assertEquals("DATA for unknown channel 5", session.failure().orElseThrow());
        assertTrue(host.qemuConnects.isEmpty());
    }

    @Test
    void anOpenThatNamesAnotherHostIsRefused() {
        Session session = destination();
        open(session, "gamma/0123abcd");
        assertEquals(Session.State.FAILED, session.state());
        assertTrue(
                session.failure().orElseThrow().startsWith("bad OPEN: "),
                session.failure().orElseThrow());
        assertTrue(host.qemuConnects.isEmpty(), "no QEMU was connected for a target that is not this host's");
    }

    @Test
    void whoWaitsForTheEndIsToldOnceWhenTheSessionFailsAndAtOnceAfterwards() {
        Session session = destination();
        List<String> told = new ArrayList<>();
        session.whenEnded(() -> told.add("registered while open"));
        open(session, NODE);
        assertEquals(List.of(), told, "told before the session ended");
        channelOpen(session, 1);
        assertEquals(Session.State.FAILED, session.state());
        assertEquals(List.of("registered while open"), told);
        session.whenEnded(() -> told.add("registered after the end"));
        assertEquals(List.of("registered while open", "registered after the end"), told);
    }

    @Test
    void channelsMustOpenInOrder() {
        Session session = destination();
        open(session, NODE);
        channelOpen(session, 1);
        assertEquals("CHANNEL_OPEN 1: expected channel 0", session.failure().orElseThrow());
    }

    @Test
    void aSourceThatIgnoresTheWindowFailsTheSession() {
        Session session = destination();
        open(session, NODE);
        channelOpen(session, 0);
        // sequence numbers far ahead of the next expected one, never consumed: more than the window
        byte[] payload = new byte[new AmstConfig().getMaxFramePayload().toIntBytes()];
        long sequence = nextSequence + 1;
        while (session.state() == Session.State.OPEN && sequence < nextSequence + 10_000) {
            Frame frame = sequenced(FrameType.DATA, 0, Unpooled.wrappedBuffer(payload), sequence++);
            session.run(() -> session.onFrame(stream, frame));
        }
        assertEquals(Session.State.FAILED, session.state());
        assertTrue(
                session.failure()
                        .orElseThrow()
                        .startsWith("peer broke the window: the peer announced a window of " + WINDOW + " bytes"),
                session.failure().orElseThrow());
        assertTrue((sequence - nextSequence) * payload.length > WINDOW, "failed only beyond the window");
    }

    @Test
    void aDestinationDialsNoStream() {
        destination();
        assertTrue(host.dialOrder.isEmpty());
    }

    // ---- the source role: the test plays the destination daemon ----

    private Session source() {
        return source(new AmstConfig().setInitialStreams(2).setMinStreams(1), 0x43, "guest-1");
    }

    /** A source session of migration {@code beta/0123abcd}, started (its OPEN waits for a stream). */
    private Session source(AmstConfig amst, long id, String vm) {
        SessionSettings settings = new SessionSettings(
                "alpha",
                new TunnelConfig(),
                amst,
                stats,
                new CodecSelection(
                        CodecMode.PASSTHROUGH, Map.of(CodecMode.PASSTHROUGH, PASSTHROUGH, CodecMode.HDE, PASSTHROUGH)),
                MoreExecutors::directExecutor);
        PeerConfig destination = new PeerConfig(NODE, new HostAndPort("192.0.2.2", 7470), OptionalInt.empty());
        Session session = new Session(
                settings,
                host,
                id,
                Session.Role.SOURCE,
                destination,
                wire.eventLoop(),
                Target.migration(NODE, "0123abcd"),
                vm,
                WINDOW);
        session.run(session::start);
        return session;
    }

    @Test
    void aSourceDialsItsStreamsOpensTheMigrationAndRedialsAFailedStream() {
        wire.freezeTime();
        Session session = source();
        assertEquals(List.of(0, 1), host.dialOrder, "the initial streams are dialled at once");
        assertEquals(0, count(FrameType.OPEN), "nothing is sent before a stream is up");

        session.run(() -> session.streamConnected(stream, new io.dwcp.amst.AmstHello(0x43, 0, WINDOW)));
        assertEquals(
                FrameType.HELLO,
                sent.isEmpty() ? firstSent().type() : sent.get(0).type(),
                "a stream's first frame is its HELLO");
        assertEquals(1, count(FrameType.OPEN));
        Frame open = sent.stream()
                .filter(frame -> frame.type() == FrameType.OPEN)
                .findFirst()
                .orElseThrow();
        AmstOpen decoded = AmstOpen.decode(open.payload().duplicate());
        assertEquals("beta/0123abcd", decoded.target(), "the OPEN names the migration");
        assertEquals("guest-1", decoded.vm(), "and its VM");

        // stream 1 cannot be set up: it is dialled again after a backoff
        Consumer<Throwable> failure = host.dials.remove(1);
        session.run(() -> failure.accept(new java.io.IOException("connection refused")));
        assertEquals(List.of(0, 1), host.dialOrder);
        wire.advanceTimeBy(150, java.util.concurrent.TimeUnit.MILLISECONDS);
        wire.runScheduledPendingTasks();
        assertEquals(List.of(0, 1, 1), host.dialOrder);
        assertEquals(Session.State.OPEN, session.state());
    }

    @Test
    void aSourceCompletesOnlyOnceTheDestinationAcknowledgedTheWholeStream() {
        Session session = source();
        EmbeddedChannel sourceQemu = connectSourceQemu(session);
        try {
            byte[] stream = "QEMU's migration stream".getBytes(StandardCharsets.UTF_8);
            sourceQemu.writeInbound(Unpooled.wrappedBuffer(stream));
            sourceQemu.pipeline().fireUserEventTriggered(io.netty.channel.socket.ChannelInputShutdownEvent.INSTANCE);
            assertEquals(1, count(FrameType.CHANNEL_OPEN));
            assertEquals(1, count(FrameType.FIN), "QEMU's stream ended: its FIN went");
            assertEquals(stream.length, session.qemuBytesRead());

            // the destination's return stream ends (empty), then it acknowledges everything
            io.dwcp.amst.AmstAccept accept = new io.dwcp.amst.AmstAccept(Unpooled.EMPTY_BUFFER, true);
            deliver(session, FrameType.ACCEPT, accept.channel(), accept.encode());
            deliver(session, FrameType.FIN, 0, new AmstFin(0, StreamChecksum.of()).encode());
            assertEquals(
                    Session.State.OPEN,
                    session.state(),
                    "not complete while the destination has not acknowledged the stream");
            acknowledgeEverything(session);
            assertEquals(Session.State.COMPLETED, session.state());
            assertEquals(List.of(session), host.removed);
        } finally {
            sourceQemu.finishAndReleaseAll();
        }
    }

    /**
     * QEMU writes its stream in bursts, each of which drains the socket: the checkpoint a pause asks
     * for waits amst.checkpoint-delay for the next burst and goes with it, and goes once QEMU is
     * quiet for a delay, or after at most ten delays of bursts.
     */
    @Test
    void aPauseCheckpointWaitsForQemusNextBytes() {
        wire.freezeTime();
        Session session = source();
        EmbeddedChannel sourceQemu = connectSourceQemu(session);
        try {
            long delay = new AmstConfig().getCheckpointDelay().toMillis();
            assertEquals(5, delay);
            byte[] burst = new byte[100];
            for (int i = 0; i < 5; i++) {
                sourceQemu.writeInbound(Unpooled.wrappedBuffer(burst));
                advanceMillis(3);
            }
            assertEquals(0, count(FrameType.CHECKPOINT), "bursts 3 ms apart: no checkpoint yet");
            // a check sees the bytes that came since the one before: quiet from the second on
            advanceMillis(2 * delay);
            assertEquals(1, count(FrameType.CHECKPOINT), "QEMU quiet: one checkpoint for the five bursts");

            // QEMU never quiet for a delay: a checkpoint at the tenth delay after the pause
            for (int i = 0; i < 10 * delay - 1; i++) {
                sourceQemu.writeInbound(Unpooled.wrappedBuffer(burst));
                advanceMillis(1);
            }
            assertEquals(1, count(FrameType.CHECKPOINT), "bursts every millisecond for nine delays and more");
            sourceQemu.writeInbound(Unpooled.wrappedBuffer(burst));
            advanceMillis(1);
            assertEquals(2, count(FrameType.CHECKPOINT), "the tenth delay passed");
            assertEquals((5 + 10 * delay) * burst.length, session.qemuBytesRead());
        } finally {
            sourceQemu.finishAndReleaseAll();
        }
    }

    /** A pause's checkpoint at once with amst.checkpoint-delay 0s, as before it existed. */
    @Test
    void withoutACheckpointDelayEveryPauseCheckpoints() {
        Session session = source(
                new AmstConfig().setInitialStreams(2).setMinStreams(1).setCheckpointDelay(java.time.Duration.ZERO),
                0x43,
                "guest-1");
        EmbeddedChannel sourceQemu = connectSourceQemu(session);
        try {
            for (int i = 0; i < 3; i++) {
                sourceQemu.writeInbound(Unpooled.wrappedBuffer(new byte[100]));
            }
            assertEquals(3, count(FrameType.CHECKPOINT));
        } finally {
            sourceQemu.finishAndReleaseAll();
        }
    }

    /** Brings the source session's stream up and connects a QEMU to it: the returned channel plays QEMU. */
    private EmbeddedChannel connectSourceQemu(Session session) {
        session.run(() -> session.streamConnected(stream, new io.dwcp.amst.AmstHello(0x43, 0, WINDOW)));
        EmbeddedChannel sourceQemu = new EmbeddedChannel();
        QemuChannel channel = session.newChannel(session.reserveChannelIndex());
        sourceQemu.pipeline().addLast("qemu", new QemuChannelHandler(session, channel));
        session.run(() -> session.addSourceChannel(channel, sourceQemu));
        return sourceQemu;
    }

    /** Lets {@code millis} pass on the session loop's clock, a millisecond at a time, running what falls due. */
    private void advanceMillis(long millis) {
        wire.runPendingTasks();
        for (long i = 0; i < millis; i++) {
            wire.advanceTimeBy(1, java.util.concurrent.TimeUnit.MILLISECONDS);
            wire.runPendingTasks();
        }
    }

    @Test
    void withMultifdTheRawWindowNeverHoldsBackTheMainChannel() {
        // a raw window of 64 KiB: a multifd channel's bytes fill it, the destination delivers none of them
        Session session = source(new AmstConfig().setRawWindow(io.dwcp.config.DataSize.ofKiB(64)), 0x44, "");
        session.run(() -> session.streamConnected(stream, new io.dwcp.amst.AmstHello(0x44, 0, WINDOW)));
        EmbeddedChannel main = new EmbeddedChannel();
        EmbeddedChannel multifd = new EmbeddedChannel();
        try {
            for (EmbeddedChannel netty : List.of(main, multifd)) {
                QemuChannel channel = session.newChannel(session.reserveChannelIndex());
                netty.pipeline().addLast("qemu", new QemuChannelHandler(session, channel));
                session.run(() -> session.addSourceChannel(channel, netty));
            }
            multifd.writeInbound(Unpooled.wrappedBuffer(new byte[96 << 10]));
            session.run(session::updateReading);

            assertFalse(session.reads(1), "the multifd channel waits for the destination to deliver");
            assertTrue(
                    session.reads(0),
                    "the main channel, which carries the sync the destination's multifd channels wait for, is still read");
            assertEquals(Session.State.OPEN, session.state());
        } finally {
            main.finishAndReleaseAll();
            multifd.finishAndReleaseAll();
        }
    }

    @Test
    void eachQemuConnectionHasItsOwnShareOfTheRawWindow() {
        // 192 KiB over three connections: 64 KiB each (2 x the checkpoint interval is less)
        Session session = source(
                new AmstConfig()
                        .setRawWindow(io.dwcp.config.DataSize.ofKiB(192))
                        .setCheckpointInterval(io.dwcp.config.DataSize.ofKiB(16)),
                0x45,
                "");
        session.run(() -> session.streamConnected(stream, new io.dwcp.amst.AmstHello(0x45, 0, WINDOW)));
        List<EmbeddedChannel> qemus = List.of(new EmbeddedChannel(), new EmbeddedChannel(), new EmbeddedChannel());
        try {
            for (EmbeddedChannel netty : qemus) {
                QemuChannel channel = session.newChannel(session.reserveChannelIndex());
                netty.pipeline().addLast("qemu", new QemuChannelHandler(session, channel));
                session.run(() -> session.addSourceChannel(channel, netty));
            }
            // multifd channel 1 reached a sync point: the destination QEMU reads none of its next bytes
            qemus.get(1).writeInbound(Unpooled.wrappedBuffer(new byte[96 << 10]));
            qemus.get(2).writeInbound(Unpooled.wrappedBuffer(new byte[32 << 10]));
            session.run(session::updateReading);
            assertFalse(session.reads(1), "channel 1 used up its share");
            assertTrue(session.reads(2), "channel 2, whose sync packet the destination waits for, is still read");
            assertTrue(session.reads(0), "and so is the main channel");

            // the destination wrote channel 2's bytes and then channel 1's into its QEMU
            acknowledgeDelivered(
                    session, List.of(new AmstAck.ChannelDelivered(1, 0), new AmstAck.ChannelDelivered(2, 32 << 10)));
            assertFalse(session.reads(1));
            acknowledgeDelivered(
                    session,
                    List.of(new AmstAck.ChannelDelivered(1, 96 << 10), new AmstAck.ChannelDelivered(2, 32 << 10)));
            assertTrue(session.reads(1), "channel 1 is read again once the destination took its bytes");
            assertEquals(Session.State.OPEN, session.state());
        } finally {
            qemus.forEach(EmbeddedChannel::finishAndReleaseAll);
        }
    }

    /** An ACK from the destination of nothing new but what its QEMU connections took. */
    private void acknowledgeDelivered(Session session, List<AmstAck.ChannelDelivered> channels) {
        long total =
                channels.stream().mapToLong(AmstAck.ChannelDelivered::delivered).sum();
        Frame ack = Frame.control(FrameType.ACK, new AmstAck(0, 0, total, channels).encode());
        session.run(() -> session.onFrame(stream, ack));
    }

    /** The last ACK the session sent. */
    /** The last ACK sent, once a coalesced one's delay has passed. */
    private AmstAck lastAck(Session session) {
        wire.advanceTimeBy(AckScheduler.MAX_DELAY_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
        wire.runScheduledPendingTasks();
        drain();
        for (int i = sent.size() - 1; i >= 0; i--) {
            if (sent.get(i).type() == FrameType.ACK) {
                return AmstAck.decode(sent.get(i).payload().duplicate());
            }
        }
        throw new AssertionError("no ACK sent");
    }

    private Frame firstSent() {
        drain();
        return sent.get(0);
    }

    // ---- the source's side of the conversation ----

    private void open(Session session, String target) {
        byte[] offer = CodecSelection.offer(PASSTHROUGH.newSource(1, "test"));
        deliver(session, FrameType.OPEN, 0, new AmstOpen(AmstOpen.TargetKind.UNIX_SOCKET, target, "", offer).encode());
    }

    private void channelOpen(Session session, int channel) {
        deliver(session, FrameType.CHANNEL_OPEN, channel, Unpooled.EMPTY_BUFFER);
    }

    private void deliver(Session session, FrameType type, int channel, ByteBuf payload) {
        Frame frame = sequenced(type, channel, payload, nextSequence++);
        session.run(() -> session.onFrame(stream, frame));
    }

    private static Frame sequenced(FrameType type, int channel, ByteBuf payload, long sequence) {
        return new Frame(type, sequence, channel, payload);
    }

    /** ACKs every sequenced frame the destination sent, with all their credit consumed. */
    private void acknowledgeEverything(Session session) {
        drain();
        long next = 0;
        long credit = 0;
        for (Frame frame : sent) {
            if (frame.type().isSequenced()) {
                next = Math.max(next, frame.sequence() + 1);
                credit += io.dwcp.amst.FrameCodec.frameCost(frame.payloadLength());
            }
        }
        Frame ack = Frame.control(FrameType.ACK, new AmstAck(next, credit, 0).encode());
        session.run(() -> session.onFrame(stream, ack));
    }

    /** Frames of a type the destination sent so far. */
    private long count(FrameType type) {
        drain();
        return sent.stream().filter(frame -> frame.type() == type).count();
    }

    private void drain() {
        wire.runPendingTasks();
        Object message;
        while ((message = wire.readOutbound()) != null) {
            sent.add((Frame) message);
        }
    }

    /** What the destination QEMU received so far. */
    private byte[] delivered() {
        qemu.runPendingTasks();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuf buffer;
        while ((buffer = qemu.readOutbound()) != null) {
            byte[] bytes = new byte[buffer.readableBytes()];
            buffer.readBytes(bytes);
            buffer.release();
            out.writeBytes(bytes);
        }
        return out.toByteArray();
    }
}
