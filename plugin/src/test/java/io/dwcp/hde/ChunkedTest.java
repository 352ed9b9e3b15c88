package io.dwcp.hde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ChunkedTest {
    @Test
    void entriesAcrossChunksKeepTheirValuesAsTheArraysGrow() {
        Chunked.Longs longs = new Chunked.Longs();
        Chunked.Ints ints = new Chunked.Ints();
        assertEquals(0, longs.capacity());
        int n = Chunked.CHUNK * 3 + 5;
        long[] expectedLongs = new long[n];
        int[] expectedInts = new int[n];
        Random random = new Random(3);
        for (int i = 0; i < n; i++) {
            if (i == longs.capacity()) {
                longs.ensure(i + 1);
                ints.ensure(i + 1);
                assertEquals(i + Chunked.CHUNK, longs.capacity(), "one chunk more");
                assertEquals(0, longs.get(i));
                assertEquals(0, ints.get(i));
            }
            expectedLongs[i] = random.nextLong();
            expectedInts[i] = random.nextInt();
            longs.set(i, expectedLongs[i]);
            ints.set(i, expectedInts[i]);
        }
        longs.ensure(10); // room already: nothing changes
        assertEquals(Chunked.CHUNK * 4, longs.capacity());
        for (int i = 0; i < n; i++) {
            assertEquals(expectedLongs[i], longs.get(i), "long " + i);
            assertEquals(expectedInts[i], ints.get(i), "int " + i);
        }
        int last = n - 1;
        assertEquals(expectedInts[last], ints.getAndAdd(last, 5));
        assertEquals(expectedInts[last] + 5, ints.get(last));
        assertThrows(ArrayIndexOutOfBoundsException.class, () -> longs.get(Chunked.CHUNK * 4));
    }
}
