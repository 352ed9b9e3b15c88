package io.dwcp.testbed.libvirt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dwcp.testbed.guest.GuestConsole;
import io.dwcp.testbed.guest.GuestImage;
import io.dwcp.testbed.guest.Verdict;
import io.dwcp.testbed.guest.WorkloadSpec;
import io.dwcp.testbed.qemu.Accelerator;
import io.dwcp.testbed.qemu.QemuBinary;
import io.dwcp.testbed.sys.Command;
import io.dwcp.testbed.wan.LinkProfile;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A direct-kernel-boot guest defined on libvirt host A, migrated by libvirt itself
 * ({@code virsh migrate --live --p2p}: A's libvirtd drives the migration and talks to B's over TCP)
 * to libvirt host B across an emulated WAN link, and verified intact at B by its own workload.
 * Both hosts have DWCP's hook in {@code /etc/libvirt/hooks/qemu.d/}, with no dwcpd running: B's
 * libvirtd runs it on {@code migrate begin}, and the migration proceeds (the hook prints nothing
 * on stdout, which libvirt would otherwise take as a replacement domain XML).
 */
class LibvirtMigrationIT {
    private static final int GUEST_RAM_MIB = 256;
    /**
     * 128 MiB written, then 500 pages/s (2 MB/s) rewritten: light enough for the migration to
     * converge on a loaded 2-core machine where TCG guests and the WAN emulator share the CPUs.
     */
    private static final WorkloadSpec WORKLOAD = new WorkloadSpec(128, 500, 10, 42);

    private static final Duration MIGRATION_LIMIT = Duration.ofMinutes(10);
    private static final QemuBinary QEMU = QemuBinary.QEMU_7_2;

    private static LibvirtTestBed bed;
    private static GuestImage image;

    @BeforeAll
    static void setUp() {
        Optional<String> unavailable = LibvirtHost.whyUnavailable();
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root: namespaces, mounts, libvirtd");
        if (unavailable.isPresent()) {
            throw new IllegalStateException(unavailable.get());
        }
        LibvirtTestBed.cleanupLeftovers();
        QEMU.requireInstalled();
        image = GuestImage.build();
        // 20 ms RTT, 400 Mbit/s, a little loss: a WAN for libvirt's control connection and QEMU's stream.
        LinkProfile link = LinkProfile.direct()
                .withDelay(Duration.ofMillis(10))
                .withRate(400_000_000L)
                .withLoss(0.0001);
        Path hook = Path.of(System.getProperty("dwcp.hook.script", "../libvirt-hooks/src/main/sh/50-dwcp"))
                .toAbsolutePath();
        if (!Files.isExecutable(hook)) {
            throw new IllegalStateException("the libvirt hook is not at " + hook + " (set -Ddwcp.hook.script)");
        }
        bed = LibvirtTestBed.create("libvirtit", link, link, List.of(hook));
    }

    @AfterAll
    static void tearDown() {
        if (bed != null) {
            bed.close();
        }
    }

    @Test
    void hostsAreDistinctLibvirtInstances() {
        LibvirtHost a = bed.hostA();
        LibvirtHost b = bed.hostB();
        assertEquals(a.hostname(), a.virsh("hostname").strip());
        assertEquals(b.hostname(), b.virsh("hostname").strip());
        assertNotEquals(a.hostname(), b.hostname());
        assertTrue(a.virsh("capabilities").contains("<uuid>" + a.hostUuid() + "</uuid>"));
        assertTrue(b.virsh("capabilities").contains("<uuid>" + b.hostUuid() + "</uuid>"));
        // B's libvirtd is reachable from A's network namespace only through the test bed's network
        String fromA = a.host()
                .run("virsh", "-q", "-c", b.tcpUri(), "hostname")
                .stdout()
                .strip();
        assertEquals(b.hostname(), fromA);
    }

