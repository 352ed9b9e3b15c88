package io.dwcp.amst;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * PONG: the answer to a {@link AmstPing}, on the stream the PING came on, echoing its timestamp.
 * <pre>
 * Pong =&gt;                                    ; exactly 8 bytes
 *   TimestampNanos =&gt; int64  any value       the PING sender's System.nanoTime() (which may be
 *                                            negative); only the PING sender interprets it
 * </pre>
 */
public record AmstPong(long timestampNanos) implements ControlPayload {
    public static final int LENGTH = 8;

    @Override
    public FrameType type() {
        return FrameType.PONG;
    }

    @Override
    public ByteBuf encode() {
        return Unpooled.buffer(LENGTH, LENGTH).writeLong(timestampNanos);
    }

    public static AmstPong decode(ByteBuf payload) {
        AmstProtocolException.checkLength(FrameType.PONG, payload, LENGTH);
        return new AmstPong(payload.readLong());
    }
}
