package io.dwcp.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.config.HostAndPort;
import io.dwcp.node.NodeConfig;
import io.dwcp.region.Records.BaselineRecord;
import io.dwcp.region.Records.HostRecord;
import io.dwcp.region.Records.LinkRecord;
import io.dwcp.region.Records.MigrationRecord;
import io.dwcp.region.Records.RemoteRecord;
import io.dwcp.region.RegionView;
import io.dwcp.region.StaleMetadataException;
import io.dwcp.region.Stamped;
import io.dwcp.session.PeerConfig;
import io.dwcp.session.PeersConfig;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** dwcp migrate's HOST: a configured peer, else a host of the region (address, fingerprint), else a clear refusal. */
class PeerResolverTest {
    private static final String FINGERPRINT = "sha256:" + "ab".repeat(32);

    /** A region whose hosts read answers the given records, or refuses as stale metadata does. */
    private static final class FakeRegion implements RegionView {
        List<HostRecord> hosts = List.of();
        List<RemoteRecord> remotes = List.of();
        String stale;

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
            return Duration.ofSeconds(5);
        }

        @Override
        public Stamped<List<HostRecord>> hosts() throws StaleMetadataException {
            if (stale != null) {
                throw new StaleMetadataException(stale, null);
            }
            return new Stamped<>(hosts, System.currentTimeMillis(), 0);
        }

        @Override
        public Stamped<List<LinkRecord>> links() {
            throw new UnsupportedOperationException("not read by the resolver");
        }

        @Override
        public Stamped<List<BaselineRecord>> baselines(String vm) {
            throw new UnsupportedOperationException("not read by the resolver");
        }

        @Override
        public Stamped<List<MigrationRecord>> migrations() {
            throw new UnsupportedOperationException("not read by the resolver");
        }

