package io.dwcp.testbed.dwcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dwcp.testbed.guest.GuestImage;
import io.dwcp.testbed.guest.WorkloadSpec;
import io.dwcp.testbed.net.TwoHostNetwork;
import io.dwcp.testbed.qemu.GuestPair;
import io.dwcp.testbed.qemu.MigrationResult;
import io.dwcp.testbed.qemu.NativeMode;
import io.dwcp.testbed.qemu.QemuBinary;
import io.dwcp.testbed.sys.Folders;
import io.dwcp.testbed.sys.TrackedProcess;
import io.dwcp.testbed.wan.LinkProfile;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Faults while a real guest migrates through two dwcpd across an emulated WAN: a tunnel stream
 * killed, the WAN cut for 10 s, the destination daemon killed, a segment corrupted below TCP, a
 * peer with a certificate of another CA, and junk on the tunnel port. Whatever happens, the source
 * guest keeps running intact unless the destination guest runs intact.
 */
class DwcpFaultsIT {
    private static final int GUEST_RAM_MIB = 256;
    private static final WorkloadSpec WORKLOAD = new WorkloadSpec(128, 2000, 10, 43);
    private static final Path DIR = TrackedProcess.STATE_DIR.resolve(
            "dwcp-faults-" + ProcessHandle.current().pid());
    /** Slow enough that a migration lasts long enough to be hit mid-way (about 10 s for the workload). */
    private static final LinkProfile LINK = LinkProfile.direct()
            .withDelay(Duration.ofMillis(20))
            .withRate(100_000_000L)
            .withLoss(0.0001);

    private static TwoHostNetwork network;
    private static GuestImage image;
    private DwcpLink link;

    @BeforeAll
    static void setUp() {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root: network namespaces and QEMU");
        TwoHostNetwork.cleanupLeftovers();
        TrackedProcess.cleanupLeftovers();
        image = GuestImage.build();
        network = TwoHostNetwork.create("dwcpfault", LINK, LINK);
    }

    @AfterAll
    static void tearDown() {
        if (network != null) {
            network.close();
        }
        Folders.deleteTree(DIR);
    }

    @BeforeEach
    void startDaemons() {
        // a session left without streams fails after 10 s (the default is 30 s)
        link = DwcpLink.start(network, DIR.resolve("link"), Map.of("tunnel.reconnect-timeout", "10s"));
    }

    @AfterEach
    void stopDaemons() {
        if (link != null) {
            link.close();
        }
        // a test that failed half-way may have left the link cut
        try {
            network.setCut(false);
        } catch (RuntimeException expected) {
            // there was no cut to remove
        }
    }

    @Test
    void aKilledTunnelStreamIsReplacedAndTheMigrationCompletes() throws Exception {
        double failedBefore =
                link.source().metric("dwcp_streams_failed_total", "").orElse(0);
        try (GuestPair pair = startPair()) {
            MigrationResult result = migrateWithFault(pair, 16L << 20, () -> {
                // the busiest tunnel connection of dwcpd a (a stream of the migration, not a spare), destroyed by the
                // kernel (ss -K)
                DwcpLink.killBusiestTunnelConnection(network.hostA(), network.hostB());
            });

            assertCompletedIntact(result, pair);
            assertTrue(
                    link.source().metric("dwcp_streams_failed_total", "").orElse(0) > failedBefore,
                    "dwcpd a counted no failed stream:\n" + link.logs());
            assertLatencyHistogramsSeeTheWan();
        }
    }

