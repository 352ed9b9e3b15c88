package io.dwcp.region;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.config.ConfigurationBinder;
import io.dwcp.config.ConfigurationException;
import io.dwcp.config.DataSize;
import io.dwcp.config.HostAndPort;
import io.dwcp.gossip.GossipConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RegionConfigTest {
    @Test
    void defaults() {
        RegionConfig config = new RegionConfig();
        assertFalse(config.isEnabled(), "off unless region.name is set");
        assertNull(config.getName());
        assertNull(config.getZookeeperConnect());
        assertFalse(config.isZookeeperEmbedded());
        assertEquals(new HostAndPort("127.0.0.1", 2181), config.getZookeeperEmbeddedListen());
        assertNull(config.getZookeeperDataDirectory());
        assertEquals("/dwcp", config.getZookeeperRoot());
        assertEquals(Duration.ofSeconds(3), config.getSessionTimeout());
        assertEquals(Duration.ofSeconds(2), config.getConnectionTimeout());
        assertEquals(Duration.ofSeconds(5), config.getStalenessBound());
        assertEquals(Duration.ofSeconds(5), config.getLinkPublishInterval());
        assertNull(config.getAdvertisedAddress());
        assertEquals(4, config.getCapacity());
        config.validate();

        GossipConfig gossip = new GossipConfig();
        assertEquals(new HostAndPort("0.0.0.0", 7471), gossip.getListen());
        assertEquals(Duration.ofMillis(200), gossip.getInterval());
        assertEquals(2, gossip.getFanout());
        assertEquals(256, gossip.getLogCapacity());
        assertEquals(DataSize.ofMiB(1), gossip.getMaxMessageSize());
        assertTrue(gossip.getPeers().isEmpty());
        gossip.validate();
    }

    @Test
    void explicitMapping() {
        ConfigurationBinder binder = new ConfigurationBinder(Map.ofEntries(
                Map.entry("region.name", "eu-west"),
                Map.entry("region.zookeeper.connect", "zk1:2181,zk2:2181,zk3:2181"),
                Map.entry("region.zookeeper.embedded", "true"),
                Map.entry("region.zookeeper.embedded-listen", "127.0.0.1:12181"),
                Map.entry("region.zookeeper.data-dir", "/srv/zk"),
                Map.entry("region.zookeeper.root", "/site/dwcp"),
                Map.entry("region.session-timeout", "6s"),
                Map.entry("region.connection-timeout", "3s"),
                Map.entry("region.staleness-bound", "2s"),
                Map.entry("region.link-publish-interval", "30s"),
                Map.entry("region.advertised-address", "10.0.0.1:7470"),
                Map.entry("region.capacity", "8"),
                Map.entry("gossip.listen", "10.0.0.1:7999"),
                Map.entry("gossip.interval", "500ms"),
                Map.entry("gossip.fanout", "3"),
                Map.entry("gossip.log-capacity", "1024"),
                Map.entry("gossip.max-message-size", "4MiB"),
                Map.entry("gossip.peer.us-1", "10.1.0.1:7471")));
        RegionConfig config = binder.bind(RegionConfig.class);
        GossipConfig gossip = binder.bind(GossipConfig.class);
        gossip.setPeers(GossipConfig.parsePeers(binder.claimPrefix("gossip.peer.")));
        binder.checkAllUsed();
        assertTrue(config.isEnabled());
        assertEquals("eu-west", config.getName());
        assertEquals("zk1:2181,zk2:2181,zk3:2181", config.getZookeeperConnect());
        assertTrue(config.isZookeeperEmbedded());
        assertEquals(new HostAndPort("127.0.0.1", 12181), config.getZookeeperEmbeddedListen());
        assertEquals(Path.of("/srv/zk"), config.getZookeeperDataDirectory());
        assertEquals("/site/dwcp", config.getZookeeperRoot());
        assertEquals(Duration.ofSeconds(6), config.getSessionTimeout());
        assertEquals(Duration.ofSeconds(3), config.getConnectionTimeout());
        assertEquals(Duration.ofSeconds(2), config.getStalenessBound());
        assertEquals(Duration.ofSeconds(30), config.getLinkPublishInterval());
        assertEquals(new HostAndPort("10.0.0.1", 7470), config.getAdvertisedAddress());
        assertEquals(8, config.getCapacity());
        config.validate();
        assertEquals(new HostAndPort("10.0.0.1", 7999), gossip.getListen());
        assertEquals(Duration.ofMillis(500), gossip.getInterval());
        assertEquals(3, gossip.getFanout());
        assertEquals(1024, gossip.getLogCapacity());
        assertEquals(DataSize.ofMiB(4), gossip.getMaxMessageSize());
        assertEquals(Map.of("us-1", new HostAndPort("10.1.0.1", 7471)), gossip.getPeers());
        gossip.validate();
    }

    @Test
    void invalidValuesAreRefusedWithTheKey() {
        assertEquals(
                "region.name is set: also set region.zookeeper.connect (the region's ensemble) or region.zookeeper.embedded=true",
                assertThrows(
                                ConfigurationException.class,
                                () -> new RegionConfig().setName("eu").validate())
                        .getMessage());
        assertEquals(
                "region.session-timeout must be between 1s and 60s: 500ms",
                assertThrows(
                                ConfigurationException.class,
                                () -> new RegionConfig()
                                        .setName("eu")
                                        .setZookeeperEmbedded(true)
                                        .setSessionTimeout(Duration.ofMillis(500))
                                        .validate())
                        .getMessage());
        assertEquals(
                "region.connection-timeout must be positive and at most region.session-timeout: 4000ms",
                assertThrows(
                                ConfigurationException.class,
                                () -> new RegionConfig()
                                        .setName("eu")
                                        .setZookeeperEmbedded(true)
                                        .setConnectionTimeout(Duration.ofSeconds(4))
                                        .validate())
                        .getMessage());
        assertEquals(
                "region.link-publish-interval must be at least 100ms (a link written more often only loads ZooKeeper): 50ms",
                assertThrows(
                                ConfigurationException.class,
                                () -> new RegionConfig()
                                        .setName("eu")
                                        .setZookeeperEmbedded(true)
                                        .setLinkPublishInterval(Duration.ofMillis(50))
                                        .validate())
                        .getMessage());
        assertEquals(
                "region.zookeeper.root=dwcp/: expected an absolute znode path without a trailing slash, such as /dwcp",
                assertThrows(ConfigurationException.class, () -> new RegionConfig().setZookeeperRoot("dwcp/"))
                        .getMessage());
        assertEquals(
                "region.zookeeper.connect=zk1 zk2: expected host:port[,host:port...][/chroot] such as zk1:2181,zk2:2181,zk3:2181",
                assertThrows(ConfigurationException.class, () -> new RegionConfig().setZookeeperConnect("zk1 zk2"))
                        .getMessage());
        new RegionConfig().setZookeeperConnect("zk1:2181,10.0.0.2:2181,[::1]:2181/dwcp");
        assertThrows(ConfigurationException.class, () -> new RegionConfig().setName("eu west"));
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
    }
}
