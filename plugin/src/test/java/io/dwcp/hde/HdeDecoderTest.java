package io.dwcp.hde;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.luben.zstd.Zstd;
import io.dwcp.config.DataSize;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/** Golden bytes of the frame format, and every way a decoder refuses input (typed errors naming field, expected, found). */
class HdeDecoderTest {
    // 16 KiB caches: 4 entries each
    private static final HdeConfig CONFIG = new HdeConfig()
            .setTier(1)
            .setDeltaCacheSize(DataSize.ofKiB(16))
            .setHashCacheSize(DataSize.ofKiB(16))
            .setDictionarySize(DataSize.ofBytes(0));

    private static final byte[] GOLDEN_START = {
        0x48, 0x44, 0x45, 0x31, // magic "HDE1"
        1, // type START
        0, // codec NONE
        0, // level
        0, // flags
        0, 0, 0, 0, // sequence 0
        0, 0, 0, 0, // records 0
        0, 0, 0, 15, // bodyLength 15
        0, 0, 0, 15, // payloadLength 15
        0, 0, 0, 0, // crc (filled in by withCrc)
        0, 0, 0, 7, // formatVersion 7
        0, 0, 0, 4, // deltaCacheEntries 4
        0, 0, 0, 4, // hashCacheEntries 4
        0, 0, // no baselines
        25, // zstdWindowLog 25 (hde.zstd-window 32MiB)
    };

    private static final byte[] GOLDEN_PAGES = {
        0x48,
        0x44,
        0x45,
        0x31, // magic "HDE1"
        3, // type PAGES
        0, // codec NONE
        0, // level
        0, // flags
        0,
        0,
        0,
        1, // sequence 1
        0,
        0,
        0,
        3, // records 3
        0,
        0,
        0,
        26, // bodyLength 26
        0,
        0,
        0,
        26, // payloadLength 26
        0,
        0,
        0,
        0, // crc (filled in by withCrc)
        0x01,
        2,
        'h',
        'i', // RAW, length 2, "hi"
        0x06,
        0,
        6,
        'p',
        'c',
        '.',
        'r',
        'a',
        'm', // BLOCK 0, length 6, "pc.ram"
        0x02,
        0,
        (byte) 0x80,
        0x40,
        8, // ZERO, block 0, offset varint 0x2000, header length 8
        0,
        0,
        0,
        0,
        0,
        0,
        0x20,
        0x08, // header: be64 0x2000 | PAGE (0x08)
    };

    static byte[] withCrc(byte[] frame) {
        byte[] copy = frame.clone();
        CRC32C crc = new CRC32C();
        crc.update(copy, 0, HdeFrame.CRC_OFFSET);
        crc.update(copy, HdeFrame.HEADER_LENGTH, copy.length - HdeFrame.HEADER_LENGTH);
        Bytes.putInt(copy, HdeFrame.CRC_OFFSET, (int) crc.getValue());
        return copy;
    }

    @Test
    void encoderWritesTheGoldenBytes() {
        List<byte[]> frames = new ArrayList<>();
        try (HdeEncoder encoder = new HdeEncoder(CONFIG, new HdeStats(), frames::add)) {
            encoder.raw(new byte[] {'h', 'i'}, 0, 2);
            byte[] header = {0, 0, 0, 0, 0, 0, 0x20, 0x08};
            encoder.page("pc.ram", 0x2000, header, 0, header.length, new byte[4096], 0);
            encoder.flush();
        }
        assertEquals(2, frames.size());
        assertArrayEquals(withCrc(GOLDEN_START), frames.get(0));
        assertArrayEquals(withCrc(GOLDEN_PAGES), frames.get(1));
    }

