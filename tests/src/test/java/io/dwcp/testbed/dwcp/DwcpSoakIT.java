package io.dwcp.testbed.dwcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dwcp.testbed.guest.GuestImage;
import io.dwcp.testbed.guest.WorkloadSpec;
import io.dwcp.testbed.net.Host;
import io.dwcp.testbed.net.TwoHostNetwork;
import io.dwcp.testbed.qemu.GuestPair;
import io.dwcp.testbed.qemu.MigrationResult;
import io.dwcp.testbed.qemu.NativeMode;
import io.dwcp.testbed.qemu.QemuBinary;
import io.dwcp.testbed.sys.Command;
import io.dwcp.testbed.sys.Folders;
import io.dwcp.testbed.sys.TrackedProcess;
import io.dwcp.testbed.wan.Scenario;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The same two dwcpd carry 30 migrations back and forth across the emulated S1 link: two guests,
 * one on QEMU 10 and one on QEMU 7.2, each moved A→B→A… in turn with precopy and multifd in turn
 * (so each guest also comes back with multifd, through HDE against the baselines its way there
 * left), and one tunnel stream killed by the kernel in every fifth migration. Every guest is
 * intact after every migration, both daemons count 30 completed sessions and no failed one, and
 * afterwards:
 * <ul>
 *   <li>each daemon's open file descriptors and threads are back within 5 % of what they were
 *       after the first migration each way (the third: the two guests go A→B first, then the first
 *       of them comes back; from then on each daemon keeps its spare streams to the other);
 *   <li>no object that lives as long as a session (the session, its QEMU connections, HDE encoders
 *       and decoders, the reorder buffer) is left on either daemon's heap after a full collection,
 *       neither after the first migration each way nor at the end;
 *   <li>each daemon's native memory (resident memory apart from the Java heap's resident pages and
 *       the buffer pool's direct memory: the C heap, stacks, code, class metadata) does not trend
 *       up over migrations 11 to 30: the least-squares line through its figure after each of them
 *       rises over those 20 migrations by at most 15 % of their mean (a known slow growth, below),
 *       or three standard errors of that rise where those are more;
 *   <li>the pool's direct memory at most twice what it was after migration 15 (the pool keeps
 *       4 MiB chunks for reuse: it moved between 25 and 45 MiB from one migration to the next).
 * </ul>
 * Memory is read after a full collection and a trim of the C heap (what the daemon does itself
 * every 10 s). The Java heap's resident part stays at about its 64 MiB minimum size; the native
 * part moves by up to ±12 % (±13 MiB) from one migration to the next, with what the C heap keeps
 * of the migration before (the JIT's and the C library's arenas): a check of one reading against
 * another failed on that alone (+7.2 % in CI). The trend has noise of its own: its standard error
 * over the twenty was 1.1 to 4.7 % of the mean in eleven runs, and a run without any change
 * trended -8.1 % on one daemon. So the limit is three standard errors where those exceed 5 %.
 * Three runs with a WAN emulator that slept between packets (since reverted) rose by 6-11 % at
 * 3.1 to 6 standard errors on at least one daemon; later runs with the emulator as it is rose
 * 8.4 % and 11.1 % (0.56 and 0.7 MiB per migration, at 7 and 4 standard errors), one with spare
 * streams and one without. Seventy migrations ({@code -Ddwcp.soak.migrations=70}) showed it levels
 * off: one daemon's native memory averaged 105, 108, 114, 111, 115, 116 and 115 MiB over successive
 * tens of migrations (+0.5 MiB per migration over 11 to 30, none over 51 to 70), the other's rose
 * by 0.85 MiB per migration over 11 to 30 and fell back (-1.0 % over 11 to 70). So the twenty
 * migrations of a CI run can still see it rise: the limit is 15 % of the mean (0.9 MiB per
 * migration over the twenty), which a leak of a session's zstd context or buffer-pool chunk per
 * migration still exceeds. The first
 * migrations grow native memory once, by about 10 %: native memory tracking measured the JIT's
 * code cache +6 MiB and class metadata +2 MiB as paths run for the first time (multifd, the way
 * back, a killed stream), and the buffer pool's caches filling per thread; so the trend is taken
 * from migration 11. A leak grows with the number of migrations
 * (+1 MiB per migration rises 20 MiB, about 17 %); an object kept past its session shows in the
 * heap. The figures after every migration are logged.
 *
 * <p>QEMU 10 with multifd on the way back once stalled here at a multifd sync point (three of four
 * runs), when one raw window was shared by the session's QEMU connections: the destination QEMU's
 * multifd channels that reached the sync stopped reading while the bytes of the next round the
 * source had already sent on them held the window, so the one channel whose sync packet was still
 * unread at the source was never read. Each connection now has its own raw window (the ACK counts
 * what each one delivered) and credit returns once a frame is decoded.
 */
