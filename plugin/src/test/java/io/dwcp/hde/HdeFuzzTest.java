package io.dwcp.hde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.github.luben.zstd.Zstd;
import io.dwcp.config.DataSize;
import io.dwcp.fuzz.Mutations;
import io.dwcp.migration.stream.ByteSink;
import io.dwcp.migration.stream.MigrationStreamWriter;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Seeded fuzzing of the HDE decoder, the destination's reader of what the source encoded. Inputs
 * are random, or streams of the real encoder (raw frames, zstd frames each on its own, and
 * ZSTD_STREAM frames, whose payloads are mutated as they are) mutated: bits flipped in
 * bodies, varints and other fields set to extremes, bodies cut, extended, spliced or with a slice
 * repeated, header fields (sequence, records, bodyLength, payloadLength, type, codec, flags) set to
 * extremes, frames repeated, dropped or swapped, CRC kept valid or not, bytes flipped on the wire,
 * streams truncated. Each must be decoded or refused with {@link HdeDecodeException}: no other
 * exception (the sink is the real {@link MigrationStreamWriter}), no hang (the class's timeout),
 * and no allocation beyond a constant plus a small multiple of what the input holds or really
 * decompresses to (no header field sizes a buffer). Replay with {@code -Ddwcp.fuzz.seed=SEED}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HdeFuzzTest {
    private static final long DEFAULT_SEED = 0x4de5eedL;
    private static final int INPUTS = 100_000;
    private static final int WARM_UP_INPUTS = 2_000;
    private static final HdeConfig CONFIG = new HdeConfig()
            .setTier(1)
            .setDeltaCacheSize(DataSize.ofKiB(64))
            .setHashCacheSize(DataSize.ofKiB(64))
            .setDictionarySize(DataSize.ofBytes(0));
    /** A decoder's own buffers (64 KiB of input buffer, the first 64 KiB of body) and small objects. */
    private static final long ALLOCATION_BASE = 160 << 10;
    /** Per byte of input or of decompressed body: copies of pages into the caches, growing buffers. */
    private static final long ALLOCATION_PER_BYTE = 8;

    private static final byte[][] VARINT_EXTREMES = {
        {0x00},
        {0x7f},
        {(byte) 0x80, 0x00},
        {(byte) 0x80, 0x01},
        {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f
        }, // 2^63 - 1
        {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f}, // 2^32 - 1
        {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07}, // 2^31 - 1
        {(byte) 0x80, (byte) 0x80, 0x04}, // 65536
        {
            (byte) 0xff,
            (byte) 0xff,
            (byte) 0xff,
            (byte) 0xff,
            (byte) 0xff,
            (byte) 0xff,
            (byte) 0xff,
            (byte) 0xff,
            (byte) 0xff,
            0x01
        }, // too long
    };
    private static final int[] INT_EXTREMES = {
        0,
        1,
        -1,
        Integer.MAX_VALUE,
        Integer.MIN_VALUE,
        HdeFrame.MAX_BODY_LENGTH,
        HdeFrame.MAX_BODY_LENGTH + 1,
        HdeFrame.MAX_PAYLOAD_LENGTH,
        HdeFrame.MAX_PAYLOAD_LENGTH + 1,
        4096,
        65536
    };

    private final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    @Test
    void everyInputIsDecodedOrRefusedWithATypedError() {
        long seed = Long.getLong("dwcp.fuzz.seed", DEFAULT_SEED);
        System.out.println("HdeFuzzTest: seed " + seed + " (replay with -Ddwcp.fuzz.seed=" + seed + ")");
        List<List<Spec>> corpus = List.of(
                encode(1, 0, new Random(seed)), encode(3, 0, new Random(seed + 1)), encode(3, 1, new Random(seed + 2)));
        List<Spec> streamed = corpus.get(2);
        assertTrue(
                streamed.stream()
                                .filter(spec -> spec.codec == HdeFrame.CODEC_ZSTD_STREAM && spec.flags == 0)
                                .count()
                        >= 1,
                "the streamed corpus continues a zstd context");
        for (List<Spec> stream : corpus) {
            ByteArrayOutputStream valid = new ByteArrayOutputStream();
            stream.forEach(spec -> valid.writeBytes(spec.serialize()));
            Result result = run(valid.toByteArray(), new Random(seed));
            assertEquals(
                    new Result(Outcome.DECODED, stream.size(), result.decompressed),
                    result,
                    "the unmutated stream decodes");
        }
        Random warmUp = new Random(~seed);
        for (int i = 0; i < WARM_UP_INPUTS; i++) {
            byte[] input = generate(warmUp, corpus);
            try {
                run(input, warmUp);
            } catch (Throwable e) {
                throw new AssertionError(
                        "warm-up input " + i + " of seed " + seed + " raised " + e + ": " + describe(input), e);
            }
        }
        Random random = new Random(seed);
        long[] outcomes = new long[Outcome.values().length];
        long frames = 0;
        long largestAllocation = 0;
        for (int i = 0; i < INPUTS; i++) {
            byte[] input = generate(random, corpus);
            long before = threads.getCurrentThreadAllocatedBytes();
            Result result;
            try {
                result = run(input, random);
            } catch (Throwable e) {
                throw new AssertionError(
                        "input " + i + " of seed " + seed + " raised " + e + ": " + describe(input), e);
            }
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            long allowed = ALLOCATION_BASE + ALLOCATION_PER_BYTE * (input.length + result.decompressed);
            largestAllocation =
                    Math.max(largestAllocation, allocated - ALLOCATION_PER_BYTE * (input.length + result.decompressed));
            if (allocated > allowed) {
                fail("input " + i + " of seed " + seed + " (" + input.length + " bytes, " + result.decompressed
                        + " decompressed) allocated " + allocated + " bytes: " + describe(input));
            }
            outcomes[result.outcome.ordinal()]++;
            frames += result.frames;
        }
        System.out.println("HdeFuzzTest: " + INPUTS + " inputs, " + frames + " frames decoded; outcomes "
                + Arrays.toString(Outcome.values()) + " = " + Arrays.toString(outcomes) + "; largest allocation beyond "
                + ALLOCATION_PER_BYTE + " bytes per byte: " + largestAllocation);
        for (Outcome outcome : Outcome.values()) {
            assertTrue(
                    outcomes[outcome.ordinal()] > INPUTS / 100,
                    outcome + " for too few inputs: " + Arrays.toString(outcomes));
        }
    }

    private enum Outcome {
        DECODED,
        REFUSED
    }

    private record Result(Outcome outcome, long frames, long decompressed) {}

    private Result run(byte[] input, Random random) {
        HdeStats stats = new HdeStats();
        MigrationStreamWriter writer = new MigrationStreamWriter(ByteSink.of(OutputStream.nullOutputStream()));
        HdeDecoder decoder = new HdeDecoder(CONFIG, stats, HdeDecoder.toWriter(writer));
        try {
            int at = 0;
            int pieces = 1 + random.nextInt(3);
            for (int piece = 0; piece < pieces; piece++) {
                int end = piece == pieces - 1 ? input.length : at + random.nextInt(input.length - at + 1);
                decoder.feed(input, at, end - at);
                at = end;
            }
            decoder.endOfInput();
            return new Result(Outcome.DECODED, decoder.frames(), writer.bytesWritten());
        } catch (HdeDecodeException e) {
            return new Result(Outcome.REFUSED, decoder.frames(), writer.bytesWritten());
        } catch (java.io.IOException e) {
            throw new AssertionError("an IOException other than HdeDecodeException: " + e, e);
        } finally {
            decoder.close();
        }
    }

    // ---- inputs ----

    /** One frame as fields and a decompressed body, serialized with a valid CRC unless told otherwise. */
    private static final class Spec {
        int magic = HdeFrame.MAGIC;
        int type;
        int codec;
        int level;
        int flags;
        int sequence;
        int records;
        byte[] body;
        Integer bodyLength;
        Integer payloadLength;
        boolean badCrc;

        Spec copy() {
            Spec copy = new Spec();
            copy.magic = magic;
            copy.type = type;
            copy.codec = codec;
            copy.level = level;
            copy.flags = flags;
            copy.sequence = sequence;
            copy.records = records;
            copy.body = body;
            copy.bodyLength = bodyLength;
            copy.payloadLength = payloadLength;
            copy.badCrc = badCrc;
            return copy;
        }

        static Spec parse(byte[] frame) {
            Spec spec = new Spec();
            spec.type = frame[HdeFrame.TYPE_OFFSET] & 0xff;
            spec.codec = frame[HdeFrame.CODEC_OFFSET] & 0xff;
            spec.level = frame[HdeFrame.LEVEL_OFFSET];
            spec.sequence = Bytes.getInt(frame, HdeFrame.SEQUENCE_OFFSET);
            spec.flags = frame[HdeFrame.FLAGS_OFFSET] & 0xff;
            spec.records = Bytes.getInt(frame, HdeFrame.RECORDS_OFFSET);
            int bodyLength = Bytes.getInt(frame, HdeFrame.BODY_LENGTH_OFFSET);
            byte[] payload = Arrays.copyOfRange(frame, HdeFrame.HEADER_LENGTH, frame.length);
            if (spec.codec == HdeFrame.CODEC_ZSTD_STREAM) {
                // decodable only after the frames before it: kept (and mutated) as the payload it is
                spec.body = payload;
                spec.bodyLength = bodyLength;
            } else {
                spec.body = spec.codec == HdeFrame.CODEC_NONE ? payload : Zstd.decompress(payload, bodyLength);
            }
            return spec;
        }

        /** The corpus's frames are never changed (mutations work on copies): their bytes are kept. */
        private byte[] serialized;

        byte[] serialize() {
            if (serialized == null) {
                serialized = encode();
            }
            return serialized;
        }

        private byte[] encode() {
            byte[] payload = codec == HdeFrame.CODEC_ZSTD ? Zstd.compress(body, 1) : body;
            byte[] frame = new byte[HdeFrame.HEADER_LENGTH + payload.length];
            Bytes.putInt(frame, HdeFrame.MAGIC_OFFSET, magic);
            frame[HdeFrame.TYPE_OFFSET] = (byte) type;
            frame[HdeFrame.CODEC_OFFSET] = (byte) codec;
            frame[HdeFrame.LEVEL_OFFSET] = (byte) level;
            frame[HdeFrame.FLAGS_OFFSET] = (byte) flags;
            Bytes.putInt(frame, HdeFrame.SEQUENCE_OFFSET, sequence);
            Bytes.putInt(frame, HdeFrame.RECORDS_OFFSET, records);
            Bytes.putInt(frame, HdeFrame.BODY_LENGTH_OFFSET, bodyLength != null ? bodyLength : body.length);
            Bytes.putInt(frame, HdeFrame.PAYLOAD_LENGTH_OFFSET, payloadLength != null ? payloadLength : payload.length);
            System.arraycopy(payload, 0, frame, HdeFrame.HEADER_LENGTH, payload.length);
            CRC32C crc = new CRC32C();
            crc.update(frame, 0, HdeFrame.CRC_OFFSET);
            crc.update(frame, HdeFrame.HEADER_LENGTH, payload.length);
            Bytes.putInt(frame, HdeFrame.CRC_OFFSET, (int) crc.getValue() ^ (badCrc ? 1 : 0));
            return frame;
        }
    }

    /**
     * A stream of the real encoder at a tier (1: raw frames, 3: zstd) with a zstd window of {@code
     * windowMiB} (0: frames compressed each on its own): RAW bytes, two RAM blocks, and pages sent
     * as PAGE, ZERO, REF (the same content elsewhere) and many small DELTAs; then a frame with a
     * BASE_DELTA against the last page. With a window, every frame also has the same 2000 bytes of
     * text, so that later frames continue the zstd context.
     */
    private static List<Spec> encode(int tier, int windowMiB, Random random) {
        List<byte[]> frames = new ArrayList<>();
        HdeConfig config = new HdeConfig()
                .setTier(tier)
                .setZstdWindow(DataSize.ofMiB(windowMiB))
                .setDeltaCacheSize(DataSize.ofKiB(64))
                .setHashCacheSize(DataSize.ofKiB(64))
                .setDictionarySize(DataSize.ofBytes(0));
        byte[] text = new byte[2000];
        for (int i = 0; i < text.length; i++) {
            text[i] = (byte) ('a' + random.nextInt(26));
        }
        byte[] page = new byte[HdeFrame.PAGE_SIZE];
        random.nextBytes(page);
        byte[] header = {0, 0, 0, 0, 0, 0, 0x20, 0x08};
        try (HdeEncoder encoder = new HdeEncoder(config, new HdeStats(), frames::add)) {
            for (int round = 0; round < 3; round++) {
                byte[] raw = new byte[1 + random.nextInt(40)];
                random.nextBytes(raw);
                encoder.raw(raw, 0, raw.length);
                if (windowMiB != 0) {
                    encoder.raw(text, 0, text.length);
                }
                encoder.page("pc.ram", 0, header, 0, header.length, page, 0);
                encoder.page("pc.ram", 0x1000, header, 0, header.length, new byte[HdeFrame.PAGE_SIZE], 0);
                encoder.page("vga.vram", 0x2000, header, 0, header.length, page, 0);
                for (int delta = 0; delta < 6; delta++) {
                    page[random.nextInt(page.length)] ^= (byte) (1 + random.nextInt(255));
                    encoder.page("pc.ram", 0, header, 0, header.length, page, 0);
                }
                encoder.flush();
            }
        }
        List<Spec> specs = new ArrayList<>();
        for (byte[] frame : frames) {
            specs.add(Spec.parse(frame));
        }
        // the encoder writes BASE_DELTA only against a recorded baseline; one by hand against a page in the hash cache
        Spec baseDelta = new Spec();
        baseDelta.type = HdeFrame.TYPE_PAGES;
        int lastCodec = specs.get(specs.size() - 1).codec;
        baseDelta.codec = lastCodec == HdeFrame.CODEC_ZSTD_STREAM ? HdeFrame.CODEC_NONE : lastCodec;
        baseDelta.sequence = specs.size();
        baseDelta.records = 1;
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(HdeFrame.RECORD_BASE_DELTA);
        body.write(0); // blockId 0
        body.writeBytes(new byte[] {(byte) 0x80, 0x60}); // offset 0x3000
        body.write(header.length);
        body.writeBytes(header);
        byte[] hash = new byte[PageHash.BYTES];
        new PageHasher().hash(page, 0).write(hash, 0);
        body.write(0); // the content named by its hash
        body.writeBytes(hash);
        body.write(10); // delta length: one run of one literal word
        body.write(3); // 3 unchanged words
        body.write(1); // 1 changed word
        body.writeBytes(new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        baseDelta.body = body.toByteArray();
        specs.add(baseDelta);
        return specs;
    }

    private static byte[] generate(Random random, List<List<Spec>> corpus) {
        int strategy = random.nextInt(100);
        if (strategy < 4) {
            byte[] noise = new byte[random.nextInt(120)];
            random.nextBytes(noise);
            return noise;
        }
        List<Spec> valid = corpus.get(random.nextInt(corpus.size()));
        List<Spec> frames = new ArrayList<>(valid.subList(0, 1 + random.nextInt(valid.size())));
        if (strategy < 80) {
            int index = random.nextInt(frames.size());
            frames.set(index, mutate(frames.get(index), valid, random));
        } else if (strategy < 86 && frames.size() > 1) {
            // a frame repeated, dropped or two swapped
            int a = random.nextInt(frames.size());
            int b = random.nextInt(frames.size());
            switch (random.nextInt(3)) {
                case 0 -> frames.add(b, frames.get(a));
                case 1 -> frames.remove(a);
                default -> {
                    Spec swap = frames.get(a);
                    frames.set(a, frames.get(b));
                    frames.set(b, swap);
                }
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Spec spec : frames) {
            out.writeBytes(spec.serialize());
        }
        byte[] stream = out.toByteArray();
        if (strategy >= 86 && strategy < 93) {
            int flips = 1 + random.nextInt(4);
            for (int i = 0; i < flips; i++) {
                int bit = random.nextInt(stream.length * 8);
                stream[bit / 8] ^= (byte) (1 << (bit % 8));
            }
        } else if (strategy >= 93) {
            stream = Arrays.copyOf(stream, random.nextInt(stream.length + 1));
        }
        return stream;
    }

    private static Spec mutate(Spec original, List<Spec> valid, Random random) {
        Spec spec = original.copy();
        byte[] body = spec.body.clone();
        switch (random.nextInt(8)) {
            case 0 -> {
                int flips = 1 + random.nextInt(4);
                for (int i = 0; i < flips && body.length > 0; i++) {
                    int bit = random.nextInt(body.length * 8);
                    body[bit / 8] ^= (byte) (1 << (bit % 8));
                }
            }
            case 1 -> {
                // a varint (or any field) overwritten by an extreme value
                if (body.length > 0) {
                    byte[] value = VARINT_EXTREMES[random.nextInt(VARINT_EXTREMES.length)];
                    int at = random.nextInt(body.length);
                    System.arraycopy(value, 0, body, at, Math.min(value.length, body.length - at));
                }
            }
            case 2 -> body = Mutations.truncate(random, body);
            case 3 -> body = Mutations.extend(random, body, 64);
            case 4 -> {
                // a slice written twice (a repeated record or field), the record count possibly following it
                if (body.length > 0) {
                    body = Mutations.repeatSlice(random, body, 64);
                    if (random.nextBoolean()) {
                        spec.records++;
                    }
                }
            }
            case 5 -> {
                // a slice of another frame's body spliced in
                byte[] other = valid.get(random.nextInt(valid.size())).body;
                if (body.length > 0 && other.length > 0) {
                    int from = random.nextInt(other.length);
                    int length = 1 + random.nextInt(Math.min(64, other.length - from));
                    int at = random.nextInt(body.length);
                    System.arraycopy(other, from, body, at, Math.min(length, body.length - at));
                }
            }
            case 6 -> {
                switch (random.nextInt(8)) {
                    case 0 -> spec.sequence = pick(random, INT_EXTREMES);
                    case 1 ->
                        spec.records = random.nextBoolean()
                                ? spec.records + (random.nextBoolean() ? 1 : -1)
                                : pick(random, INT_EXTREMES);
                    case 2 ->
                        spec.bodyLength = random.nextBoolean()
                                ? body.length + (random.nextBoolean() ? 1 : -1)
                                : pick(random, INT_EXTREMES);
                    case 3 -> spec.payloadLength = pick(random, INT_EXTREMES);
                    case 4 -> spec.type = random.nextInt(5);
                    case 5 -> spec.codec = random.nextInt(5);
                    case 6 -> spec.flags ^= 1 << random.nextInt(8);
                    default -> spec.magic ^= 1 << random.nextInt(32);
                }
            }
            default -> spec.badCrc = true;
        }
        spec.body = body;
        return spec;
    }

    private static int pick(Random random, int[] values) {
        return values[random.nextInt(values.length)];
    }

    /** The input in hex, its first 512 bytes (the seed and the input's number replay the rest). */
    private static String describe(byte[] input) {
        String hex = java.util.HexFormat.of().formatHex(input, 0, Math.min(input.length, 512));
        return input.length <= 512 ? hex : hex + "... (" + input.length + " bytes)";
    }
}
