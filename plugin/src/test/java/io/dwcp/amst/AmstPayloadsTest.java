package io.dwcp.amst;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Golden bytes of every AMST control payload: decoded, re-encoded, and malformed field by field. */
class AmstPayloadsTest {
    private static final byte[] HELLO = {
        0x01,
        0x23,
        0x45,
        0x67,
        (byte) 0x89,
        (byte) 0xab,
        (byte) 0xcd,
        (byte) 0xef, // SessionId
        0x00,
        0x00,
        0x00,
        0x03, // StreamIndex: 3
        0x00,
        0x00,
        0x00,
        0x00,
        0x04,
        0x00,
        0x00,
        0x00, // Window: 64 MiB
    };

    private static final byte[] ACK = {
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, // NextSequence: 7
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, (byte) 0xe8, // ConsumedCredit: 1000
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, // Delivered: 4096
    };

    private static final byte[] ACK_WITH_CHANNELS = {
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x07, // NextSequence: 7
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x03,
        (byte) 0xe8, // ConsumedCredit: 1000
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x10,
        0x00, // Delivered: 4096
        0x00,
        0x00,
        0x00,
        0x00, // Channel: 0
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x40, // Delivered: 64
        0x00,
        0x00,
        0x00,
        0x02, // Channel: 2
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x0f,
        (byte) 0xc0, // Delivered: 4032
    };

    private static final byte[] PING = {
        (byte) 0xff,
        (byte) 0xff,
        (byte) 0xff,
        (byte) 0xff,
        (byte) 0xff,
        (byte) 0xff,
        (byte) 0xff,
        (byte) 0xfe, // TimestampNanos: -2
    };

    private static final byte[] ABORT = {
        'd', 'i', 's', 'k', ' ', 'f', 'u', 'l', 'l', ' ', (byte) 0xc3, (byte) 0xa9, // Reason: "disk full é"
    };

    private static final byte[] OPEN_UNIX = {
        0x00, // TargetKind: unix socket
        0x00, 0x04, // TargetLength: 4
        'b', 'e', 't', 'a', // Target
        0x00, 0x00, // VmLength: 0 (no VM named)
        0x01, 0x00, 0x10, // CodecOffer: mode 1, parameters 00 10
    };

    private static final byte[] OPEN_UNIX_MIGRATION = {
        0x00, // TargetKind: unix socket
        0x00, 0x15, // TargetLength: 21
        'b', 'e', 't', 'a', '/', // Target: "beta/" then the migration id
        '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f', 0x00, 0x04, // VmLength: 4
        'v', 'm', '-', '1', // Vm: the announced domain "vm-1"
        0x00, // CodecOffer: mode 0, no parameters
    };

    private static final byte[] OPEN_TCP = {
        0x01, // TargetKind: TCP port
        0x00, 0x04, // TargetLength: 4
        '4', '4', '4', '4', // Target: port 4444
        0x00, 0x00, // VmLength: 0
        0x00, // CodecOffer: mode 0, no parameters
    };

    private static final byte[] CHECKPOINT = {
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, // Offset: 4096
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, // Checksum
    };

    private static final byte[] FIN = {
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x20,
        0x00, // Length: 8192
        (byte) 0xa0,
        (byte) 0xa1,
        (byte) 0xa2,
        (byte) 0xa3,
        (byte) 0xa4,
        (byte) 0xa5,
        (byte) 0xa6,
        (byte) 0xa7, // Checksum
    };

    @Test
    void hello() {
        assertGolden(HELLO, new AmstHello(0x0123456789abcdefL, 3, 64 << 20), AmstHello::decode);
        assertRefused(
                Arrays.copyOf(HELLO, 19),
                AmstHello::decode,
                "malformed HELLO frame: payload length: expected 20 bytes, found 19 bytes");
        assertRefused(
                Arrays.copyOf(HELLO, 21),
                AmstHello::decode,
                "malformed HELLO frame: payload length: expected 20 bytes, found 21 bytes");
        assertRefused(
                with(HELLO, 0, 0x80),
                AmstHello::decode,
                "malformed HELLO frame: SessionId: expected 0..9223372036854775807, found -9213444101676216849");
        assertRefused(
                with(HELLO, 10, 0x01, 0x00),
                AmstHello::decode,
                "malformed HELLO frame: StreamIndex: expected 0..255, found 256");
        assertRefused(
                with(HELLO, 8, 0xff),
                AmstHello::decode,
                "malformed HELLO frame: StreamIndex: expected 0..255, found -16777213");
        assertRefused(
                with(HELLO, 12, 0, 0, 0, 0, 0, 0, 0, 0),
                AmstHello::decode,
                "malformed HELLO frame: Window: expected 1..9223372036854775807, found 0");
    }