class DwcpSoakIT {
    private static final Logger LOG = Logger.getLogger(DwcpSoakIT.class.getName());
    private static final Path DIR = TrackedProcess.STATE_DIR.resolve(
            "dwcp-soak-" + ProcessHandle.current().pid());
    /**
     * How many migrations: 30, or {@code -Ddwcp.soak.migrations=N} (at least 20) to see whether a slow growth levels
     * off; the trend is then taken over migrations {@value #TREND_FROM} to N.
     */
    private static final int MIGRATIONS = Math.max(20, Integer.getInteger("dwcp.soak.migrations", 30));

    private static final int GUEST_RAM_MIB = 256;
    private static final WorkloadSpec WORKLOAD = new WorkloadSpec(64, 2000, 10, 7);
    private static final double TOLERANCE = 0.05;
    /** The migration after which the buffer pool is taken as the daemons' working level (see the class comment). */
    private static final int WORKING_LEVEL_AFTER = MIGRATIONS / 2;
    /**
     * The index of the first migration B→A: the two guests both go A→B first. Until it, B kept no
     * spare streams to A nor A any from B (with eight spares each way the figures taken after the
     * second migration were 8 file descriptors, 9 %, short of the end's).
     */
    private static final int FIRST_EACH_WAY = 2;
    /** The first migration of the second half, over which native memory may not trend up (see the class comment). */
    private static final int TREND_FROM = 11;
    /** How many standard errors of the trend's rise the limit is at least (see the class comment). */
    private static final double TREND_ERRORS = 3;
    /**
     * The rise over the second half the native memory may show in any case, as a share of its mean:
     * a slow growth of 0.5-0.7 MiB per migration (8-11 %, at 4 to 7 standard errors) was measured in
     * some runs, with and without spare streams, and is not explained (see the class comment).
     */
    private static final double KNOWN_GROWTH = 0.15;
    /** Classes whose objects live as long as a migration session: none may outlive its session. */
    private static final List<String> SESSION_CLASSES = List.of(
            "io.dwcp.session.Session",
            "io.dwcp.session.QemuChannel",
            "io.dwcp.hde.HdeEncoder",
            "io.dwcp.hde.HdeDecoder",
            "io.dwcp.amst.ReorderBuffer");
    /** Where a failed run leaves the daemons' logs (the build's folder, not the test bed's). */
    private static final Path LOGS = Path.of("target", "dwcp-soak-logs");

    private static GuestImage image;
    private static TwoHostNetwork network;

    @BeforeAll
    static void setUp() {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root: network namespaces and QEMU");
        TwoHostNetwork.cleanupLeftovers();
        TrackedProcess.cleanupLeftovers();
        image = GuestImage.build();
        Scenario scenario = Scenario.S1_CONTINENTAL;
        network = TwoHostNetwork.create("dwcpsoak", scenario.aToB(), scenario.bToA());
    }

    @AfterAll
    static void tearDown() {
        if (network != null) {
            network.close();
        }
        Folders.deleteTree(DIR);
    }

