package io.dwcp.session;

import static io.dwcp.config.ConfigAssertions.assertFullMapping;
import static io.dwcp.config.ConfigAssertions.expectedDefaults;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dwcp.config.ConfigurationBinder;
import io.dwcp.config.ConfigurationException;
import io.dwcp.config.DataSize;
import io.dwcp.config.HostAndPort;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TunnelConfigTest {
    @Test
    void defaults() {
        TunnelConfig config = expectedDefaults(TunnelConfig.class)
                .expect("tunnel.listen", new HostAndPort("0.0.0.0", 7470))
                .expect("tunnel.qemu-listen-host", "127.0.0.1")
                .expect("tunnel.incoming-qemu-host", "127.0.0.1")
                .expect("tunnel.incoming-port-offset", 0)
                .expect("tunnel.qemu-connect-timeout", Duration.ofSeconds(10))
                .expect("tunnel.handshake-timeout", Duration.ofSeconds(10))
                .expect("tunnel.reconnect-timeout", Duration.ofSeconds(30))
                .expect("tunnel.keepalive-interval", Duration.ofSeconds(1))
                .expect("tunnel.idle-timeout", Duration.ofSeconds(15))
                .expect("tunnel.max-sessions", 16)
                .expect("tunnel.max-pending-connections", 64)
                .expect("tunnel.spare-streams", 8)
                .expect("tunnel.spare-prime", DataSize.ofMiB(2))
                .expect("tunnel.spare-prime-min-rtt", Duration.ofMillis(200))
                .expect("tunnel.spare-linger", Duration.ofMinutes(10))
                .expect("tunnel.max-spare-connections", 64)
                .expect("tunnel.io-threads", 0)
                .expect("tunnel.codec-threads", 0)
                .expect("tunnel.tokenize-source", true)
                .verify();
        config.validate();
    }

    @Test
    void explicitMapping() {
        assertFullMapping(
                Map.ofEntries(
                        Map.entry("tunnel.listen", "10.0.0.1:7480"),
                        Map.entry("tunnel.qemu-listen-host", "127.0.0.2"),
                        Map.entry("tunnel.incoming-qemu-host", "localhost"),
                        Map.entry("tunnel.incoming-port-offset", "100"),
                        Map.entry("tunnel.qemu-connect-timeout", "20s"),
                        Map.entry("tunnel.handshake-timeout", "5s"),
                        Map.entry("tunnel.reconnect-timeout", "1m"),
                        Map.entry("tunnel.keepalive-interval", "250ms"),
                        Map.entry("tunnel.idle-timeout", "30s"),
                        Map.entry("tunnel.max-sessions", "4"),
                        Map.entry("tunnel.max-pending-connections", "8"),
                        Map.entry("tunnel.spare-streams", "2"),
                        Map.entry("tunnel.spare-prime", "1MiB"),
                        Map.entry("tunnel.spare-prime-min-rtt", "50ms"),
                        Map.entry("tunnel.spare-linger", "30s"),
                        Map.entry("tunnel.max-spare-connections", "16"),
                        Map.entry("tunnel.io-threads", "2"),
                        Map.entry("tunnel.codec-threads", "3"),
                        Map.entry("tunnel.tokenize-source", "false")),
                TunnelConfig.class,
                config -> {
                    assertEquals(new HostAndPort("10.0.0.1", 7480), config.getListen());
                    assertEquals("127.0.0.2", config.getQemuListenHost());
                    assertEquals("localhost", config.getIncomingQemuHost());
                    assertEquals(100, config.getIncomingPortOffset());
                    assertEquals(Duration.ofSeconds(20), config.getQemuConnectTimeout());
                    assertEquals(Duration.ofSeconds(5), config.getHandshakeTimeout());
                    assertEquals(Duration.ofMinutes(1), config.getReconnectTimeout());
                    assertEquals(Duration.ofMillis(250), config.getKeepaliveInterval());
                    assertEquals(Duration.ofSeconds(30), config.getIdleTimeout());
                    assertEquals(4, config.getMaxSessions());
                    assertEquals(8, config.getMaxPendingConnections());
                    assertEquals(2, config.getSpareStreams());
                    assertEquals(DataSize.ofMiB(1), config.getSparePrime());
                    assertEquals(Duration.ofMillis(50), config.getSparePrimeMinRtt());
                    assertEquals(Duration.ofSeconds(30), config.getSpareLinger());
                    assertEquals(16, config.getMaxSpareConnections());
                    assertEquals(2, config.getIoThreads());
                    assertEquals(3, config.getCodecThreads());
                    assertFalse(config.isTokenizeSource());
                    config.validate();
                });
    }

    @Test
    void invalidValuesNameTheKey() {
        assertEquals(
                "tunnel.qemu-listen-host=local host: expected an IP address or a host name",
                assertThrows(
                                ConfigurationException.class,
                                () -> new ConfigurationBinder(Map.of("tunnel.qemu-listen-host", "local host"))
                                        .bind(TunnelConfig.class))
                        .getMessage());
        assertEquals(
                "tunnel.max-sessions and tunnel.max-pending-connections must be >= 1, tunnel.io-threads and"
                        + " tunnel.codec-threads >= 0",
                assertThrows(
                                ConfigurationException.class,
                                () -> new TunnelConfig().setCodecThreads(-1).validate())
                        .getMessage());
        assertThrows(
                ConfigurationException.class,
                () -> new TunnelConfig().setMaxSessions(0).validate());
        assertEquals(
                "tunnel.spare-prime-min-rtt must not be negative: PT-0.001S",
                assertThrows(
                                ConfigurationException.class,
                                () -> new TunnelConfig()
                                        .setSparePrimeMinRtt(Duration.ofMillis(-1))
                                        .validate())
                        .getMessage());
    }
}
