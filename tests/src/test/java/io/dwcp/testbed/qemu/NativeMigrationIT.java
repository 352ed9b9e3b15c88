package io.dwcp.testbed.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dwcp.testbed.guest.GuestImage;
import io.dwcp.testbed.guest.WorkloadSpec;
import io.dwcp.testbed.net.TwoHostNetwork;
import io.dwcp.testbed.sys.TrackedProcess;
import io.dwcp.testbed.wan.LinkProfile;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A real guest migrated with QEMU's own modes across an emulated WAN link, on both QEMU versions,
 * and verified intact by its own workload; and a migration whose destination dies mid-way leaves
 * the source running and intact.
 */
class NativeMigrationIT {
    private static final int GUEST_RAM_MIB = 256;
    private static final WorkloadSpec WORKLOAD = new WorkloadSpec(128, 2000, 10, 42);

    private static TwoHostNetwork network;
    private static GuestImage image;

    @BeforeAll
    static void setUp() {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root: network namespaces and QEMU");
        TwoHostNetwork.cleanupLeftovers();
        TrackedProcess.cleanupLeftovers();
        image = GuestImage.build();
        // 20 ms RTT, 400 Mbit/s, a little loss: a WAN, small enough to keep the test short.
        LinkProfile link = LinkProfile.direct()
                .withDelay(Duration.ofMillis(10))
                .withRate(400_000_000L)
                .withLoss(0.0001);
        network = TwoHostNetwork.create("nativeit", link, link);
    }

    @AfterAll
    static void tearDown() {
        if (network != null) {
            network.close();
        }
    }

    static Stream<Arguments> versionsAndModes() {
        return Stream.of(
                Arguments.of(QemuBinary.QEMU_7_2, NativeMode.PRECOPY),
                Arguments.of(QemuBinary.QEMU_7_2, NativeMode.MULTIFD),
                Arguments.of(QemuBinary.QEMU_10, NativeMode.PRECOPY),
                Arguments.of(QemuBinary.QEMU_10, NativeMode.MULTIFD_ZSTD));
    }

    @ParameterizedTest(name = "QEMU {0} {1}")
    @MethodSource("versionsAndModes")
    void migratesAGuestIntact(QemuBinary qemu, NativeMode mode) throws Exception {
        try (GuestPair pair = startPair(qemu)) {
            pair.configure(mode);
            MigrationResult result = pair.migrateDirect(Duration.ofMinutes(4));

            assertEquals(MigrationResult.COMPLETED, result.status(), result.detail());
            assertTrue(result.guestIntact(), "destination guest: " + result.detail());
            assertEquals("running", pair.destination().runState());
            assertEquals("postmigrate", pair.source().runState());
            long pageBytes = result.pagesNormal() * 4096;
            if (mode == NativeMode.MULTIFD_ZSTD) {
                // QEMU counts pages before compression: on the wire, zstd must have shrunk them.
                assertTrue(
                        result.wireBytes() < pageBytes,
                        "zstd did not shrink the stream: wire " + result.wireBytes() + " >= " + pageBytes
                                + " bytes of pages");
            } else {
                // Every page QEMU says it sent in full crossed the network: the harness's count must cover it.
                assertTrue(
                        result.wireBytes() >= pageBytes,
                        "wire bytes " + result.wireBytes() + " < " + result.pagesNormal() + " pages");
            }
            assertTrue(
                    result.pagesNormal() > (WORKLOAD.memoryMiB() << 8) / 2,
                    "too few pages sent for a " + WORKLOAD.memoryMiB() + " MiB workload: " + result.pagesNormal());
            assertTrue(
                    result.totalMs() > 0 && result.downtimeMs() >= 0 && result.downtimeMs() <= result.totalMs(),
                    "times: total " + result.totalMs() + " ms, downtime " + result.downtimeMs() + " ms");
        }
    }

    @ParameterizedTest(name = "QEMU {0}")
    @MethodSource("versions")
    void destinationDyingMidMigrationLeavesTheSourceRunningAndIntact(QemuBinary qemu) throws Exception {
        try (GuestPair pair = startPair(qemu)) {
            pair.configure(NativeMode.PRECOPY);
            Thread killer = new Thread(() -> {
                try {
                    // Wait until the stream is flowing, then kill the destination QEMU.
                    long start = network.bytesAtoB();
                    while (network.bytesAtoB() - start < (8L << 20)) {
                        Thread.sleep(20);
                    }
                    ProcessHandle.of(pair.destination().pid()).ifPresent(ProcessHandle::destroyForcibly);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            killer.start();
            MigrationResult result = pair.migrateDirect(Duration.ofMinutes(4));
            killer.join(60_000);

            assertEquals(MigrationResult.FAILED, result.status(), result.detail());
            assertTrue(result.guestIntact(), "source guest after the failed migration: " + result.detail());
            assertEquals("running", pair.source().runState());
        }
    }

    static Stream<QemuBinary> versions() {
        return Stream.of(QemuBinary.values());
    }

    private static GuestPair startPair(QemuBinary qemu) {
        return GuestPair.start(
                network, image, qemu, WORKLOAD, GUEST_RAM_MIB, TrackedProcess.STATE_DIR.resolve("vms-it"));
    }
}
