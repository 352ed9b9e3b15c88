package io.dwcp.hde;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.config.DataSize;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The source's caches mirror the destination's after every page, whatever the eviction pattern:
 * every combination of tiny capacities (0..4 pages each) over a small page space with much reuse,
 * so that pages are evicted, referenced, re-sent, zeroed and delta-encoded in every order.
 * Replay with -Ddwcp.hde.seed=N.
 */
class CacheAgreementTest {
    @Test
    void cachesAgreeAfterEveryPage() {
        long seed = Long.getLong("dwcp.hde.seed", System.nanoTime());
        System.out.println("CacheAgreementTest seed " + seed + " (-Ddwcp.hde.seed=" + seed + " replays it)");
        Random random = new Random(seed);
        // a few contents, reused: many hash hits and evictions
        List<byte[]> contents = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            byte[] page = new byte[4096];
            random.nextBytes(page);
            contents.add(page);
        }
        for (int deltaEntries = 0; deltaEntries <= 4; deltaEntries++) {
            for (int hashEntries = 0; hashEntries <= 4; hashEntries++) {
                HdeConfig config = new HdeConfig()
                        .setDictionarySize(DataSize.ofBytes(0))
                        .setTier(random.nextInt(3) + 1)
                        .setDeltaCacheSize(DataSize.ofBytes(4096L * deltaEntries))
                        .setHashCacheSize(DataSize.ofBytes(4096L * hashEntries));
                byte[][] memory = new byte[8][];
                try (Loopback loop = new Loopback(config)) {
                    for (int op = 0; op < 300; op++) {
                        int p = random.nextInt(memory.length);
                        byte[] content = switch (random.nextInt(4)) {
                            case 0 ->
                                contents.get(random.nextInt(contents.size())).clone();
                            case 1 -> new byte[4096];
                            case 2 -> {
                                byte[] edited = memory[p] == null ? new byte[4096] : memory[p].clone();
                                edited[random.nextInt(4096)] ^= 1;
                                yield edited;
                            }
                            default -> {
                                byte[] other = memory[random.nextInt(memory.length)];
                                yield other == null ? new byte[4096] : other.clone();
                            }
                        };
                        memory[p] = content;
                        loop.page(p % 2 == 0 ? "pc.ram" : "pc.rom", p * 4096L, new byte[0], content);
                        String where =
                                "seed " + seed + ", caches " + deltaEntries + "/" + hashEntries + ", operation " + op;
                        loop.encoder.flush();
                        assertEquals(loop.encoder.previousVersionKeys(), loop.decoder.previousVersionKeys(), where);
                        assertEquals(loop.encoder.hashKeys(), loop.decoder.hashKeys(), where);
                        assertEquals(
                                Math.min(
                                        deltaEntries,
                                        loop.encoder.previousVersionKeys().size()),
                                loop.encoder.previousVersionKeys().size(),
                                where);
                    }
                    assertArrayEquals(loop.original.toByteArray(), loop.decoded.toByteArray(), "seed " + seed);
                }
            }
        }
    }

    @Test
    void closingTheStreamLetsItsCachedPagesGo() {
        Loopback loop = new Loopback(new HdeConfig());
        byte[] content = new byte[4096];
        for (int p = 0; p < 64; p++) {
            content[p] = (byte) (p + 1);
            loop.page("pc.ram", p * 4096L, new byte[0], content.clone());
        }
        loop.encoder.flush();
        assertEquals(64, loop.encoder.previousVersionKeys().size());
        assertEquals(64, loop.decoder.previousVersionKeys().size());
        loop.close();
        // a closed encoder or decoder may stay referenced (a session kept for its figures): its pages must not
        assertEquals(List.of(), loop.encoder.previousVersionKeys());
        assertEquals(List.of(), loop.encoder.hashKeys());
        assertEquals(List.of(), loop.decoder.previousVersionKeys());
        assertEquals(List.of(), loop.decoder.hashKeys());
    }

    private static PageKey k(String name) {
        return new PageKey(name.charAt(0) - 'a', 4096L * name.charAt(0));
    }

    private static List<PageKey> keys(String... names) {
        return java.util.Arrays.stream(names).map(CacheAgreementTest::k).toList();
    }

    @Test
    void lruEvictsTheLeastRecentlyPut() {
        LruCache<PageKey, Integer> cache = new LruCache<>(2, LruCache.PAGE_KEYS);
        cache.put(k("a"), 1);
        cache.put(k("b"), 2);
        assertEquals(1, cache.peek(k("a"))); // a peek does not refresh "a"
        cache.put(k("c"), 3); // evicts "a"
        assertNull(cache.peek(k("a")));
        assertEquals(keys("b", "c"), cache.keys());
        cache.put(k("b"), 4); // a put refreshes "b"
        assertEquals(keys("c", "b"), cache.keys());
        int placeOfC = cache.place(k("c"));
        int placeOfB = cache.place(k("b"));
        assertEquals(placeOfC, cache.putPlace(k("d"))); // evicts "c": "d" takes its place
        assertEquals(-1, cache.place(k("c")));
        assertNull(cache.peek(k("d")));
        assertEquals(keys("b", "d"), cache.keys());
        assertEquals(placeOfB, cache.putPlace(k("b"))); // present: its place, and it is the newest now
        assertEquals(keys("d", "b"), cache.keys());
        assertEquals(2, cache.evictions());
        LruCache<PageKey, Integer> disabled = new LruCache<>(0, LruCache.PAGE_KEYS);
        disabled.put(k("a"), 1);
        assertEquals(0, disabled.size());
    }

    @Test
    void aValueLeavingTheCacheIsReleased() {
        List<Integer> released = new ArrayList<>();
        LruCache<PageKey, Integer> cache = new LruCache<>(2, LruCache.PAGE_KEYS, released::add);
        cache.put(k("a"), 1);
        cache.put(k("b"), 2);
        assertEquals(List.of(), released);
        cache.put(k("a"), 3); // replaced
        assertEquals(List.of(1), released);
        cache.put(k("c"), 4); // evicts "b"
        assertEquals(List.of(1, 2), released);
        assertEquals(3, cache.remove(k("a")));
        assertEquals(List.of(1, 2, 3), released);
        assertNull(cache.remove(k("a"))); // absent: nothing released
        cache.put(k("e"), 5);
        cache.putPlace(k("d")); // evicts "c"
        assertEquals(List.of(1, 2, 3, 4), released);
        cache.clear();
        assertEquals(List.of(1, 2, 3, 4), released);
        assertEquals(List.of(), cache.keys());
        assertNull(cache.peek(k("e")));
    }

    /**
     * Random puts, removes and evictions of content hashes agree with a {@code LinkedHashMap} kept
     * in insertion order (what the cache was before it kept its entries in arrays): the same values,
     * the same recency order, the same values released. An entry keeps its place from its first put
     * until it leaves, and the places of the entries are distinct and below the capacity (a
     * {@link PageSlab} keeps the encoder's previous versions at them).
     */
    @Test
    void agreesWithALinkedHashMapUnderRandomOperations() {
        java.util.Random random = new java.util.Random(11);
        List<Integer> released = new ArrayList<>();
        List<Integer> expectedReleased = new ArrayList<>();
        int capacity = 300;
        LruCache<PageHash, Integer> cache = new LruCache<>(capacity, LruCache.PAGE_HASHES, released::add);
        java.util.LinkedHashMap<PageHash, Integer> expected = new java.util.LinkedHashMap<>();
        Map<PageHash, Integer> places = new java.util.HashMap<>();
        for (int step = 0; step < 200_000; step++) {
            // few distinct high halves and clustered low halves: long probe runs in the index
            PageHash hash = new PageHash(random.nextInt(4), random.nextInt(600) * 4096L);
            int what = random.nextInt(10);
            if (what == 0) {
                boolean present = expected.containsKey(hash);
                Integer value = expected.remove(hash);
                if (present) {
                    expectedReleased.add(value);
                }
                assertEquals(value, cache.remove(hash));
                places.remove(hash);
            } else if (what == 2) {
                assertEquals(expected.get(hash), cache.peek(hash));
            } else {
                // what == 1: a put without a value, whose place the caller uses
                Integer value = what == 1 ? null : step;
                boolean present = expected.containsKey(hash);
                Integer replaced = expected.remove(hash);
                if (!present && expected.size() >= capacity) {
                    PageHash first = expected.keySet().iterator().next();
                    expectedReleased.add(expected.remove(first));
                    places.remove(first);
                }
                expected.put(hash, value);
                if (present) {
                    expectedReleased.add(replaced);
                }
                if (what == 1) {
                    int place = cache.putPlace(hash);
                    assertEquals(place, cache.place(hash));
                } else {
                    cache.put(hash, step);
                }
                Integer before = places.put(hash, cache.place(hash));
                if (present) {
                    assertEquals(before, places.get(hash), "an entry's place while it stays");
                }
            }
            assertEquals(expected.size(), cache.size());
            if (step % 1000 == 0) {
                assertEquals(places.size(), new java.util.HashSet<>(places.values()).size(), "distinct places");
                for (Map.Entry<PageHash, Integer> entry : places.entrySet()) {
                    assertEquals(entry.getValue(), cache.place(entry.getKey()));
                    assertTrue(entry.getValue() >= 0 && entry.getValue() < capacity, "place " + entry.getValue());
                }
            }
        }
        assertEquals(new ArrayList<>(expected.keySet()), cache.keys());
        assertEquals(expectedReleased, released);
    }

    @Test
    void theDecoderReusesThePlacesOfPagesItNoLongerHolds() throws Exception {
        // 400 distinct literal pages, then deltas of them, must not take 400+ places at the
        // destination, only what the caches hold plus the page being decoded
        assertTrue(placesUsed(4, 4) <= 4 + 4 + 1);
        assertTrue(placesUsed(4, 0) <= 4 + 1);
        // no cache: every page's place is free again once the sink has it
        assertEquals(1, placesUsed(0, 0));
    }

    /** Places of page contents the decoder handed its sink for 800 pages through caches of these many pages. */
    private static int placesUsed(int deltaPages, int hashPages) throws Exception {
        HdeConfig config = new HdeConfig()
                .setTier(3)
                .setDictionarySize(DataSize.ofBytes(0))
                .setDeltaCacheSize(DataSize.ofBytes(4096L * deltaPages))
                .setHashCacheSize(DataSize.ofBytes(4096L * hashPages));
        Map<byte[], Set<Integer>> places = new IdentityHashMap<>();
        ByteArrayOutputStream decoded = new ByteArrayOutputStream();
        ByteArrayOutputStream original = new ByteArrayOutputStream();
        HdeStats stats = new HdeStats();
        try (HdeDecoder decoder = new HdeDecoder(config, stats, new HdeDecoder.Sink() {
                    @Override
                    public void page(
                            byte[] header, int headerOffset, int headerLength, byte[] content, int contentOffset) {
                        places.computeIfAbsent(content, array -> new java.util.HashSet<>())
                                .add(contentOffset);
                        decoded.write(content, contentOffset, HdeFrame.PAGE_SIZE);
                    }

                    @Override
                    public void raw(byte[] bytes, int offset, int length) {
                        decoded.write(bytes, offset, length);
                    }
                });
                HdeEncoder encoder = new HdeEncoder(config, stats, frame -> {
                    try {
                        decoder.feed(frame, 0, frame.length);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                })) {
            Random random = new Random(7);
            byte[] page = new byte[HdeFrame.PAGE_SIZE];
            for (int i = 0; i < 800; i++) {
                int address = i % 400;
                if (i < 400) {
                    random.nextBytes(page); // a new page
                } else {
                    page[random.nextInt(page.length)] ^= 1; // an edit of the page just sent
                }
                original.write(page, 0, page.length);
                encoder.page("pc.ram", address * 4096L, new byte[0], 0, 0, page, 0);
            }
            encoder.flush();
            assertArrayEquals(original.toByteArray(), decoded.toByteArray());
        }
        return places.values().stream().mapToInt(Set::size).sum();
    }
}
