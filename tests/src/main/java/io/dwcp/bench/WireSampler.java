package io.dwcp.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Samples a byte counter of the link (the emulator's or the interface's) every 100 ms on its own
 * thread while a migration runs, to tell the rate of the bulk phase from the time spent in set-up,
 * the final iterations and the switch-over. Owned by the run that starts it; {@link #close} stops
 * the thread and waits for it.
 */
final class WireSampler implements AutoCloseable {
    static final long PERIOD_MILLIS = 100;

    record Sample(long nanos, long bytes) {}

    private final LongSupplier counter;
    private final List<Sample> samples = new ArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;

    private WireSampler(LongSupplier counter) {
        this.counter = counter;
        this.thread = new Thread(this::sample, "wire-sampler");
        this.thread.setDaemon(true);
    }

    static WireSampler start(LongSupplier counter) {
        WireSampler sampler = new WireSampler(counter);
        sampler.record();
        sampler.thread.start();
        return sampler;
    }

    private void sample() {
        while (running) {
            try {
                Thread.sleep(PERIOD_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            synchronized (this) {
                // close() interrupts only a sleep, never a sample under way (the counter runs a command)
                if (!running) {
                    return;
                }
                record();
            }
        }
    }

    private void record() {
        long bytes = counter.getAsLong();
        synchronized (samples) {
            samples.add(new Sample(System.nanoTime(), bytes));
        }
    }

    List<Sample> samples() {
        synchronized (samples) {
            return List.copyOf(samples);
        }
    }

    /** Stops sampling, after one last sample; the rates are read afterwards. */
    @Override
    public void close() {
        synchronized (this) {
            running = false;
            thread.interrupt();
        }
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        record();
    }

    /** The rate in bit/s over the first {@code seconds} of the migration (its ramp-up); 0 when it ran shorter. */
    long firstSecondsBitsPerSecond(int seconds) {
        return firstSecondsBitsPerSecond(samples(), seconds);
    }

    static long firstSecondsBitsPerSecond(List<Sample> samples, int seconds) {
        if (samples.isEmpty()) {
            return 0;
        }
        Sample first = samples.get(0);
        long until = first.nanos() + seconds * 1_000_000_000L;
        for (Sample sample : samples) {
            if (sample.nanos() >= until) {
                return bitsPerSecond(sample.bytes() - first.bytes(), sample.nanos() - first.nanos());
            }
        }
        return 0;
    }

    /** The rate in bit/s while the middle 80 % of the bytes were sent (from 10 % to 90 % of the total); 0 when unknown. */
    long bulkBitsPerSecond() {
        return bulkBitsPerSecond(samples());
    }

    /**
     * The bulk phase of a series of cumulative counter samples: the time between the first sample
     * at or past 10 % of the bytes and the first at or past 90 %, and the bytes between them.
     */
    static long bulkBitsPerSecond(List<Sample> samples) {
        if (samples.size() < 3) {
            return 0;
        }
        long base = samples.get(0).bytes();
        long total = samples.get(samples.size() - 1).bytes() - base;
        if (total <= 0) {
            return 0;
        }
        Sample from = null;
        Sample to = null;
        for (Sample sample : samples) {
            long sent = sample.bytes() - base;
            if (from == null && sent * 10 >= total) {
                from = sample;
            }
            if (to == null && sent * 10 >= total * 9) {
                to = sample;
            }
        }
        if (from == null || to == null || to.nanos() <= from.nanos()) {
            return 0;
        }
        return bitsPerSecond(to.bytes() - from.bytes(), to.nanos() - from.nanos());
    }

    /** Bytes over nanoseconds as bit/s, in floating point: bytes x 8e9 overflows a long past about 1.1 GB. */
    static long bitsPerSecond(long bytes, long nanos) {
        return Math.round(bytes * 8e9 / nanos);
    }
}
