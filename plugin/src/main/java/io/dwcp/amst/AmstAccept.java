package io.dwcp.amst;

import static java.util.Objects.requireNonNull;

import io.netty.buffer.ByteBuf;

/**
 * ACCEPT: a piece of the destination's answer to the codec the source offered in {@link AmstOpen}
 * (e.g. the baselines it holds). The pieces, concatenated in sequence order, are the answer.
 * <pre>
 * Accept =&gt;
 *   (header) Channel =&gt; int32  1 = more pieces follow, 0 = the last piece; nothing else
 *   Piece            =&gt; bytes  the whole payload, 0 or more bytes (the codec parses the answer)
 * </pre>
 * The record does not own {@code piece}: {@link #decode} returns a slice of the frame's payload,
 * valid while the frame is; {@link #encode} returns a retained duplicate of it.
 */
public record AmstAccept(ByteBuf piece, boolean last) implements ControlPayload {
    public static final int CHANNEL_LAST = 0;
    public static final int CHANNEL_MORE = 1;

    public AmstAccept {
        requireNonNull(piece, "piece is null");
    }

    /** The header's channel for this piece. */
    public int channel() {
        return last ? CHANNEL_LAST : CHANNEL_MORE;
    }

    @Override
    public FrameType type() {
        return FrameType.ACCEPT;
    }

    @Override
    public ByteBuf encode() {
        return piece.retainedDuplicate();
    }

    public static AmstAccept decode(int channel, ByteBuf payload) {
        if (channel != CHANNEL_LAST && channel != CHANNEL_MORE) {
            throw new AmstProtocolException(
                    FrameType.ACCEPT, "Channel", "0 (last piece) or 1 (more follow)", Integer.toString(channel));
        }
        return new AmstAccept(payload.slice(), channel == CHANNEL_LAST);
    }
}
