package io.dwcp.session;

import static io.dwcp.session.TestBed.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dwcp.cli.ControlClient;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The life of an announced migration's socket at the source: opened by {@code POST /v1/migrations},
 * gone after {@code DELETE}, after the announcement expired unused, and when dwcpd stops; a stale
 * file is removed at start; one session only.
 */
class MigrationListenerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void openedOnAnnounceAndGoneAfterDeleteExpiryAndStop() throws Exception {
        try (TestBed bed = new TestBed(Map.of("node.socket-group", "", "control.expectation-timeout", "1s"));
                ControlClient control = new ControlClient(bed.alpha.control().socket(), Duration.ofSeconds(10))) {
            // at start: the folders of the migration sockets, searchable by QEMU's group (at beta, the destination QEMU
            // binds in its own)
            assertEquals(
                    "rwxrwx---",
                    PosixFilePermissions.toString(
                            Files.getPosixFilePermissions(bed.directory.resolve("alpha-run/peer/beta"))));
            assertEquals(
                    "rwxrwx---",
                    PosixFilePermissions.toString(
                            Files.getPosixFilePermissions(bed.directory.resolve("beta-run/peer/beta"))));

            // announced: its socket is there with the peer sockets' mode (a connection would start the migration's
            // session)
            Path deleted = announce(bed, control, "vm-deleted");
            assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(deleted)));
            // DELETE: gone before the answer
            String id = deleted.getFileName().toString().replace(".sock", "");
            assertEquals(204, control.delete("/v1/migrations/" + id).status());
            assertFalse(Files.exists(deleted), deleted + " after DELETE");
            assertThrows(java.net.SocketException.class, () -> SocketChannel.open(UnixDomainSocketAddress.of(deleted)));

            // unused until its announcement expires (1 s here): the once-a-second sweep closes it, with nobody asking
            Path expired = announce(bed, control, "vm-expired");
            await("the unused announcement's socket to go", Duration.ofSeconds(10), () -> !Files.exists(expired));
            String expiredId = expired.getFileName().toString().replace(".sock", "");
            assertEquals(404, control.get("/v1/migrations/" + expiredId).status());

            // dwcpd stops: every migration socket goes
            Path atStop = announce(bed, control, "vm-at-stop");
            bed.alpha.close();
            assertFalse(Files.exists(atStop), atStop + " after dwcpd stopped");
            assertTrue(Files.isDirectory(atStop.getParent()));

            // a socket file a crashed dwcpd left is removed when dwcpd starts again
            Path stale = Files.createFile(atStop.getParent().resolve("0123456789abcdef.sock"));
            Map<String, String> again = bed.properties("alpha", Map.of("node.socket-group", ""));
            again.put(
                    "peer.beta.address",
                    "127.0.0.1:" + bed.beta.tunnelServer().localAddress().getPort());
            try (io.dwcp.daemon.DwcpDaemon restarted = io.dwcp.daemon.DwcpDaemon.create(again)) {
                restarted.start();
                assertFalse(Files.exists(stale), stale + " after dwcpd started");
            }
        }
    }

    @Test
    void aMigrationsSocketTakesOneSessionOnly() throws Exception {
        long seed = System.nanoTime();
        System.out.println("MigrationListenerTest seed " + seed);
        try (TestBed bed = new TestBed(Map.of("node.socket-group", "", "tunnel.qemu-connect-timeout", "30s"));
                ControlClient control = new ControlClient(bed.alpha.control().socket(), Duration.ofSeconds(10))) {
            Path socket = announce(bed, control, "vm-once");
            String id = socket.getFileName().toString().replace(".sock", "");
            // the main channel comes and ends while beta still waits for its destination QEMU
            try (SocketChannel main = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                TestBed.writeStream(main, seed, 64 * 1024);
            }
            // one look at the sessions: two (an empty list, then the new session) could pass before it exists
            await("the session to stop taking connections", Duration.ofSeconds(20), () -> {
                List<Session> sessions = List.copyOf(bed.alpha.sessions().sessions());
                return !sessions.isEmpty() && sessions.stream().noneMatch(Session::isJoinable);
            });
            // a later connection on the migration's socket is refused, and starts no session of its own
            try (SocketChannel late = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                // a connection the daemon wrongly took would never be closed: fail then, do not hang
                int read = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
                        Duration.ofSeconds(20),
                        () -> {
                            try {
                                late.write(ByteBuffer.wrap(new byte[16]));
                                return late.read(ByteBuffer.allocate(16));
                            } catch (java.io.IOException reset) {
                                return -1;
                            }
                        },
                        "the late connection was neither refused nor closed within 20 s");
                assertEquals(-1, read, "the late connection was closed");
            }
            assertEquals(1, bed.alpha.tunnelStats().sessionsStarted.sum());

            // the destination QEMU listens now, on the migration's socket at beta: the session completes with the main
            // channel only
            try (java.nio.channels.ServerSocketChannel destination =
                    java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
                destination.bind(
                        UnixDomainSocketAddress.of(bed.directory.resolve("beta-run/peer/beta/" + id + ".sock")));
                try (SocketChannel channel = destination.accept()) {
                    assertEquals(64 * 1024, TestBed.readAndVerify(channel, seed, 64 * 1024, true));
                }
            }
            await(
                    "the session to complete",
                    Duration.ofSeconds(20),
                    () -> bed.alpha.tunnelStats().sessionsCompleted.sum() == 1);
            await("the socket to go with its session", Duration.ofSeconds(10), () -> !Files.exists(socket));
            JsonNode migration =
                    JSON.readTree(control.get("/v1/migrations/" + id).body());
            assertEquals("completed", migration.get("state").asText(), migration.toString());
            assertEquals(1, bed.alpha.tunnelStats().sessionsStarted.sum());
        }
    }

    @Test
    void aMigrationRefusedForTooManySessionsStartsNoSessionFromItsLaterConnections() throws Exception {
        try (TestBed bed = new TestBed(Map.of(
                        "node.socket-group", "", "tunnel.max-sessions", "1", "tunnel.qemu-connect-timeout", "30s"));
                ControlClient control = new ControlClient(bed.alpha.control().socket(), Duration.ofSeconds(10));
                // a plain migration through the per-peer socket holds the one session (nobody listens at beta yet)
                SocketChannel plain = bed.connectAsSourceQemu()) {
            await(
                    "the plain session",
                    Duration.ofSeconds(10),
                    () -> bed.alpha.tunnelStats().sessionsStarted.sum() == 1);
            Path socket = announce(bed, control, "vm-refused");
            // its main channel is refused
            try (SocketChannel main = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                assertEquals(-1, readOrReset(main), "the main channel was closed");
            }
            // the plain session is unharmed: its destination QEMU comes and it completes, freeing the slot
            try (java.nio.channels.ServerSocketChannel destination = bed.listenAsDestinationQemu()) {
                TestBed.writeStream(plain, 1, 4096);
                plain.close();
                try (SocketChannel channel = destination.accept()) {
                    assertEquals(4096, TestBed.readAndVerify(channel, 1, 4096, true));
                }
            }
            await(
                    "the plain session to complete",
                    Duration.ofSeconds(20),
                    () -> bed.alpha.tunnelStats().sessionsCompleted.sum() == 1
                            && bed.alpha.sessions().sessions().isEmpty());
            // the migration's multifd channels come now: refused too, none may become the main channel of a session
            for (int channel = 1; channel < 3; channel++) {
                try (SocketChannel connection = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                    assertEquals(-1, readOrReset(connection), "connection " + channel + " was closed");
                }
            }
            assertEquals(1, bed.alpha.tunnelStats().sessionsStarted.sum());
        }
    }

    private static int readOrReset(SocketChannel channel) {
        try {
            channel.write(ByteBuffer.wrap(new byte[16]));
            return channel.read(ByteBuffer.allocate(16));
        } catch (java.io.IOException reset) {
            return -1;
        }
    }

    private static Path announce(TestBed bed, ControlClient control, String domain) throws Exception {
        ControlClient.Reply reply =
                control.postForm("/v1/migrations", Map.of("protocol", "1", "domain", domain, "peer", "beta"));
        assertEquals(201, reply.status(), reply.body());
        JsonNode migration = JSON.readTree(reply.body());
        Path socket = bed.directory.resolve(
                "alpha-run/peer/beta/" + migration.get("id").asText() + ".sock");
        assertEquals(socket.toString(), migration.get("socket").asText());
        assertTrue(Files.exists(socket), socket + " after the announcement");
        return socket;
    }
}
