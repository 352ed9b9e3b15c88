package io.dwcp.hde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Page keys spread over a hash table as random keys would. */
class PageKeyTest {
    /** The bucket {@code HashMap} picks in a table of {@code 1 << bits}. */
    private static int bucket(Object key, int bits) {
        int h = key.hashCode();
        return (h ^ (h >>> 16)) & ((1 << bits) - 1);
    }

    @Test
    void theKeysOfOneGibibyteOfPagesInTwoBlocksFillTheTableLikeRandomKeys() {
        int bits = 19;
        Map<Integer, Integer> perBucket = new HashMap<>();
        int keys = 0;
        for (int block = 0; block < 2; block++) {
            for (long page = 0; page < (1 << 18); page++) {
                perBucket.merge(bucket(new PageKey(block, page * 4096), bits), 1, Integer::sum);
                keys++;
            }
        }
        int fullest =
                perBucket.values().stream().mapToInt(Integer::intValue).max().orElseThrow();
        // 2^19 random keys in 2^19 buckets: about 63 % of the buckets used, the fullest holding
        // around 8-9 keys (HashMap turns a bucket of 8 into a tree)
        double used = perBucket.size() / (double) (1 << bits);
        assertTrue(used > 0.55, "buckets used: " + used);
        assertTrue(fullest < 12, "fullest bucket: " + fullest + " of " + keys + " keys");
    }

    @Test
    void equalKeysAreEqualAndHashAlike() {
        assertEquals(new PageKey(3, 8192), new PageKey(3, 8192));
        assertEquals(new PageKey(3, 8192).hashCode(), new PageKey(3, 8192).hashCode());
        assertNotEquals(new PageKey(3, 8192), new PageKey(2, 8192));
        assertNotEquals(new PageKey(3, 8192), new PageKey(3, 4096));
        assertNotEquals(new PageKey(3, 8192), new PageHash(3, 8192));
        assertEquals(new PageHash(1, 2), new PageHash(1, 2));
        assertNotEquals(new PageHash(1, 2), new PageHash(2, 1));
    }
}