    @Test
    void ack() {
        assertGolden(ACK, new AmstAck(7, 1000, 4096), AmstAck::decode);
        assertGolden(
                ACK_WITH_CHANNELS,
                new AmstAck(
                        7,
                        1000,
                        4096,
                        List.of(new AmstAck.ChannelDelivered(0, 64), new AmstAck.ChannelDelivered(2, 4032))),
                AmstAck::decode);
        // the 16-byte ACK of an older draft (no Delivered): refused, as the session always did
        assertRefused(
                Arrays.copyOf(ACK, 16),
                AmstAck::decode,
                "malformed ACK frame: payload length: expected 24 + 12 x (0..1024) bytes, found 16 bytes");
        // a channel cut short
        assertRefused(
                Arrays.copyOf(ACK_WITH_CHANNELS, 30),
                AmstAck::decode,
                "malformed ACK frame: payload length: expected 24 + 12 x (0..1024) bytes, found 30 bytes");
        // channels must ascend (each named once)
        assertRefused(
                with(ACK_WITH_CHANNELS, 36, 0, 0, 0, 0),
                AmstAck::decode,
                "malformed ACK frame: Channel: expected 1..2147483647, found 0");
        assertRefused(
                with(ACK_WITH_CHANNELS, 28, 0x80),
                AmstAck::decode,
                "malformed ACK frame: Delivered: expected 0..9223372036854775807, found -9223372036854775744");
        // more channels than any session has
        assertRefused(
                new byte[24 + 12 * 1025],
                AmstAck::decode,
                "malformed ACK frame: payload length: expected 24 + 12 x (0..1024) bytes, found 12324 bytes");
        assertRefused(
                with(ACK, 0, 0xff),
                AmstAck::decode,
                "malformed ACK frame: NextSequence: expected 0..9223372036854775807, found -72057594037927929");
        assertRefused(
                with(ACK, 8, 0x80),
                AmstAck::decode,
                "malformed ACK frame: ConsumedCredit: expected 0..9223372036854775807, found -9223372036854774808");
        assertRefused(
                with(ACK, 16, 0x80),
                AmstAck::decode,
                "malformed ACK frame: Delivered: expected 0..9223372036854775807, found -9223372036854771712");
    }

    @Test
    void pingAndPong() {
        assertGolden(PING, new AmstPing(-2), AmstPing::decode);
        assertGolden(PING, new AmstPong(-2), AmstPong::decode);
        assertRefused(
                Arrays.copyOf(PING, 7),
                AmstPing::decode,
                "malformed PING frame: payload length: expected 8 bytes, found 7 bytes");
        assertRefused(
                new byte[0], AmstPong::decode, "malformed PONG frame: payload length: expected 8 bytes, found 0 bytes");
    }

    @Test
    void abort() {
        assertGolden(ABORT, new AmstAbort("disk full é"), AmstAbort::decode);
        assertGolden(new byte[0], new AmstAbort(""), AmstAbort::decode);
        assertRefused(
                with(ABORT, 11, 0x28),
                AmstAbort::decode,
                "malformed ABORT frame: Reason: expected UTF-8, found malformed UTF-8 (Input length = 1)");
        assertRefused(
                new byte[AmstAbort.MAX_REASON_LENGTH + 1],
                AmstAbort::decode,
                "malformed ABORT frame: payload length: expected at most 4096 bytes, found 4097 bytes");
        // a longer reason is cut, never inside a character
        String reason = "a".repeat(AmstAbort.MAX_REASON_LENGTH - 1) + "é and more";
        ByteBuf encoded = new AmstAbort(reason).encode();
        assertEquals(AmstAbort.MAX_REASON_LENGTH - 1, encoded.readableBytes());
        assertEquals(new AmstAbort("a".repeat(AmstAbort.MAX_REASON_LENGTH - 1)), AmstAbort.decode(encoded));
    }

