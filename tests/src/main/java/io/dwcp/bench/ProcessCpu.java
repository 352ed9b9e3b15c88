package io.dwcp.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

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

    /** CPU seconds of named processes between {@link #start} and {@link #stop}. */
    static final class Meter {
        private final Map<String, Long> pids = new LinkedHashMap<>();
        private final Map<String, Double> start = new LinkedHashMap<>();

        Meter add(String name, long pid) {
            pids.put(name, pid);
            return this;
        }

        Meter start() {
            pids.forEach((name, pid) -> start.put(name, seconds(pid)));
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
            return used;
        }
    }
}
