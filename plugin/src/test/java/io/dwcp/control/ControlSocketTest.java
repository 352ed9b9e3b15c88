package io.dwcp.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dwcp.cli.ControlClient;
import io.dwcp.daemon.DwcpDaemon;
import io.dwcp.tls.CertificateAuthority;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The control socket of two real dwcpd (alpha: source, beta: destination, real TLS) spoken to
 * by real clients: dwcp's {@link ControlClient}, raw bytes for malformed requests, curl, and the
 * libvirt hook script itself.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ControlSocketTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String UUID = "c7a5fdbd-cdaf-9455-926a-d65c16db1809";
    private static final Path HOOK = Path.of("..", "libvirt-hooks", "src", "main", "sh", "50-dwcp")
            .toAbsolutePath()
            .normalize();

    private Path directory;
    private DwcpDaemon alpha;
    private DwcpDaemon beta;
    private ControlClient client;
    private ControlClient betaClient;
    private final ExecutorService executor = Executors.newCachedThreadPool();

    @BeforeAll
    void startDaemons() throws IOException {
        directory = Files.createTempDirectory("dwcp-control");
        Path tls = directory.resolve("tls");
        CertificateAuthority ca = CertificateAuthority.create(tls, "test CA", Duration.ofDays(1));
        ca.issue("alpha", tls.resolve("alpha.pem"), tls.resolve("alpha.key"), Duration.ofDays(1));
        ca.issue("beta", tls.resolve("beta.pem"), tls.resolve("beta.key"), Duration.ofDays(1));
        Map<String, String> betaProperties = properties("beta", tls);
        betaProperties.put("peer.alpha.address", "127.0.0.1:1");
        beta = DwcpDaemon.create(betaProperties);
        beta.start();
        Map<String, String> alphaProperties = properties("alpha", tls);
        alphaProperties.put(
                "peer.beta.address",
                "127.0.0.1:" + beta.tunnelServer().localAddress().getPort());
        alphaProperties.put("control.request-timeout", "1s");
        alphaProperties.put("control.max-connections", "4");
        alphaProperties.put("control.max-request-size", "4KiB");
        alpha = DwcpDaemon.create(alphaProperties);
        alpha.start();
        client = new ControlClient(alpha.control().socket(), Duration.ofSeconds(5));
        betaClient = new ControlClient(beta.control().socket(), Duration.ofSeconds(5));
    }

    private Map<String, String> properties(String name, Path tls) {
        Map<String, String> properties = new HashMap<>();
        properties.put("node.name", name);
        properties.put("node.run-dir", directory.resolve(name + "-run").toString());
        properties.put("node.state-dir", directory.resolve(name + "-state").toString());
        properties.put("node.socket-group", "");
        properties.put("tunnel.listen", "127.0.0.1:0");
        properties.put("tunnel.io-threads", "2");
        properties.put("metrics.enabled", "false");
        // loopback is tier 1: pages encoded all the same, so that the migrations leave baselines
        properties.put("hde.tier1-pages", "encoded");
        properties.put("tls.ca-file", tls.resolve("ca.pem").toString());
        properties.put("tls.cert-file", tls.resolve(name + ".pem").toString());
        properties.put("tls.key-file", tls.resolve(name + ".key").toString());
        return properties;
    }

    @AfterAll
    void stopDaemons() throws IOException {
        client.close();
        betaClient.close();
        alpha.close();
        beta.close();
        executor.shutdownNow();
        try (Stream<Path> paths = Files.walk(directory)) {
            paths.sorted(Comparator.reverseOrder())
                    .forEach(path -> path.toFile().delete());
        }
    }

    @Test
    void socketIsInTheRunDirectoryWithItsMode() throws IOException {
        Path socket = directory.resolve("alpha-run/control.sock");
        assertEquals(socket, alpha.control().socket());
        assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        assertEquals(
                "rw-rw----",
                PosixFilePermissions.toString(
                        Files.getPosixFilePermissions(directory.resolve("alpha-run/peer/beta.sock"))));
    }

    @Test
    void status() throws Exception {
        ControlClient.Reply reply = client.get("/v1/status");
        assertEquals(200, reply.status());
        assertEquals("application/json", reply.contentType());
        JsonNode status = JSON.readTree(reply.body());
        assertEquals(1, status.get("protocol").asInt());
        assertEquals("alpha", status.get("node").asText());
        assertEquals(
                directory.resolve("alpha-run/control.sock").toString(),
                status.get("controlSocket").asText());
        JsonNode peer = status.get("peers").get(0);
        assertEquals("beta", peer.get("name").asText());
        assertEquals(
                directory.resolve("alpha-run/peer/beta.sock").toString(),
                peer.get("socket").asText());
        assertTrue(peer.get("qemuPort").isNull());
    }

    @Test
    void incomingMigrationIsExpectedOnce() throws Exception {
        ControlClient.Reply first = client.postForm(
                "/v1/incoming-migrations",
                form("protocol", "1", "domain", "expected once", "uuid", "11111111-2222-3333-4444-555555555555"));
        assertEquals(204, first.status(), first.body());
        assertEquals("", first.body());
        ControlClient.Reply again = client.postForm(
                "/v1/incoming-migrations",
                form("uuid", "11111111-2222-3333-4444-555555555555", "domain", "expected once", "protocol", "1"));
        assertEquals(409, again.status());
        assertEquals(
                "domain 'expected once' (or UUID 11111111-2222-3333-4444-555555555555) is already expected here\n",
                again.body());
        JsonNode incoming = JSON.readTree(client.get("/v1/status").body()).get("incoming");
        assertTrue(
                incoming.toString()
                        .contains("\"domain\":\"expected once\",\"uuid\":\"11111111-2222-3333-4444-555555555555\""),
                incoming.toString());
    }

    @Test
    void malformedFormsAreRefusedWithTheReason() throws Exception {
        assertAnswer(
                400,
                "unknown protocol '2': this dwcpd speaks protocol 1",
                client.postForm("/v1/incoming-migrations", form("protocol", "2", "domain", "vm", "uuid", UUID)));
        assertAnswer(
                400,
                "field 'uuid' must be given exactly once (fields: protocol, domain, uuid)",
                client.postForm("/v1/incoming-migrations", form("protocol", "1", "domain", "vm")));
        assertAnswer(
                400,
                "unknown field 'extra' (fields: protocol, domain, uuid)",
                client.postForm(
                        "/v1/incoming-migrations", form("protocol", "1", "domain", "vm", "uuid", UUID, "extra", "x")));
        assertAnswer(
                400,
                "uuid must be 8-4-4-4-12 hexadecimal digits: 'not-a-uuid'",
                client.postForm(
                        "/v1/incoming-migrations", form("protocol", "1", "domain", "vm", "uuid", "not-a-uuid")));
        assertAnswer(
                400,
                "domain must be 1 to 1024 characters without NUL or newline",
                client.postForm(
                        "/v1/incoming-migrations", form("protocol", "1", "domain", "two\nlines", "uuid", UUID)));
        // 600 characters, 1200 bytes of UTF-8: more than the OPEN that names the VM to the destination carries
        assertAnswer(
                400,
                "domain '" + "é".repeat(200)
                        + "...': a VM name must be at most 1024 bytes of UTF-8 without NUL or newline",
                client.postForm("/v1/migrations", form("protocol", "1", "domain", "é".repeat(600), "peer", "beta")));
        String duplicate = "protocol=1&domain=a&domain=b&uuid=" + UUID;
        assertAnswer(
                400,
                "field 'domain' must be given exactly once (fields: protocol, domain, uuid)",
                raw(
                        "POST /v1/incoming-migrations HTTP/1.1\r\nHost: dwcpd\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: "
                                + duplicate.length() + "\r\n\r\n" + duplicate));
        assertAnswer(
                400,
                "the body must be application/x-www-form-urlencoded, not 'application/json'",
                raw(
                        "POST /v1/incoming-migrations HTTP/1.1\r\nHost: dwcpd\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"));
        assertAnswer(405, "GET is not allowed here (POST)", client.get("/v1/incoming-migrations"));
        assertAnswer(
                404,
                "no such resource: /v2/status (protocol 1: /v1/status, /v1/regions, /v1/migrations, /v1/incoming-migrations, /v1/baselines)",
                client.get("/v2/status"));
        assertAnswer(404, "no migration 0123 (unknown, or forgotten after 1800 s)", client.get("/v1/migrations/0123"));
    }

    @Test
    void broken_http_oversized_requests_and_silent_clients_do_not_hurt_the_daemon() throws Exception {
        assertTrue(raw("hello\r\n\r\n").status() == 400);
        String big = "x".repeat(5000);
        assertEquals(
                413,
                raw("POST /v1/incoming-migrations HTTP/1.1\r\nHost: dwcpd\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: "
                                + big.length() + "\r\n\r\n" + big)
                        .status());
        assertEquals(
                414,
                raw("GET /" + "a".repeat(5000) + " HTTP/1.1\r\nHost: dwcpd\r\n\r\n")
                        .status());
        assertEquals(
                431,
                raw("GET /v1/status HTTP/1.1\r\nHost: dwcpd\r\nX-Big: " + "b".repeat(9000) + "\r\n\r\n")
                        .status());
        // a client that says it sends 100 bytes and sends 10 is cut off at control.request-timeout (1 s)
        long start = System.nanoTime();
        ControlClient.Reply cut = raw(
                "POST /v1/incoming-migrations HTTP/1.1\r\nHost: dwcpd\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nprotocol=1");
        assertEquals(-1, cut.status());
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(millis >= 900 && millis < 4000, "cut after " + millis + " ms");
        // control.max-connections (4) silent clients: a fifth connection is closed unanswered, and
        // once the silent ones are cut off the socket answers again
        List<SocketChannel> silent = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            silent.add(SocketChannel.open(
                    UnixDomainSocketAddress.of(alpha.control().socket())));
        }
        Thread.sleep(100);
        assertEquals(-1, raw("GET /v1/status HTTP/1.1\r\nHost: dwcpd\r\n\r\n").status());
        for (SocketChannel channel : silent) {
            assertEquals(-1, channel.read(ByteBuffer.allocate(16)), "silent client closed by dwcpd");
            channel.close();
        }
        Thread.sleep(100);
        assertEquals(200, client.get("/v1/status").status());
    }

    @Test
    void dwcpsClientSaysWhenThereIsNoSocket() {
        try (ControlClient missing = new ControlClient(directory.resolve("none.sock"), Duration.ofSeconds(1))) {
            ControlClient.UnavailableException e = org.junit.jupiter.api.Assertions.assertThrows(
                    ControlClient.UnavailableException.class, () -> missing.get("/v1/status"));
            assertEquals("no control socket " + directory.resolve("none.sock"), e.getMessage());
        }
    }

    @Test
    void curlSpeaksToIt() throws Exception {
        Process curl = new ProcessBuilder(
                        "curl",
                        "-q",
                        "-sS",
                        "--unix-socket",
                        alpha.control().socket().toString(),
                        "http://dwcpd/v1/status")
                .start();
        String out = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, curl.waitFor());
        assertEquals("alpha", JSON.readTree(out).get("node").asText());
    }

    @Test
    void theLibvirtHookTellsDwcpd() throws Exception {
        assertTrue(Files.isRegularFile(HOOK), HOOK.toString());
        Path config = directory.resolve("hook.conf");
        Files.writeString(config, "endpoint=unix:" + alpha.control().socket() + "\nsyslog=no\n");
        String domain = "web 1 & \"db\" $HOME `x` \\ é";
        String xml = "<domain type='kvm'>\n  <name>web</name>\n  <uuid>" + UUID + "</uuid>\n</domain>\n";

        HookRun first = hook(config, domain, xml);
        assertEquals(0, first.exit());
        assertEquals("", first.out());
        assertEquals("", first.err());
        JsonNode incoming = JSON.readTree(client.get("/v1/status").body()).get("incoming");
        boolean found = false;
        for (JsonNode entry : incoming) {
            found |= entry.get("domain").asText().equals(domain)
                    && entry.get("uuid").asText().equals(UUID);
        }
        assertTrue(found, incoming.toString());

        // the same domain again: 409, the hook notes it and lets the migration proceed
        HookRun again = hook(config, domain, xml);
        assertEquals(0, again.exit());
        assertEquals("", again.out());
        assertTrue(
                again.err()
                        .contains("answered HTTP 409: domain 'web 1 & \"db\" $HOME `x` \\ é' (or UUID " + UUID
                                + ") is already expected here"),
                again.err());

        // on-failure=refuse turns that into a refusal
        Files.writeString(config, "endpoint=unix:" + alpha.control().socket() + "\nsyslog=no\non-failure=refuse\n");
        HookRun refused = hook(config, domain, xml);
        assertEquals(1, refused.exit());
        assertEquals("", refused.out());
    }

    private record HookRun(int exit, String out, String err) {}

    private HookRun hook(Path config, String domain, String xml) throws Exception {
        ProcessBuilder builder = new ProcessBuilder("sh", HOOK.toString(), domain, "migrate", "begin", "-");
        builder.environment().put("DWCP_HOOK_CONFIG", config.toString());
        Process process = builder.start();
        process.getOutputStream().write(xml.getBytes(StandardCharsets.UTF_8));
        process.getOutputStream().close();
        Future<byte[]> out = executor.submit(() -> process.getInputStream().readAllBytes());
        Future<byte[]> err = executor.submit(() -> process.getErrorStream().readAllBytes());
        assertTrue(process.waitFor(10, TimeUnit.SECONDS), "hook finished");
        return new HookRun(
                process.exitValue(),
                new String(out.get(), StandardCharsets.UTF_8),
                new String(err.get(), StandardCharsets.UTF_8));
    }

    @Test
    void outgoingMigrationShowsItsSessionBytes() throws Exception {
        assertAnswer(
                404,
                "dwcpd alpha has no peer 'gamma' (peers: beta), and runs no region (region.name) to look it up in",
                client.postForm("/v1/migrations", form("protocol", "1", "domain", "vm-out", "peer", "gamma")));
        ControlClient.Reply created =
                client.postForm("/v1/migrations", form("protocol", "1", "domain", "vm-out", "peer", "beta"));
        assertEquals(201, created.status(), created.body());
        JsonNode migration = JSON.readTree(created.body());
        String id = migration.get("id").asText();
        assertEquals("waiting", migration.get("state").asText());
        // the migration's own socket, open while it is announced
        Path firstSocket = directory.resolve("alpha-run/peer/beta/" + id + ".sock");
        assertEquals(firstSocket.toString(), migration.get("socket").asText());
        assertTrue(Files.exists(firstSocket), firstSocket.toString());
        assertTrue(migration.get("session").isNull());
        // announced again before its migration started (libvirt refused the first attempt): replaced
        ControlClient.Reply again =
                client.postForm("/v1/migrations", form("protocol", "1", "domain", "vm-out", "peer", "beta"));
        assertEquals(201, again.status(), again.body());
        assertEquals(404, client.get("/v1/migrations/" + id).status());
        assertFalse(Files.exists(firstSocket), "the replaced announcement's socket is gone");
        migration = JSON.readTree(again.body());
        id = migration.get("id").asText();

        // the libvirt hook tells beta, the destination, which VM comes
        String vmUuid = "0f0e0d0c-0b0a-0908-0706-050403020100";
        assertEquals(
                204,
                betaClient
                        .postForm("/v1/incoming-migrations", form("protocol", "1", "domain", "vm-out", "uuid", vmUuid))
                        .status());

        // a fake QEMU pair migrates a capture of QEMU's stream through alpha and beta
        byte[] stream = capture("qemu-7.2-precopy", Integer.MAX_VALUE);
        int length = stream.length;
        // beta connects the migration to its own socket there, where the destination QEMU listens
        Path destination = directory.resolve("beta-run/peer/beta/" + id + ".sock");
        try (ServerSocketChannel qemuIncoming = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            qemuIncoming.bind(UnixDomainSocketAddress.of(destination));
            Future<Long> received = executor.submit(() -> drain(qemuIncoming));
            try (SocketChannel source = SocketChannel.open(
                    UnixDomainSocketAddress.of(Path.of(migration.get("socket").asText())))) {
                ByteBuffer bytes = ByteBuffer.wrap(stream);
                while (bytes.hasRemaining()) {
                    source.write(bytes);
                }
            }
            assertEquals(length, received.get(60, TimeUnit.SECONDS));
        }
        JsonNode done = null;
        for (int i = 0; i < 100; i++) {
            done = JSON.readTree(client.get("/v1/migrations/" + id).body());
            if (done.get("state").asText().equals("completed")) {
                break;
            }
            Thread.sleep(100);
        }
        assertEquals("completed", done.get("state").asText(), done.toString());
        // its session ended: its socket goes (the registry lets go of it within a second)
        Path socket = Path.of(migration.get("socket").asText());
        for (int i = 0; i < 100 && Files.exists(socket); i++) {
            Thread.sleep(50);
        }
        assertFalse(Files.exists(socket), socket + " is still there after its session completed");
        JsonNode session = done.get("session");
        assertEquals("source", session.get("role").asText());
        assertEquals("beta", session.get("peer").asText());
        assertEquals(length, session.get("qemuBytesRead").asLong());
        assertTrue(session.get("tunnelBytesSent").asLong() > 0, session.toString());
        // the ratio is what was read over what was sent
        double sent = session.get("tunnelBytesSent").asLong();
        assertEquals(
                Math.round(1000.0 * length / sent) / 1000.0,
                session.get("compressionRatio").asDouble(),
                1e-9,
                session.toString());
        JsonNode list = JSON.readTree(client.get("/v1/migrations").body());
        assertTrue(list.toString().contains("\"id\":\"" + id + "\""), list.toString());

        // the source's baseline is written in the background: its state says when it is done
        String sessionId = session.get("id").asText();
        JsonNode baseline = done.get("baseline");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (baseline.get("state").asText().equals("recording")
                || baseline.get("state").asText().equals("committing")) {
            assertTrue(System.nanoTime() < deadline, "the baseline was not committed within 30 s: " + baseline);
            Thread.sleep(20);
            baseline = JSON.readTree(client.get("/v1/migrations/" + id).body()).get("baseline");
        }
        assertEquals("committed", baseline.get("state").asText(), baseline.toString());
        assertEquals(sessionId, baseline.get("session").asText());
        assertEquals("source", baseline.get("role").asText());
        assertTrue(baseline.get("reason").isNull(), baseline.toString());
        assertTrue(
                baseline.get("endedAtMillis").asLong()
                        >= baseline.get("startedAtMillis").asLong(),
                baseline.toString());
        String baselineId = baseline.get("baseline").asText();

        // listed, labelled with the migration's domain
        ControlClient.Reply listed = client.get("/v1/baselines");
        assertEquals(200, listed.status(), listed.body());
        assertEquals("application/json", listed.contentType());
        JsonNode baselines = JSON.readTree(listed.body());
        assertEquals(
                directory.resolve("alpha-state/baselines").toString(),
                baselines.get("directory").asText());
        assertEquals(16L << 30, baselines.get("sizeLimitBytes").asLong());
        assertEquals(7 * 86400, baselines.get("maxAgeSeconds").asLong());
        JsonNode entry = null;
        for (JsonNode candidate : baselines.get("baselines")) {
            if (candidate.get("id").asText().equals(baselineId)) {
                entry = candidate;
            }
        }
        assertTrue(entry != null, baselines.toString());
        assertEquals("vm-out", entry.get("domain").asText());
        assertTrue(entry.get("uuid").isNull(), entry.toString());
        assertEquals(baseline.get("pages").asInt(), entry.get("pages").asInt());
        assertEquals(baseline.get("bytes").asLong(), entry.get("bytes").asLong());
        assertEquals(baselines.get("usedBytes").asLong(), entry.get("bytes").asLong());
        assertTrue(entry.get("ageMillis").asLong() >= 0, entry.toString());
        assertTrue(entry.get("lastUsedAtMillis").isNull(), entry.toString());
        assertFalse(entry.get("inUse").asBoolean());
        assertTrue(
                baselines.get("commits").toString().contains("\"session\":\"" + sessionId + "\""),
                baselines.toString());

        // removed by the domain name, then there is none
        assertAnswer(
                400,
                "field 'vm' must be given exactly once (fields: protocol, vm)",
                client.postForm("/v1/baselines/remove", form("protocol", "1")));
        assertAnswer(405, "GET is not allowed here (POST)", client.get("/v1/baselines/remove"));
        ControlClient.Reply removed = client.postForm("/v1/baselines/remove", form("protocol", "1", "vm", "vm-out"));
        assertEquals(200, removed.status(), removed.body());
        assertEquals("{\"vm\":\"vm-out\",\"removed\":[\"" + baselineId + "\"]}\n", removed.body());
        assertAnswer(
                404,
                "no baseline of 'vm-out' (neither its id nor its VM's domain name or UUID)",
                client.postForm("/v1/baselines/remove", form("protocol", "1", "vm", "vm-out")));
        assertFalse(JSON.readTree(client.get("/v1/baselines").body())
                .get("baselines")
                .toString()
                .contains(baselineId));

        // beta stored what it received, labelled with the domain and UUID the hook announced
        JsonNode atBeta = JSON.readTree(betaClient.get("/v1/baselines").body());
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!atBeta.get("commits").toString().contains("\"state\":\"committed\"")) {
            assertTrue(System.nanoTime() < deadline, "beta did not commit its baseline within 30 s: " + atBeta);
            Thread.sleep(20);
            atBeta = JSON.readTree(betaClient.get("/v1/baselines").body());
        }
        JsonNode betaCommit = atBeta.get("commits").get(0);
        assertEquals(sessionId, betaCommit.get("session").asText());
        assertEquals("destination", betaCommit.get("role").asText());
        atBeta = JSON.readTree(betaClient.get("/v1/baselines").body());
        JsonNode betaBaseline = atBeta.get("baselines").get(0);
        assertEquals(betaCommit.get("baseline").asText(), betaBaseline.get("id").asText());
        assertEquals("vm-out", betaBaseline.get("domain").asText());
        assertEquals(vmUuid, betaBaseline.get("uuid").asText());
        ControlClient.Reply removedAtBeta = betaClient.postForm(
                "/v1/baselines/remove", form("protocol", "1", "vm", vmUuid.toUpperCase(java.util.Locale.ROOT)));
        assertEquals(200, removedAtBeta.status(), removedAtBeta.body());
    }

    @Test
    void aBaselineAMigrationHasOpenIsNotRemovedUntilItEnded() throws Exception {
        Path destination = directory.resolve("beta-run/peer/beta.sock");
        Files.createDirectories(destination.getParent());
        Files.deleteIfExists(destination);
        try (ServerSocketChannel qemuIncoming = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            qemuIncoming.bind(UnixDomainSocketAddress.of(destination));
            // a first migration leaves a baseline at beta
            migrateThroughAlphaAndBeta(qemuIncoming, capture("qemu-7.2-precopy", 1 << 20));
            String baselineId = awaitCommitted(betaClient, 1);

            // a second one (other pages, another baseline): beta offers the first baseline, so it is
            // open while the migration runs
            byte[] second = capture("qemu-10.0-precopy", 1 << 20);
            Future<Long> received = executor.submit(() -> drain(qemuIncoming));
            try (SocketChannel source =
                    SocketChannel.open(UnixDomainSocketAddress.of(directory.resolve("alpha-run/peer/beta.sock")))) {
                source.write(ByteBuffer.wrap(second));
                JsonNode entry = baselineEntry(betaClient, baselineId);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (!entry.get("inUse").asBoolean()) {
                    assertTrue(
                            System.nanoTime() < deadline,
                            "the running migration did not open the baseline within 30 s: " + entry);
                    Thread.sleep(20);
                    entry = baselineEntry(betaClient, baselineId);
                }
                assertTrue(entry.get("lastUsedAtMillis").isNumber(), entry.toString());
                assertAnswer(
                        409,
                        "baseline " + baselineId + " of '" + baselineId
                                + "' in use by a migration: nothing removed, try again once it ended",
                        betaClient.postForm("/v1/baselines/remove", form("protocol", "1", "vm", baselineId)));
            }
            assertEquals(second.length, received.get(60, TimeUnit.SECONDS));
            awaitCommitted(betaClient, 2);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (baselineEntry(betaClient, baselineId).get("inUse").asBoolean()) {
                assertTrue(System.nanoTime() < deadline, "the ended migration still has the baseline open after 30 s");
                Thread.sleep(20);
            }
            ControlClient.Reply removed =
                    betaClient.postForm("/v1/baselines/remove", form("protocol", "1", "vm", baselineId));
            assertEquals(200, removed.status(), removed.body());
        } finally {
            Files.deleteIfExists(destination);
        }
    }

    /**
     * The first {@code limit} bytes of a capture's main channel: QEMU's stream with RAM pages (a
     * baseline records only pages: a migration of bytes that are no QEMU stream leaves none).
     */
    private static byte[] capture(String name, int limit) {
        byte[] main = io.dwcp.hde.HdeFixtureTest.channels(
                        io.dwcp.hde.HdeFixtureTest.fixturesRoot().resolve(name))
                .get(0);
        return java.util.Arrays.copyOf(main, Math.min(limit, main.length));
    }

    /** A fake QEMU pair moves {@code bytes} from alpha's peer socket to beta's QEMU. */
    private void migrateThroughAlphaAndBeta(ServerSocketChannel qemuIncoming, byte[] bytes) throws Exception {
        Future<Long> received = executor.submit(() -> drain(qemuIncoming));
        try (SocketChannel source =
                SocketChannel.open(UnixDomainSocketAddress.of(directory.resolve("alpha-run/peer/beta.sock")))) {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                source.write(buffer);
            }
        }
        assertEquals(bytes.length, received.get(60, TimeUnit.SECONDS));
    }

    private static long drain(ServerSocketChannel qemuIncoming) throws IOException {
        try (SocketChannel channel = qemuIncoming.accept()) {
            long total = 0;
            ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
            while (channel.read(buffer.clear()) >= 0) {
                total += buffer.position();
            }
            return total;
        }
    }

    /** Waits until the daemon lists {@code count} destination commits, all final, and returns the newest one's baseline id. */
    private static String awaitCommitted(ControlClient daemon, int count) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            List<JsonNode> commits = new ArrayList<>();
            JSON.readTree(daemon.get("/v1/baselines").body()).get("commits").forEach(commits::add);
            List<JsonNode> destination = commits.stream()
                    .filter(commit -> commit.get("role").asText().equals("destination"))
                    .toList();
            if (destination.size() >= count
                    && destination.stream()
                            .allMatch(commit -> commit.get("state").asText().equals("committed"))) {
                return destination.get(destination.size() - 1).get("baseline").asText();
            }
            assertTrue(System.nanoTime() < deadline, "no " + count + " committed baselines within 30 s: " + commits);
            Thread.sleep(20);
        }
    }

    private static JsonNode baselineEntry(ControlClient daemon, String id) throws Exception {
        for (JsonNode entry : JSON.readTree(daemon.get("/v1/baselines").body()).get("baselines")) {
            if (entry.get("id").asText().equals(id)) {
                return entry;
            }
        }
        throw new AssertionError("no baseline " + id + " listed");
    }

    private static Map<String, String> form(String... pairs) {
        Map<String, String> form = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            form.put(pairs[i], pairs[i + 1]);
        }
        return form;
    }

    private static void assertAnswer(int status, String message, ControlClient.Reply reply) {
        assertEquals(status, reply.status(), reply.body());
        assertEquals(message + "\n", reply.body());
        assertTrue(reply.contentType().startsWith("text/plain"), reply.contentType());
    }

    /**
     * Sends the bytes as they are and reads until dwcpd closes: the status code and body, or
     * status -1 when the connection closed without an answer.
     */
    private ControlClient.Reply raw(String request) throws Exception {
        try (SocketChannel channel =
                SocketChannel.open(UnixDomainSocketAddress.of(alpha.control().socket()))) {
            try {
                channel.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.UTF_8)));
            } catch (IOException e) {
                // closed by dwcpd before the request was written (a refused connection)
                return new ControlClient.Reply(-1, "", "");
            }
            Future<byte[]> answer = executor.submit(() -> {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                try (InputStream in = java.nio.channels.Channels.newInputStream(channel)) {
                    in.transferTo(out);
                } catch (IOException e) {
                    // a reset after the answer: keep what arrived
                }
                return out.toByteArray();
            });
            String text = new String(answer.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8);
            if (text.isEmpty()) {
                return new ControlClient.Reply(-1, "", "");
            }
            int status = Integer.parseInt(text.substring(9, 12));
            int headerEnd = text.indexOf("\r\n\r\n");
            String headers = text.substring(0, headerEnd).toLowerCase(java.util.Locale.ROOT);
            // Netty's own 413 closes without saying so; every answer of ours says it
            assertTrue(status == 413 || headers.contains("connection: close"), headers);
            assertFalse(headers.contains("transfer-encoding"), headers);
            String contentType = headers.contains("content-type: text/plain") ? "text/plain" : "";
            return new ControlClient.Reply(status, contentType, text.substring(headerEnd + 4));
        }
    }
}
