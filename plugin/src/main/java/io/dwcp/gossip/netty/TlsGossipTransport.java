package io.dwcp.gossip.netty;

import static java.util.Objects.requireNonNull;

import io.dwcp.config.HostAndPort;
import io.dwcp.gossip.GossipCodec;
import io.dwcp.gossip.GossipCodecException;
import io.dwcp.gossip.GossipMessage;
import io.dwcp.gossip.GossipStats;
import io.dwcp.gossip.GossipTransport;
import io.dwcp.tls.TlsContexts;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.io.Closeable;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gossip over TCP with mutual TLS (the tunnel's {@link TlsContexts}: TLS 1.3, both sides present a
 * certificate of the site's CA). Frames: a 4-byte big-endian length, then a {@link GossipCodec}
 * message. Each node sends on its own outgoing connection to a peer (one per peer, dialled on first
 * use, dialled again after it closes) and only reads on the connections it accepted. A peer is
 * who its certificate's CN says: a dialled peer whose CN is not the name dialled is dropped, and a
 * message whose sender is not the connection's CN is refused. Best effort, as gossip wants: a
 * message to an unreachable or slow peer is dropped (counted), the next round repairs it. A
 * dialled connection whose data goes unacknowledged for {@link #UNACKNOWLEDGED_TIMEOUT_MILLIS}
 * (a partition) is closed, and a dial fails after {@link #CONNECT_TIMEOUT_MILLIS}, so that gossip
 * resumes within about that long after a partition heals.
 *
 * <p>Threads: this object owns one Netty event loop ({@code dwcp-gossip-io}) for all its
 * connections; decoded messages are handed to the node's executor (the node's owner thread), never
 * run on the event loop. {@link #close()} closes the connections and ends the loop.
 */
public final class TlsGossipTransport implements GossipTransport, Closeable {
    private static final Logger log = LoggerFactory.getLogger(TlsGossipTransport.class);
    /**
     * A dial that has not connected by then fails (the next round dials again): a dial whose SYN
     * was lost in a partition is replaced at most this long after the heal, not after SYN
     * retransmissions that back off (1, 2, 4 s ...).
     */
    static final int CONNECT_TIMEOUT_MILLIS = 2_000;
    /**
     * {@code TCP_USER_TIMEOUT} of dialled connections (epoll): data unacknowledged this long closes
     * the connection, and the next message dials again. Without it, a connection whose peer became
     * unreachable (a partition) kept its messages queued behind TCP's retransmission backoff, which
     * doubles up to 120 s: after the heal the leaders waited for the next retransmission, up to
     * about as long as the partition had lasted (7.2-7.4 s after a 8.8 s cut in GossipRegionsIT).
     * A healthy link acknowledges in a round trip; losing three retransmissions in a row on one
     * costs a new connection, which gossip does not mind.
     */
    static final int UNACKNOWLEDGED_TIMEOUT_MILLIS = 2_000;

    private final String self;
    private final HostAndPort listen;
    private final Map<String, HostAndPort> peers;
    private final TlsContexts tls;
    private final Executor nodeExecutor;
    private final GossipStats stats;
    private final int maxMessageBytes;
    private final EventLoopGroup group;
    private final Map<String, ChannelFuture> outgoing = new ConcurrentHashMap<>();
    private volatile Receiver receiver;
    private volatile Channel serverChannel;

    public TlsGossipTransport(
            String self,
            HostAndPort listen,
            Map<String, HostAndPort> peers,
            TlsContexts tls,
            Executor nodeExecutor,
            GossipStats stats,
            int maxMessageBytes) {
        this.self = requireNonNull(self, "self is null");
        this.listen = requireNonNull(listen, "listen is null");
        this.peers = Map.copyOf(peers);
        this.tls = requireNonNull(tls, "tls is null");
        this.nodeExecutor = requireNonNull(nodeExecutor, "nodeExecutor is null");
        this.stats = requireNonNull(stats, "stats is null");
        this.maxMessageBytes = maxMessageBytes;
        this.group = new MultiThreadIoEventLoopGroup(
                1,
                runnable -> {
                    Thread thread = new Thread(runnable, "dwcp-gossip-io");
                    thread.setDaemon(true);
                    return thread;
                },
                Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    }

    /** Epoll (dwcpd's transport, with {@link #UNACKNOWLEDGED_TIMEOUT_MILLIS}) where available, else NIO (without it). */
    private static Class<? extends ServerChannel> serverChannelType() {
        return Epoll.isAvailable() ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    /** Binds the listening port; messages received go to the receiver on the node's executor. */
    public void start(Receiver receiver) throws InterruptedException {
        this.receiver = requireNonNull(receiver, "receiver is null");
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(serverChannelType())
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        channel.pipeline()
                                .addLast(tls.server().newHandler(channel.alloc()))
                                // a peer that says nothing for a minute goes; its next round dials again
                                .addLast(new ReadTimeoutHandler(60, TimeUnit.SECONDS))
                                .addLast(new LengthFieldBasedFrameDecoder(maxMessageBytes + 4, 0, 4, 0, 4))
                                .addLast(new Inbound());
                    }
                });
        serverChannel = bootstrap.bind(listen.toSocketAddress()).sync().channel();
    }

    public InetSocketAddress localAddress() {
        return (InetSocketAddress) serverChannel.localAddress();
    }

    /** The connection dialled to {@code peer}, while there is one (tests look at its options). */
    Optional<Channel> outgoing(String peer) {
        return Optional.ofNullable(outgoing.get(peer)).map(ChannelFuture::channel);
    }

    @Override
    public void send(String peer, GossipMessage message) {
        HostAndPort address = peers.get(peer);
        if (address == null) {
            stats.sendFailed();
            return;
        }
        byte[] bytes = GossipCodec.encode(message);
        if (bytes.length > maxMessageBytes) {
            log.error(
                    "[gossip={}] message to {} of {} bytes exceeds gossip.max-message-size ({}): not sent",
                    self,
                    peer,
                    bytes.length,
                    maxMessageBytes);
            stats.sendFailed();
            return;
        }
        ChannelFuture connection = outgoing.compute(
                peer,
                (name, existing) -> existing != null
                                && (!existing.isDone() || existing.channel().isActive())
                        ? existing
                        : dial(name, address));
        connection.addListener(done -> {
            Channel channel = connection.channel();
            if (!done.isSuccess() || !channel.isActive() || !channel.isWritable()) {
                stats.sendFailed();
                return;
            }
            channel.writeAndFlush(Unpooled.wrappedBuffer(bytes)).addListener(written -> {
                if (written.isSuccess()) {
                    stats.sent(bytes.length);
                } else {
                    stats.sendFailed();
                }
            });
        });
    }

    private ChannelFuture dial(String peer, HostAndPort address) {
        Bootstrap bootstrap =
                new Bootstrap().group(group).option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS);
        if (Epoll.isAvailable()) {
            bootstrap
                    .channel(EpollSocketChannel.class)
                    .option(EpollChannelOption.TCP_USER_TIMEOUT, UNACKNOWLEDGED_TIMEOUT_MILLIS);
        } else {
            bootstrap.channel(NioSocketChannel.class);
        }
        return bootstrap
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        channel.pipeline()
                                .addLast(tls.client().newHandler(channel.alloc(), address.host(), address.port()))
                                .addLast(new LengthFieldPrepender(4))
                                .addLast(new Outbound(peer));
                    }
                })
                .connect(address.toSocketAddress());
    }

    @Override
    public void close() {
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
        outgoing.values().forEach(future -> future.channel().close());
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Dialled connections: the peer must be the one we dialled; nothing is expected back. */
    private final class Outbound extends SimpleChannelInboundHandler<ByteBuf> {
        private final String peer;

        Outbound(String peer) {
            this.peer = peer;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext context, Object event) {
            if (event instanceof SslHandshakeCompletionEvent handshake) {
                if (!handshake.isSuccess()) {
                    stats.peerRefused();
                    log.warn(
                            "[gossip={}] TLS with {} failed: {}",
                            self,
                            peer,
                            handshake.cause().getMessage());
                    context.close();
                    return;
                }
                Optional<String> name = TlsContexts.peerName(
                        context.pipeline().get(SslHandler.class).engine().getSession());
                if (!name.equals(Optional.of(peer))) {
                    stats.peerRefused();
                    log.warn(
                            "[gossip={}] dialled {} but its certificate is for {}: closed",
                            self,
                            peer,
                            name.orElse("no CN"));
                    context.close();
                }
            }
            context.fireUserEventTriggered(event);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext context, ByteBuf message) {
            // gossip answers on the peer's own connection; nothing comes back on ours
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
            log.debug("[gossip={}] connection to {}: {}", self, peer, cause.toString());
            context.close();
        }
    }

    /** Accepted connections: frames from the peer named by the certificate. */
    private final class Inbound extends SimpleChannelInboundHandler<ByteBuf> {
        private String peer;

        @Override
        public void userEventTriggered(ChannelHandlerContext context, Object event) {
            if (event instanceof SslHandshakeCompletionEvent handshake) {
                if (!handshake.isSuccess()) {
                    stats.peerRefused();
                    log.warn(
                            "[gossip={}] refused a connection from {}: {}",
                            self,
                            context.channel().remoteAddress(),
                            handshake.cause().getMessage());
                    context.close();
                    return;
                }
                peer = TlsContexts.peerName(context.pipeline()
                                .get(SslHandler.class)
                                .engine()
                                .getSession())
                        .orElse(null);
            }
            context.fireUserEventTriggered(event);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext context, ByteBuf frame) {
            byte[] bytes = ByteBufUtil.getBytes(frame);
            GossipMessage message;
            try {
                message = GossipCodec.decode(bytes);
            } catch (GossipCodecException e) {
                stats.malformed();
                log.warn("[gossip={} peer={}] {}: connection closed", self, peer, e.getMessage());
                context.close();
                return;
            }
            if (peer == null || !peer.equals(message.sender())) {
                stats.malformed();
                log.warn(
                        "[gossip={}] a message from '{}' on the connection of {}: connection closed",
                        self,
                        message.sender(),
                        peer);
                context.close();
                return;
            }
            stats.received(bytes.length);
            Receiver target = receiver;
            try {
                nodeExecutor.execute(() -> target.receive(message));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // the node is closing: dropped, as any gossip message may be
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
            log.debug("[gossip={}] connection from {}: {}", self, peer, cause.toString());
            context.close();
        }
    }
}
