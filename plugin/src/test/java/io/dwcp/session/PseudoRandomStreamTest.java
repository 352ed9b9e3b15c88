package io.dwcp.session;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PseudoRandomStreamTest {
    @Test
    void bytesDoNotDependOnTheCuts() {
        ByteBuffer whole = ByteBuffer.allocate(10_000);
        new TestBed.PseudoRandomStream(5).fill(whole);
        TestBed.PseudoRandomStream stream = new TestBed.PseudoRandomStream(5);
        Random cuts = new Random(9);
        ByteBuffer pieces = ByteBuffer.allocate(10_000);
        while (pieces.hasRemaining()) {
            ByteBuffer piece = ByteBuffer.allocate(Math.min(pieces.remaining(), 1 + cuts.nextInt(23)));
            stream.fill(piece);
            pieces.put(piece.flip());
        }
        assertEquals(whole.flip(), pieces.flip());
    }
}
