package io.dwcp.hde;

import java.util.Arrays;

/**
 * Page-sized places for a cache's contents, numbered from 0, kept in large arrays instead of an
 * array per page. The first chunk holds {@value #FIRST_PAGES} places, each next one twice as many,
 * up to {@value #CHUNK_PAGES} (32 MiB), and every later one that many. A chunk is made when one of
 * its places is first asked for, and the last one holds only the places the capacity leaves: the
 * chunks made never hold more than twice the places used (plus the first chunk), so what a peer
 * makes a destination allocate still grows with what it sent, and never past the capacity.
 *
 * <p>Why: the source's previous-version cache filling with an array per page (128 MiB by default)
 * made the collector copy each of them out of the young generation while the migration ran (they
 * live until evicted) and grew the small heap in steps, each with a marking cycle: 0.27-0.30
 * CPU-s of G1's threads in the source dwcpd of an S2 {@code app} run, 0.07 with chunks of 32 MiB.
 * Why the chunks are large: each of half a heap region or more is a humongous object, and on a heap
 * kept small each one started a marking cycle; with chunks of 4 MiB the same run spent 0.41-0.51
 * CPU-s collecting. Not thread-safe.
 */
final class PageSlab {
    static final int FIRST_PAGES = 8;
    static final int CHUNK_PAGES = 8192;
    private static final int FIRST_SHIFT = 3;
    private static final int CHUNK_SHIFT = 13;
    /** Chunks that grow: sizes FIRST_PAGES, 2 x FIRST_PAGES, ... CHUNK_PAGES. */
    private static final int GROWING_CHUNKS = CHUNK_SHIFT - FIRST_SHIFT + 1;
    /** The first place of the first chunk of CHUNK_PAGES after the growing ones. */
    private static final int GROWN = FIRST_PAGES * ((1 << GROWING_CHUNKS) - 1);

    private static final int PAGE_SIZE = HdeFrame.PAGE_SIZE;

    private final int capacity;
    private final byte[][] chunks;

    /** @param capacity places at most (the cache's capacity in entries) */
    PageSlab(int capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity is negative: " + capacity);
        }
        this.capacity = capacity;
        this.chunks = new byte[capacity == 0 ? 0 : chunk(capacity - 1) + 1][];
    }

    /** The chunk holding place {@code place}. */
    private static int chunk(int place) {
        if (place < GROWN) {
            return 31 - Integer.numberOfLeadingZeros((place >>> FIRST_SHIFT) + 1);
        }
        return GROWING_CHUNKS + ((place - GROWN) >>> CHUNK_SHIFT);
    }

    /** The first place of chunk {@code chunk}. */
    private static int start(int chunk) {
        if (chunk < GROWING_CHUNKS) {
            return FIRST_PAGES * ((1 << chunk) - 1);
        }
        return GROWN + ((chunk - GROWING_CHUNKS) << CHUNK_SHIFT);
    }

    /** The array that holds place {@code place} (made on first use). */
    byte[] array(int place) {
        if (place < 0 || place >= capacity) {
            throw new IndexOutOfBoundsException("place " + place + " of " + capacity);
        }
        int chunk = chunk(place);
        byte[] array = chunks[chunk];
        if (array == null) {
            int start = start(chunk);
            int pages = Math.min(chunk < GROWING_CHUNKS ? FIRST_PAGES << chunk : CHUNK_PAGES, capacity - start);
            array = new byte[pages * PAGE_SIZE];
            chunks[chunk] = array;
        }
        return array;
    }

    /** Where place {@code place} starts in {@link #array}. */
    static int offset(int place) {
        return (place - start(chunk(place))) * PAGE_SIZE;
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
