package io.dwcp.region;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.TestResources;
import io.dwcp.region.Records.BaselineRecord;
import io.dwcp.region.Records.HostRecord;
import io.dwcp.region.Records.LinkRecord;
import io.dwcp.region.Records.MigrationRecord;
import io.dwcp.region.Records.RemoteRecord;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Choosing a VM's destination in a region, from metadata in a real (in-process) ZooKeeper. */
class DestinationChooserTest {
    private static final Duration BOUND = Duration.ofSeconds(5);
    private static final long NOW = 10_000_000;

    private final TestResources resources = new TestResources();
    private final AtomicLong now = new AtomicLong(NOW);
    private TestingServer server;
    private RegionMetadata metadata;

    /** The region as ControlPlane shows it to decisions: RegionMetadata's reads with the bound. */
    private final class View implements RegionView {
        @Override
        public String region() {
            return "eu-west";
        }

        @Override
        public String host() {
            return "alpha";
        }

        @Override
        public Duration stalenessBound() {
            return BOUND;
        }

        @Override
        public Stamped<List<HostRecord>> hosts() throws StaleMetadataException {
            return metadata.hosts(BOUND);
        }

        @Override
        public Stamped<List<LinkRecord>> links() throws StaleMetadataException {
            return metadata.links(BOUND);
        }

        @Override
        public Stamped<List<BaselineRecord>> baselines(String vm) throws StaleMetadataException {
            return metadata.baselines(vm, BOUND);
        }

        @Override
        public Stamped<List<MigrationRecord>> migrations() throws StaleMetadataException {
            return metadata.migrations(BOUND);
        }

        @Override
        public Stamped<List<RemoteRecord>> remoteRegions() throws StaleMetadataException {
            return metadata.remoteRegions(BOUND);
        }
    }

    @BeforeEach
    void start() throws Exception {
        server = resources.add(new TestingServer());
        CuratorFramework client = resources.add(
                CuratorClients.create(server.getConnectString(), Duration.ofSeconds(4), Duration.ofSeconds(1)));
        client.start();
        metadata = new RegionMetadata(
                client, new RegionPaths("/dwcp", "eu-west"), Duration.ofSeconds(1), new RegionStats(), now::get);
    }

    @AfterEach
    void closeAll() throws Exception {
        resources.close();
    }

    private PersistentNode host(String name, int capacity) throws Exception {
        return resources.add(metadata.registerHost(new HostRecord(
                name, "192.0.2." + (name.charAt(0) - 'a' + 10) + ":7470", capacity, "0.1.0", "sha256:" + name, 1)));
    }

    @Test
    void baselineFirstThenLinkThenFreeSlotsAndFullHostsLast() throws Exception {
        host("alpha", 4);
        host("beta", 4);
        host("gamma", 4);
        host("delta", 4);
        host("omega", 1);
        // gamma has the fastest link, delta holds a baseline of web1, omega is full
        metadata.recordLink(new LinkRecord("alpha", "gamma", 400, 117_500_000, 0, NOW - 12_000));
        metadata.recordLink(new LinkRecord("alpha", "beta", 900, 50_000_000, 20, NOW - 3_000));
        // measured by another host: not a link from here
        metadata.recordLink(new LinkRecord("beta", "delta", 300, 900_000_000, 0, NOW - 1_000));
        metadata.recordBaseline(new BaselineRecord("web1", "delta", 1L << 30, NOW - 300_000));
        metadata.recordBaseline(new BaselineRecord("db1", "gamma", 1L << 30, NOW - 300_000));
        metadata.recordMigration(
                new MigrationRecord("m1", "db1", "beta", "omega", "running", NOW - 5_000, NOW - 5_000));
        // running towards beta, but from a host no longer registered: holds no slot
        metadata.recordMigration(new MigrationRecord("m2", "db2", "zeta", "beta", "running", NOW - 5_000, NOW - 5_000));
        metadata.recordMigration(new MigrationRecord(
                "m3", "db3", "alpha", "beta", "completed", NOW - 9_000, NOW - 8_000, NOW - 8_000, 1 << 20, ""));

        DestinationChooser.Choice choice = DestinationChooser.choose(new View(), "eu-west", "web1", now.get());
        assertEquals(
                List.of("delta", "gamma", "beta", "omega"),
                choice.candidates().stream()
                        .map(DestinationChooser.Candidate::host)
                        .toList());
        assertEquals(Optional.of("delta"), choice.chosen().map(DestinationChooser.Candidate::host));
        assertEquals("delta: it holds a baseline of web1", choice.reason());
        assertEquals(
                "baseline 1024 MiB, 300 s old; link not measured; 4 of 4 slots free",
                choice.candidates().get(0).figures(now.get()));
        assertEquals(
                "no baseline; link 940.0 Mbit/s, RTT 0.4 ms, loss 0.000 %, measured 12 s ago; 4 of 4 slots free",
                choice.candidates().get(1).figures(now.get()));
        assertEquals(
                "no baseline; link 400.0 Mbit/s, RTT 0.9 ms, loss 0.002 %, measured 3 s ago; 4 of 4 slots free",
                choice.candidates().get(2).figures(now.get()));
        assertEquals(
                "no baseline; link not measured; 0 of 1 slots free",
                choice.candidates().get(3).figures(now.get()));
        assertEquals(0, choice.hostsAgeMillis());

        // for a VM without a baseline anywhere: the fastest measured link
        DestinationChooser.Choice other = DestinationChooser.choose(new View(), "eu-west", "web9", now.get());
        assertEquals(Optional.of("gamma"), other.chosen().map(DestinationChooser.Candidate::host));
        assertEquals("gamma: its measured link is the fastest", other.reason());
    }

