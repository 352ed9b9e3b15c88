package io.dwcp.testbed.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.testbed.qemu.QemuBinary;
import io.dwcp.testbed.sys.TrackedProcess;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Boots the test guest under TCG in QEMU 7.2 and 10, and checks that the workload comes up, is
 * found intact, and is found corrupt after a deliberate fault. Also runs the workload on the host,
 * and builds the image concurrently into an empty cache.
 */
class GuestImageIT {
    /** Small, so a boot takes a few seconds under TCG. */
    private static final WorkloadSpec SMALL = new WorkloadSpec(64, 2_000, 10, 7);

    private static final Duration BOOT = Duration.ofSeconds(90);
    private static final Duration VERIFY = Duration.ofSeconds(60);

    private static GuestImage image;

    @BeforeAll
    static void buildImage() {
        image = GuestImage.build();
    }

    @ParameterizedTest
    @EnumSource(QemuBinary.class)
    void freshGuestIsIntact(QemuBinary qemu, @TempDir Path dir) throws Exception {
        try (BootedGuest guest = BootedGuest.boot(qemu, image, SMALL, dir)) {
            GuestConsole.Ready ready = guest.console().awaitReady(BOOT);
            assertEquals(SMALL.pages(), ready.pages());
            assertTrue(ready.hotPages() > 0 && ready.hotPages() < SMALL.pages() / 4, ready.line());
            Thread.sleep(1000); // let it dirty pages first
            Verdict verdict = guest.console().requestVerdict(VERIFY);
            assertTrue(verdict.intact(), verdict.detail());
            assertTrue(verdict.writes() > 0, "no writes: " + verdict);
            Thread.sleep(500);
            Verdict again = guest.console().requestVerdict(VERIFY);
            assertTrue(again.intact(), again.detail());
            assertTrue(again.writes() > verdict.writes(), "dirtying did not resume after verifying: " + again);
        }
    }

    @ParameterizedTest
    @EnumSource(QemuBinary.class)
    void injectedFaultIsReportedCorrupt(QemuBinary qemu, @TempDir Path dir) throws Exception {
        try (BootedGuest guest = BootedGuest.boot(qemu, image, SMALL, dir)) {
            guest.console().awaitReady(BOOT);
            String injected = guest.console().injectTestFault(VERIFY);
            long cold = GuestConsole.field(injected, "cold_page").orElseThrow();
            long hot = GuestConsole.field(injected, "hot_page").orElseThrow();
            Verdict verdict = guest.console().requestVerdict(VERIFY);
            assertFalse(verdict.intact(), "a corrupted guest was found intact: " + verdict.detail());
            assertTrue(verdict.detail().contains(" bad_pages=2 "), verdict.detail());
            long first = Math.min(cold, hot);
            assertTrue(verdict.detail().contains(" page=" + first + " "), verdict.detail() + " vs " + injected);
        }
    }

    @Test
    void workloadRunsOnTheHostAndDetectsCorruption() throws Exception {
        ProcessBuilder builder = new ProcessBuilder(
                image.workloadBinary().toString(), "dwcp.mem=32 dwcp.rate=20000 dwcp.hot=25 dwcp.seed=3 dwcp.stats=1");
        builder.redirectErrorStream(true);
        try (TrackedProcess process = TrackedProcess.start(builder);
                GuestConsole console = new GuestConsole(
                        "host-workload",
                        process.process().getInputStream(),
                        process.process().getOutputStream())) {
            GuestConsole.Ready ready = console.awaitReady(Duration.ofSeconds(30));
            assertEquals(32 * 256, ready.pages());
            long stats = console.lineCount();
            String line = console.awaitLine(
                    stats, l -> GuestConsole.workloadLine(l).startsWith("STATS "), "STATS", Duration.ofSeconds(10));
            assertTrue(GuestConsole.field(line, "rate").orElseThrow() > 10_000, line);
            assertTrue(console.requestVerdict(Duration.ofSeconds(30)).intact());
            console.send("no-such-command");
            console.awaitLine(
                    stats,
                    l -> l.equals("DWCP-WORKLOAD UNKNOWN-COMMAND no-such-command"),
                    "UNKNOWN-COMMAND",
                    Duration.ofSeconds(10));
            console.injectTestFault(Duration.ofSeconds(10));
            Verdict verdict = console.requestVerdict(Duration.ofSeconds(30));
            assertFalse(verdict.intact());
            assertTrue(verdict.detail().contains(" bad_pages=2 "), verdict.detail());
        }
    }

