package io.dwcp.hde;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.luben.zstd.ZstdDecompressCtx;
import io.dwcp.config.DataSize;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * ZSTD_STREAM frames: one zstd context per encoder/decoder pair, each body flushed on it. Their
 * format (the START frame's zstdWindowLog, codec 3, flag NEW_CONTEXT, payloads that together are
 * one zstd stream), when the encoder starts a new context, and every way a decoder refuses them.
 */
class HdeStreamedFramesTest {
    private static final HdeConfig STREAMED = streamed();

    /** 3000 random letters: zstd shrinks them on their own only to about 60 %. */
    private static final byte[] TEXT = letters(3000, 7);

    @Test
    void laterFramesMatchAgainstTheBodiesOfEarlierOnes() throws IOException {
        List<byte[]> frames = encode(STREAMED, encoder -> {
            for (int i = 0; i < 3; i++) {
                encoder.raw(TEXT, 0, TEXT.length);
                encoder.flush();
            }
        });
        assertEquals(4, frames.size());
        byte[] start = frames.get(0);
        assertEquals(HdeFrame.TYPE_START, start[HdeFrame.TYPE_OFFSET]);
        assertEquals(7, Bytes.getInt(start, HdeFrame.HEADER_LENGTH), "formatVersion");
        assertEquals(20, start[start.length - 1], "zstdWindowLog: 1 MiB");
        byte[] body = rawRecord(TEXT);
        for (int i = 1; i < 4; i++) {
            byte[] frame = frames.get(i);
            assertEquals(HdeFrame.TYPE_PAGES, frame[HdeFrame.TYPE_OFFSET]);
            assertEquals(HdeFrame.CODEC_ZSTD_STREAM, frame[HdeFrame.CODEC_OFFSET]);
            assertEquals(3, frame[HdeFrame.LEVEL_OFFSET]);
            assertEquals(i == 1 ? HdeFrame.FLAG_NEW_CONTEXT : 0, frame[HdeFrame.FLAGS_OFFSET], "frame " + i);
            assertEquals(i, Bytes.getInt(frame, HdeFrame.SEQUENCE_OFFSET));
            assertEquals(1, Bytes.getInt(frame, HdeFrame.RECORDS_OFFSET));
            assertEquals(body.length, Bytes.getInt(frame, HdeFrame.BODY_LENGTH_OFFSET));
            assertEquals(frame.length - HdeFrame.HEADER_LENGTH, Bytes.getInt(frame, HdeFrame.PAYLOAD_LENGTH_OFFSET));
        }
        int first = payload(frames.get(1)).length;
        assertTrue(first > 1500, "the first body on its own: " + first + " bytes");
        for (int i = 2; i < 4; i++) {
            int later = payload(frames.get(i)).length;
            assertTrue(later < 40, "the same body again is a match into the one before: " + later + " bytes");
        }
        // the payloads together are one zstd stream (a frame that does not end) of the bodies
        try (ZstdDecompressCtx zstd = new ZstdDecompressCtx()) {
            zstd.setLongMax(20);
            for (int i = 1; i < 4; i++) {
                ByteBuffer source = ByteBuffer.wrap(payload(frames.get(i)));
                ByteBuffer target = ByteBuffer.allocate(body.length);
                while (source.hasRemaining()) {
                    assertTrue(!zstd.decompressByteBufferStream(target, source), "the zstd frame goes on");
                }
                assertArrayEquals(body, target.array(), "body " + i);
            }
        }
        assertArrayEquals(concat(TEXT, TEXT, TEXT), decode(STREAMED, frames));

        // each compressed on its own, the same bodies cost the same every time
        List<byte[]> independent = encode(streamed().setZstdWindow(DataSize.ofBytes(0)), encoder -> {
            for (int i = 0; i < 3; i++) {
                encoder.raw(TEXT, 0, TEXT.length);
                encoder.flush();
            }
        });
        assertEquals(0, independent.get(0)[independent.get(0).length - 1], "zstdWindowLog 0");
        for (int i = 1; i < 4; i++) {
            assertEquals(HdeFrame.CODEC_ZSTD, independent.get(i)[HdeFrame.CODEC_OFFSET]);
            int alone = payload(independent.get(i)).length;
            assertTrue(alone > 1500, "frame " + i + " on its own: " + alone + " bytes");
        }
    }

