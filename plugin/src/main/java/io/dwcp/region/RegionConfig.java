package io.dwcp.region;

import io.dwcp.config.Config;
import io.dwcp.config.ConfigurationException;
import io.dwcp.config.HostAndPort;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;

/**
 * The control plane of a region: its ZooKeeper (an existing ensemble, or one embedded in dwcpd),
 * the timeouts that decide how fast a dead leader is replaced, and the staleness bound.
 *
 * <p><b>Timeouts.</b> When a leader host dies (or is cut off), ZooKeeper removes its latch node
 * only once its session expires, so failover takes the session timeout, plus up to one server
 * tick (the server expires sessions in tick-sized buckets), plus an election of milliseconds.
 * Curator's default session of 60 s would leave a region without a leader for a minute. 3 s with
 * {@code tickTime=1000} (what the embedded server uses; an ensemble should too) gives failover in
 * 3 to 4 s, under the 5 s aim; with ZooKeeper's default {@code tickTime=2000} the smallest
 * session a server grants is 4 s (2 x tickTime) and failover takes 4 to 6 s. The ZooKeeper client
 * pings every third of the session and reports a disconnection after two thirds of it without an
 * answer: a leader cut off from its ensemble turns SUSPENDED and stops acting after about 2 s,
 * before the ensemble expires its session and elects another, so the old and the new leader do
 * not overlap in time, and the term fence refuses the old one's writes if they ever did. Within a
 * region (RTT of a few ms at most) a 3 s session is not at risk from network jitter; a JVM pause
 * longer than about 2 s costs that host its leadership, which is the safe outcome.
 * {@code region.connection-timeout} (2 s) bounds how long an operation waits for a connection
 * before failing (and how long start-up waits for ZooKeeper).
 */
public class RegionConfig {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");
    // ZooKeeper's connect string: comma-separated host:port, an optional chroot path after the last port
    private static final java.util.regex.Pattern CONNECT = java.util.regex.Pattern.compile(
            "[A-Za-z0-9.\\[\\]:_-]+:[0-9]{1,5}(,[A-Za-z0-9.\\[\\]:_-]+:[0-9]{1,5})*(/[A-Za-z0-9._/-]*)?");

    private String name;
    private String zookeeperConnect;
    private boolean zookeeperEmbedded;
    private HostAndPort zookeeperEmbeddedListen = new HostAndPort("127.0.0.1", 2181);
    private Path zookeeperDataDirectory;
    private String zookeeperRoot = "/dwcp";
    private Duration sessionTimeout = Duration.ofSeconds(3);
    private Duration connectionTimeout = Duration.ofSeconds(2);
    private Duration stalenessBound = Duration.ofSeconds(5);
    private Duration linkPublishInterval = Duration.ofSeconds(5);
    private HostAndPort advertisedAddress;
    private int capacity = 4;
    private Duration migrationRetention = Duration.ofDays(7);
    private int migrationRecordsMax = 10_000;

    /** True when a region is configured: dwcpd runs the control plane. */
    public boolean isEnabled() {
        return name != null;
    }

    public String getName() {
        return name;
    }

    @Config(
            value = "region.name",
            description = "this host's region; set it to run the control plane (leader election, metadata, gossip)")
    public RegionConfig setName(String name) {
        if (name != null && !NAME.matcher(name).matches()) {
            throw ConfigurationException.invalidValue(
                    "region.name", name, "expected 1-63 characters of [A-Za-z0-9._-], starting with a letter or digit");
        }
        this.name = name;
        return this;
    }

    public String getZookeeperConnect() {
        return zookeeperConnect;
    }

    @Config(
            value = "region.zookeeper.connect",
            description =
                    "the region's ZooKeeper ensemble, host:port,host:port,... (default with embedded: the embedded server)")
    public RegionConfig setZookeeperConnect(String zookeeperConnect) {
        if (zookeeperConnect != null
                && !zookeeperConnect.isEmpty()
                && !CONNECT.matcher(zookeeperConnect).matches()) {
            throw ConfigurationException.invalidValue(
                    "region.zookeeper.connect",
                    zookeeperConnect,
                    "expected host:port[,host:port...][/chroot] such as zk1:2181,zk2:2181,zk3:2181");
        }
        this.zookeeperConnect = zookeeperConnect;
        return this;
    }

