package io.dwcp.session;

import static java.util.Objects.requireNonNull;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Netty glue of a QEMU connection: hands its events to the session's event loop. */
final class QemuChannelHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(QemuChannelHandler.class);

    private final Session session;
    private final QemuChannel channel;
    private Throwable error;

    QemuChannelHandler(Session session, QemuChannel channel) {
        this.session = requireNonNull(session, "session is null");
        this.channel = requireNonNull(channel, "channel is null");
    }

    @Override
    public void channelActive(ChannelHandlerContext context) {
        session.run(() -> session.qemuChannelActive(channel));
        context.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext context, Object message) {
        ByteBuf bytes = (ByteBuf) message;
        int length = bytes.readableBytes();
        // back-pressure on this connection's own event loop: the session's loop may be behind
        if (session.queueFromQemu(length)) {
            context.channel().config().setAutoRead(false);
        }
        session.run(() -> {
            if (session.state() != Session.State.OPEN) {
                bytes.release();
                session.dequeueFromQemu(length);
                return;
            }
            // leaves the queue once its frames reached the sender (after the codec lane)
            channel.fromQemu(bytes);
            session.readFromQemu(length);
            session.updateReading();
        });
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext context) {
        session.run(() -> {
            if (session.state() == Session.State.OPEN) {
                channel.fromQemuPaused();
            }
        });
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext context, Object event) {
        if (event instanceof ChannelInputShutdownEvent) {
            session.run(() -> {
                if (session.state() == Session.State.OPEN) {
                    session.qemuEnded(channel);
                }
            });
        }
        context.fireUserEventTriggered(event);
    }

    @Override
    public void channelInactive(ChannelHandlerContext context) {
        Throwable cause = error;
        session.run(() -> session.qemuClosed(channel, cause));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
        log.debug("{} QEMU connection {}: {}", session.context(), channel.index(), cause.toString());
        if (error == null) {
            error = cause;
        }
        context.close();
    }
}
