package io.dwcp.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * CPU time of processes from {@code /proc/<pid>/stat}: user plus system time of all of a process's
 * threads, in seconds. Linux reports it in clock ticks of {@code USER_HZ}, which is 100 on every
 * architecture the kernel exposes to user space ({@code sysconf(_SC_CLK_TCK)}).
 */
final class ProcessCpu {
    static final double TICKS_PER_SECOND = 100.0;

    private ProcessCpu() {}

    /** Seconds of CPU (utime + stime) the process used so far, or -1 when it is gone or unreadable. */
    static double seconds(long pid) {
        try {
            return parseStat(Files.readString(Path.of("/proc", Long.toString(pid), "stat")));
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * The utime + stime fields (14 and 15) of a {@code stat} line, in seconds. The command name
     * (field 2) is in parentheses and may itself hold spaces and parentheses: fields are counted
     * from the last ')'.
     */
    static double parseStat(String stat) {
        int end = stat.lastIndexOf(')');
        if (end < 0) {
            throw new IllegalArgumentException("not a /proc stat line: " + stat);
        }
        String[] fields = stat.substring(end + 2).trim().split(" ");
        // fields[0] is field 3 (state): utime is field 14, stime field 15
        long utime = Long.parseLong(fields[14 - 3]);
        long stime = Long.parseLong(fields[15 - 3]);
        return (utime + stime) / TICKS_PER_SECOND;
    }

    /**
     * The kinds of a dwcpd's threads whose CPU a run reports apart, by thread name (Linux keeps the
     * first 15 bytes): the JIT compilers, the collector, the event loops, the codec threads, the
     * baseline jobs and spool writers; {@link #OTHER} is the rest of the process (startup, the control socket, and
     * threads that ended during the run).
     */
    static final List<String> THREAD_KINDS = List.of("jit", "gc", "io", "codec", "baselines");

    static final String OTHER = "other";

    static String threadKind(String name) {
        if (name.startsWith("C1 CompilerThre") || name.startsWith("C2 CompilerThre")) {
            return "jit";
        }
        if (name.startsWith("GC Thread") || name.startsWith("G1 ") || name.equals("VM Thread")) {
            return "gc";
        }
        if (name.startsWith("dwcpd-io")) {
            return "io";
        }
        if (name.startsWith("dwcp-codec")) {
            return "codec";
        }
        if (name.startsWith("hde-baseline")) {
            return "baselines";
        }
        return OTHER;
    }

    /** CPU seconds of each live thread of the process by {@link #threadKind} (no {@link #OTHER}); empty if unreadable. */
    static Map<String, Double> threadSeconds(long pid) {
        Map<String, Double> kinds = new TreeMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    String kind =
                            threadKind(Files.readString(task.resolve("comm")).strip());
                    if (!kind.equals(OTHER)) {
                        kinds.merge(kind, parseStat(Files.readString(task.resolve("stat"))), Double::sum);
                    }
                } catch (IOException | RuntimeException e) {
                    // the thread ended meanwhile: its time stays in the process's total
                }
            }
        } catch (IOException | RuntimeException e) {
            return Map.of();
        }
        return kinds;
    }

    /** CPU seconds of named processes between {@link #start} and {@link #stop}. */
    static final class Meter {
        private final Map<String, Long> pids = new LinkedHashMap<>();
        private final Map<String, Double> start = new LinkedHashMap<>();
        private final Map<String, Long> byThreads = new LinkedHashMap<>();
        private final Map<String, Map<String, Double>> threadStart = new LinkedHashMap<>();

        Meter add(String name, long pid) {
            pids.put(name, pid);
            return this;
        }

        /**
         * Also reports where the process's time went by {@link #threadKind}: keys {@code name.jit},
         * {@code name.gc}, ... and {@code name.other} (the process's time not in those kinds).
         */
        Meter addWithThreads(String name, long pid) {
            byThreads.put(name, pid);
            return add(name, pid);
        }

        Meter start() {
            pids.forEach((name, pid) -> start.put(name, seconds(pid)));
            byThreads.forEach((name, pid) -> threadStart.put(name, threadSeconds(pid)));
            return this;
        }

        /** Seconds used by each process since {@link #start}; -1 for one that could not be read at either end. */
        Map<String, Double> stop() {
            Map<String, Double> used = new LinkedHashMap<>();
            pids.forEach((name, pid) -> {
                double before = start.getOrDefault(name, -1.0);
                double after = seconds(pid);
                used.put(name, before < 0 || after < 0 ? -1.0 : Math.round((after - before) * 100) / 100.0);
            });
            byThreads.forEach((name, pid) -> {
                double total = used.get(name);
                Map<String, Double> before = threadStart.getOrDefault(name, Map.of());
                Map<String, Double> after = threadSeconds(pid);
                if (total < 0 || after.isEmpty()) {
                    return;
                }
                double kinds = 0;
                for (String kind : THREAD_KINDS) {
                    // a thread started during the run counts from zero; one that ended is in "other"
                    double spent = Math.max(0, after.getOrDefault(kind, 0.0) - before.getOrDefault(kind, 0.0));
                    used.put(name + "." + kind, Math.round(spent * 100) / 100.0);
                    kinds += spent;
                }
                used.put(name + "." + OTHER, Math.round(Math.max(0, total - kinds) * 100) / 100.0);
            });
            return used;
        }
    }
}
