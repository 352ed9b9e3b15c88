package io.dwcp.region;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.region.Records.BaselineRecord;
import io.dwcp.region.Records.LinkRecord;
import io.dwcp.region.Records.MigrationRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The publishing rules: links coalesced and rate-limited, records in order, failures counted, close writes what is due. */
class RegionPublisherTest {
    /** Records every write with the publishing thread's name and the time it ran. */
    private static final class RecordingWrites implements RegionPublisher.Writes {
        final List<String> writes = new ArrayList<>();
        final List<Long> linkNanos = new ArrayList<>();
        volatile String failWith;
        volatile String thread;

        private synchronized void add(String write) throws Exception {
            thread = Thread.currentThread().getName();
            if (failWith != null) {
                throw new IllegalStateException(failWith);
            }
            writes.add(write);
        }

        synchronized List<String> writes() {
            return List.copyOf(writes);
        }

        @Override
        public void recordLink(LinkRecord link) throws Exception {
            add("link " + link.from() + "->" + link.to() + " " + link.goodputBytesPerSecond());
            synchronized (this) {
                linkNanos.add(System.nanoTime());
            }
        }

        @Override
        public void recordMigration(MigrationRecord migration) throws Exception {
            add("migration " + migration.id() + " " + migration.state());
        }

        @Override
        public void recordBaseline(BaselineRecord baseline) throws Exception {
            add("baseline " + baseline.vm() + " " + baseline.sizeBytes());
        }

        @Override
        public void removeBaseline(String vm, String host) throws Exception {
            add("remove baseline " + vm + " " + host);
        }
    }

    private final RecordingWrites writes = new RecordingWrites();
    private final RegionStats stats = new RegionStats();
    private RegionPublisher publisher;

    @AfterEach
    void close() {
        if (publisher != null) {
            publisher.close();
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 5 s: " + what);
            }
            Thread.sleep(5);
        }
    }

    private static LinkRecord link(String to, long goodput) {
        return new LinkRecord("alpha", to, 400, goodput, 0, 1);
    }

    @Test
    void linksAreCoalescedAndWrittenAtMostOncePerInterval() throws Exception {
        publisher = new RegionPublisher(
                "[test]", "alpha", writes, stats, Duration.ofMillis(300), System::currentTimeMillis);
        publisher.linkMeasured(link("beta", 1));
        await(() -> writes.writes().size() == 1, "the first measurement written at once");
        long first = writes.linkNanos.get(0);
        // within the interval: held back, the newest wins; another link is not held back by this one
        publisher.linkMeasured(link("beta", 2));
        publisher.linkMeasured(link("beta", 3));
        publisher.linkMeasured(link("gamma", 7));
        await(() -> writes.writes().size() == 3, "the held-back measurement written after the interval");
        assertEquals(List.of("link alpha->beta 1", "link alpha->gamma 7", "link alpha->beta 3"), writes.writes());
        long second = writes.linkNanos.get(2);
        assertTrue(
                second - first >= TimeUnit.MILLISECONDS.toNanos(290),
                "rate limit: " + (second - first) / 1_000_000 + " ms between two writes of a link");
        assertEquals("dwcp-region-publish", writes.thread);
        assertEquals(3, stats.recordsPublished());
    }

    @Test
    void recordsAreWrittenInOrderAndTheLinkSourceIsPolled() throws Exception {
        publisher = new RegionPublisher(
                "[test]", "alpha", writes, stats, Duration.ofMillis(100), System::currentTimeMillis);
        publisher.migration(new MigrationRecord("m1", "vm1", "alpha", "beta", "running", 1, 1));
        publisher.baseline("vm1", Optional.of(new BaselineRecord("vm1", "alpha", 4096, 2)));
        publisher.migration(new MigrationRecord("m1", "vm1", "alpha", "beta", "completed", 1, 3, 3, 1 << 20, ""));
        publisher.baseline("vm1", Optional.empty());
        await(() -> writes.writes().size() == 4, "four records");
        assertEquals(
                List.of(
                        "migration m1 running",
                        "baseline vm1 4096",
                        "migration m1 completed",
                        "remove baseline vm1 alpha"),
                writes.writes());
        publisher.setLinkSource(now -> List.of(link("beta", 42)));
        await(() -> writes.writes().contains("link alpha->beta 42"), "a periodic measurement of the open migrations");
    }

    @Test
    void failuresAreCountedAndLaterWritesTried() throws Exception {
        publisher = new RegionPublisher(
                "[test]", "alpha", writes, stats, Duration.ofSeconds(10), System::currentTimeMillis);
        writes.failWith = "KeeperErrorCode = ConnectionLoss";
        publisher.migration(new MigrationRecord("m1", "vm1", "alpha", "beta", "running", 1, 1));
        await(() -> stats.recordsPublishFailed() == 1, "the failure counted");
        writes.failWith = null;
        publisher.migration(new MigrationRecord("m2", "vm2", "alpha", "beta", "running", 1, 1));
        await(() -> writes.writes().size() == 1, "the next record written");
        assertEquals(List.of("migration m2 running"), writes.writes());
        assertEquals(1, stats.recordsPublished());
    }

    @Test
    void closeWritesWhatIsDueAndDropsHeldBackLinks() throws Exception {
        publisher = new RegionPublisher(
                "[test]", "alpha", writes, stats, Duration.ofSeconds(30), System::currentTimeMillis);
        publisher.linkMeasured(link("beta", 1));
        await(() -> writes.writes().size() == 1, "the first measurement");
        publisher.linkMeasured(link("beta", 2));
        publisher.migration(
                new MigrationRecord("m1", "vm1", "alpha", "beta", "failed", 1, 2, 2, 10, "digest mismatch"));
        publisher.close();
        assertEquals(List.of("link alpha->beta 1", "migration m1 failed"), writes.writes());
        // after close: nothing more is written, and the caller is not disturbed
        publisher.migration(new MigrationRecord("m3", "vm3", "alpha", "beta", "running", 1, 1));
        assertEquals(2, writes.writes().size());
    }
}