    @Test
    void noHostToChooseSaysWhy() throws Exception {
        host("alpha", 4);
        DestinationChooser.Choice alone = DestinationChooser.choose(new View(), "eu-west", "web1", now.get());
        assertEquals(Optional.empty(), alone.chosen());
        assertEquals("region eu-west has no other host", alone.reason());
        host("omega", 0);
        now.addAndGet(BOUND.toMillis() + 1);
        DestinationChooser.Choice full = DestinationChooser.choose(new View(), "eu-west", "web1", now.get());
        assertEquals(Optional.empty(), full.chosen());
        assertEquals("every host of region eu-west is full", full.reason());
    }

    /** What this region's leader stores of another region's gossip: its summary, host set and host records. */
    private void remote(String region, List<String> hosts, List<HostRecord> records, long confirmedAt)
            throws Exception {
        CuratorFramework client = resources.add(
                CuratorClients.create(server.getConnectString(), Duration.ofSeconds(4), Duration.ofSeconds(1)));
        client.start();
        byte[] data = Records.toJson(new RemoteRecord(
                region, "{\"leader\":\"east1\",\"term\":3}", hosts, confirmedAt, confirmedAt, records));
        String path = metadata.paths().remote(region);
        if (client.checkExists().forPath(path) == null) {
            client.create().creatingParentsIfNeeded().forPath(path, data);
        } else {
            client.setData().forPath(path, data);
        }
    }

    private static HostRecord remoteHost(String name, int capacity) {
        return new HostRecord(name, "198.51.100." + name.length() + ":7470", capacity, "0.1.0", "sha256:" + name, 1);
    }

    @Test
    void anotherRegionIsChosenInFromItsGossipedHostRecords() throws Exception {
        host("alpha", 4);
        // east3 left: still in the records gossip kept, no longer in the region's host set
        remote(
                "us-east",
                List.of("east1", "east22", "east333"),
                List.of(
                        remoteHost("east1", 4),
                        remoteHost("east22", 4),
                        remoteHost("east333", 1),
                        remoteHost("east3", 9)),
                NOW - 1_000);
        metadata.recordLink(new LinkRecord("alpha", "east22", 70_000, 12_500_000, 100, NOW - 20_000));
        metadata.recordMigration(
                new MigrationRecord("m1", "db1", "alpha", "east333", "running", NOW - 5_000, NOW - 5_000));
        // a baseline in this region's catalogue names no host of that region
        metadata.recordBaseline(new BaselineRecord("web1", "alpha", 1L << 30, NOW - 300_000));

        DestinationChooser.Choice choice = DestinationChooser.choose(new View(), "us-east", "web1", now.get());
        assertEquals(
                List.of("east22", "east1", "east333"),
                choice.candidates().stream()
                        .map(DestinationChooser.Candidate::host)
                        .toList());
        assertEquals(Optional.of("east22"), choice.chosen().map(DestinationChooser.Candidate::host));
        assertEquals("198.51.100.6:7470", choice.chosen().get().address());
        assertEquals(
                "east22: its measured link is the fastest (region us-east is not this host's: the baselines held there are not known here)",
                choice.reason());
        assertTrue(choice.candidates().get(2).isFull(), "east333 has its one slot taken");
        assertEquals(1_000, choice.hostsAgeMillis());
        assertEquals(-1, choice.baselinesAgeMillis());
        assertEquals("{\"leader\":\"east1\",\"term\":3}", choice.summary());

        // without a measured link: the most free slots
        now.addAndGet(BOUND.toMillis() + 1);
        remote(
                "us-east",
                List.of("east1", "east333"),
                List.of(remoteHost("east1", 4), remoteHost("east333", 8)),
                now.get());
        DestinationChooser.Choice bySlots = DestinationChooser.choose(new View(), "us-east", "web1", now.get());
        assertEquals(Optional.of("east333"), bySlots.chosen().map(DestinationChooser.Candidate::host));
        assertTrue(
                bySlots.reason().startsWith("east333: no host has a measured link: the most free slots"),
                bySlots.reason());
    }

