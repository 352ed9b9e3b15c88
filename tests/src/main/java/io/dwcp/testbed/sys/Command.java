package io.dwcp.testbed.sys;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a short external command (ip, sysctl, gcc, cpio, ...) to completion and returns its output.
 * A non-zero exit, or a command still running at its time limit, is a {@link CommandException}
 * that carries the command line and what it wrote on stderr.
 */
public final class Command {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration OUTPUT_GRACE = Duration.ofSeconds(10);

    private Command() {}

    public record Result(List<String> argv, int exitCode, String stdout, String stderr) {
        public Result {
            argv = List.copyOf(argv);
        }
    }

    /** Runs {@code argv}; throws unless it exits 0. Returns stdout. */
    public static String run(String... argv) {
        return run(DEFAULT_TIMEOUT, List.of(argv)).stdout();
    }

    /** Runs {@code argv}; throws unless it exits 0. */
    public static Result run(Duration timeout, List<String> argv) {
        Result result = runAllowingFailure(timeout, argv);
        if (result.exitCode() != 0) {
            throw new CommandException(result);
        }
        return result;
    }

    /** Runs {@code argv} and returns whatever it exited with; throws only if it cannot run or times out. */
    public static Result runAllowingFailure(Duration timeout, List<String> argv) {
        requireNonNull(timeout, "timeout is null");
        requireNonNull(argv, "argv is null");
        ProcessBuilder builder = new ProcessBuilder(argv);
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + String.join(" ", argv), e);
        }
        try {
            process.getOutputStream().close();
        } catch (IOException ignored) {
            // stdin of a process we do not feed: nothing to recover
        }
        StreamDrain out = new StreamDrain(process.getInputStream());
        StreamDrain err = new StreamDrain(process.getErrorStream());
        out.start();
        err.start();
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
                throw new CommandException(
                        new Result(argv, -1, out.text(), err.text()),
                        "still running after " + timeout.toSeconds() + " s");
            }
            // a process that left a child holding its output open would keep the drains reading for
            // ever: what arrived within a few seconds of its exit is its output
            out.join(OUTPUT_GRACE.toMillis());
            err.join(OUTPUT_GRACE.toMillis());
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new CommandException(new Result(argv, -1, out.text(), err.text()), "interrupted");
        }
        return new Result(argv, process.exitValue(), out.text(), err.text());
    }

    /** Collects a process's output on its own thread, so a chatty command never blocks on a full pipe. */
    private static final class StreamDrain extends Thread {
        private final InputStream in;
        private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();

        StreamDrain(InputStream in) {
            super("command-drain");
            setDaemon(true);
            this.in = in;
        }

        @Override
        public void run() {
            byte[] chunk = new byte[8192];
            try (in) {
                for (int n; (n = in.read(chunk)) >= 0; ) {
                    synchronized (buffer) {
                        buffer.write(chunk, 0, n);
                    }
                }
            } catch (IOException e) {
                // the process ended and closed its end: what was read is kept
            }
        }

        String text() {
            synchronized (buffer) {
                return buffer.toString(java.nio.charset.StandardCharsets.UTF_8);
            }
        }
    }
}