    /**
     * The source's histograms after a migration across the 2 x 20 ms link: PINGs came back and
     * frames were acknowledged, none of them faster than the link's round trip (so nothing in the
     * buckets up to 25 ms).
     */
    private void assertLatencyHistogramsSeeTheWan() {
        String metrics = link.source().metrics();
        double pings = link.source()
                .metric("dwcp_ping_rtt_seconds_count", "peer=\"" + DwcpLink.B + "\"")
                .orElse(0);
        double frames =
                link.source().metric("dwcp_frame_delivery_seconds_count", "").orElse(0);
        System.out.printf(
                "dwcpd a: %.0f PING round trips, %.0f frames acknowledged; below 25 ms: %.0f and %.0f, below 50 ms: %.0f and %.0f,"
                        + " below 100 ms: %.0f and %.0f, below 250 ms: %.0f and %.0f%n",
                pings,
                frames,
                bucket("dwcp_ping_rtt_seconds", "0.025"),
                bucket("dwcp_frame_delivery_seconds", "0.025"),
                bucket("dwcp_ping_rtt_seconds", "0.05"),
                bucket("dwcp_frame_delivery_seconds", "0.05"),
                bucket("dwcp_ping_rtt_seconds", "0.1"),
                bucket("dwcp_frame_delivery_seconds", "0.1"),
                bucket("dwcp_ping_rtt_seconds", "0.25"),
                bucket("dwcp_frame_delivery_seconds", "0.25"));
        assertTrue(pings > 0, "no PING round trip in dwcpd a's histogram:\n" + metrics);
        assertTrue(frames > 0, "no frame delivery in dwcpd a's histogram:\n" + metrics);
        assertEquals(
                0.0,
                bucket("dwcp_ping_rtt_seconds", "0.025"),
                "PINGs faster than the link's 40 ms round trip:\n" + metrics);
        assertEquals(
                0.0,
                bucket("dwcp_frame_delivery_seconds", "0.025"),
                "frames acknowledged faster than the link's 40 ms round trip:\n" + metrics);
    }

    private double bucket(String histogram, String upperBound) {
        return link.source()
                .metric(histogram + "_bucket", "le=\"" + upperBound + "\"")
                .orElse(-1);
    }

    @Test
    void theWanCutForTenSecondsDelaysTheMigrationWhichThenCompletes() throws Exception {
        try (GuestPair pair = startPair()) {
            long[] cutAt = new long[1];
            MigrationResult result = migrateWithFault(pair, 16L << 20, () -> {
                network.setCut(true);
                cutAt[0] = System.nanoTime();
                sleep(10_000);
                network.setCut(false);
            });

            assertCompletedIntact(result, pair);
            assertTrue(cutAt[0] > 0, "the cut never happened");
            assertTrue(result.totalMs() >= 10_000, "a migration across a 10 s cut took " + result.totalMs() + " ms");
        }
    }

    @Test
    void aKilledDestinationDaemonFailsTheMigrationAndTheSourceRunsOnAndMigratesAgain() throws Exception {
        GuestPair pair = startPair();
        try {
            MigrationResult result =
                    migrateWithFault(pair, 16L << 20, () -> link.destination().kill());

            assertEquals(MigrationResult.FAILED, result.status(), result.detail() + "\n" + link.logs());
            assertTrue(result.guestIntact(), "source guest after the failed migration: " + result.detail());
            assertEquals("running", pair.source().runState());
            assertTrue(link.source().isAlive(), "dwcpd a must survive its peer's death");
            assertTrue(
                    link.source().log().contains("failed"),
                    "dwcpd a said nothing of the failed session:\n" + link.logs());

            link.restartDestination();
            pair = pair.retryWithNewDestination(DIR.resolve("vms").resolve("dst-again"));
            pair.configure(NativeMode.PRECOPY);
            MigrationResult again = pair.migrate(link.destinationUri(), link.sourceUri(), Duration.ofMinutes(4), null);
            assertCompletedIntact(again, pair);
        } finally {
            pair.close();
        }
    }

