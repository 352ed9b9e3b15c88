package io.dwcp.hde;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.config.DataSize;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Seeded random page sequences (zero, repeated, small edits, random, re-sent pages, raw bytes)
 * through encoder and decoder with tiny caches and every tier: the output is the input byte for
 * byte, and both caches agree after every flush. Replay a failure with -Ddwcp.hde.seed=N.
 */
class HdeRoundTripTest {
    private static final int CASES = Integer.getInteger("dwcp.hde.cases", 40);
    /** Building the corpus takes a moment: one for all cases (page numbers vary with the seed). */
    private static final WorkloadPages WORKLOAD = new WorkloadPages(11);

    @Test
    void randomSequences() {
        long base = Long.getLong("dwcp.hde.seed", System.nanoTime());
        int cases = System.getProperty("dwcp.hde.seed") != null ? 1 : CASES;
        System.out.println("HdeRoundTripTest seed " + base + " (-Ddwcp.hde.seed=" + base + " replays it)");
        for (int i = 0; i < cases; i++) {
            long seed = base + i;
            try {
                runCase(seed);
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError(
                        "seed " + seed + " failed (-Ddwcp.hde.seed=" + seed + " replays it): " + e.getMessage(), e);
            }
        }
    }

    private static void runCase(long seed) {
        Random random = new Random(seed);
        HdeConfig config = new HdeConfig()
                .setTier(1 + random.nextInt(3))
                .setTier3InitialLevel(1 + random.nextInt(4))
                .setDeltaCacheSize(DataSize.ofBytes(4096L * random.nextInt(12)))
                .setHashCacheSize(DataSize.ofBytes(4096L * random.nextInt(12)))
                .setFrameSize(DataSize.ofBytes(4096L * (1 + random.nextInt(24))))
                .setDictionarySize(random.nextBoolean() ? DataSize.ofBytes(0) : DataSize.ofKiB(2))
                .setDictionarySample(DataSize.ofKiB(32 + random.nextInt(64)));
        WorkloadPages workload = WORKLOAD;
        int pageSpace = 4 + random.nextInt(60);
        byte[][] memory = new byte[pageSpace][];
        String[] blocks = {"pc.ram", "/rom@etc/acpi/tables", "pc.bios"};
        try (Loopback loop = new Loopback(config)) {
            int operations = 200 + random.nextInt(600);
            for (int op = 0; op < operations; op++) {
                int p = random.nextInt(pageSpace);
                String block = blocks[p % blocks.length];
                long offset = (long) p * 4096;
                int choice = random.nextInt(100);
                if (choice < 8) {
                    loop.raw(randomBytes(random, random.nextInt(random.nextInt(10) == 0 ? 20000 : 300)));
                    continue;
                }
                if (choice < 10) {
                    loop.flushAndCompareCaches();
                    continue;
                }
                if (choice < 12 && op % 50 == 0) {
                    loop.encoder.setTier(LinkTier.values()[random.nextInt(3)]);
                    if (loop.encoder.tier() != LinkTier.LOCAL) {
                        loop.encoder.setLevel(random.nextInt(6) - 1);
                    }
                    continue;
                }
                byte[] content;
                if (memory[p] == null || choice < 25) {
                    content = workload.page(random.nextInt(1 << 20)); // new content, workload mix
                } else if (choice < 35) {
                    content = new byte[4096]; // zeroed
                } else if (choice < 50) {
                    content = memory[p].clone(); // re-sent unchanged
                } else if (choice < 75) {
                    content = memory[p].clone(); // a small edit
                    workload.write(p, op, content, 0);
                } else if (choice < 85) {
                    content = memory[random.nextInt(pageSpace)]; // another page's content
                    content = content == null ? randomBytes(random, 4096) : content.clone();
                } else if (choice < 92) {
                    content = memory[p].clone(); // a few scattered bytes
                    for (int i = random.nextInt(20); i >= 0; i--) {
                        content[random.nextInt(4096)] ^= (byte) (1 + random.nextInt(255));
                    }
                } else {
                    content = randomBytes(random, 4096); // incompressible
                }
                memory[p] = content;
                loop.page(block, offset, header(random, offset, block), content);
            }
            loop.flushAndCompareCaches();
            assertArrayEquals(loop.original.toByteArray(), loop.decoded.toByteArray(), "decoded stream differs");
            assertEquals(loop.stats.bytesIn(), loop.stats.bytesDecoded());
        }
    }

