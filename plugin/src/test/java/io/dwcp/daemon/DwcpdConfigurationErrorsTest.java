package io.dwcp.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.dwcp.config.Config;
import io.dwcp.config.ConfigurationException;
import io.dwcp.config.DataSize;
import io.dwcp.config.HostAndPort;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Every configuration key dwcpd reads, given a malformed value on the command line or in the
 * file: one line on stderr naming the key and the value, exit status 2, no stack trace.
 */
class DwcpdConfigurationErrorsTest {
    /** Malformed values of the keys a type alone does not constrain (strings); every such key needs one. */
    private static final Map<String, String> MALFORMED_STRINGS = Map.ofEntries(
            Map.entry("node.name", "-hostA"),
            Map.entry("node.socket-group", "kvm users"),
            Map.entry("node.socket-mode", "banana"),
            Map.entry("tunnel.qemu-listen-host", "local host"),
            Map.entry("tunnel.incoming-qemu-host", "local host"),
            Map.entry("amst.congestion-control", "BBR v2"),
            Map.entry("control.socket-mode", "banana"),
            Map.entry("control.socket-group", "kvm users"),
            Map.entry("codec.mode", "banana"),
            Map.entry("hde.tier", "banana"),
            Map.entry("hde.tier1-pages", "banana"),
            Map.entry("hde.baseline-record", "banana"),
            Map.entry("hde.cache-budget", "banana"),
            Map.entry("tls.provider", "gnutls"),
            Map.entry("region.name", "-east"),
            Map.entry("region.zookeeper.connect", "zk1 zk2"),
            Map.entry("region.zookeeper.root", "dwcp/"));

    /** What every run has besides the bad key, so that the bad key is the only error. */
    private static final Map<String, String> VALID = Map.of("node.name", "hostA");

    @Test
    void everyKeyRefusesAMalformedValueInOneLine() {
        Map<String, String> cases = malformedValueOfEveryKey();
        assertTrue(cases.size() > 60, "keys found: " + cases.keySet());
        for (Map.Entry<String, String> bad : cases.entrySet()) {
            String key = bad.getKey();
            String value = bad.getValue();
            Map<String, String> properties = new HashMap<>(VALID);
            properties.put(key, value);
            // the configuration itself refuses it, so the command below never starts a daemon
            ConfigurationException refused = assertThrows(
                    ConfigurationException.class,
                    () -> DaemonConfiguration.bind(properties),
                    key + "=" + value + " was accepted");
            assertTrue(
                    refused.getMessage().contains(key) && refused.getMessage().contains(value), refused.getMessage());

            Result result = run("--config", "/dev/null", "--set", "node.name=hostA", "--set", key + "=" + value);
            assertEquals(2, result.exitCode(), key + ": " + result);
            assertEquals(
                    List.of("dwcpd: " + refused.getMessage()),
                    result.stderr().lines().toList(),
                    key);
            assertEquals("", result.stdout(), key);
        }
    }

    @Test
    void typedKeysNameTheRule() {
        assertEquals(
                List.of("dwcpd: amst.window=banana: expected a size such as 64MiB, 512KiB or 4096B"),
                run("--config", "/dev/null", "--set", "node.name=hostA", "--set", "amst.window=banana")
                        .stderr()
                        .lines()
                        .toList());
        assertEquals(
                List.of("dwcpd: tunnel.handshake-timeout=10: expected a duration such as 500ms, 10s or 5m"),
                run("--config", "/dev/null", "--set", "node.name=hostA", "--set", "tunnel.handshake-timeout=10")
                        .stderr()
                        .lines()
                        .toList());
        assertEquals(
                List.of("dwcpd: metrics.enabled=yes: expected true or false"),
                run("--config", "/dev/null", "--set", "node.name=hostA", "--set", "metrics.enabled=yes")
                        .stderr()
                        .lines()
                        .toList());
        assertEquals(
                List.of("dwcpd: peer.hostB.qemu-port=banana: expected a TCP port, 1 to 65535"),
                run(
                                "--config",
                                "/dev/null",
                                "--set",
                                "node.name=hostA",
                                "--set",
                                "peer.hostB.address=10.0.0.2:7470",
                                "--set",
                                "peer.hostB.qemu-port=banana")
                        .stderr()
                        .lines()
                        .toList());
    }

