package io.dwcp.node;

import static io.dwcp.config.ConfigAssertions.assertFullMapping;
import static io.dwcp.config.ConfigAssertions.expectedDefaults;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dwcp.config.ConfigurationException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NodeConfigTest {
    @Test
    void defaults() {
        NodeConfig config = expectedDefaults(NodeConfig.class)
                .expect("node.name", null)
                .expect("node.run-dir", Path.of("/run/dwcp"))
                .expect("node.state-dir", Path.of("/var/lib/dwcp"))
                .expect("node.socket-group", "kvm")
                .expect("node.socket-mode", "0660")
                .verify();
        assertEquals(Path.of("/run/dwcp/peer/hostB.sock"), config.peerSocket("hostB"));
        assertEquals(
                "rw-rw----",
                PosixFilePermissions.toString(config.peerSocketPermissions().mode()));
        assertEquals("kvm", config.peerSocketPermissions().group());
        assertEquals(
                "node.name is required",
                assertThrows(ConfigurationException.class, config::validate).getMessage());
    }

    @Test
    void explicitMapping() {
        assertFullMapping(
                Map.of(
                        "node.name", "hostA",
                        "node.run-dir", "/tmp/a/run",
                        "node.state-dir", "/srv/dwcp/state",
                        "node.socket-group", "libvirt-qemu",
                        "node.socket-mode", "0666"),
                NodeConfig.class,
                config -> {
                    assertEquals("hostA", config.getName());
                    assertEquals(Path.of("/tmp/a/run"), config.getRunDirectory());
                    assertEquals(Path.of("/tmp/a/run/peer/hostB.sock"), config.peerSocket("hostB"));
                    assertEquals(Path.of("/srv/dwcp/state"), config.getStateDirectory());
                    assertEquals("libvirt-qemu", config.getSocketGroup());
                    assertEquals("0666", config.getSocketMode());
                    assertEquals(
                            "rw-rw-rw-",
                            PosixFilePermissions.toString(
                                    config.peerSocketPermissions().mode()));
                    assertEquals("libvirt-qemu", config.peerSocketPermissions().group());
                    config.validate();
                });
        // empty: dwcpd's own group
        assertFullMapping(
                Map.of(
                        "node.name", "hostA",
                        "node.run-dir", "/tmp/a/run",
                        "node.state-dir", "/srv/dwcp/state",
                        "node.socket-group", "",
                        "node.socket-mode", "0600"),
                NodeConfig.class,
                config -> assertEquals("", config.getSocketGroup()));
    }
}
