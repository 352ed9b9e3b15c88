package io.dwcp.session;

import static java.util.Objects.requireNonNull;

import io.dwcp.amst.AmstAbort;
import io.dwcp.amst.AmstConfig;
import io.dwcp.amst.AmstHello;
import io.dwcp.amst.AmstPing;
import io.dwcp.amst.AmstPong;
import io.dwcp.amst.AmstProtocolException;
import io.dwcp.amst.ControlWriter;
import io.dwcp.amst.Frame;
import io.dwcp.amst.FrameCodec;
import io.dwcp.amst.FrameType;
import io.dwcp.amst.TunnelStream;
import io.dwcp.tls.TlsContexts;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.concurrent.ScheduledFuture;
import jakarta.inject.Inject;
import java.io.Closeable;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tunnel port: accepts peers' streams. A connection must complete TLS with a certificate of
 * the CA whose CN is a configured peer, then send HELLO, within {@code tunnel.handshake-timeout};
 * anything else is refused with one log line naming the address and the reason, and the daemon
 * goes on serving the others. At most {@code tunnel.max-pending-connections} may be in that
 * phase at once, and no connection buffers more than one maximum-size frame.
 *
 * <p>A peer's spare stream ({@link SpareStreams}) sends PING instead of HELLO: it is answered with
 * PONG and held without a session (at most {@code tunnel.max-spare-connections} at once) until
 * its HELLO, and closed when it has been silent for {@code tunnel.idle-timeout}.
 */
