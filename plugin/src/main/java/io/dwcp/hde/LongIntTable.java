package io.dwcp.hde;

import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A map from non-negative {@code long} keys to {@code int} values in two arrays: open addressing
 * with linear probing, deletion by shifting back the entries that follow (no tombstones). No object
 * per entry, so a million of them cost the garbage collector nothing: the baseline recorder holds
 * one per page of guest memory for the whole migration, and as {@code HashMap} entries they were
 * long-lived young objects that G1 copied between survivor spaces (about half a CPU-second per
 * GiB of guest at each end, in the benchmark).
 *
 * <p>The table index is the high bits of the key times a random odd multiplier drawn for each
 * table (multiply-shift hashing), so page offsets (multiples of 4096) spread over the table, and
 * keys a peer chose (the destination records the offsets the source's stream names) cannot be
 * made to collide without knowing the multiplier. The layout differs from table to table; what
 * {@link #get} returns does not. Not thread-safe.
 */
final class LongIntTable {
    private final long multiplier = ThreadLocalRandom.current().nextLong() | 1;
    private static final long EMPTY = -1;
    static final int ABSENT = -1;

    private long[] keys;
    private int[] values;
    private int shift;
    private int size;

    LongIntTable() {
        allocate(1 << 10);
    }

    int size() {
        return size;
    }

    /** The value of {@code key}, or {@link #ABSENT}. */
    int get(long key) {
        int mask = keys.length - 1;
        for (int i = index(key); ; i = (i + 1) & mask) {
            long found = keys[i];
            if (found == key) {
                return values[i];
            }
            if (found == EMPTY) {
                return ABSENT;
            }
        }
    }

    /** Sets {@code key}'s value; returns the value it replaced, or {@link #ABSENT}. */
    int put(long key, int value) {
        if (key < 0) {
            throw new IllegalArgumentException("negative key: " + key);
        }
        int mask = keys.length - 1;
        int i = index(key);
        for (; ; i = (i + 1) & mask) {
            long found = keys[i];
            if (found == key) {
                int old = values[i];
                values[i] = value;
                return old;
            }
            if (found == EMPTY) {
                break;
            }
        }
        keys[i] = key;
        values[i] = value;
        if (++size > keys.length / 2) {
            grow();
        }
        return ABSENT;
    }

    /** Removes {@code key}; returns its value, or {@link #ABSENT}. */
    int remove(long key) {
        int mask = keys.length - 1;
        int i = index(key);
        for (; ; i = (i + 1) & mask) {
            long found = keys[i];
            if (found == key) {
                break;
            }
            if (found == EMPTY) {
                return ABSENT;
            }
        }
        int old = values[i];
        size--;
        // shift back each later entry of the run whose home is not between the hole and it
        int hole = i;
        for (int j = (hole + 1) & mask; keys[j] != EMPTY; j = (j + 1) & mask) {
            int home = index(keys[j]);
            boolean movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
            if (movable) {
                keys[hole] = keys[j];
                values[hole] = values[j];
                hole = j;
            }
        }
        keys[hole] = EMPTY;
        return old;
    }

    /** Calls {@code visitor} with every entry, in no particular order. The table must not change meanwhile. */
    void forEach(Visitor visitor) {
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != EMPTY) {
                visitor.visit(keys[i], values[i]);
            }
        }
    }

    /** Replaces every value {@code v} by {@code mapping[v]}. */
    void remapValues(int[] mapping) {
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != EMPTY) {
                values[i] = mapping[values[i]];
            }
        }
    }

    interface Visitor {
        void visit(long key, int value);
    }

    private int index(long key) {
        return (int) ((key * multiplier) >>> shift);
    }

    private void allocate(int capacity) {
        keys = new long[capacity];
        values = new int[capacity];
        Arrays.fill(keys, EMPTY);
        shift = 64 - Integer.numberOfTrailingZeros(capacity);
    }

    private void grow() {
        long[] oldKeys = keys;
        int[] oldValues = values;
        allocate(keys.length * 2);
        int mask = keys.length - 1;
        for (int j = 0; j < oldKeys.length; j++) {
            if (oldKeys[j] != EMPTY) {
                int i = index(oldKeys[j]);
                while (keys[i] != EMPTY) {
                    i = (i + 1) & mask;
                }
                keys[i] = oldKeys[j];
                values[i] = oldValues[j];
            }
        }
    }
}
