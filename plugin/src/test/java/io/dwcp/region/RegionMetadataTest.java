package io.dwcp.region;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.TestResources;
import io.dwcp.region.Records.BaselineRecord;
import io.dwcp.region.Records.HostRecord;
import io.dwcp.region.Records.LinkRecord;
import io.dwcp.region.Records.MigrationRecord;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.test.KillSession;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Region metadata on a real ZooKeeper: records, ephemeral hosts, VM locks, and the staleness bound. */
class RegionMetadataTest {
    private static final Duration BOUND = Duration.ofSeconds(5);

    private final TestResources resources = new TestResources();
    // the clock the metadata stamps with: moved by hand, so ages are exact
    private final AtomicLong now = new AtomicLong(1_000_000);
    private TestingServer server;

    @BeforeEach
    void startServer() throws Exception {
        server = new TestingServer();
        resources.add(server);
    }

    @AfterEach
    void closeAll() throws Exception {
        resources.close();
    }

    private CuratorFramework client() {
        CuratorFramework client =
                CuratorClients.create(server.getConnectString(), Duration.ofSeconds(4), Duration.ofSeconds(1));
        client.start();
        resources.add(client);
        return client;
    }

    private RegionMetadata metadata(CuratorFramework client) {
        return new RegionMetadata(
                client, new RegionPaths("/dwcp", "eu-west"), Duration.ofSeconds(1), new RegionStats(), now::get);
    }

    @Test
    void recordsRoundTripAndHostsAreEphemeral() throws Exception {
        CuratorFramework alphaClient = client();
        RegionMetadata alpha = metadata(alphaClient);
        RegionMetadata beta = metadata(client());
        HostRecord host = new HostRecord("alpha", "10.0.0.1:7470", 4, "0.1.0", "sha256:ab", 1);
        PersistentNode registration = alpha.registerHost(host);
        resources.add(registration);
        alpha.recordLink(new LinkRecord("alpha", "beta", 12_000, 125_000_000, 100, 2));
        alpha.recordBaseline(new BaselineRecord("web1", "alpha", 1 << 30, 3));
        alpha.recordMigration(new MigrationRecord("7f3a", "web1", "alpha", "beta", "running", 4, 5));

        assertEquals(List.of(host), beta.hosts(BOUND).value());
        assertEquals(
                List.of(new LinkRecord("alpha", "beta", 12_000, 125_000_000, 100, 2)),
                beta.links(BOUND).value());
        assertEquals(
                List.of(new BaselineRecord("web1", "alpha", 1 << 30, 3)),
                beta.baselines("web1", BOUND).value());
        assertEquals("running", beta.migrations(BOUND).value().get(0).state());

        // alpha's session expires: its host record goes (and Curator puts it back once reconnected)
        KillSession.kill(alphaClient.getZookeeperClient().getZooKeeper());
        now.addAndGet(BOUND.toMillis() + 1);
        List<HostRecord> hosts = beta.hosts(BOUND).value();
        assertTrue(hosts.isEmpty() || hosts.equals(List.of(host)), "gone or re-registered: " + hosts);
        assertTrue(registration.waitForInitialCreate(10, java.util.concurrent.TimeUnit.SECONDS));
    }

    @Test
    void aVmIsMigratedOnceAtATimeAndTheRefusalNamesTheHolder() throws Exception {
        CuratorFramework alphaClient = client();
        RegionMetadata alpha = metadata(alphaClient);
        RegionMetadata beta = metadata(client());
        VmLock lock = alpha.lockVm("web1", "alpha", "7f3a");
        VmLockedException refused = assertThrows(VmLockedException.class, () -> beta.lockVm("web1", "beta", "8e4b"));
        assertEquals(
                "VM 'web1' is already being migrated by host alpha (migration 7f3a, since 1970-01-01T00:16:40Z): one migration per VM at a time",
                refused.getMessage());
        // another VM is free
        beta.lockVm("db1", "beta", "9c5c").close();
        lock.close();
        VmLock second = beta.lockVm("web1", "beta", "8e4b");
        assertEquals("beta", second.holder().host());
        second.close();
        // alpha's host dies holding the lock: the server expires its session after the session
        // timeout, and the lock goes with it
        VmLock third = alpha.lockVm("web1", "alpha", "aa01");
        KillSession.kill(alphaClient.getZookeeperClient().getZooKeeper());
        CuratorFramework observer = client();
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        while (observer.checkExists().forPath("/dwcp/regions/eu-west/locks/web1") != null) {
            assertTrue(System.nanoTime() < deadline, "the dead host's lock was not released");
            java.util.concurrent.TimeUnit.MILLISECONDS.sleep(50);
        }
        VmLock fourth = beta.lockVm("web1", "beta", "bb02");
        assertEquals("beta", fourth.holder().host());
        third.close();
        fourth.close();
    }

    @Test
    void readsWithinTheBoundAreServedElseRefreshedElseRefused() throws Exception {
        RegionMetadata metadata = metadata(client());
        Stamped<List<HostRecord>> first = metadata.hosts(BOUND);
        assertEquals(Duration.ZERO, first.age(now.get()));
        now.addAndGet(4_000);
        // within the bound: the same read, 4 s old
        assertSame(first, metadata.hosts(BOUND));
        assertEquals(Duration.ofSeconds(4), metadata.hosts(BOUND).age(now.get()));
        now.addAndGet(2_000);
        // beyond: refreshed
        Stamped<List<HostRecord>> second = metadata.hosts(BOUND);
        assertEquals(now.get(), second.readAtMillis());
        // ZooKeeper gone, data too old: refused, saying what, how old, which bound
        server.stop();
        now.addAndGet(7_300);
        StaleMetadataException refused = assertThrows(StaleMetadataException.class, () -> metadata.hosts(BOUND));
        assertTrue(
                refused.getMessage()
                        .startsWith(
                                "region eu-west: hosts last read 7300 ms ago, older than the bound of 5000 ms (region.staleness-bound), and cannot be refreshed: "),
                refused.getMessage());
        // a decision that accepts older data still gets the last read
        assertSame(second, metadata.hosts(Duration.ofSeconds(10)));
        server.restart();
        now.addAndGet(1);
        assertEquals(now.get(), metadata.hosts(BOUND).readAtMillis());
    }
}
