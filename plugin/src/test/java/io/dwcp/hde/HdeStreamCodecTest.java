package io.dwcp.hde;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.codec.CodecException;
import io.dwcp.codec.StreamDecoder;
import io.dwcp.codec.StreamEncoder;
import io.dwcp.config.DataSize;
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
                .setDictionarySample(DataSize.ofMiB(1))
                .setDictionarySize(DataSize.ofKiB(16));
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
        if (!fixture.getFileName().toString().endsWith("-zstd")) {
            // multifd zstd packets are opaque to the tokenizer: no page to encode
            assertTrue(
                    stats.pages(PageLevel.PAGE)
                                    + stats.pages(PageLevel.ZERO)
                                    + stats.pages(PageLevel.REFERENCE)
                                    + stats.pages(PageLevel.DELTA)
                            > 0,
                    "pages went through HDE");
        }
        System.out.printf(
                "%s tier %s: %d -> %d bytes (%.1f%%)%n",
                fixture.getFileName(), config.getTier(), rawTotal, encodedTotal, 100.0 * encodedTotal / rawTotal);
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