public final class TunnelServer implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(TunnelServer.class);

    private final SessionManager manager;
    private final PeersConfig peers;
    private final TunnelConfig config;
    private final AmstConfig amst;
    private final StreamPipeline pipeline;
    private final TunnelStats stats;
    private final EventLoopGroup group;
    private volatile PeerDirectory directory = PeerDirectory.NONE;
    private final AtomicInteger pending = new AtomicInteger();
    // frames written before a stream belongs to a session (counted in the daemon's tunnelBytesSent)
    private final ControlWriter control;
    private Channel serverChannel;

    @Inject
    public TunnelServer(
            SessionManager manager,
            PeersConfig peers,
            TunnelConfig config,
            AmstConfig amst,
            StreamPipeline pipeline,
            TunnelStats stats,
            EventLoopGroup group) {
        this.manager = requireNonNull(manager, "manager is null");
        this.peers = requireNonNull(peers, "peers is null");
        this.config = requireNonNull(config, "config is null");
        this.amst = requireNonNull(amst, "amst is null");
        this.pipeline = requireNonNull(pipeline, "pipeline is null");
        this.stats = requireNonNull(stats, "stats is null");
        this.group = requireNonNull(group, "group is null");
        this.control = new ControlWriter(stats);
    }

    /** Where peers that are not configured are looked up (the region's hosts); asked on event loops, so it never blocks. */
    public void setPeerDirectory(PeerDirectory directory) {
        this.directory = requireNonNull(directory, "directory is null");
    }

    public void start() throws InterruptedException {
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(EpollServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, pipeline.waterMark())
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel channel) {
                        if (pending.incrementAndGet() > config.getMaxPendingConnections()) {
                            pending.decrementAndGet();
                            stats.refused("too-many-pending");
                            log.warn(
                                    "refused tunnel connection from {}: {} connections are already being set up",
                                    channel.remoteAddress(),
                                    config.getMaxPendingConnections());
                            channel.close();
                            return;
                        }
                        pipeline.initAccepted(channel);
                        channel.pipeline().addLast("accept", new AcceptHandler());
                    }
                });
        serverChannel =
                bootstrap.bind(config.getListen().toSocketAddress()).sync().channel();
        log.info("tunnel port listening on {}", serverChannel.localAddress());
    }

    public InetSocketAddress localAddress() {
        return (InetSocketAddress) serverChannel.localAddress();
    }

    @Override
    public void close() {
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
    }

    private static String abbreviate(String message) {
        return message == null || message.length() <= 120 ? message : message.substring(0, 120) + "...";
    }

    private final class AcceptHandler extends ChannelInboundHandlerAdapter {
        private PeerConfig peer;
        private boolean done;
        private boolean pendingReleased;
        // a spare stream: PINGs before HELLO, held without a session
        private boolean spare;
        private String refusal;
        private ScheduledFuture<?> helloTimeout;

        @Override
        public void userEventTriggered(ChannelHandlerContext context, Object event) {
            if (event instanceof IdleStateEvent && spare) {
                log.debug("spare tunnel stream of peer {} silent for the idle timeout: closed", peer.name());
                context.close();
                return;
            }
            if (!(event instanceof SslHandshakeCompletionEvent completion)) {
                context.fireUserEventTriggered(event);
                return;
            }
            if (!completion.isSuccess()) {
                Throwable cause = completion.cause();
                refuse(
                        context,
                        "tls",
                        cause instanceof NotSslRecordException
                                ? "not a TLS client (" + abbreviate(cause.getMessage()) + ")"
                                : "TLS handshake failed: " + abbreviate(cause.getMessage()));
                return;
            }
            SslHandler ssl = context.pipeline().get(SslHandler.class);
            Optional<String> name = TlsContexts.peerName(ssl.engine().getSession());
            Optional<PeerConfig> configured = name.flatMap(peers::get);
            if (configured.isEmpty() && name.isPresent()) {
                configured = directory.peer(name.get());
            }
            if (configured.isEmpty()) {
                refuse(
                        context,
                        "unknown-peer",
                        "certificate CN '" + name.orElse("") + "' is not a configured peer" + directory.describe());
                return;
            }
            Optional<String> fingerprint =
                    TlsContexts.peerFingerprint(ssl.engine().getSession());
            if (!configured.get().acceptsFingerprint(fingerprint)) {
                refuse(
                        context,
                        "wrong-peer",
                        "certificate of '" + name.get() + "' has fingerprint " + fingerprint.orElse("none")
                                + ", the region's host record says "
                                + configured.get().certificateFingerprint().orElse(""));
                return;
            }
            peer = configured.get();
            long timeout = config.getHandshakeTimeout().toMillis();
            helloTimeout = context.executor()
                    .schedule(
                            () -> refuse(context, "no-hello", "no HELLO within " + timeout + " ms"),
                            timeout,
                            TimeUnit.MILLISECONDS);
        }

        @Override
        public void channelRead(ChannelHandlerContext context, Object message) {
            Frame frame = (Frame) message;
            try {
                if (done) {
                    return;
                }
                if (peer != null && frame.type() == FrameType.PING) {
                    onSparePing(context, frame);
                    return;
                }
                if (spare && frame.type() == FrameType.PAD) {
                    // a spare opening its congestion window (SpareStreams): counted, discarded
                    stats.tunnelBytesReceived.add(FrameCodec.HEADER_LENGTH + frame.payloadLength());
                    return;
                }
                if (peer == null || frame.type() != FrameType.HELLO) {
                    refuse(context, "protocol", "expected HELLO, found " + frame.type());
                    return;
                }
                AmstHello hello;
                try {
                    hello = AmstHello.decode(frame.payload());
                } catch (AmstProtocolException e) {
                    refuse(context, "protocol", e.getMessage());
                    return;
                }
                long sessionId = hello.sessionId();
                int index = hello.streamIndex();
                long window = hello.window();
                long limit = amst.getMaxReceiveWindow().bytes();
                if (window < 4L * amst.getMaxFramePayload().bytes() || window > limit) {
                    refuse(
                            context,
                            "protocol",
                            "HELLO window " + window + ": expected between "
                                    + 4L * amst.getMaxFramePayload().bytes() + " and amst.max-receive-window " + limit);
                    return;
                }
                Optional<String> ended = manager.ended(peer, sessionId);
                if (ended.isPresent()) {
                    // a late stream of a session that already ended here is not a new session; if it
                    // failed, the source learns why (its ABORT may not have reached it)
                    log.debug(
                            "late tunnel stream of ended session {} from peer {}",
                            Long.toHexString(sessionId),
                            peer.name());
                    settle();
                    if (ended.get().isEmpty()) {
                        context.close();
                    } else {
                        control.writeUnattached(context.channel(), new AmstAbort(ended.get()), true);
                    }
                    return;
                }
                Optional<Session> session = manager.destinationSession(peer, sessionId, window);
                if (session.isEmpty()) {
                    refuse(
                            context,
                            "too-many-sessions",
                            "tunnel.max-sessions (" + config.getMaxSessions() + ") sessions are open");
                    return;
                }
                settle();
                leaveSpare();
                TunnelStream stream = new TunnelStream(index, context.channel());
                context.pipeline().replace(this, "stream", new TunnelStreamHandler(session.get(), stream));
                session.get().run(() -> session.get().streamUp(stream));
            } finally {
                frame.release();
            }
        }

        /**
         * A PING before HELLO: the peer keeps this connection as a spare for a later session. It
         * leaves the connections being set up (no HELLO timeout), counts against
         * tunnel.max-spare-connections, and each PING is answered.
         */
        private void onSparePing(ChannelHandlerContext context, Frame frame) {
            AmstPing ping;
            try {
                ping = AmstPing.decode(frame.payload());
            } catch (AmstProtocolException e) {
                refuse(context, "protocol", e.getMessage());
                return;
            }
            if (!spare) {
                if (stats.spareStreamsHeld.incrementAndGet() > config.getMaxSpareConnections()) {
                    stats.spareStreamsHeld.decrementAndGet();
                    refuse(
                            context,
                            "too-many-spares",
                            "tunnel.max-spare-connections (" + config.getMaxSpareConnections()
                                    + ") spare streams are held");
                    return;
                }
                spare = true;
                releasePending();
            }
            control.writeUnattached(context.channel(), new AmstPong(ping.timestampNanos()), false);
        }

        private void leaveSpare() {
            if (spare) {
                spare = false;
                stats.spareStreamsHeld.decrementAndGet();
            }
        }

        private void settle() {
            if (!done) {
                done = true;
                releasePending();
            }
        }

        private void releasePending() {
            if (!pendingReleased) {
                pendingReleased = true;
                pending.decrementAndGet();
                if (helloTimeout != null) {
                    helloTimeout.cancel(false);
                }
            }
        }

        private void refuse(ChannelHandlerContext context, String reason, String message) {
            if (refusal == null) {
                refusal = message;
                stats.refused(reason);
                log.warn(
                        "refused tunnel connection from {}{}: {}",
                        context.channel().remoteAddress(),
                        peer == null ? "" : " (peer " + peer.name() + ")",
                        message);
            }
            settle();
            context.close();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
            if (cause instanceof DecoderException && cause.getCause() instanceof javax.net.ssl.SSLException) {
                // reported with the handshake failure
                context.close();
                return;
            }
            refuse(context, "protocol", cause.getMessage() == null ? cause.toString() : cause.getMessage());
        }

        @Override
        public void channelInactive(ChannelHandlerContext context) {
            settle();
            leaveSpare();
        }
    }
}