    @Test
    void open() {
        assertGolden(
                OPEN_UNIX,
                new AmstOpen(AmstOpen.TargetKind.UNIX_SOCKET, "beta", new byte[] {1, 0, 0x10}),
                AmstOpen::decode);
        AmstOpen migration = assertGolden(
                OPEN_UNIX_MIGRATION,
                new AmstOpen(AmstOpen.TargetKind.UNIX_SOCKET, "beta/0123456789abcdef", "vm-1", new byte[] {0}),
                AmstOpen::decode);
        assertEquals("beta/0123456789abcdef", migration.target());
        assertEquals("vm-1", migration.vm());
        AmstOpen tcp = assertGolden(
                OPEN_TCP, new AmstOpen(AmstOpen.TargetKind.TCP_PORT, "4444", new byte[] {0}), AmstOpen::decode);
        assertEquals(4444, tcp.port());

        assertRefused(
                Arrays.copyOf(OPEN_UNIX, 2),
                AmstOpen::decode,
                "malformed OPEN frame: payload length: expected at least 3 bytes (TargetKind, TargetLength), found 2 bytes");
        assertRefused(
                with(OPEN_UNIX, 0, 2),
                AmstOpen::decode,
                "malformed OPEN frame: TargetKind: expected 0 (unix socket) or 1 (TCP port), found 2");
        assertRefused(
                with(OPEN_UNIX, 1, 0, 0),
                AmstOpen::decode,
                "malformed OPEN frame: TargetLength: expected 1..255, found 0");
        assertRefused(
                with(OPEN_UNIX, 1, 0xff, 0xff),
                AmstOpen::decode,
                "malformed OPEN frame: TargetLength: expected 1..255, found 65535");
        assertRefused(
                with(OPEN_UNIX, 1, 0, 0xff),
                AmstOpen::decode,
                "malformed OPEN frame: Target: expected 255 bytes (TargetLength), found 9 bytes before the payload's end");
        assertRefused(
                with(OPEN_UNIX, 3, 0xe2, 0x82),
                AmstOpen::decode,
                "malformed OPEN frame: Target: expected UTF-8, found malformed UTF-8 (Input length = 2)");
        assertRefused(
                Arrays.copyOf(OPEN_UNIX, 8),
                AmstOpen::decode,
                "malformed OPEN frame: VmLength: expected 2 bytes, found 1 bytes before the payload's end");
        assertRefused(
                Arrays.copyOf(OPEN_UNIX, 9),
                AmstOpen::decode,
                "malformed OPEN frame: CodecOffer: expected at least 1 byte (the mode), found 0 bytes");
        assertRefused(
                with(OPEN_UNIX, 7, 0x04, 0x01),
                AmstOpen::decode,
                "malformed OPEN frame: VmLength: expected 0..1024, found 1025");
        assertRefused(
                with(OPEN_UNIX, 7, 0x00, 0x04),
                AmstOpen::decode,
                "malformed OPEN frame: Vm: expected 4 bytes (VmLength), found 3 bytes before the payload's end");
        int vm = OPEN_UNIX_MIGRATION.length - 5;
        assertRefused(
                with(OPEN_UNIX_MIGRATION, vm + 2, '\n'),
                AmstOpen::decode,
                "malformed OPEN frame: Vm: expected a name without NUL or newline, found a NUL or newline");
        assertRefused(
                with(OPEN_UNIX_MIGRATION, vm + 2, 0xe2, 0x82),
                AmstOpen::decode,
                "malformed OPEN frame: Vm: expected UTF-8, found malformed UTF-8 (Input length = 2)");
        assertThrows(
                IllegalArgumentException.class,
                () -> new AmstOpen(AmstOpen.TargetKind.UNIX_SOCKET, "beta/0123456789abcdef", "a\nb", new byte[] {0}));
        assertThrows(
                IllegalArgumentException.class,
                () -> new AmstOpen(AmstOpen.TargetKind.UNIX_SOCKET, "beta", "é".repeat(513), new byte[] {0}));
        for (String port : List.of("0444", "+444", "4a44", "0000")) {
            assertRefused(
                    with(OPEN_TCP, 3, port.getBytes(StandardCharsets.US_ASCII)),
                    AmstOpen::decode,
                    "malformed OPEN frame: Target: expected a TCP port 1..65535 in decimal, found '" + port + "'");
        }
        byte[] tooLarge = {1, 0, 5, '6', '5', '5', '3', '6', 0};
        assertRefused(
                tooLarge,
                AmstOpen::decode,
                "malformed OPEN frame: Target: expected a TCP port 1..65535 in decimal, found '65536'");
    }

    @Test
    void accept() {
        AmstAccept more = AmstAccept.decode(AmstAccept.CHANNEL_MORE, Unpooled.wrappedBuffer(new byte[] {'a', 'b'}));
        assertFalse(more.last());
        assertEquals(1, more.channel());
        assertArrayEquals(new byte[] {'a', 'b'}, bytes(more.encode()));
        AmstAccept last = AmstAccept.decode(AmstAccept.CHANNEL_LAST, Unpooled.EMPTY_BUFFER);
        assertTrue(last.last());
        assertEquals(0, last.channel());
        AmstProtocolException e =
                assertThrows(AmstProtocolException.class, () -> AmstAccept.decode(2, Unpooled.EMPTY_BUFFER));
        assertEquals(
                "malformed ACCEPT frame: Channel: expected 0 (last piece) or 1 (more follow), found 2", e.getMessage());
    }

