package io.dwcp.testbed.qemu;

import static java.util.Objects.requireNonNull;

import io.dwcp.testbed.guest.GuestConsole;
import io.dwcp.testbed.guest.GuestConsoleException;
import io.dwcp.testbed.guest.GuestImage;
import io.dwcp.testbed.guest.Verdict;
import io.dwcp.testbed.guest.WorkloadSpec;
import io.dwcp.testbed.net.Host;
import io.dwcp.testbed.net.TwoHostNetwork;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A source guest booted to its running workload on one host and a destination QEMU waiting
 * ({@code -incoming defer}) on another, with both serial consoles attached: what every migration
 * test starts from. {@link #migrate} runs one migration and checks the guest that should be
 * running afterwards with the workload's own verdict.
 */
public final class GuestPair implements AutoCloseable {
    private final TwoHostNetwork network;
    private final QemuVm source;
    private final GuestConsole sourceConsole;
    private final QemuVm destination;
    private final GuestConsole destinationConsole;
    /** The source runs on host B and the destination on host A. */
    private final boolean reversed;

    private GuestPair(
            TwoHostNetwork network,
            QemuVm source,
            GuestConsole sourceConsole,
            QemuVm destination,
            GuestConsole destinationConsole,
            boolean reversed) {
        this.network = network;
        this.reversed = reversed;
        this.source = source;
        this.sourceConsole = sourceConsole;
        this.destination = destination;
        this.destinationConsole = destinationConsole;
    }

    /** Boots the source on host A, waits for its workload, then starts the destination on host B. */
    public static GuestPair start(
            TwoHostNetwork network,
            GuestImage image,
            QemuBinary qemu,
            WorkloadSpec workload,
            int ramMiB,
            Path workDir) {
        requireNonNull(network, "network is null");
        Host a = network.hostA();
        String cmdline = image.kernelCommandLine(workload, qemu.needsTcgDirtyBitmapWorkaround());
        QemuVm source = QemuVm.start(new QemuVm.Config(
                "src",
                qemu,
                Accelerator.detect(),
                ramMiB,
                image.kernel(),
                image.initrd(),
                cmdline,
                false,
                workDir.resolve("src"),
                a::startTracked));
        GuestConsole sourceConsole = null;
        try {
            sourceConsole = GuestConsole.attach("src", source.consoleChannel());
            sourceConsole.awaitReady(Duration.ofMinutes(3));
            return withNewDestination(network, source, sourceConsole, workDir.resolve("dst"), false);
        } catch (RuntimeException e) {
            if (sourceConsole != null) {
                sourceConsole.close();
            }
            source.close();
            throw e;
        }
    }

    private static GuestPair withNewDestination(
            TwoHostNetwork network, QemuVm source, GuestConsole sourceConsole, Path dir, boolean reversed) {
        QemuVm.Config config = source.config();
        Host host = reversed ? network.hostA() : network.hostB();
        String name = reversed ? "back" : "dst";
        QemuVm destination = QemuVm.start(new QemuVm.Config(
                name,
                config.binary(),
                config.accelerator(),
                config.ramMiB(),
                config.kernel(),
                config.initrd(),
                config.kernelCommandLine(),
                true,
                dir,
                host::startTracked));
        try {
            GuestConsole destinationConsole = GuestConsole.attach(name, destination.consoleChannel());
            return new GuestPair(network, source, sourceConsole, destination, destinationConsole, reversed);
        } catch (RuntimeException e) {
            destination.close();
            throw e;
        }
    }

    /**
     * After a failed migration: the same running source with a fresh destination QEMU (the old one
     * is closed), ready to migrate again. This pair must not be used afterwards except to close the
     * returned one.
     */
    public GuestPair retryWithNewDestination(Path dir) {
        destinationConsole.close();
        destination.close();
        return withNewDestination(network, source, sourceConsole, dir, reversed);
    }

    /**
     * After a completed migration: the way back. The guest now running at the destination becomes
     * the source, and a fresh destination QEMU waits on the host the guest came from; the old
     * source is closed. This pair must not be used afterwards except to close the returned one.
     */
    public GuestPair reverse(Path dir) {
        sourceConsole.close();
        source.close();
        return withNewDestination(network, destination, destinationConsole, dir, !reversed);
    }

    public QemuVm source() {
        return source;
    }

    public QemuVm destination() {
        return destination;
    }

    /** Both QEMUs take the mode's capabilities and parameters. */
    public void configure(NativeMode mode) {
        mode.configure(source.qmp());
        mode.configure(destination.qmp());
    }

    /**
     * Migrates with the destination listening on {@code listenUri} and the source connecting to
     * {@code connectUri}; wire bytes are the hosts' interface counters.
     */
    public MigrationResult migrate(
            String listenUri, String connectUri, Duration limit, MigrationRun.Progress progress) {
        return MigrationRun.run(
                source,
                destination,
                listenUri,
                connectUri,
                limit,
                reversed
                        ? MigrationRun.WireCounter.of(network::bytesBtoA, network::bytesAtoB)
                        : MigrationRun.WireCounter.of(network::bytesAtoB, network::bytesBtoA),
                vm -> {
                    try {
                        Verdict verdict = (vm == destination ? destinationConsole : sourceConsole)
                                .requestVerdict(Duration.ofMinutes(2));
                        return new MigrationRun.Check(verdict.intact(), verdict.detail());
                    } catch (GuestConsoleException e) {
                        // the guest could not be asked: say whether its QEMU is still there
                        String side = vm == destination ? "destination" : "source";
                        return new MigrationRun.Check(
                                false,
                                e.getMessage() + "\n" + side + " QEMU "
                                        + (vm.isAlive() ? "still runs" : "exited " + vm.exitStatus()) + ", stderr:\n"
                                        + vm.stderr().strip());
                    }
                },
                progress);
    }

    /** A direct TCP migration to the destination's host (QEMU's own data path). */
    public MigrationResult migrateDirect(Duration limit) {
        String uri = "tcp:" + (reversed ? network.hostA() : network.hostB()).address() + ":4444";
        return migrate(uri, uri, limit, null);
    }

    @Override
    public void close() {
        destinationConsole.close();
        destination.close();
        sourceConsole.close();
        source.close();
    }
}
