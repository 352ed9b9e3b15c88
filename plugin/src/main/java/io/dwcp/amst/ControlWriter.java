package io.dwcp.amst;

import static io.dwcp.amst.FrameCodec.HEADER_LENGTH;
import static java.util.Objects.requireNonNull;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;

/**
 * Writes unsequenced control frames and counts every byte of them in {@code tunnelBytesSent} (and
 * in the stream's own count): {@link FrameSender} owns one for the session's control frames; the
 * tunnel port has one for the frames it writes before a stream belongs to a session. Nothing else
 * writes frames to a tunnel stream.
 *
 * <p>Stateless apart from the counters: usable from any thread that may write to the channel.
 */
public final class ControlWriter {
    private final SenderStats stats;

    public ControlWriter(SenderStats stats) {
        this.stats = requireNonNull(stats, "stats is null");
    }

    /** Writes and flushes the frame on the stream; the stream closes after it when {@code close}. */
    public void write(TunnelStream stream, ControlPayload payload, boolean close) {
        Frame frame = Frame.control(payload.type(), payload.encode());
        stream.recordSent(HEADER_LENGTH + frame.payloadLength());
        write(stream.channel(), frame, close);
    }

    /** Writes a frame on a connection that is not (yet) a session's stream: counted in the daemon's total only. */
    public void writeUnattached(Channel channel, ControlPayload payload, boolean close) {
        write(channel, Frame.control(payload.type(), payload.encode()), close);
    }

    /** Writes and flushes a control frame built by the caller (a PAD); the future completes once it is written. */
    public ChannelFuture writeUnattached(Channel channel, Frame frame) {
        stats.tunnelBytesSent.add(HEADER_LENGTH + frame.payloadLength());
        return channel.writeAndFlush(frame);
    }

    private void write(Channel channel, Frame frame, boolean close) {
        stats.tunnelBytesSent.add(HEADER_LENGTH + frame.payloadLength());
        if (close) {
            channel.writeAndFlush(frame).addListener(ChannelFutureListener.CLOSE);
        } else {
            channel.writeAndFlush(frame, channel.voidPromise());
        }
    }
}