    @Test
    void checkpointAndFin() {
        assertGolden(CHECKPOINT, new AmstCheckpoint(0x1000, 0x00010203_04050607L), AmstCheckpoint::decode);
        assertGolden(FIN, new AmstFin(0x2000, 0xa0a1a2a3_a4a5a6a7L), AmstFin::decode);
        assertRefused(
                Arrays.copyOf(CHECKPOINT, 15),
                AmstCheckpoint::decode,
                "malformed CHECKPOINT frame: payload length: expected 16 bytes, found 15 bytes");
        assertRefused(
                Arrays.copyOf(FIN, 40),
                AmstFin::decode,
                "malformed FIN frame: payload length: expected 16 bytes, found 40 bytes"
                        + " (a peer of an older release, whose checksum was a SHA-256)");
        assertRefused(
                with(CHECKPOINT, 0, 0xff),
                AmstCheckpoint::decode,
                "malformed CHECKPOINT frame: Offset: expected 0..9223372036854775807, found -72057594037923840");
        assertRefused(
                with(FIN, 0, 0x80),
                AmstFin::decode,
                "malformed FIN frame: Length: expected 0..9223372036854775807, found -9223372036854767616");
    }

    @Test
    void readerDispatchesEveryTypeWithItsHeader() {
        List<String> calls = new ArrayList<>();
        TunnelStream stream = new TunnelStream(2, new io.netty.channel.embedded.EmbeddedChannel());
        AmstFrameListener listener = new AmstFrameListener() {
            @Override
            public void onHello(TunnelStream on, AmstHello hello) {
                calls.add(on + " " + hello);
            }

            @Override
            public void onAck(TunnelStream on, AmstAck ack) {
                calls.add(on + " " + ack);
            }

            @Override
            public void onPing(TunnelStream on, AmstPing ping) {
                calls.add(on + " " + ping);
            }

            @Override
            public void onPong(TunnelStream on, AmstPong pong) {
                calls.add(on + " " + pong);
            }

            @Override
            public void onAbort(TunnelStream on, AmstAbort abort) {
                calls.add(on + " " + abort);
            }

            @Override
            public void onOpen(AmstOpen open, long credit) {
                calls.add(open + " " + credit);
            }

            @Override
            public void onAccept(AmstAccept accept, long credit) {
                calls.add("accept " + accept.piece().readableBytes() + " last=" + accept.last() + " " + credit);
            }

            @Override
            public void onChannelOpen(int channel, long credit) {
                calls.add("channel-open " + channel + " " + credit);
            }

            @Override
            public void onData(int channel, ByteBuf data, long credit) {
                calls.add("data " + channel + " " + data.toString(StandardCharsets.US_ASCII) + " " + credit);
            }

            @Override
            public void onCheckpoint(int channel, AmstCheckpoint checkpoint, long credit) {
                calls.add("checkpoint " + channel + " " + checkpoint.offset() + " " + credit);
            }

            @Override
            public void onFin(int channel, AmstFin fin, long credit) {
                calls.add("fin " + channel + " " + fin.length() + " " + credit);
            }
        };
        AmstFrameReader.readControl(stream, control(FrameType.HELLO, HELLO), listener);
        AmstFrameReader.readControl(stream, control(FrameType.ACK, ACK), listener);
        AmstFrameReader.readControl(stream, control(FrameType.PING, PING), listener);
        AmstFrameReader.readControl(stream, control(FrameType.PONG, PING), listener);
        AmstFrameReader.readControl(stream, control(FrameType.ABORT, ABORT), listener);
        AmstFrameReader.readSequenced(new Frame(FrameType.OPEN, 0, 0, Unpooled.wrappedBuffer(OPEN_TCP)), listener);
        AmstFrameReader.readSequenced(new Frame(FrameType.ACCEPT, 1, 1, Unpooled.wrappedBuffer(new byte[5])), listener);
        AmstFrameReader.readSequenced(new Frame(FrameType.CHANNEL_OPEN, 2, 3, Unpooled.EMPTY_BUFFER), listener);
        AmstFrameReader.readSequenced(
                new Frame(FrameType.DATA, 3, 3, Unpooled.copiedBuffer("xyz", StandardCharsets.US_ASCII)), listener);
        AmstFrameReader.readSequenced(
                new Frame(FrameType.CHECKPOINT, 4, 3, Unpooled.wrappedBuffer(CHECKPOINT)), listener);
        AmstFrameReader.readSequenced(new Frame(FrameType.FIN, 5, 3, Unpooled.wrappedBuffer(FIN)), listener);
        assertEquals(
                List.of(
                        "stream 2 AmstHello[sessionId=81985529216486895, streamIndex=3, window=67108864]",
                        "stream 2 AmstAck[nextSequence=7, consumedCredit=1000, delivered=4096, channels=[]]",
                        "stream 2 AmstPing[timestampNanos=-2]",
                        "stream 2 AmstPong[timestampNanos=-2]",
                        "stream 2 AmstAbort[reason=disk full é]",
                        "AmstOpen[TCP_PORT '4444' vm '' codecOffer=00] 266",
                        "accept 5 last=false 261",
                        "channel-open 3 256",
                        "data 3 xyz 259",
                        "checkpoint 3 4096 272",
                        "fin 3 8192 272"),
                calls);
    }

