package io.dwcp.region;

import static java.util.Objects.requireNonNull;

import java.io.Closeable;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * The lock that keeps a VM to one migration at a time: an ephemeral znode {@code locks/VM} holding
 * who took it. Ephemeral, so a host that dies releases it when its session expires. A second
 * taker gets {@link VmLockedException} naming the holder. {@link #close()} releases it (only if it
 * is still this lock: the znode's version and owner session are checked).
 */
public final class VmLock implements Closeable {
    /** Who holds a VM's lock. */
    public record Holder(String host, String migration, long sinceMillis) {
        public Holder {
            requireNonNull(host, "host is null");
            requireNonNull(migration, "migration is null");
        }
    }

    private final CuratorFramework client;
    private final String path;
    private final Holder holder;
    private final int version;

    private VmLock(CuratorFramework client, String path, Holder holder, int version) {
        this.client = client;
        this.path = path;
        this.holder = holder;
        this.version = version;
    }

    static VmLock acquire(CuratorFramework client, RegionPaths paths, String vm, Holder holder)
            throws VmLockedException, Exception {
        String path = paths.lock(vm);
        client.createContainers(paths.locks());
        for (int attempt = 0; ; attempt++) {
            try {
                client.create().withMode(CreateMode.EPHEMERAL).forPath(path, Records.toJson(holder));
                return new VmLock(client, path, holder, 0);
            } catch (KeeperException.NodeExistsException e) {
                try {
                    throw new VmLockedException(
                            vm, Records.fromJson(client.getData().forPath(path), Holder.class, path));
                } catch (KeeperException.NoNodeException released) {
                    // released between our create and read: try again, once
                    if (attempt > 0) {
                        throw e;
                    }
                }
            }
        }
    }

    public Holder holder() {
        return holder;
    }

    @Override
    public void close() {
        try {
            Stat stat = client.checkExists().forPath(path);
            if (stat != null
                    && stat.getVersion() == version
                    && stat.getEphemeralOwner()
                            == client.getZookeeperClient().getZooKeeper().getSessionId()) {
                client.delete().withVersion(version).forPath(path);
            }
        } catch (KeeperException.NoNodeException | KeeperException.BadVersionException e) {
            // gone already (our session expired and someone else may hold it now)
        } catch (Exception e) {
            throw new IllegalStateException(
                    "cannot release the lock " + path + ": " + e.getMessage()
                            + " (it goes when this host's ZooKeeper session ends)",
                    e);
        }
    }
}
