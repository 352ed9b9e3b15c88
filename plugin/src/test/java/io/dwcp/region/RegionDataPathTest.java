package io.dwcp.region;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dwcp.FreePorts;
import io.dwcp.TestResources;
import io.dwcp.cli.ControlClient;
import io.dwcp.cli.Dwcpd;
import io.dwcp.cli.DwcpdControl;
import io.dwcp.daemon.DwcpDaemon;
import io.dwcp.region.Records.LinkRecord;
import io.dwcp.region.Records.MigrationRecord;
import io.dwcp.tls.CertificateAuthority;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two dwcpd in one region (a real in-process ZooKeeper), neither configured as the other's peer:
 * alpha migrates to beta by name (resolved from the region's host records, the certificate checked
 * against the fingerprint beta published, beta accepting alpha from the same records), and the
 * migration leaves its record, a measured link and what dwcp status shows of it.
 */
class RegionDataPathTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long BYTES = 32L << 20;

    @TempDir
    Path directory;

    private final TestResources resources = new TestResources();

    @AfterEach
    void closeAll() throws Exception {
        resources.close();
    }

    private Map<String, String> properties(String name, String zookeeper) throws IOException {
        Path tls = directory.resolve("tls");
        if (!tls.resolve("ca.pem").toFile().exists()) {
            CertificateAuthority.create(tls, "test CA", Duration.ofDays(1));
        }
        CertificateAuthority.load(tls)
                .issue(name, tls.resolve(name + ".pem"), tls.resolve(name + ".key"), Duration.ofDays(1));
        Map<String, String> properties = new HashMap<>();
        properties.put("node.name", name);
        properties.put("node.run-dir", directory.resolve(name + "-run").toString());
        properties.put("node.state-dir", directory.resolve(name + "-state").toString());
        properties.put("tunnel.listen", "127.0.0.1:" + FreePorts.pick());
        properties.put("metrics.listen", "127.0.0.1:0");
        properties.put("tls.ca-file", tls.resolve("ca.pem").toString());
        properties.put("tls.cert-file", tls.resolve(name + ".pem").toString());
        properties.put("tls.key-file", tls.resolve(name + ".key").toString());
        properties.put("region.name", "lab");
        properties.put("region.zookeeper.connect", zookeeper);
        properties.put("region.staleness-bound", "1s");
        properties.put("region.link-publish-interval", "200ms");
        properties.put("gossip.listen", "127.0.0.1:0");
        return properties;
    }

    private static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "not within " + timeout.toSeconds() + " s: " + what);
            TimeUnit.MILLISECONDS.sleep(20);
        }
    }

    private static JsonNode json(ControlClient.Reply reply) {
        try {
            return JSON.readTree(reply.body());
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + reply.body(), e);
        }
    }

    @Test
    void aMigrationToAHostOfTheRegionIsResolvedRecordedAndMeasured() throws Exception {
        TestingServer server = resources.add(new TestingServer());
        DwcpDaemon beta = resources.add(DwcpDaemon.create(properties("beta", server.getConnectString())));
        beta.start();
        DwcpDaemon alpha = resources.add(DwcpDaemon.create(properties("alpha", server.getConnectString())));
        alpha.start();
        ExecutorService executor = Executors.newCachedThreadPool();
        resources.add(executor::shutdownNow);
        ControlClient control =
                new ControlClient(directory.resolve("alpha-run").resolve("control.sock"), Duration.ofSeconds(5));
        await("both hosts in alpha's view of the region", Duration.ofSeconds(20), () -> {
            try {
                JsonNode region = json(control.get("/v1/regions"));
                return region.path("hosts").size() == 2;
            } catch (ControlClient.UnavailableException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        });

        // neither a configured peer nor a host of the region: refused, saying where it was looked up
        ControlClient.Reply unknown =
                control.postForm("/v1/migrations", Map.of("protocol", "1", "domain", "vm1", "peer", "gamma"));
        assertEquals(404, unknown.status(), unknown.body());
        assertTrue(
                unknown.body()
                        .startsWith(
                                "dwcpd alpha has no peer 'gamma' (peers: none configured), and region lab has no host of that name (hosts: alpha, beta; read "),
                unknown.body());

        ControlClient.Reply announced =
                control.postForm("/v1/migrations", Map.of("protocol", "1", "domain", "vm1", "peer", "beta"));
        assertEquals(201, announced.status(), announced.body());
        String id = json(announced).path("id").asText();
        Path sourceSocket = Path.of(json(announced).path("socket").asText());
        // the destination QEMU of this migration, where beta's dwcpd connects
        Path incoming = directory.resolve("beta-run/peer/beta/" + id + ".sock");
        Files.createDirectories(incoming.getParent());
        try (ServerSocketChannel destination = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            destination.bind(UnixDomainSocketAddress.of(incoming));
            Future<Long> received = executor.submit(() -> {
                try (SocketChannel channel = destination.accept()) {
                    ByteBuffer buffer = ByteBuffer.allocate(256 * 1024);
                    long total = 0;
                    for (int read = channel.read(buffer); read >= 0; read = channel.read(buffer)) {
                        total += read;
                        buffer.clear();
                    }
                    return total;
                }
            });
            try (SocketChannel source = SocketChannel.open(UnixDomainSocketAddress.of(sourceSocket))) {
                Random random = new Random(7);
                byte[] chunk = new byte[256 * 1024];
                for (long sent = 0; sent < BYTES; sent += chunk.length) {
                    random.nextBytes(chunk);
                    ByteBuffer buffer = ByteBuffer.wrap(chunk);
                    while (buffer.hasRemaining()) {
                        source.write(buffer);
                    }
                }
            }
            assertEquals(BYTES, received.get(60, TimeUnit.SECONDS));
        }

        // what alpha published, read as any host of the region reads it
        CuratorFramework client = resources.add(
                CuratorClients.create(server.getConnectString(), Duration.ofSeconds(4), Duration.ofSeconds(1)));
        client.start();
        RegionMetadata metadata = new RegionMetadata(
                client,
                new RegionPaths("/dwcp", "lab"),
                Duration.ofSeconds(2),
                new RegionStats(),
                System::currentTimeMillis);
        await("the migration recorded as completed", Duration.ofSeconds(20), () -> {
            try {
                return metadata.migrations(Duration.ZERO).value().stream()
                        .anyMatch(record ->
                                record.id().equals(id) && record.state().equals("completed"));
            } catch (StaleMetadataException e) {
                return false;
            }
        });
        MigrationRecord record = metadata.migrations(Duration.ZERO).value().stream()
                .filter(migration -> migration.id().equals(id))
                .findFirst()
                .orElseThrow();
        assertEquals("vm1", record.vm());
        assertEquals("alpha", record.source());
        assertEquals("beta", record.destination());
        assertEquals("", record.failure());
        assertTrue(record.bytes() >= BYTES, "tunnel bytes sent: " + record.bytes());
        assertTrue(
                record.endedAtMillis() >= record.startedAtMillis() && record.startedAtMillis() > 0, record.toString());
        // the session's measurement over its life: written once the rate limit lets it (region.link-publish-interval)
        await("the session's link measurement", Duration.ofSeconds(10), () -> {
            try {
                return metadata.links(Duration.ZERO).value().stream()
                        .anyMatch(measured -> measured.from().equals("alpha")
                                && measured.to().equals("beta")
                                && measured.measuredAtMillis() >= record.endedAtMillis());
            } catch (StaleMetadataException e) {
                return false;
            }
        });
        long now = System.currentTimeMillis();
        List<LinkRecord> links = metadata.links(Duration.ZERO).value();
        Optional<LinkRecord> link = links.stream()
                .filter(measured ->
                        measured.from().equals("alpha") && measured.to().equals("beta"))
                .findFirst();
        assertTrue(link.isPresent(), "links: " + links);
        System.out.println("published: " + record + ", " + link.get());
        assertTrue(link.get().goodputBytesPerSecond() > 0, link.toString());
        assertTrue(link.get().rttMicros() > 0, "RTT measured from TCP_INFO: " + link);
        assertTrue(now - link.get().measuredAtMillis() < 20_000, "a recent measurement: " + link);

        // and alpha's status shows it, with its age
        await("the link in alpha's /v1/regions", Duration.ofSeconds(10), () -> {
            try {
                for (JsonNode shown : json(control.get("/v1/regions")).path("links")) {
                    if (shown.path("from").asText().equals("alpha")
                            && shown.path("to").asText().equals("beta")
                            && shown.path("goodputBytesPerSecond").asLong() > 0) {
                        return true;
                    }
                }
                return false;
            } catch (ControlClient.UnavailableException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        });
        // the catalogue's baselines, asked for through alpha's control socket as dwcp evacuate asks (one round trip:
        // records written to ZooKeeper, ControlApi's answer, DwcpdControl's parse)
        metadata.recordBaseline(new Records.BaselineRecord("vm9", "beta", 3L << 30, now - 60_000));
        metadata.recordBaseline(new Records.BaselineRecord("vm9", "alpha", 1L << 30, now - 5_000));
        try (DwcpdControl dwcpd = new DwcpdControl(
                new ControlClient(directory.resolve("alpha-run").resolve("control.sock"), Duration.ofSeconds(5)))) {
            Dwcpd.RegionBaselines held = dwcpd.regionBaselines("lab", List.of("vm9", "vm10"));
            assertEquals("lab", held.region());
            assertEquals("alpha", held.host());
            assertEquals(
                    List.of(
                            "vm9 alpha " + (1L << 30) + " " + (now - 5_000),
                            "vm9 beta " + (3L << 30) + " " + (now - 60_000)),
                    held.baselines().stream()
                            .map(b -> b.vm() + " " + b.host() + " " + b.sizeBytes() + " " + b.createdAtMillis())
                            .toList());
            assertTrue(
                    held.baselines().get(1).ageMillis() >= 60_000,
                    held.baselines().toString());
            assertTrue(held.baselinesAgeMillis() <= 1000, "within region.staleness-bound: " + held);
            Dwcpd.UnavailableException other = org.junit.jupiter.api.Assertions.assertThrows(
                    Dwcpd.UnavailableException.class, () -> dwcpd.regionBaselines("us", List.of("vm9")));
            assertTrue(
                    other.getMessage()
                            .contains("answered 409 to GET /v1/regions/us/baselines: the baselines held in "
                                    + "region us are not known here"),
                    other.getMessage());
        }
        String metrics = alpha.metrics().render();
        assertTrue(metrics.contains("\ndwcp_region_records_publish_failed_total 0.0\n"), metrics);
        assertTrue(
                !metrics.contains("\ndwcp_region_records_published_total 0.0\n")
                        && metrics.contains("\ndwcp_region_records_published_total "),
                metrics);
    }
}
