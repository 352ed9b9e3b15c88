package io.dwcp.amst;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * ACK: the receiver's cumulative acknowledgement, sent on any stream whenever it has news and on
 * every keep-alive tick.
 * <pre>
 * Ack =&gt;                                   ; exactly 24 bytes
 *   NextSequence   =&gt; int64  0..2^63-1      every sequenced frame below it was received
 *   ConsumedCredit =&gt; int64  0..2^63-1      cumulative window credit returned (see
 *                                            {@link FrameCodec#frameCost})
 *   Delivered      =&gt; int64  0..2^63-1      cumulative bytes of the peer's stream written into the
 *                                            local QEMU (the peer reads its QEMU while less than
 *                                            amst.raw-window is undelivered)
 * </pre>
 */
public record AmstAck(long nextSequence, long consumedCredit, long delivered) implements ControlPayload {
    public static final int LENGTH = 8 + 8 + 8;

    public AmstAck {
        if (nextSequence < 0 || consumedCredit < 0 || delivered < 0) {
            throw new IllegalArgumentException(
                    "negative ACK field: " + nextSequence + ", " + consumedCredit + ", " + delivered);
        }
    }

    @Override
    public FrameType type() {
        return FrameType.ACK;
    }

    @Override
    public ByteBuf encode() {
        return Unpooled.buffer(LENGTH, LENGTH)
                .writeLong(nextSequence)
                .writeLong(consumedCredit)
                .writeLong(delivered);
    }

    public static AmstAck decode(ByteBuf payload) {
        AmstProtocolException.checkLength(FrameType.ACK, payload, LENGTH);
        long next = AmstProtocolException.readNonNegativeLong(FrameType.ACK, payload, "NextSequence");
        long consumed = AmstProtocolException.readNonNegativeLong(FrameType.ACK, payload, "ConsumedCredit");
        long delivered = AmstProtocolException.readNonNegativeLong(FrameType.ACK, payload, "Delivered");
        return new AmstAck(next, consumed, delivered);
    }
}
