package io.dwcp.amst;

import static java.util.Objects.requireNonNull;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;

/**
 * ABORT: the whole session failed at the sender, which closes the stream after it.
 * <pre>
 * Abort =&gt;
 *   Reason =&gt; bytes  0..4096 bytes of UTF-8 (the whole payload), for the operator
 * </pre>
 * {@link #encode} cuts a longer reason at a character boundary.
 */
public record AmstAbort(String reason) implements ControlPayload {
    public static final int MAX_REASON_LENGTH = 4096;

    public AmstAbort {
        requireNonNull(reason, "reason is null");
    }

    @Override
    public FrameType type() {
        return FrameType.ABORT;
    }

    @Override
    public ByteBuf encode() {
        byte[] bytes = reason.getBytes(StandardCharsets.UTF_8);
        int length = bytes.length;
        if (length > MAX_REASON_LENGTH) {
            length = MAX_REASON_LENGTH;
            // never split a character: back up over continuation bytes (10xxxxxx)
            while ((bytes[length] & 0xc0) == 0x80) {
                length--;
            }
        }
        return Unpooled.copiedBuffer(bytes, 0, length);
    }

    public static AmstAbort decode(ByteBuf payload) {
        if (payload.readableBytes() > MAX_REASON_LENGTH) {
            throw new AmstProtocolException(
                    FrameType.ABORT,
                    "payload length",
                    "at most " + MAX_REASON_LENGTH + " bytes",
                    payload.readableBytes() + " bytes");
        }
        return new AmstAbort(Utf8.decode(FrameType.ABORT, "Reason", payload, payload.readableBytes()));
    }
}