    @Test
    void incompressibleBodyGoesAsItIsAndTheNextFrameStartsANewContext() throws IOException {
        byte[] random = new byte[64 << 10];
        new Random(3).nextBytes(random);
        List<byte[]> frames = encode(STREAMED, encoder -> {
            encoder.raw(TEXT, 0, TEXT.length);
            encoder.flush();
            encoder.raw(random, 0, random.length);
            encoder.flush();
            encoder.raw(TEXT, 0, TEXT.length);
            encoder.flush();
            encoder.raw(TEXT, 0, TEXT.length);
            encoder.flush();
        });
        assertEquals(5, frames.size());
        byte[] stored = frames.get(2);
        assertEquals(HdeFrame.CODEC_NONE, stored[HdeFrame.CODEC_OFFSET]);
        assertEquals(0, stored[HdeFrame.FLAGS_OFFSET]);
        int body = Bytes.getInt(stored, HdeFrame.BODY_LENGTH_OFFSET);
        assertEquals(HdeFrame.HEADER_LENGTH + body, stored.length, "not one byte more than the body");
        assertEquals(HdeFrame.CODEC_ZSTD_STREAM, frames.get(3)[HdeFrame.CODEC_OFFSET]);
        assertEquals(HdeFrame.FLAG_NEW_CONTEXT, frames.get(3)[HdeFrame.FLAGS_OFFSET], "a new context after NONE");
        assertEquals(0, frames.get(4)[HdeFrame.FLAGS_OFFSET]);
        assertArrayEquals(concat(TEXT, random, TEXT, TEXT), decode(STREAMED, frames));
    }

    @Test
    void levelChangeStartsANewContext() throws IOException {
        List<byte[]> frames = encode(STREAMED, encoder -> {
            encoder.raw(TEXT, 0, TEXT.length);
            encoder.flush();
            encoder.setLevel(6);
            encoder.raw(TEXT, 0, TEXT.length);
            encoder.flush();
            encoder.raw(TEXT, 0, TEXT.length);
            encoder.flush();
        });
        assertEquals(HdeFrame.FLAG_NEW_CONTEXT, frames.get(1)[HdeFrame.FLAGS_OFFSET]);
        assertEquals(3, frames.get(1)[HdeFrame.LEVEL_OFFSET]);
        assertEquals(
                HdeFrame.FLAG_NEW_CONTEXT,
                frames.get(2)[HdeFrame.FLAGS_OFFSET],
                "zstd applies a level only to a new frame");
        assertEquals(6, frames.get(2)[HdeFrame.LEVEL_OFFSET]);
        assertEquals(0, frames.get(3)[HdeFrame.FLAGS_OFFSET]);
        assertEquals(6, frames.get(3)[HdeFrame.LEVEL_OFFSET]);
        assertArrayEquals(concat(TEXT, TEXT, TEXT), decode(STREAMED, frames));
    }

    @Test
    void tier1FramesStayRaw() throws IOException {
        HdeConfig local = streamed().setTier(1);
        List<byte[]> frames = encode(local, encoder -> {
            encoder.raw(TEXT, 0, TEXT.length);
            encoder.flush();
            encoder.setTier(LinkTier.WAN);
            encoder.raw(TEXT, 0, TEXT.length);
            encoder.flush();
        });
        assertEquals(20, frames.get(0)[frames.get(0).length - 1], "the window is announced for a later tier");
        assertEquals(HdeFrame.CODEC_NONE, frames.get(1)[HdeFrame.CODEC_OFFSET]);
        assertEquals(HdeFrame.CODEC_ZSTD_STREAM, frames.get(2)[HdeFrame.CODEC_OFFSET]);
        assertEquals(HdeFrame.FLAG_NEW_CONTEXT, frames.get(2)[HdeFrame.FLAGS_OFFSET]);
        assertArrayEquals(concat(TEXT, TEXT), decode(STREAMED, frames));
    }

    @Test
    void streamedFramesUseNoDictionary() {
        try (HdeEncoder encoder = new HdeEncoder(STREAMED, new HdeStats(), frame -> {})) {
            IllegalStateException e =
                    assertThrows(IllegalStateException.class, () -> encoder.useDictionary(new byte[1024]));
            assertEquals(
                    "streamed frames (hde.zstd-window 1048576 bytes) use no dictionary; set hde.zstd-window to 0 for one",
                    e.getMessage());
        }
    }

    // ---- refusals ----

    @Test
    void swappedStreamedFrames() {
        List<byte[]> frames = threeFrames();
        HdeDecodeException e = assertRefused(
                STREAMED, List.of(frames.get(0), frames.get(1), frames.get(3), frames.get(2)), 2, "sequence");
        assertEquals("2", e.expected());
        assertEquals("3", e.found());
    }

