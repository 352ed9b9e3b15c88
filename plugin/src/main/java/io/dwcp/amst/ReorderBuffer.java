package io.dwcp.amst;

import static java.lang.Math.toIntExact;

/**
 * Puts sequenced frames back in order, with bounded memory: it accepts only sequence numbers
 * below {@code next + capacity} and at most {@code maxCost} window credit (see
 * {@link FrameCodec#frameCost}) of frames waiting. A frame beyond either bound means the peer
 * ignored the window it announced: {@link ReorderOverflowException}.
 */
public final class ReorderBuffer {
    private final Frame[] slots;
    private final int mask;
    private final long maxCost;
    private long next;
    private int count;
    private long cost;

    public ReorderBuffer(int capacity, long maxCost) {
        if (capacity < 1 || Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("capacity must be a power of two: " + capacity);
        }
        this.slots = new Frame[capacity];
        this.mask = capacity - 1;
        this.maxCost = maxCost;
    }

    /** The capacity needed for a window: the most frames that window can hold, rounded up to a power of two. */
    public static int capacityFor(long window) {
        // frames are transmitted while the credit in flight is below the window: at most window / overhead + 1
        long frames = Math.max(16, window / FrameCodec.FRAME_COST_OVERHEAD + 1);
        return toIntExact(1L << (64 - Long.numberOfLeadingZeros(frames - 1)));
    }

    /** The next sequence number to deliver: every lower one was delivered. */
    public long next() {
        return next;
    }

    public int count() {
        return count;
    }

    public long cost() {
        return cost;
    }

    /** Whether {@code sequence} was delivered already or is waiting here: a frame with it is a duplicate. */
    public boolean holdsOrDelivered(long sequence) {
        return sequence < next || (sequence < next + slots.length && slots[(int) (sequence & mask)] != null);
    }

    /**
     * Adds a frame. Returns false (and releases it) if it is a duplicate: already delivered or
     * already waiting.
     */
    public boolean add(Frame frame) {
        long sequence = frame.sequence();
        if (sequence < next) {
            frame.release();
            return false;
        }
        if (sequence >= next + slots.length) {
            long found = sequence;
            frame.release();
            throw new ReorderOverflowException("sequence " + found + " is beyond the reorder window: expected below "
                    + (next + slots.length) + " (next to deliver is " + next + ")");
        }
        int index = (int) (sequence & mask);
        if (slots[index] != null) {
            frame.release();
            return false;
        }
        long frameCost = FrameCodec.frameCost(frame.payloadLength());
        if (cost + frameCost > maxCost) {
            frame.release();
            throw new ReorderOverflowException("frames waiting for reordering would take " + (cost + frameCost)
                    + " bytes of window: expected at most " + maxCost + " (next to deliver is " + next + ", found "
                    + sequence + ")");
        }
        slots[index] = frame;
        count++;
        cost += frameCost;
        return true;
    }

    /** Removes and returns the next frame in sequence, or null if it has not arrived. */
    public Frame poll() {
        int index = (int) (next & mask);
        Frame frame = slots[index];
        if (frame == null) {
            return null;
        }
        slots[index] = null;
        next++;
        count--;
        cost -= FrameCodec.frameCost(frame.payloadLength());
        return frame;
    }

    public void releaseAll() {
        for (int i = 0; i < slots.length; i++) {
            if (slots[i] != null) {
                slots[i].release();
                slots[i] = null;
            }
        }
        count = 0;
        cost = 0;
    }

    public static class ReorderOverflowException extends RuntimeException {
        public ReorderOverflowException(String message) {
            super(message);
        }
    }
}