    @Test
    void anotherRegionConfirmedBeyondTheBoundOrWithoutHostRecordsIsRefusedSayingWhy() throws Exception {
        host("alpha", 4);
        remote("us-east", List.of("east1"), List.of(remoteHost("east1", 4)), NOW - BOUND.toMillis() - 500);
        StaleMetadataException stale = assertThrows(
                StaleMetadataException.class,
                () -> DestinationChooser.choose(new View(), "us-east", "web1", now.get()));
        assertEquals(
                "region us-east's hosts were last confirmed by its leader 5500 ms ago, older than region.staleness-bound "
                        + "(5000 ms): gossip has not reached it since (cut off, or its leader down?)",
                stale.getMessage());

        // stored by a leader of a version that gossiped names only
        remote("us-east", List.of("east1", "east2"), List.of(), NOW);
        now.addAndGet(BOUND.toMillis() + 1);
        long confirmed = now.get() - 10;
        remote("us-east", List.of("east1", "east2"), List.of(), confirmed);
        DestinationChooser.NoChoiceException names = assertThrows(
                DestinationChooser.NoChoiceException.class,
                () -> DestinationChooser.choose(new View(), "us-east", "web1", now.get()));
        assertEquals(409, names.status());
        assertEquals(
                "cannot choose a host in region us-east from region eu-west: gossip brought its hosts' names (east1, east2) "
                        + "but not their records (addresses, certificates); is its leader a DWCP version that gossips them?",
                names.getMessage());

        DestinationChooser.NoChoiceException unknown = assertThrows(
                DestinationChooser.NoChoiceException.class,
                () -> DestinationChooser.choose(new View(), "mars", "web1", now.get()));
        assertEquals(404, unknown.status());
        assertEquals(
                "no region mars: this host is in region eu-west, and gossip knows of regions us-east",
                unknown.getMessage());
    }

    @Test
    void metadataBeyondTheBoundIsRefreshedElseTheChoiceRefused() throws Exception {
        PersistentNode alpha = host("alpha", 4);
        PersistentNode beta = host("beta", 4);
        assertEquals(
                Optional.of("beta"),
                DestinationChooser.choose(new View(), "eu-west", "web1", now.get())
                        .chosen()
                        .map(DestinationChooser.Candidate::host));
        // a host that joined is seen once the last read is older than the bound
        PersistentNode gamma = host("gamma", 4);
        metadata.recordBaseline(new BaselineRecord("web1", "gamma", 1 << 20, NOW));
        now.addAndGet(BOUND.toMillis() + 1);
        assertEquals(
                Optional.of("gamma"),
                DestinationChooser.choose(new View(), "eu-west", "web1", now.get())
                        .chosen()
                        .map(DestinationChooser.Candidate::host));
        // the hosts leave while ZooKeeper still runs (what the last read saw stays), then ZooKeeper goes
        for (PersistentNode node : List.of(alpha, beta, gamma)) {
            node.close();
        }
        server.stop();
        now.addAndGet(BOUND.toMillis() + 1);
        StaleMetadataException refused = assertThrows(
                StaleMetadataException.class,
                () -> DestinationChooser.choose(new View(), "eu-west", "web1", now.get()));
        server.restart();
        assertTrue(
                refused.getMessage()
                        .startsWith(
                                "region eu-west: hosts last read 5001 ms ago, older than the bound of 5000 ms (region.staleness-bound), and cannot be refreshed: "),
                refused.getMessage());
    }
}
