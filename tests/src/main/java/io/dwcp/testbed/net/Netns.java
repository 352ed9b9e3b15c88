package io.dwcp.testbed.net;

import static java.util.Objects.requireNonNull;

import io.dwcp.testbed.sys.Command;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Named network namespaces (the ones {@code ip netns} keeps under {@code /run/netns}), and a way to
 * run Java code inside one: a thread that has called {@code setns(CLONE_NEWNET)} creates its
 * sockets in that namespace, and a socket stays there whichever thread uses it later. Only that
 * thread moves; the rest of the JVM stays where it was.
 */
public final class Netns {
    public static final Path NETNS_DIR = Path.of("/run/netns");

    private Netns() {}

    public static void add(String name) {
        Command.run("ip", "netns", "add", name);
    }

    /** Deletes {@code name}; a namespace already gone is not an error. */
    public static void delete(String name) {
        if (exists(name)) {
            Command.run("ip", "netns", "delete", name);
        }
    }

    public static boolean exists(String name) {
        return Files.exists(NETNS_DIR.resolve(name));
    }

    /** The names of the namespaces {@code ip netns} knows. */
    public static List<String> list() {
        List<String> names = new ArrayList<>();
        for (String line : Command.run("ip", "netns", "list").split("\n")) {
            String trimmed = line.strip();
            if (!trimmed.isEmpty()) {
                // "name (id: 3)"
                int space = trimmed.indexOf(' ');
                names.add(space < 0 ? trimmed : trimmed.substring(0, space));
            }
        }
        return names;
    }

    /** Moves the calling thread (only it) into namespace {@code name}. */
    public static void enterOnThisThread(String name) {
        requireNonNull(name, "name is null");
        Path path = NETNS_DIR.resolve(name);
        int fd = LinuxCalls.open(path.toString(), LinuxCalls.O_RDONLY | LinuxCalls.O_CLOEXEC);
        if (fd < 0) {
            throw new IllegalStateException("cannot open " + path + " (does network namespace " + name + " exist?)");
        }
        try {
            if (LinuxCalls.setns(fd, LinuxCalls.CLONE_NEWNET) != 0) {
                throw new IllegalStateException("setns(" + path + ", CLONE_NEWNET) failed (not root?)");
            }
        } finally {
            LinuxCalls.close(fd);
        }
    }

    /**
     * Runs {@code task} on a new thread that lives in namespace {@code name}, waits for it and
     * returns its result. Sockets it opens stay in that namespace and may be used by any thread.
     */
    public static <T> T call(String name, Callable<T> task) {
        requireNonNull(task, "task is null");
        CompletableFuture<T> result = new CompletableFuture<>();
        Thread thread = new Thread(
                () -> {
                    try {
                        enterOnThisThread(name);
                        result.complete(task.call());
                    } catch (Throwable t) {
                        result.completeExceptionally(t);
                    }
                },
                "netns-" + name);
        thread.setDaemon(true);
        thread.start();
        try {
            return result.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running a task in " + name, e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (cause instanceof Error error) {
                throw error;
            }
            throw new IllegalStateException("task in network namespace " + name + " failed: " + cause, cause);
        }
    }

    /** Starts {@code task} on a new daemon thread that lives in namespace {@code name}. */
    public static Thread start(String name, String threadName, Runnable task) {
        requireNonNull(task, "task is null");
        Thread thread = new Thread(
                () -> {
                    enterOnThisThread(name);
                    task.run();
                },
                threadName);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }
}
