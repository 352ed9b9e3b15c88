package io.dwcp.gossip.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.FreePorts;
import io.dwcp.TestResources;
import io.dwcp.config.HostAndPort;
import io.dwcp.gossip.GossipNode;
import io.dwcp.gossip.GossipStats;
import io.dwcp.gossip.OrSet;
import io.dwcp.tls.CertificateAuthority;
import io.dwcp.tls.TlsConfig;
import io.dwcp.tls.TlsContexts;
import io.netty.channel.Channel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollSocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two gossip nodes over mutual TLS on loopback; a peer whose certificate comes from another CA is refused. */
class TlsGossipTransportTest {
    @TempDir
    Path directory;

    private final TestResources resources = new TestResources();

    @AfterEach
    void closeAll() throws Exception {
        resources.close();
    }

    private TlsContexts tls(CertificateAuthority ca, Path caDirectory, String host) {
        ca.issue(host, caDirectory.resolve(host + ".pem"), caDirectory.resolve(host + ".key"), Duration.ofDays(1));
        return new TlsContexts(new TlsConfig()
                .setCaFile(caDirectory.resolve("ca.pem"))
                .setCertificateFile(caDirectory.resolve(host + ".pem"))
                .setKeyFile(caDirectory.resolve(host + ".key")));
    }

    /** A node with its own thread and transport; the peers' ports are known only once bound, hence the map. */
    private record Peer(GossipNode node, ExecutorService thread, TlsGossipTransport transport, GossipStats stats) {}

    private Peer peer(String name, TlsContexts tls, Map<String, HostAndPort> peers, int port)
            throws InterruptedException {
        ExecutorService thread = Executors.newSingleThreadExecutor(runnable -> new Thread(runnable, "gossip-" + name));
        resources.add(() -> {
            thread.shutdown();
            assertTrue(thread.awaitTermination(10, TimeUnit.SECONDS));
        });
        GossipStats stats = new GossipStats();
        TlsGossipTransport transport =
                new TlsGossipTransport(name, new HostAndPort("127.0.0.1", port), peers, tls, thread, stats, 1 << 20);
        resources.add(transport);
        GossipNode node = new GossipNode(name, transport, System::currentTimeMillis, new Random(1), stats, 1, 64);
        node.setPeers(List.copyOf(peers.keySet()));
        transport.start(node::receive);
        return new Peer(node, thread, transport, stats);
    }

    @Test
    void nodesExchangeUpdatesAndAForeignCaIsRefused() throws Exception {
        Path siteDirectory = directory.resolve("site");
        CertificateAuthority site = CertificateAuthority.create(siteDirectory, "site CA", Duration.ofDays(1));
        int alphaPort = FreePorts.pick();
        int betaPort = FreePorts.pick();
        Map<String, HostAndPort> addresses = Map.of(
                "alpha", new HostAndPort("127.0.0.1", alphaPort), "beta", new HostAndPort("127.0.0.1", betaPort));
        Peer alpha = peer("alpha", tls(site, siteDirectory, "alpha"), Map.of("beta", addresses.get("beta")), alphaPort);
        Peer beta = peer("beta", tls(site, siteDirectory, "beta"), Map.of("alpha", addresses.get("alpha")), betaPort);

        CountDownLatch betaHasIt = new CountDownLatch(1);
        beta.thread()
                .execute(() -> beta.node().addListener((key, value, dot) -> {
                    if (key.equals("hosts/eu-west") && ((OrSet) value).contains("alpha")) {
                        betaHasIt.countDown();
                    }
                }));
        CountDownLatch alphaHasIt = new CountDownLatch(1);
        alpha.thread().execute(() -> {
            alpha.node().addListener((key, value, dot) -> {
                if (key.equals("hosts/us-east") && ((OrSet) value).contains("beta")) {
                    alphaHasIt.countDown();
                }
            });
            alpha.node().add("hosts/eu-west", "alpha");
        });
        beta.thread().execute(() -> beta.node().add("hosts/us-east", "beta"));
        // one push-pull exchange started by alpha carries both updates
        alpha.thread().execute(alpha.node()::round);
        assertTrue(betaHasIt.await(20, TimeUnit.SECONDS), "beta did not receive alpha's update");
        assertTrue(alphaHasIt.await(20, TimeUnit.SECONDS), "alpha did not receive beta's update in the reply");

        // "beta" again, but with a certificate of a CA alpha does not trust
        Path rogueDirectory = directory.resolve("rogue");
        CertificateAuthority rogueCa = CertificateAuthority.create(rogueDirectory, "rogue CA", Duration.ofDays(1));
        Peer rogue = peer(
                "beta",
                tls(rogueCa, rogueDirectory, "beta"),
                Map.of("alpha", addresses.get("alpha")),
                FreePorts.pick());
        long receivedBefore = alpha.stats().messagesReceived();
        rogue.thread().execute(() -> {
            rogue.node().add("hosts/us-east", "intruder");
            rogue.node().round();
        });
        await(
                () -> alpha.stats().peersRefused() >= 1
                        && rogue.stats().peersRefused() + rogue.stats().sendFailures() >= 1,
                "the rogue peer was not refused");
        assertEquals(receivedBefore, alpha.stats().messagesReceived());
        CountDownLatch checked = new CountDownLatch(1);
        alpha.thread().execute(() -> {
            assertTrue(!((OrSet) alpha.node().get("hosts/us-east").orElseThrow()).contains("intruder"));
            checked.countDown();
        });
        assertTrue(checked.await(10, TimeUnit.SECONDS));
    }

    /**
     * A dialled connection carries TCP_USER_TIMEOUT (epoll, as dwcpd runs): a peer cut off by a
     * partition is given up after that long and dialled again, instead of its messages waiting
     * for TCP's backed-off retransmissions after the heal (GossipRegionsIT shows the effect).
     */
    @Test
    void dialledConnectionsGiveUpUnacknowledgedDataAfterTheTimeout() throws Exception {
        Assumptions.assumeTrue(Epoll.isAvailable(), "epoll: " + Epoll.unavailabilityCause());
        Path siteDirectory = directory.resolve("site");
        CertificateAuthority site = CertificateAuthority.create(siteDirectory, "site CA", Duration.ofDays(1));
        Map<String, HostAndPort> addresses = Map.of(
                "alpha",
                new HostAndPort("127.0.0.1", FreePorts.pick()),
                "beta",
                new HostAndPort("127.0.0.1", FreePorts.pick()));
        Peer alpha = peer(
                "alpha",
                tls(site, siteDirectory, "alpha"),
                Map.of("beta", addresses.get("beta")),
                addresses.get("alpha").port());
        Peer beta = peer(
                "beta",
                tls(site, siteDirectory, "beta"),
                Map.of("alpha", addresses.get("alpha")),
                addresses.get("beta").port());
        alpha.thread().submit(() -> alpha.node().round()).get();
        await(() -> beta.stats().bytesReceived() > 0, "beta heard alpha");
        Channel dialled = alpha.transport().outgoing("beta").orElseThrow();
        assertTrue(dialled instanceof EpollSocketChannel, dialled.getClass().getName());
        assertEquals(
                TlsGossipTransport.UNACKNOWLEDGED_TIMEOUT_MILLIS,
                ((EpollSocketChannel) dialled).config().getTcpUserTimeout());
        assertEquals(TlsGossipTransport.CONNECT_TIMEOUT_MILLIS, dialled.config().getConnectTimeoutMillis());
    }

    private static void await(BooleanSupplier condition, String message) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, message);
            TimeUnit.MILLISECONDS.sleep(10);
        }
    }
}
