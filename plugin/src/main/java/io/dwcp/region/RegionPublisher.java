package io.dwcp.region;

import static java.util.Objects.requireNonNull;

import io.dwcp.region.Records.BaselineRecord;
import io.dwcp.region.Records.LinkRecord;
import io.dwcp.region.Records.MigrationRecord;
import java.io.Closeable;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes what the data path publishes ({@link RegionRecords}) into the region's ZooKeeper, on its
 * own thread, {@code dwcp-region-publish}, so that no caller (the tunnel's event loops, the
 * baseline store's commit thread) ever blocks on ZooKeeper.
 *
 * <p>Rules:
 * <ul>
 * <li>Links are coalesced per (from, to): a measurement arriving while an earlier one of the same
 * link waits replaces it, and a link is written at most once per {@code linkInterval}; the newest
 * measurement is always written in the end (at most {@code linkInterval} late).</li>
 * <li>Migration records and baseline changes are written in the order they came, at once.</li>
 * <li>Every {@code linkInterval} the {@link RegionRecords.LinkSource} is asked for the links of the
 * migrations open now (periodic measurements while streams are open).</li>
 * <li>A failed write is counted and logged (once per failure streak), and not retried: the next
 * measurement or change writes again.</li>
 * <li>Other work of the control plane may run here too ({@link #runLater}, {@link #runEvery}):
 * the region's leader prunes the migration records on this thread ({@link MigrationRecordPruner}).</li>
 * <li>{@link #close()} writes what is queued to run now (a migration's end, a baseline removed),
 * within two seconds, and drops links still held back by the rate limit.</li>
 * </ul>
 *
 * <p>Thread-safe: the pending links and their last write times are guarded by this object; the
 * writes run on the publishing thread only.
 */
public final class RegionPublisher implements RegionRecords, Closeable {
    private static final Logger log = LoggerFactory.getLogger(RegionPublisher.class);
    private static final long CLOSE_TIMEOUT_MILLIS = 2000;

    /** The writes, as {@link RegionMetadata} does them (a fake in tests of the rules). */
    interface Writes {
        void recordLink(LinkRecord link) throws Exception;

        void recordMigration(MigrationRecord migration) throws Exception;

        void recordBaseline(BaselineRecord baseline) throws Exception;

        void removeBaseline(String vm, String host) throws Exception;
    }

    @FunctionalInterface
    private interface Write {
        void run() throws Exception;
    }

    private final String context;
    private final String host;
    private final Writes writes;
    private final RegionStats stats;
    private final long linkIntervalMillis;
    private final LongSupplier clockMillis;
    private final ScheduledThreadPoolExecutor executor;
    // guarded by this
    private final Map<String, LinkRecord> pendingLinks = new HashMap<>();
    private final Map<String, Long> lastLinkWrite = new HashMap<>();
    private volatile LinkSource linkSource = now -> List.of();
    // the publishing thread only
    private boolean failing;

    RegionPublisher(
            String context,
            String host,
            Writes writes,
            RegionStats stats,
            Duration linkInterval,
            LongSupplier clockMillis) {
        this.context = requireNonNull(context, "context is null");
        this.host = requireNonNull(host, "host is null");
        this.writes = requireNonNull(writes, "writes is null");
        this.stats = requireNonNull(stats, "stats is null");
        this.linkIntervalMillis =
                requireNonNull(linkInterval, "linkInterval is null").toMillis();
        this.clockMillis = requireNonNull(clockMillis, "clockMillis is null");
        this.executor = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread thread = new Thread(runnable, "dwcp-region-publish");
            thread.setDaemon(true);
            return thread;
        });
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        executor.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
        executor.scheduleWithFixedDelay(
                this::sampleLinks, linkIntervalMillis, linkIntervalMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void setLinkSource(LinkSource source) {
        this.linkSource = requireNonNull(source, "source is null");
    }

    @Override
    public void linkMeasured(LinkRecord link) {
        requireNonNull(link, "link is null");
        String key = link.from() + "->" + link.to();
        long delay;
        synchronized (this) {
            boolean waiting = pendingLinks.containsKey(key);
            pendingLinks.put(key, link);
            if (waiting) {
                return;
            }
            Long last = lastLinkWrite.get(key);
            delay = last == null ? 0 : Math.max(0, last + linkIntervalMillis - clockMillis.getAsLong());
        }
        schedule(() -> writeLink(key), delay);
    }

    @Override
    public void migration(MigrationRecord migration) {
        requireNonNull(migration, "migration is null");
        schedule(() -> write("migration " + migration.id(), () -> writes.recordMigration(migration)), 0);
    }

    @Override
    public void baseline(String vm, Optional<BaselineRecord> newest) {
        requireNonNull(vm, "vm is null");
        requireNonNull(newest, "newest is null");
        if (newest.isPresent()) {
            schedule(() -> write("baseline of " + vm, () -> writes.recordBaseline(newest.get())), 0);
        } else {
            schedule(() -> write("removal of the baseline of " + vm, () -> writes.removeBaseline(vm, host)), 0);
        }
    }

    /**
     * Runs other control-plane work on the publishing thread (the leader's pruning of migration
     * records): once after {@code delay}, in turn with the writes; dropped once closed.
     */
    void runLater(Runnable task, Duration delay) {
        schedule(requireNonNull(task, "task is null"), delay.toMillis());
    }

    /** Runs the task on the publishing thread every {@code period}, the first time after one period, until closed. */
    void runEvery(Runnable task, Duration period) {
        requireNonNull(task, "task is null");
        try {
            executor.scheduleWithFixedDelay(task, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            log.debug("{} periodic task not scheduled, the control plane is closed", context);
        }
    }

    private void schedule(Runnable task, long delayMillis) {
        try {
            executor.schedule(task, delayMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // closed: the control plane stops, and with it what it publishes
            log.debug("{} not published, the control plane is closed", context);
        }
    }

    private void writeLink(String key) {
        LinkRecord link;
        synchronized (this) {
            link = pendingLinks.remove(key);
            if (link == null) {
                return;
            }
            lastLinkWrite.put(key, clockMillis.getAsLong());
        }
        write("link " + key, () -> writes.recordLink(link));
    }

    private void sampleLinks() {
        try {
            linkSource.sample(clockMillis.getAsLong()).forEach(this::linkMeasured);
        } catch (RuntimeException e) {
            log.warn("{} measuring the open migrations' links failed: {}", context, e.toString());
        }
    }

    private void write(String what, Write write) {
        try {
            write.run();
            stats.recordPublished(true);
            if (failing) {
                log.info("{} publishing into the region works again ({})", context, what);
                failing = false;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stats.recordPublished(false);
        } catch (Exception e) {
            stats.recordPublished(false);
            if (!failing) {
                log.warn(
                        "{} cannot publish the {} into the region's ZooKeeper: {} (later ones are tried; dwcp_region_records_publish_failed_total counts them)",
                        context,
                        what,
                        e.toString());
                failing = true;
            } else {
                log.debug("{} cannot publish the {}: {}", context, what, e.toString());
            }
        }
    }

    @Override
    public void close() {
        executor.shutdown();
        try {
            if (!executor.awaitTermination(CLOSE_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)) {
                log.warn(
                        "{} region records still being written after {} ms: dropping them",
                        context,
                        CLOSE_TIMEOUT_MILLIS);
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            executor.shutdownNow();
        }
    }
}
