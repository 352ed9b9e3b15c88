package io.dwcp.region;

import static java.util.Objects.requireNonNull;

import io.dwcp.region.Records.BaselineRecord;
import io.dwcp.region.Records.HostRecord;
import io.dwcp.region.Records.LinkRecord;
import io.dwcp.region.Records.MigrationRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * The region's metadata in ZooKeeper (layout in {@link RegionPaths}): hosts, link measurements,
 * baselines, migration records, VM locks. Every read is {@link Stamped}. The {@code X(bound)}
 * reads are for decisions: they answer from the last read while it is within the bound, else
 * refresh (a ZooKeeper {@code sync}, so the server has caught up with the leader, then the
 * read); when the refresh fails they refuse with {@link StaleMetadataException} saying what, how
 * old and why, instead of deciding on old data.
 *
 * <p>Thread-safe: methods block the caller on ZooKeeper (call them off event loops); the cache of
 * last reads is a concurrent map.
 */
public final class RegionMetadata implements RegionPublisher.Writes {
    private final CuratorFramework client;
    private final RegionPaths paths;
    private final Duration operationTimeout;
    private final RegionStats stats;
    private final LongSupplier clockMillis;
    private final Map<String, Stamped<?>> lastReads = new ConcurrentHashMap<>();

    public RegionMetadata(
            CuratorFramework client,
            RegionPaths paths,
            Duration operationTimeout,
            RegionStats stats,
            LongSupplier clockMillis) {
        this.client = requireNonNull(client, "client is null");
        this.paths = requireNonNull(paths, "paths is null");
        this.operationTimeout = requireNonNull(operationTimeout, "operationTimeout is null");
        this.stats = requireNonNull(stats, "stats is null");
        this.clockMillis = requireNonNull(clockMillis, "clockMillis is null");
    }

    public RegionPaths paths() {
        return paths;
    }

