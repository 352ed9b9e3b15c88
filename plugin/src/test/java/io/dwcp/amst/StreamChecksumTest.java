package io.dwcp.amst;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class StreamChecksumTest {
    @Test
    void isCrc32cThenCrc32OfTheSameBytes() {
        // the check values of both CRCs (the bytes "123456789"), as their standards give them
        assertEquals(0xe3069283_cbf43926L, StreamChecksum.of("123456789".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(0L, StreamChecksum.of());
    }

    @Test
    void theSameWhateverTheBytesArriveIn() {
        byte[] stream = new byte[100_000];
        new Random(7).nextBytes(stream);
        long whole = StreamChecksum.of(stream);

        StreamChecksum pieces = new StreamChecksum();
        pieces.update(stream, 0, 10);
        assertNotEquals(whole, pieces.value());
        pieces.update(Unpooled.wrappedBuffer(stream, 10, 40_000).nioBuffer());
        CompositeByteBuf composite = Unpooled.compositeBuffer();
        ByteBuf direct = Unpooled.directBuffer(30_000).writeBytes(stream, 40_010, 30_000);
        composite.addComponents(true, direct, Unpooled.wrappedBuffer(stream, 70_010, 29_990));
        int readerIndex = composite.readerIndex();
        pieces.update(composite);
        assertEquals(readerIndex, composite.readerIndex(), "the buffer's indexes are left as they were");
        composite.release();
        assertEquals(whole, pieces.value());
        assertEquals(whole, pieces.value(), "reading the value does not end the stream");
    }

    @Test
    void everyFlippedBitChangesIt() {
        byte[] stream = new byte[4096];
        new Random(11).nextBytes(stream);
        long good = StreamChecksum.of(stream);
        for (int bit = 0; bit < stream.length * 8; bit += 97) {
            stream[bit / 8] ^= (byte) (1 << (bit % 8));
            assertNotEquals(good, StreamChecksum.of(stream), "bit " + bit);
            stream[bit / 8] ^= (byte) (1 << (bit % 8));
        }
        assertEquals(good, StreamChecksum.of(stream));
    }
}
