package io.dwcp.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.amst.AmstConfig;
import io.dwcp.cli.CliConfig;
import io.dwcp.daemon.DaemonConfiguration;
import io.dwcp.node.NodeConfig;
import io.dwcp.session.PeersConfig;
import io.dwcp.session.TunnelConfig;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class ConfigurationTest {
    /**
     * Every configuration class has a test class of its own name, in its package, with a test of
     * its defaults and one of its explicit mapping ({@link ConfigAssertions}).
     */
    @Test
    void everyConfigClassHasItsOwnTest() {
        List<Class<?>> classes = new ArrayList<>(DaemonConfiguration.CONFIG_CLASSES);
        classes.add(PeersConfig.class);
        classes.add(CliConfig.class);
        List<String> missing = new ArrayList<>();
        for (Class<?> type : classes) {
            try {
                Class<?> test = Class.forName(type.getName() + "Test");
                for (String method : List.of("defaults", "explicitMapping")) {
                    try {
                        test.getDeclaredMethod(method);
                    } catch (NoSuchMethodException e) {
                        missing.add(test.getName() + "." + method);
                    }
                }
            } catch (ClassNotFoundException e) {
                missing.add(type.getName() + "Test");
            }
        }
        assertEquals(List.of(), missing);
    }

    /** Every key dwcpd reads has a row in the configuration tables of plugin/README.md. */
    @Test
    void everyKeyIsInTheReadme() throws IOException, URISyntaxException {
        // target/test-classes -> the module's directory
        Path module = Path.of(ConfigurationTest.class
                        .getProtectionDomain()
                        .getCodeSource()
                        .getLocation()
                        .toURI())
                .getParent()
                .getParent();
        List<String> rows = Files.readAllLines(module.resolve("README.md")).stream()
                .filter(line -> line.startsWith("| `"))
                .map(line -> line.substring(0, line.indexOf('|', 1)))
                .toList();
        List<String> missing = new ArrayList<>();
        for (Class<?> type : DaemonConfiguration.CONFIG_CLASSES) {
            for (String key : ConfigAssertions.keys(type)) {
                if (rows.stream().noneMatch(row -> row.contains("`" + key + "`"))) {
                    missing.add(key);
                }
            }
        }
        assertEquals(List.of(), missing);
    }

    /** dwcpd binds every class from one binder: each class takes its keys, the peers their prefix. */
    @Test
    void severalClassesShareOneBinder() {
        ConfigurationBinder binder = new ConfigurationBinder(Map.ofEntries(
                Map.entry("amst.window", "8MiB"),
                Map.entry("amst.max-frame-payload", "64KiB"),
                Map.entry("amst.checkpoint-interval", "1MiB"),
                Map.entry("node.name", "hostA"),
                Map.entry("node.run-dir", "/tmp/a/run"),
                Map.entry("peer.hostB.address", "10.0.0.2:7470"),
                Map.entry("peer.hostB.qemu-port", "4444"),
                Map.entry("tunnel.codec-threads", "3")));
        AmstConfig amst = binder.bind(AmstConfig.class);
        TunnelConfig tunnel = binder.bind(TunnelConfig.class);
        NodeConfig node = binder.bind(NodeConfig.class);
        PeersConfig peers = PeersConfig.fromProperties(binder.claimPrefix("peer."));
        binder.checkAllUsed();
        assertEquals(8L << 20, amst.getWindow().bytes());
        assertEquals("hostA", node.getName());
        assertEquals(Path.of("/tmp/a/run/peer/hostB.sock"), node.peerSocket("hostB"));
        assertEquals(OptionalInt.of(4444), peers.get("hostB").orElseThrow().qemuPort());
        assertFalse(peers.get("hostC").isPresent());
        assertEquals(3, tunnel.getCodecThreads());
        amst.validate();
    }

    @Test
    void errorsNameTheKey() {
        ConfigurationException unknown = assertThrows(ConfigurationException.class, () -> {
            ConfigurationBinder binder = new ConfigurationBinder(Map.of("amst.windw", "1MiB"));
            binder.bind(AmstConfig.class);
            binder.checkAllUsed();
        });
        assertEquals("unknown configuration keys: [amst.windw] (see dwcpd --help-config)", unknown.getMessage());

        ConfigurationException badSize = assertThrows(
                ConfigurationException.class,
                () -> new ConfigurationBinder(Map.of("amst.window", "lots")).bind(AmstConfig.class));
        assertEquals("amst.window=lots: expected a size such as 64MiB, 512KiB or 4096B", badSize.getMessage());

        ConfigurationException badName = assertThrows(
                ConfigurationException.class,
                () -> new ConfigurationBinder(Map.of("node.name", "a/b")).bind(NodeConfig.class));
        assertEquals(
                "node.name=a/b: expected 1-63 characters of [A-Za-z0-9._-], starting with a letter or digit",
                badName.getMessage());

        ConfigurationException relative = assertThrows(
                ConfigurationException.class,
                () -> new ConfigurationBinder(Map.of("node.run-dir", "run/dwcp")).bind(NodeConfig.class));
        assertEquals("node.run-dir=run/dwcp: expected an absolute path", relative.getMessage());

        ConfigurationException twoLines = assertThrows(
                ConfigurationException.class,
                () -> new ConfigurationBinder(Map.of("amst.initial-streams", "4\n5")).bind(AmstConfig.class));
        assertEquals("amst.initial-streams=4?5: expected an integer", twoLines.getMessage());

        ConfigurationException checkpoint = assertThrows(
                ConfigurationException.class,
                () -> new AmstConfig().setWindow(DataSize.ofMiB(8)).validate());
        assertTrue(
                checkpoint.getMessage().startsWith("amst.checkpoint-interval must be between 1B and amst.window / 4"),
                checkpoint.getMessage());

        ConfigurationException peer = assertThrows(
                ConfigurationException.class, () -> PeersConfig.fromProperties(Map.of("hostB.qemu-port", "4444")));
        assertEquals("peer.hostB.address is required", peer.getMessage());
    }

    @Test
    void sizesAndDurations() {
        assertEquals(4096, DataSize.valueOf("4096").bytes());
        assertEquals(4096, DataSize.valueOf("4KiB").bytes());
        assertEquals(3L << 30, DataSize.valueOf("3GB").bytes());
        assertEquals("64MiB", DataSize.ofMiB(64).toString());
        assertEquals(Duration.ofMillis(1500), ConfigurationBinder.parseDuration("1.5s"));
        assertEquals(Duration.ofMinutes(2), ConfigurationBinder.parseDuration("2m"));
        assertEquals(new HostAndPort("::1", 80), HostAndPort.valueOf("[::1]:80"));
    }
}
