package io.dwcp.session;

import static io.dwcp.session.TestBed.await;
import static io.dwcp.session.TestBed.readAndVerify;
import static io.dwcp.session.TestBed.writeStream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dwcp.cli.ControlClient;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Several migrations at once through one daemon pair (one tunnel port, real TLS): each announced
 * through alpha's control socket gets its own socket and its own session, which names the
 * migration to beta, so its streams reach only its own destination socket; one failing leaves
 * the others alone.
 */
class ConcurrentMigrationsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CHANNELS = 3; // a main channel and two multifd channels
    private static final long STREAM_BYTES = 6 << 20;
    private static final Map<String, String> CONFIG =
            Map.of("amst.adapt-interval", "0s", "amst.initial-streams", "2", "amst.window", "16MiB");

    /** One announced migration: its id and socket at alpha, and its destination QEMU's socket at beta. */
    private record Migration(String id, Path source, ServerSocketChannel destination, long seed) {}

    @Test
    void twoAnnouncedMigrationsAndAPlainOneArriveEachAtItsOwnDestination() throws Exception {
        long seed = System.nanoTime();
        System.out.println("ConcurrentMigrationsTest seed " + seed);
        ExecutorService executor = Executors.newCachedThreadPool();
        try (TestBed bed = new TestBed(CONFIG);
                ControlClient control = new ControlClient(bed.alpha.control().socket(), Duration.ofSeconds(10));
                ServerSocketChannel plainDestination = bed.listenAsDestinationQemu()) {
            Migration first = announce(bed, control, "vm-a", seed);
            Migration second = announce(bed, control, "vm-b", seed + 100);
            try (ServerSocketChannel destinationA = first.destination();
                    ServerSocketChannel destinationB = second.destination()) {
                assertFalse(first.source().equals(second.source()));
                List<Future<List<Long>>> received = List.of(
                        executor.submit(() -> receive(first.destination(), first.seed(), CHANNELS)),
                        executor.submit(() -> receive(second.destination(), second.seed(), CHANNELS)),
                        // a plain virsh migrate through the per-peer socket at the same time: one connection
                        executor.submit(() -> receive(plainDestination, seed + 200, 1)));
                List<Future<?>> sent = new ArrayList<>();
                sent.addAll(send(executor, first.source(), first.seed(), CHANNELS));
                sent.addAll(send(executor, second.source(), second.seed(), CHANNELS));
                sent.addAll(send(executor, bed.sourceSocket(), seed + 200, 1));
                for (Future<?> each : sent) {
                    each.get(120, TimeUnit.SECONDS);
                }
                assertEquals(
                        List.of(STREAM_BYTES, STREAM_BYTES, STREAM_BYTES),
                        received.get(0).get(120, TimeUnit.SECONDS));
                assertEquals(
                        List.of(STREAM_BYTES, STREAM_BYTES, STREAM_BYTES),
                        received.get(1).get(120, TimeUnit.SECONDS));
                assertEquals(List.of(STREAM_BYTES), received.get(2).get(120, TimeUnit.SECONDS));

                // nothing more arrived at any destination socket: each saw exactly its own connections
                for (ServerSocketChannel destination : List.of(destinationA, destinationB, plainDestination)) {
                    destination.configureBlocking(false);
                    assertNull(destination.accept(), "an extra connection arrived at " + destination.getLocalAddress());
                }
            }

            JsonNode doneA = awaitState(control, first.id(), "completed");
            JsonNode doneB = awaitState(control, second.id(), "completed");
            assertEquals(
                    CHANNELS * STREAM_BYTES,
                    doneA.get("session").get("qemuBytesRead").asLong(),
                    doneA.toString());
            assertEquals(
                    CHANNELS * STREAM_BYTES,
                    doneB.get("session").get("qemuBytesRead").asLong(),
                    doneB.toString());
            assertFalse(
                    doneA.get("session")
                            .get("id")
                            .asText()
                            .equals(doneB.get("session").get("id").asText()),
                    "two sessions");
            // three sessions at each end, none failed
            await(
                    "every session to end",
                    Duration.ofSeconds(20),
                    () -> bed.alpha.sessions().sessions().isEmpty()
                            && bed.beta.sessions().sessions().isEmpty());
            assertEquals(3, bed.alpha.tunnelStats().sessionsCompleted.sum());
            assertEquals(3, bed.beta.tunnelStats().sessionsCompleted.sum());
            assertEquals(0, bed.alpha.tunnelStats().sessionsFailed.sum());
            assertEquals(0, bed.beta.tunnelStats().sessionsFailed.sum());
            // the migrations' sockets went with their sessions
            await(
                    "the migration sockets to be closed",
                    Duration.ofSeconds(10),
                    () -> !Files.exists(first.source()) && !Files.exists(second.source()));
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void oneMigrationFailingLeavesTheOtherIntact() throws Exception {
        long seed = System.nanoTime();
        System.out.println("ConcurrentMigrationsTest seed " + seed);
        ExecutorService executor = Executors.newCachedThreadPool();
        try (TestBed bed = new TestBed(CONFIG);
                ControlClient control = new ControlClient(bed.alpha.control().socket(), Duration.ofSeconds(10))) {
            Migration healthy = announce(bed, control, "vm-a", seed);
            Migration doomed = announce(bed, control, "vm-b", seed + 100);
            List<SocketChannel> doomedAccepted = new CopyOnWriteArrayList<>();
            try (ServerSocketChannel healthyDestination = healthy.destination();
                    ServerSocketChannel doomedDestination = doomed.destination()) {
                Future<List<Long>> received =
                        executor.submit(() -> receive(healthyDestination, healthy.seed(), CHANNELS));
                // the doomed destination QEMU reads 1 MiB of its main channel, then goes away with every connection
                Future<Long> partly = executor.submit(() -> {
                    SocketChannel main = doomedDestination.accept();
                    doomedAccepted.add(main);
                    long read = readAndVerify(main, doomed.seed(), 1 << 20, false);
                    doomedDestination.close();
                    for (SocketChannel channel : doomedAccepted) {
                        channel.close();
                    }
                    return read;
                });
                List<Future<?>> healthySent = send(executor, healthy.source(), healthy.seed(), CHANNELS);
                List<Future<?>> doomedSent = send(executor, doomed.source(), doomed.seed(), CHANNELS);
                assertEquals(1 << 20, partly.get(120, TimeUnit.SECONDS));

                JsonNode failed = awaitState(control, doomed.id(), "failed");
                assertTrue(failed.get("session").get("failure").isTextual(), failed.toString());
                for (Future<?> each : doomedSent) {
                    // the source QEMU's connections were closed: its writes ended (with an error, or done)
                    try {
                        each.get(60, TimeUnit.SECONDS);
                    } catch (java.util.concurrent.ExecutionException expected) {
                        assertTrue(expected.getCause() instanceof IOException, expected.toString());
                    }
                }

                for (Future<?> each : healthySent) {
                    each.get(120, TimeUnit.SECONDS);
                }
                assertEquals(List.of(STREAM_BYTES, STREAM_BYTES, STREAM_BYTES), received.get(120, TimeUnit.SECONDS));
                healthyDestination.configureBlocking(false);
                assertNull(healthyDestination.accept(), "an extra connection arrived at the healthy destination");
            } finally {
                for (SocketChannel channel : doomedAccepted) {
                    channel.close();
                }
            }
            JsonNode done = awaitState(control, healthy.id(), "completed");
            assertTrue(done.get("session").get("failure").isNull(), done.toString());
            assertEquals(
                    CHANNELS * STREAM_BYTES,
                    done.get("session").get("qemuBytesRead").asLong(),
                    done.toString());
            await(
                    "every session to end",
                    Duration.ofSeconds(20),
                    () -> bed.alpha.sessions().sessions().isEmpty()
                            && bed.beta.sessions().sessions().isEmpty());
            assertEquals(1, bed.alpha.tunnelStats().sessionsCompleted.sum());
            assertEquals(1, bed.alpha.tunnelStats().sessionsFailed.sum());
            assertEquals(1, bed.beta.tunnelStats().sessionsCompleted.sum());
            assertEquals(1, bed.beta.tunnelStats().sessionsFailed.sum());
            await(
                    "the migration sockets to be closed",
                    Duration.ofSeconds(10),
                    () -> !Files.exists(healthy.source()) && !Files.exists(doomed.source()));
        } finally {
            executor.shutdownNow();
        }
    }

    /** Announces the migration at alpha and listens as its destination QEMU at beta. */
    private static Migration announce(TestBed bed, ControlClient control, String domain, long seed) throws Exception {
        ControlClient.Reply reply =
                control.postForm("/v1/migrations", Map.of("protocol", "1", "domain", domain, "peer", "beta"));
        assertEquals(201, reply.status(), reply.body());
        JsonNode migration = JSON.readTree(reply.body());
        String id = migration.get("id").asText();
        Path source = Path.of(migration.get("socket").asText());
        assertEquals(bed.directory.resolve("alpha-run/peer/beta/" + id + ".sock"), source);
        assertTrue(Files.exists(source), source.toString());
        // beta prepared the folder at start; the destination QEMU binds there (libvirt uses the same path)
        Path destination = bed.directory.resolve("beta-run/peer/beta/" + id + ".sock");
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(destination));
        return new Migration(id, source, server, seed);
    }

    /** Connects the channels one after another (their order is their index), then writes each seeded stream on its own thread. */
    private static List<Future<?>> send(ExecutorService executor, Path socket, long seed, int channels)
            throws IOException {
        List<Future<?>> sent = new ArrayList<>();
        for (int channel = 0; channel < channels; channel++) {
            SocketChannel connection = SocketChannel.open(UnixDomainSocketAddress.of(socket));
            long streamSeed = seed + channel;
            sent.add(executor.submit(() -> {
                try (connection) {
                    writeStream(connection, streamSeed, STREAM_BYTES);
                }
                return null;
            }));
        }
        return sent;
    }

    /** Accepts the channels in order, each read and verified against its seeded stream (to its end) on its own thread. */
    private static List<Long> receive(ServerSocketChannel destination, long seed, int channels) throws Exception {
        ExecutorService readers = Executors.newFixedThreadPool(channels);
        try {
            List<Future<Long>> reads = new ArrayList<>();
            for (int channel = 0; channel < channels; channel++) {
                SocketChannel connection = destination.accept();
                long streamSeed = seed + channel;
                reads.add(readers.submit(() -> {
                    try (connection) {
                        return readAndVerify(connection, streamSeed, STREAM_BYTES, true);
                    }
                }));
            }
            List<Long> lengths = new ArrayList<>();
            for (Future<Long> read : reads) {
                lengths.add(read.get(120, TimeUnit.SECONDS));
            }
            return lengths;
        } finally {
            readers.shutdownNow();
        }
    }

    private static JsonNode awaitState(ControlClient control, String id, String state) throws Exception {
        JsonNode migration = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            ControlClient.Reply reply = control.get("/v1/migrations/" + id);
            assertEquals(200, reply.status(), reply.body());
            migration = JSON.readTree(reply.body());
            if (migration.get("state").asText().equals(state)) {
                return migration;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("migration " + id + " did not become " + state + ": " + migration);
    }
}
