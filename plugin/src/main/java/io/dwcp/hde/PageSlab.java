package io.dwcp.hde;

import java.util.Arrays;

/**
 * Page-sized places for a cache's contents, numbered from 0, kept in large arrays of
 * {@value #CHUNK_PAGES} pages (32 MiB) each instead of an array per page. A chunk is made when
 * its first place is first asked for, and the last one holds only the places the capacity leaves,
 * so a cache never holds more than its capacity and a short migration only the chunks it used.
 *
 * <p>Why: the source's previous-version cache filling with an array per page (128 MiB by default)
 * made the collector copy each of them out of the young generation while the migration ran (they
 * live until evicted) and grew the small heap in steps, each with a marking cycle: 0.27-0.30
 * CPU-s of G1's threads in the source dwcpd of an S2 {@code app} run, 0.07 with these chunks. Why
 * so large: each chunk is a humongous object, and on a heap kept small each one started a marking
 * cycle; with chunks of 4 MiB the same run spent 0.41-0.51 CPU-s collecting. Not thread-safe.
 */
final class PageSlab {
    static final int CHUNK_SHIFT = 13;
    static final int CHUNK_PAGES = 1 << CHUNK_SHIFT;
    private static final int PAGE_SIZE = HdeFrame.PAGE_SIZE;

    private final int capacity;
    private byte[][] chunks;

    /** @param capacity places at most (the cache's capacity in entries) */
    PageSlab(int capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity is negative: " + capacity);
        }
        this.capacity = capacity;
        this.chunks = new byte[(capacity + CHUNK_PAGES - 1) >>> CHUNK_SHIFT][];
    }

    int capacity() {
        return capacity;
    }

    /** The array that holds place {@code place} (made on first use). */
    byte[] array(int place) {
        if (place < 0 || place >= capacity) {
            throw new IndexOutOfBoundsException("place " + place + " of " + capacity);
        }
        int chunk = place >>> CHUNK_SHIFT;
        byte[] array = chunks[chunk];
        if (array == null) {
            int pages = Math.min(CHUNK_PAGES, capacity - (chunk << CHUNK_SHIFT));
            array = new byte[pages * PAGE_SIZE];
            chunks[chunk] = array;
        }
        return array;
    }

    /** Where place {@code place} starts in {@link #array}. */
    static int offset(int place) {
        return (place & (CHUNK_PAGES - 1)) * PAGE_SIZE;
    }

    /** Bytes the chunks made so far hold. */
    long allocatedBytes() {
        long bytes = 0;
        for (byte[] chunk : chunks) {
            bytes += chunk == null ? 0 : chunk.length;
        }
        return bytes;
    }

    /** Lets every chunk go (the places read as zeros if used again). */
    void clear() {
        Arrays.fill(chunks, null);
    }
}
