package io.dwcp.hde;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.codec.CodecException;
import io.dwcp.codec.StreamDecoder;
import io.dwcp.codec.StreamEncoder;
import io.dwcp.config.DataSize;
import io.dwcp.migration.stream.MigrationStreamTokenizer;
import io.dwcp.migration.stream.Token;
import io.dwcp.migration.stream.TokenType;
import io.dwcp.migration.stream.TokenizerOptions;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The tunnel's HDE stream codec over the golden captures: QEMU's bytes cut at random places, with
 * flushes (digest checkpoints) at random places, including inside items the tokenizer holds back;
 * after every flush the decoder has rebuilt exactly the bytes given so far.
 */
class HdeStreamCodecTest {
    static List<Path> fixtures() throws Exception {
        return HdeFixtureTest.fixtures().toList();
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void everyFlushMakesEverythingSoFarDecodable(Path fixture) {
        long seed = System.nanoTime();
        System.out.println(fixture.getFileName() + " seed " + seed);
        Random random = new Random(seed);
        List<byte[]> channels = HdeFixtureTest.channels(fixture);
        HdeConfig config = new HdeConfig()
                .setTier(1 + random.nextInt(3))
                .setTier1Pages(random.nextBoolean() ? "raw" : "encoded")
                .setDictionarySample(DataSize.ofMiB(1))
                .setDictionarySize(DataSize.ofKiB(16));
        boolean rawPages = config.linkTier() == LinkTier.LOCAL && config.isTier1PagesRaw();
        HdeStats stats = new HdeStats();
        HdeStreamCodec codec = new HdeStreamCodec(
                config, stats, "[test]", List.of(), List.of(), null, config::linkTier, Runnable::run);
        long encodedTotal = 0;
        long rawTotal = 0;
        for (int channel = 0; channel < channels.size(); channel++) {
            byte[] stream = channels.get(channel);
            StreamEncoder encoder = codec.newEncoder(channel);
            StreamDecoder decoder = codec.newDecoder(channel);
            ByteArrayOutputStream decoded = new ByteArrayOutputStream();
            long[] encodedBytes = {0};
            int at = 0;
            while (at < stream.length) {
                // mostly small pieces, so that items are split and held back by the tokenizer
                int length = Math.min(
                        stream.length - at,
                        random.nextInt(4) == 0 ? 1 + random.nextInt(300_000) : 1 + random.nextInt(5000));
                encoder.encode(Unpooled.wrappedBuffer(Arrays.copyOfRange(stream, at, at + length)), frame -> {
                    encodedBytes[0] += frame.readableBytes();
                    decoder.decode(frame, bytes -> append(decoded, bytes));
                });
                at += length;
                if (random.nextInt(3) == 0 || at == stream.length) {
                    encoder.flush(frame -> {
                        encodedBytes[0] += frame.readableBytes();
                        decoder.decode(frame, bytes -> append(decoded, bytes));
                    });
                    byte[] soFar = decoded.toByteArray();
                    assertEquals(at, soFar.length, "channel " + channel + ": bytes decodable after a flush at " + at);
                    assertArrayEquals(
                            Arrays.copyOf(stream, at), soFar, "channel " + channel + " differs (seed " + seed + ")");
                }
            }
            encodedTotal += encodedBytes[0];
            rawTotal += stream.length;
            System.out.println("  channel " + channel + ": " + encoder.summary());
        }
        codec.close();
        long pages = stats.pages(PageLevel.PAGE)
                + stats.pages(PageLevel.ZERO)
                + stats.pages(PageLevel.REFERENCE)
                + stats.pages(PageLevel.DELTA);
        if (rawPages) {
            // tier 1, hde.tier1-pages raw: every byte as it came, in RAW records
            assertEquals(0, pages, "pages encoded at tier 1 with hde.tier1-pages raw");
            assertEquals(rawTotal, stats.rawBytesIn(), "bytes given as RAW");
        } else if (!fixture.getFileName().toString().endsWith("-zstd")) {
            // multifd zstd packets are opaque to the tokenizer: no page to encode
            assertTrue(pages > 0, "pages went through HDE");
        }
        System.out.printf(
                "%s tier %s%s: %d -> %d bytes (%.1f%%)%n",
                fixture.getFileName(),
                config.getTier(),
                config.linkTier() == LinkTier.LOCAL ? " (pages " + config.getTier1Pages() + ")" : "",
                rawTotal,
                encodedTotal,
                100.0 * encodedTotal / rawTotal);
    }

    /**
     * On QEMU's own captures (7.2 and 10.0, precopy, multifd, XBZRLE): the main channel's encoder
     * reports the switch-over where the first SECTION_END begins, and only once it was given those
     * bytes; after it, the stream has no SECTION_PART (QEMU iterates no more: the guest is stopped).
     * The multifd channels never report one.
     */
    @ParameterizedTest
    @MethodSource("fixtures")
    void theMainChannelsEncoderSeesQemusSwitchOverAtItsFirstSectionEnd(Path fixture) {
        List<byte[]> channels = HdeFixtureTest.channels(fixture);
        byte[] main = channels.get(0);
        long expected = -1;
        boolean partAfter = false;
        MigrationStreamTokenizer tokenizer = new MigrationStreamTokenizer(TokenizerOptions.lenient());
        tokenizer.feed(main, 0, main.length);
        for (Token token = tokenizer.next(); token != null; token = tokenizer.next()) {
            if (token.type() == TokenType.SECTION_END && expected < 0) {
                expected = token.streamOffset();
            } else if (token.type() == TokenType.SECTION_PART && expected >= 0) {
                partAfter = true;
            }
        }
        assertTrue(expected > 0, fixture + ": a SECTION_END in the main channel");
        assertFalse(partAfter, fixture + ": a SECTION_PART after the first SECTION_END");
        assertEquals(3, main[(int) expected], "QEMU_VM_SECTION_END");

        HdeConfig config = new HdeConfig().setTier(3);
        HdeStreamCodec codec = new HdeStreamCodec(
                config, new HdeStats(), "[test]", List.of(), List.of(), null, config::linkTier, Runnable::run);
        StreamEncoder encoder = codec.newEncoder(0);
        assertEquals(-1, encoder.switchoverOffset());
        encoder.encode(Unpooled.wrappedBuffer(Arrays.copyOf(main, (int) expected)), ByteBuf::release);
        assertEquals(-1, encoder.switchoverOffset(), "not before its bytes");
        encoder.encode(Unpooled.wrappedBuffer(Arrays.copyOfRange(main, (int) expected, main.length)), ByteBuf::release);
        assertEquals(expected, encoder.switchoverOffset());
        for (int channel = 1; channel < channels.size(); channel++) {
            StreamEncoder multifd = codec.newEncoder(channel);
            multifd.encode(Unpooled.wrappedBuffer(channels.get(channel)), ByteBuf::release);
            assertEquals(-1, multifd.switchoverOffset(), "multifd channel " + channel);
        }
        codec.close();
    }

    /**
     * Frames that decode into more than one output buffer holds (a payload of compressed pages) come
     * out as several buffers of at most {@link HdeStreamCodec#DECODED_CHUNK} bytes, in
     * order: a full buffer is handed on, never grown (growing copied it and, past the allocator's
     * chunk, faulted fresh memory in for every frame).
     */
    @Test
    void aPayloadDecodingIntoMoreThanABufferComesOutInBuffersOfAtMostAChunk() throws Exception {
        byte[] stream = HdeFixtureTest.fixtures()
                .map(HdeFixtureTest::channels)
                .map(channels -> channels.get(0))
                .max(java.util.Comparator.comparingInt(bytes -> bytes.length))
                .orElseThrow();
        assertTrue(stream.length > 3 * HdeStreamCodec.DECODED_CHUNK, "a capture of " + stream.length + " bytes");
        HdeConfig config = new HdeConfig().setTier(3);
        HdeStreamCodec codec = new HdeStreamCodec(
                config, new HdeStats(), "[test]", List.of(), List.of(), null, config::linkTier, Runnable::run);
        StreamEncoder encoder = codec.newEncoder(0);
        ByteArrayOutputStream frames = new ByteArrayOutputStream();
        encoder.encode(Unpooled.wrappedBuffer(stream), frame -> append(frames, frame));
        encoder.flush(frame -> append(frames, frame));
        // every frame in one payload, as a DATA frame carries several
        List<Integer> sizes = new ArrayList<>();
        ByteArrayOutputStream decoded = new ByteArrayOutputStream();
        codec.newDecoder(0).decode(Unpooled.wrappedBuffer(frames.toByteArray()), bytes -> {
            sizes.add(bytes.readableBytes());
            append(decoded, bytes);
        });
        assertArrayEquals(stream, decoded.toByteArray());
        assertTrue(sizes.size() >= 3, "buffers " + sizes);
        for (int size : sizes) {
            assertTrue(size <= HdeStreamCodec.DECODED_CHUNK, "buffers " + sizes);
        }
        codec.close();
    }

    /**
     * The encoder limits QEMU's supply where the codec lane held QEMU back more than a tenth of the
     * last few seconds (then the level controller is not told the supply): measured over the
     * window, so an early stretch of holding ages out.
     */
    @Test
    void theEncoderLimitsTheSupplyWhereTheCodecLaneHeldQemuBackMoreThanATenthOfTheWindow() {
        long second = 1_000_000_000L;
        CounterWindow window = new CounterWindow(HdeStreamCodec.SUPPLY_WINDOW_NANOS);
        assertFalse(HdeStreamCodec.encoderLimited(window, 10 * second, 0), "the first reading only starts it");
        assertFalse(HdeStreamCodec.encoderLimited(window, 11 * second, 50_000_000L), "5 % of a second");
        assertTrue(HdeStreamCodec.encoderLimited(window, 12 * second, 650_000_000L), "60 % of the next: 32 % of two");
        assertTrue(HdeStreamCodec.encoderLimited(window, 14 * second, 700_000_000L), "650 ms of four seconds");
        // the held stretch ages out of the window: 16 s back to 12 s, 50 ms held since
        assertFalse(HdeStreamCodec.encoderLimited(window, 16 * second, 700_000_000L), "nothing held since 12 s");
        assertFalse(HdeStreamCodec.encoderLimited(window, 17 * second, -1), "unknown: not limited");
    }

    @Test
    void aCorruptFrameIsACodecErrorNamingTheChannel() throws Exception {
        byte[] stream = HdeFixtureTest.channels(HdeFixtureTest.fixtures()
                        .filter(f -> f.getFileName().toString().equals("qemu-7.2-precopy"))
                        .findFirst()
                        .orElseThrow())
                .get(0);
        HdeConfig config = new HdeConfig().setTier(3);
        HdeStreamCodec codec = new HdeStreamCodec(
                config, new HdeStats(), "[test]", List.of(), List.of(), null, config::linkTier, Runnable::run);
        StreamEncoder encoder = codec.newEncoder(0);
        List<byte[]> frames = new ArrayList<>();
        encoder.encode(Unpooled.wrappedBuffer(Arrays.copyOf(stream, 1 << 20)), frame -> frames.add(bytes(frame)));
        encoder.flush(frame -> frames.add(bytes(frame)));
        assertTrue(frames.size() >= 2, "START and at least one PAGES frame");
        byte[] pages = frames.get(1);
        pages[pages.length - 1] ^= 0x01;
        StreamDecoder decoder = codec.newDecoder(0);
        decoder.decode(Unpooled.wrappedBuffer(frames.get(0)), bytes -> bytes.release());
        CodecException e = assertThrows(
                CodecException.class, () -> decoder.decode(Unpooled.wrappedBuffer(pages), bytes -> bytes.release()));
        assertTrue(e.getMessage().startsWith("HDE decoding of QEMU connection 0 failed: "), e.getMessage());
        assertTrue(e.getMessage().contains("crc"), e.getMessage());
        codec.close();
    }

    private static byte[] bytes(ByteBuf buffer) {
        byte[] bytes = new byte[buffer.readableBytes()];
        buffer.readBytes(bytes);
        buffer.release();
        return bytes;
    }

    private static void append(ByteArrayOutputStream out, ByteBuf bytes) {
        byte[] array = new byte[bytes.readableBytes()];
        bytes.readBytes(array);
        bytes.release();
        out.write(array, 0, array.length);
    }
}
