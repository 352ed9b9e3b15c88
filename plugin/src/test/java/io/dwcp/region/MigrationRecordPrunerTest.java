package io.dwcp.region;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.TestResources;
import io.dwcp.region.Records.HostRecord;
import io.dwcp.region.Records.MigrationRecord;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Pruning the region's migration records on a real ZooKeeper (curator-test): the retention, the
 * maximum (oldest ended first), running records of a dead source, only the leader prunes, and a
 * deposed leader's deletes are refused. The clock is moved by hand: no test waits for days.
 */
class MigrationRecordPrunerTest {
    private static final long DAY = Duration.ofDays(1).toMillis();
    private static final RegionPaths PATHS = new RegionPaths("/dwcp", "eu-west");

    private final TestResources resources = new TestResources();
    // the clock the pruner compares the records' times with
    private final AtomicLong now = new AtomicLong(100 * DAY);
    private TestingServer server;

    /** One dwcpd of the region: its client, metadata, leader election and pruner. */
    private final class Host {
        final String name;
        final CuratorFramework client;
        final RegionStats stats = new RegionStats();
        final RegionMetadata metadata;
        final RegionLeader leader;
        final MigrationRecordPruner pruner;

        Host(String name, RegionConfig config, LongSupplier clock) {
            this.name = name;
            this.client =
                    CuratorClients.create(server.getConnectString(), Duration.ofSeconds(4), Duration.ofSeconds(1));
            client.start();
            resources.add(client);
            this.metadata = new RegionMetadata(client, PATHS, Duration.ofSeconds(1), stats, now::get);
            this.leader = new RegionLeader(client, PATHS, name, stats, System::currentTimeMillis);
            resources.add(leader);
            this.pruner = new MigrationRecordPruner(client, metadata, leader, config, stats, clock);
        }

        Host(String name, RegionConfig config) {
            this(name, config, now::get);
        }

        Host register() throws Exception {
            resources.add(metadata.registerHost(new HostRecord(name, "10.0.0.1:7470", 4, "0.1.0", "sha256:ab", 1)));
            return this;
        }

        LeaderTerm lead() throws Exception {
            leader.start();
            return awaitTerm();
        }

