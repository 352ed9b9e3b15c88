package io.dwcp.hde;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How busy the host's CPUs were lately: the share of all cores' time, over a window, that was
 * neither idle nor waiting for I/O, from the first line of {@code /proc/stat}. The level
 * controller's caller asks it whether the encoder's CPU is free (see {@link LevelController}). Not
 * thread-safe: it belongs to the thread that adjusts a session's encoders.
 */
final class HostCpu {
    static final Path PROC_STAT = Path.of("/proc/stat");

    private final Path stat;
    /** Busy and all ticks. */
    private final CounterWindow ticks;

    HostCpu(Path stat, long windowNanos) {
        this.stat = stat;
        this.ticks = new CounterWindow(windowNanos);
    }

    /** The busy share since the oldest sample of the window (0..1), or NaN before two samples or where it cannot be read. */
    double busyShare(long nanos) {
        long[] now = read();
        if (now == null) {
            return Double.NaN;
        }
        long[] since = ticks.add(nanos, now[0], now[1]);
        long all = now[1] - since[2];
        return all > 0 ? (double) (now[0] - since[1]) / all : Double.NaN;
    }

    /** Busy and all ticks of the {@code cpu} line, or null. */
    private long[] read() {
        try {
            String text = Files.readString(stat, StandardCharsets.US_ASCII);
            int end = text.indexOf('\n');
            return parse(end < 0 ? text : text.substring(0, end));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * {@code cpu  user nice system idle iowait irq softirq steal ...}: idle and iowait are the idle
     * ticks, all the others busy (guest time is already inside user). Null if it is not such a line.
     */
    static long[] parse(String line) {
        String[] fields = line.trim().split("\\s+");
        if (fields.length < 5 || !fields[0].equals("cpu")) {
            return null;
        }
        long all = 0;
        long idle = 0;
        for (int i = 1; i < fields.length && i <= 8; i++) {
            long value = Long.parseLong(fields[i]);
            all += value;
            if (i == 4 || i == 5) {
                idle += value;
            }
        }
        return new long[] {all - idle, all};
    }
}
