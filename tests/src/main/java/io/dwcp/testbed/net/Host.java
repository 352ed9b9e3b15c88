package io.dwcp.testbed.net;

import static java.util.Objects.requireNonNull;

import io.dwcp.testbed.sys.Command;
import io.dwcp.testbed.sys.TrackedProcess;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * One host of the test bed: a network namespace with one interface ({@value #INTERFACE}, MTU 1500)
 * and one IPv4 address. Commands run inside it with {@code ip netns exec}; Java code can open its
 * sockets inside it with {@link #call} (no extra process).
 */
public final class Host {
    /** The host's only interface (besides lo). */
    public static final String INTERFACE = "eth0";

    private final String name;
    private final String netns;
    private final String address;

    Host(String name, String netns, String address) {
        this.name = requireNonNull(name, "name is null");
        this.netns = requireNonNull(netns, "netns is null");
        this.address = requireNonNull(address, "address is null");
    }

    /** A short name for logs: "a" or "b". */
    public String name() {
        return name;
    }

    /** The network namespace, as {@code ip netns} names it. */
    public String netns() {
        return netns;
    }

    /** The host's IPv4 address, dotted. */
    public String address() {
        return address;
    }

    /**
     * A process builder that runs {@code argv} inside this host's namespace, through
     * {@code ip netns exec} (which also remounts /sys for the namespace). Its process replaces
     * {@code ip} by exec, so its command line is {@code argv}, not the builder's: to run a
     * long-lived process that {@link TrackedProcess} must recognise after a crash, use
     * {@link #startTracked} instead.
     */
    public ProcessBuilder command(String... argv) {
        return new ProcessBuilder(wrap(argv));
    }

    /** Runs a short command inside the namespace; throws a CommandException unless it exits 0. */
    public Command.Result run(String... argv) {
        return Command.run(Command.DEFAULT_TIMEOUT, wrap(argv));
    }

    /**
     * Starts {@code builder} inside this host's namespace as a {@link TrackedProcess}: it is spawned
     * by a thread that has entered the namespace (a child inherits the network namespace of the
     * thread that spawns it), so its command line is exactly the builder's and a later
     * {@link TrackedProcess#cleanupLeftovers()} recognises it. Unlike {@code ip netns exec}, /sys
     * is not remounted (it still shows the root namespace's interfaces).
     */
    public TrackedProcess startTracked(ProcessBuilder builder) {
        requireNonNull(builder, "builder is null");
        return call(() -> TrackedProcess.start(builder));
    }

    /** Runs {@code task} on a thread inside this host's namespace (its sockets are the host's). */
    public <T> T call(Callable<T> task) {
        return Netns.call(netns, task);
    }

    /** Starts {@code task} on a daemon thread inside this host's namespace. */
    public Thread start(String threadName, Runnable task) {
        return Netns.start(netns, threadName, task);
    }

    private List<String> wrap(String... argv) {
        requireNonNull(argv, "argv is null");
        if (argv.length == 0) {
            throw new IllegalArgumentException("empty command");
        }
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", netns));
        command.addAll(List.of(argv));
        return command;
    }

    @Override
    public String toString() {
        return name + "(" + netns + ", " + address + ")";
    }
}
