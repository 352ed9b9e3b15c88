package io.dwcp.region;

import io.dwcp.cli.ControlClient;
import io.dwcp.daemon.DwcpDaemon;
import io.dwcp.tls.CertificateAuthority;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** dwcpd starts the control plane only when region.name is set, and shows it on the control socket. */
class DaemonControlPlaneTest
{
    @TempDir
    Path directory;

    private Map<String, String> properties(String name)
    {
        Path tls = directory.resolve("tls");
        if (!tls.resolve("ca.pem").toFile().exists()) {
            CertificateAuthority.create(tls, "test CA", Duration.ofDays(1));
        }
        CertificateAuthority.load(tls).issue(name, tls.resolve(name + ".pem"), tls.resolve(name + ".key"), Duration.ofDays(1));
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

    private static int freePort()
            throws java.io.IOException
    {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    @Test
    void withoutARegionNothingChanges()
            throws Exception
    {
        try (DwcpDaemon daemon = DwcpDaemon.create(properties("plain"))) {
            daemon.start();
            assertTrue(daemon.controlPlane().isEmpty());
            ControlClient client = new ControlClient(directory.resolve("plain-run").resolve("control.sock"), Duration.ofSeconds(5));
            ControlClient.Reply reply = client.get("/v1/regions");
            assertEquals(404, reply.status());
            assertEquals("dwcpd plain runs no control plane (set region.name)\n", reply.body());
            assertTrue(!daemon.metrics().render().contains("dwcp_region_"), "no control plane metrics");
        }
    }

    @Test
    void aOneHostRegionWithTheEmbeddedZooKeeper()
            throws Exception
    {
        Map<String, String> properties = properties("solo");
        properties.put("region.name", "lab");
        properties.put("region.zookeeper.embedded", "true");
        properties.put("region.zookeeper.embedded-listen", "127.0.0.1:" + freePort());
        properties.put("gossip.listen", "127.0.0.1:0");
        try (DwcpDaemon daemon = DwcpDaemon.create(properties)) {
            daemon.start();
            assertTrue(directory.resolve("solo-state").resolve("zookeeper").toFile().isDirectory(), "data under the state dir");
            ControlClient client = new ControlClient(directory.resolve("solo-run").resolve("control.sock"), Duration.ofSeconds(5));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            ControlClient.Reply reply = client.get("/v1/regions");
            while (!(reply.status() == 200 && reply.body().contains("\"thisHostLeads\":true") && reply.body().contains("\"name\":\"solo\""))) {
                assertTrue(System.nanoTime() < deadline, "no leader in /v1/regions: " + reply);
                TimeUnit.MILLISECONDS.sleep(50);
                reply = client.get("/v1/regions");
            }
            assertTrue(reply.body().contains("\"region\":\"lab\""), reply.body());
            assertTrue(reply.body().contains("\"term\":1"), reply.body());
            String metrics = daemon.metrics().render();
            assertTrue(metrics.contains("dwcp_region_leaderships_acquired_total 1\n"), metrics);
            assertTrue(metrics.contains("dwcp_gossip_rounds_total "), metrics);
        }
    }
}
