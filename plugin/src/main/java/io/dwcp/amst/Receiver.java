package io.dwcp.amst;

/**
 * The receiving half of a session's window: puts the peer's sequenced frames back in order, holds
 * the peer to the window it announced, and says what the next {@link AmstAck} carries.
 *
 * <p>Credit is counted in {@link FrameCodec#frameCost} units. A frame is <em>received</em> when
 * it is accepted here, and <em>consumed</em> when what it carries left this side (its bytes
 * reached the local QEMU, or a control payload was acted on): the peer may have at most the
 * window, plus one largest frame, received and not consumed. A frame beyond that, or beyond what
 * the reorder buffer holds, is a {@link ReorderBuffer.ReorderOverflowException}: the peer ignored
 * the window, and the session fails.
 *
 * <p>Owned by the session's event loop; not thread-safe.
 */
public final class Receiver {
    private final long window;
    private final long limit;
    private final ReorderBuffer reorder;
    private long receivedCredit;
    private long consumedCredit;

    /**
     * @param window the window the source announced for the session, in credit
     * @param maxFramePayload the largest frame payload either end sends
     */
    public Receiver(long window, int maxFramePayload) {
        if (window <= 0) {
            throw new IllegalArgumentException("window must be positive: " + window);
        }
        this.window = window;
        this.limit = window + FrameCodec.frameCost(maxFramePayload);
        this.reorder = new ReorderBuffer(ReorderBuffer.capacityFor(window), limit);
    }

    /**
     * Takes a sequenced frame, which this receiver then owns. Returns false, having released it,
     * for a duplicate (already delivered or already waiting).
     *
     * @throws ReorderBuffer.ReorderOverflowException the peer sent beyond the window (the frame is released)
     */
    public boolean add(Frame frame) {
        // a duplicate first: a copy of a frame waiting behind a lost one (a tail copy, a re-send) may
        // arrive while the window is full, and it takes no window
        if (reorder.holdsOrDelivered(frame.sequence())) {
            frame.release();
            return false;
        }
        long cost = FrameCodec.frameCost(frame.payloadLength());
        if (receivedCredit + cost - consumedCredit > limit) {
            long sequence = frame.sequence();
            frame.release();
            throw new ReorderBuffer.ReorderOverflowException("the peer announced a window of " + window + " bytes, but "
                    + (receivedCredit + cost - consumedCredit) + " would be unconsumed with sequence " + sequence);
        }
        if (!reorder.add(frame)) {
            return false;
        }
        receivedCredit += cost;
        return true;
    }

    /** The next frame in sequence, which the caller then owns, or null if it has not arrived. */
    public Frame poll() {
        return reorder.poll();
    }

    /** What a delivered frame carried left this side: its credit goes back to the peer with the next ACK. */
    public void consumed(long cost) {
        if (cost < 0) {
            throw new IllegalArgumentException("cost must not be negative: " + cost);
        }
        consumedCredit += cost;
    }

    /**
     * The acknowledgement to send now.
     *
     * @param delivered bytes of the peer's stream written into the local QEMU so far
     */
    public AmstAck ack(long delivered) {
        return ack(delivered, java.util.List.of());
    }

    /** The next ACK, naming what each QEMU connection delivered (channels ascending). */
    public AmstAck ack(long delivered, java.util.List<AmstAck.ChannelDelivered> channels) {
        return new AmstAck(reorder.next(), consumedCredit, delivered, channels);
    }

    /** The next sequence number to deliver: every lower one was delivered. */
    public long next() {
        return reorder.next();
    }

    /** The window the peer announced, in credit. */
    public long window() {
        return window;
    }

    public long receivedCredit() {
        return receivedCredit;
    }

    public long consumedCredit() {
        return consumedCredit;
    }

    /** Frames waiting for an earlier one. */
    public int waiting() {
        return reorder.count();
    }

    public void releaseAll() {
        reorder.releaseAll();
    }
}
