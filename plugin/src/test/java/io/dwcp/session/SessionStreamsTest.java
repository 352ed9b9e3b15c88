package io.dwcp.session;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.amst.AmstAbort;
import io.dwcp.amst.AmstPing;
import io.dwcp.amst.Frame;
import io.dwcp.amst.FrameCodec;
import io.dwcp.amst.FrameSender;
import io.dwcp.amst.FrameType;
import io.dwcp.amst.StreamPool;
import io.dwcp.amst.TunnelStream;
import io.netty.channel.embedded.EmbeddedChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A session's streams as they come and go, without sockets: each stream is an {@link
 * EmbeddedChannel}, the source's pool dials into a list and schedules its redials into another,
 * and time is what the test passes.
 */
class SessionStreamsTest {
    private static final long WINDOW = 1 << 20;
    private static final long SECOND = 1_000_000_000L;

    private final TunnelStats stats = new TunnelStats();
    private final FrameSender sender = new FrameSender(WINDOW, stats);
    private final List<EmbeddedChannel> wires = new ArrayList<>();
    private final List<Integer> dials = new ArrayList<>();
    private final List<Runnable> redials = new ArrayList<>();
    private final StreamPool pool =
            new StreamPool(2, (slot, failed) -> dials.add(slot), (task, delayMillis) -> redials.add(task), () -> true);

    @AfterEach
    void release() {
        wires.forEach(EmbeddedChannel::finishAndReleaseAll);
    }

    private TunnelStream stream(int index) {
        EmbeddedChannel wire = new EmbeddedChannel();
        wires.add(wire);
        return new TunnelStream(index, wire);
    }

    private SessionStreams source() {
        return new SessionStreams(
                sender, pool, Session.Role.SOURCE, stats, Duration.ofSeconds(5), "beta", "[source]", 0);
    }

    private SessionStreams destination() {
        return new SessionStreams(
                sender, null, Session.Role.DESTINATION, stats, Duration.ofSeconds(5), "alpha", "[destination]", 0);
    }

    private static List<Frame> written(EmbeddedChannel wire) {
        List<Frame> frames = new ArrayList<>();
        Object message;
        while ((message = wire.readOutbound()) != null) {
            frames.add((Frame) message);
        }
        return frames;
    }

    @Test
    void aStreamThatComesUpJoinsTheSenderAndThePool() {
        SessionStreams streams = source();
        TunnelStream stream = stream(0);
        streams.up(stream, 0);
        assertEquals(List.of(stream), sender.streams());
        assertEquals(stream, pool.streams().get(0));
        assertEquals(1, stats.streamsOpened.sum());
    }

    @Test
    void aFailedStreamIsCountedAndTheSourceDialsItsSlotAgain() {
        SessionStreams streams = source();
        TunnelStream stream = stream(1);
        streams.up(stream, 0);
        streams.down(stream, "connection reset", false, true, SECOND);
        assertTrue(sender.streams().isEmpty());
        assertEquals(1, stats.streamsFailed.sum());
        assertEquals(1, redials.size(), "dialled again after a backoff");
        redials.get(0).run();
        assertEquals(List.of(1), dials);
    }

    @Test
    void atTheDestinationACleanCloseIsTheSourceRetiringAStream() {
        SessionStreams streams = destination();
        TunnelStream retired = stream(0);
        TunnelStream failed = stream(1);
        streams.up(retired, 0);
        streams.up(failed, 0);
        streams.down(retired, "closed", true, true, SECOND);
        assertEquals(0, stats.streamsFailed.sum());
        streams.down(failed, "connection reset", false, true, SECOND);
        assertEquals(1, stats.streamsFailed.sum());
    }

