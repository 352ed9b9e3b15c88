package io.dwcp.hde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ChunkedTest {
    @Test
    void entriesAcrossChunksKeepTheirValuesAsTheArrayGrows() {
        Chunked.Longs longs = new Chunked.Longs();
        assertEquals(0, longs.capacity());
        int n = Chunked.CHUNK * 3 + 5;
        long[] expected = new long[n];
        Random random = new Random(3);
        for (int i = 0; i < n; i++) {
            if (i == longs.capacity()) {
                longs.ensure(i + 1);
                assertEquals(i + Chunked.CHUNK, longs.capacity(), "one chunk more");
                assertEquals(0, longs.get(i));
            }
            expected[i] = random.nextLong();
            longs.set(i, expected[i]);
        }
        longs.ensure(10); // room already: nothing changes
        assertEquals(Chunked.CHUNK * 4, longs.capacity());
        for (int i = 0; i < n; i++) {
            assertEquals(expected[i], longs.get(i), "entry " + i);
        }
        int last = n - 1;
        assertEquals(expected[last], longs.getAndAdd(last, 5));
        assertEquals(expected[last] + 5, longs.get(last));
        assertThrows(ArrayIndexOutOfBoundsException.class, () -> longs.get(Chunked.CHUNK * 4));
    }
}
