package io.dwcp.session;

import static io.dwcp.session.TestBed.await;
import static io.dwcp.session.TestBed.readAndVerify;
import static io.dwcp.session.TestBed.writeStream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.inject.Module;
import io.dwcp.amst.TunnelStream;
import io.dwcp.codec.IdentityStreamCodec;
import io.dwcp.codec.StreamCodec;
import io.dwcp.codec.StreamDecoder;
import io.dwcp.codec.StreamEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelOption;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** Stream failure, back-pressure and the end-to-end digest, with two daemons on loopback. */
class TunnelResilienceTest {
    private static final long MIB = 1 << 20;

    @Test
    void killedStreamMidTransferLosesNothing() throws Exception {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        long bytes = 96 * MIB;
        ExecutorService executor = Executors.newCachedThreadPool();
        try (TestBed bed = new TestBed(
                        Map.of("amst.initial-streams", "4", "amst.adapt-interval", "0s", "amst.window", "16MiB"));
                ServerSocketChannel destination = bed.listenAsDestinationQemu()) {
            Future<Long> received = executor.submit(() -> {
                try (SocketChannel channel = destination.accept()) {
                    return readAndVerify(channel, seed, bytes, true);
                }
            });
            Future<?> killer = executor.submit(() -> {
                await(
                        "a third of the stream read from QEMU",
                        Duration.ofSeconds(60),
                        () -> bed.alpha.tunnelStats().qemuBytesRead.sum() > bytes / 3);
                Session session = bed.alpha.sessions().sessions().iterator().next();
                session.run(() -> {
                    TunnelStream victim = session.streamsSnapshot().get(1);
                    // an abrupt failure (RST), with frames in flight on it
                    victim.channel().config().setOption(ChannelOption.SO_LINGER, 0);
                    victim.channel().close();
                });
                return null;
            });
            try (SocketChannel source = bed.connectAsSourceQemu()) {
                // half the stream, then the rest once the killed stream is back: otherwise the
                // stream could end before its replacement is open, and nothing would show it reopens
                writeStream(source, seed, bytes, bytes / 2, () -> {
                    killer.get(60, TimeUnit.SECONDS);
                    await(
                            "the killed stream to be reopened",
                            Duration.ofSeconds(60),
                            () -> bed.alpha.tunnelStats().streamsOpened.sum() >= 5);
                    return null;
                });
            }
            killer.get(60, TimeUnit.SECONDS);
            assertEquals(
                    bytes,
                    received.get(120, TimeUnit.SECONDS),
                    "bytes delivered exactly once, in order, then the end of the stream");
            await(
                    "sessions to complete",
                    Duration.ofSeconds(20),
                    () -> bed.alpha.sessions().sessions().isEmpty()
                            && bed.beta.sessions().sessions().isEmpty());
            var alpha = bed.alpha.tunnelStats();
            assertEquals(1, alpha.sessionsCompleted.sum());
            assertTrue(alpha.streamsFailed.sum() >= 1, "the killed stream was seen as failed");
            assertTrue(
                    alpha.streamsOpened.sum() >= 5, "the killed stream was reconnected: " + alpha.streamsOpened.sum());
            System.out.println("frames re-sent after the kill: " + alpha.framesResent.sum()
                    + ", duplicates dropped at the destination: "
                    + bed.beta.tunnelStats().framesDuplicate.sum());
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void rawWindowStopsReadingQemuWhenEncodingShrinksTheFrames() throws Exception {
        long bytes = 512 * MIB;
        ExecutorService executor = Executors.newCachedThreadPool();
        // zeros: HDE shrinks them to almost nothing, so only the raw window can hold QEMU back
        try (TestBed bed = new TestBed(Map.of(
                        "codec.mode",
                        "hde",
                        "hde.tier",
                        "3",
                        "amst.raw-window",
                        "8MiB",
                        "amst.checkpoint-interval",
                        "1MiB",
                        "amst.adapt-interval",
                        "0s"));
                ServerSocketChannel destination = bed.listenAsDestinationQemu()) {
            Future<SocketChannel> accepted = executor.submit(() -> destination.accept());
            AtomicLong written = new AtomicLong();
            SocketChannel source = bed.connectAsSourceQemu();
            Future<?> writer = executor.submit(() -> {
                ByteBuffer buffer = ByteBuffer.allocateDirect(64 * 1024);
                while (written.get() < bytes) {
                    buffer.clear();
                    while (buffer.hasRemaining()) {
                        written.addAndGet(source.write(buffer));
                    }
                }
                return null;
            });
            long stalledAt = awaitStall(written, Duration.ofSeconds(60));
            Session session = bed.alpha.sessions().sessions().iterator().next();
            System.out.printf(
                    "source QEMU could write %.1f MiB with an 8 MiB raw window; frames in flight %d bytes%n",
                    stalledAt / (double) MIB, session.inFlight());
            assertTrue(stalledAt < 32 * MIB, "QEMU was not held back: " + stalledAt + " bytes written");

            try (SocketChannel channel = accepted.get(10, TimeUnit.SECONDS)) {
                Future<Long> received = executor.submit(() -> {
                    ByteBuffer buffer = ByteBuffer.allocate(1 << 20);
                    long total = 0;
                    while (total < bytes) {
                        buffer.clear();
                        int n = channel.read(buffer);
                        if (n < 0) {
                            break;
                        }
                        for (int i = 0; i < n; i++) {
                            if (buffer.get(i) != 0) {
                                throw new AssertionError("byte " + (total + i) + " is not zero");
                            }
                        }
                        total += n;
                    }
                    return total;
                });
                writer.get(120, TimeUnit.SECONDS);
                assertEquals(bytes, received.get(120, TimeUnit.SECONDS));
                source.close();
            }
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void fullWindowStopsReadingQemu() throws Exception {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        long window = 4 * MIB;
        long bytes = 256 * MIB;
        ExecutorService executor = Executors.newCachedThreadPool();
        // what waits for the destination QEMU is bounded by the raw window (credit returns once a frame is decoded)
        try (TestBed bed = new TestBed(Map.of(
                        "amst.window",
                        "4MiB",
                        "amst.raw-window",
                        "4MiB",
                        "amst.checkpoint-interval",
                        "1MiB",
                        "amst.adapt-interval",
                        "0s"));
                ServerSocketChannel destination = bed.listenAsDestinationQemu()) {
            Future<SocketChannel> accepted = executor.submit(() -> destination.accept());
            AtomicLong written = new AtomicLong();
            SocketChannel source = bed.connectAsSourceQemu();
            Future<?> writer = executor.submit(() -> {
                TestBed.PseudoRandomStream stream = new TestBed.PseudoRandomStream(seed);
                ByteBuffer buffer = ByteBuffer.allocateDirect(64 * 1024);
                while (written.get() < bytes) {
                    buffer.clear();
                    stream.fill(buffer);
                    buffer.flip();
                    while (buffer.hasRemaining()) {
                        written.addAndGet(source.write(buffer));
                    }
                }
                return null;
            });
            // the destination QEMU does not read: the source must stop accepting bytes soon
            long stalledAt = awaitStall(written, Duration.ofSeconds(60));
            Session session = bed.alpha.sessions().sessions().iterator().next();
            System.out.printf(
                    "source QEMU could write %.1f MiB with a %d MiB window and raw window; in flight %d bytes%n",
                    stalledAt / (double) MIB, window / MIB, session.inFlight());
            assertTrue(stalledAt < 16 * MIB, "QEMU was not held back: " + stalledAt + " bytes written");
            assertTrue(
                    session.inFlight() <= window + io.dwcp.amst.FrameCodec.frameCost(256 * 1024) * 64,
                    "in flight " + session.inFlight());

            // the destination starts reading: everything flows, byte-exact
            try (SocketChannel channel = accepted.get(10, TimeUnit.SECONDS)) {
                Future<Long> received = executor.submit(() -> readAndVerify(channel, seed, bytes, false));
                writer.get(120, TimeUnit.SECONDS);
                assertEquals(bytes, received.get(120, TimeUnit.SECONDS));
                source.close();
                ByteBuffer end = ByteBuffer.allocate(1);
                assertEquals(-1, channel.read(end), "end of stream after the source closed");
            }
            await(
                    "sessions to complete",
                    Duration.ofSeconds(20),
                    () -> bed.alpha.sessions().sessions().isEmpty()
                            && bed.beta.sessions().sessions().isEmpty());
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void digestMismatchHoldsBackTheTailAndFailsTheSession() throws Exception {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        long corruptOffset = 3 * MIB + 5;
        long bytes = 8 * MIB;
        Module faultyEncoder = binder -> binder.bind(StreamCodec.class).toInstance(new CorruptingCodec(corruptOffset));
        ExecutorService executor = Executors.newCachedThreadPool();
        try (TestBed bed = new TestBed(
                        Map.of(
                                "amst.window",
                                "8MiB",
                                "amst.checkpoint-interval",
                                "1MiB",
                                "amst.adapt-interval",
                                "0s",
                                "codec.mode",
                                "passthrough"),
                        faultyEncoder);
                ServerSocketChannel destination = bed.listenAsDestinationQemu()) {
            Future<Long> received = executor.submit(() -> {
                try (SocketChannel channel = destination.accept()) {
                    // the bytes delivered are the exact prefix; the connection then ends without the rest
                    long read = readAndVerify(channel, seed, bytes, false);
                    return read;
                } catch (IOException e) {
                    return -1L;
                }
            });
            SocketChannel source = bed.connectAsSourceQemu();
            try {
                writeStream(source, seed, bytes);
            } catch (IOException e) {
                // the source dwcpd may already have closed QEMU's connection: the migration failed
            }
            long delivered = received.get(60, TimeUnit.SECONDS);
            System.out.println("destination QEMU received " + delivered + " of " + bytes + " bytes; corrupted at "
                    + corruptOffset);
            assertTrue(
                    delivered >= 0 && delivered <= corruptOffset,
                    "nothing at or after the corrupted byte was delivered: " + delivered);
            assertTrue(delivered < bytes);

            await(
                    "both sessions to fail",
                    Duration.ofSeconds(20),
                    () -> bed.alpha.sessions().sessions().isEmpty()
                            && bed.beta.sessions().sessions().isEmpty());
            assertEquals(1, bed.beta.tunnelStats().digestMismatches.sum());
            assertEquals(1, bed.beta.tunnelStats().sessionsFailed.sum());
            assertEquals(1, bed.alpha.tunnelStats().sessionsFailed.sum());
            // the source QEMU's connection was closed: its migration fails and the VM keeps running there
            source.configureBlocking(true);
            try {
                ByteBuffer buffer = ByteBuffer.allocate(1);
                assertEquals(-1, source.read(buffer));
            } catch (IOException expected) {
                // reset: closed as well
            }
            source.close();
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void destinationQemuNotListeningFailsTheMigrationAtTheSource() throws Exception {
        try (TestBed bed =
                new TestBed(Map.of("amst.adapt-interval", "0s"), Map.of("tunnel.qemu-connect-timeout", "1s"))) {
            // nobody listens on beta's side: beta retries for 1 s, fails, and tells alpha, which closes QEMU's
            // connection
            try (SocketChannel source = bed.connectAsSourceQemu()) {
                source.write(ByteBuffer.wrap(new byte[64 * 1024]));
                ByteBuffer buffer = ByteBuffer.allocate(16);
                int read;
                try {
                    read = source.read(buffer);
                } catch (IOException reset) {
                    read = -1;
                }
                assertEquals(-1, read, "the source QEMU's connection was closed");
            }
            await(
                    "both sessions to fail",
                    Duration.ofSeconds(20),
                    () -> bed.alpha.sessions().sessions().isEmpty()
                            && bed.beta.sessions().sessions().isEmpty());
            assertEquals(1, bed.alpha.tunnelStats().sessionsFailed.sum());
            assertEquals(1, bed.beta.tunnelStats().sessionsFailed.sum());
        }
    }

    private static long awaitStall(AtomicLong counter, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long last = -1;
        while (System.nanoTime() < deadline) {
            long now = counter.get();
            if (now == last && now > 0) {
                return now;
            }
            last = now;
            Thread.sleep(1500);
        }
        fail("writes never stalled: " + counter.get());
        return -1;
    }

    /** A faulty encoder (what the digest guards against): flips one byte of channel 0. */
    private static final class CorruptingCodec implements StreamCodec {
        private final long offset;
        private final IdentityStreamCodec identity = new IdentityStreamCodec();

        private CorruptingCodec(long offset) {
            this.offset = offset;
        }

        @Override
        public StreamEncoder newEncoder(int channel) {
            if (channel != 0) {
                return identity.newEncoder(channel);
            }
            return new StreamEncoder() {
                private long position;

                @Override
                public void encode(ByteBuf raw, Consumer<ByteBuf> out) {
                    int length = raw.readableBytes();
                    if (offset >= position && offset < position + length) {
                        int index = raw.readerIndex() + (int) (offset - position);
                        raw.setByte(index, raw.getByte(index) ^ 0x40);
                    }
                    position += length;
                    out.accept(raw);
                }

                @Override
                public void flush(Consumer<ByteBuf> out) {}
            };
        }

        @Override
        public StreamDecoder newDecoder(int channel) {
            return identity.newDecoder(channel);
        }
    }
}