    /**
     * A resume: the WAN is cut after about 80 % of a whole migration's bytes and stays cut past the
     * reconnect timeout, so the migration fails (the source guest runs on); what the destination
     * daemon had verified becomes a baseline, and the next attempt sends only what it lacks.
     */
    @Test
    void aMigrationFailedByALongWanCutResumesOnTheNextAttempt() throws Exception {
        GuestPair pair = startPair();
        try {
            long start = network.bytesAtoB();
            // cut once QEMU has gone through 80 % of the guest's pages (as the benchmark's resume modes
            // do): a count of wire bytes moves with HDE's compression (78 MiB was about 80 % until
            // streamed zstd frames made the whole migration smaller than that)
            GuestPair cutPair = pair;
            MigrationResult first = migrateWithFault(
                    pair, () -> pagesGoneThrough(cutPair) >= 0.8, "80 % of the pages", () -> network.setCut(true));
            long firstBytes = network.bytesAtoB() - start;
            network.setCut(false);
            assertEquals(MigrationResult.FAILED, first.status(), first.detail() + "\n" + link.logs());
            assertTrue(first.guestIntact(), "source guest after the failed migration: " + first.detail());
            assertEquals("running", pair.source().runState());
            // the destination daemon stores what it received as a baseline once the session failed
            List<Dwcpd.BaselineCommit> partial = link.destination().awaitBaselineCommits(1, Duration.ofSeconds(120));
            assertTrue(
                    partial.stream().anyMatch(Dwcpd.BaselineCommit::committed), "no partial baseline at b: " + partial);
            System.out.println("resume: partial baselines at b " + partial);

            pair = pair.retryWithNewDestination(DIR.resolve("vms").resolve("dst-resume"));
            pair.configure(NativeMode.PRECOPY);
            double referencesBefore = link.source()
                    .metric("dwcp_hde_baseline_references_total", "")
                    .orElse(0);
            MigrationResult again = pair.migrate(link.destinationUri(), link.sourceUri(), Duration.ofMinutes(4), null);
            assertCompletedIntact(again, pair);
            double references = link.source()
                            .metric("dwcp_hde_baseline_references_total", "")
                            .orElse(0)
                    - referencesBefore;
            double deltas = link.source()
                    .metric("dwcp_hde_pages_total", "level=\"baseline_") // baseline_delta and baseline_zstd
                    .orElse(0);
            System.out.printf(
                    "resume: first attempt %d bytes on the wire before it failed, second %d bytes (%.1f %%), %.0f pages"
                            + " sent as references to what the first left, %.0f as deltas against it%n",
                    firstBytes, again.wireBytes(), 100.0 * again.wireBytes() / firstBytes, references, deltas);
            assertTrue(
                    references > (WORKLOAD.memoryMiB() << 8) / 2,
                    "the second attempt referenced only " + references + " pages:\n" + link.logs());
            // without the partial baseline the second attempt is a whole migration (97-101 MB for this
            // workload in DwcpMigrationIT, more than the first attempt sent). Measured with it: 19-33 %
            // before the AMST reader and sender were rebuilt, 38-71 % after (the destination's partial
            // baseline then held 17,000-32,000 pages instead of 29,000-36,000; not yet explained), so
            // this holds only what a resume must do: less than the first attempt sent
            assertTrue(
                    again.wireBytes() * 10 <= firstBytes * 9,
                    "the second attempt sent " + again.wireBytes() + " bytes, the first " + firstBytes
                            + " before it failed: a resume must send less");
        } finally {
            pair.close();
        }
    }

    @Test
    void aSegmentCorruptedBelowTcpIsDetectedAndNeverReachesTheGuest() throws Exception {
        double failedBefore = link.source()
                        .metric("dwcp_streams_failed_total", "")
                        .orElse(0)
                + link.destination().metric("dwcp_streams_failed_total", "").orElse(0);
        try (GuestPair pair = startPair()) {
            // early: with HDE's streamed frames a fault at 16 MiB was once never reached (the
            // migration had sent less)
            MigrationResult result = migrateWithFault(pair, 4L << 20, () -> network.corruptNextSegment(true));

            assertEquals(1, network.corruptedSegments(true), "the emulator corrupted no segment");
            // TLS authenticates every record: the corrupted one fails its stream, whose frames
            // are sent again on the others. The guest is exact (the digest and its own verdict).
            assertCompletedIntact(result, pair);
            double failedAfter = link.source()
                            .metric("dwcp_streams_failed_total", "")
                            .orElse(0)
                    + link.destination().metric("dwcp_streams_failed_total", "").orElse(0);
            assertTrue(failedAfter > failedBefore, "no stream failed after a corrupted segment:\n" + link.logs());
            assertEquals(
                    0.0,
                    link.destination()
                            .metric("dwcp_digest_mismatches_total", "")
                            .orElse(0));
        }
    }

