package io.dwcp.region;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dwcp.config.HostAndPort;
import io.dwcp.gossip.Crdt;
import io.dwcp.gossip.GossipConfig;
import io.dwcp.gossip.GossipNode;
import io.dwcp.gossip.GossipStats;
import io.dwcp.gossip.GossipTransport;
import io.dwcp.gossip.LwwRegister;
import io.dwcp.gossip.OrSet;
import io.dwcp.gossip.netty.TlsGossipTransport;
import io.dwcp.node.NodeConfig;
import io.dwcp.region.Records.HostRecord;
import io.dwcp.region.Records.LinkRecord;
import io.dwcp.session.PeerConfig;
import io.dwcp.session.PeerDirectory;
import io.dwcp.session.TunnelConfig;
import io.dwcp.tls.TlsConfig;
import io.dwcp.tls.TlsContexts;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * dwcpd's control plane (on when {@code region.name} is set): the region's ZooKeeper (embedded or
 * an ensemble), this host's record, the leader election and, on the leader, gossip with the
 * other regions. The leader publishes its region's summary ({@code summary/REGION}, an LWW
 * register stamped with its term, and {@code hosts/REGION}, an OR-set) and writes what gossip
 * brings of other regions into its ZooKeeper ({@code leader/remote/REGION}, fenced by its term),
 * where every host of the region reads it.
 *
 * <p>{@code LATENT -> STARTED -> CLOSED}. Owns one thread, {@code dwcp-gossip}: the gossip node,
 * the rounds, the publishing and the status snapshot live on it; the leader election has its own
 * ({@link RegionLeader}); the TLS transport its event loop. {@link #close()} ends them in order.
 */
public final class ControlPlane implements RegionStatus, VmLocks, RegionRecords, RegionView, PeerDirectory, Closeable {
    private static final Logger log = LoggerFactory.getLogger(ControlPlane.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration PUBLISH_INTERVAL = Duration.ofSeconds(1);

    public enum State {
        LATENT,
        STARTED,
        CLOSED
    }

    private final NodeConfig node;
    private final RegionConfig config;
    private final GossipConfig gossipConfig;
    private final TlsConfig tlsConfig;
    private final TunnelConfig tunnel;
    private final RegionStats stats;
    private final GossipStats gossipStats;
    private final AtomicReference<State> state = new AtomicReference<>(State.LATENT);

    private volatile EmbeddedZooKeeper embedded;
    private CuratorFramework client;
    private volatile RegionMetadata metadata;
    private PersistentNode registration;
    private volatile RegionPublisher publisher;
    private volatile LinkSource linkSource = now -> List.of();
    private final java.util.concurrent.atomic.AtomicLong lastForcedHostsRead =
            new java.util.concurrent.atomic.AtomicLong(System.nanoTime() - TimeUnit.SECONDS.toNanos(1));
    private RegionLeader leader;
    private volatile ScheduledExecutorService gossipThread;
    private TlsGossipTransport transport;
    // owned by the gossip thread
    private GossipNode gossip;
    private String publishedSummary;
    private long publishedSummaryAtMillis;
    // written by the gossip thread, read by status()
    private volatile String leaderName = "";
    private volatile long leaderReadAtMillis = -1;
    private volatile long regionTerm;
    private volatile List<RemoteView> remoteRegions = List.of();

    /**
     * Another region as the gossip thread last saw it; {@code writtenMillis} from its summary's LWW
     * timestamp; {@code hostRecords} those of its hosts that are still in its host set.
     */
    private record RemoteView(
            String region, String summary, List<String> hosts, List<HostRecord> hostRecords, long writtenMillis) {}

    public ControlPlane(
            NodeConfig node,
            RegionConfig config,
            GossipConfig gossipConfig,
            TlsConfig tlsConfig,
            TunnelConfig tunnel,
            RegionStats stats,
            GossipStats gossipStats) {
        this.node = requireNonNull(node, "node is null");
        this.config = requireNonNull(config, "config is null");
        this.gossipConfig = requireNonNull(gossipConfig, "gossipConfig is null");
        this.tlsConfig = requireNonNull(tlsConfig, "tlsConfig is null");
        this.tunnel = requireNonNull(tunnel, "tunnel is null");
        this.stats = requireNonNull(stats, "stats is null");
        this.gossipStats = requireNonNull(gossipStats, "gossipStats is null");
    }

    public State state() {
        return state.get();
    }

    /**
     * Where the embedded ZooKeeper ({@code region.zookeeper.embedded=true}) listens, with the port
     * it bound (a free one for port 0); empty without one or before {@link #start}.
     */
    public Optional<String> embeddedZooKeeper() {
        EmbeddedZooKeeper server = embedded;
        return server == null ? Optional.empty() : Optional.ofNullable(server.connectString());
    }

    /** Starts everything, or fails with a message for the operator (and leaves nothing running). */
    public void start() throws Exception {
        if (!state.compareAndSet(State.LATENT, State.STARTED)) {
            throw new IllegalStateException("already started or closed");
        }
        try {
            String connect = config.getZookeeperConnect();
            if (config.isZookeeperEmbedded()) {
                embedded =
                        new EmbeddedZooKeeper(config.getZookeeperDataDirectory(), config.getZookeeperEmbeddedListen());
                embedded.start(config.getSessionTimeout().multipliedBy(5));
                if (connect == null) {
                    connect = embedded.connectString();
                }
            }
            client = CuratorClients.create(connect, config.getSessionTimeout(), config.getConnectionTimeout());
            client.start();
            if (!client.blockUntilConnected(
                    Math.toIntExact(config.getConnectionTimeout().toMillis()), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("cannot reach the ZooKeeper of region " + config.getName() + " at "
                        + connect + " within " + config.getConnectionTimeout().toMillis()
                        + " ms (region.zookeeper.connect, region.connection-timeout)");
            }
            RegionPaths paths = new RegionPaths(config.getZookeeperRoot(), config.getName());
            metadata =
                    new RegionMetadata(client, paths, config.getConnectionTimeout(), stats, System::currentTimeMillis);
            registration = metadata.registerHost(hostRecord());
            publisher = new RegionPublisher(
                    "[region=" + config.getName() + " host=" + node.getName() + "]",
                    node.getName(),
                    metadata,
                    stats,
                    config.getLinkPublishInterval(),
                    System::currentTimeMillis);
            publisher.setLinkSource(linkSource);

            gossipThread = Executors.newSingleThreadScheduledExecutor(runnable -> {
                Thread thread = new Thread(runnable, "dwcp-gossip");
                thread.setDaemon(true);
                return thread;
            });
            GossipTransport gossipTransport;
            if (gossipConfig.getPeers().isEmpty()) {
                // a region on its own: nobody to gossip with
                gossipTransport = (peer, message) -> gossipStats.sendFailed();
            } else {
                transport = new TlsGossipTransport(
                        node.getName(),
                        gossipConfig.getListen(),
                        gossipConfig.getPeers(),
                        new TlsContexts(tlsConfig),
                        gossipThread,
                        gossipStats,
                        gossipConfig.getMaxMessageSize().toIntBytes());
                gossipTransport = transport;
            }
            gossip = new GossipNode(
                    node.getName(),
                    gossipTransport,
                    System::currentTimeMillis,
                    new Random(),
                    gossipStats,
                    gossipConfig.getFanout(),
                    gossipConfig.getLogCapacity());
            gossip.setPeers(List.copyOf(gossipConfig.getPeers().keySet()));
            gossip.addListener(this::gossiped);
            if (transport != null) {
                transport.start(gossip::receive);
            }

            leader = new RegionLeader(client, paths, node.getName(), stats, System::currentTimeMillis);
            leader.addListener(new RegionLeader.Listener() {
                @Override
                public void acquired(LeaderTerm term) {
                    gossipThread.execute(() -> publish(true));
                }

                @Override
                public void lost(LeaderTerm term) {
                    // nothing to undo: the next leader's term wins every key this one wrote
                }
            });
            new MigrationRecordPruner(client, metadata, leader, config, stats, System::currentTimeMillis)
                    .start(publisher);
            leader.start();
            long interval = gossipConfig.getInterval().toMillis();
            gossipThread.scheduleWithFixedDelay(this::round, interval, interval, TimeUnit.MILLISECONDS);
            gossipThread.scheduleWithFixedDelay(
                    () -> publish(false), 0, PUBLISH_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
            log.info(
                    "[region={} host={}] control plane started (ZooKeeper {}, {} gossip peers)",
                    config.getName(),
                    node.getName(),
                    connect,
                    gossipConfig.getPeers().size());
        } catch (Exception | Error e) {
            close();
            throw e;
        }
    }

    private HostRecord hostRecord() {
        HostAndPort address =
                config.getAdvertisedAddress() != null ? config.getAdvertisedAddress() : tunnel.getListen();
        String version = Optional.ofNullable(ControlPlane.class.getPackage().getImplementationVersion())
                .orElse("0.1.0-SNAPSHOT");
        return new HostRecord(
                node.getName(),
                address.toString(),
                config.getCapacity(),
                version,
                certificateFingerprint(),
                System.currentTimeMillis());
    }

    private String certificateFingerprint() {
        if (!Files.isReadable(tlsConfig.getCertificateFile())) {
            return "none";
        }
        try (InputStream in = Files.newInputStream(tlsConfig.getCertificateFile())) {
            // the same rule as the TLS peers' check
            return TlsContexts.fingerprint(
                    CertificateFactory.getInstance("X.509").generateCertificate(in));
        } catch (IOException | java.security.GeneralSecurityException e) {
            log.warn(
                    "[region={} host={}] cannot read {} for its fingerprint: {}",
                    config.getName(),
                    node.getName(),
                    tlsConfig.getCertificateFile(),
                    e.getMessage());
            return "unreadable";
        }
    }

    @Override
    public VmLock lock(String vm, String migration) throws VmLockedException, Exception {
        RegionMetadata started = metadata;
        if (started == null || state.get() == State.CLOSED) {
            throw new IllegalStateException("the control plane of region " + config.getName() + " is not running");
        }
        return started.lockVm(vm, node.getName(), migration);
    }

    @Override
    public void linkMeasured(LinkRecord link) {
        RegionPublisher started = publisher;
        if (started != null) {
            started.linkMeasured(link);
        }
    }

    @Override
    public void migration(Records.MigrationRecord migration) {
        RegionPublisher started = publisher;
        if (started != null) {
            started.migration(migration);
        }
    }

    @Override
    public void baseline(String vm, Optional<Records.BaselineRecord> newest) {
        RegionPublisher started = publisher;
        if (started != null) {
            started.baseline(vm, newest);
        }
    }

    @Override
    public void setLinkSource(LinkSource source) {
        linkSource = requireNonNull(source, "source is null");
        RegionPublisher started = publisher;
        if (started != null) {
            started.setLinkSource(source);
        }
    }

    @Override
    public String region() {
        return config.getName();
    }

    @Override
    public String host() {
        return node.getName();
    }

    @Override
    public Duration stalenessBound() {
        return config.getStalenessBound();
    }

    @Override
    public Stamped<List<HostRecord>> hosts() throws StaleMetadataException {
        return running().hosts(config.getStalenessBound());
    }

    @Override
    public Stamped<List<LinkRecord>> links() throws StaleMetadataException {
        return running().links(config.getStalenessBound());
    }

    @Override
    public Stamped<List<Records.BaselineRecord>> baselines(String vm) throws StaleMetadataException {
        return running().baselines(vm, config.getStalenessBound());
    }

    @Override
    public Stamped<List<Records.MigrationRecord>> migrations() throws StaleMetadataException {
        return running().migrations(config.getStalenessBound());
    }

    /**
     * Read within a quarter of the bound, not the bound: another region's figures are as old as its
     * leader's last confirmation ({@link Records.RemoteRecord#ageMillis}), which a read kept for up
     * to the whole bound would add to, so that a region gossip confirmed a second ago could look
     * older than the bound.
     */
    @Override
    public Stamped<List<Records.RemoteRecord>> remoteRegions() throws StaleMetadataException {
        return running().remoteRegions(config.getStalenessBound().dividedBy(4));
    }

    /**
     * A host of the region as a tunnel peer, from the hosts last read (no I/O: the gossip thread
     * refreshes them every second once older than half the bound); empty when unknown, when the
     * record's address is not host:port, or when that read is older than the staleness bound.
     */
    @Override
    public Optional<PeerConfig> peer(String name) {
        RegionMetadata started = metadata;
        if (started == null || state.get() != State.STARTED || name.equals(node.getName())) {
            return Optional.empty();
        }
        Optional<Stamped<?>> last = started.lastRead("hosts");
        if (last.isEmpty() || !last.get().isWithin(config.getStalenessBound(), System.currentTimeMillis())) {
            return Optional.empty();
        }
        for (HostRecord host : castList(last.get().value(), HostRecord.class)) {
            if (host.name().equals(name)) {
                return asPeer(host);
            }
        }
        Optional<PeerConfig> remote = remotePeer(name, System.currentTimeMillis());
        if (remote.isEmpty()) {
            refreshHostsSoon();
        }
        return remote;
    }

    /**
     * A host of another region as a tunnel peer, from the host records gossip brought (no I/O):
     * empty when no region lists it, or when its region's leader last confirmed them longer ago
     * than the staleness bound.
     */
    private Optional<PeerConfig> remotePeer(String name, long nowMillis) {
        for (RemoteView view : remoteRegions) {
            if (nowMillis - view.writtenMillis() > config.getStalenessBound().toMillis()
                    || !view.hosts().contains(name)) {
                continue;
            }
            for (HostRecord host : view.hostRecords()) {
                if (host.name().equals(name)) {
                    return asPeer(host);
                }
            }
        }
        return Optional.empty();
    }

    /**
     * A host that just joined is not in the last read yet: the gossip thread reads the hosts again
     * now (at most every 200 ms), so that its next stream, a moment later, finds it.
     */
    private void refreshHostsSoon() {
        long now = System.nanoTime();
        long last = lastForcedHostsRead.get();
        ScheduledExecutorService thread = gossipThread;
        if (thread == null
                || now - last < TimeUnit.MILLISECONDS.toNanos(200)
                || !lastForcedHostsRead.compareAndSet(last, now)) {
            return;
        }
        try {
            thread.execute(() -> {
                try {
                    metadata.hosts(Duration.ZERO);
                } catch (StaleMetadataException e) {
                    log.debug(
                            "[region={} host={}] reading the hosts again: {}",
                            config.getName(),
                            node.getName(),
                            e.getMessage());
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing
        }
    }

    /** The host as a tunnel peer: its address, and its certificate's fingerprint when it published one. */
    public static Optional<PeerConfig> asPeer(HostRecord host) {
        HostAndPort address;
        try {
            address = HostAndPort.valueOf(host.address());
        } catch (RuntimeException e) {
            return Optional.empty();
        }
        if (address.port() == 0) {
            return Optional.empty();
        }
        Optional<String> fingerprint = host.certificateFingerprint().startsWith("sha256:")
                ? Optional.of(host.certificateFingerprint())
                : Optional.empty();
        return Optional.of(new PeerConfig(host.name(), address, java.util.OptionalInt.empty(), fingerprint));
    }

    @Override
    public String describe() {
        RegionMetadata started = metadata;
        Optional<Stamped<?>> last = started == null ? Optional.empty() : started.lastRead("hosts");
        if (last.isEmpty()) {
            return " nor a host of region " + config.getName() + " (its hosts not read yet)";
        }
        long age = last.get().age(System.currentTimeMillis()).toMillis();
        if (age > config.getStalenessBound().toMillis()) {
            return " and region " + config.getName() + "'s hosts were read " + age
                    + " ms ago, older than region.staleness-bound ("
                    + config.getStalenessBound().toMillis() + " ms): is its ZooKeeper reachable?";
        }
        return " nor a host of region " + config.getName() + " (hosts read " + age
                + " ms ago) or of another region within region.staleness-bound";
    }

    private RegionMetadata running() {
        RegionMetadata started = metadata;
        if (started == null || state.get() != State.STARTED) {
            throw new IllegalStateException("the control plane of region " + config.getName() + " is not running");
        }
        return started;
    }

    /** On the gossip thread: a round, if this host leads. */
    private void round() {
        if (leader.term().isPresent()) {
            gossip.round();
        }
    }

    /** On the gossip thread: refresh what status shows; as leader, publish the region's summary. */
    private void publish(boolean newTerm) {
        try {
            leader.leaderName().ifPresentOrElse(name -> leaderName = name, () -> leaderName = "");
            regionTerm = leader.regionTerm().map(LeaderTerm::epoch).orElse(0L);
            leaderReadAtMillis = System.currentTimeMillis();
            remoteRegions = merged(remoteViews(), storedViews());
            // refreshed at half the bound, so that what the tunnel's peer lookups answer from stays within it
            Stamped<List<HostRecord>> hosts =
                    metadata.hosts(config.getStalenessBound().dividedBy(2));
            metadata.links(config.getStalenessBound());
            Optional<LeaderTerm> term = leader.term();
            if (term.isEmpty()) {
                return;
            }
            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("leader", node.getName());
            summary.put("term", term.get().epoch());
            summary.put("hosts", hosts.value().size());
            summary.put(
                    "capacity",
                    hosts.value().stream().mapToLong(HostRecord::capacity).sum());
            String text = JSON.writeValueAsString(summary);
            long now = System.currentTimeMillis();
            // written again, unchanged, every quarter of the staleness bound: its timestamp is the age other
            // regions show, so that an age above the bound means gossip has not reached this leader for that long
            if (newTerm || !text.equals(publishedSummary) || now - publishedSummaryAtMillis >= summaryRefreshMillis()) {
                gossip.write("summary/" + config.getName(), text, term.get().gossipTimestamp(now));
                publishedSummary = text;
                publishedSummaryAtMillis = now;
            }
            publishHostRecords(hosts.value(), term.get(), now);
            String hostsKey = "hosts/" + config.getName();
            Set<String> names = new TreeSet<>();
            hosts.value().forEach(host -> names.add(host.name()));
            OrSet published = gossip.get(hostsKey).map(OrSet.class::cast).orElse(OrSet.empty());
            for (String name : names) {
                if (!published.contains(name)) {
                    gossip.add(hostsKey, name);
                }
            }
            for (String name : published.elements()) {
                if (!names.contains(name)) {
                    gossip.remove(hostsKey, name);
                }
            }
        } catch (StaleMetadataException e) {
            log.warn("[region={} host={}] not publishing: {}", config.getName(), node.getName(), e.getMessage());
        } catch (Exception e) {
            log.warn(
                    "[region={} host={}] publishing the region's summary failed: {}",
                    config.getName(),
                    node.getName(),
                    e.toString());
        }
    }

    /**
     * On the gossip thread, as leader: each host's record as an LWW register {@code
     * host/REGION/NAME} (JSON, as in ZooKeeper), written when it differs from what gossip holds, so
     * that other regions can dial the region's hosts and check their certificates. A host that left
     * keeps its register; the host set ({@code hosts/REGION}) says who is there.
     */
    private void publishHostRecords(List<HostRecord> hosts, LeaderTerm term, long now) {
        for (HostRecord host : hosts) {
            String key = hostKey(config.getName(), host.name());
            String text = new String(Records.toJson(host), java.nio.charset.StandardCharsets.UTF_8);
            Optional<String> held = gossip.get(key).map(LwwRegister.class::cast).map(LwwRegister::value);
            if (!held.equals(Optional.of(text))) {
                gossip.write(key, text, term.gossipTimestamp(now));
            }
        }
    }

    static String hostKey(String region, String host) {
        return "host/" + region + "/" + host;
    }

    /** The region a gossip key belongs to: {@code summary/R}, {@code hosts/R}, {@code host/R/NAME}. */
    static String regionOf(String key) {
        int slash = key.indexOf('/');
        if (slash < 0) {
            return "";
        }
        int next = key.indexOf('/', slash + 1);
        return next < 0 ? key.substring(slash + 1) : key.substring(slash + 1, next);
    }

    /**
     * How often the leader writes its region's summary again when nothing in it changed: a quarter of
     * {@code region.staleness-bound}, at least once per publishing tick. Other regions show its
     * timestamp as the summary's age; while gossip flows that age stays under the bound (the refresh,
     * a publishing tick and a few gossip rounds).
     */
    private long summaryRefreshMillis() {
        return Math.max(PUBLISH_INTERVAL.toMillis(), config.getStalenessBound().toMillis() / 4);
    }

    /** On the gossip thread: another region's key changed; the leader stores it for its region's hosts. */
    private void gossiped(String key, Crdt value, Optional<io.dwcp.gossip.Dot> dot) {
        String region = regionOf(key);
        Optional<LeaderTerm> term = leader == null ? Optional.empty() : leader.term();
        if (region.equals(config.getName()) || term.isEmpty()) {
            return;
        }
        remoteRegions = merged(remoteViews(), remoteRegions);
        try {
            Optional<LwwRegister> register = gossip.get("summary/" + region).map(LwwRegister.class::cast);
            String summary = register.map(LwwRegister::value).orElse("");
            List<String> hosts = gossipedHosts(region);
            Records.RemoteRecord remote = new Records.RemoteRecord(
                    region,
                    summary,
                    hosts,
                    System.currentTimeMillis(),
                    register.map(ControlPlane::writtenMillis).orElse(0L),
                    gossipedHostRecords(region, hosts));
            leader.write(term.get(), metadata.paths().remote(region), Records.toJson(remote));
        } catch (NotLeaderException e) {
            log.info("[region={} host={}] {}", config.getName(), node.getName(), e.getMessage());
        } catch (Exception e) {
            log.warn(
                    "[region={} host={}] cannot store what gossip brought of region {}: {}",
                    config.getName(),
                    node.getName(),
                    region,
                    e.toString());
        }
    }

    @Override
    public Snapshot status() {
        long now = System.currentTimeMillis();
        Optional<LeaderTerm> term = leader == null ? Optional.empty() : leader.term();
        List<HostRecord> hosts = List.of();
        long hostsAge = -1;
        List<LinkRecord> links = List.of();
        long linksAge = -1;
        if (metadata != null) {
            Optional<Stamped<?>> lastHosts = metadata.lastRead("hosts");
            if (lastHosts.isPresent()) {
                hosts = castList(lastHosts.get().value(), HostRecord.class);
                hostsAge = lastHosts.get().age(now).toMillis();
            }
            Optional<Stamped<?>> lastLinks = metadata.lastRead("links");
            if (lastLinks.isPresent()) {
                links = castList(lastLinks.get().value(), LinkRecord.class);
                linksAge = lastLinks.get().age(now).toMillis();
            }
        }
        List<Remote> regions = new ArrayList<>();
        for (RemoteView view : remoteRegions) {
            regions.add(
                    new Remote(view.region(), view.summary(), view.hosts(), Math.max(0, now - view.writtenMillis())));
        }
        return new Snapshot(
                config.getName(),
                node.getName(),
                // while this host leads it is the leader it names, even before the gossip thread read
                // the leader's name back (the two would disagree for a moment after an election)
                term.isPresent() ? node.getName() : leaderName,
                term.isPresent() ? 0 : leaderReadAtMillis < 0 ? -1 : now - leaderReadAtMillis,
                term.isPresent(),
                term.map(LeaderTerm::epoch).orElse(regionTerm),
                hosts,
                hostsAge,
                links,
                linksAge,
                regions,
                new Counters(
                        stats.leadershipsAcquired(),
                        stats.leaderWritesAccepted(),
                        stats.leaderWritesRefused(),
                        stats.staleRefusals(),
                        gossipStats.rounds(),
                        gossipStats.bytesSent(),
                        gossipStats.bytesReceived(),
                        gossipStats.updatesApplied(),
                        gossipStats.peersRefused()));
    }

    /**
     * On the gossip thread: the other regions as the region's leader stored them in ZooKeeper (read
     * within half the bound; none when that fails). Only the hosts other regions list as gossip peers
     * hear from them directly; every other host knows them from here.
     */
    private List<RemoteView> storedViews() {
        try {
            List<RemoteView> regions = new ArrayList<>();
            for (Records.RemoteRecord stored : metadata.remoteRegions(
                            config.getStalenessBound().dividedBy(2))
                    .value()) {
                if (!stored.region().equals(config.getName())) {
                    long written = stored.summaryWrittenAtMillis() > 0
                            ? stored.summaryWrittenAtMillis()
                            : stored.receivedAtMillis();
                    regions.add(new RemoteView(
                            stored.region(), stored.summary(), stored.hosts(), stored.hostRecords(), written));
                }
            }
            return regions;
        } catch (StaleMetadataException e) {
            log.debug("[region={} host={}] {}", config.getName(), node.getName(), e.getMessage());
            return List.of();
        }
    }

    /** Per region, the view whose summary was written last (the first list's on a tie), sorted by region. */
    private static List<RemoteView> merged(List<RemoteView> first, List<RemoteView> second) {
        Map<String, RemoteView> newest = new java.util.TreeMap<>();
        for (RemoteView view : first) {
            newest.put(view.region(), view);
        }
        for (RemoteView view : second) {
            newest.merge(
                    view.region(), view, (kept, other) -> other.writtenMillis() > kept.writtenMillis() ? other : kept);
        }
        return List.copyOf(newest.values());
    }

    /** The wall-clock part of a region leader's LWW timestamp ({@link LeaderTerm#gossipTimestamp}). */
    private static long writtenMillis(LwwRegister register) {
        return register.timestamp() & ((1L << 42) - 1);
    }

    /** On the gossip thread: the other regions as this host's gossip node holds them. */
    private List<RemoteView> remoteViews() {
        List<RemoteView> regions = new ArrayList<>();
        gossip.state().forEach((key, value) -> {
            if (key.startsWith("summary/")
                    && value instanceof LwwRegister summary
                    && !key.equals("summary/" + config.getName())) {
                String region = key.substring("summary/".length());
                List<String> hosts = gossipedHosts(region);
                regions.add(new RemoteView(
                        region, summary.value(), hosts, gossipedHostRecords(region, hosts), writtenMillis(summary)));
            }
        });
        return List.copyOf(regions);
    }

    /** On the gossip thread: the names in the region's gossiped host set. */
    private List<String> gossipedHosts(String region) {
        return gossip.get("hosts/" + region)
                .map(set -> List.copyOf(((OrSet) set).elements()))
                .orElse(List.of());
    }

    /**
     * On the gossip thread: the records gossip holds of the region's hosts that its host set
     * lists; a register that does not parse is left out (and logged), never trusted in part.
     */
    private List<HostRecord> gossipedHostRecords(String region, List<String> hosts) {
        List<HostRecord> records = new ArrayList<>();
        for (String name : hosts) {
            String key = hostKey(region, name);
            Optional<LwwRegister> register =
                    gossip.get(key).filter(LwwRegister.class::isInstance).map(LwwRegister.class::cast);
            if (register.isEmpty()) {
                continue;
            }
            try {
                HostRecord host = Records.fromJson(
                        register.get().value().getBytes(java.nio.charset.StandardCharsets.UTF_8),
                        HostRecord.class,
                        "gossip " + key);
                if (host.name().equals(name)) {
                    records.add(host);
                }
            } catch (RuntimeException e) {
                // every publishing tick would repeat it
                log.debug(
                        "[region={} host={}] ignoring region {}'s record of host {}: {}",
                        config.getName(),
                        node.getName(),
                        region,
                        name,
                        e.getMessage());
            }
        }
        return List.copyOf(records);
    }

    private static <T> List<T> castList(Object value, Class<T> type) {
        List<T> list = new ArrayList<>();
        for (Object item : (List<?>) value) {
            list.add(type.cast(item));
        }
        return list;
    }

    /**
     * Gossip stops first (no round starts on a leadership being given up), then the election is
     * left (a successor is elected at once, not after a session timeout), then the records queued
     * for publishing are written (bounded), then the host record, the ZooKeeper client and the
     * embedded server go.
     */
    @Override
    public void close() {
        if (state.getAndSet(State.CLOSED) == State.CLOSED) {
            return;
        }
        if (gossipThread != null) {
            gossipThread.shutdownNow();
            try {
                if (!gossipThread.awaitTermination(5, TimeUnit.SECONDS)) {
                    log.warn(
                            "[region={} host={}] gossip thread still busy after 5 s", config.getName(), node.getName());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (transport != null) {
            transport.close();
        }
        // before the client: a migration's end or a baseline's removal queued now is still written
        if (publisher != null) {
            publisher.close();
        }
        if (leader != null) {
            leader.close();
        }
        if (registration != null) {
            try {
                registration.close();
            } catch (IOException e) {
                log.warn(
                        "[region={} host={}] removing the host record: {}",
                        config.getName(),
                        node.getName(),
                        e.toString());
            }
        }
        if (client != null) {
            client.close();
        }
        if (embedded != null) {
            embedded.close();
        }
    }
}
