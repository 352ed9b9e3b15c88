package io.dwcp.control;

import static java.util.Objects.requireNonNull;

import io.dwcp.config.Printable;
import io.dwcp.node.NodeConfig;
import io.dwcp.region.ControlPlane;
import io.dwcp.region.Records.HostRecord;
import io.dwcp.region.Records.RemoteRecord;
import io.dwcp.region.RegionView;
import io.dwcp.region.StaleMetadataException;
import io.dwcp.region.Stamped;
import io.dwcp.session.PeerConfig;
import io.dwcp.session.PeersConfig;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Optional;
import java.util.StringJoiner;

/**
 * Who {@code dwcp migrate VM dwcp://HOST} means by HOST: a configured peer ({@code peers.*}) first;
 * else, with {@code region.name}, the host of that name in the region's host records, read within
 * {@code region.staleness-bound}: its address becomes the peer's, and its certificate's fingerprint
 * what the TLS peer must show; else the host of that name in another region, from the host records
 * that region's leader gossips, confirmed within the bound. Blocks on ZooKeeper (the control
 * socket's thread, never an event loop).
 */
public final class PeerResolver {
    /** HOST is not known, or cannot be looked up now; {@link #status()} 404 or 503. */
    public static final class UnresolvedPeerException extends Exception {
        private final int status;

        UnresolvedPeerException(int status, String message) {
            super(message);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    private final NodeConfig node;
    private final PeersConfig peers;
    private final Optional<RegionView> region;

    @Inject
    public PeerResolver(NodeConfig node, PeersConfig peers, Optional<RegionView> region) {
        this.node = requireNonNull(node, "node is null");
        this.peers = requireNonNull(peers, "peers is null");
        this.region = requireNonNull(region, "region is null");
    }

    public PeerConfig resolve(String name) throws UnresolvedPeerException {
        Optional<PeerConfig> configured = peers.get(name);
        if (configured.isPresent()) {
            return configured.get();
        }
        String known =
                "dwcpd " + node.getName() + " has no peer '" + printable(name) + "' (peers: " + peerNames() + ")";
        if (region.isEmpty()) {
            throw new UnresolvedPeerException(404, known + ", and runs no region (region.name) to look it up in");
        }
        Stamped<List<HostRecord>> hosts;
        try {
            hosts = region.get().hosts();
        } catch (StaleMetadataException e) {
            throw new UnresolvedPeerException(
                    503,
                    known + ", and cannot look it up in region " + region.get().region() + ": " + e.getMessage());
        }
        if (name.equals(region.get().host())) {
            throw new UnresolvedPeerException(
                    400, "'" + printable(name) + "' is this host: a migration goes to another host");
        }
        StringJoiner names = new StringJoiner(", ");
        for (HostRecord host : hosts.value()) {
            if (host.name().equals(name)) {
                return asPeer(host, region.get().region());
            }
            names.add(host.name());
        }
        Optional<PeerConfig> remote = remoteHost(name);
        if (remote.isPresent()) {
            return remote.get();
        }
        throw new UnresolvedPeerException(
                404,
                known + ", and region " + region.get().region() + " has no host of that name (hosts: "
                        + (names.length() == 0 ? "none" : names.toString()) + "; read "
                        + hosts.age(System.currentTimeMillis()).toMillis() + " ms ago)");
    }

    /**
     * The host of that name in another region, from what this region's leader stored of gossip,
     * when that region's leader confirmed it within the bound; a stale region is said so.
     */
    private Optional<PeerConfig> remoteHost(String name) throws UnresolvedPeerException {
        List<RemoteRecord> remotes;
        try {
            remotes = region.get().remoteRegions().value();
        } catch (StaleMetadataException e) {
            return Optional.empty();
        }
        long now = System.currentTimeMillis();
        long bound = region.get().stalenessBound().toMillis();
        for (RemoteRecord remote : remotes) {
            Optional<HostRecord> host = remote.host(name);
            if (host.isEmpty()) {
                continue;
            }
            long age = remote.ageMillis(now);
            if (age > bound) {
                throw new UnresolvedPeerException(
                        503,
                        "host '" + printable(name) + "' is in region " + remote.region()
                                + ", whose leader last confirmed its hosts " + age
                                + " ms ago, older than region.staleness-bound (" + bound + " ms)");
            }
            return Optional.of(asPeer(host.get(), remote.region()));
        }
        return Optional.empty();
    }

    /** The host of that region as a tunnel peer; 503 when its published address is not host:port. */
    private static PeerConfig asPeer(HostRecord host, String regionName) throws UnresolvedPeerException {
        return ControlPlane.asPeer(host)
                .orElseThrow(() -> new UnresolvedPeerException(
                        503,
                        "host '" + printable(host.name()) + "' of region " + regionName + " publishes the address '"
                                + printable(host.address())
                                + "', which is not host:port: fix its region.advertised-address"));
    }

    private static String printable(String text) {
        return Printable.of(text, 200);
    }

    private String peerNames() {
        java.util.Set<String> names = new java.util.TreeSet<>();
        peers.all().forEach(peer -> names.add(peer.name()));
        return names.isEmpty() ? "none configured" : String.join(", ", names);
    }
}