    public boolean isZookeeperEmbedded() {
        return zookeeperEmbedded;
    }

    @Config(
            value = "region.zookeeper.embedded",
            description = "start a single-node ZooKeeper inside dwcpd (one host, demos); production uses an ensemble")
    public RegionConfig setZookeeperEmbedded(boolean zookeeperEmbedded) {
        this.zookeeperEmbedded = zookeeperEmbedded;
        return this;
    }

    public HostAndPort getZookeeperEmbeddedListen() {
        return zookeeperEmbeddedListen;
    }

    @Config(
            value = "region.zookeeper.embedded-listen",
            description = "client address of the embedded ZooKeeper (port 0: any free port)")
    public RegionConfig setZookeeperEmbeddedListen(HostAndPort zookeeperEmbeddedListen) {
        this.zookeeperEmbeddedListen = zookeeperEmbeddedListen;
        return this;
    }

    /** Null until dwcpd's configuration makes it {@code <node.state-dir>/zookeeper}. */
    public Path getZookeeperDataDirectory() {
        return zookeeperDataDirectory;
    }

    @Config(
            value = "region.zookeeper.data-dir",
            description = "data of the embedded ZooKeeper (default: <node.state-dir>/zookeeper)")
    public RegionConfig setZookeeperDataDirectory(Path zookeeperDataDirectory) {
        this.zookeeperDataDirectory = zookeeperDataDirectory;
        return this;
    }

    public String getZookeeperRoot() {
        return zookeeperRoot;
    }

    @Config(
            value = "region.zookeeper.root",
            description = "znode under which DWCP keeps its regions (an ensemble shared with other users)")
    public RegionConfig setZookeeperRoot(String zookeeperRoot) {
        if (!zookeeperRoot.startsWith("/") || zookeeperRoot.endsWith("/") || zookeeperRoot.contains("//")) {
            throw ConfigurationException.invalidValue(
                    "region.zookeeper.root",
                    zookeeperRoot,
                    "expected an absolute znode path without a trailing slash, such as /dwcp");
        }
        this.zookeeperRoot = zookeeperRoot;
        return this;
    }

    public Duration getSessionTimeout() {
        return sessionTimeout;
    }

    @Config(
            value = "region.session-timeout",
            description = "ZooKeeper session: a dead leader is replaced after about this long (see README)")
    public RegionConfig setSessionTimeout(Duration sessionTimeout) {
        this.sessionTimeout = sessionTimeout;
        return this;
    }

    public Duration getConnectionTimeout() {
        return connectionTimeout;
    }

    @Config(
            value = "region.connection-timeout",
            description = "how long an operation (and start-up) waits for a ZooKeeper connection")
    public RegionConfig setConnectionTimeout(Duration connectionTimeout) {
        this.connectionTimeout = connectionTimeout;
        return this;
    }

    public Duration getStalenessBound() {
        return stalenessBound;
    }

    @Config(
            value = "region.staleness-bound",
            description = "decisions refresh metadata older than this, and refuse it when it cannot be refreshed")
    public RegionConfig setStalenessBound(Duration stalenessBound) {
        this.stalenessBound = stalenessBound;
        return this;
    }

    public Duration getLinkPublishInterval() {
        return linkPublishInterval;
    }

    /** A link's measurement is written at most this often (the newest wins); open migrations are measured this often. */
    @Config(
            value = "region.link-publish-interval",
            description =
                    "how often the open migrations' links are measured, and the least time between two writes of a link's measurement to ZooKeeper")
    public RegionConfig setLinkPublishInterval(Duration linkPublishInterval) {
        this.linkPublishInterval = linkPublishInterval;
        return this;
    }

