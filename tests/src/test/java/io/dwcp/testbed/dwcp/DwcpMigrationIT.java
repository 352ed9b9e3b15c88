package io.dwcp.testbed.dwcp;

import io.dwcp.testbed.guest.GuestImage;
import io.dwcp.testbed.guest.WorkloadSpec;
import io.dwcp.testbed.net.TwoHostNetwork;
import io.dwcp.testbed.qemu.GuestPair;
import io.dwcp.testbed.qemu.MigrationResult;
import io.dwcp.testbed.qemu.NativeMode;
import io.dwcp.testbed.qemu.QemuBinary;
import io.dwcp.testbed.sys.Folders;
import io.dwcp.testbed.sys.TrackedProcess;
import io.dwcp.testbed.wan.Scenario;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Real guests migrated through two real dwcpd across the emulated WAN scenarios S1–S3, with
 * QEMU's precopy and multifd, on QEMU 7.2 and 10: the guest is intact at the destination, the
 * tunnel carried the stream (its metrics say so) and what crossed the wire was the tunnel's
 * traffic, not QEMU's.
 */
class DwcpMigrationIT {
    private static final int GUEST_RAM_MIB = 256;
    private static final WorkloadSpec WORKLOAD = new WorkloadSpec(128, 2000, 10, 42);
    private static final Path DIR = TrackedProcess.STATE_DIR.resolve("dwcp-it-" + ProcessHandle.current().pid());

    private static GuestImage image;
    private static final Map<Scenario, TwoHostNetwork> networks = new EnumMap<>(Scenario.class);
    private static final Map<Scenario, DwcpLink> links = new EnumMap<>(Scenario.class);

    @BeforeAll
    static void setUp() {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root: network namespaces and QEMU");
        TwoHostNetwork.cleanupLeftovers();
        TrackedProcess.cleanupLeftovers();
        image = GuestImage.build();
    }

    @AfterAll
    static void tearDown() {
        links.values().forEach(DwcpLink::close);
        networks.values().forEach(TwoHostNetwork::close);
        links.clear();
        networks.clear();
        Folders.deleteTree(DIR);
    }

    /** One network and one pair of daemons per scenario, made when first needed and kept for the class. */
    private static DwcpLink link(Scenario scenario) {
        for (Scenario other : Scenario.values()) {
            if (other != scenario && networks.containsKey(other)) {
                // one emulated WAN at a time: the machine's two cores are the emulator's too
                links.remove(other).close();
                networks.remove(other).close();
            }
        }
        return links.computeIfAbsent(scenario, s -> {
            TwoHostNetwork network = TwoHostNetwork.create("dwcpit-" + s.ordinal(), s.aToB(), s.bToA());
            networks.put(s, network);
            return DwcpLink.start(network, DIR.resolve("s" + s.ordinal()), Map.of());
        });
    }

    static Stream<Arguments> migrations() {
        return Stream.of(
                Arguments.of(Scenario.S1_CONTINENTAL, QemuBinary.QEMU_10, NativeMode.PRECOPY),
                Arguments.of(Scenario.S1_CONTINENTAL, QemuBinary.QEMU_7_2, NativeMode.MULTIFD),
                Arguments.of(Scenario.S2_TRANSATLANTIC, QemuBinary.QEMU_10, NativeMode.PRECOPY),
                Arguments.of(Scenario.S2_TRANSATLANTIC, QemuBinary.QEMU_10, NativeMode.MULTIFD),
                Arguments.of(Scenario.S2_TRANSATLANTIC, QemuBinary.QEMU_7_2, NativeMode.PRECOPY),
                Arguments.of(Scenario.S2_TRANSATLANTIC, QemuBinary.QEMU_7_2, NativeMode.MULTIFD),
                Arguments.of(Scenario.S3_INTERCONTINENTAL, QemuBinary.QEMU_7_2, NativeMode.PRECOPY),
                Arguments.of(Scenario.S3_INTERCONTINENTAL, QemuBinary.QEMU_10, NativeMode.MULTIFD));
    }

    @ParameterizedTest(name = "{0} QEMU {1} {2}")
    @MethodSource("migrations")
    void migratesAGuestIntactThroughTheTunnel(Scenario scenario, QemuBinary qemu, NativeMode mode) {
        DwcpLink link = link(scenario);
        TwoHostNetwork network = networks.get(scenario);
        double sessionsBefore = link.destination().metric("dwcp_sessions_completed_total", "").orElse(0);
        double qemuBytesBefore = link.destination().metric("dwcp_qemu_bytes_written_total", "").orElse(0);
        try (GuestPair pair = GuestPair.start(network, image, qemu, WORKLOAD, GUEST_RAM_MIB, DIR.resolve("vms"))) {
            pair.configure(mode);
            MigrationResult result = pair.migrate(link.destinationUri(), link.sourceUri(), Duration.ofMinutes(5), null);

            assertEquals(MigrationResult.COMPLETED, result.status(), result.detail() + "\n" + link.logs());
            assertTrue(result.guestIntact(), "destination guest: " + result.detail());
            assertEquals("running", pair.destination().runState());
            assertEquals("postmigrate", pair.source().runState());
            // Every page QEMU sent went through dwcpd B into the destination QEMU, and across the
            // wire: the pass-through tunnel sends at least the pages' bytes.
            long pageBytes = result.pagesNormal() * 4096;
            double delivered = link.destination().metric("dwcp_qemu_bytes_written_total", "").orElse(0) - qemuBytesBefore;
            assertTrue(delivered >= pageBytes, "dwcpd b delivered " + delivered + " bytes < " + pageBytes + " bytes of pages");
            assertTrue(result.wireBytes() >= pageBytes, "wire " + result.wireBytes() + " < " + pageBytes);
            awaitMetric(link.destination(), "dwcp_sessions_completed_total", sessionsBefore + 1);
        }
    }

    static void awaitMetric(Dwcpd daemon, String metric, double atLeast) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        double value;
        while ((value = daemon.metric(metric, "").orElse(0)) < atLeast) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(daemon + ": " + metric + " = " + value + ", expected at least " + atLeast
                        + "\n" + daemon.log());
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }
    }
}
