package io.dwcp.amst;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ReorderBufferTest {
    @Test
    void deliversInOrderWithDuplicates() {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        ReorderBuffer buffer = new ReorderBuffer(64, 1 << 20);
        List<Long> sequences = new ArrayList<>();
        for (long i = 0; i < 1000; i++) {
            sequences.add(i);
        }
        long delivered = 0;
        // shuffle within windows of 32, and send every frame twice
        for (int start = 0; start < 1000; start += 32) {
            List<Long> window = new ArrayList<>(sequences.subList(start, Math.min(1000, start + 32)));
            window.addAll(new ArrayList<>(window));
            Collections.shuffle(window, random);
            for (long sequence : window) {
                buffer.add(frame(sequence, 10));
                Frame next;
                while ((next = buffer.poll()) != null) {
                    assertEquals(delivered++, next.sequence());
                    next.release();
                }
            }
        }
        assertEquals(1000, delivered);
        assertEquals(0, buffer.count());
        assertEquals(0, buffer.cost());
    }

    @Test
    void duplicatesAreReleased() {
        ReorderBuffer buffer = new ReorderBuffer(16, 1 << 20);
        Frame first = frame(3, 10);
        Frame duplicate = frame(3, 10);
        assertTrue(buffer.add(first));
        assertFalse(buffer.add(duplicate));
        assertEquals(0, duplicate.refCnt());
        assertNull(buffer.poll());
        buffer.releaseAll();
        assertEquals(0, first.refCnt());
    }

    @Test
    void refusesSequenceBeyondCapacity() {
        ReorderBuffer buffer = new ReorderBuffer(16, 1 << 20);
        assertTrue(buffer.add(frame(15, 1)));
        Frame beyond = frame(16, 1);
        ReorderBuffer.ReorderOverflowException exception =
                assertThrows(ReorderBuffer.ReorderOverflowException.class, () -> buffer.add(beyond));
        assertEquals(
                "sequence 16 is beyond the reorder window: expected below 16 (next to deliver is 0)",
                exception.getMessage());
        assertEquals(0, beyond.refCnt());
    }

    @Test
    void refusesCostBeyondBound() {
        long bound = 3 * FrameCodec.frameCost(1000) + FrameCodec.frameCost(0);
        ReorderBuffer buffer = new ReorderBuffer(16, bound);
        assertTrue(buffer.add(frame(1, 1000)));
        assertTrue(buffer.add(frame(2, 1000)));
        assertTrue(buffer.add(frame(3, 1000)));
        ReorderBuffer.ReorderOverflowException exception =
                assertThrows(ReorderBuffer.ReorderOverflowException.class, () -> buffer.add(frame(4, 1000)));
        assertEquals(
                "frames waiting for reordering would take 5024 bytes of window: expected at most 4024 (next to deliver is 0, found 4)",
                exception.getMessage());
        assertEquals(3, buffer.count());
        assertEquals(3 * FrameCodec.frameCost(1000), buffer.cost());
        // delivering frees room again
        assertTrue(buffer.add(frame(0, 0)));
        for (int i = 0; i < 4; i++) {
            buffer.poll().release();
        }
        assertTrue(buffer.add(frame(4, 1000)));
        buffer.releaseAll();
    }

    @Test
    void capacityCoversTheWindow() {
        assertEquals(16, ReorderBuffer.capacityFor(0));
        int capacity = ReorderBuffer.capacityFor(64L << 20);
        assertEquals(1, Integer.bitCount(capacity));
        assertTrue(capacity >= (64L << 20) / FrameCodec.FRAME_COST_OVERHEAD + 1);
        assertTrue(capacity <= 2 * ((64L << 20) / FrameCodec.FRAME_COST_OVERHEAD + 1));
    }

    private static Frame frame(long sequence, int length) {
        return new Frame(FrameType.DATA, sequence, 0, Unpooled.buffer(length).writeZero(length));
    }
}
