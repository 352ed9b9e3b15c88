package io.dwcp.testbed.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dwcp.testbed.sys.TrackedProcess;
import io.dwcp.testbed.wan.LinkProfile;
import io.dwcp.testbed.wan.Scenario;
import io.dwcp.testbed.wan.WanStats;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The hosts as namespaces: how they are configured, and that nothing is left behind. */
@Timeout(value = 90)
class TwoHostNetworkIT {
    @BeforeAll
    static void requireRoot() {
        assumeTrue(
                TwoHostNetwork.whyUnavailable().isEmpty(),
                () -> "skipped: " + TwoHostNetwork.whyUnavailable().orElse("")
                        + " (these tests build network namespaces)");
        TwoHostNetwork.cleanupLeftovers();
    }

    @Test
    void hostsAreConfiguredLikeStockKvmHosts() throws Exception {
        try (TwoHostNetwork network = TwoHostNetwork.create("config", LinkProfile.direct(), LinkProfile.direct())) {
            assertFalse(network.isEmulated());
            assertEquals(WanStats.NOT_EMULATED, network.wanStats());
            for (Host host : List.of(network.hostA(), network.hostB())) {
                assertEquals(
                        "cubic",
                        host.run("sysctl", "-n", "net.ipv4.tcp_congestion_control")
                                .stdout()
                                .strip());
                assertEquals(
                        "4096 131072 6291456",
                        squeeze(host.run("sysctl", "-n", "net.ipv4.tcp_rmem").stdout()));
                assertEquals(
                        "4096 16384 4194304",
                        squeeze(host.run("sysctl", "-n", "net.ipv4.tcp_wmem").stdout()));
                String link = host.run("ip", "-o", "link", "show", "dev", Host.INTERFACE)
                        .stdout();
                assertTrue(link.contains("mtu 1500"), link);
                String address = host.run("ip", "-o", "-4", "addr", "show", "dev", Host.INTERFACE)
                        .stdout();
                assertTrue(address.contains(host.address() + "/"), address);
            }
            long before = network.bytesAtoB();
            long received;
            try (TcpBulkTransfer transfer = TcpBulkTransfer.start(network.hostA(), network.hostB(), 7010, 1)) {
                Thread.sleep(1000);
                received = transfer.receivedBytes();
            }
            long wire = network.bytesAtoB() - before;
            System.out.printf(
                    Locale.ROOT,
                    "S0 veth: %d payload bytes in 1 s, %d on A's wire (%.4f)%n",
                    received,
                    wire,
                    (double) wire / received);
            assertTrue(received > 10_000_000, "a plain veth carries more than 10 MB/s: " + received);
            // 1514 bytes a 1448-byte segment: A's counter counts every packet's headers (TSO off)
            assertTrue(wire >= received * 1514 / 1448, "wire bytes " + wire + " for " + received + " payload bytes");
            assertTrue(network.bytesBtoA() > 0);

            ProcessBuilder sleeper = new ProcessBuilder("sleep", "30");
            try (TrackedProcess tracked = network.hostB().startTracked(sleeper)) {
                Path netnsOfSleeper = Path.of("/proc", Long.toString(tracked.pid()), "ns", "net");
                assertEquals(
                        Files.readSymbolicLink(netnsOfSleeper),
                        Netns.call(
                                network.hostB().netns(),
                                () -> Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net"))),
                        "started inside B's namespace");
                String cmdline = Files.readString(Path.of("/proc", Long.toString(tracked.pid()), "cmdline"));
                assertEquals("sleep\0" + "30\0", cmdline, "the command line TrackedProcess recorded");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Scenario.class)
    void everyScenarioCarriesTcp(Scenario scenario) throws Exception {
        try (TwoHostNetwork network = TwoHostNetwork.create(
                        scenario.name().toLowerCase(Locale.ROOT).replace('_', '-'), scenario.aToB(), scenario.bToA());
                TcpBulkTransfer transfer = TcpBulkTransfer.start(network.hostA(), network.hostB(), 7011, 4)) {
            double goodput = transfer.measureGoodput(Duration.ofSeconds(2), Duration.ofSeconds(2));
            System.out.printf(
                    Locale.ROOT,
                    "%s: %.1f Mbit/s after 2 s (slow start at this RTT), emulator %s%n",
                    scenario,
                    goodput / 1e6,
                    network.wanStats());
            assertTrue(goodput > 0, "no TCP through " + scenario);
            if (scenario.needsTraces()) {
                // the emulator started with the bundled traces (it fails to start on a missing one)
                assertTrue(
                        Files.isRegularFile(scenario.aToB().rateTrace()),
                        scenario.aToB().rateTrace().toString());
                assertTrue(
                        Files.isRegularFile(scenario.bToA().rateTrace()),
                        scenario.bToA().rateTrace().toString());
            }
            if (scenario.rateBitsPerSecond() > 0 && !scenario.needsTraces()) {
                assertTrue(goodput <= scenario.rateBitsPerSecond() * 1.03, "above the rate: " + goodput);
            }
            assertEquals(scenario != Scenario.S0_LOCAL, network.isEmulated());
        }
    }

    @Test
    void closeLeavesNothingBehind() {
        TwoHostNetwork network =
                TwoHostNetwork.create("close", LinkProfile.delay(Duration.ofMillis(1)), LinkProfile.direct());
        List<String> namespaces = network.namespaces();
        long emulatorPid = network.emulatorPid().orElseThrow();
        assertEquals(3, namespaces.size());
        namespaces.forEach(name -> assertTrue(Netns.exists(name), name));
        assertTrue(ProcessHandle.of(emulatorPid).isPresent());
        network.close();
        network.close(); // idempotent
        assertNoneLeft(namespaces, emulatorPid);
        assertFalse(
                Files.exists(TrackedProcess.STATE_DIR.resolve("pids").resolve(Long.toString(emulatorPid))),
                "the emulator's pid file is removed");
    }

    @Test
    void failedCreateLeavesNothingBehind() {
        List<String> before = ours();
        Path missing = Path.of("/nonexistent/trace.down");
        IllegalStateException failure = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalStateException.class,
                () -> TwoHostNetwork.create(
                        "broken",
                        LinkProfile.delay(Duration.ofMillis(1))
                                .withRate(1_000_000)
                                .withRateTrace(missing),
                        LinkProfile.direct()));
        assertTrue(failure.getMessage().contains("trace"), failure.getMessage());
        assertEquals(before, ours());
    }

    @Test
    void leftoversOfACrashedOwnerAreCleanedUp() throws Exception {
        List<String> command = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"),
                "-cp",
                System.getProperty("java.class.path"),
                NetworkOwnerMain.class.getName());
        Process owner = new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        String line;
        try (BufferedReader out =
                new BufferedReader(new InputStreamReader(owner.getInputStream(), StandardCharsets.UTF_8))) {
            line = out.readLine();
            assertNotNull(line, "the owner printed nothing");
            assertTrue(line.startsWith("UP "), line);
            owner.destroyForcibly(); // SIGKILL: no close(), no shutdown hook
            assertTrue(owner.waitFor(10, TimeUnit.SECONDS));
        } finally {
            owner.destroyForcibly();
        }
        List<String> fields = new ArrayList<>(Arrays.asList(line.split(" ")));
        long emulatorPid = Long.parseLong(fields.get(1));
        List<String> namespaces = fields.subList(2, fields.size());
        assertEquals(3, namespaces.size());
        namespaces.forEach(name -> assertTrue(Netns.exists(name), "left behind by the crash: " + name));

        int removed = TwoHostNetwork.cleanupLeftovers();

        assertTrue(removed >= 3, "removed " + removed);
        assertNoneLeft(namespaces, emulatorPid);
        try (var logs = Files.newDirectoryStream(
                Path.of(System.getProperty("java.io.tmpdir")), "dwcp-wan-" + owner.pid() + "-*")) {
            assertFalse(logs.iterator().hasNext(), "the crashed owner's emulator log is removed");
        }
    }

    private static void assertNoneLeft(List<String> namespaces, long emulatorPid) {
        namespaces.forEach(name -> assertFalse(Netns.exists(name), "namespace left behind: " + name));
        assertFalse(Netns.list().stream().anyMatch(namespaces::contains));
        // the emulator ends when its stdin closes (owner gone) or when stopped; allow it a moment
        ProcessHandle.of(emulatorPid)
                .ifPresent(handle -> handle.onExit()
                        .orTimeout(10, TimeUnit.SECONDS)
                        .exceptionally(t -> handle)
                        .join());
        assertFalse(
                ProcessHandle.of(emulatorPid).map(ProcessHandle::isAlive).orElse(false),
                "emulator " + emulatorPid + " still running");
    }

    private static List<String> ours() {
        String prefix = TwoHostNetwork.PREFIX + ProcessHandle.current().pid() + "-";
        return Netns.list().stream()
                .filter(name -> name.startsWith(prefix))
                .sorted()
                .toList();
    }

    private static String squeeze(String text) {
        return text.strip().replaceAll("\\s+", " ");
    }
}