    /** A guest and where it is: {@code there} when it runs on host B. */
    private static final class Guest {
        final String name;
        GuestPair pair;
        boolean there;

        Guest(String name, GuestPair pair) {
            this.name = name;
            this.pair = pair;
        }
    }

    @Test
    void thirtyMigrationsBackAndForthLeaveTheDaemonsAsTheyWere() throws Exception {
        List<Guest> guests = new ArrayList<>();
        try (DwcpLink link = DwcpLink.start(network, DIR.resolve("link"), Map.of("codec.mode", "hde"))) {
            guests.add(new Guest(
                    "QEMU 10",
                    GuestPair.start(
                            network,
                            image,
                            QemuBinary.QEMU_10,
                            WORKLOAD,
                            GUEST_RAM_MIB,
                            DIR.resolve("vms-10").resolve("0"))));
            guests.add(new Guest(
                    "QEMU 7.2",
                    GuestPair.start(
                            network,
                            image,
                            QemuBinary.QEMU_7_2,
                            WORKLOAD.withSeed(8),
                            GUEST_RAM_MIB,
                            DIR.resolve("vms-7.2").resolve("0"))));
            List<Dwcpd> daemons = List.of(link.source(), link.destination());
            List<Figures> afterFirstMigration = null;
            List<Figures> workingLevel = null;
            List<List<Figures>> afterEach = new ArrayList<>();
            int killed = 0;
            for (int i = 0; i < MIGRATIONS; i++) {
                Guest guest = guests.get(i % 2);
                // each guest: precopy there, multifd back, and so on (i / 2 counts the guest's own migrations)
                NativeMode mode = (i / 2) % 2 == 0 ? NativeMode.PRECOPY : NativeMode.MULTIFD;
                boolean killStream = i % 5 == 4;
                MigrationResult result;
                try {
                    result = migrate(link, guest, mode, killStream);
                } catch (AssertionError e) {
                    link.saveLogs(LOGS);
                    throw new AssertionError(
                            "migration " + (i + 1) + " of " + MIGRATIONS + " (the daemons' logs are in "
                                    + LOGS.toAbsolutePath() + ")",
                            e);
                }
                killed += killStream ? 1 : 0;
                LOG.info(String.format(
                        "soak %d/%d: %s %s %s%s: %d ms, downtime %d ms, %d bytes on the wire",
                        i + 1,
                        MIGRATIONS,
                        guest.name,
                        guest.there ? "A->B" : "B->A",
                        mode,
                        killStream ? ", a stream killed" : "",
                        result.totalMs(),
                        result.downtimeMs(),
                        result.wireBytes()));
                for (Dwcpd daemon : daemons) {
                    DwcpMigrationIT.awaitMetric(daemon, "dwcp_sessions_completed_total", i + 1);
                }
                List<Figures> now = figuresOf(daemons);
                afterEach.add(now);
                LOG.info("after migration " + (i + 1) + ": " + now);
                if (i == FIRST_EACH_WAY) {
                    // after the first migration each way (from then on each daemon keeps spare streams to
                    // the other), measured the way the end is: once the daemons have settled
                    afterFirstMigration = settledFiguresOf(daemons, Duration.ofSeconds(60));
                    LOG.info("after migration " + (i + 1) + ", settled: " + afterFirstMigration);
                    logNativeMemory(daemons, i + 1);
                    assertNoSessionLeft(afterFirstMigration, "after the first migration each way");
                }
                if (i + 1 == WORKING_LEVEL_AFTER) {
                    workingLevel = settledFiguresOf(daemons, Duration.ofSeconds(60));
                    LOG.info("after migration " + (i + 1) + ", settled (the working level): " + workingLevel);
                }
                guest.pair = guest.pair.reverse(
                        DIR.resolve("vms-" + guest.name.substring(5)).resolve(Integer.toString(i + 1)));
            }
            for (Dwcpd daemon : daemons) {
                assertEquals(
                        MIGRATIONS,
                        daemon.metric("dwcp_sessions_completed_total", "").orElse(-1),
                        daemon + "\n" + daemon.log());
                assertEquals(
                        0, daemon.metric("dwcp_sessions_failed_total", "").orElse(-1), daemon + "\n" + daemon.log());
            }
            assertTrue(
                    link.source().metric("dwcp_streams_failed_total", "").orElse(0)
                                    + link.destination()
                                            .metric("dwcp_streams_failed_total", "")
                                            .orElse(0)
                            >= killed,
                    "the daemons counted fewer failed streams than the " + killed + " killed");
            assertNoNativeGrowth(daemons, afterEach);
            List<Figures> last = awaitWithin(daemons, afterFirstMigration, workingLevel, Duration.ofSeconds(90));
            LOG.info("after " + MIGRATIONS + " migrations: " + last + " (after the first migration each way: "
                    + afterFirstMigration + "; after migration " + WORKING_LEVEL_AFTER + ": " + workingLevel + ")");
            assertNoSessionLeft(last, "after " + MIGRATIONS + " migrations");
        } finally {
            for (Guest guest : guests) {
                guest.pair.close();
            }
        }
    }

