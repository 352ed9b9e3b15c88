package io.dwcp.region;

import static java.util.Objects.requireNonNull;

import io.dwcp.region.Records.HostRecord;
import io.dwcp.region.Records.MigrationRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.StringJoiner;
import java.util.function.LongSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes the region's old migration records ({@code migrations/<id>}), which nothing else ever
 * removes. Only the region's leader prunes, and every delete is fenced by its term ({@link
 * RegionLeader#delete}): a deposed leader's deletes are refused. A record is deleted only at the
 * version it was read at, so one rewritten since (its source wrote its end meanwhile) is left.
 *
 * <p>Rules, in this order (a record's times are its source's clock, compared with this host's):
 * <ol>
 * <li>An ended record ({@code completed} or {@code failed}) whose end ({@code endedAtMillis};
 * {@code updatedAtMillis} in records written before that field existed) is longer ago than
 * {@code region.migration-retention} (7 days).</li>
 * <li>Of the ended records left, beyond {@code region.migration-records-max} (10000), the ones that
 * ended first (then by id).</li>
 * <li>A record still {@code running} whose source host is no longer registered in the region
 * (hosts read within {@code region.staleness-bound}) and which was not updated for longer than the
 * retention: its source died ({@link DestinationChooser} already ignores it). When the hosts
 * cannot be read within the bound, no running record is deleted in that pass.</li>
 * </ol>
 *
 * <p>Threads: the passes run on the control plane's publishing thread, {@code dwcp-region-publish}
 * ({@link RegionPublisher}): every minute, and 5 s after this host takes a term (the leader thread
 * only schedules that pass). The ended records already read (they do not change once ended) are
 * remembered between passes of the same term, on that thread only, so a pass reads just the
 * records new or still running since the last one.
 */
public final class MigrationRecordPruner implements RegionLeader.Listener {
    private static final Logger log = LoggerFactory.getLogger(MigrationRecordPruner.class);
    static final Duration INTERVAL = Duration.ofMinutes(1);
    static final Duration AFTER_ACQUIRING = Duration.ofSeconds(5);

    /** What one pass deleted, by rule. */
    record Pass(int expired, int beyondMax, int orphaned) {
        int total() {
            return expired + beyondMax + orphaned;
        }
    }

    /** An ended record as read: its znode's name and version, and when it ended. */
    private record Ended(String name, long endedAtMillis, int version) {}

    /** A record not ended as read: its znode's name and version, its source and last update. */
    private record Open(String name, int version, String source, long updatedAtMillis) {}

    private final String context;
    private final CuratorFramework client;
    private final RegionMetadata metadata;
    private final RegionLeader leader;
    private final Duration retention;
    private final int max;
    private final Duration stalenessBound;
    private final RegionStats stats;
    private final LongSupplier clockMillis;
    private volatile RegionPublisher publisher;
    // the publishing thread only: ended records by znode name, as read in term cachedEpoch
    private final Map<String, Ended> ended = new HashMap<>();
    private long cachedEpoch = -1;
    private boolean failing;

    public MigrationRecordPruner(
            CuratorFramework client,
            RegionMetadata metadata,
            RegionLeader leader,
            RegionConfig config,
            RegionStats stats,
            LongSupplier clockMillis) {
        this.client = requireNonNull(client, "client is null");
        this.metadata = requireNonNull(metadata, "metadata is null");
        this.leader = requireNonNull(leader, "leader is null");
        requireNonNull(config, "config is null");
        this.retention = config.getMigrationRetention();
        this.max = config.getMigrationRecordsMax();
        this.stalenessBound = config.getStalenessBound();
        this.stats = requireNonNull(stats, "stats is null");
        this.clockMillis = requireNonNull(clockMillis, "clockMillis is null");
        this.context = "[region=" + metadata.paths().region() + " host=" + leader.host() + "]";
    }

    /**
     * Prunes on the publisher's thread every minute, and 5 s after this host takes a term. Call it
     * before the leader starts (so that the first term is seen); the passes stop when the publisher
     * closes.
     */
    public void start(RegionPublisher publisher) {
        this.publisher = requireNonNull(publisher, "publisher is null");
        leader.addListener(this);
        publisher.runEvery(this::run, INTERVAL);
    }

    /** On the leader thread: a pass soon, on the publishing thread. */
    @Override
    public void acquired(LeaderTerm term) {
        RegionPublisher started = publisher;
        if (started != null) {
            started.runLater(this::run, AFTER_ACQUIRING);
        }
    }

    @Override
    public void lost(LeaderTerm term) {
        // the next pass sees no term and does nothing
    }

    /** On the publishing thread: a pass if this host leads now; failures are logged, the next pass tries again. */
    void run() {
        Optional<LeaderTerm> term = leader.term();
        if (term.isEmpty()) {
            ended.clear();
            cachedEpoch = -1;
            return;
        }
        try {
            prune(term.get());
            if (failing) {
                log.info("{} pruning migration records works again", context);
                failing = false;
            }
        } catch (NotLeaderException e) {
            log.info("{} pruning migration records stopped: {}", context, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            if (!failing) {
                log.warn("{} pruning migration records failed: {} (tried again in a minute)", context, e.toString());
                failing = true;
            } else {
                log.debug("{} pruning migration records failed: {}", context, e.toString());
            }
        }
    }

    /**
     * One pass in the term: reads the records, deletes what the rules say (fenced by the term), and
     * logs one line when it deleted something. {@link NotLeaderException} once a later leader took
     * the term (what was deleted before stays deleted).
     */
    Pass prune(LeaderTerm term) throws NotLeaderException, Exception {
        requireNonNull(term, "term is null");
        if (term.epoch() != cachedEpoch) {
            ended.clear();
            cachedEpoch = term.epoch();
        }
        long now = clockMillis.getAsLong();
        long retentionMillis = retention.toMillis();
        String parent = metadata.paths().migrations();
        List<String> names;
        try {
            names = client.getChildren().forPath(parent);
        } catch (KeeperException.NoNodeException e) {
            names = List.of();
        }
        ended.keySet().retainAll(new HashSet<>(names));

        // read what is not known to have ended: new records, and those running at the last pass
        List<Open> open = new ArrayList<>();
        for (String name : names) {
            if (ended.containsKey(name)) {
                continue;
            }
            if (Thread.interrupted()) {
                throw new InterruptedException("pruning interrupted (the control plane closes)");
            }
            Stat stat = new Stat();
            MigrationRecord record;
            try {
                byte[] data = client.getData().storingStatIn(stat).forPath(parent + "/" + name);
                record = Records.fromJson(data, MigrationRecord.class, parent + "/" + name);
            } catch (KeeperException.NoNodeException e) {
                continue;
            } catch (IllegalStateException e) {
                // not a migration record: left alone
                log.debug("{} {}", context, e.getMessage());
                continue;
            }
            if (isEnded(record)) {
                ended.put(name, new Ended(name, endedAt(record), stat.getVersion()));
            } else {
                open.add(new Open(name, stat.getVersion(), record.source(), record.updatedAtMillis()));
            }
        }

        // 1. ended past the retention; 2. the oldest ended beyond the max
        List<Ended> byEnd = new ArrayList<>(ended.values());
        byEnd.sort(Comparator.comparingLong(Ended::endedAtMillis).thenComparing(Ended::name));
        List<Ended> expired = new ArrayList<>();
        List<Ended> kept = new ArrayList<>();
        for (Ended record : byEnd) {
            (now - record.endedAtMillis() > retentionMillis ? expired : kept).add(record);
        }
        List<Ended> beyondMax = kept.size() > max ? kept.subList(0, kept.size() - max) : List.of();

        // 3. running (any state but ended), not updated for the retention, whose source is gone
        List<RegionLeader.Versioned> orphaned = new ArrayList<>();
        List<Open> idle = open.stream()
                .filter(record -> now - record.updatedAtMillis() > retentionMillis)
                .toList();
        if (!idle.isEmpty()) {
            try {
                Set<String> registered = new HashSet<>();
                for (HostRecord host : metadata.hosts(stalenessBound).value()) {
                    registered.add(host.name());
                }
                for (Open record : idle) {
                    if (!registered.contains(record.source())) {
                        orphaned.add(new RegionLeader.Versioned(parent + "/" + record.name(), record.version()));
                    }
                }
            } catch (StaleMetadataException e) {
                log.debug("{} running migration records not pruned this time: {}", context, e.getMessage());
            }
        }

        Pass pass =
                new Pass(delete(term, parent, expired), delete(term, parent, beyondMax), deleteCounted(term, orphaned));
        if (pass.total() > 0) {
            StringJoiner why = new StringJoiner(", ");
            if (pass.expired() > 0) {
                why.add(pass.expired() + " ended more than " + format(retention) + " ago (region.migration-retention)");
            }
            if (pass.beyondMax() > 0) {
                why.add(pass.beyondMax() + " oldest ended beyond the " + max + " kept (region.migration-records-max)");
            }
            if (pass.orphaned() > 0) {
                why.add(pass.orphaned() + " running whose source host is gone, not updated for more than "
                        + format(retention));
            }
            log.info(
                    "{} pruned {} migration records as the region's leader (term {}): {}",
                    context,
                    pass.total(),
                    term.epoch(),
                    why);
        }
        return pass;
    }

    /** Deletes the ended records (each at the version read), forgets them, and counts what went. */
    private int delete(LeaderTerm term, String parent, List<Ended> records) throws NotLeaderException, Exception {
        if (records.isEmpty()) {
            return 0;
        }
        List<RegionLeader.Versioned> znodes = new ArrayList<>();
        for (Ended record : records) {
            znodes.add(new RegionLeader.Versioned(parent + "/" + record.name(), record.version()));
            // deleted, or changed since it was read: either way read again if it is still there
            ended.remove(record.name());
        }
        return deleteCounted(term, znodes);
    }

    private int deleteCounted(LeaderTerm term, List<RegionLeader.Versioned> znodes)
            throws NotLeaderException, Exception {
        if (znodes.isEmpty()) {
            return 0;
        }
        int deleted = leader.delete(term, znodes);
        stats.migrationRecordsDeleted(deleted);
        return deleted;
    }

    private static boolean isEnded(MigrationRecord record) {
        return record.state().equals("completed") || record.state().equals("failed");
    }

    /** When it ended; records written before {@code endedAtMillis} existed carry it in {@code updatedAtMillis}. */
    private static long endedAt(MigrationRecord record) {
        return record.endedAtMillis() > 0 ? record.endedAtMillis() : record.updatedAtMillis();
    }

    /** 7d, 12h, 30m, 90s, 1500ms. */
    static String format(Duration duration) {
        long millis = duration.toMillis();
        if (millis % 86_400_000 == 0) {
            return millis / 86_400_000 + "d";
        }
        if (millis % 3_600_000 == 0) {
            return millis / 3_600_000 + "h";
        }
        if (millis % 60_000 == 0) {
            return millis / 60_000 + "m";
        }
        return millis % 1000 == 0 ? millis / 1000 + "s" : millis + "ms";
    }
}
