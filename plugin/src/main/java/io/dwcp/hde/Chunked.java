package io.dwcp.hde;

import java.util.Arrays;

/**
 * Arrays of longs that grow a chunk of {@value #CHUNK} entries at a time instead of by copying
 * into one array twice the size. A recorder's arrays grow with the pages a migration moves; as
 * single arrays, each doubling past half a heap region (64 Ki longs with 1 MiB regions) was a
 * humongous allocation, and on dwcpd's small heap each one started a marking cycle: in an S2
 * {@code app} run the source dwcpd's collector spent 0.36 CPU-s with baselines recorded against
 * 0.10 without. A chunk is an ordinary young object of 128 KiB. Columns of ints are kept as longs
 * too (4 bytes more per entry) rather than in a second copy of this class. Not thread-safe.
 */
final class Chunked {
    static final int SHIFT = 14;
    static final int CHUNK = 1 << SHIFT;
    private static final int MASK = CHUNK - 1;

    private Chunked() {}

    /** Chunks for {@code capacity} entries, the ones there kept. */
    private static int chunksFor(long capacity) {
        long chunks = (capacity + CHUNK - 1) >>> SHIFT;
        if (chunks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("capacity " + capacity);
        }
        return (int) chunks;
    }

    static final class Longs {
        private long[][] chunks = new long[0][];

        /** Entries it holds room for (a multiple of {@link #CHUNK}). */
        int capacity() {
            return chunks.length << SHIFT;
        }

        /** Room for at least {@code capacity} entries (new ones are 0). */
        void ensure(int capacity) {
            int needed = chunksFor(capacity);
            if (needed > chunks.length) {
                int old = chunks.length;
                chunks = Arrays.copyOf(chunks, needed);
                for (int i = old; i < needed; i++) {
                    chunks[i] = new long[CHUNK];
                }
            }
        }

        long get(int index) {
            return chunks[index >>> SHIFT][index & MASK];
        }

        void set(int index, long value) {
            chunks[index >>> SHIFT][index & MASK] = value;
        }

        /** Adds {@code delta} to the entry; returns its value before. */
        long getAndAdd(int index, long delta) {
            long[] chunk = chunks[index >>> SHIFT];
            long before = chunk[index & MASK];
            chunk[index & MASK] = before + delta;
            return before;
        }
    }
}
