package io.dwcp.gossip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.BinaryOperator;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The join laws of every merge (commutative, associative, idempotent) on seeded random values;
 * a failure prints the seed: rerun with {@code -Ddwcp.test.seed=N}.
 */
class CrdtLawsTest {
    private static final long SEED = Long.getLong("dwcp.test.seed", 0x5EED_13L);
    private static final int CASES = 2000;
    private static final List<String> REPLICAS = List.of("eu-west", "eu-north", "us-east", "ap-south");
    private static final List<String> ELEMENTS = List.of("host-a", "host-b", "host-c", "host-d", "host-e");

    private static <T> void assertJoinLaws(String what, Function<Random, T> generator, BinaryOperator<T> merge) {
        Random random = new Random(SEED);
        for (int i = 0; i < CASES; i++) {
            T a = generator.apply(random);
            T b = generator.apply(random);
            T c = generator.apply(random);
            String context = what + " case " + i + " (seed " + SEED + "): a=" + a + " b=" + b + " c=" + c;
            assertEquals(merge.apply(a, b), merge.apply(b, a), "commutative: " + context);
            assertEquals(
                    merge.apply(merge.apply(a, b), c), merge.apply(a, merge.apply(b, c)), "associative: " + context);
            assertEquals(a, merge.apply(a, a), "idempotent: " + context);
        }
    }

    static VectorClock randomClock(Random random) {
        Map<String, Long> counters = new HashMap<>();
        for (String replica : REPLICAS) {
            if (random.nextBoolean()) {
                counters.put(replica, (long) random.nextInt(6));
            }
        }
        return VectorClock.of(counters);
    }

    static LwwRegister randomRegister(Random random) {
        // few timestamps and writers: ties must be resolved the same way everywhere
        return new LwwRegister(
                "v" + random.nextInt(4), random.nextInt(5), REPLICAS.get(random.nextInt(REPLICAS.size())));
    }

    static OrSet randomSet(Random random) {
        Map<String, Set<Dot>> adds = new HashMap<>();
        Set<Dot> removed = new HashSet<>();
        int operations = random.nextInt(6);
        for (int i = 0; i < operations; i++) {
            Dot dot = new Dot(REPLICAS.get(random.nextInt(REPLICAS.size())), 1 + random.nextInt(8));
            adds.computeIfAbsent(ELEMENTS.get(random.nextInt(ELEMENTS.size())), ignored -> new HashSet<>())
                    .add(dot);
            if (random.nextInt(3) == 0) {
                removed.add(dot);
            }
        }
        return OrSet.of(adds, removed);
    }

    @Test
    void vectorClockMergeIsAJoin() {
        assertJoinLaws("vector clock", CrdtLawsTest::randomClock, VectorClock::merge);
        Random random = new Random(SEED);
        for (int i = 0; i < CASES; i++) {
            VectorClock a = randomClock(random);
            VectorClock b = randomClock(random);
            VectorClock merged = a.merge(b);
            assertTrue(a.isCoveredBy(merged) && b.isCoveredBy(merged), "the join is an upper bound, seed " + SEED);
            VectorClock.Order order = a.compare(b);
            VectorClock.Order reverse = b.compare(a);
            switch (order) {
                case EQUAL -> assertEquals(VectorClock.Order.EQUAL, reverse);
                case BEFORE -> assertEquals(VectorClock.Order.AFTER, reverse);
                case AFTER -> assertEquals(VectorClock.Order.BEFORE, reverse);
                case CONCURRENT -> assertEquals(VectorClock.Order.CONCURRENT, reverse);
            }
        }
    }

    @Test
    void lwwRegisterMergeIsAJoin() {
        assertJoinLaws("LWW register", CrdtLawsTest::randomRegister, LwwRegister::merge);
    }

    @Test
    void orSetMergeIsAJoin() {
        assertJoinLaws("OR-set", CrdtLawsTest::randomSet, OrSet::merge);
    }

    @Test
    void gossipedMapsConvergeWhateverTheOrderOfDelivery() {
        // the same updates, merged in random orders with duplicates, give the same state
        Random random = new Random(SEED);
        for (int round = 0; round < 200; round++) {
            List<Crdt> updates = new ArrayList<>();
            boolean sets = random.nextBoolean();
            for (int i = 0; i < 10; i++) {
                updates.add(sets ? randomSet(random) : randomRegister(random));
            }
            Crdt expected = updates.stream().reduce(Crdt::merge).orElseThrow();
            List<Crdt> shuffled = new ArrayList<>(updates);
            shuffled.addAll(updates.subList(0, random.nextInt(updates.size())));
            java.util.Collections.shuffle(shuffled, random);
            assertEquals(
                    expected, shuffled.stream().reduce(Crdt::merge).orElseThrow(), "round " + round + ", seed " + SEED);
        }
    }

    @Test
    void addConcurrentWithRemoveWins() {
        OrSet base = OrSet.addition("host-a", new Dot("eu-west", 1));
        OrSet removal = base.merge(base.removal("host-a"));
        OrSet concurrentAdd = base.merge(OrSet.addition("host-a", new Dot("us-east", 1)));
        assertFalse(removal.contains("host-a"));
        assertTrue(removal.merge(concurrentAdd).contains("host-a"));
        assertTrue(concurrentAdd.merge(removal).contains("host-a"));
    }

    @Test
    void laterTimestampWinsAndTiesBreakByWriter() {
        LwwRegister older = new LwwRegister("old", 10, "us-east");
        LwwRegister newer = new LwwRegister("new", 11, "ap-south");
        assertEquals(newer, older.merge(newer));
        LwwRegister tieA = new LwwRegister("a", 11, "eu-west");
        assertEquals(tieA, newer.merge(tieA));
        assertEquals(tieA, tieA.merge(newer));
    }
}