    @Test
    void guestMemoryNeverCrossesTheWireInClear() {
        // The guest kernel's banner is in guest RAM: QEMU's own stream carries it in clear.
        byte[] banner = "Linux version ".getBytes(StandardCharsets.US_ASCII);
        network.scanFor(true, banner);
        // BBR on both hosts for this one: CUBIC crawls on the lossy link and QEMU would take minutes
        setCongestionControl("bbr");
        try (GuestPair pair = startPair()) {
            MigrationResult direct = pair.migrateDirect(Duration.ofMinutes(4));
            assertEquals(MigrationResult.COMPLETED, direct.status(), direct.detail());
        } finally {
            setCongestionControl("cubic");
        }
        long clear = network.scanHits(true);
        assertTrue(clear > 0, "the capture did not see the banner in QEMU's own stream: it proves nothing");

        network.scanFor(true, banner);
        try (GuestPair pair = startPair()) {
            MigrationResult tunnelled =
                    pair.migrate(link.destinationUri(), link.sourceUri(), Duration.ofMinutes(4), null);
            assertCompletedIntact(tunnelled, pair);
        }
        assertEquals(
                0,
                network.scanHits(true),
                "guest memory crossed the tunnel in clear (" + clear + " packets without it)");
    }

    @Test
    void aPeerWithACertificateOfAnotherCaIsRefused() throws Exception {
        Path foreignCa = Dwcpd.createCa(DIR.resolve("foreign-ca"));
        // a daemon that calls itself "a" (dwcpd b's known peer), with a certificate b cannot verify
        try (Dwcpd mallory = Dwcpd.start(
                network.hostA(),
                DwcpLink.A,
                DIR.resolve("mallory"),
                foreignCa,
                Map.of(DwcpLink.B, network.hostB().address() + ":" + Dwcpd.TUNNEL_PORT),
                Map.of("tunnel.listen", "0.0.0.0:7471", "metrics.listen", "127.0.0.1:9471"))) {
            try (SocketChannel fakeQemu = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                fakeQemu.connect(UnixDomainSocketAddress.of(mallory.peerSocket(DwcpLink.B)));
                fakeQemu.write(ByteBuffer.wrap("QEVM\0\0\0\3".getBytes(StandardCharsets.ISO_8859_1)));
                link.destination().awaitLog("refused tunnel connection", Duration.ofSeconds(30));
            }
            assertTrue(
                    link.destination().metric("dwcp_sessions_started_total", "").orElse(0) == 0,
                    "dwcpd b started a session for an unverified peer:\n" + link.logs());
            // the genuine peer is still served
            try (GuestPair pair = startPair()) {
                MigrationResult result =
                        pair.migrate(link.destinationUri(), link.sourceUri(), Duration.ofMinutes(4), null);
                assertCompletedIntact(result, pair);
            }
        }
    }

    @Test
    void junkOnTheTunnelPortIsRefusedWhileAMigrationCompletes() throws Exception {
        String b = network.hostB().address();
        List<Thread> hostile = new ArrayList<>();
        AtomicReference<Throwable> hostileFailure = new AtomicReference<>();
        Random random = new Random(11);
        byte[] junk = new byte[1 << 20];
        random.nextBytes(junk);
        // a TLS record header that announces a 16 MiB record, then nothing
        byte[] oversized = {0x16, 0x03, 0x03, (byte) 0xff, (byte) 0xff, 0x01, 0x00, 0x00, 0x00};
        hostile.add(network.hostA().start("junk", () -> sendQuietly(b, junk, Duration.ZERO, hostileFailure)));
        hostile.add(network.hostA().start("oversized", () -> sendQuietly(b, oversized, Duration.ZERO, hostileFailure)));
        hostile.add(network.hostA()
                .start("slow", () -> sendQuietly(b, new byte[40], Duration.ofMillis(500), hostileFailure)));
        try (GuestPair pair = startPair()) {
            MigrationResult result = pair.migrate(link.destinationUri(), link.sourceUri(), Duration.ofMinutes(4), null);
            assertCompletedIntact(result, pair);
        }
        for (Thread thread : hostile) {
            thread.join(60_000);
            assertFalse(thread.isAlive(), "dwcpd b never closed a hostile connection (" + thread.getName() + ")");
        }
        assertNull(hostileFailure.get(), "a hostile client failed: " + hostileFailure.get());
        String log = link.destination().log();
        long refusals = log.lines()
                .filter(line -> line.contains("refused tunnel connection"))
                .count();
        assertTrue(refusals >= 3, "expected a refusal per hostile connection, found " + refusals + ":\n" + log);
        assertTrue(link.destination().isAlive());
        long rssKiB = residentKiB(link.destination().pid());
        assertTrue(rssKiB < 1_500_000, "dwcpd b resident memory " + rssKiB + " KiB");
    }

