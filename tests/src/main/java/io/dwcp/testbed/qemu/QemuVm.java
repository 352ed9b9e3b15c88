package io.dwcp.testbed.qemu;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import io.dwcp.testbed.sys.Folders;
import io.dwcp.testbed.sys.TrackedProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * One QEMU process of the test bed: a direct-kernel-boot guest with its serial console and QMP
 * monitor on unix sockets in its own work folder. A destination is started with
 * {@code -incoming defer} and receives through {@link Qmp} {@code migrate-incoming}.
 * Unix sockets are file system objects, so the harness reaches them from any network namespace.
 */
public final class QemuVm implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(QemuVm.class.getName());

    /**
     * @param starter starts QEMU where the VM lives and records it: {@code TrackedProcess::start} on
     *                this host, {@code host::startTracked} inside a test host's network namespace
     */
    public record Config(
            String name,
            QemuBinary binary,
            Accelerator accelerator,
            int ramMiB,
            Path kernel,
            Path initrd,
            String kernelCommandLine,
            boolean incoming,
            Path workDir,
            Function<ProcessBuilder, TrackedProcess> starter) {
        public Config {
            requireNonNull(name, "name is null");
            requireNonNull(binary, "binary is null");
            requireNonNull(accelerator, "accelerator is null");
            requireNonNull(kernel, "kernel is null");
            requireNonNull(initrd, "initrd is null");
            requireNonNull(kernelCommandLine, "kernelCommandLine is null");
            requireNonNull(workDir, "workDir is null");
            requireNonNull(starter, "starter is null");
            if (ramMiB < 64) {
                throw new IllegalArgumentException("ramMiB must be at least 64, not " + ramMiB);
            }
        }
    }

    private final Config config;
    private final TrackedProcess process;
    private final Qmp qmp;
    private final SocketChannel console;

    private QemuVm(Config config, TrackedProcess process, Qmp qmp, SocketChannel console) {
        this.config = config;
        this.process = process;
        this.qmp = qmp;
        this.console = console;
    }

    public static QemuVm start(Config config) {
        config.binary().requireInstalled();
        Path dir = config.workDir();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
        Path qmpSocket = dir.resolve("qmp.sock");
        Path consoleSocket = dir.resolve("console.sock");
        try {
            // A socket file left by an earlier QEMU in this folder could be reached before the new
            // QEMU replaces it: remove it first, so connecting can only reach this QEMU.
            Files.deleteIfExists(qmpSocket);
            Files.deleteIfExists(consoleSocket);
            Files.deleteIfExists(dir.resolve("console.log"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clear " + dir, e);
        }
        List<String> argv = new ArrayList<>(config.binary().command());
        argv.addAll(List.of("-name", config.name(), "-nodefaults", "-nographic", "-no-reboot", "-no-user-config"));
        argv.addAll(config.accelerator().arguments());
        argv.addAll(List.of(
                "-smp",
                "1",
                "-m",
                Integer.toString(config.ramMiB()),
                "-kernel",
                config.kernel().toString(),
                "-initrd",
                config.initrd().toString(),
                "-append",
                config.kernelCommandLine(),
                "-chardev",
                "socket,id=console0,path=" + consoleSocket + ",server=on,wait=off,logfile=" + dir.resolve("console.log")
                        + ",logappend=on",
                "-serial",
                "chardev:console0",
                "-qmp",
                "unix:" + qmpSocket + ",server=on,wait=off",
                "-monitor",
                "none"));
        if (config.incoming()) {
            argv.addAll(List.of("-incoming", "defer"));
        }
        ProcessBuilder builder = new ProcessBuilder(argv)
                .redirectOutput(dir.resolve("qemu.out").toFile())
                .redirectError(dir.resolve("qemu.err").toFile());
        TrackedProcess process = config.starter().apply(builder);
        Qmp qmp = null;
        try {
            qmp = Qmp.connect(config.name(), qmpSocket, Duration.ofSeconds(20));
            SocketChannel console = SocketChannel.open(StandardProtocolFamily.UNIX);
            console.connect(UnixDomainSocketAddress.of(consoleSocket));
            LOG.fine(() -> config.name() + ": started pid " + process.pid() + ": " + String.join(" ", argv));
            return new QemuVm(config, process, qmp, console);
        } catch (RuntimeException | IOException e) {
            if (qmp != null) {
                qmp.close();
            }
            process.stop(Duration.ofSeconds(2));
            String stderr = readQuietly(dir.resolve("qemu.err"));
            throw new IllegalStateException(
                    config.name() + ": QEMU did not come up: " + e.getMessage()
                            + (stderr.isBlank() ? "" : "\nQEMU said: " + stderr.strip()),
                    e);
        }
    }

    public String name() {
        return config.name();
    }

    public Config config() {
        return config;
    }

    public Qmp qmp() {
        return qmp;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** How the QEMU process ended ("with status 1", "by signal 6"), or "not yet" while it runs. */
    public String exitStatus() {
        if (process.isAlive()) {
            return "not yet";
        }
        int status = process.process().exitValue();
        return status > 128 ? "by signal " + (status - 128) : "with status " + status;
    }

    /**
     * The guest's serial console, connected. Read and write it directly (for example through
     * {@code GuestConsole.attach}): the JDK's stream adapters of one blocking channel share a lock,
     * so a write would wait behind a pending read.
     */
    public SocketChannel consoleChannel() {
        return console;
    }

    /** The whole serial console output so far (QEMU's own log of the chardev). */
    public String consoleLog() {
        return readQuietly(config.workDir().resolve("console.log"));
    }

    /** What QEMU wrote on stderr so far. */
    public String stderr() {
        return readQuietly(config.workDir().resolve("qemu.err"));
    }

    /** The run state from {@code query-status}: running, paused, inmigrate, postmigrate, ... */
    public String runState() {
        JsonNode status = qmp.execute("query-status");
        return status.path("status").asText();
    }

    /** Ends QEMU (quit, then SIGTERM/SIGKILL if it hangs) and removes its work folder. */
    @Override
    public void close() {
        try {
            if (process.isAlive() && qmp.isConnected()) {
                qmp.execute("quit", null, Duration.ofSeconds(3));
            }
        } catch (RuntimeException e) {
            // QEMU is ended below in any case
        }
        qmp.close();
        try {
            console.close();
        } catch (IOException e) {
            // the socket goes with the process
        }
        process.stop(Duration.ofSeconds(5));
        if (!Boolean.getBoolean("dwcp.keepVmFiles")) {
            Folders.deleteTree(config.workDir());
        }
    }

    private static String readQuietly(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, java.nio.charset.StandardCharsets.ISO_8859_1) : "";
        } catch (IOException e) {
            return "";
        }
    }
}
