package io.dwcp.control;

import static io.dwcp.config.ConfigAssertions.assertFullMapping;
import static io.dwcp.config.ConfigAssertions.expectedDefaults;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dwcp.config.ConfigurationBinder;
import io.dwcp.config.ConfigurationException;
import io.dwcp.config.DataSize;
import io.dwcp.node.NodeConfig;
import io.dwcp.node.SocketPermissions;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The control socket's and the peer sockets' configuration: defaults, mapping, refusals. */
class ControlConfigTest {
    @Test
    void defaults() {
        ControlConfig control = expectedDefaults(ControlConfig.class)
                .expect("control.enabled", true)
                // unset: <node.run-dir>/control.sock
                .expect("control.socket", null)
                .expect("control.socket-mode", "0660")
                .expect("control.socket-group", "")
                .expect("control.max-request-size", DataSize.ofKiB(16))
                .expect("control.request-timeout", Duration.ofSeconds(5))
                .expect("control.max-connections", 32)
                .expect("control.expectation-timeout", Duration.ofMinutes(30))
                .expect("control.max-records", 1024)
                .verify();
        assertEquals(Path.of("/run/dwcp/control.sock"), control.socketIn(Path.of("/run/dwcp")));
        assertEquals(
                "rw-rw----",
                PosixFilePermissions.toString(control.socketPermissions().mode()));
        assertEquals("", control.socketPermissions().group());
        control.validate();
    }

    @Test
    void explicitMapping() {
        assertFullMapping(
                Map.of(
                        "control.socket", "/run/dwcp-a/ctl.sock",
                        "control.socket-mode", "0600",
                        "control.socket-group", "adm",
                        "control.max-request-size", "8KiB",
                        "control.request-timeout", "2s",
                        "control.max-connections", "8",
                        "control.expectation-timeout", "10m",
                        "control.max-records", "64",
                        "control.enabled", "false"),
                ControlConfig.class,
                control -> {
                    assertEquals(false, control.isEnabled());
                    assertEquals(Path.of("/run/dwcp-a/ctl.sock"), control.getSocket());
                    assertEquals(Path.of("/run/dwcp-a/ctl.sock"), control.socketIn(Path.of("/run/dwcp")));
                    assertEquals("0600", control.getSocketMode());
                    assertEquals(
                            "rw-------",
                            PosixFilePermissions.toString(
                                    control.socketPermissions().mode()));
                    assertEquals("adm", control.getSocketGroup());
                    assertEquals("adm", control.socketPermissions().group());
                    assertEquals(DataSize.ofKiB(8), control.getMaxRequestSize());
                    assertEquals(Duration.ofSeconds(2), control.getRequestTimeout());
                    assertEquals(8, control.getMaxConnections());
                    assertEquals(Duration.ofMinutes(10), control.getExpectationTimeout());
                    assertEquals(64, control.getMaxRecords());
                    control.validate();
                });
    }

    @Test
    void refusals() {
        assertRefused(
                "node.socket-mode=0668: expected an octal file mode such as 0660 (no setuid, setgid or sticky bits)",
                Map.of("node.socket-mode", "0668"),
                NodeConfig.class);
        assertRefused(
                "node.socket-mode=4770: expected an octal file mode such as 0660 (no setuid, setgid or sticky bits)",
                Map.of("node.socket-mode", "4770"),
                NodeConfig.class);
        assertRefused(
                "control.socket-mode=0460: the mode must let the owner (dwcpd) write",
                Map.of("control.socket-mode", "0460"),
                ControlConfig.class);
        assertRefused(
                "node.socket-group=kvm users: expected a group name, or empty for dwcpd's own group",
                Map.of("node.socket-group", "kvm users"),
                NodeConfig.class);
        ControlConfig tooBig = new ControlConfig().setMaxRequestSize(DataSize.ofMiB(2));
        assertEquals(
                "control.max-request-size must be 1KiB to 1MiB: 2MiB",
                assertThrows(ConfigurationException.class, tooBig::validate).getMessage());
    }

    @Test
    void modes() {
        assertEquals("rw-rw-rw-", PosixFilePermissions.toString(SocketPermissions.parseMode("666", "k")));
        assertEquals("rw-rw----", PosixFilePermissions.toString(SocketPermissions.parseMode("0660", "k")));
    }

    private static void assertRefused(String message, Map<String, String> properties, Class<?> type) {
        assertEquals(
                message,
                assertThrows(ConfigurationException.class, () -> new ConfigurationBinder(properties).bind(type))
                        .getMessage());
    }
}
