package io.dwcp.hde;

import java.util.Arrays;

/**
 * The pages a stream has carried so far, for the cache rule of HDE format 6: a page's content goes
 * into the previous-version cache only from its second record on. One bit per page-aligned offset
 * of each RAM block, 32 KiB per GiB of guest, for at most {@link #MAX_PAGES} pages in all; a page
 * beyond that, or at an offset that is not page-aligned, counts as carried before (the rule of
 * format 5). Both ends see the same records in the same order, so they agree. One thread.
 */
final class SentPages {
    /** Pages tracked at most, over all blocks: 1 TiB of guest, 32 MiB of bits (a hostile peer's offsets cannot make more). */
    static final long MAX_PAGES = 1L << 28;

    private long[][] blocks = new long[8][];
    private long words;

    /** Marks the page carried; returns whether a record carried it before. */
    boolean carriedBefore(int blockId, long offset) {
        if (offset < 0 || (offset & (HdeFrame.PAGE_SIZE - 1)) != 0 || blockId < 0) {
            return true;
        }
        long page = offset >>> 12;
        if (page >= MAX_PAGES) {
            return true;
        }
        int word = (int) (page >>> 6);
        if (blockId >= blocks.length) {
            blocks = Arrays.copyOf(blocks, Math.max(blockId + 1, blocks.length * 2));
        }
        long[] bits = blocks[blockId];
        if (bits == null || word >= bits.length) {
            int length = bits == null ? 0 : bits.length;
            int grown = (int) Math.min(MAX_PAGES >>> 6, Math.max(word + 1L, Math.max(64L, length * 2L)));
            if (words - length + grown > MAX_PAGES >>> 6) {
                return true;
            }
            words += grown - length;
            bits = bits == null ? new long[grown] : Arrays.copyOf(bits, grown);
            blocks[blockId] = bits;
        }
        long mask = 1L << page;
        boolean before = (bits[word] & mask) != 0;
        bits[word] |= mask;
        return before;
    }

    void clear() {
        blocks = new long[8][];
        words = 0;
    }
}