        @Override
        public Stamped<List<RemoteRecord>> remoteRegions() {
            return new Stamped<>(remotes, System.currentTimeMillis(), 0);
        }
    }

    private final NodeConfig node = new NodeConfig().setName("alpha");
    private final PeersConfig peers =
            new PeersConfig(List.of(new PeerConfig("beta", new HostAndPort("192.0.2.20", 7470), OptionalInt.empty())));
    private final FakeRegion region = new FakeRegion();

    @Test
    void aConfiguredPeerFirstThenAHostOfTheRegion() throws Exception {
        region.hosts = List.of(
                new HostRecord("alpha", "192.0.2.10:7470", 4, "0.1.0", FINGERPRINT, 1),
                new HostRecord("beta", "198.51.100.20:7470", 4, "0.1.0", FINGERPRINT, 1),
                new HostRecord("delta", "192.0.2.40:7471", 4, "0.1.0", FINGERPRINT, 1),
                new HostRecord("omega", "192.0.2.50:7470", 4, "0.1.0", "none", 1));
        PeerResolver resolver = new PeerResolver(node, peers, Optional.of(region));
        // configured: as configured, no fingerprint required beyond the CA and the name
        assertEquals(
                new PeerConfig("beta", new HostAndPort("192.0.2.20", 7470), OptionalInt.empty()),
                resolver.resolve("beta"));
        PeerConfig delta = resolver.resolve("delta");
        assertEquals(
                new PeerConfig(
                        "delta", new HostAndPort("192.0.2.40", 7471), OptionalInt.empty(), Optional.of(FINGERPRINT)),
                delta);
        assertTrue(delta.acceptsFingerprint(Optional.of(FINGERPRINT)));
        assertTrue(!delta.acceptsFingerprint(Optional.of("sha256:" + "cd".repeat(32)))
                && !delta.acceptsFingerprint(Optional.empty()));
        // a host that published no fingerprint (its certificate was unreadable): the CA and the name only
        assertEquals(Optional.empty(), resolver.resolve("omega").certificateFingerprint());
    }

    @Test
    void aHostOfAnotherRegionFromItsGossipedRecordConfirmedWithinTheBound() throws Exception {
        region.hosts = List.of(new HostRecord("alpha", "192.0.2.10:7470", 4, "0.1.0", FINGERPRINT, 1));
        long now = System.currentTimeMillis();
        HostRecord east1 = new HostRecord("east1", "198.51.100.7:7470", 4, "0.1.0", FINGERPRINT, 1);
        HostRecord gone = new HostRecord("east9", "198.51.100.9:7470", 4, "0.1.0", FINGERPRINT, 1);
        region.remotes =
                List.of(new RemoteRecord("us-east", "{}", List.of("east1"), now, now - 1_000, List.of(east1, gone)));
        PeerResolver resolver = new PeerResolver(node, peers, Optional.of(region));
        assertEquals(
                new PeerConfig(
                        "east1", new HostAndPort("198.51.100.7", 7470), OptionalInt.empty(), Optional.of(FINGERPRINT)),
                resolver.resolve("east1"));
        // its record is still gossiped, but the region's host set no longer lists it
        PeerResolver.UnresolvedPeerException left =
                assertThrows(PeerResolver.UnresolvedPeerException.class, () -> resolver.resolve("east9"));
        assertEquals(404, left.status());

        region.remotes = List.of(new RemoteRecord("us-east", "{}", List.of("east1"), now, now - 9_000, List.of(east1)));
        PeerResolver.UnresolvedPeerException stale =
                assertThrows(PeerResolver.UnresolvedPeerException.class, () -> resolver.resolve("east1"));
        assertEquals(503, stale.status());
        assertTrue(
                stale.getMessage()
                        .startsWith("host 'east1' is in region us-east, whose leader last confirmed its hosts 9"),
                stale.getMessage());
        assertTrue(
                stale.getMessage().endsWith(" ms ago, older than region.staleness-bound (5000 ms)"),
                stale.getMessage());
    }

    @Test
    void unknownHostsStaleMetadataAndNoRegionAreRefusedSayingWhy() {
        region.hosts = List.of(
                new HostRecord("alpha", "192.0.2.10:7470", 4, "0.1.0", FINGERPRINT, 1),
                new HostRecord("delta", "192.0.2.40:7471", 4, "0.1.0", FINGERPRINT, 1),
                new HostRecord("broken", "nowhere", 4, "0.1.0", FINGERPRINT, 1));
        PeerResolver resolver = new PeerResolver(node, peers, Optional.of(region));
        PeerResolver.UnresolvedPeerException unknown =
                assertThrows(PeerResolver.UnresolvedPeerException.class, () -> resolver.resolve("gamma"));
        assertEquals(404, unknown.status());
        assertTrue(
                unknown.getMessage()
                        .startsWith(
                                "dwcpd alpha has no peer 'gamma' (peers: beta), and region eu-west has no host of that name "
                                        + "(hosts: alpha, delta, broken; read "),
                unknown.getMessage());
        PeerResolver.UnresolvedPeerException self =
                assertThrows(PeerResolver.UnresolvedPeerException.class, () -> resolver.resolve("alpha"));
        assertEquals("'alpha' is this host: a migration goes to another host", self.getMessage());
        PeerResolver.UnresolvedPeerException broken =
                assertThrows(PeerResolver.UnresolvedPeerException.class, () -> resolver.resolve("broken"));
        assertEquals(
                "host 'broken' of region eu-west publishes the address 'nowhere', which is not host:port: fix its region.advertised-address",
                broken.getMessage());

        region.stale =
                "region eu-west: hosts last read 7300 ms ago, older than the bound of 5000 ms (region.staleness-bound), and cannot be refreshed: ConnectionLoss";
        PeerResolver.UnresolvedPeerException stale =
                assertThrows(PeerResolver.UnresolvedPeerException.class, () -> resolver.resolve("delta"));
        assertEquals(503, stale.status());
        assertEquals(
                "dwcpd alpha has no peer 'delta' (peers: beta), and cannot look it up in region eu-west: "
                        + region.stale,
                stale.getMessage());

        PeerResolver.UnresolvedPeerException noRegion = assertThrows(
                PeerResolver.UnresolvedPeerException.class,
                () -> new PeerResolver(node, peers, Optional.empty()).resolve("delta"));
        assertEquals(404, noRegion.status());
        assertEquals(
                "dwcpd alpha has no peer 'delta' (peers: beta), and runs no region (region.name) to look it up in",
                noRegion.getMessage());
    }
}
