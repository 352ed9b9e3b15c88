package io.dwcp.testbed.sys;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * A long-running process the test bed started (QEMU, the WAN emulator, ...), recorded in a pid file
 * under {@link #STATE_DIR} so that a later run can end it if this JVM died before closing it.
 * Only processes recorded there are ever ended, only when the JVM that started them is gone
 * (so two test JVMs running at once never end each other's), and only after their command line
 * is checked, so a recycled pid is never hit. A record is {@code owner=<pid>} on its first line,
 * then the command line, NUL-separated.
 */
public final class TrackedProcess implements AutoCloseable {
    public static final Path STATE_DIR = Path.of(System.getProperty("dwcp.testbed.state", "/run/dwcp-testbed"));
    private static final Path PID_DIR = STATE_DIR.resolve("pids");
    private static final Logger LOG = Logger.getLogger(TrackedProcess.class.getName());

    /** Started by this JVM and not yet stopped: ended by a shutdown hook if the JVM exits first (SIGTERM, Ctrl-C). */
    private static final java.util.Set<TrackedProcess> OPEN = java.util.concurrent.ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            for (TrackedProcess open : List.copyOf(OPEN)) {
                                open.stop(Duration.ofSeconds(2));
                            }
                        },
                        "tracked-process-cleanup"));
    }

    private final Process process;
    private final List<String> argv;
    private final Path pidFile;

    private TrackedProcess(Process process, List<String> argv, Path pidFile) {
        this.process = process;
        this.argv = argv;
        this.pidFile = pidFile;
    }

    /** Starts {@code builder} and records it. Redirections are the caller's (set them on the builder). */
    public static TrackedProcess start(ProcessBuilder builder) {
        requireNonNull(builder, "builder is null");
        List<String> argv = List.copyOf(builder.command());
        try {
            Files.createDirectories(PID_DIR);
            Process process = builder.start();
            Path pidFile = PID_DIR.resolve(Long.toString(process.pid()));
            Files.writeString(
                    pidFile,
                    "owner=" + ProcessHandle.current().pid() + "\n" + String.join("\0", argv),
                    StandardCharsets.UTF_8);
            TrackedProcess tracked = new TrackedProcess(process, argv, pidFile);
            OPEN.add(tracked);
            return tracked;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + String.join(" ", argv), e);
        }
    }

    public Process process() {
        return process;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public List<String> argv() {
        return argv;
    }

    /** Asks the process to end (SIGTERM), then kills it after {@code grace}. */
    public void stop(Duration grace) {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        try {
            Files.deleteIfExists(pidFile);
        } catch (IOException e) {
            LOG.warning("cannot remove " + pidFile + ": " + e);
        }
        OPEN.remove(this);
    }

    @Override
    public void close() {
        stop(Duration.ofSeconds(5));
    }

    /**
     * Ends the processes that an earlier, crashed run recorded and never closed: those whose owner
     * JVM is no longer alive. Returns how many it ended. A pid whose command line is no longer the
     * recorded one is only forgotten.
     */
    public static int cleanupLeftovers() {
        if (!Files.isDirectory(PID_DIR)) {
            return 0;
        }
        int ended = 0;
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(PID_DIR)) {
            dir.forEach(files::add);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + PID_DIR, e);
        }
        for (Path file : files) {
            long pid;
            try {
                pid = Long.parseLong(file.getFileName().toString());
            } catch (NumberFormatException e) {
                continue;
            }
            try {
                String record = Files.readString(file, StandardCharsets.UTF_8);
                int newline = record.indexOf('\n');
                if (newline < 0 || !record.startsWith("owner=")) {
                    Files.deleteIfExists(file);
                    continue;
                }
                long owner = Long.parseLong(record.substring("owner=".length(), newline));
                if (Owners.isAlive(owner)) {
                    continue;
                }
                String recorded = record.substring(newline + 1);
                Path cmdline = Path.of("/proc", Long.toString(pid), "cmdline");
                if (Files.exists(cmdline)) {
                    String actual = new String(Files.readAllBytes(cmdline), StandardCharsets.UTF_8);
                    if (actual.endsWith("\0")) {
                        actual = actual.substring(0, actual.length() - 1);
                    }
                    if (actual.equals(recorded)) {
                        ProcessHandle.of(pid).ifPresent(handle -> {
                            handle.destroyForcibly();
                            handle.onExit()
                                    .orTimeout(10, TimeUnit.SECONDS)
                                    .exceptionally(t -> handle)
                                    .join();
                        });
                        LOG.info("ended leftover process " + pid + ": " + recorded.replace('\0', ' '));
                        ended++;
                    }
                }
                Files.deleteIfExists(file);
            } catch (IOException | NumberFormatException e) {
                throw new IllegalStateException("cannot clean up leftover process record " + file + ": " + e, e);
            }
        }
        return ended;
    }
}