    /** Well-formed values out of range, refused when the region is validated: one line too. */
    @Test
    void outOfRangeRegionValuesAreOneLine() {
        Map<String, String> cases = Map.of(
                "region.migration-records-max=-1",
                "dwcpd: region.migration-records-max must not be negative: -1",
                "region.migration-retention=30s",
                "dwcpd: region.migration-retention must be at least 1m (the records are pruned once a minute): 30000ms",
                "region.capacity=-2",
                "dwcpd: region.capacity must not be negative: -2");
        for (Map.Entry<String, String> bad : cases.entrySet()) {
            Result result = run(
                    "--config",
                    "/dev/null",
                    "--set",
                    "node.name=hostA",
                    "--set",
                    "region.name=eu-west",
                    "--set",
                    "region.zookeeper.embedded=true",
                    "--set",
                    bad.getKey());
            assertEquals(2, result.exitCode(), bad.getKey() + ": " + result);
            assertEquals(List.of(bad.getValue()), result.stderr().lines().toList(), bad.getKey());
            assertEquals("", result.stdout(), bad.getKey());
        }
    }

    @Test
    void aBadFileIsOneLineToo(@TempDir Path directory) throws IOException {
        Path file =
                Files.writeString(directory.resolve("dwcpd.properties"), "node.name = hostA\namst.window = banana\n");
        Result result = run("--config", file.toString());
        assertEquals(2, result.exitCode());
        assertEquals(
                List.of("dwcpd: amst.window=banana: expected a size such as 64MiB, 512KiB or 4096B"),
                result.stderr().lines().toList());

        Files.writeString(file, "node.name = hostA\namst.windw = 8MiB\n");
        result = run("--config", file.toString());
        assertEquals(2, result.exitCode());
        assertEquals(
                List.of("dwcpd: unknown configuration keys: [amst.windw] (see dwcpd --help-config)"),
                result.stderr().lines().toList());

        Files.writeString(file, "node.name = hostA\npeer.hostB.adress = 10.0.0.2:7470\n");
        result = run("--config", file.toString());
        assertEquals(2, result.exitCode());
        assertEquals(
                List.of("dwcpd: unknown peer key peer.hostB.adress (peer.<name>.address, peer.<name>.qemu-port)"),
                result.stderr().lines().toList());

        result = run("--config", file.toString(), "--set", "banana");
        assertEquals(2, result.exitCode());
        assertEquals(
                List.of("dwcpd: --set expects key=value: banana"),
                result.stderr().lines().toList());
    }

    @Test
    void theHelpListsEveryKeyTheTestCovers() {
        Result help = run("--help-config");
        assertEquals(0, help.exitCode());
        for (String key : malformedValueOfEveryKey().keySet()) {
            String listed = key.startsWith(DaemonConfiguration.PEER_PREFIX) ? key.replace("hostB", "<name>") : key;
            assertTrue(help.stdout().contains("  " + listed + " "), listed);
        }
    }

    /** The real launcher's JVM: nothing but the one line reaches stderr (no logging, no stack trace). */
    @Test
    void aRealProcessPrintsOneLine() throws IOException, InterruptedException {
        Process process = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-cp",
                        System.getProperty("java.class.path"),
                        DwcpdCommand.class.getName(),
                        "--config",
                        "/dev/null",
                        "--set",
                        "amst.window=banana")
                .start();
        process.getOutputStream().close();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "dwcpd did not exit");
        String stderr = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        String stdout = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(2, process.exitValue(), stderr);
        assertEquals("dwcpd: amst.window=banana: expected a size such as 64MiB, 512KiB or 4096B\n", stderr);
        assertEquals("", stdout);
    }

    /** Every key of {@link DaemonConfiguration#CONFIG_CLASSES} and the peer keys, each with a value it must refuse. */
    private static Map<String, String> malformedValueOfEveryKey() {
        Map<String, String> cases = new TreeMap<>();
        List<String> missing = new ArrayList<>();
        for (Class<?> type : DaemonConfiguration.CONFIG_CLASSES) {
            for (Method method : type.getMethods()) {
                Config config = method.getAnnotation(Config.class);
                if (config == null) {
                    continue;
                }
                Class<?> parameter = method.getParameterTypes()[0];
                String value;
                if (parameter == String.class) {
                    value = MALFORMED_STRINGS.get(config.value());
                    if (value == null) {
                        missing.add(config.value());
                        continue;
                    }
                } else if (parameter == Path.class) {
                    value = "relative/path";
                } else if (parameter == int.class
                        || parameter == long.class
                        || parameter == boolean.class
                        || parameter == Duration.class
                        || parameter == DataSize.class
                        || parameter == HostAndPort.class) {
                    value = "banana";
                } else {
                    throw new AssertionError("no malformed value for the type of " + config.value() + ": " + parameter);
                }
                cases.put(config.value(), value);
            }
        }
        if (!missing.isEmpty()) {
            fail("string keys without a malformed value in MALFORMED_STRINGS: " + missing);
        }
        cases.put("peer.hostB.address", "banana");
        cases.put("peer.hostB.qemu-port", "banana");
        return cases;
    }

    private static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine commandLine = DwcpdCommand.commandLine();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        int exitCode = commandLine.execute(args);
        return new Result(exitCode, out.toString(), err.toString());
    }

    private record Result(int exitCode, String stdout, String stderr) {}
}