    @Test
    void appWorkloadRunsOnTheHostAndDetectsCorruption(@TempDir Path dir) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(
                image.appBinary().toString(),
                "dwcp.mem=16 dwcp.rate=500 dwcp.seed=3 dwcp.stats=1 dwcp.db=" + dir.resolve("db/app.db")
                        + " dwcp.corpus=/usr/share/common-licenses");
        builder.redirectErrorStream(true);
        try (TrackedProcess process = TrackedProcess.start(builder);
                GuestConsole console = new GuestConsole(
                        "host-appload",
                        process.process().getInputStream(),
                        process.process().getOutputStream())) {
            GuestConsole.Ready ready = console.awaitReady(Duration.ofSeconds(60));
            assertTrue(ready.line().contains(" program=sqlite "), ready.line());
            assertTrue(ready.pages() * 4096 >= 16L << 20, "a database of " + ready.pages() + " pages: " + ready.line());
            long stats = console.lineCount();
            String line = console.awaitLine(
                    stats,
                    l -> GuestConsole.workloadLine(l).startsWith("STATS ")
                            && GuestConsole.field(l, "writes").orElse(0) > 0,
                    "STATS with transfers",
                    Duration.ofSeconds(20));
            assertTrue(GuestConsole.field(line, "rate").orElseThrow() > 0, line);
            Verdict intact = console.requestVerdict(Duration.ofSeconds(60));
            assertTrue(intact.intact(), intact.detail());
            assertTrue(intact.writes() > 0, intact.detail());
            assertTrue((intact.detail() + " ").contains(" ledger_rows=" + 2 * intact.writes() + " "), intact.detail());
            console.injectTestFault(Duration.ofSeconds(30));
            Verdict verdict = console.requestVerdict(Duration.ofSeconds(60));
            assertFalse(verdict.intact(), "a database with a flipped byte was found intact: " + verdict.detail());
            assertTrue(verdict.detail().contains(" check="), verdict.detail());
        }
    }

    @Test
    void appGuestBootsIntactAndAFaultIsFound(@TempDir Path dir) throws Exception {
        WorkloadSpec app = WorkloadSpec.app().withMemoryMiB(24).withPagesPerSecond(100);
        try (BootedGuest guest = BootedGuest.boot(QemuBinary.QEMU_10, image, app, dir)) {
            GuestConsole.Ready ready = guest.console().awaitReady(BOOT);
            assertTrue(ready.line().contains(" program=sqlite "), ready.line());
            long stats = guest.console().lineCount();
            guest.console()
                    .awaitLine(
                            stats,
                            l -> GuestConsole.field(l, "writes").orElse(0) > 0,
                            "a committed transfer",
                            Duration.ofSeconds(30));
            Verdict verdict = guest.console().requestVerdict(VERIFY);
            assertTrue(verdict.intact(), verdict.detail());
            assertTrue(verdict.writes() > 0, "no transfers: " + verdict);
            guest.console().injectTestFault(VERIFY);
            Verdict corrupt = guest.console().requestVerdict(VERIFY);
            assertFalse(corrupt.intact(), "a database with a flipped byte was found intact: " + corrupt.detail());
        }
    }

    @Test
    void concurrentBuildsIntoAnEmptyCacheAgreeAndTheNextIsCached(@TempDir Path cache) throws Exception {
        Path kernel = image.kernel();
        Path busybox = GuestImage.findBusybox();
        List<CompletableFuture<GuestImage>> builds = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            builds.add(CompletableFuture.supplyAsync(() -> GuestImage.build(kernel, busybox, cache)));
        }
        String key = builds.get(0).get().cacheKey();
        for (CompletableFuture<GuestImage> build : builds) {
            assertEquals(key, build.get().cacheKey());
            assertTrue(Files.size(build.get().initrd()) > 1_000_000);
        }
        long start = System.nanoTime();
        GuestImage cached = GuestImage.build(kernel, busybox, cache);
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(key, cached.cacheKey());
        assertTrue(millis < 2_000, "a cached build took " + millis + " ms");
        try (var entries = Files.list(cache)) {
            assertEquals(
                    List.of(".digests", key),
                    entries.map(p -> p.getFileName().toString()).sorted().toList(),
                    "temporary folders left in the cache");
        }
    }

    /** A QEMU running the test guest under TCG, its console on a unix socket. */
    record BootedGuest(TrackedProcess process, GuestConsole console, long startNanos) implements AutoCloseable {
        static BootedGuest boot(QemuBinary qemu, GuestImage image, WorkloadSpec spec, Path dir) throws IOException {
            qemu.requireInstalled();
            Path socket = dir.resolve("console.sock");
            List<String> argv = new ArrayList<>(qemu.command());
            argv.addAll(List.of(
                    "-accel",
                    "tcg,thread=multi",
                    "-cpu",
                    "qemu64",
                    "-m",
                    "1G",
                    "-smp",
                    "1",
                    "-nographic",
                    "-nodefaults",
                    "-no-reboot",
                    "-no-user-config",
                    "-monitor",
                    "none",
                    "-kernel",
                    image.kernel().toString(),
                    "-initrd",
                    image.initrd().toString(),
                    "-append",
                    image.kernelCommandLine(spec, qemu.needsTcgDirtyBitmapWorkaround()),
                    // wait=on: the guest starts only once the console is connected, so no line is lost
                    "-chardev",
                    "socket,id=console0,path=" + socket + ",server=on,wait=on",
                    "-serial",
                    "chardev:console0"));
            ProcessBuilder builder = new ProcessBuilder(argv)
                    .redirectOutput(dir.resolve("qemu.out").toFile())
                    .redirectError(dir.resolve("qemu.err").toFile());
            long start = System.nanoTime();
            TrackedProcess process = TrackedProcess.start(builder);
            try {
                SocketChannel channel = connect(socket, process, dir, Duration.ofSeconds(20));
                return new BootedGuest(process, GuestConsole.attach("qemu-" + qemu.label(), channel), start);
            } catch (IOException | RuntimeException e) {
                process.stop(Duration.ofSeconds(2));
                throw e;
            }
        }

        private static SocketChannel connect(Path socket, TrackedProcess process, Path dir, Duration timeout)
                throws IOException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                if (!process.isAlive()) {
                    throw new IllegalStateException(
                            "QEMU exited at start: " + Files.readString(dir.resolve("qemu.err")));
                }
                if (Files.exists(socket)) {
                    SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
                    try {
                        channel.connect(UnixDomainSocketAddress.of(socket));
                        return channel;
                    } catch (IOException e) {
                        channel.close(); // created but not yet listening: retry
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(
                            "no console socket " + socket + " after " + timeout.toSeconds() + " s");
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", e);
                }
            }
        }

        @Override
        public void close() {
            console.close();
            process.stop(Duration.ofSeconds(5));
        }
    }
}
