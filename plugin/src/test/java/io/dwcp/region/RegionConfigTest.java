package io.dwcp.region;

import static io.dwcp.config.ConfigAssertions.assertFullMapping;
import static io.dwcp.config.ConfigAssertions.expectedDefaults;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.config.ConfigurationException;
import io.dwcp.config.HostAndPort;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RegionConfigTest {
    @Test
    void defaults() {
        RegionConfig config = expectedDefaults(RegionConfig.class)
                .expect("region.name", null)
                .expect("region.zookeeper.connect", null)
                .expect("region.zookeeper.embedded", false)
                .expect("region.zookeeper.embedded-listen", new HostAndPort("127.0.0.1", 2181))
                // unset: dwcpd's configuration makes it <node.state-dir>/zookeeper
                .expect("region.zookeeper.data-dir", null)
                .expect("region.zookeeper.root", "/dwcp")
                .expect("region.session-timeout", Duration.ofSeconds(3))
                .expect("region.connection-timeout", Duration.ofSeconds(2))
                .expect("region.staleness-bound", Duration.ofSeconds(5))
                .expect("region.link-publish-interval", Duration.ofSeconds(5))
                // unset: the tunnel's listen address
                .expect("region.advertised-address", null)
                .expect("region.capacity", 4)
                .expect("region.migration-retention", Duration.ofDays(7))
                .expect("region.migration-records-max", 10_000)
                .verify();
        assertFalse(config.isEnabled(), "off unless region.name is set");
        config.validate();
    }

    @Test
    void explicitMapping() {
        assertFullMapping(
                Map.ofEntries(
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
                        Map.entry("region.migration-retention", "2d"),
                        Map.entry("region.migration-records-max", "500")),
                RegionConfig.class,
                config -> {
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
                    assertEquals(Duration.ofDays(2), config.getMigrationRetention());
                    assertEquals(500, config.getMigrationRecordsMax());
                    config.validate();
                });
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
                "region.capacity must not be negative: -1",
                assertThrows(
                                ConfigurationException.class,
                                () -> new RegionConfig()
                                        .setName("eu")
                                        .setZookeeperEmbedded(true)
                                        .setCapacity(-1)
                                        .validate())
                        .getMessage());
        assertEquals(
                "region.migration-retention must be at least 1m (the records are pruned once a minute): 30000ms",
                assertThrows(
                                ConfigurationException.class,
                                () -> new RegionConfig()
                                        .setName("eu")
                                        .setZookeeperEmbedded(true)
                                        .setMigrationRetention(Duration.ofSeconds(30))
                                        .validate())
                        .getMessage());
        assertEquals(
                "region.migration-records-max must not be negative: -1",
                assertThrows(
                                ConfigurationException.class,
                                () -> new RegionConfig()
                                        .setName("eu")
                                        .setZookeeperEmbedded(true)
                                        .setMigrationRecordsMax(-1)
                                        .validate())
                        .getMessage());
        // none kept once ended, and a minute: allowed
        new RegionConfig()
                .setName("eu")
                .setZookeeperEmbedded(true)
                .setMigrationRecordsMax(0)
                .setMigrationRetention(Duration.ofMinutes(1))
                .validate();
    }
}
