package io.dwcp.session;

import static io.dwcp.session.TestBed.readAndVerify;
import static io.dwcp.session.TestBed.writeStream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.metrics.ScrapedMetrics;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Two daemons on loopback, real TLS, fake QEMU endpoints: a migration with a main channel and two
 * multifd channels (a few hundred MiB of pseudo-random bytes) and a return path on the main
 * channel; every byte arrives exactly, and the destination sees the connections in source order.
 */
class TwoDaemonTransferTest {
    private static final int CHANNELS = 3;
    private static final long BYTES_PER_CHANNEL = 100L << 20;
    private static final long RETURN_PATH_BYTES = 4L << 20;

    @Test
    void multifdMigrationWithReturnPathIsByteExactAndOrdered() throws Exception {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        ExecutorService executor = Executors.newCachedThreadPool();
        try (TestBed bed = new TestBed(Map.of("amst.initial-streams", "4", "amst.max-streams", "16"));
                ServerSocketChannel destination = bed.listenAsDestinationQemu()) {
            // destination QEMU: accept CHANNELS connections, note their order by the id at the start of each stream
            Future<List<Long>> destinationSide = executor.submit(() -> {
                List<Future<Long>> readers = new ArrayList<>();
                List<Long> order = new ArrayList<>();
                for (int i = 0; i < CHANNELS; i++) {
                    SocketChannel channel = destination.accept();
                    ByteBuffer id = ByteBuffer.allocate(8);
                    while (id.hasRemaining()) {
                        if (channel.read(id) < 0) {
                            throw new AssertionError("EOF before the channel id");
                        }
                    }
                    long channelId = id.flip().getLong();
                    order.add(channelId);
                    readers.add(executor.submit(() -> {
                        // like QEMU -incoming: the return path flows while the stream is read; close at its end
                        Future<?> returnPath = channelId == 0
                                ? executor.submit(() -> {
                                    writeStream(channel, seed + 1000, RETURN_PATH_BYTES);
                                    return null;
                                })
                                : null;
                        long read = readAndVerify(channel, seed + channelId, BYTES_PER_CHANNEL, true);
                        if (returnPath != null) {
                            returnPath.get(300, TimeUnit.SECONDS);
                        }
                        channel.close();
                        return read;
                    }));
                }
                for (Future<Long> reader : readers) {
                    assertEquals(BYTES_PER_CHANNEL, reader.get(300, TimeUnit.SECONDS));
                }
                return order;
            });

            long start = System.nanoTime();
            List<Future<Long>> sources = new ArrayList<>();
            for (int i = 0; i < CHANNELS; i++) {
                SocketChannel channel = bed.connectAsSourceQemu();
                long channelId = i;
                channel.write(ByteBuffer.allocate(8).putLong(0, channelId));
                sources.add(executor.submit(() -> {
                    // like a source QEMU: write the stream, read the return path, then close
                    Future<Long> returnPath = executor.submit(
                            () -> channelId == 0 ? readAndVerify(channel, seed + 1000, RETURN_PATH_BYTES, false) : 0L);
                    writeStream(channel, seed + channelId, BYTES_PER_CHANNEL);
                    long back = returnPath.get(300, TimeUnit.SECONDS);
                    channel.close();
                    return back;
                }));
            }
            assertEquals(RETURN_PATH_BYTES, sources.get(0).get(300, TimeUnit.SECONDS));
            for (int i = 1; i < CHANNELS; i++) {
                assertEquals(0L, sources.get(i).get(300, TimeUnit.SECONDS));
            }
            assertEquals(List.of(0L, 1L, 2L), destinationSide.get(300, TimeUnit.SECONDS), "destination accept order");
            double seconds = (System.nanoTime() - start) / 1e9;
            long total = CHANNELS * (BYTES_PER_CHANNEL + 8);
            System.out.printf(
                    "tunnel throughput: %d MiB in %.2f s = %.0f MB/s%n", total >> 20, seconds, total / seconds / 1e6);

            TestBed.await(
                    "sessions to complete",
                    Duration.ofSeconds(10),
                    () -> bed.alpha.sessions().sessions().isEmpty()
                            && bed.beta.sessions().sessions().isEmpty());
            assertEquals(1, bed.alpha.tunnelStats().sessionsCompleted.sum());
            assertEquals(1, bed.beta.tunnelStats().sessionsCompleted.sum());
            assertEquals(0, bed.alpha.tunnelStats().sessionsFailed.sum());
            // every frame a daemon read was counted as sent by the other, control frames (PONG, the last ACK) included
            long alphaSent = bed.alpha.tunnelStats().tunnelBytesSent.sum();
            long betaSent = bed.beta.tunnelStats().tunnelBytesSent.sum();
            long alphaReceived = bed.alpha.tunnelStats().tunnelBytesReceived.sum();
            long betaReceived = bed.beta.tunnelStats().tunnelBytesReceived.sum();
            assertTrue(
                    betaReceived <= alphaSent,
                    "beta received " + betaReceived + " bytes, alpha counted " + alphaSent + " sent");
            assertTrue(
                    alphaReceived <= betaSent,
                    "alpha received " + alphaReceived + " bytes, beta counted " + betaSent + " sent");
            System.out.printf(
                    "tunnel bytes: alpha sent %d, beta received %d; beta sent %d, alpha received %d%n",
                    alphaSent, betaReceived, betaSent, alphaReceived);
            // the Prometheus endpoint, over HTTP on loopback
            java.net.HttpURLConnection http = (java.net.HttpURLConnection) new java.net.URL(
                            "http://127.0.0.1:" + bed.alpha.metrics().address().getPort() + "/metrics")
                    .openConnection();
            assertEquals(200, http.getResponseCode());
            assertTrue(http.getContentType().startsWith("text/plain; version=0.0.4"), http.getContentType());
            ScrapedMetrics metrics = ScrapedMetrics.parse(
                    new String(http.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
            assertEquals(1, metrics.require("dwcp_sessions_completed_total"), metrics.toString());
            assertEquals(
                    CHANNELS * (BYTES_PER_CHANNEL + 8),
                    metrics.require("dwcp_qemu_bytes_read_total"),
                    metrics.toString());
            assertEquals(RETURN_PATH_BYTES, metrics.require("dwcp_qemu_bytes_written_total"), metrics.toString());
            // alpha's frames were acknowledged: their delivery times are in the histogram
            assertTrue(metrics.require("dwcp_frame_delivery_seconds_count") > 0, metrics.toString());
            assertEquals("histogram", metrics.type("dwcp_frame_delivery_seconds"));
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void consecutiveMigrationsAreSeparateSessions() throws Exception {
        try (TestBed bed = new TestBed(Map.of("amst.adapt-interval", "0s", "amst.initial-streams", "2"))) {
            // the first migration's main channel ended: the next connection on the listener opens a new session
            bed.transfer(System.nanoTime(), 8 << 20);
            bed.transfer(System.nanoTime(), 8 << 20);
            TestBed.await(
                    "sessions to complete",
                    Duration.ofSeconds(30),
                    () -> bed.alpha.tunnelStats().sessionsCompleted.sum() == 2
                            && bed.beta.tunnelStats().sessionsCompleted.sum() == 2);
            assertEquals(2, bed.alpha.tunnelStats().sessionsStarted.sum());
            assertEquals(0, bed.alpha.tunnelStats().sessionsFailed.sum());
        }
    }

    /**
     * The destination QEMU tears its multifd connections down once the main channel says the
     * migration is complete, and may close one with bytes it did not read (the socket resets).
     * That is the QEMU's decision, as over a direct connection: the session completes, the
     * unread tail is dropped, and the main channel is delivered in full.
     */
    @Test
    void destinationQemuResettingAMultifdConnectionDoesNotFailTheSession() throws Exception {
        long seed = System.nanoTime();
        long mainBytes = 4L << 20;
        long multifdBytes = 32L << 20;
        long readBeforeReset = 1L << 20;
        ExecutorService executor = Executors.newCachedThreadPool();
        try (TestBed bed = new TestBed(Map.of("amst.adapt-interval", "0s", "amst.initial-streams", "2"));
                ServerSocketChannel destination = bed.listenAsDestinationQemu()) {
            Future<Long> destinationSide = executor.submit(() -> {
                try (SocketChannel main = destination.accept();
                        SocketChannel multifd = destination.accept()) {
                    long read = readAndVerify(main, seed, mainBytes, false);
                    assertEquals(readBeforeReset, readAndVerify(multifd, seed + 1, readBeforeReset, false));
                    // the rest of the multifd stream arrives after this close (and part of it may sit unread: a reset)
                    multifd.close();
                    assertEquals(mainBytes, readAndVerify(main, seed, 0, true) + read);
                    return read;
                }
            });
            try (SocketChannel main = bed.connectAsSourceQemu();
                    SocketChannel multifd = bed.connectAsSourceQemu()) {
                writeStream(main, seed, mainBytes);
                writeStream(multifd, seed + 1, multifdBytes);
            }
            assertEquals(mainBytes, destinationSide.get(120, TimeUnit.SECONDS));
            TestBed.await(
                    "sessions to end",
                    Duration.ofSeconds(30),
                    () -> bed.alpha.sessions().sessions().isEmpty()
                            && bed.beta.sessions().sessions().isEmpty());
            assertEquals(0, bed.beta.tunnelStats().sessionsFailed.sum(), "the destination failed the session");
            assertEquals(1, bed.beta.tunnelStats().sessionsCompleted.sum());
            assertEquals(1, bed.alpha.tunnelStats().sessionsCompleted.sum());
            assertTrue(
                    bed.beta.tunnelStats().qemuBytesWritten.sum() < mainBytes + multifdBytes,
                    "the destination delivered the whole multifd stream: the close did not cut it");
        } finally {
            executor.shutdownNow();
        }
    }
}
