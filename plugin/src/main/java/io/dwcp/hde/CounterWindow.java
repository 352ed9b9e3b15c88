package io.dwcp.hde;

import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * Readings of running counters over a span of time, kept so that a rate over the last {@code
 * window} can be taken: the readings within the window and the one before it. Not thread-safe: it
 * belongs to the thread that takes the readings.
 */
final class CounterWindow {
    private final long windowNanos;
    /** (nanos, counters...) in the order taken. */
    private final ArrayDeque<long[]> readings = new ArrayDeque<>();

    CounterWindow(long windowNanos) {
        this.windowNanos = windowNanos;
    }

    /**
     * Adds the counters read at {@code nanos} and returns the oldest reading kept, {@code (nanos,
     * counters...)}: the one to measure since (the reading just added, the first time).
     */
    long[] add(long nanos, long... counters) {
        long[] reading = new long[counters.length + 1];
        reading[0] = nanos;
        System.arraycopy(counters, 0, reading, 1, counters.length);
        readings.addLast(reading);
        while (readings.size() > 2 && nanos - secondOldest()[0] >= windowNanos) {
            readings.removeFirst();
        }
        return readings.getFirst();
    }

    private long[] secondOldest() {
        Iterator<long[]> it = readings.iterator();
        it.next();
        return it.next();
    }
}