    @Test
    void aDrainedStreamIsNoFailureAndClosesOnceNothingOfItsWaitsForAnAck() {
        SessionStreams streams = source();
        TunnelStream drained = stream(0);
        TunnelStream kept = stream(1);
        streams.up(drained, 0);
        streams.up(kept, 0);
        drained.setDraining();

        streams.closeDrained();
        assertFalse(drained.channel().isOpen());
        assertTrue(kept.channel().isOpen());
        streams.down(drained, "closed", true, true, SECOND);
        assertEquals(0, stats.streamsFailed.sum());
        assertTrue(redials.isEmpty());
    }

    @Test
    void aStreamClosedAfterTheSessionEndedOnlyLeaves() {
        SessionStreams streams = source();
        TunnelStream stream = stream(0);
        streams.up(stream, 0);
        streams.down(stream, "connection reset", false, false, SECOND);
        assertTrue(sender.streams().isEmpty());
        assertTrue(pool.streams().isEmpty());
        assertEquals(0, stats.streamsFailed.sum());
        assertTrue(redials.isEmpty());
    }

    @Test
    void theKeepalivePingsEveryStream() {
        SessionStreams streams = destination();
        TunnelStream first = stream(0);
        TunnelStream second = stream(1);
        streams.up(first, 0);
        streams.up(second, 0);
        streams.ping(42);
        for (EmbeddedChannel wire : wires) {
            List<Frame> frames = written(wire);
            assertEquals(1, frames.size());
            assertEquals(FrameType.PING, frames.get(0).type());
            assertEquals(42, AmstPing.decode(frames.get(0).payload()).timestampNanos());
            frames.forEach(Frame::release);
        }
    }

    @Test
    void bytesSentCountsTheStreamsThatWentDown() {
        SessionStreams streams = destination();
        TunnelStream first = stream(0);
        TunnelStream second = stream(1);
        streams.up(first, 0);
        streams.up(second, 0);
        streams.ping(1);
        long ping = FrameCodec.HEADER_LENGTH + AmstPing.LENGTH;
        assertEquals(2 * ping, streams.bytesSent());
        streams.down(first, "closed", true, true, SECOND);
        assertEquals(2 * ping, streams.bytesSent(), "what the closed stream sent still counts");
        wires.forEach(wire -> written(wire).forEach(Frame::release));
    }

    @Test
    void aSessionWithNoStreamForTheReconnectTimeoutFails() {
        SessionStreams streams = source();
        assertDoesNotThrow(() -> streams.checkConnected(5 * SECOND));
        SessionFailure failure = assertThrows(SessionFailure.class, () -> streams.checkConnected(5 * SECOND + 1));
        assertEquals("no tunnel stream to peer beta for 5s", failure.getMessage());

        TunnelStream first = stream(0);
        TunnelStream second = stream(1);
        streams.up(first, 10 * SECOND);
        streams.up(second, 10 * SECOND);
        assertDoesNotThrow(() -> streams.checkConnected(100 * SECOND), "a stream is up");
        streams.down(first, "connection reset", false, true, 12 * SECOND);
        streams.down(second, "connection reset", false, true, 14 * SECOND);
        // the clock started again when the first went down and the other was still up
        assertDoesNotThrow(() -> streams.checkConnected(17 * SECOND));
        assertThrows(SessionFailure.class, () -> streams.checkConnected(17 * SECOND + 1));

        streams.seen(20 * SECOND);
        assertDoesNotThrow(() -> streams.checkConnected(25 * SECOND));
    }

    @Test
    void theStreamsCloseWithTheSessionsLastFrameOrAtOnce() {
        SessionStreams streams = destination();
        TunnelStream told = stream(0);
        streams.up(told, 0);
        streams.closeAll(() -> new AmstAbort("digest mismatch"));
        List<Frame> frames = written(wires.get(0));
        assertEquals(1, frames.size());
        assertEquals(FrameType.ABORT, frames.get(0).type());
        frames.forEach(Frame::release);
        assertFalse(told.channel().isOpen(), "closed once its last frame was written");

        TunnelStream closed = stream(1);
        streams.up(closed, 0);
        streams.closeAll(null);
        assertNull(wires.get(1).readOutbound());
        assertFalse(closed.channel().isOpen());
    }
}