    @Test
    void readerRefusesHeaderFieldsATypeDoesNotAllow() {
        AmstFrameListener none = new AmstFrameListenerAdapter();
        assertReaderRefuses(
                () -> AmstFrameReader.readControl(
                        null, new Frame(FrameType.PING, 1, 0, Unpooled.wrappedBuffer(PING)), none),
                "malformed PING frame: Sequence: expected 0, found 1");
        assertReaderRefuses(
                () -> AmstFrameReader.readControl(
                        null, new Frame(FrameType.ACK, 0, 3, Unpooled.wrappedBuffer(ACK)), none),
                "malformed ACK frame: Channel: expected 0, found 3");
        assertReaderRefuses(
                () -> AmstFrameReader.readSequenced(
                        new Frame(FrameType.OPEN, 0, 1, Unpooled.wrappedBuffer(OPEN_TCP)), none),
                "malformed OPEN frame: Channel: expected 0, found 1");
        assertReaderRefuses(
                () -> AmstFrameReader.readSequenced(
                        new Frame(FrameType.CHANNEL_OPEN, 0, 1, Unpooled.wrappedBuffer(new byte[1])), none),
                "malformed CHANNEL_OPEN frame: payload length: expected 0 bytes, found 1 bytes");
        assertReaderRefuses(
                () -> AmstFrameReader.readSequenced(new Frame(FrameType.FIN, 9, 1, Unpooled.wrappedBuffer(ACK)), none),
                "malformed FIN frame: payload length: expected 16 bytes, found 24 bytes");
    }

    private static void assertReaderRefuses(org.junit.jupiter.api.function.Executable read, String message) {
        assertEquals(message, assertThrows(AmstProtocolException.class, read).getMessage());
    }

    private static Frame control(FrameType type, byte[] payload) {
        return Frame.control(type, Unpooled.wrappedBuffer(payload));
    }

    /** Decodes the golden bytes to the expected record, and encodes the record to the same bytes. */
    private static <T extends ControlPayload> T assertGolden(byte[] golden, T expected, Function<ByteBuf, T> decode) {
        ByteBuf input = Unpooled.wrappedBuffer(golden);
        T decoded = decode.apply(input);
        assertEquals(expected, decoded);
        assertFalse(input.isReadable(), "decode reads the whole payload");
        assertArrayEquals(golden, bytes(decoded.encode()));
        assertArrayEquals(golden, bytes(expected.encode()));
        return decoded;
    }

    private static void assertRefused(byte[] payload, Function<ByteBuf, ?> decode, String message) {
        AmstProtocolException e =
                assertThrows(AmstProtocolException.class, () -> decode.apply(Unpooled.wrappedBuffer(payload)));
        assertEquals(message, e.getMessage());
    }

    /** A copy of the bytes with {@code values} written from {@code offset}. */
    private static byte[] with(byte[] bytes, int offset, int... values) {
        byte[] copy = bytes.clone();
        for (int i = 0; i < values.length; i++) {
            copy[offset + i] = (byte) values[i];
        }
        return copy;
    }

    private static byte[] with(byte[] bytes, int offset, byte[] values) {
        byte[] copy = bytes.clone();
        System.arraycopy(values, 0, copy, offset, values.length);
        return copy;
    }

    private static byte[] bytes(ByteBuf buffer) {
        byte[] bytes = new byte[buffer.readableBytes()];
        buffer.readBytes(bytes);
        buffer.release();
        return bytes;
    }
}