    /** One migration of the guest the way it is not, through the daemons, optionally killing a stream mid-way. */
    private static MigrationResult migrate(DwcpLink link, Guest guest, NativeMode mode, boolean killStream)
            throws Exception {
        guest.pair.configure(mode);
        boolean toB = !guest.there;
        Host from = toB ? network.hostA() : network.hostB();
        Host to = toB ? network.hostB() : network.hostA();
        AtomicReference<Throwable> faultFailure = new AtomicReference<>();
        Thread injector = null;
        if (killStream) {
            long start = sent(toB);
            injector = new Thread(
                    () -> {
                        try {
                            while (sent(toB) - start < (1L << 20)) {
                                Thread.sleep(20);
                            }
                            DwcpLink.killBusiestTunnelConnection(from, to);
                        } catch (Throwable e) {
                            faultFailure.set(e);
                        }
                    },
                    "kill-stream");
            injector.start();
        }
        MigrationResult result = toB
                ? guest.pair.migrate(link.destinationUri(), link.sourceUri(), Duration.ofMinutes(4), null)
                : guest.pair.migrate(
                        link.reverseDestinationUri(), link.reverseSourceUri(), Duration.ofMinutes(4), null);
        if (injector != null) {
            injector.join(60_000);
            assertFalse(injector.isAlive(), "the stream was never killed: the migration sent less than 1 MiB");
            if (faultFailure.get() != null) {
                throw new AssertionError("the stream could not be killed", faultFailure.get());
            }
        }
        assertEquals(
                MigrationResult.COMPLETED, result.status(), guest.name + ": " + result.detail() + "\n" + link.logs());
        assertTrue(result.guestIntact(), guest.name + " at the destination: " + result.detail());
        guest.there = toB;
        return result;
    }

    private static long sent(boolean aToB) {
        return aToB ? network.bytesAtoB() : network.bytesBtoA();
    }