    @Test
    void decoderReadsTheGoldenBytesSplitAnywhere() throws IOException {
        byte[] stream = concat(withCrc(GOLDEN_START), withCrc(GOLDEN_PAGES));
        byte[] expected = new byte[2 + 8 + 4096];
        expected[0] = 'h';
        expected[1] = 'i';
        expected[2 + 6] = 0x20;
        expected[2 + 7] = 0x08;
        for (int split = 0; split <= stream.length; split++) {
            Output out = new Output();
            try (HdeDecoder decoder = new HdeDecoder(CONFIG, new HdeStats(), out)) {
                decoder.feed(stream, 0, split);
                decoder.feed(stream, split, stream.length - split);
                decoder.endOfInput();
                assertEquals(2, decoder.frames());
            }
            assertArrayEquals(expected, out.bytes.toByteArray(), "split at " + split);
        }
    }

    // ---- header errors ----

    @Test
    void badMagic() {
        byte[] frame = withCrc(GOLDEN_START);
        frame[0] = 'X';
        assertError(List.of(frame), 0, 0, -1, "magic", "0x48444531", "0x58444531");
    }

    @Test
    void unknownType() {
        byte[] frame = GOLDEN_START.clone();
        frame[HdeFrame.TYPE_OFFSET] = 9;
        assertError(List.of(withCrc(frame)), 0, 0, -1, "type", "START (1), DICTIONARY (2) or PAGES (3)", "9");
    }

    @Test
    void compressedStartFrame() {
        byte[] frame = GOLDEN_START.clone();
        frame[HdeFrame.CODEC_OFFSET] = 1;
        assertError(List.of(withCrc(frame)), 0, 0, -1, "codec", "NONE (0) for START", "1");
    }

    @Test
    void reservedFlags() {
        byte[] frame = GOLDEN_START.clone();
        frame[HdeFrame.FLAGS_OFFSET] = 0x10;
        assertError(List.of(withCrc(frame)), 0, 0, -1, "flags", "0", "16");
    }

    @Test
    void lostFrame() {
        byte[] pages = GOLDEN_PAGES.clone();
        pages[HdeFrame.SEQUENCE_OFFSET + 3] = 2;
        assertError(List.of(withCrc(GOLDEN_START), withCrc(pages)), GOLDEN_START.length, 1, -1, "sequence", "1", "2");
    }

    @Test
    void repeatedFrame() {
        assertError(
                List.of(withCrc(GOLDEN_START), withCrc(GOLDEN_START)),
                GOLDEN_START.length,
                1,
                -1,
                "sequence",
                "1",
                "0");
    }

    @Test
    void corruptPayload() {
        byte[] pages = withCrc(GOLDEN_PAGES);
        int crc = Bytes.getInt(pages, HdeFrame.CRC_OFFSET);
        pages[HdeFrame.HEADER_LENGTH + 2] ^= 1;
        HdeDecodeException e = assertError(
                List.of(withCrc(GOLDEN_START), pages),
                GOLDEN_START.length,
                1,
                -1,
                "crc",
                String.format("0x%08x", Bytes.getInt(withCrc(pages), HdeFrame.CRC_OFFSET)),
                String.format("0x%08x", crc));
        assertTrue(
                e.getMessage().startsWith("HDE decoding failed at stream offset 43 (frame 1): crc: expected 0x"),
                e.getMessage());
    }

    @Test
    void firstFrameMustBeStart() {
        byte[] pages = GOLDEN_PAGES.clone();
        pages[HdeFrame.SEQUENCE_OFFSET + 3] = 0;
        assertError(List.of(withCrc(pages)), 0, 0, -1, "type", "START (the first frame of a stream)", "PAGES");
    }

    @Test
    void secondStart() {
        byte[] start = GOLDEN_START.clone();
        start[HdeFrame.SEQUENCE_OFFSET + 3] = 1;
        assertError(
                List.of(withCrc(GOLDEN_START), withCrc(start)),
                GOLDEN_START.length,
                1,
                -1,
                "type",
                "DICTIONARY or PAGES (START only as the first frame)",
                "START");
    }

