package io.dwcp.amst;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

class ReceiverTest {
    private static final int MAX_PAYLOAD = 1000;

    @Test
    void deliversInOrderAndAcknowledgesWhatWasConsumed() {
        Receiver receiver = new Receiver(1 << 20, MAX_PAYLOAD);
        assertTrue(receiver.add(frame(1, 100)));
        assertNull(receiver.poll(), "sequence 0 has not arrived");
        assertEquals(1, receiver.waiting());
        assertTrue(receiver.add(frame(0, 200)));
        assertEquals(FrameCodec.frameCost(100) + FrameCodec.frameCost(200), receiver.receivedCredit());

        Frame first = receiver.poll();
        Frame second = receiver.poll();
        assertEquals(0, first.sequence());
        assertEquals(1, second.sequence());
        assertNull(receiver.poll());
        assertEquals(2, receiver.next());

        receiver.consumed(FrameCodec.frameCost(200));
        assertEquals(new AmstAck(2, FrameCodec.frameCost(200), 4096), receiver.ack(4096));
        first.release();
        second.release();
    }

    @Test
    void duplicatesAreReleasedAndNotCounted() {
        Receiver receiver = new Receiver(1 << 20, MAX_PAYLOAD);
        assertTrue(receiver.add(frame(0, 10)));
        Frame delivered = receiver.poll();
        delivered.release();
        Frame late = frame(0, 10);
        assertFalse(receiver.add(late), "already delivered");
        assertEquals(0, late.refCnt());
        assertTrue(receiver.add(frame(2, 10)));
        Frame twice = frame(2, 10);
        assertFalse(receiver.add(twice), "already waiting");
        assertEquals(0, twice.refCnt());
        assertEquals(2 * FrameCodec.frameCost(10), receiver.receivedCredit());
        receiver.releaseAll();
    }

    @Test
    void refusesAPeerThatIgnoresTheWindow() {
        long window = 4 * FrameCodec.frameCost(MAX_PAYLOAD);
        Receiver receiver = new Receiver(window, MAX_PAYLOAD);
        // the window plus one largest frame may be unconsumed
        for (int sequence = 0; sequence < 5; sequence++) {
            assertTrue(receiver.add(frame(sequence, MAX_PAYLOAD)));
        }
        Frame beyond = frame(5, 1);
        ReorderBuffer.ReorderOverflowException refused =
                assertThrows(ReorderBuffer.ReorderOverflowException.class, () -> receiver.add(beyond));
        assertEquals(
                "the peer announced a window of " + window + " bytes, but "
                        + (5 * FrameCodec.frameCost(MAX_PAYLOAD) + FrameCodec.frameCost(1))
                        + " would be unconsumed with sequence 5",
                refused.getMessage());
        assertEquals(0, beyond.refCnt());

        // once consumed, the credit is free again
        for (int i = 0; i < 5; i++) {
            Frame frame = receiver.poll();
            receiver.consumed(FrameCodec.frameCost(frame.payloadLength()));
            frame.release();
        }
        assertTrue(receiver.add(frame(5, 1)));
        receiver.releaseAll();
    }

    @Test
    void aDuplicateOfADeliveredFrameNeverCountsAgainstTheWindow() {
        long window = FrameCodec.frameCost(MAX_PAYLOAD);
        Receiver receiver = new Receiver(window, MAX_PAYLOAD);
        assertTrue(receiver.add(frame(0, MAX_PAYLOAD)));
        assertTrue(receiver.add(frame(1, MAX_PAYLOAD)));
        // nothing consumed: the window is full, yet a re-sent copy of a delivered frame is only a duplicate
        receiver.poll().release();
        assertFalse(receiver.add(frame(0, MAX_PAYLOAD)));
        receiver.releaseAll();
    }

    @Test
    void aDuplicateOfAWaitingFrameIsRefusedAsADuplicateEvenWithTheWindowFull() {
        long window = 4 * FrameCodec.frameCost(MAX_PAYLOAD);
        Receiver receiver = new Receiver(window, MAX_PAYLOAD);
        // frame 0 lost: 1-5 wait, the window plus one largest frame unconsumed
        for (int sequence = 1; sequence <= 5; sequence++) {
            assertTrue(receiver.add(frame(sequence, MAX_PAYLOAD)));
        }
        // a second copy of one of them (the sender copies its newest frames at the stream's end)
        Frame copy = frame(4, MAX_PAYLOAD);
        assertFalse(receiver.add(copy), "a copy of a waiting frame is a duplicate");
        assertEquals(0, copy.refCnt());
        assertEquals(5 * FrameCodec.frameCost(MAX_PAYLOAD), receiver.receivedCredit());
        // a new frame is still held to the window
        assertThrows(ReorderBuffer.ReorderOverflowException.class, () -> receiver.add(frame(6, 1)));
        assertNull(receiver.poll(), "frame 0 is still missing");
        receiver.releaseAll();
    }

    @Test
    void refusesNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new Receiver(0, MAX_PAYLOAD));
        Receiver receiver = new Receiver(1 << 20, MAX_PAYLOAD);
        assertThrows(IllegalArgumentException.class, () -> receiver.consumed(-1));
    }

    private static Frame frame(long sequence, int length) {
        return new Frame(FrameType.DATA, sequence, 0, Unpooled.wrappedBuffer(new byte[length]));
    }
}
