package io.dwcp.amst;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * HELLO: the first frame on every stream, from the side that connected it (the source).
 * <pre>
 * Hello =&gt;                              ; exactly 20 bytes
 *   SessionId   =&gt; int64  0..2^63-1      the session the stream belongs to (chosen by the source)
 *   StreamIndex =&gt; int32  0..255         the stream's slot in the session
 *   Window      =&gt; int64  1..2^63-1      the sender's in-flight bound in bytes of credit; the
 *                                         receiver also checks it against its own limits
 * </pre>
 */
public record AmstHello(long sessionId, int streamIndex, long window) implements ControlPayload {
    public static final int LENGTH = 8 + 4 + 8;
    /** Streams per session: indexes are 0 .. MAX_STREAMS - 1. */
    public static final int MAX_STREAMS = 256;

    public AmstHello {
        if (sessionId < 0) {
            throw new IllegalArgumentException("sessionId is negative: " + sessionId);
        }
        if (streamIndex < 0 || streamIndex >= MAX_STREAMS) {
            throw new IllegalArgumentException("streamIndex out of 0.." + (MAX_STREAMS - 1) + ": " + streamIndex);
        }
        if (window <= 0) {
            throw new IllegalArgumentException("window is not positive: " + window);
        }
    }

    @Override
    public FrameType type() {
        return FrameType.HELLO;
    }

    @Override
    public ByteBuf encode() {
        return Unpooled.buffer(LENGTH, LENGTH)
                .writeLong(sessionId)
                .writeInt(streamIndex)
                .writeLong(window);
    }

    public static AmstHello decode(ByteBuf payload) {
        AmstProtocolException.checkLength(FrameType.HELLO, payload, LENGTH);
        long sessionId = AmstProtocolException.readNonNegativeLong(FrameType.HELLO, payload, "SessionId");
        int streamIndex = payload.readInt();
        if (streamIndex < 0 || streamIndex >= MAX_STREAMS) {
            throw new AmstProtocolException(
                    FrameType.HELLO, "StreamIndex", "0.." + (MAX_STREAMS - 1), Integer.toString(streamIndex));
        }
        long window = payload.readLong();
        if (window <= 0) {
            throw new AmstProtocolException(FrameType.HELLO, "Window", "1.." + Long.MAX_VALUE, Long.toString(window));
        }
        return new AmstHello(sessionId, streamIndex, window);
    }
}
