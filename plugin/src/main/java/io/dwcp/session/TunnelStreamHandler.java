package io.dwcp.session;

import static java.util.Objects.requireNonNull;

import io.dwcp.amst.CorruptFrameException;
import io.dwcp.amst.Frame;
import io.dwcp.amst.TunnelStream;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.timeout.IdleStateEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Netty glue of an established tunnel stream (after TLS and HELLO): frames go to the session. */
final class TunnelStreamHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(TunnelStreamHandler.class);

    private final Session session;
    private final TunnelStream stream;
    private String closeReason = "connection closed";
    private boolean clean = true;

    TunnelStreamHandler(Session session, TunnelStream stream) {
        this.session = requireNonNull(session, "session is null");
        this.stream = requireNonNull(stream, "stream is null");
    }

    @Override
    public void channelRead(ChannelHandlerContext context, Object message) {
        Frame frame = (Frame) message;
        session.stats().tunnelBytesReceived.add(frame.payloadLength() + io.dwcp.amst.FrameCodec.HEADER_LENGTH);
        session.countTunnelReceived(frame.payloadLength() + io.dwcp.amst.FrameCodec.HEADER_LENGTH);
        session.run(() -> session.onFrame(stream, frame));
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext context) {
        session.run(session::streamWritabilityChanged);
        context.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext context, Object event) {
        if (event instanceof IdleStateEvent) {
            closeReason = "nothing received within the idle timeout";
            clean = false;
            context.close();
            return;
        }
        context.fireUserEventTriggered(event);
    }

    @Override
    public void channelInactive(ChannelHandlerContext context) {
        String reason = closeReason;
        boolean closedCleanly = clean;
        session.run(() -> session.streamDown(stream, reason, closedCleanly));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
        Throwable root = cause instanceof DecoderException
                        && cause.getCause() != null
                        && !(cause instanceof CorruptFrameException)
                ? cause.getCause()
                : cause;
        closeReason = root.getMessage() == null ? root.toString() : root.getMessage();
        clean = false;
        if (cause instanceof CorruptFrameException) {
            log.warn(
                    "{} {} from {}: {}; closing the stream",
                    session.context(),
                    stream,
                    context.channel().remoteAddress(),
                    cause.getMessage());
        } else {
            log.debug("{} {}: {}", session.context(), stream, cause.toString());
        }
        context.close();
    }
}
