package io.dwcp.region;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.cli.ControlClient;
import io.dwcp.cli.DwcpdControl;
import io.dwcp.cli.StatusCommand;
import io.dwcp.daemon.DwcpDaemon;
import io.dwcp.metrics.ScrapedMetrics;
import io.dwcp.tls.CertificateAuthority;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** dwcpd starts the control plane only when region.name is set, and shows it on the control socket. */
class DaemonControlPlaneTest {
    @TempDir
    Path directory;

    private Map<String, String> properties(String name) {
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
        properties.put("tunnel.listen", "127.0.0.1:0");
        properties.put("metrics.listen", "127.0.0.1:0");
        properties.put("tls.ca-file", tls.resolve("ca.pem").toString());
        properties.put("tls.cert-file", tls.resolve(name + ".pem").toString());
        properties.put("tls.key-file", tls.resolve(name + ".key").toString());
        return properties;
    }

    /** {@code dwcp status} as an operator runs it, through the real control socket; its output, or its exit status and errors. */
    private String dwcpStatus(Path socket) throws java.io.IOException {
        Path settings = directory.resolve("dwcp.properties");
        java.nio.file.Files.writeString(settings, "control.socket=" + socket + "\n");
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        StatusCommand.Environment environment = new StatusCommand.Environment(
                path -> new DwcpdControl(new ControlClient(path, Duration.ofSeconds(5))),
                new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8),
                new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8),
                System::currentTimeMillis);
        int exit = new picocli.CommandLine(new StatusCommand(environment)).execute("--config", settings.toString());
        return exit == 0
                ? out.toString(java.nio.charset.StandardCharsets.UTF_8)
                : "exit " + exit + ": " + err.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    @Test
    void withoutARegionNothingChanges() throws Exception {
        try (DwcpDaemon daemon = DwcpDaemon.create(properties("plain"))) {
            daemon.start();
            assertTrue(daemon.controlPlane().isEmpty());
            ControlClient client =
                    new ControlClient(directory.resolve("plain-run").resolve("control.sock"), Duration.ofSeconds(5));
            ControlClient.Reply reply = client.get("/v1/regions");
            assertEquals(404, reply.status());
            assertEquals("dwcpd plain runs no control plane (set region.name)\n", reply.body());
            assertTrue(!daemon.metrics().render().contains("dwcp_region_"), "no control plane metrics");
            String status = dwcpStatus(directory.resolve("plain-run").resolve("control.sock"));
            assertEquals(
                    "dwcpd plain runs no control plane (region.name is not set): it migrates to its static peers only\n"
                            + "Static peers (0):\n  none (peer.NAME.address)\n",
                    status);
        }
    }

    @Test
    void aOneHostRegionWithTheEmbeddedZooKeeper() throws Exception {
        Map<String, String> properties = properties("solo");
        properties.put("region.name", "lab");
        properties.put("region.zookeeper.embedded", "true");
        // port 0: the server takes a free port, and dwcpd's own client connects to that one
        properties.put("region.zookeeper.embedded-listen", "127.0.0.1:0");
        properties.put("gossip.listen", "127.0.0.1:0");
        try (DwcpDaemon daemon = DwcpDaemon.create(properties)) {
            daemon.start();
            assertTrue(
                    directory
                            .resolve("solo-state")
                            .resolve("zookeeper")
                            .toFile()
                            .isDirectory(),
                    "data under the state dir");
            String zooKeeper =
                    daemon.controlPlane().orElseThrow().embeddedZooKeeper().orElseThrow();
            assertTrue(zooKeeper.matches("127\\.0\\.0\\.1:[1-9]\\d*"), zooKeeper);
            ControlClient client =
                    new ControlClient(directory.resolve("solo-run").resolve("control.sock"), Duration.ofSeconds(5));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            ControlClient.Reply reply = client.get("/v1/regions");
            while (!(reply.status() == 200
                    && reply.body().contains("\"thisHostLeads\":true")
                    && reply.body().contains("\"name\":\"solo\""))) {
                assertTrue(System.nanoTime() < deadline, "no leader in /v1/regions: " + reply);
                TimeUnit.MILLISECONDS.sleep(50);
                reply = client.get("/v1/regions");
            }
            assertTrue(reply.body().contains("\"region\":\"lab\""), reply.body());
            assertTrue(reply.body().contains("\"term\":1"), reply.body());
            String status = dwcpStatus(directory.resolve("solo-run").resolve("control.sock"));
            assertTrue(status.startsWith("Region lab, host solo\nLeader:  solo (this host), term 1 (read "), status);
            assertTrue(status.contains("Hosts (1, read "), status);
            assertTrue(
                    status.matches("(?s).*\n  solo \\*  127\\.0\\.0\\.1:\\d+ +\\d+ +\\S+ +sha256:[0-9a-f]{64}\n.*"),
                    status);
            ScrapedMetrics metrics = ScrapedMetrics.parse(daemon.metrics().render());
            assertEquals(1, metrics.require("dwcp_region_leaderships_acquired_total"), metrics.toString());
            assertTrue(metrics.value("dwcp_gossip_rounds_total").isPresent(), metrics.toString());
        }
    }
}
