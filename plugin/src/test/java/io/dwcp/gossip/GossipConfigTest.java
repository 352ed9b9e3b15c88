package io.dwcp.gossip;

import static io.dwcp.config.ConfigAssertions.assertFullMapping;
import static io.dwcp.config.ConfigAssertions.expectedDefaults;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.config.ConfigurationBinder;
import io.dwcp.config.ConfigurationException;
import io.dwcp.config.DataSize;
import io.dwcp.config.HostAndPort;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GossipConfigTest {
    @Test
    void defaults() {
        GossipConfig config = expectedDefaults(GossipConfig.class)
                .expect("gossip.listen", new HostAndPort("0.0.0.0", 7471))
                .expect("gossip.interval", Duration.ofMillis(200))
                .expect("gossip.fanout", 2)
                .expect("gossip.log-capacity", 256)
                .expect("gossip.max-message-size", DataSize.ofMiB(1))
                .verify();
        assertTrue(config.getPeers().isEmpty());
        config.validate();
    }

    @Test
    void explicitMapping() {
        assertFullMapping(
                Map.of(
                        "gossip.listen", "10.0.0.1:7999",
                        "gossip.interval", "500ms",
                        "gossip.fanout", "3",
                        "gossip.log-capacity", "1024",
                        "gossip.max-message-size", "4MiB"),
                GossipConfig.class,
                config -> {
                    assertEquals(new HostAndPort("10.0.0.1", 7999), config.getListen());
                    assertEquals(Duration.ofMillis(500), config.getInterval());
                    assertEquals(3, config.getFanout());
                    assertEquals(1024, config.getLogCapacity());
                    assertEquals(DataSize.ofMiB(4), config.getMaxMessageSize());
                    config.validate();
                });
    }

    /** {@code gossip.peer.<name>} is no {@code @Config} key: dwcpd claims the prefix and parses the peers. */
    @Test
    void peersMapping() {
        ConfigurationBinder binder = new ConfigurationBinder(Map.of(
                "gossip.peer.us-1", "10.1.0.1:7471",
                "gossip.peer.us-2", "[2001:db8::2]:7471"));
        GossipConfig config = binder.bind(GossipConfig.class);
        config.setPeers(GossipConfig.parsePeers(binder.claimPrefix("gossip.peer.")));
        binder.checkAllUsed();
        assertEquals(
                Map.of("us-1", new HostAndPort("10.1.0.1", 7471), "us-2", new HostAndPort("2001:db8::2", 7471)),
                config.getPeers());
        config.validate();
    }

    @Test
    void invalidValuesNameTheKey() {
        assertEquals(
                "invalid value for gossip.peer.us-1: 'nowhere': not host:port: nowhere",
                assertThrows(ConfigurationException.class, () -> GossipConfig.parsePeers(Map.of("us-1", "nowhere")))
                        .getMessage());
        assertEquals(
                "gossip.fanout must be at least 1: 0",
                assertThrows(
                                ConfigurationException.class,
                                () -> new GossipConfig().setFanout(0).validate())
                        .getMessage());
        assertEquals(
                "gossip.interval must be at least 10ms: 5ms",
                assertThrows(
                                ConfigurationException.class,
                                () -> new GossipConfig()
                                        .setInterval(Duration.ofMillis(5))
                                        .validate())
                        .getMessage());
        assertEquals(
                "gossip.log-capacity must be at least 1: 0",
                assertThrows(
                                ConfigurationException.class,
                                () -> new GossipConfig().setLogCapacity(0).validate())
                        .getMessage());
        assertEquals(
                "gossip.max-message-size must be between 4KiB and 64MiB: 128MiB",
                assertThrows(
                                ConfigurationException.class,
                                () -> new GossipConfig()
                                        .setMaxMessageSize(DataSize.ofMiB(128))
                                        .validate())
                        .getMessage());
    }
}