    /**
     * A daemon's resident memory (after a full collection), open file descriptors and threads, and,
     * logged to show where resident memory is, the direct memory of its buffer pool and of all its
     * direct buffers (KiB, from its metrics).
     */
    record Figures(
            String daemon,
            long residentKiB,
            long threads,
            long poolDirectKiB,
            long heapResidentKiB,
            long jvmDirectKiB,
            long liveHeapKiB,
            Map<String, Long> sessionObjects,
            Map<String, Long> fileDescriptorKinds) {
        /** Open file descriptors: those of every kind. */
        long fileDescriptors() {
            return fileDescriptorKinds.values().stream()
                    .mapToLong(Long::longValue)
                    .sum();
        }

        /** Resident memory apart from the Java heap and the buffer pool's direct memory: the C heap, stacks, code, metadata. */
        long nativeKiB() {
            return residentKiB - heapResidentKiB - poolDirectKiB;
        }

        /**
         * Open file descriptors and threads each at most {@code 1 + tolerance} times those after the
         * first migration, and the pool at most twice the working level's.
         */
        boolean within(Figures afterFirst, Figures working, double tolerance) {
            return poolDirectKiB <= 2 * working.poolDirectKiB
                    && fileDescriptors() <= Math.ceil(afterFirst.fileDescriptors() * (1 + tolerance))
                    && threads <= Math.ceil(afterFirst.threads * (1 + tolerance));
        }

        @Override
        public String toString() {
            return daemon + ": " + residentKiB + " KiB resident (" + nativeKiB() + " native), " + fileDescriptors()
                    + " fds, " + threads + " threads (heap " + heapResidentKiB + " KiB resident, " + liveHeapKiB
                    + " KiB live, direct: pool " + poolDirectKiB + " KiB, all "
                    + jvmDirectKiB + " KiB" + (sessionObjects.isEmpty() ? "" : ", session objects " + sessionObjects)
                    + "; file descriptors by kind " + fileDescriptorKinds + ")";
        }
    }

    private static List<Figures> figuresOf(List<Dwcpd> daemons) {
        List<Figures> figures = new ArrayList<>();
        for (Dwcpd daemon : daemons) {
            // the histogram collects garbage first: what it counts is live
            String histogram = jcmd(daemon.pid(), "GC.class_histogram");
            trimNativeHeap(daemon.pid());
            long resident = status(daemon.pid(), "VmRSS:");
            long heapResident = heapResidentKiB(daemon.pid(), jcmd(daemon.pid(), "GC.heap_info"));
            long threads = status(daemon.pid(), "Threads:");
            // scraped after the figures above: the scrape's connection is not counted
            String metrics = daemon.metrics();
            figures.add(new Figures(
                    daemon.name(),
                    resident,
                    threads,
                    (long) Dwcpd.metric(metrics, "dwcp_buffer_pool_direct_bytes", "")
                                    .orElseThrow(
                                            () -> new AssertionError("no dwcp_buffer_pool_direct_bytes from " + daemon))
                            / 1024,
                    heapResident,
                    (long) Dwcpd.metric(metrics, "dwcp_jvm_direct_buffer_bytes", "")
                                    .orElse(-1024)
                            / 1024,
                    liveHeapKiB(histogram),
                    sessionObjects(histogram),
                    fileDescriptorKinds(daemon.pid())));
        }
        return figures;
    }

    /**
     * The daemons' figures once they have settled: read every second (each after a full collection
     * and a trim of the C heap, what the daemon does itself every 10 s) until no daemon's resident
     * memory moved by more than 1 % since the reading before, or until {@code timeout}.
     */
    private static List<Figures> settledFiguresOf(List<Dwcpd> daemons, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<Figures> before = figuresOf(daemons);
        while (true) {
            Thread.sleep(1000);
            List<Figures> now = figuresOf(daemons);
            boolean settled = true;
            for (int i = 0; i < now.size(); i++) {
                settled &= Math.abs(now.get(i).residentKiB() - before.get(i).residentKiB())
                        <= before.get(i).residentKiB() / 100;
            }
            if (settled || System.nanoTime() > deadline) {
                return now;
            }
            before = now;
        }
    }

    /** No daemon holds an object of {@link #SESSION_CLASSES}: every session ended and was let go. */
    private static void assertNoSessionLeft(List<Figures> figures, String when) {
        for (Figures daemon : figures) {
            assertTrue(
                    daemon.sessionObjects().isEmpty(),
                    daemon.daemon() + " " + when + " still holds objects of ended sessions: " + daemon);
        }
    }