    @Test
    void oversizedBody() {
        byte[] pages = GOLDEN_PAGES.clone();
        Bytes.putInt(pages, HdeFrame.BODY_LENGTH_OFFSET, HdeFrame.MAX_BODY_LENGTH + 1);
        assertError(
                List.of(withCrc(GOLDEN_START), withCrc(pages)),
                GOLDEN_START.length,
                1,
                -1,
                "bodyLength",
                "at most 8388608",
                "8388609");
    }

    @Test
    void uncompressedPayloadOfTheWrongLength() {
        byte[] pages = GOLDEN_PAGES.clone();
        Bytes.putInt(pages, HdeFrame.PAYLOAD_LENGTH_OFFSET, 27);
        assertError(
                List.of(withCrc(GOLDEN_START), pages),
                GOLDEN_START.length,
                1,
                -1,
                "payloadLength",
                "bodyLength (26) for codec NONE",
                "27");
    }

    @Test
    void truncatedStream() throws IOException {
        byte[] pages = withCrc(GOLDEN_PAGES);
        try (HdeDecoder decoder = new HdeDecoder(CONFIG, new HdeStats(), new Output())) {
            decoder.feed(withCrc(GOLDEN_START), 0, GOLDEN_START.length);
            decoder.feed(pages, 0, pages.length - 1);
            HdeDecodeException e = assertThrows(HdeDecodeException.class, decoder::endOfInput);
            assertFields(
                    e,
                    GOLDEN_START.length,
                    1,
                    -1,
                    "frame",
                    "a whole frame before the end of the stream",
                    "53 bytes of a partial frame");
        }
    }