        LeaderTerm awaitTerm() throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            Optional<LeaderTerm> term = leader.term();
            while (term.isEmpty() && System.nanoTime() < deadline) {
                TimeUnit.MILLISECONDS.sleep(10);
                term = leader.term();
            }
            assertTrue(term.isPresent(), name + " did not become the leader");
            return term.get();
        }
    }

    @BeforeEach
    void startServer() throws Exception {
        server = new TestingServer();
        resources.add(server);
    }

    @AfterEach
    void closeAll() throws Exception {
        resources.close();
    }

    private static RegionConfig config(int max) {
        return new RegionConfig()
                .setName("eu-west")
                .setZookeeperEmbedded(true)
                .setMigrationRetention(Duration.ofDays(7))
                .setMigrationRecordsMax(max);
    }

    /** An ended record that ended {@code agoMillis} before now (started an hour earlier). */
    private MigrationRecord ended(String id, String state, long agoMillis) {
        long end = now.get() - agoMillis;
        return new MigrationRecord(id, "web1", "alpha", "beta", state, end - 3_600_000, end, end, 1 << 20, "");
    }

    /** A running record of the source, last updated {@code agoMillis} before now. */
    private MigrationRecord running(String id, String source, long agoMillis) {
        long updated = now.get() - agoMillis;
        return new MigrationRecord(id, "web1", source, "beta", "running", updated, updated);
    }

    private static void record(Host host, MigrationRecord... records) throws Exception {
        for (MigrationRecord record : records) {
            host.metadata.recordMigration(record);
        }
    }

    private static TreeSet<String> ids(Host host) throws Exception {
        return new TreeSet<>(host.client.getChildren().forPath(PATHS.migrations()));
    }

    @Test
    void endedRecordsPastTheRetentionArePrunedAndRecentOnesKept() throws Exception {
        Host alpha = new Host("alpha", config(10_000)).register();
        LeaderTerm term = alpha.lead();
        long old = 8 * DAY;
        // written before endedAtMillis existed: its end is in updatedAtMillis
        MigrationRecord legacy =
                new MigrationRecord("legacy", "web2", "alpha", "beta", "completed", 1, now.get() - old);
        record(
                alpha,
                ended("old-completed", "completed", old),
                ended("old-failed", "failed", 7 * DAY + 1),
                legacy,
                ended("at-retention", "completed", 7 * DAY),
                ended("recent", "completed", 6 * DAY),
                running("open", "alpha", old));

        MigrationRecordPruner.Pass pass = alpha.pruner.prune(term);

        assertEquals(new MigrationRecordPruner.Pass(3, 0, 0), pass);
        assertEquals(new TreeSet<>(List.of("at-retention", "open", "recent")), ids(alpha));
        assertEquals(3, alpha.stats.migrationRecordsPruned());
        // nothing more to prune until time passes
        assertEquals(0, alpha.pruner.prune(term).total());
        now.addAndGet(DAY + 1);
        assertEquals(new MigrationRecordPruner.Pass(2, 0, 0), alpha.pruner.prune(term));
        assertEquals(new TreeSet<>(List.of("open")), ids(alpha));
        assertEquals(5, alpha.stats.migrationRecordsPruned());
    }

    @Test
    void beyondTheMaxTheOldestEndedRecordsGoFirst() throws Exception {
        Host alpha = new Host("alpha", config(3)).register();
        LeaderTerm term = alpha.lead();
        record(
                alpha,
                ended("e1", "completed", 5 * DAY),
                ended("e2", "failed", 4 * DAY),
                ended("e3", "completed", 3 * DAY),
                ended("e4", "completed", 2 * DAY),
                ended("e5", "failed", DAY),
                // running records do not count towards the max
                running("r1", "alpha", 6 * DAY),
                running("r2", "alpha", 0));

        assertEquals(new MigrationRecordPruner.Pass(0, 2, 0), alpha.pruner.prune(term));
        assertEquals(new TreeSet<>(List.of("e3", "e4", "e5", "r1", "r2")), ids(alpha));

        // r2 ends now: the oldest ended one left goes (the pass reads only what it did not know ended)
        now.addAndGet(1000);
        record(alpha, ended("r2", "completed", 0));
        assertEquals(new MigrationRecordPruner.Pass(0, 1, 0), alpha.pruner.prune(term));
        assertEquals(new TreeSet<>(List.of("e4", "e5", "r1", "r2")), ids(alpha));
        assertEquals(3, alpha.stats.migrationRecordsPruned());
    }

    @Test
    void aRunningRecordIsPrunedOnlyWhenItsSourceIsGoneAndItIsOlderThanTheRetention() throws Exception {
        Host alpha = new Host("alpha", config(10_000)).register();
        LeaderTerm term = alpha.lead();
        record(
                alpha,
                // the source is registered: it may still be migrating, whatever the age
                running("alive-source", "alpha", 30 * DAY),
                // the source died: gone once not updated for the retention
                running("dead-old", "kvm-9", 8 * DAY),
                running("dead-recent", "kvm-9", 6 * DAY));

        assertEquals(new MigrationRecordPruner.Pass(0, 0, 1), alpha.pruner.prune(term));
        assertEquals(new TreeSet<>(List.of("alive-source", "dead-recent")), ids(alpha));

        now.addAndGet(DAY + 1);
        // the hosts are read again, within the staleness bound of the metadata's clock
        assertEquals(new MigrationRecordPruner.Pass(0, 0, 1), alpha.pruner.prune(term));
        assertEquals(new TreeSet<>(List.of("alive-source")), ids(alpha));
        assertEquals(2, alpha.stats.migrationRecordsPruned());
    }

    @Test
    void onlyTheLeaderPrunes() throws Exception {
        Host alpha = new Host("alpha", config(10_000)).register();
        Host beta = new Host("beta", config(10_000)).register();
        alpha.lead();
        beta.leader.start();
        record(alpha, ended("old", "completed", 8 * DAY), ended("recent", "completed", DAY));

        // beta is a candidate, not the leader: its scheduled pass does nothing
        assertEquals(Optional.empty(), beta.leader.term());
        beta.pruner.run();
        assertEquals(new TreeSet<>(List.of("old", "recent")), ids(beta));
        assertEquals(0, beta.stats.migrationRecordsPruned());

        alpha.pruner.run();
        assertEquals(new TreeSet<>(List.of("recent")), ids(beta));
        assertEquals(1, alpha.stats.migrationRecordsPruned());
    }

    @Test
    void aDeposedLeadersDeletesAreRefused() throws Exception {
        Host alpha = new Host("alpha", config(10_000)).register();
        Host beta = new Host("beta", config(10_000)).register();
        LeaderTerm first = alpha.lead();
        beta.leader.start();
        record(alpha, ended("old", "completed", 8 * DAY), ended("recent", "completed", DAY));

        // alpha gives up leadership: beta takes the next term; alpha still holds its old term
        alpha.leader.close();
        LeaderTerm second = beta.awaitTerm();
        assertTrue(second.epoch() > first.epoch());

        NotLeaderException refused = assertThrows(NotLeaderException.class, () -> alpha.pruner.prune(first));
        assertTrue(refused.getMessage().contains("term " + first.epoch() + " of alpha is over"), refused.getMessage());
        assertEquals(new TreeSet<>(List.of("old", "recent")), ids(alpha));
        assertEquals(0, alpha.stats.migrationRecordsPruned());
        assertEquals(1, alpha.stats.leaderWritesRefused());

        // the new leader prunes
        assertEquals(new MigrationRecordPruner.Pass(1, 0, 0), beta.pruner.prune(second));
        assertEquals(new TreeSet<>(List.of("recent")), ids(alpha));
    }

    @Test
    void theLeaderPrunesOnThePublishingThreadSoonAfterTakingItsTerm() throws Exception {
        AtomicReference<String> thread = new AtomicReference<>();
        Host alpha = new Host("alpha", config(10_000), () -> {
                    thread.set(Thread.currentThread().getName());
                    return now.get();
                })
                .register();
        RegionPublisher publisher =
                new RegionPublisher("[test]", "alpha", alpha.metadata, alpha.stats, Duration.ofSeconds(5), now::get);
        resources.add(publisher);
        record(alpha, ended("old", "completed", 8 * DAY), ended("recent", "completed", DAY));
        alpha.pruner.start(publisher);
        alpha.lead();

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (alpha.stats.migrationRecordsPruned() == 0 && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(50);
        }
        assertEquals(1, alpha.stats.migrationRecordsPruned());
        assertEquals(new TreeSet<>(List.of("recent")), ids(alpha));
        assertEquals("dwcp-region-publish", thread.get());
    }

    @Test
    void fencedDeletesLeaveWhatIsGoneOrChanged() throws Exception {
        Host alpha = new Host("alpha", config(10_000));
        LeaderTerm term = alpha.lead();
        record(alpha, ended("a", "completed", DAY), ended("b", "completed", DAY), ended("c", "completed", DAY));
        String parent = PATHS.migrations();

        // gone already: fine, nothing deleted
        assertFalse(alpha.leader.delete(term, parent + "/missing", -1));
        // changed since read (version 0 rewritten to 1): left
        record(alpha, ended("a", "failed", 0));
        assertFalse(alpha.leader.delete(term, parent + "/a", 0));
        assertTrue(ids(alpha).contains("a"));
        // in one batch with a missing and a changed znode, the others still go
        int deleted = alpha.leader.delete(
                term,
                List.of(
                        new RegionLeader.Versioned(parent + "/a", 0),
                        new RegionLeader.Versioned(parent + "/b", 0),
                        new RegionLeader.Versioned(parent + "/missing", -1),
                        new RegionLeader.Versioned(parent + "/c", -1)));
        assertEquals(2, deleted);
        assertEquals(new TreeSet<>(List.of("a")), ids(alpha));
        assertTrue(alpha.leader.delete(term, parent + "/a", 1));
        assertEquals(new TreeSet<>(), ids(alpha));
        assertEquals(0, alpha.stats.leaderWritesRefused());
    }
}
