package io.dwcp.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.config.ConfigurationBinder;
import io.dwcp.config.ConfigurationException;
import io.dwcp.config.HostAndPort;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/**
 * The peers ({@code peer.<name>.address}, {@code peer.<name>.qemu-port}). They have no {@code @Config}
 * setters: dwcpd claims the {@code peer.} prefix and {@link PeersConfig#fromProperties} reads both
 * keys of every peer.
 */
class PeersConfigTest {
    @Test
    void defaults() {
        PeersConfig peers = PeersConfig.fromProperties(Map.of());
        assertTrue(peers.all().isEmpty());
        assertFalse(peers.get("hostB").isPresent());
    }

    @Test
    void explicitMapping() {
        ConfigurationBinder binder = new ConfigurationBinder(Map.of(
                "peer.hostB.address", "10.0.0.2:7470",
                "peer.hostB.qemu-port", "4444",
                "peer.hostC.address", "[2001:db8::7]:7471"));
        PeersConfig peers = PeersConfig.fromProperties(binder.claimPrefix("peer."));
        binder.checkAllUsed();
        assertEquals(
                new PeerConfig("hostB", new HostAndPort("10.0.0.2", 7470), OptionalInt.of(4444), Optional.empty()),
                peers.get("hostB").orElseThrow());
        assertEquals(
                new PeerConfig("hostC", new HostAndPort("2001:db8::7", 7471), OptionalInt.empty()),
                peers.get("hostC").orElseThrow());
        assertEquals(
                List.of("hostB", "hostC"),
                peers.all().stream().map(PeerConfig::name).sorted().toList());
        assertTrue(peers.get("hostB").orElseThrow().acceptsFingerprint(Optional.of("sha256:00")));
    }

    @Test
    void aFingerprintBindsThePeerToItsCertificate() {
        PeerConfig peer = new PeerConfig(
                "hostB", new HostAndPort("10.0.0.2", 7470), OptionalInt.empty(), Optional.of("sha256:ab"));
        assertTrue(peer.acceptsFingerprint(Optional.of("sha256:ab")));
        assertFalse(peer.acceptsFingerprint(Optional.of("sha256:cd")));
        assertFalse(peer.acceptsFingerprint(Optional.empty()));
    }

    @Test
    void invalidKeysAndValuesNameTheKey() {
        assertRefused("peer.hostB.address is required", Map.of("hostB.qemu-port", "4444"));
        assertRefused(
                "peer.hostB.qemu-port=0: expected a TCP port, 1 to 65535",
                Map.of("hostB.address", "10.0.0.2:7470", "hostB.qemu-port", "0"));
        assertRefused(
                "peer.hostB.address=10.0.0.2: expected host:port such as 192.0.2.7:7470 or [2001:db8::7]:7470 (the"
                        + " peer's tunnel.listen)",
                Map.of("hostB.address", "10.0.0.2"));
        assertRefused(
                "unknown peer key peer.hostB.port (peer.<name>.address, peer.<name>.qemu-port)",
                Map.of("hostB.port", "7470"));
        assertRefused(
                "unknown configuration key peer.hostB (peer keys are peer.<name>.address and peer.<name>.qemu-port)",
                Map.of("hostB", "10.0.0.2:7470"));
        assertRefused(
                "peer.host/B.address: the peer name 'host/B' is not a node name: expected 1-63 characters of"
                        + " [A-Za-z0-9._-], starting with a letter or digit",
                Map.of("host/B.address", "10.0.0.2:7470"));
    }

    private static void assertRefused(String message, Map<String, String> properties) {
        assertEquals(
                message,
                assertThrows(ConfigurationException.class, () -> PeersConfig.fromProperties(properties))
                        .getMessage());
    }
}