    /**
     * The resident KiB of a JVM's heap: the resident pages, by {@code /proc/PID/smaps}, of the
     * mappings inside the range the heap reserved (the bracketed addresses of {@code GC.heap_info}'s
     * first line). G1 keeps regions it committed once resident until it gives them back.
     */
    static long heapResidentKiB(long pid, String heapInfo) {
        try {
            return heapResidentKiB(heapInfo, Files.readString(Path.of("/proc", Long.toString(pid), "smaps")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static long heapResidentKiB(String heapInfo, String smaps) {
        java.util.regex.Matcher range = java.util.regex.Pattern.compile("\\[0x([0-9a-f]+), 0x([0-9a-f]+)\\)")
                .matcher(heapInfo);
        assertTrue(range.find(), "no heap address range in GC.heap_info:\n" + heapInfo);
        long low = Long.parseUnsignedLong(range.group(1), 16);
        long high = Long.parseUnsignedLong(range.group(2), 16);
        long kib = 0;
        boolean inside = false;
        java.util.regex.Pattern mapping = java.util.regex.Pattern.compile("^([0-9a-f]+)-([0-9a-f]+) ");
        for (String line : smaps.split("\n")) {
            java.util.regex.Matcher m = mapping.matcher(line);
            if (m.find()) {
                long start = Long.parseUnsignedLong(m.group(1), 16);
                inside = Long.compareUnsigned(start, low) >= 0 && Long.compareUnsigned(start, high) < 0;
            } else if (inside && line.startsWith("Rss:")) {
                kib += Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return kib;
    }

    /** The bytes of all objects in a class histogram (its Total line), in KiB. */
    static long liveHeapKiB(String histogram) {
        java.util.regex.Matcher total = java.util.regex.Pattern.compile("(?m)^Total\\s+\\d+\\s+(\\d+)\\s*$")
                .matcher(histogram);
        assertTrue(total.find(), "no Total line in the class histogram:\n" + histogram);
        return Long.parseLong(total.group(1)) / 1024;
    }

    /** Instances of {@link #SESSION_CLASSES} in a class histogram, by class (only those with any). */
    static Map<String, Long> sessionObjects(String histogram) {
        Map<String, Long> found = new java.util.TreeMap<>();
        for (String line : histogram.split("\n")) {
            String[] fields = line.trim().split("\\s+");
            if (fields.length >= 4 && fields[0].endsWith(":") && SESSION_CLASSES.contains(fields[3])) {
                found.merge(fields[3], Long.parseLong(fields[1]), Long::sum);
            }
        }
        return found;
    }

    /**
     * The trend of each daemon's native memory ({@link Figures#nativeKiB()}) over the second half of
     * the run: the least-squares line through its figures after migrations {@value #TREND_FROM} to
     * the last may rise over those migrations by at most {@link #KNOWN_GROWTH} of their
     * mean, or {@value #TREND_ERRORS} standard errors of that rise when those are more.
     */
    private static void assertNoNativeGrowth(List<Dwcpd> daemons, List<List<Figures>> afterEach) {
        for (int d = 0; d < daemons.size(); d++) {
            List<Long> kib = new ArrayList<>();
            for (int migration = TREND_FROM; migration <= afterEach.size(); migration++) {
                kib.add(afterEach.get(migration - 1).get(d).nativeKiB());
            }
            double[] line = leastSquares(TREND_FROM, kib);
            double rise = line[1] * (kib.size() - 1);
            double riseError = line[2] * (kib.size() - 1);
            double limit = Math.max(Math.max(TOLERANCE, KNOWN_GROWTH) * line[0], TREND_ERRORS * riseError);
            assertTrue(
                    rise <= limit,
                    String.format(
                            "%s: native memory rose by %.0f KiB (%.1f %% of its mean %.0f KiB, %.0f KiB per migration,"
                                    + " %.1f standard errors) over migrations %d to %d, more than %.0f KiB: %s KiB",
                            daemons.get(d).name(),
                            rise,
                            100 * rise / line[0],
                            line[0],
                            line[1],
                            rise / riseError,
                            TREND_FROM,
                            afterEach.size(),
                            limit,
                            kib));
            LOG.info(String.format(
                    "%s: native memory over migrations %d to %d: mean %.0f KiB, trend %+.0f KiB per migration (%+.1f %%"
                            + " over them, %.1f standard errors; limit %.1f %%)",
                    daemons.get(d).name(),
                    TREND_FROM,
                    afterEach.size(),
                    line[0],
                    line[1],
                    100 * rise / line[0],
                    rise / riseError,
                    100 * limit / line[0]));
        }
    }

    /**
     * The mean of {@code ys}, the slope of the least-squares line through (first + i, ys[i]) and
     * the slope's standard error (from the residuals about the line; 0 with fewer than 3 points).
     */
    static double[] leastSquares(int first, List<Long> ys) {
        int n = ys.size();
        double meanX = first + (n - 1) / 2.0;
        double meanY = ys.stream().mapToLong(Long::longValue).average().orElseThrow();
        double sxy = 0;
        double sxx = 0;
        for (int i = 0; i < n; i++) {
            double dx = first + i - meanX;
            sxy += dx * (ys.get(i) - meanY);
            sxx += dx * dx;
        }
        double slope = sxx == 0 ? 0 : sxy / sxx;
        double squares = 0;
        for (int i = 0; i < n; i++) {
            double residual = ys.get(i) - (meanY + slope * (first + i - meanX));
            squares += residual * residual;
        }
        double standardError = n < 3 || sxx == 0 ? 0 : Math.sqrt(squares / (n - 2) / sxx);
        return new double[] {meanY, slope, standardError};
    }

    /**
     * Waits until every daemon's file descriptors and threads are within the tolerance of their
     * figures after the first migration each way and its buffer pool within twice the working level's
     * (sessions may still be closing).
     */
    private static List<Figures> awaitWithin(
            List<Dwcpd> daemons, List<Figures> afterFirst, List<Figures> working, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<Figures> now = figuresOf(daemons);
            boolean within = true;
            for (int i = 0; i < now.size(); i++) {
                within &= now.get(i).within(afterFirst.get(i), working.get(i), TOLERANCE);
            }
            if (within) {
                logNativeMemory(daemons, MIGRATIONS);
                return now;
            }
            if (System.nanoTime() > deadline) {
                logNativeMemory(daemons, MIGRATIONS);
                throw new AssertionError("after " + MIGRATIONS + " migrations the daemons did not come back within "
                        + Math.round(TOLERANCE * 100)
                        + " % of their file descriptors and threads after the first migration each way"
                        + " and within twice their buffer pool after migration " + WORKING_LEVEL_AFTER + ": " + now
                        + "; after the first migration each way: " + afterFirst + "; after migration "
                        + WORKING_LEVEL_AFTER
                        + ": " + working);
            }
            Thread.sleep(1000);
        }
    }

    /**
     * Where the daemons' memory is, by the JVM's native memory tracking, when they run with it
     * ({@code -Ddwcp.dwcpd.jvm-options=-XX:NativeMemoryTracking=summary}): the committed KiB of each
     * category (Java Heap, Thread, Code, GC, Internal, Other = direct buffers, ...).
     */
    private static void logNativeMemory(List<Dwcpd> daemons, int migration) {
        if (!System.getProperty(Dwcpd.JVM_OPTIONS_PROPERTY, "").contains("NativeMemoryTracking")) {
            return;
        }
        for (Dwcpd daemon : daemons) {
            String summary = jcmd(daemon.pid(), "VM.native_memory", "summary");
            StringBuilder line = new StringBuilder();
            java.util.regex.Matcher category = java.util.regex.Pattern.compile(
                            "(?m)^-\\s+(.+?) \\(reserved=\\d+KB, committed=(\\d+)KB\\)")
                    .matcher(summary);
            while (category.find()) {
                line.append(category.group(1).trim())
                        .append(' ')
                        .append(category.group(2))
                        .append(" KiB; ");
            }
            LOG.info("native memory of " + daemon.name() + " after migration " + migration + ": " + line);
            // and what the heap holds: the largest classes by bytes
            String histogram = jcmd(daemon.pid(), "GC.class_histogram");
            LOG.info("largest classes on the heap of " + daemon.name() + " after migration " + migration + ":\n"
                    + histogram.lines().limit(40).collect(java.util.stream.Collectors.joining("\n")));
        }
    }

    /** The JDK's jcmd (beside the java running this test) on {@code pid}: its output. */
    private static String jcmd(long pid, String... command) {
        Path jcmd =
                Path.of(ProcessHandle.current().info().command().orElseThrow()).resolveSibling("jcmd");
        List<String> argv = new ArrayList<>(List.of(jcmd.toString(), Long.toString(pid)));
        argv.addAll(List.of(command));
        return Command.run(argv.toArray(String[]::new));
    }

    /** Gives the C heap's free memory back to the host now, as dwcpd's -XX:TrimNativeHeapInterval does every 10 s. */
    private static void trimNativeHeap(long pid) {
        jcmd(pid, "System.trim_native_heap");
    }

    private static long status(long pid, String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith(field)) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new AssertionError("no " + field + " in /proc/" + pid + "/status");
    }

    /**
     * A process's open file descriptors by what they are, so that a failed bound says which kind
     * grew: TCP sockets by state and ports (from the process's own network namespace; ports of
     * the kernel's ephemeral range as "ephemeral"), other sockets, pipes, anonymous inodes by kind,
     * files by path (digits as #).
     */
    private static Map<String, Long> fileDescriptorKinds(long pid) {
        Map<String, String> tcp = tcpSockets(pid);
        Map<String, Long> kinds = new TreeMap<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                String target;
                try {
                    target = Files.readSymbolicLink(fd).toString();
                } catch (IOException closedMeanwhile) {
                    continue;
                }
                String kind;
                if (target.startsWith("socket:[")) {
                    kind = tcp.getOrDefault(target.substring(8, target.length() - 1), "socket (not TCP)");
                } else if (target.startsWith("pipe:") || target.startsWith("anon_inode:")) {
                    kind = target.startsWith("pipe:") ? "pipe" : target;
                } else {
                    kind = target.replaceAll("\\d+", "#");
                }
                kinds.merge(kind, 1L, Long::sum);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return kinds;
    }

    /** TCP sockets of a process's network namespace: inode to "tcp STATE local PORT remote PORT". */
    private static Map<String, String> tcpSockets(long pid) {
        Map<String, String> sockets = new HashMap<>();
        for (String table : List.of("tcp", "tcp6")) {
            List<String> lines;
            try {
                lines = Files.readAllLines(Path.of("/proc", Long.toString(pid), "net", table));
            } catch (IOException e) {
                continue;
            }
            for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
                String[] fields = line.trim().split("\\s+");
                if (fields.length < 10) {
                    continue;
                }
                sockets.put(
                        fields[9],
                        "tcp " + TCP_STATES.getOrDefault(fields[3], fields[3]) + " local " + port(fields[1])
                                + " remote " + port(fields[2]));
            }
        }
        return sockets;
    }

    private static final Map<String, String> TCP_STATES = Map.of(
            "01",
            "ESTABLISHED",
            "06",
            "TIME_WAIT",
            "07",
            "CLOSE",
            "08",
            "CLOSE_WAIT",
            "0A",
            "LISTEN",
            "04",
            "FIN_WAIT1",
            "05",
            "FIN_WAIT2",
            "09",
            "LAST_ACK",
            "0B",
            "CLOSING",
            "02",
            "SYN_SENT");

    private static String port(String address) {
        int port = Integer.parseInt(address.substring(address.indexOf(':') + 1), 16);
        return port >= 32768 ? "ephemeral" : Integer.toString(port);
    }
}