    /** A main-channel page header ({@code be64 offset|flags}, sometimes the block name) or none (multifd). */
    private static byte[] header(Random random, long offset, String block) {
        return switch (random.nextInt(3)) {
            case 0 -> new byte[0];
            case 1 -> {
                byte[] h = new byte[8];
                Bytes.putLong(h, 0, offset | 0x08 | 0x20);
                yield h;
            }
            default -> {
                byte[] name = block.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                byte[] h = new byte[9 + name.length];
                Bytes.putLong(h, 0, offset | 0x08);
                h[8] = (byte) name.length;
                System.arraycopy(name, 0, h, 9, name.length);
                yield h;
            }
        };
    }

    private static byte[] randomBytes(Random random, int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }

    @Test
    void levelsChosenAsExpected() {
        HdeConfig config = new HdeConfig().setDictionarySize(DataSize.ofBytes(0));
        WorkloadPages workload = new WorkloadPages(7);
        try (Loopback loop = new Loopback(config)) {
            byte[] text = workload.page(firstOf(workload, WorkloadPages.PageClass.TEXT));
            loop.page("pc.ram", 0, new byte[0], new byte[4096]); // zero
            loop.page("pc.ram", 4096, new byte[0], text); // new: PAGE
            loop.page("pc.ram", 8192, new byte[0], text.clone()); // same content elsewhere: REF
            byte[] edited = text.clone();
            workload.write(1, 99, edited, 0);
            loop.page("pc.ram", 4096, new byte[0], edited); // small edit: DELTA
            loop.page("pc.ram", 4096, new byte[0], edited.clone()); // unchanged: DELTA of length 0
            loop.flushAndCompareCaches();
            assertEquals(1, loop.stats.pages(PageLevel.ZERO));
            assertEquals(1, loop.stats.pages(PageLevel.PAGE));
            assertEquals(1, loop.stats.pages(PageLevel.REFERENCE));
            assertEquals(2, loop.stats.pages(PageLevel.DELTA));
            assertTrue(
                    loop.stats.pageBytesOut(PageLevel.DELTA) < 300,
                    "delta bytes " + loop.stats.pageBytesOut(PageLevel.DELTA));
            assertArrayEquals(loop.original.toByteArray(), loop.decoded.toByteArray());
        }
    }

    @Test
    void evictedPagesAreSentAgainInFull() {
        // one entry per cache: the second page evicts the first, which then cannot be referenced
        HdeConfig config = new HdeConfig()
                .setDictionarySize(DataSize.ofBytes(0))
                .setDeltaCacheSize(DataSize.ofBytes(4096))
                .setHashCacheSize(DataSize.ofBytes(4096));
        byte[] a = randomBytes(new Random(1), 4096);
        byte[] b = randomBytes(new Random(2), 4096);
        try (Loopback loop = new Loopback(config)) {
            loop.page("pc.ram", 0, new byte[0], a);
            loop.page("pc.ram", 4096, new byte[0], b);
            loop.page("pc.ram", 8192, new byte[0], a);
            loop.flushAndCompareCaches();
            assertEquals(3, loop.stats.pages(PageLevel.PAGE));
            assertArrayEquals(loop.original.toByteArray(), loop.decoded.toByteArray());
        }
    }

    private static long firstOf(WorkloadPages workload, WorkloadPages.PageClass pageClass) {
        for (long p = 0; ; p++) {
            if (workload.classOf(p) == pageClass && !Arrays.equals(workload.page(p), new byte[4096])) {
                return p;
            }
        }
    }

    @Test
    void rawBytesLargerThanAFrameAreSplit() {
        HdeConfig config = new HdeConfig().setFrameSize(DataSize.ofKiB(4));
        byte[] big = randomBytes(new Random(3), 100_000);
        try (Loopback loop = new Loopback(config)) {
            loop.raw(big);
            loop.flushAndCompareCaches();
            assertArrayEquals(big, loop.decoded.toByteArray());
            assertTrue(loop.stats.framesEncoded() > 20);
        }
    }

