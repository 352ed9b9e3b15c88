package io.dwcp.hde;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PageSlabTest {
    private static final int PAGE = HdeFrame.PAGE_SIZE;

    @Test
    void placesAreDistinctPagesOfChunksThatGrowAsTheyAreUsed() {
        int capacity = 16376 + PageSlab.CHUNK_PAGES + 3; // every growing chunk, one full chunk, 3 places
        PageSlab slab = new PageSlab(capacity);
        assertEquals(0, slab.allocatedBytes());
        for (int place = 0; place < capacity; place++) {
            byte[] array = slab.array(place);
            int offset = PageSlab.offset(place);
            assertTrue(offset >= 0 && offset + PAGE <= array.length, "place " + place + " at " + offset);
            Arrays.fill(array, offset, offset + PAGE, (byte) place);
            // never more than twice the places used, and the first chunk
            assertTrue(
                    slab.allocatedBytes() <= 2L * (place + 1) * PAGE + (long) PageSlab.FIRST_PAGES * PAGE,
                    slab.allocatedBytes() + " bytes for " + (place + 1) + " places");
        }
        assertEquals((long) capacity * PAGE, slab.allocatedBytes(), "the last chunk holds only the 3 places left");
        // chunks of 8, 16, 32 ... 8192 places, then 8192 each
        assertEquals((long) PageSlab.FIRST_PAGES * PAGE, slab.array(0).length);
        assertSame(slab.array(0), slab.array(7));
        assertNotSame(slab.array(7), slab.array(8));
        assertEquals(0, PageSlab.offset(8));
        assertEquals(16L * PAGE, slab.array(8).length);
        assertEquals((long) PageSlab.CHUNK_PAGES * PAGE, slab.array(16375).length);
        assertEquals(0, PageSlab.offset(16376));
        assertEquals((long) PageSlab.CHUNK_PAGES * PAGE, slab.array(16376).length);
        assertEquals(3L * PAGE, slab.array(capacity - 1).length);
        for (int place = 0; place < capacity; place++) {
            byte[] expected = new byte[PAGE];
            Arrays.fill(expected, (byte) place);
            int offset = PageSlab.offset(place);
            assertArrayEquals(expected, Arrays.copyOfRange(slab.array(place), offset, offset + PAGE), "place " + place);
        }
        assertThrows(IndexOutOfBoundsException.class, () -> slab.array(capacity));
        assertThrows(IndexOutOfBoundsException.class, () -> slab.array(-1));
        slab.clear();
        assertEquals(0, slab.allocatedBytes());
        assertEquals(0, slab.array(5)[PageSlab.offset(5)]);
    }

    @Test
    void aSmallSlabHoldsOnlyItsPlaces() {
        PageSlab slab = new PageSlab(5);
        assertEquals(5L * PAGE, slab.array(4).length);
        assertEquals(5L * PAGE, slab.allocatedBytes());
        PageSlab none = new PageSlab(0);
        assertEquals(0, none.allocatedBytes());
        assertThrows(IndexOutOfBoundsException.class, () -> none.array(0));
        assertThrows(IllegalArgumentException.class, () -> new PageSlab(-1));
    }
}