    @Test
    void failedDecoderRefusesMoreInput() throws IOException {
        byte[] bad = withCrc(GOLDEN_START);
        bad[0] = 0;
        try (HdeDecoder decoder = new HdeDecoder(CONFIG, new HdeStats(), new Output())) {
            assertThrows(HdeDecodeException.class, () -> decoder.feed(bad, 0, bad.length));
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> decoder.feed(bad, 0, 1));
            assertTrue(e.getMessage().startsWith("decoder failed earlier: HDE decoding failed"), e.getMessage());
        }
    }

    // ---- START ----

    @Test
    void cachesLargerThanThisHostAllows() {
        byte[] start = GOLDEN_START.clone();
        start[HdeFrame.HEADER_LENGTH + 7] = 5;
        assertError(
                List.of(withCrc(start)),
                0,
                0,
                4,
                "deltaCacheEntries",
                "at most 4 (hde.delta-cache-size of this host)",
                "5");
    }

    @Test
    void laterQemuConnectionsGetAnEighthOfTheCachesAndNoneBeyondTheEighth() throws IOException {
        assertEquals(4096, HdeFrame.connectionCacheEntries(4096, 0));
        assertEquals(512, HdeFrame.connectionCacheEntries(4096, 1));
        assertEquals(512, HdeFrame.connectionCacheEntries(4096, 8));
        assertEquals(0, HdeFrame.connectionCacheEntries(4096, 9));
        // 128 KiB caches: 32 entries; connection 1 may ask for 4 (the golden START), not 5
        HdeConfig config = new HdeConfig()
                .setTier(1)
                .setDeltaCacheSize(DataSize.ofKiB(128))
                .setHashCacheSize(DataSize.ofKiB(128))
                .setDictionarySize(DataSize.ofBytes(0));
        try (HdeDecoder decoder = new HdeDecoder(config, new HdeStats(), List.of(), new Output(), 1)) {
            byte[] start = withCrc(GOLDEN_START.clone());
            decoder.feed(start, 0, start.length);
        }
        byte[] start = GOLDEN_START.clone();
        start[HdeFrame.HEADER_LENGTH + 11] = 5; // hashCacheEntries 5
        HdeDecodeException e = startRefused(config, 1, withCrc(start));
        assertFields(
                e,
                0,
                0,
                8,
                "hashCacheEntries",
                "at most 4 (QEMU connection 1: 1/8 of hde.hash-cache-size of this host)",
                "5");
        e = startRefused(config, 9, withCrc(GOLDEN_START.clone()));
        assertFields(
                e,
                0,
                0,
                4,
                "deltaCacheEntries",
                "at most 0 (QEMU connection 9: none of hde.delta-cache-size of this host)",
                "4");
    }

    private static HdeDecodeException startRefused(HdeConfig config, int channel, byte[] start) {
        return assertThrows(HdeDecodeException.class, () -> {
            try (HdeDecoder decoder = new HdeDecoder(config, new HdeStats(), List.of(), new Output(), channel)) {
                decoder.feed(start, 0, start.length);
            }
        });
    }

    @Test
    void unknownBaseline() {
        byte[] start = concat(
                Arrays.copyOf(GOLDEN_START, GOLDEN_START.length - 3), new byte[] {0, 1, 0, 3, 'v', 'm', '1', 25});
        Bytes.putInt(start, HdeFrame.BODY_LENGTH_OFFSET, 20);
        Bytes.putInt(start, HdeFrame.PAYLOAD_LENGTH_OFFSET, 20);
        assertError(
                List.of(withCrc(start)), 0, 0, 0, "baseline", "one of [] (the baselines this host announced)", "vm1");
    }

    // ---- records ----

    @Test
    void unknownRecordKind() {
        assertBodyError(
                body().u8(0x09),
                1,
                0,
                "record kind",
                "RAW, ZERO, REF, DELTA, PAGE, BLOCK, BASE_DELTA or BASE_ZSTD (1..8)",
                "9");
    }

    @Test
    void fewerRecordsThanDeclared() {
        assertBodyError(
                body().u8(0x01).varint(1).u8('x'), 2, 3, "records", "2 records", "1 records before the body's end");
    }

    @Test
    void bytesAfterTheLastRecord() {
        assertBodyError(
                body().u8(0x01).varint(1).u8('x').u8(0), 1, 3, "body", "its end after 1 records", "1 more bytes");
    }

    @Test
    void rawRecordPastTheBody() {
        assertBodyError(
                body().u8(0x01).varint(10).u8('x'), 1, 0, "RAW length", "a varint length within the body", "10");
    }

    /** Found by HdeFuzzTest: a length near 2^63 overflowed the bounds check and reached the sink as -1. */
    @Test
    void rawRecordOfALengthNearTwoToThe63() {
        assertBodyError(
                body().u8(0x01).varint(Long.MAX_VALUE).u8('x'),
                1,
                0,
                "RAW length",
                "a varint length within the body",
                "9223372036854775807");
    }

    @Test
    void pageOfAnUndefinedBlock() {
        assertBodyError(body().u8(0x02).varint(0).varint(0).varint(0), 1, 0, "blockId", "a defined block (0..-1)", "0");
    }

    @Test
    void blocksOutOfOrder() {
        assertBodyError(
                body().u8(0x06).varint(1).varint(1).u8('x'), 1, 0, "BLOCK id", "0 (the next block number)", "1");
    }

    @Test
    void tooManyBlocks() {
        Body body = body();
        for (int id = 0; id <= HdeFrame.MAX_BLOCKS; id++) {
            body.u8(0x06).varint(id).varint(0);
        }
        // 128 one-byte ids, then two-byte ids: the last record starts at 3 x 128 + 4 x (4096 - 128)
        assertBodyError(
                body,
                HdeFrame.MAX_BLOCKS + 1,
                3 * 128 + 4 * (HdeFrame.MAX_BLOCKS - 128),
                "BLOCK id",
                "at most 4096 blocks per stream",
                "4096");
    }

    @Test
    void referenceToAnUnknownHash() {
        PageHash hash = new PageHasher().hash(new byte[4096], 0);
        Body body = block().u8(0x03).varint(0).varint(0x3000).varint(0).hash(hash);
        assertBodyError(
                body,
                2,
                9,
                "REF hash",
                "a page this decoder holds (for block 'pc.ram' offset 0x3000)",
                "unknown hash " + hash + " (not in the hash cache)");
    }

    @Test
    void deltaWithoutAPreviousVersion() {
        Body body = block().u8(0x04).varint(0).varint(0x3000).varint(0).varint(0);
        assertBodyError(
                body,
                2,
                9,
                "DELTA previous version",
                "a previous version of block 'pc.ram' offset 0x3000 in the cache",
                "none (never sent, sent as zero, or evicted)");
    }

    @Test
    void deltaRunPastThePage() throws IOException {
        byte[] page = new byte[4096];
        page[0] = 1;
        // a PAGE, then a DELTA of it whose run covers 600 words
        Body body = pageAtZero(page)
                .u8(0x04)
                .varint(0)
                .varint(0)
                .varint(0)
                .varint(3)
                .varint(600)
                .varint(0);
        // the PAGE record is 4100 bytes after the 9-byte BLOCK; the run starts 5 bytes into the DELTA record
        assertBodyError(body, 3, 9 + 4100 + 5, "DELTA run", "runs within the page and the delta", "a run past the end");
    }

    /** A BASE_ZSTD record whose bytes are no zstd frame, or a frame of another size than a page. */
    @Test
    void baseZstdRecordThatIsNoPage() throws IOException {
        byte[] page = new byte[4096];
        page[0] = 1;
        byte[] half;
        try (var zstd = new com.github.luben.zstd.ZstdCompressCtx()) {
            half = zstd.compress(new byte[2048]);
        }
        assertBaseZstdError(page, new byte[] {1, 2, 3, 4, 5}, "zstd error: Src size is incorrect");
        assertBaseZstdError(page, half, "2048 bytes");
    }

    private static void assertBaseZstdError(byte[] page, byte[] frame, String found) throws IOException {
        // the BASE_ZSTD record starts 4100 bytes after the 9-byte BLOCK
        assertBodyError(
                pageThenBaseZstd(page, frame),
                3,
                9 + 4100,
                "BASE_ZSTD frame",
                "a zstd frame of 4096 bytes against the base",
                found);
    }

    /** A BLOCK, then a PAGE record of {@code page} at offset 0 (4100 bytes after the 9-byte BLOCK). */
    private static Body pageAtZero(byte[] page) {
        return block().u8(0x05).varint(0).varint(0).varint(0).bytes(page);
    }

    /** A PAGE at offset 0, then a BASE_ZSTD record at offset 4096 against it, carrying {@code frame}. */
    private static Body pageThenBaseZstd(byte[] page, byte[] frame) {
        return pageAtZero(page)
                .u8(0x08)
                .varint(0)
                .varint(4096)
                .varint(0)
                .hash(new PageHasher().hash(page, 0))
                .varint(frame.length)
                .bytes(frame);
    }

    /** Found by HdeFuzzTest: run lengths near 2^63 overflowed the run check and read past the delta (ArrayIndexOutOfBoundsException). */
    @Test
    void deltaRunsOfLengthsNearTwoToThe63() throws IOException {
        byte[] page = new byte[4096];
        page[0] = 1;
        Body pageThenDelta = pageAtZero(page)
                .u8(0x04)
                .varint(0)
                .varint(0)
                .varint(0)
                .varint(18)
                .varint(Long.MAX_VALUE)
                .varint(1)
                .bytes(new byte[8]);
        assertBodyError(
                pageThenDelta,
                3,
                9 + 4100 + 5,
                "DELTA run",
                "runs within the page and the delta",
                "a run past the end");
        // 2^61 literal words: 8 times that is 0 in a long
        Body literals = pageAtZero(page)
                .u8(0x04)
                .varint(0)
                .varint(0)
                .varint(0)
                .varint(10)
                .varint(0)
                .varint(1L << 61);
        assertBodyError(
                literals, 3, 9 + 4100 + 5, "DELTA run", "runs within the page and the delta", "a run past the end");
    }

    @Test
    void referenceWhoseBaselineContentDoesNotMatch() {
        byte[] page = new byte[4096];
        page[5] = 5;
        PageHash hash = new PageHasher().hash(page, 0);
        byte[] corrupt = page.clone();
        corrupt[6] = 6;
        PageHash corruptHash = new PageHasher().hash(corrupt, 0);
        byte[] pages =
                pagesFrame(1, block().u8(0x03).varint(0).varint(0).varint(0).hash(hash), 2);
        HdeDecodeException e = assertThrows(
                HdeDecodeException.class,
                () -> decode(List.of(startWithBaselineVm1(), pages), List.of(baselineVm1(hash, corrupt))));
        assertFields(
                e,
                48,
                1,
                9,
                "REF content",
                "content hashing to " + hash + " (for block 'pc.ram' offset 0x0)",
                "content hashing to " + corruptHash + " in baseline vm1");
    }

    /** A REF naming its content by index 1: the first hash the START frame's baseline announced. */
    @Test
    void referenceByIndexIntoTheAnnouncedHashes() throws IOException {
        byte[] page = new byte[4096];
        page[5] = 5;
        PageHash hash = new PageHasher().hash(page, 0);
        byte[] pages = pagesFrame(
                1, block().u8(0x03).varint(0).varint(0x3000).varint(0).varint(1), 2);
        Output output = new Output();
        try (HdeDecoder decoder = new HdeDecoder(CONFIG, new HdeStats(), List.of(baselineVm1(hash, page)), output)) {
            for (byte[] frame : List.of(startWithBaselineVm1(), pages)) {
                decoder.feed(frame, 0, frame.length);
            }
            decoder.endOfInput();
        }
        assertArrayEquals(page, output.bytes.toByteArray());
    }

    @Test
    void referenceByAnIndexPastTheAnnouncedHashes() {
        byte[] page = new byte[4096];
        PageHash hash = new PageHasher().hash(page, 0);
        byte[] pages =
                pagesFrame(1, block().u8(0x03).varint(0).varint(0).varint(0).varint(2), 2);
        HdeDecodeException e = assertThrows(
                HdeDecodeException.class,
                () -> decode(List.of(startWithBaselineVm1(), pages), List.of(baselineVm1(hash, page))));
        assertFields(
                e, 48, 1, 9, "REF name", "0 and a hash, or 1..1 (an index into the announced hashes of [vm1])", "2");
    }

    /** A START frame whose stream uses baseline "vm1". */
    private static byte[] startWithBaselineVm1() {
        byte[] start = concat(
                Arrays.copyOf(GOLDEN_START, GOLDEN_START.length - 3), new byte[] {0, 1, 0, 3, 'v', 'm', '1', 25});
        Bytes.putInt(start, HdeFrame.BODY_LENGTH_OFFSET, 20);
        Bytes.putInt(start, HdeFrame.PAYLOAD_LENGTH_OFFSET, 20);
        return withCrc(start);
    }

    /** Baseline "vm1", announcing one page of hash {@code hash}, whose read gives {@code content}. */
    private static Baseline baselineVm1(PageHash hash, byte[] content) {
        return new Baseline() {
            @Override
            public String id() {
                return "vm1";
            }

            @Override
            public BaselineAnnouncement announcement() {
                return BaselineAnnouncement.of("vm1", List.of(hash));
            }

            @Override
            public byte[] read(PageHash h) {
                return h.equals(hash) ? content.clone() : null;
            }
        };
    }

    @Test
    void garbageZstdPayload() {
        byte[] body = block().toByteArray();
        byte[] garbage = {1, 2, 3, 4, 5, 6, 7, 8};
        byte[] frame = frame(HdeFrame.TYPE_PAGES, HdeFrame.CODEC_ZSTD, 1, 1, 1, body.length, garbage);
        HdeDecodeException e =
                assertThrows(HdeDecodeException.class, () -> decode(List.of(withCrc(GOLDEN_START), frame), List.of()));
        assertEquals("payload", e.field());
        assertEquals("a zstd frame of 9 bytes", e.expected());
        assertTrue(e.found().startsWith("zstd error: "), e.found());
    }

    @Test
    void dictionaryCodecWithoutADictionary() {
        byte[] body = block().toByteArray();
        byte[] frame = frame(
                HdeFrame.TYPE_PAGES, HdeFrame.CODEC_ZSTD_DICTIONARY, 1, 1, 1, body.length, Zstd.compress(body, 1));
        assertError(
                List.of(withCrc(GOLDEN_START), frame),
                GOLDEN_START.length,
                1,
                -1,
                "codec",
                "ZSTD or NONE (no DICTIONARY frame came before)",
                "ZSTD_DICTIONARY");
    }

    @Test
    void compressedFrameOfTheWrongDeclaredLength() {
        byte[] body = block().toByteArray();
        byte[] frame =
                frame(HdeFrame.TYPE_PAGES, HdeFrame.CODEC_ZSTD, 1, 1, 1, body.length + 5, Zstd.compress(body, 1));
        HdeDecodeException e =
                assertThrows(HdeDecodeException.class, () -> decode(List.of(withCrc(GOLDEN_START), frame), List.of()));
        assertEquals("payload", e.field());
        assertEquals("a zstd frame of bodyLength (14) bytes", e.expected());
        assertEquals("9 bytes", e.found());
    }

    @Test
    void compressedFrameOfMoreBytesThanDeclared() {
        byte[] body = block().toByteArray();
        byte[] frame =
                frame(HdeFrame.TYPE_PAGES, HdeFrame.CODEC_ZSTD, 1, 1, 1, body.length - 4, Zstd.compress(body, 1));
        assertError(
                List.of(withCrc(GOLDEN_START), frame),
                GOLDEN_START.length,
                1,
                -1,
                "payload",
                "a zstd frame of bodyLength (5) bytes",
                "a zstd frame of more bytes");
    }

    @Test
    void compressedFrameCutShort() {
        byte[] body = new byte[5000];
        new java.util.Random(1).nextBytes(body);
        byte[] compressed = Zstd.compress(body, 1);
        byte[] frame = frame(
                HdeFrame.TYPE_PAGES,
                HdeFrame.CODEC_ZSTD,
                1,
                1,
                1,
                body.length,
                Arrays.copyOf(compressed, compressed.length - 100));
        HdeDecodeException e =
                assertThrows(HdeDecodeException.class, () -> decode(List.of(withCrc(GOLDEN_START), frame), List.of()));
        assertEquals("payload", e.field());
        assertEquals("a whole zstd frame", e.expected());
        assertTrue(e.found().startsWith("a zstd frame cut short after "), e.found());
    }

    @Test
    void bytesAfterTheZstdFrame() {
        byte[] body = block().toByteArray();
        byte[] compressed = Zstd.compress(body, 1);
        byte[] frame = frame(
                HdeFrame.TYPE_PAGES,
                HdeFrame.CODEC_ZSTD,
                1,
                1,
                1,
                body.length,
                Arrays.copyOf(compressed, compressed.length + 3));
        assertError(
                List.of(withCrc(GOLDEN_START), frame),
                GOLDEN_START.length,
                1,
                -1,
                "payload",
                "one zstd frame",
                "3 bytes after the zstd frame");
    }

    // ---- helpers ----

    private static Body body() {
        return new Body();
    }

    /** A body that starts by defining block 0, "pc.ram" (9 bytes). */
    private static Body block() {
        return new Body()
                .u8(0x06)
                .varint(0)
                .varint(6)
                .bytes("pc.ram".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }

    private static void assertBodyError(
            Body body, int records, long bodyOffset, String field, String expected, String found) {
        byte[] frame = pagesFrame(1, body, records);
        assertError(List.of(withCrc(GOLDEN_START), frame), GOLDEN_START.length, 1, bodyOffset, field, expected, found);
    }

    private static byte[] pagesFrame(int sequence, Body body, int records) {
        byte[] bytes = body.toByteArray();
        return frame(HdeFrame.TYPE_PAGES, HdeFrame.CODEC_NONE, 0, sequence, records, bytes.length, bytes);
    }

    private static byte[] frame(
            int type, int codec, int level, int sequence, int records, int bodyLength, byte[] payload) {
        byte[] frame = new byte[HdeFrame.HEADER_LENGTH + payload.length];
        Bytes.putInt(frame, HdeFrame.MAGIC_OFFSET, HdeFrame.MAGIC);
        frame[HdeFrame.TYPE_OFFSET] = (byte) type;
        frame[HdeFrame.CODEC_OFFSET] = (byte) codec;
        frame[HdeFrame.LEVEL_OFFSET] = (byte) level;
        Bytes.putInt(frame, HdeFrame.SEQUENCE_OFFSET, sequence);
        Bytes.putInt(frame, HdeFrame.RECORDS_OFFSET, records);
        Bytes.putInt(frame, HdeFrame.BODY_LENGTH_OFFSET, bodyLength);
        Bytes.putInt(frame, HdeFrame.PAYLOAD_LENGTH_OFFSET, payload.length);
        System.arraycopy(payload, 0, frame, HdeFrame.HEADER_LENGTH, payload.length);
        return withCrc(frame);
    }

    private static HdeDecodeException assertError(
            List<byte[]> frames,
            long streamOffset,
            long sequence,
            long bodyOffset,
            String field,
            String expected,
            String found) {
        HdeDecodeException e = assertThrows(HdeDecodeException.class, () -> decode(frames, List.of()));
        assertFields(e, streamOffset, sequence, bodyOffset, field, expected, found);
        return e;
    }

    private static void assertFields(
            HdeDecodeException e,
            long streamOffset,
            long sequence,
            long bodyOffset,
            String field,
            String expected,
            String found) {
        assertEquals(field, e.field(), e.getMessage());
        assertEquals(expected, e.expected(), e.getMessage());
        assertEquals(found, e.found(), e.getMessage());
        assertEquals(streamOffset, e.streamOffset(), e.getMessage());
        assertEquals(sequence, e.sequence(), e.getMessage());
        assertEquals(bodyOffset, e.bodyOffset(), e.getMessage());
    }

    private static void decode(List<byte[]> frames, List<Baseline> baselines) throws IOException {
        try (HdeDecoder decoder = new HdeDecoder(CONFIG, new HdeStats(), baselines, new Output())) {
            for (byte[] frame : frames) {
                decoder.feed(frame, 0, frame.length);
            }
            decoder.endOfInput();
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    static final class Output implements HdeDecoder.Sink {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        @Override
        public void page(byte[] header, int headerOffset, int headerLength, byte[] content, int contentOffset) {
            bytes.write(header, headerOffset, headerLength);
            bytes.write(content, contentOffset, 4096);
        }

        @Override
        public void raw(byte[] data, int offset, int length) {
            bytes.write(data, offset, length);
        }
    }

    static final class Body {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Body u8(int value) {
            out.write(value);
            return this;
        }

        Body varint(long value) {
            byte[] buffer = new byte[Varint.MAX_LENGTH];
            out.write(buffer, 0, Varint.write(buffer, 0, value));
            return this;
        }

        Body bytes(byte[] bytes) {
            out.write(bytes, 0, bytes.length);
            return this;
        }

        /** A content name that is the hash itself: 0, then the 16 bytes. */
        Body hash(PageHash hash) {
            out.write(0);
            byte[] bytes = new byte[PageHash.BYTES];
            hash.write(bytes, 0);
            return bytes(bytes);
        }

        byte[] toByteArray() {
            return out.toByteArray();
        }
    }
}