    @Test
    void corruptStreamedFrameAndEveryFrameAfterIt() throws IOException {
        List<byte[]> frames = threeFrames();
        byte[] corrupt = frames.get(2).clone();
        corrupt[HdeFrame.HEADER_LENGTH + 1] ^= 4;
        try (HdeDecoder decoder = new HdeDecoder(STREAMED, new HdeStats(), new HdeDecoderTest.Output())) {
            decoder.feed(frames.get(0), 0, frames.get(0).length);
            decoder.feed(frames.get(1), 0, frames.get(1).length);
            HdeDecodeException e =
                    assertThrows(HdeDecodeException.class, () -> decoder.feed(corrupt, 0, corrupt.length));
            assertEquals("crc", e.field());
            assertEquals(2, e.sequence());
            byte[] next = frames.get(3);
            IllegalStateException refused =
                    assertThrows(IllegalStateException.class, () -> decoder.feed(next, 0, next.length));
            assertTrue(refused.getMessage().startsWith("decoder failed earlier: "), refused.getMessage());
        }
    }

    @Test
    void streamedPayloadCutShort() {
        List<byte[]> frames = threeFrames();
        byte[] first = frames.get(1);
        byte[] cut = Arrays.copyOf(first, first.length - 10);
        Bytes.putInt(cut, HdeFrame.PAYLOAD_LENGTH_OFFSET, cut.length - HdeFrame.HEADER_LENGTH);
        HdeDecodeException e =
                assertRefused(STREAMED, List.of(frames.get(0), HdeDecoderTest.withCrc(cut)), 1, "payload");
        assertTrue(e.found().startsWith("the payload's end after ") || e.found().startsWith("zstd error: "), e.found());
    }

    @Test
    void continuingFrameWithoutAContext() {
        List<byte[]> frames = threeFrames();
        byte[] first = frames.get(1).clone();
        first[HdeFrame.FLAGS_OFFSET] = 0;
        HdeDecodeException e =
                assertRefused(STREAMED, List.of(frames.get(0), HdeDecoderTest.withCrc(first)), 1, "flags");
        assertEquals(
                "NEW_CONTEXT (the PAGES frame before was not a ZSTD_STREAM frame: no context to continue)",
                e.expected());
        assertEquals("0", e.found());
    }

    @Test
    void continuingFrameAfterAFrameOfAnotherCodec() {
        List<byte[]> frames = threeFrames();
        byte[] none = frameOf(HdeFrame.CODEC_NONE, 0, 2, rawRecord(new byte[] {'h', 'i'}));
        byte[] next = frames.get(2).clone();
        Bytes.putInt(next, HdeFrame.SEQUENCE_OFFSET, 3);
        HdeDecodeException e = assertRefused(
                STREAMED, List.of(frames.get(0), frames.get(1), none, HdeDecoderTest.withCrc(next)), 3, "flags");
        assertEquals("0", e.found());
    }

    @Test
    void newContextFlagOnAnotherCodec() {
        List<byte[]> frames = threeFrames();
        byte[] none = frameOf(HdeFrame.CODEC_NONE, HdeFrame.FLAG_NEW_CONTEXT, 1, rawRecord(new byte[] {'h', 'i'}));
        HdeDecodeException e = assertRefused(STREAMED, List.of(frames.get(0), none), 1, "flags");
        assertEquals("0", e.expected());
        assertEquals("1", e.found());
        byte[] unknownFlag = frames.get(1).clone();
        unknownFlag[HdeFrame.FLAGS_OFFSET] = 3;
        e = assertRefused(STREAMED, List.of(frames.get(0), HdeDecoderTest.withCrc(unknownFlag)), 1, "flags");
        assertEquals("0 or 1 (NEW_CONTEXT) for ZSTD_STREAM", e.expected());
    }

    @Test
    void windowLargerThanThisHostAllows() {
        List<byte[]> frames = encode(streamed().setZstdWindow(DataSize.ofMiB(64)), encoder -> {
            encoder.raw(TEXT, 0, TEXT.length);
            encoder.flush();
        });
        HdeDecodeException e = assertRefused(new HdeConfig(), frames, 0, "zstdWindowLog");
        assertEquals(14, e.bodyOffset());
        assertEquals("at most 25 (hde.zstd-window of this host: 33554432 bytes)", e.expected());
        assertEquals("26", e.found());
        e = assertRefused(new HdeConfig().setZstdWindow(DataSize.ofBytes(0)), frames, 0, "zstdWindowLog");
        assertEquals("at most 0 (hde.zstd-window of this host: 0)", e.expected());
    }

    @Test
    void windowLogBelowTheSmallest() {
        List<byte[]> frames = threeFrames();
        byte[] start = frames.get(0).clone();
        start[start.length - 1] = 12;
        HdeDecodeException e = assertRefused(STREAMED, List.of(HdeDecoderTest.withCrc(start)), 0, "zstdWindowLog");
        assertEquals("0 or 20..30", e.expected());
        assertEquals("12", e.found());
    }