    /** Null: the tunnel's listen address. */
    public HostAndPort getAdvertisedAddress() {
        return advertisedAddress;
    }

    @Config(
            value = "region.advertised-address",
            description = "tunnel address other hosts reach this one at (default: tunnel.listen)")
    public RegionConfig setAdvertisedAddress(HostAndPort advertisedAddress) {
        this.advertisedAddress = advertisedAddress;
        return this;
    }

    public int getCapacity() {
        return capacity;
    }

    @Config(
            value = "region.capacity",
            description = "incoming migrations this host accepts at once (published in the host registry)")
    public RegionConfig setCapacity(int capacity) {
        this.capacity = capacity;
        return this;
    }

    public Duration getMigrationRetention() {
        return migrationRetention;
    }

    /**
     * Ended migration records older than this are deleted by the region's leader, and so is a
     * running record whose source host is no longer registered and which was not updated for this
     * long ({@link MigrationRecordPruner}).
     */
    @Config(
            value = "region.migration-retention",
            description =
                    "the region's leader deletes migration records ended longer ago than this (and running ones whose source host is gone, not updated for this long)")
    public RegionConfig setMigrationRetention(Duration migrationRetention) {
        this.migrationRetention = migrationRetention;
        return this;
    }

    public int getMigrationRecordsMax() {
        return migrationRecordsMax;
    }

    @Config(
            value = "region.migration-records-max",
            description =
                    "ended migration records the region keeps at most; beyond it the region's leader deletes the oldest ended ones")
    public RegionConfig setMigrationRecordsMax(int migrationRecordsMax) {
        this.migrationRecordsMax = migrationRecordsMax;
        return this;
    }

    /** Throws when a region is set without a ZooKeeper, or a value is out of range. */
    public void validate() {
        if (!isEnabled()) {
            return;
        }
        if (!zookeeperEmbedded && (zookeeperConnect == null || zookeeperConnect.isBlank())) {
            throw new ConfigurationException(
                    "region.name is set: also set region.zookeeper.connect (the region's ensemble) or region.zookeeper.embedded=true");
        }
        if (!zookeeperRoot.startsWith("/") || zookeeperRoot.endsWith("/") || zookeeperRoot.contains("//")) {
            throw new ConfigurationException(
                    "region.zookeeper.root must be an absolute znode path without a trailing slash: '" + zookeeperRoot
                            + "'");
        }
        if (sessionTimeout.compareTo(Duration.ofSeconds(1)) < 0
                || sessionTimeout.compareTo(Duration.ofSeconds(60)) > 0) {
            throw new ConfigurationException(
                    "region.session-timeout must be between 1s and 60s: " + sessionTimeout.toMillis() + "ms");
        }
        if (connectionTimeout.isNegative()
                || connectionTimeout.isZero()
                || connectionTimeout.compareTo(sessionTimeout) > 0) {
            throw new ConfigurationException(
                    "region.connection-timeout must be positive and at most region.session-timeout: "
                            + connectionTimeout.toMillis() + "ms");
        }
        if (stalenessBound.isNegative() || stalenessBound.isZero()) {
            throw new ConfigurationException(
                    "region.staleness-bound must be positive: " + stalenessBound.toMillis() + "ms");
        }
        if (linkPublishInterval.compareTo(Duration.ofMillis(100)) < 0) {
            throw new ConfigurationException(
                    "region.link-publish-interval must be at least 100ms (a link written more often only loads ZooKeeper): "
                            + linkPublishInterval.toMillis() + "ms");
        }
        if (capacity < 0) {
            throw new ConfigurationException("region.capacity must not be negative: " + capacity);
        }
        if (migrationRetention.compareTo(Duration.ofMinutes(1)) < 0) {
            throw new ConfigurationException(
                    "region.migration-retention must be at least 1m (the records are pruned once a minute): "
                            + migrationRetention.toMillis() + "ms");
        }
        if (migrationRecordsMax < 0) {
            throw new ConfigurationException(
                    "region.migration-records-max must not be negative: " + migrationRecordsMax);
        }
    }
}
