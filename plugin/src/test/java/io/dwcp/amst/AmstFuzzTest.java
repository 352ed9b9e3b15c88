package io.dwcp.amst;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.dwcp.fuzz.Mutations;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
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
 * Seeded fuzzing of what a tunnel stream reads from the network: {@link FrameDecoder} then {@link
 * AmstFrameReader}. Every input is random or a valid frame sequence mutated (bit flips, fields set
 * to extremes, payloads cut, extended or with a slice repeated, Length set to extremes, CRC kept
 * valid or not, truncation) and must be accepted or refused with {@link CorruptFrameException} or
 * {@link AmstProtocolException}: no other exception, no hang (the class's timeout), no allocation
 * beyond a small constant plus a small multiple of the input (a length field never sizes a buffer).
 * An accepted payload re-encodes to the same bytes. Replay with {@code -Ddwcp.fuzz.seed=SEED}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AmstFuzzTest {
    private static final long DEFAULT_SEED = 0x5eedA357L;
    private static final int INPUTS = 100_000;
    private static final int WARM_UP_INPUTS = 2_000;
    private static final int MAX_PAYLOAD = 64 << 10;
    /** Allocation allowed per input: a fixed amount for the decoder, frames and records, plus this many times the input. */
    private static final long ALLOCATION_BASE = 32 << 10;

    private static final long ALLOCATION_PER_INPUT_BYTE = 16;

    private static final long[] LONG_EXTREMES = {0, 1, -1, Long.MAX_VALUE, Long.MIN_VALUE, 255, 256, 65535, 1L << 32};
    private static final int[] INT_EXTREMES = {0, 1, 2, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 255, 256, 65535};

    private final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private final TunnelStream stream = new TunnelStream(0, new EmbeddedChannel());

    @Test
    void everyInputIsAcceptedOrRefusedWithATypedError() {
        long seed = Long.getLong("dwcp.fuzz.seed", DEFAULT_SEED);
        System.out.println("AmstFuzzTest: seed " + seed + " (replay with -Ddwcp.fuzz.seed=" + seed + ")");
        // class loading and first-use initialisation allocate too: warm up on other inputs first
        Random warmUp = new Random(~seed);
        for (int i = 0; i < WARM_UP_INPUTS; i++) {
            byte[] input = generate(warmUp);
            try {
                run(input, warmUp);
            } catch (Throwable e) {
                throw new AssertionError(
                        "warm-up input " + i + " of seed " + seed + " raised " + e + ": " + describe(input), e);
            }
        }
        Random random = new Random(seed);
        long[] outcomes = new long[Outcome.values().length];
        long framesRead = 0;
        long largestAllocation = 0;
        for (int i = 0; i < INPUTS; i++) {
            byte[] input = generate(random);
            long before = threads.getCurrentThreadAllocatedBytes();
            Result result;
            try {
                result = run(input, random);
            } catch (Throwable e) {
                throw new AssertionError(
                        "input " + i + " of seed " + seed + " raised " + e + ": " + describe(input), e);
            }
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            largestAllocation = Math.max(largestAllocation, allocated - ALLOCATION_PER_INPUT_BYTE * input.length);
            if (allocated > ALLOCATION_BASE + ALLOCATION_PER_INPUT_BYTE * input.length) {
                fail("input " + i + " of seed " + seed + " (" + input.length + " bytes) allocated " + allocated
                        + " bytes: " + describe(input));
            }
            outcomes[result.outcome.ordinal()]++;
            framesRead += result.frames;
        }
        System.out.println("AmstFuzzTest: " + INPUTS + " inputs, " + framesRead + " frames read; outcomes "
                + Arrays.toString(Outcome.values()) + " = " + Arrays.toString(outcomes) + "; largest allocation beyond "
                + ALLOCATION_PER_INPUT_BYTE + " bytes per input byte: " + largestAllocation);
        // the mutations reach every path: whole frames read, each kind of refusal, inputs cut short
        for (Outcome outcome : Outcome.values()) {
            assertTrue(
                    outcomes[outcome.ordinal()] > INPUTS / 100,
                    outcome + " for too few inputs: " + Arrays.toString(outcomes));
        }
    }

    private enum Outcome {
        ACCEPTED,
        INCOMPLETE,
        CORRUPT_FRAME,
        PROTOCOL_ERROR
    }

    private record Result(Outcome outcome, int frames) {}

    /** Feeds the input in up to three pieces, reading every whole frame; stops at the first refusal, as the stream would. */
    private Result run(byte[] input, Random random) {
        FrameDecoder decoder = new FrameDecoder(MAX_PAYLOAD);
        ByteBuf received = Unpooled.buffer(input.length);
        int frames = 0;
        try {
            int at = 0;
            int pieces = 1 + random.nextInt(3);
            for (int piece = 0; piece < pieces; piece++) {
                int end = piece == pieces - 1 ? input.length : at + random.nextInt(input.length - at + 1);
                received.writeBytes(input, at, end - at);
                at = end;
                Frame frame;
                while ((frame = decoder.decode(received)) != null) {
                    try {
                        read(frame);
                        frames++;
                    } finally {
                        frame.release();
                    }
                }
            }
            return new Result(received.isReadable() ? Outcome.INCOMPLETE : Outcome.ACCEPTED, frames);
        } catch (CorruptFrameException e) {
            return new Result(Outcome.CORRUPT_FRAME, frames);
        } catch (AmstProtocolException e) {
            return new Result(Outcome.PROTOCOL_ERROR, frames);
        } finally {
            received.release();
        }
    }

    private void read(Frame frame) {
        byte[] payload = ByteBufUtil.getBytes(frame.payload());
        Canonical listener = new Canonical(payload);
        if (frame.type().isSequenced()) {
            AmstFrameReader.readSequenced(frame, listener);
        } else {
            AmstFrameReader.readControl(stream, frame, listener);
        }
        assertTrue(listener.called, "no listener call for " + frame);
    }

    /** Checks that what the reader accepted encodes back to the payload it came from. */
    private static final class Canonical implements AmstFrameListener {
        private final byte[] payload;
        private boolean called;

        private Canonical(byte[] payload) {
            this.payload = payload;
        }

        private void check(ControlPayload decoded) {
            called = true;
            ByteBuf encoded = decoded.encode();
            try {
                assertArrayEquals(payload, ByteBufUtil.getBytes(encoded), decoded.toString());
            } finally {
                encoded.release();
            }
        }

        @Override
        public void onHello(TunnelStream stream, AmstHello hello) {
            check(hello);
        }

        @Override
        public void onAck(TunnelStream stream, AmstAck ack) {
            check(ack);
        }

        @Override
        public void onPing(TunnelStream stream, AmstPing ping) {
            check(ping);
        }

        @Override
        public void onPong(TunnelStream stream, AmstPong pong) {
            check(pong);
        }

        @Override
        public void onAbort(TunnelStream stream, AmstAbort abort) {
            check(abort);
        }

        @Override
        public void onOpen(AmstOpen open, long credit) {
            check(open);
        }

        @Override
        public void onAccept(AmstAccept accept, long credit) {
            check(accept);
        }

        @Override
        public void onChannelOpen(int channel, long credit) {
            called = true;
            assertTrue(payload.length == 0 && channel >= 0);
        }

        @Override
        public void onData(int channel, ByteBuf data, long credit) {
            called = true;
            assertArrayEquals(payload, ByteBufUtil.getBytes(data));
        }

        @Override
        public void onCheckpoint(int channel, AmstCheckpoint checkpoint, long credit) {
            check(checkpoint);
        }

        @Override
        public void onFin(int channel, AmstFin fin, long credit) {
            check(fin);
        }
    }

    // ---- inputs ----

    /** A frame before serialization: every header field may be set to anything. */
    private static final class Spec {
        int magic = FrameCodec.MAGIC;
        int type;
        int flags;
        long sequence;
        int channel;
        byte[] payload;
        Long length;
        boolean badCrc;

        Spec(FrameType type, long sequence, int channel, byte[] payload) {
            this.type = type.code();
            this.sequence = sequence;
            this.channel = channel;
            this.payload = payload;
        }

        byte[] serialize() {
            ByteBuf out = Unpooled.buffer(FrameCodec.HEADER_LENGTH + payload.length);
            out.writeInt(length != null ? (int) (long) length : FrameCodec.LENGTH_WITHOUT_PAYLOAD + payload.length);
            out.writeInt(0);
            out.writeByte(magic);
            out.writeByte(type);
            out.writeShort(flags);
            out.writeLong(sequence);
            out.writeInt(channel);
            out.writeBytes(payload);
            byte[] bytes = ByteBufUtil.getBytes(out);
            out.release();
            CRC32C crc = new CRC32C();
            crc.update(bytes, FrameCodec.MAGIC_OFFSET, bytes.length - FrameCodec.MAGIC_OFFSET);
            int value = (int) crc.getValue() ^ (badCrc ? 1 : 0);
            bytes[4] = (byte) (value >>> 24);
            bytes[5] = (byte) (value >>> 16);
            bytes[6] = (byte) (value >>> 8);
            bytes[7] = (byte) value;
            return bytes;
        }
    }

    /** One valid frame of each kind the daemon sends (payloads from the records' own encoders). */
    private static List<Spec> validFrames(Random random) {
        long checksum = random.nextLong();
        byte[] data = new byte[random.nextInt(300)];
        random.nextBytes(data);
        List<Spec> frames = new ArrayList<>();
        frames.add(control(new AmstHello(
                random.nextLong() & Long.MAX_VALUE, random.nextInt(256), 1 + (random.nextLong() & 0xffffffffL))));
        frames.add(control(new AmstAck(random.nextInt(1000), random.nextInt(1 << 20), random.nextInt(1 << 20))));
        List<AmstAck.ChannelDelivered> channels = new ArrayList<>();
        for (int channel = 0, count = random.nextInt(5); channel < count; channel++) {
            channels.add(new AmstAck.ChannelDelivered(channel, random.nextInt(1 << 20)));
        }
        frames.add(
                control(new AmstAck(random.nextInt(1000), random.nextInt(1 << 20), random.nextInt(1 << 20), channels)));
        frames.add(control(new AmstPing(random.nextLong())));
        frames.add(control(new AmstPong(random.nextLong())));
        frames.add(control(new AmstAbort(random.nextBoolean() ? "peer gone" : "end-to-end digest mismatch é")));
        frames.add(sequenced(
                new AmstOpen(
                        AmstOpen.TargetKind.UNIX_SOCKET, "beta-" + random.nextInt(100), new byte[] {1, 0, 0, 0, 16}),
                0,
                0));
        frames.add(sequenced(
                new AmstOpen(AmstOpen.TargetKind.TCP_PORT, Integer.toString(1 + random.nextInt(65535)), new byte[] {0}),
                0,
                0));
        frames.add(sequenced(
                new AmstAccept(Unpooled.wrappedBuffer(data), random.nextBoolean()), 1, random.nextBoolean() ? 0 : 1));
        frames.add(new Spec(FrameType.CHANNEL_OPEN, 2, random.nextInt(4), new byte[0]));
        frames.add(new Spec(FrameType.DATA, 3, random.nextInt(4), data));
        frames.add(sequenced(new AmstCheckpoint(random.nextInt(1 << 30), checksum), 4, random.nextInt(4)));
        frames.add(sequenced(new AmstFin(random.nextInt(1 << 30), checksum), 5, random.nextInt(4)));
        return frames;
    }

    private static Spec control(ControlPayload payload) {
        return new Spec(payload.type(), 0, 0, bytes(payload.encode()));
    }

    private static Spec sequenced(ControlPayload payload, long sequence, int channel) {
        Spec spec = new Spec(payload.type(), sequence, channel, bytes(payload.encode()));
        if (payload instanceof AmstAccept accept) {
            spec.channel = accept.channel();
        }
        return spec;
    }

    private static byte[] bytes(ByteBuf buffer) {
        byte[] bytes = ByteBufUtil.getBytes(buffer);
        buffer.release();
        return bytes;
    }

    private static byte[] generate(Random random) {
        int strategy = random.nextInt(100);
        if (strategy < 5) {
            byte[] noise = new byte[random.nextInt(80)];
            random.nextBytes(noise);
            return noise;
        }
        if (strategy < 12) {
            // a well-formed header of any type code over a random payload
            byte[] payload = new byte[random.nextInt(64)];
            random.nextBytes(payload);
            Spec spec = new Spec(FrameType.DATA, random.nextLong(), random.nextInt(), payload);
            spec.type = random.nextBoolean()
                    ? random.nextInt(256)
                    : FrameType.values()[random.nextInt(FrameType.values().length)].code();
            spec.sequence = random.nextBoolean() ? 0 : pick(random, LONG_EXTREMES);
            spec.channel = random.nextBoolean() ? 0 : pick(random, INT_EXTREMES);
            return spec.serialize();
        }
        List<Spec> valid = validFrames(random);
        List<Spec> frames = new ArrayList<>();
        int count = 1 + random.nextInt(4);
        for (int i = 0; i < count; i++) {
            frames.add(valid.get(random.nextInt(valid.size())));
        }
        if (strategy < 85) {
            mutate(frames.get(random.nextInt(frames.size())), valid, random);
        }
        byte[] stream = concat(frames);
        if (strategy >= 85 && strategy < 93) {
            // bit flips on the wire (the CRC catches nearly all)
            int flips = 1 + random.nextInt(4);
            for (int i = 0; i < flips && stream.length > 0; i++) {
                int bit = random.nextInt(stream.length * 8);
                stream[bit / 8] ^= (byte) (1 << (bit % 8));
            }
        } else if (strategy >= 93) {
            stream = Arrays.copyOf(stream, random.nextInt(stream.length + 1));
        }
        return stream;
    }

    /** Changes one frame, keeping its CRC valid unless the mutation is about Length or CRC. */
    private static void mutate(Spec spec, List<Spec> valid, Random random) {
        byte[] payload = spec.payload.clone();
        switch (random.nextInt(9)) {
            case 0 -> {
                int flips = 1 + random.nextInt(4);
                for (int i = 0; i < flips && payload.length > 0; i++) {
                    int bit = random.nextInt(payload.length * 8);
                    payload[bit / 8] ^= (byte) (1 << (bit % 8));
                }
            }
            case 1 -> {
                // a field set to an extreme: 1 to 8 bytes of 0x00, 0xff, 0x80 then 0x00, or 0x7f then 0xff
                if (payload.length > 0) {
                    int at = random.nextInt(payload.length);
                    int width = Math.min(payload.length - at, 1 + random.nextInt(8));
                    int pattern = random.nextInt(4);
                    for (int i = 0; i < width; i++) {
                        payload[at + i] = (byte)
                                switch (pattern) {
                                    case 0 -> 0x00;
                                    case 1 -> 0xff;
                                    case 2 -> i == 0 ? 0x80 : 0x00;
                                    default -> i == 0 ? 0x7f : 0xff;
                                };
                    }
                }
            }
            case 2 -> payload = Mutations.truncate(random, payload);
            case 3 -> payload = Mutations.extend(random, payload, 16);
            // a repeated field: a slice of the payload written twice
            case 4 -> payload = Mutations.repeatSlice(random, payload, 16);
            case 5 -> {
                // a header field another type or an extreme value
                switch (random.nextInt(5)) {
                    case 0 -> spec.sequence = pick(random, LONG_EXTREMES);
                    case 1 -> spec.channel = pick(random, INT_EXTREMES);
                    case 2 -> spec.type = valid.get(random.nextInt(valid.size())).type;
                    case 3 -> spec.flags = 1 << random.nextInt(16);
                    default -> spec.magic = random.nextInt(256);
                }
            }
            case 6 -> {
                // the payload of another type under this one's header
                payload = valid.get(random.nextInt(valid.size())).payload.clone();
            }
            case 7 ->
                spec.length = pick(random, new long[] {
                    0,
                    19,
                    20,
                    FrameCodec.LENGTH_WITHOUT_PAYLOAD + payload.length - 1L,
                    FrameCodec.LENGTH_WITHOUT_PAYLOAD + payload.length + 1L,
                    FrameCodec.LENGTH_WITHOUT_PAYLOAD + MAX_PAYLOAD,
                    FrameCodec.LENGTH_WITHOUT_PAYLOAD + MAX_PAYLOAD + 1L,
                    Integer.MAX_VALUE,
                    0xffffffffL
                });
            default -> spec.badCrc = true;
        }
        spec.payload = payload;
    }

    private static byte[] concat(List<Spec> frames) {
        ByteBuf out = Unpooled.buffer();
        for (Spec spec : frames) {
            out.writeBytes(spec.serialize());
        }
        byte[] bytes = ByteBufUtil.getBytes(out);
        out.release();
        return bytes;
    }

    private static long pick(Random random, long[] values) {
        return values[random.nextInt(values.length)];
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