    /** Publishes this host (ephemeral; Curator re-creates it after a session loss). Close it to leave. */
    public PersistentNode registerHost(HostRecord host) throws Exception {
        client.createContainers(paths.hosts());
        PersistentNode node =
                new PersistentNode(client, CreateMode.EPHEMERAL, false, paths.host(host.name()), Records.toJson(host));
        node.start();
        if (!node.waitForInitialCreate(operationTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
            node.close();
            throw new IllegalStateException("cannot register host " + host.name() + " in region " + paths.region()
                    + " within " + operationTimeout.toMillis() + " ms: is ZooKeeper reachable?");
        }
        return node;
    }

    public Stamped<List<HostRecord>> hosts(Duration bound) throws StaleMetadataException {
        return within("hosts", bound, () -> readChildren(paths.hosts(), HostRecord.class));
    }

    @Override
    public void recordLink(LinkRecord link) throws Exception {
        put(paths.link(link.from(), link.to()), Records.toJson(link), CreateMode.PERSISTENT);
    }

    public Stamped<List<LinkRecord>> links(Duration bound) throws StaleMetadataException {
        return within("links", bound, () -> readChildren(paths.links(), LinkRecord.class));
    }

    @Override
    public void recordBaseline(BaselineRecord baseline) throws Exception {
        put(paths.baselines(baseline.vm()) + "/" + baseline.host(), Records.toJson(baseline), CreateMode.PERSISTENT);
    }

    @Override
    public void removeBaseline(String vm, String host) throws Exception {
        try {
            client.delete().forPath(paths.baselines(vm) + "/" + host);
        } catch (KeeperException.NoNodeException e) {
            // already gone
        }
    }

    /** The hosts holding a baseline of the VM. */
    public Stamped<List<BaselineRecord>> baselines(String vm, Duration bound) throws StaleMetadataException {
        return within("baselines of " + vm, bound, () -> readChildren(paths.baselines(vm), BaselineRecord.class));
    }

    @Override
    public void recordMigration(MigrationRecord migration) throws Exception {
        put(paths.migrations() + "/" + migration.id(), Records.toJson(migration), CreateMode.PERSISTENT);
    }

    public Stamped<List<MigrationRecord>> migrations(Duration bound) throws StaleMetadataException {
        return within("migrations", bound, () -> readChildren(paths.migrations(), MigrationRecord.class));
    }

    /** The other regions, as this region's leader stored what gossip brought (leader/remote/REGION). */
    public Stamped<List<Records.RemoteRecord>> remoteRegions(Duration bound) throws StaleMetadataException {
        return within("remote regions", bound, () -> readChildren(paths.remote(), Records.RemoteRecord.class));
    }

    /** Takes the VM's lock, or throws {@link VmLockedException} naming the holder. */
    public VmLock lockVm(String vm, String host, String migration) throws VmLockedException, Exception {
        try {
            VmLock lock =
                    VmLock.acquire(client, paths, vm, new VmLock.Holder(host, migration, clockMillis.getAsLong()));
            stats.vmLock(true);
            return lock;
        } catch (VmLockedException e) {
            stats.vmLock(false);
            throw e;
        }
    }

    /** The last read of that kind ("hosts", "links", "migrations", "baselines of VM"), with its age; no I/O. */
    public Optional<Stamped<?>> lastRead(String kind) {
        return Optional.ofNullable(lastReads.get(kind));
    }

    @FunctionalInterface
    private interface Read<T> {
        Stamped<T> read() throws Exception;
    }

    @SuppressWarnings("unchecked")
    private <T> Stamped<T> within(String kind, Duration bound, Read<T> read) throws StaleMetadataException {
        Stamped<T> last = (Stamped<T>) lastReads.get(kind);
        long now = clockMillis.getAsLong();
        if (last != null && last.isWithin(bound, now)) {
            return last;
        }
        try {
            Stamped<T> fresh = read.read();
            lastReads.put(kind, fresh);
            stats.metadataRefreshed();
            return fresh;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw refuse(kind, bound, last, now, e);
        } catch (Exception e) {
            throw refuse(kind, bound, last, now, e);
        }
    }

    private StaleMetadataException refuse(String kind, Duration bound, Stamped<?> last, long now, Exception cause) {
        stats.staleRefusal();
        String age = last == null ? "never read" : "last read " + last.age(now).toMillis() + " ms ago";
        return new StaleMetadataException(
                "region " + paths.region() + ": " + kind + " " + age + ", older than the bound of " + bound.toMillis()
                        + " ms (region.staleness-bound), and cannot be refreshed: " + cause.getMessage()
                        + " (refusing to decide on it)",
                cause);
    }

    /** A sync (the server catches up with the ensemble's leader), then the children's records. */
    private <T> Stamped<List<T>> readChildren(String parent, Class<T> type) throws Exception {
        long syncStarted = clockMillis.getAsLong();
        sync(parent);
        List<T> values = new ArrayList<>();
        long newest = 0;
        List<String> children;
        try {
            children = client.getChildren().forPath(parent);
        } catch (KeeperException.NoNodeException e) {
            children = List.of();
        }
        for (String child : children.stream().sorted().toList()) {
            Stat stat = new Stat();
            try {
                byte[] data = client.getData().storingStatIn(stat).forPath(parent + "/" + child);
                values.add(Records.fromJson(data, type, parent + "/" + child));
                newest = Math.max(newest, stat.getMtime());
            } catch (KeeperException.NoNodeException e) {
                // went away between the listing and the read
            }
        }
        // the values are at least as new as the moment the sync started
        return new Stamped<>(List.copyOf(values), syncStarted, newest);
    }

    private void sync(String path) throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        AtomicReference<KeeperException.Code> result = new AtomicReference<>();
        client.sync()
                .inBackground((ignored, event) -> {
                    result.set(KeeperException.Code.get(event.getResultCode()));
                    done.countDown();
                })
                .forPath(client.checkExists().forPath(path) != null ? path : paths.base());
        if (!done.await(operationTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException(
                    "ZooKeeper sync did not complete within " + operationTimeout.toMillis() + " ms");
        }
        if (result.get() != KeeperException.Code.OK) {
            throw KeeperException.create(result.get(), path);
        }
    }

    private void put(String path, byte[] data, CreateMode mode) throws Exception {
        try {
            client.setData().forPath(path, data);
        } catch (KeeperException.NoNodeException e) {
            try {
                client.create()
                        .creatingParentContainersIfNeeded()
                        .withMode(mode)
                        .forPath(path, data);
            } catch (KeeperException.NodeExistsException raced) {
                client.setData().forPath(path, data);
            }
        }
    }
}