    @Test
    void migratesADirectKernelBootGuestLiveP2pAcrossTheEmulatedWan() throws Exception {
        LibvirtHost a = bed.hostA();
        LibvirtHost b = bed.hostB();
        String domain = LibvirtHost.domainName("vm1");
        String console = LibvirtHost.consoleSocketInside(domain);
        LibvirtDomainXml xml = new LibvirtDomainXml(
                domain,
                QEMU,
                Accelerator.detect(),
                GUEST_RAM_MIB,
                image.kernel(),
                image.initrd(),
                image.kernelCommandLine(WORKLOAD, QEMU.needsTcgDirtyBitmapWorkaround()),
                console);

        a.createPaused(xml);
        try (GuestConsole source = attach("a:" + domain, a.outside(console))) {
            a.virsh("resume", domain);
            source.awaitReady(Duration.ofMinutes(3));
            Verdict before = source.requestVerdict(Duration.ofMinutes(2));
            assertTrue(before.intact(), "source guest before the migration: " + before.detail());

            long wireBefore = bed.network().bytesAtoB();
            long start = System.nanoTime();
            // --auto-converge: QEMU throttles the guest's vCPU if its dirty rate outruns the link
            CompletableFuture<Command.Result> running = CompletableFuture.supplyAsync(() -> a.virshAllowingFailure(
                    MIGRATION_LIMIT, "migrate", "--live", "--p2p", "--auto-converge", domain, b.tcpUri()));
            List<String> progress = new ArrayList<>();
            while (!running.isDone()) {
                try {
                    running.get(15, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    Command.Result job = a.virshAllowingFailure(Duration.ofSeconds(30), "domjobinfo", domain);
                    String line = (System.nanoTime() - start) / 1_000_000_000 + " s: "
                            + job.stdout()
                                    .lines()
                                    .filter(l -> l.startsWith("Data processed")
                                            || l.startsWith("Data remaining")
                                            || l.startsWith("Memory bandwidth")
                                            || l.startsWith("Dirty rate")
                                            || l.startsWith("Iteration"))
                                    .map(l -> l.replaceAll("\\s+", " "))
                                    .collect(Collectors.joining(", "));
                    progress.add(line);
                    System.out.println("migration " + line);
                }
            }
            Command.Result migrate = running.get();
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(
                    0,
                    migrate.exitCode(),
                    "virsh migrate failed: " + migrate.stderr()
                            + "\n--- progress ---\n" + String.join("\n", progress)
                            + "\n--- A's QEMU log ---\n" + a.qemuLog(domain) + "\n--- B's QEMU log ---\n"
                            + b.qemuLog(domain)
                            + "\n--- B's libvirtd ---\n" + b.libvirtdLog());
            long wire = bed.network().bytesAtoB() - wireBefore;

            assertEquals(Optional.of("running"), b.domainState(domain));
            String hookCall = "hooks/qemu.d/50-dwcp " + domain + " migrate begin -";
            assertTrue(
                    b.commandsRun().stream().anyMatch(line -> line.contains(hookCall)),
                    "B's libvirtd did not run the hook (" + hookCall + "): " + b.commandsRun());
            assertTrue(
                    a.commandsRun().stream().noneMatch(line -> line.contains(hookCall)),
                    "the source ran the destination's hook: " + a.commandsRun());
            assertFalse(a.runningDomains().contains(domain), "the domain still runs on A: " + a.runningDomains());
            assertTrue(source.hasEnded() || awaitEnded(source), "A's QEMU (the console's server) did not end");
            // the guest's written memory crossed the emulated link
            assertTrue(wire > (long) WORKLOAD.memoryMiB() << 20 >> 1, "only " + wire + " bytes from A to B");

            try (GuestConsole destination = attach("b:" + domain, b.outside(console))) {
                Verdict after = destination.requestVerdict(Duration.ofMinutes(2));
                assertTrue(after.intact(), "guest at B after the migration: " + after.detail());
                assertTrue(
                        after.writes() > before.writes(),
                        "the workload did not go on writing at B: " + before.writes() + " then " + after.writes());
            }
            System.out.printf("libvirt p2p migration %s: %d ms, %d bytes A->B%n", domain, millis, wire);
        } finally {
            for (LibvirtHost host : List.of(a, b)) {
                if (host.domainState(domain).isPresent()) {
                    host.virshAllowingFailure(Duration.ofSeconds(30), "destroy", domain);
                }
            }
        }
    }

    private static boolean awaitEnded(GuestConsole console) throws InterruptedException {
        for (int i = 0; i < 100 && !console.hasEnded(); i++) {
            Thread.sleep(100);
        }
        return console.hasEnded();
    }

    private static GuestConsole attach(String name, Path socket) throws IOException {
        if (!Files.exists(socket)) {
            throw new IllegalStateException("no console socket " + socket);
        }
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket));
        return GuestConsole.attach(name, channel);
    }
}
