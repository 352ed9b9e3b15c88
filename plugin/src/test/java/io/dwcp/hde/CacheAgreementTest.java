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
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
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

    @Test
    void lruEvictsTheLeastRecentlyPut() {
        LruCache<String, Integer> cache = new LruCache<>(2);
        cache.put("a", 1);
        cache.put("b", 2);
        assertEquals(1, cache.peek("a")); // a peek does not refresh "a"
        cache.put("c", 3); // evicts "a"
        assertNull(cache.peek("a"));
        assertEquals(List.of("b", "c"), cache.keys());
        cache.put("b", 4); // a put refreshes "b"
        assertEquals(List.of("c", "b"), cache.keys());
        assertEquals(3, cache.evictForInsert("d")); // the entry put() would evict, handed back for reuse
        assertEquals(List.of("b"), cache.keys());
        assertNull(cache.evictForInsert("b")); // present: nothing to evict
        assertEquals(1, cache.evictions() - 1);
        LruCache<String, Integer> disabled = new LruCache<>(0);
        disabled.put("a", 1);
        assertEquals(0, disabled.size());
    }

    @Test
    void aValueLeavingTheCacheIsReleased() {
        List<Integer> released = new ArrayList<>();
        LruCache<String, Integer> cache = new LruCache<>(2, released::add);
        cache.put("a", 1);
        cache.put("b", 2);
        assertEquals(List.of(), released);
        cache.put("a", 3); // replaced
        assertEquals(List.of(1), released);
        cache.put("c", 4); // evicts "b"
        assertEquals(List.of(1, 2), released);
        assertEquals(3, cache.remove("a"));
        assertEquals(List.of(1, 2, 3), released);
        assertNull(cache.remove("a")); // absent: nothing released
        cache.put("e", 5);
        assertEquals(4, cache.evictForInsert("d")); // handed to the caller, not released
        cache.clear();
        assertEquals(List.of(1, 2, 3), released);
    }

    @Test
    void theDecoderReusesTheArraysOfPagesItNoLongerHolds() throws Exception {
        // caches of 4 pages each: 400 distinct literal pages, then deltas of them, must not take
        // 400+ arrays at the destination, only about what the caches hold plus a few in flight
        HdeConfig config = new HdeConfig()
                .setTier(3)
                .setDictionarySize(DataSize.ofBytes(0))
                .setDeltaCacheSize(DataSize.ofBytes(4096L * 4))
                .setHashCacheSize(DataSize.ofBytes(4096L * 4));
        Set<byte[]> arrays = Collections.newSetFromMap(new IdentityHashMap<>());
        ByteArrayOutputStream decoded = new ByteArrayOutputStream();
        ByteArrayOutputStream original = new ByteArrayOutputStream();
        HdeStats stats = new HdeStats();
        try (HdeDecoder decoder = new HdeDecoder(config, stats, new HdeDecoder.Sink() {
                    @Override
                    public void page(byte[] header, int headerOffset, int headerLength, byte[] content) {
                        arrays.add(content);
                        decoded.write(content, 0, HdeFrame.PAGE_SIZE);
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
        assertTrue(arrays.size() <= 16, arrays.size() + " distinct page arrays for 800 pages through caches of 4");
    }
}
