package io.dwcp.amst;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * PING: a keep-alive and RTT probe on one stream, answered on the same stream by a {@link AmstPong} echoing the timestamp.
 * <pre>
 * Ping =&gt;                                    ; exactly 8 bytes
 *   TimestampNanos =&gt; int64  any value       the PING sender's System.nanoTime() (which may be
 *                                            negative); only the PING sender interprets it
 * </pre>
 */
public record AmstPing(long timestampNanos) implements ControlPayload {
    public static final int LENGTH = 8;

    @Override
    public FrameType type() {
        return FrameType.PING;
    }

    @Override
    public ByteBuf encode() {
        return Unpooled.buffer(LENGTH, LENGTH).writeLong(timestampNanos);
    }

    public static AmstPing decode(ByteBuf payload) {
        AmstProtocolException.checkLength(FrameType.PING, payload, LENGTH);
        return new AmstPing(payload.readLong());
    }
}
