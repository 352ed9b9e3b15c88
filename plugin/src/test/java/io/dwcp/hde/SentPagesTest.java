package io.dwcp.hde;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SentPagesTest {
    @Test
    void aPageIsCarriedBeforeFromItsSecondRecordOn() {
        SentPages sent = new SentPages();
        assertFalse(sent.carriedBefore(0, 0));
        assertTrue(sent.carriedBefore(0, 0));
        assertFalse(sent.carriedBefore(0, 4096), "another page");
        assertFalse(sent.carriedBefore(1, 0), "the same offset in another block");
        assertFalse(sent.carriedBefore(0, 1L << 30), "a page far into the block");
        assertTrue(sent.carriedBefore(0, 1L << 30));
        assertFalse(sent.carriedBefore(3000, 7 * 4096L), "a block numbered far beyond the first");
        assertTrue(sent.carriedBefore(3000, 7 * 4096L));
        assertTrue(sent.carriedBefore(1, 0));
        sent.clear();
        assertFalse(sent.carriedBefore(0, 0), "nothing carried after clear");
    }

    /** Offsets the bits do not cover count as carried before, at both ends alike: format 5's rule. */
    @Test
    void offsetsNotTrackedCountAsCarriedBefore() {
        SentPages sent = new SentPages();
        assertTrue(sent.carriedBefore(0, 100), "not page-aligned");
        assertTrue(sent.carriedBefore(0, -4096), "negative");
        assertTrue(sent.carriedBefore(0, SentPages.MAX_PAGES * 4096), "past 1 TiB");
        assertFalse(sent.carriedBefore(0, (SentPages.MAX_PAGES - 1) * 4096), "the last page tracked");
    }

    /**
     * A hostile peer naming the last tracked page of many blocks gets no more than MAX_PAGES bits
     * in all: past that, pages count as carried before (and no memory is taken for them).
     */
    @Test
    void theBitsAreBoundedOverAllBlocks() {
        SentPages sent = new SentPages();
        long last = (SentPages.MAX_PAGES - 1) * 4096;
        assertFalse(sent.carriedBefore(0, last), "the first block may use all the bits");
        assertTrue(sent.carriedBefore(1, last), "no bits left for a second block's far page");
        assertTrue(sent.carriedBefore(1, 0), "nor for its first page");
        assertTrue(sent.carriedBefore(0, last));
        assertFalse(sent.carriedBefore(0, 4096), "the first block's pages still tracked");
    }
}
