package io.dwcp.hde;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PageSlabTest {
    private static final int PAGE = HdeFrame.PAGE_SIZE;

    @Test
    void placesAreDistinctPagesOfChunksMadeWhenFirstUsed() {
        int capacity = PageSlab.CHUNK_PAGES * 2 + 3;
        PageSlab slab = new PageSlab(capacity);
        assertEquals(0, slab.allocatedBytes());
        for (int place = 0; place < capacity; place++) {
            byte[] array = slab.array(place);
            Arrays.fill(array, PageSlab.offset(place), PageSlab.offset(place) + PAGE, (byte) place);
            if (place == 0) {
                assertEquals((long) PageSlab.CHUNK_PAGES * PAGE, slab.allocatedBytes());
            }
        }
        // the last chunk holds only the 3 places left
        assertEquals((long) capacity * PAGE, slab.allocatedBytes());
        assertSame(slab.array(0), slab.array(PageSlab.CHUNK_PAGES - 1));
        assertNotSame(slab.array(PageSlab.CHUNK_PAGES - 1), slab.array(PageSlab.CHUNK_PAGES));
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
    void aSlabOfNoPlacesHoldsNothing() {
        PageSlab slab = new PageSlab(0);
        assertEquals(0, slab.allocatedBytes());
        assertThrows(IndexOutOfBoundsException.class, () -> slab.array(0));
        assertThrows(IllegalArgumentException.class, () -> new PageSlab(-1));
    }
}