    /**
     * RAW records are gathered in the frame body behind room for the longest length: one of a few
     * bytes is moved back behind its one-byte length (the format's varints are in shortest form),
     * one of a whole frame needs no move; both decode exactly, and a frame sent as it is (tier 1)
     * carries the body byte for byte behind its header.
     */
    @Test
    void rawRecordsCarryTheShortestLengthAndTheBodyGoesAsItIs() {
        HdeConfig config = new HdeConfig().setTier(1).setFrameSize(DataSize.ofKiB(64));
        try (Loopback loop = new Loopback(config, java.util.List.of(), java.util.List.of(), true)) {
            byte[] shortRaw = {10, 20, 30, 40, 50};
            loop.raw(shortRaw);
            loop.flushAndCompareCaches();
            byte[] frame = loop.frames.get(loop.frames.size() - 1);
            assertArrayEquals(
                    new byte[] {HdeFrame.RECORD_RAW, 5, 10, 20, 30, 40, 50},
                    Arrays.copyOfRange(frame, HdeFrame.HEADER_LENGTH, frame.length));
            byte[] whole = randomBytes(new Random(5), 64 * 1024);
            loop.raw(whole);
            loop.flushAndCompareCaches();
            frame = loop.frames.get(loop.frames.size() - 1);
            // varint of 65536: 0x80 0x80 0x04
            assertArrayEquals(
                    new byte[] {HdeFrame.RECORD_RAW, (byte) 0x80, (byte) 0x80, 0x04},
                    Arrays.copyOfRange(frame, HdeFrame.HEADER_LENGTH, HdeFrame.HEADER_LENGTH + 4));
            assertArrayEquals(whole, Arrays.copyOfRange(frame, HdeFrame.HEADER_LENGTH + 4, frame.length));
            assertArrayEquals(loop.original.toByteArray(), loop.decoded.toByteArray());
        }
    }

    @Test
    void dictionaryTrainedOffThreadArrivesMidStream() {
        // the training task waits in a queue until the test runs it: frames before use no dictionary
        java.util.ArrayDeque<Runnable> queued = new java.util.ArrayDeque<>();
        HdeConfig config = new HdeConfig()
                .setFrameSize(DataSize.ofKiB(64))
                .setDictionarySize(DataSize.ofKiB(8))
                .setDictionarySample(DataSize.ofKiB(256))
                // frames compressed each on its own: streamed frames use no dictionary
                .setZstdWindow(DataSize.ofBytes(0));
        WorkloadPages workload = WORKLOAD;
        HdeStats stats = new HdeStats();
        java.io.ByteArrayOutputStream original = new java.io.ByteArrayOutputStream();
        HdeDecoderTest.Output decoded = new HdeDecoderTest.Output();
        java.util.List<Integer> types = new java.util.ArrayList<>();
        try (HdeDecoder decoder = new HdeDecoder(config, stats, decoded);
                HdeEncoder encoder = new HdeEncoder(
                        config,
                        stats,
                        java.util.List.of(),
                        frame -> {
                            types.add(frame[HdeFrame.TYPE_OFFSET] * 10 + frame[HdeFrame.CODEC_OFFSET]);
                            try {
                                decoder.feed(frame, 0, frame.length);
                            } catch (java.io.IOException e) {
                                throw new java.io.UncheckedIOException(e);
                            }
                        },
                        queued::add)) {
            for (int p = 0; p < 512; p++) {
                byte[] page = workload.page(p);
                original.write(page, 0, 4096);
                encoder.page("pc.ram", p * 4096L, new byte[0], 0, 0, page, 0);
                if (p == 300) {
                    assertEquals(1, queued.size(), "training was started once the sample was complete");
                    queued.remove().run();
                }
            }
            encoder.flush();
        }
        assertArrayEquals(original.toByteArray(), decoded.bytes.toByteArray());
        int dictionaryFrame = types.indexOf(HdeFrame.TYPE_DICTIONARY * 10);
        assertTrue(dictionaryFrame > 3, types.toString());
        assertTrue(
                types.subList(1, dictionaryFrame).stream().allMatch(t -> t == 31 || t == 30),
                "before: zstd without dictionary " + types);
        assertTrue(
                types.subList(dictionaryFrame + 1, types.size()).stream().allMatch(t -> t == 32 || t == 30),
                "after: with the dictionary " + types);
        assertEquals(1, stats.dictionariesTrained());
    }
}
