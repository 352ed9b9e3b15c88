package io.dwcp.amst;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/** Epoll TCP channels on 127.0.0.1 for tests that read a real socket's options. */
final class EpollLoopback {
    private EpollLoopback() {}

    /** A server on an ephemeral port of 127.0.0.1 whose accepted channels get {@code childHandler}. */
    static Channel server(EventLoopGroup group, ChannelHandler childHandler) throws InterruptedException {
        return new ServerBootstrap()
                .group(group)
                .channel(EpollServerSocketChannel.class)
                .childHandler(childHandler)
                .bind(new InetSocketAddress("127.0.0.1", 0))
                .sync()
                .channel();
    }

    /** A client channel connected to {@code address}. */
    static Channel client(EventLoopGroup group, SocketAddress address) throws InterruptedException {
        return new Bootstrap()
                .group(group)
                .channel(EpollSocketChannel.class)
                .handler(new ChannelInboundHandlerAdapter())
                .connect(address)
                .sync()
                .channel();
    }
}
