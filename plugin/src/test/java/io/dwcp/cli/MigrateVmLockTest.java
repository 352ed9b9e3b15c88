package io.dwcp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dwcp.daemon.DwcpDaemon;
import io.dwcp.tls.CertificateAuthority;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The VM lock through the control plane: two real dwcpd of region {@code lab} (alpha runs the
 * embedded ZooKeeper, beta uses it), spoken to by dwcp's real control client; libvirt is a fake.
 * While alpha's announced migration of vm1 holds the lock, {@code dwcp migrate vm1} on beta is
 * refused naming alpha and its migration, before libvirt is asked to migrate; once alpha lets go
 * (DELETE, as dwcp migrate does when it ends), beta's migration goes ahead and lets go in turn.
 */
class MigrateVmLockTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path directory;

    private final Deque<AutoCloseable> opened = new ArrayDeque<>();
    private Path settings;

    @BeforeEach
    void setUp() throws IOException {
        settings = directory.resolve("dwcp.properties");
        Files.writeString(settings, "node.run-dir=/run/dwcp\n");
    }

    @AfterEach
    void tearDown() throws Exception {
        while (!opened.isEmpty()) {
            opened.pop().close();
        }
    }

    private Map<String, String> properties(String name, String peer) {
        Path tls = directory.resolve("tls");
        if (!Files.exists(tls.resolve("ca.pem"))) {
            CertificateAuthority.create(tls, "test CA", Duration.ofDays(1));
        }
        CertificateAuthority.load(tls)
                .issue(name, tls.resolve(name + ".pem"), tls.resolve(name + ".key"), Duration.ofDays(1));
        Map<String, String> properties = new HashMap<>();
        properties.put("node.name", name);
        properties.put("node.run-dir", directory.resolve(name + "-run").toString());
        properties.put("node.state-dir", directory.resolve(name + "-state").toString());
        properties.put("tunnel.listen", "127.0.0.1:0");
        properties.put("metrics.listen", "127.0.0.1:0");
        properties.put("tls.ca-file", tls.resolve("ca.pem").toString());
        properties.put("tls.cert-file", tls.resolve(name + ".pem").toString());
        properties.put("tls.key-file", tls.resolve(name + ".key").toString());
        properties.put("peer." + peer + ".address", "127.0.0.1:1");
        properties.put("region.name", "lab");
        properties.put("gossip.listen", "127.0.0.1:0");
        return properties;
    }

    private DwcpDaemon start(Map<String, String> properties) throws Exception {
        DwcpDaemon daemon = DwcpDaemon.create(properties);
        opened.push(daemon);
        daemon.start();
        return daemon;
    }

    private ControlClient client(String name) {
        ControlClient client =
                new ControlClient(directory.resolve(name + "-run").resolve("control.sock"), Duration.ofSeconds(10));
        opened.push(client);
        return client;
    }

    /** {@code dwcp migrate DOMAIN dwcp://PEER} through the named daemon's socket; exit status, stdout and stderr. */
    private record Run(int exit, String out, String err) {}

    private Run migrate(String through, FakeLibvirt libvirt, String domain, String peer) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        MigrateCommand.Environment environment = new MigrateCommand.Environment(
                libvirt,
                socket -> new DwcpdControl(new ControlClient(socket, Duration.ofSeconds(10))),
                handler -> {},
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8),
                false,
                120,
                Duration.ofMillis(10),
                Duration.ZERO);
        int exit = new CommandLine(new MigrateCommand(environment))
                .execute(
                        "--config",
                        settings.toString(),
                        "--progress",
                        "none",
                        "--control-socket",
                        directory
                                .resolve(through + "-run")
                                .resolve("control.sock")
                                .toString(),
                        domain,
                        "dwcp://" + peer);
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static Map<String, String> announcement(String domain, String peer) {
        return Map.of("protocol", "1", "domain", domain, "peer", peer);
    }

    @Test
    void aSecondMigrationOfTheSameVmIsRefusedAcrossTheRegion() throws Exception {
        Map<String, String> alphaProperties = properties("alpha", "beta");
        alphaProperties.put("region.zookeeper.embedded", "true");
        alphaProperties.put("region.zookeeper.embedded-listen", "127.0.0.1:0");
        DwcpDaemon alphaDaemon = start(alphaProperties);
        Map<String, String> betaProperties = properties("beta", "alpha");
        betaProperties.put("region.zookeeper.connect", embeddedZooKeeper(alphaDaemon));
        start(betaProperties);
        ControlClient alpha = client("alpha");
        ControlClient beta = client("beta");

        // alpha announces vm1 twice (libvirt refused the first attempt): the second replaces the first and holds the
        // lock
        ControlClient.Reply first = alpha.postForm("/v1/migrations", announcement("vm1", "beta"));
        assertEquals(201, first.status(), first.body());
        ControlClient.Reply second = alpha.postForm("/v1/migrations", announcement("vm1", "beta"));
        assertEquals(201, second.status(), second.body());
        String holding = JSON.readTree(second.body()).path("id").asText();

        // dwcp migrate vm1 on beta: refused before libvirt migrates, naming the holder
        FakeLibvirt libvirt = new FakeLibvirt();
        libvirt.add("vm1").script.add(JobStats.NONE);
        Run refused = migrate("beta", libvirt, "vm1", "alpha");
        assertEquals(ExitCode.DWCPD_UNAVAILABLE.code(), refused.exit(), refused.err());
        assertTrue(
                Pattern.compile(
                                "dwcp migrate: dwcpd at unix:\\S+ answered 409 to /v1/migrations: VM 'vm1' is already being migrated by host alpha "
                                        + "\\(migration " + holding
                                        + ", since \\S+\\): one migration per VM at a time\n")
                        .matcher(refused.err())
                        .matches(),
                refused.err());
        assertFalse(libvirt.calls.contains("migrate vm1"), "libvirt was not asked: " + libvirt.calls);
        JsonNode betaMigrations = JSON.readTree(beta.get("/v1/migrations").body());
        assertEquals(0, betaMigrations.size(), "the refused announcement is withdrawn: " + betaMigrations);
        // another VM is not held up
        ControlClient.Reply other = beta.postForm("/v1/migrations", announcement("vm2", "alpha"));
        assertEquals(201, other.status(), other.body());

        // alpha is done with vm1 (as dwcp migrate is when it ends): beta's migration goes ahead and lets go in turn
        assertEquals(204, alpha.delete("/v1/migrations/" + holding).status());
        assertEquals(404, alpha.delete("/v1/migrations/" + holding).status(), "forgotten");
        Run migrated = migrate("beta", libvirt, "vm1", "alpha");
        assertEquals(0, migrated.exit(), migrated.err());
        assertTrue(libvirt.calls.contains("migrate vm1"), libvirt.calls.toString());
        ControlClient.Reply again = alpha.postForm("/v1/migrations", announcement("vm1", "beta"));
        assertEquals(201, again.status(), "beta's dwcp migrate let go of the lock when it ended: " + again.body());
        assertFalse(beta.get("/v1/migrations").body().contains("\"domain\":\"vm1\""), "beta forgot its vm1 migration");
    }

    /**
     * The lock of a migration whose session runs is held until the session ends (a fake QEMU pair
     * migrates through alpha and beta): DELETE is refused meanwhile, and dwcpd lets go of the lock
     * by itself (its once-a-second sweep, nobody asking it anything) soon after the session ends.
     */
    @Test
    void aRunningMigrationKeepsItsLockUntilItsSessionEnds() throws Exception {
        Map<String, String> betaProperties = properties("beta", "alpha");
        betaProperties.put("region.zookeeper.embedded", "true");
        betaProperties.put("region.zookeeper.embedded-listen", "127.0.0.1:0");
        DwcpDaemon betaDaemon = start(betaProperties);
        Map<String, String> alphaProperties = properties("alpha", "beta");
        alphaProperties.put(
                "peer.beta.address",
                "127.0.0.1:" + betaDaemon.tunnelServer().localAddress().getPort());
        alphaProperties.put("region.zookeeper.connect", embeddedZooKeeper(betaDaemon));
        start(alphaProperties);
        ControlClient alpha = client("alpha");
        ControlClient beta = client("beta");

        ControlClient.Reply created = alpha.postForm("/v1/migrations", announcement("vm1", "beta"));
        assertEquals(201, created.status(), created.body());
        JsonNode migration = JSON.readTree(created.body());
        String id = migration.path("id").asText();
        // the migration's own socket at beta, where its destination QEMU listens
        Path destination = directory.resolve("beta-run/peer/beta/" + id + ".sock");
        ExecutorService executor = Executors.newSingleThreadExecutor();
        opened.push(executor::shutdownNow);
        try (ServerSocketChannel qemuIncoming = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            qemuIncoming.bind(UnixDomainSocketAddress.of(destination));
            Future<Long> received = executor.submit(() -> {
                try (SocketChannel channel = qemuIncoming.accept()) {
                    long total = 0;
                    ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
                    while (channel.read(buffer.clear()) >= 0) {
                        total += buffer.position();
                    }
                    return total;
                }
            });
            try (SocketChannel source = SocketChannel.open(
                    UnixDomainSocketAddress.of(Path.of(migration.path("socket").asText())))) {
                source.write(ByteBuffer.wrap(new byte[1 << 20]));
                awaitState(alpha, id, "open");
                ControlClient.Reply running = alpha.delete("/v1/migrations/" + id);
                assertEquals(409, running.status(), running.body());
                assertEquals(
                        "migration " + id + " still runs: its VM lock is let go of when its session ends\n",
                        running.body());
                assertEquals(
                        409,
                        beta.postForm("/v1/migrations", announcement("vm1", "alpha"))
                                .status(),
                        "held while the session runs");
            }
            assertEquals(1 << 20, received.get(60, TimeUnit.SECONDS));
        }
        // no request to alpha from here on: only its once-a-second sweep lets go of the lock
        long ended = System.nanoTime();
        ControlClient.Reply taken = beta.postForm("/v1/migrations", announcement("vm1", "alpha"));
        while (taken.status() == 409 && System.nanoTime() - ended < TimeUnit.SECONDS.toNanos(10)) {
            Thread.sleep(50);
            taken = beta.postForm("/v1/migrations", announcement("vm1", "alpha"));
        }
        assertEquals(201, taken.status(), "alpha let go of vm1 after its session ended: " + taken.body());
        System.out.println("VM lock let go of " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - ended)
                + " ms after the destination QEMU received the last byte");
        awaitState(alpha, id, "completed");
        assertEquals(204, alpha.delete("/v1/migrations/" + id).status(), "an ended migration is forgotten at once");
    }

    private static void awaitState(ControlClient client, String id, String state) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String body = client.get("/v1/migrations/" + id).body();
        while (!JSON.readTree(body).path("state").asText().equals(state)) {
            assertTrue(System.nanoTime() < deadline, "migration " + id + " not " + state + " within 30 s: " + body);
            Thread.sleep(20);
            body = client.get("/v1/migrations/" + id).body();
        }
    }

    @Test
    void withoutAControlPlaneNothingIsLocked() throws Exception {
        Map<String, String> alphaProperties = properties("alpha", "beta");
        alphaProperties.remove("region.name");
        alphaProperties.remove("gossip.listen");
        start(alphaProperties);
        ControlClient alpha = client("alpha");
        ControlClient.Reply created = alpha.postForm("/v1/migrations", announcement("vm1", "beta"));
        assertEquals(201, created.status(), created.body());
        String id = JSON.readTree(created.body()).path("id").asText();
        assertEquals(204, alpha.delete("/v1/migrations/" + id).status());
        assertEquals(404, alpha.get("/v1/migrations/" + id).status());
    }

    /** The embedded ZooKeeper's address, with the free port it took for port 0. */
    private static String embeddedZooKeeper(DwcpDaemon daemon) {
        return daemon.controlPlane().orElseThrow().embeddedZooKeeper().orElseThrow();
    }
}
