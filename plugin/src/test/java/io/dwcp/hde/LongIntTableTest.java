package io.dwcp.hde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LongIntTableTest {
    @Test
    void putGetAndRemove() {
        LongIntTable table = new LongIntTable();
        assertEquals(LongIntTable.ABSENT, table.get(4096));
        assertEquals(LongIntTable.ABSENT, table.put(4096, 7));
        assertEquals(7, table.put(4096, 8));
        assertEquals(8, table.get(4096));
        assertEquals(1, table.size());
        assertEquals(8, table.remove(4096));
        assertEquals(LongIntTable.ABSENT, table.remove(4096));
        assertEquals(LongIntTable.ABSENT, table.get(4096));
        assertEquals(0, table.size());
        assertThrows(IllegalArgumentException.class, () -> table.put(-1, 1));
    }

    /**
     * Random puts and removes of page-like keys (clustered, so that probe runs are long and
     * removals shift entries back across the table's end) agree with a {@code HashMap} throughout.
     */
    @Test
    void agreesWithAHashMapUnderRandomPutsAndRemoves() {
        Random random = new Random(42);
        LongIntTable table = new LongIntTable();
        Map<Long, Integer> expected = new HashMap<>();
        for (int step = 0; step < 400_000; step++) {
            long key = ((long) random.nextInt(3) << 48) | (long) random.nextInt(20_000) * 4096;
            if (random.nextInt(3) == 0) {
                Integer old = expected.remove(key);
                assertEquals(old == null ? LongIntTable.ABSENT : old, table.remove(key), "remove " + key);
            } else {
                int value = random.nextInt(1 << 20);
                Integer old = expected.put(key, value);
                assertEquals(old == null ? LongIntTable.ABSENT : old, table.put(key, value), "put " + key);
            }
        }
        assertEquals(expected.size(), table.size());
        for (Map.Entry<Long, Integer> entry : expected.entrySet()) {
            assertEquals(entry.getValue(), table.get(entry.getKey()));
        }
        Map<Long, Integer> visited = new HashMap<>();
        table.forEach(visited::put);
        assertEquals(expected, visited);
        int[] plusOne = new int[1 << 20];
        for (int i = 0; i < plusOne.length; i++) {
            plusOne[i] = i + 1;
        }
        table.remapValues(plusOne);
        for (Map.Entry<Long, Integer> entry : expected.entrySet()) {
            assertEquals(entry.getValue() + 1, table.get(entry.getKey()));
        }
    }
}
