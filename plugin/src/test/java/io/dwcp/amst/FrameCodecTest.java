package io.dwcp.amst;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FrameCodecTest {
    /** DATA, sequence 5, channel 1, payload "abc". */
    private static final byte[] DATA_FRAME = {
        0x00,
        0x00,
        0x00,
        0x17, // Length: 20 + 3
        0x07,
        (byte) 0xa1,
        (byte) 0xcc,
        0x63, // Crc: CRC32C of Magic..Payload
        0x01, // Magic
        0x12, // Type: DATA
        0x00,
        0x00, // Flags
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x05, // Sequence
        0x00,
        0x00,
        0x00,
        0x01, // Channel
        'a',
        'b',
        'c', // Payload
    };

    /** ACK: next sequence 7, consumed credit 1000, 4096 bytes delivered: what a session sends and accepts. */
    private static final byte[] ACK_FRAME = {
        0x00,
        0x00,
        0x00,
        0x2c, // Length: 20 + 24
        0x1d,
        0x2c,
        0x21,
        (byte) 0xb6, // Crc
        0x01, // Magic
        0x02, // Type: ACK
        0x00,
        0x00, // Flags
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00, // Sequence: unsequenced
        0x00,
        0x00,
        0x00,
        0x00, // Channel
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x07, // NextSequence
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x03,
        (byte) 0xe8, // ConsumedCredit
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x10,
        0x00, // Delivered
    };

    @Test
    void encodesGoldenBytes() {
        assertArrayEquals(
                DATA_FRAME,
                encode(new Frame(FrameType.DATA, 5, 1, Unpooled.copiedBuffer("abc", StandardCharsets.US_ASCII))));
        AmstAck ack = new AmstAck(7, 1000, 4096);
        assertArrayEquals(ACK_FRAME, encode(Frame.control(ack.type(), ack.encode())));
    }

    @Test
    void decodesGoldenBytes() {
        Frame frame = new FrameDecoder(1024).decode(Unpooled.wrappedBuffer(DATA_FRAME));
        assertEquals(FrameType.DATA, frame.type());
        assertEquals(5, frame.sequence());
        assertEquals(1, frame.channel());
        assertEquals("abc", frame.payload().toString(StandardCharsets.US_ASCII));
        frame.release();

        // the frame the session reads: the reader hands the listener the typed ACK
        Frame ack = new FrameDecoder(1024).decode(Unpooled.wrappedBuffer(ACK_FRAME));
        assertEquals(FrameType.ACK, ack.type());
        List<AmstAck> read = new ArrayList<>();
        AmstFrameReader.readControl(null, ack, new AmstFrameListenerAdapter() {
            @Override
            public void onAck(TunnelStream stream, AmstAck payload) {
                read.add(payload);
            }
        });
        assertEquals(List.of(new AmstAck(7, 1000, 4096)), read);
        ack.release();
    }

    @Test
    void waitsForWholeHeaderThenWholePayload() {
        FrameDecoder decoder = new FrameDecoder(1024);
        ByteBuf input = Unpooled.buffer();
        for (int i = 0; i < DATA_FRAME.length - 1; i++) {
            input.writeByte(DATA_FRAME[i]);
            assertNull(decoder.decode(input), "frame after " + (i + 1) + " bytes");
            assertEquals(0, input.readerIndex());
        }
        input.writeByte(DATA_FRAME[DATA_FRAME.length - 1]);
        Frame frame = decoder.decode(input);
        assertEquals("abc", frame.payload().toString(StandardCharsets.US_ASCII));
        frame.release();
        assertEquals(DATA_FRAME.length, decoder.streamOffset());
    }

    @Test
    void roundTripsThroughNettyPipeline() {
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder(1 << 20), new FrameEncoder());
        for (int i = 0; i < 100; i++) {
            byte[] payload = new byte[i * 997];
            java.util.Arrays.fill(payload, (byte) i);
            channel.writeOutbound(new Frame(FrameType.DATA, i, i % 3, Unpooled.wrappedBuffer(payload)));
        }
        ByteBuf wire;
        while ((wire = channel.readOutbound()) != null) {
            channel.writeInbound(wire);
        }
        for (int i = 0; i < 100; i++) {
            Frame frame = channel.readInbound();
            assertEquals(i, frame.sequence());
            assertEquals(i % 3, frame.channel());
            assertEquals(i * 997, frame.payloadLength());
            frame.release();
        }
        assertFalse(channel.finish());
    }

    @Test
    void refusesLengthBelowHeader() {
        byte[] input = DATA_FRAME.clone();
        input[3] = 0x13;
        assertCorrupt(input, "corrupt frame at stream offset 0: Length: expected at least 20, found 19");
    }

    @Test
    void refusesOversizedLengthBeforeBuffering() {
        // only the 4 bytes of Length arrived: refused at once, nothing more is buffered
        assertCorrupt(
                new byte[] {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff},
                "corrupt frame at stream offset 0: Length: expected at most 1044, found 2147483647");
        assertCorrupt(
                new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff},
                "corrupt frame at stream offset 0: Length: expected at most 1044, found 4294967295");
    }

    @Test
    void refusesBadMagic() {
        byte[] input = DATA_FRAME.clone();
        input[8] = 2;
        assertCorrupt(input, "corrupt frame at stream offset 0: Magic: expected 1, found 2");
    }

    @Test
    void refusesUnknownType() {
        byte[] input = DATA_FRAME.clone();
        input[9] = 0x7f;
        assertCorrupt(input, "corrupt frame at stream offset 0: Type: expected a known frame type, found 0x7f");
    }

    @Test
    void refusesFlags() {
        byte[] input = DATA_FRAME.clone();
        input[11] = 0x01;
        assertCorrupt(input, "corrupt frame at stream offset 0: Flags: expected 0x0000, found 0x0001");
    }

    @Test
    void refusesCorruptPayload() {
        byte[] input = DATA_FRAME.clone();
        input[input.length - 1] = 'x';
        CorruptFrameException exception = assertCorrupt(input, null);
        assertEquals("Crc", exception.field());
        assertEquals("0x07a1cc63", exception.expected());
        assertTrue(
                exception
                        .getMessage()
                        .startsWith("corrupt frame at stream offset 0: Crc: expected 0x07a1cc63, found 0x"),
                exception.getMessage());
    }

    @Test
    void namesTheStreamOffsetOfLaterFrames() {
        byte[] bad = DATA_FRAME.clone();
        bad[8] = 9;
        ByteBuf input =
                Unpooled.buffer().writeBytes(DATA_FRAME).writeBytes(ACK_FRAME).writeBytes(bad);
        FrameDecoder decoder = new FrameDecoder(1024);
        decoder.decode(input).release();
        decoder.decode(input).release();
        CorruptFrameException exception = assertThrows(CorruptFrameException.class, () -> decoder.decode(input));
        assertEquals("corrupt frame at stream offset 75: Magic: expected 1, found 9", exception.getMessage());
        assertEquals(75, exception.offset());
    }

    @Test
    void dropsInputAfterAnError() {
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder(1024));
        assertThrows(
                CorruptFrameException.class,
                () -> channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {0x7f, 0, 0, 0})));
        channel.writeInbound(Unpooled.wrappedBuffer(DATA_FRAME));
        assertNull(channel.readInbound());
        channel.finishAndReleaseAll();
    }

    private static CorruptFrameException assertCorrupt(byte[] input, String message) {
        CorruptFrameException exception = assertThrows(
                CorruptFrameException.class, () -> new FrameDecoder(1024).decode(Unpooled.wrappedBuffer(input)));
        if (message != null) {
            assertEquals(message, exception.getMessage());
        }
        return exception;
    }

    private static byte[] encode(Frame frame) {
        EmbeddedChannel channel = new EmbeddedChannel(new FrameEncoder());
        channel.writeOutbound(frame);
        ByteBuf all = Unpooled.buffer();
        ByteBuf part;
        while ((part = channel.readOutbound()) != null) {
            all.writeBytes(part);
            part.release();
        }
        byte[] bytes = new byte[all.readableBytes()];
        all.readBytes(bytes);
        return bytes;
    }
}
