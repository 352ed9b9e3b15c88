package io.dwcp.session;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelInboundHandlerAdapter;

/** Small Netty helpers. */
final class Channels {
    /** A placeholder handler for channels whose real handler is added later. */
    static final ChannelInboundHandlerAdapter NO_OP = new NoOp();

    private Channels() {}

    /** Closes a channel whether or not it is registered yet; null is ignored. */
    static void close(Channel channel) {
        if (channel == null) {
            return;
        }
        if (channel.isRegistered()) {
            channel.close();
        } else {
            channel.unsafe().closeForcibly();
        }
    }

    @Sharable
    private static final class NoOp extends ChannelInboundHandlerAdapter {}
}