    private static void setCongestionControl(String algorithm) {
        for (var host : List.of(network.hostA(), network.hostB())) {
            host.run("sysctl", "-q", "-w", "net.ipv4.tcp_congestion_control=" + algorithm);
        }
    }

    private GuestPair startPair() {
        GuestPair pair =
                GuestPair.start(network, image, QemuBinary.QEMU_10, WORKLOAD, GUEST_RAM_MIB, DIR.resolve("vms"));
        pair.configure(NativeMode.PRECOPY);
        return pair;
    }

    /** Migrates through the link and runs {@code fault} once {@code afterBytes} have left host A. */
    private MigrationResult migrateWithFault(GuestPair pair, long afterBytes, ThrowingRunnable fault) throws Exception {
        long start = network.bytesAtoB();
        return migrateWithFault(
                pair, () -> network.bytesAtoB() - start >= afterBytes, afterBytes + " bytes on the wire", fault);
    }

    /** The share of the guest's pages the source QEMU has gone through in this migration (0 before it counts). */
    private static double pagesGoneThrough(GuestPair pair) {
        var ram = pair.source().qmp().execute("query-migrate").path("ram");
        long total = ram.path("total").asLong();
        return total <= 0 ? 0 : (total - ram.path("remaining").asLong()) / (double) total;
    }

    private MigrationResult migrateWithFault(GuestPair pair, BooleanSupplier due, String when, ThrowingRunnable fault)
            throws Exception {
        AtomicReference<Throwable> faultFailure = new AtomicReference<>();
        Thread injector = new Thread(
                () -> {
                    try {
                        while (!due.getAsBoolean()) {
                            Thread.sleep(20);
                        }
                        fault.run();
                    } catch (Throwable e) {
                        faultFailure.set(e);
                    }
                },
                "fault");
        injector.start();
        MigrationResult result = pair.migrate(link.destinationUri(), link.sourceUri(), Duration.ofMinutes(4), null);
        injector.join(60_000);
        if (faultFailure.get() != null) {
            throw new AssertionError("the fault could not be injected", faultFailure.get());
        }
        assertFalse(injector.isAlive(), "the fault was never injected: the migration ended before " + when);
        return result;
    }

    private void assertCompletedIntact(MigrationResult result, GuestPair pair) {
        assertEquals(MigrationResult.COMPLETED, result.status(), result.detail() + "\n" + link.logs());
        assertTrue(result.guestIntact(), "destination guest: " + result.detail());
        assertEquals("running", pair.destination().runState());
    }

    /** Writes {@code bytes} to b's tunnel port ({@code pause} between bytes when not zero), then reads until b closes. */
    private static void sendQuietly(String address, byte[] bytes, Duration pause, AtomicReference<Throwable> failure) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(address, Dwcpd.TUNNEL_PORT), 5000);
            socket.setSoTimeout(60_000);
            OutputStream out = socket.getOutputStream();
            try {
                if (pause.isZero()) {
                    out.write(bytes);
                } else {
                    for (byte b : bytes) {
                        out.write(b);
                        out.flush();
                        Thread.sleep(pause.toMillis());
                    }
                }
            } catch (IOException closedByPeer) {
                return; // what a refusing daemon does
            }
            byte[] sink = new byte[4096];
            while (socket.getInputStream().read(sink) >= 0) {
                // the daemon's alert, if any, until it closes
            }
        } catch (IOException e) {
            // a reset is a refusal too
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            failure.set(e);
        }
    }

    private static long residentKiB(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException("no VmRSS for " + pid);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @FunctionalInterface
    private interface ThrowingRunnable {
        void run() throws Exception;
    }
}
