package io.dwcp.testbed;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;

/**
 * Prints where every thread is when a test runs longer than {@code dwcp.test.hang-dump-after} (an
 * ISO-8601 duration; unset: off, as for the unit tests): the threads of this JVM and, through
 * {@code jcmd Thread.print}, of every JVM this one started (the daemons under test). A hung
 * integration test then says where it hangs instead of only holding the build until its time
 * limit. Registered through {@code META-INF/services}; state is owned by the JUnit launcher's
 * thread and the watchdog's single daemon thread (a concurrent map between them).
 */
public final class HangWatchdog implements TestExecutionListener {
    public static final String PROPERTY = "dwcp.test.hang-dump-after";

    private final Duration after;
    private final Consumer<String> out;
    private final Map<String, ScheduledFuture<?>> running = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer;

    /** What the launcher makes: the time from the system property, the dump on stderr. */
    public HangWatchdog() {
        this(parse(System.getProperty(PROPERTY)), text -> {
            System.err.print(text);
            System.err.flush();
        });
    }

    HangWatchdog(Duration after, Consumer<String> out) {
        this.after = after;
        this.out = out;
        this.timer = after == null
                ? null
                : Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread thread = new Thread(r, "hang-watchdog");
                    thread.setDaemon(true);
                    return thread;
                });
    }

    private static Duration parse(String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        try {
            return Duration.parse(value.strip());
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(PROPERTY + " is not an ISO-8601 duration: " + value, e);
        }
    }

    @Override
    public void executionStarted(TestIdentifier test) {
        if (after == null || !test.isTest()) {
            return;
        }
        running.put(
                test.getUniqueId(),
                timer.schedule(
                        () -> dump(test.getDisplayName() + " (" + test.getUniqueId() + ")"),
                        after.toMillis(),
                        TimeUnit.MILLISECONDS));
    }

    @Override
    public void executionFinished(TestIdentifier test, TestExecutionResult result) {
        ScheduledFuture<?> dump = running.remove(test.getUniqueId());
        if (dump != null) {
            dump.cancel(false);
        }
    }

    private void dump(String test) {
        StringBuilder text = new StringBuilder(
                "\n=== hang watchdog: " + test + " still runs after " + after + "; the threads of the test JVM (pid "
                        + ProcessHandle.current().pid() + "):\n");
        Thread.getAllStackTraces().forEach((thread, stack) -> {
            text.append('"')
                    .append(thread.getName())
                    .append("\" ")
                    .append(thread.getState())
                    .append('\n');
            for (StackTraceElement frame : stack) {
                text.append("    at ").append(frame).append('\n');
            }
        });
        ProcessHandle.current().descendants().forEach(process -> {
            String command = process.info().commandLine().orElse("?");
            text.append("=== hang watchdog: descendant ")
                    .append(process.pid())
                    .append(": ")
                    .append(command.length() > 300 ? command.substring(0, 300) + "..." : command)
                    .append('\n');
            if (process.info().command().orElse("").endsWith("/java")) {
                text.append(threadsOf(process.pid()));
            }
        });
        out.accept(text.toString());
    }

    /** Tests that are being watched (for tests). */
    int watched() {
        return running.size();
    }

    private static String threadsOf(long pid) {
        String jcmd = System.getProperty("java.home") + "/bin/jcmd";
        Path output = null;
        try {
            output = Files.createTempFile("hang-watchdog-", ".txt");
            Process process = new ProcessBuilder(jcmd, Long.toString(pid), "Thread.print")
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .start();
            process.getOutputStream().close();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
                return "(jcmd " + pid + " Thread.print still running after 30 s)\n";
            }
            return Files.readString(output);
        } catch (IOException e) {
            return "(jcmd " + pid + " failed: " + e.getMessage() + ")\n";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "(interrupted waiting for jcmd " + pid + ")\n";
        } finally {
            if (output != null) {
                try {
                    Files.deleteIfExists(output);
                } catch (IOException ignored) {
                    // a temporary file in the build's own tmpdir
                }
            }
        }
    }
}
