package io.dwcp.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TokenizingStreamCodecTest {
    @Test
    void passesBytesThroughAndKnowsTheChannel() {
        StreamEncoder encoder = new TokenizingStreamCodec().newEncoder(0);
        byte[] main = {
            0x51, 0x45, 0x56, 0x4d, // QEVM
            0x00, 0x00, 0x00, 0x03, // version 3
            0x00, // EOF
        };
        List<ByteBuf> out = new ArrayList<>();
        // split anywhere: the encoder passes each piece on, unchanged
        ByteBuf first = Unpooled.wrappedBuffer(main, 0, 5);
        ByteBuf second = Unpooled.wrappedBuffer(main, 5, 4);
        encoder.encode(first, out::add);
        encoder.encode(second, out::add);
        assertEquals(2, out.size());
        assertSame(first, out.get(0));
        assertSame(second, out.get(1));
        assertEquals(0, first.readerIndex());
        assertTrue(encoder.summary().startsWith("kind MAIN, 9 bytes"), encoder.summary());
    }

    @Test
    void unknownBytesPassThroughToo() {
        StreamEncoder encoder = new TokenizingStreamCodec().newEncoder(1);
        byte[] junk = new byte[200_000];
        new Random(7).nextBytes(junk);
        junk[0] = 0;
        List<ByteBuf> out = new ArrayList<>();
        ByteBuf input = Unpooled.wrappedBuffer(junk);
        encoder.encode(input, out::add);
        assertSame(input, out.get(0));
        assertEquals(200_000, input.readableBytes());
        assertTrue(encoder.summary().startsWith("kind UNKNOWN, 200000 bytes"), encoder.summary());
    }
}