    @Test
    void streamedFrameAfterAStartWithoutAWindow() {
        List<byte[]> frames = threeFrames();
        byte[] start = frames.get(0).clone();
        start[start.length - 1] = 0;
        HdeDecodeException e =
                assertRefused(STREAMED, List.of(HdeDecoderTest.withCrc(start), frames.get(1)), 1, "codec");
        assertEquals("no ZSTD_STREAM (the START frame's zstdWindowLog is 0)", e.expected());
        assertEquals("ZSTD_STREAM", e.found());
    }

    @Test
    void zstdFrameAskingForMoreWindowThanTheStartFrameAnnounced() {
        List<byte[]> frames = encode(streamed().setZstdWindow(DataSize.ofMiB(4)), encoder -> {
            encoder.raw(TEXT, 0, TEXT.length);
            encoder.flush();
        });
        byte[] start = frames.get(0).clone();
        start[start.length - 1] = 20;
        HdeDecodeException e =
                assertRefused(new HdeConfig(), List.of(HdeDecoderTest.withCrc(start), frames.get(1)), 1, "payload");
        assertTrue(e.found().startsWith("zstd error: "), e.found());
        assertTrue(e.expected().endsWith("with a window of at most 2^20 bytes"), e.expected());
    }

    // ---- helpers ----

    /** Tier 3, 1 MiB window, no dictionary, 16 KiB caches. */
    private static HdeConfig streamed() {
        return new HdeConfig()
                .setTier(3)
                .setZstdWindow(DataSize.ofMiB(1))
                .setDeltaCacheSize(DataSize.ofKiB(16))
                .setHashCacheSize(DataSize.ofKiB(16))
                .setDictionarySize(DataSize.ofBytes(0));
    }

    private static List<byte[]> threeFrames() {
        return encode(STREAMED, encoder -> {
            for (int i = 0; i < 3; i++) {
                encoder.raw(TEXT, 0, TEXT.length);
                encoder.flush();
            }
        });
    }

    static List<byte[]> encode(HdeConfig config, Consumer<HdeEncoder> input) {
        List<byte[]> frames = new ArrayList<>();
        try (HdeEncoder encoder = new HdeEncoder(config, new HdeStats(), frames::add)) {
            input.accept(encoder);
        }
        return frames;
    }

    private static byte[] decode(HdeConfig config, List<byte[]> frames) throws IOException {
        HdeDecoderTest.Output out = new HdeDecoderTest.Output();
        try (HdeDecoder decoder = new HdeDecoder(config, new HdeStats(), out)) {
            for (byte[] frame : frames) {
                decoder.feed(frame, 0, frame.length);
            }
            decoder.endOfInput();
            assertEquals(frames.size(), decoder.frames());
        }
        return out.bytes.toByteArray();
    }

    private static HdeDecodeException assertRefused(
            HdeConfig config, List<byte[]> frames, long sequence, String field) {
        HdeDecodeException e = assertThrows(HdeDecodeException.class, () -> decode(config, frames));
        assertEquals(field, e.field(), e.getMessage());
        assertEquals(sequence, e.sequence(), e.getMessage());
        return e;
    }

    private static byte[] frameOf(int codec, int flags, int sequence, byte[] body) {
        byte[] frame = new byte[HdeFrame.HEADER_LENGTH + body.length];
        Bytes.putInt(frame, HdeFrame.MAGIC_OFFSET, HdeFrame.MAGIC);
        frame[HdeFrame.TYPE_OFFSET] = HdeFrame.TYPE_PAGES;
        frame[HdeFrame.CODEC_OFFSET] = (byte) codec;
        frame[HdeFrame.FLAGS_OFFSET] = (byte) flags;
        Bytes.putInt(frame, HdeFrame.SEQUENCE_OFFSET, sequence);
        Bytes.putInt(frame, HdeFrame.RECORDS_OFFSET, 1);
        Bytes.putInt(frame, HdeFrame.BODY_LENGTH_OFFSET, body.length);
        Bytes.putInt(frame, HdeFrame.PAYLOAD_LENGTH_OFFSET, body.length);
        System.arraycopy(body, 0, frame, HdeFrame.HEADER_LENGTH, body.length);
        return HdeDecoderTest.withCrc(frame);
    }

    private static byte[] rawRecord(byte[] bytes) {
        byte[] varint = new byte[Varint.MAX_LENGTH];
        int length = Varint.write(varint, 0, bytes.length);
        return concat(new byte[] {HdeFrame.RECORD_RAW}, Arrays.copyOf(varint, length), bytes);
    }

    private static byte[] payload(byte[] frame) {
        return Arrays.copyOfRange(frame, HdeFrame.HEADER_LENGTH, frame.length);
    }

    private static byte[] letters(int length, long seed) {
        Random random = new Random(seed);
        byte[] text = new byte[length];
        for (int i = 0; i < length; i++) {
            text[i] = (byte) ('a' + random.nextInt(26));
        }
        return text;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.write(part, 0, part.length);
        }
        return out.toByteArray();
    }
}
