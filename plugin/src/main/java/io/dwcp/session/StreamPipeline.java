package io.dwcp.session;

import static java.util.Objects.requireNonNull;

import io.dwcp.amst.AmstConfig;
import io.dwcp.amst.FrameDecoder;
import io.dwcp.amst.FrameEncoder;
import io.dwcp.amst.SocketTuning;
import io.dwcp.tls.TlsContexts;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateHandler;
import jakarta.inject.Inject;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import javax.net.ssl.SSLSession;

/**
 * How a tunnel stream's pipeline is built at either end: the socket's tuning (congestion
 * control, pacing, TCP_NOTSENT_LOWAT), TLS (the dialling side checks the peer it dialled), the idle
 * timeout and AMST framing, and the write buffer's marks.
 *
 * <p>Immutable after construction; used on the streams' event loops.
 */
public final class StreamPipeline {
    private static final FrameEncoder FRAME_ENCODER = new FrameEncoder();

    private final TunnelConfig tunnel;
    private final AmstConfig amst;
    private final TlsContexts tls;
    private final SocketTuning tuning;

    @Inject
    public StreamPipeline(TunnelConfig tunnel, AmstConfig amst, TlsContexts tls) {
        this.tunnel = requireNonNull(tunnel, "tunnel is null");
        this.amst = requireNonNull(amst, "amst is null");
        this.tls = requireNonNull(tls, "tls is null");
        this.tuning = new SocketTuning(
                amst.getCongestionControl(), amst.getMaxPacingRate().bytes(), (int)
                        amst.getNotsentLowat().bytes());
    }

    /** The write buffer's marks of a stream: a stream above the high mark takes no new frame. */
    WriteBufferWaterMark waterMark() {
        int high = amst.getStreamWriteBuffer().toIntBytes();
        return new WriteBufferWaterMark(high / 2, high);
    }

    /**
     * Dials a stream to {@code peer} on one of {@code group}'s loops: the socket's options, TLS as
     * its client and framing, then {@code handler} (named {@code name}) last, which hears the TLS
     * handshake's completion. The future fails if TCP does not connect.
     */
    ChannelFuture dial(EventLoopGroup group, PeerConfig peer, String name, Supplier<ChannelHandler> handler) {
        return new Bootstrap()
                .group(group)
                .channel(EpollSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int)
                        tunnel.getHandshakeTimeout().toMillis())
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel channel) {
                        initDialled(channel, peer);
                        channel.pipeline().addLast(name, handler.get());
                    }
                })
                .connect(peer.address().toSocketAddress());
    }

    /** A stream this side dialled to the peer: TLS as a client of {@code peer}, then framing. */
    void initDialled(Channel channel, PeerConfig peer) {
        tuning.apply(channel);
        SslHandler ssl = tls.client()
                .newHandler(
                        channel.alloc(), peer.address().host(), peer.address().port());
        ssl.setHandshakeTimeoutMillis(tunnel.getHandshakeTimeout().toMillis());
        channel.pipeline().addLast("tls", ssl);
        addFraming(channel);
    }

    /** A stream accepted on the tunnel port: TLS as the server, then framing. */
    void initAccepted(Channel channel) {
        tuning.apply(channel);
        SslHandler ssl = tls.server().newHandler(channel.alloc());
        ssl.setHandshakeTimeoutMillis(tunnel.getHandshakeTimeout().toMillis());
        channel.pipeline().addLast("tls", ssl);
        addFraming(channel);
    }

    /**
     * Why the peer at the other end of a stream this side dialled is not {@code peer} (its
     * certificate names another host, or its fingerprint is not the one the region's record
     * holds), or empty when it is.
     */
    static Optional<String> wrongPeer(SSLSession session, PeerConfig peer) {
        Optional<String> name = TlsContexts.peerName(session);
        if (name.isEmpty() || !name.get().equals(peer.name())) {
            return Optional.of("its certificate names '" + name.orElse("nobody") + "', expected '" + peer.name() + "'");
        }
        Optional<String> fingerprint = TlsContexts.peerFingerprint(session);
        if (!peer.acceptsFingerprint(fingerprint)) {
            return Optional.of("its certificate's fingerprint is " + fingerprint.orElse("none")
                    + ", the region's host record says "
                    + peer.certificateFingerprint().orElse(""));
        }
        return Optional.empty();
    }

    /** Restarts a stream's idle timer (a spare that becomes a session's stream: its silence so far does not count). */
    void renewIdleTimer(Channel channel) {
        channel.pipeline()
                .replace(
                        "idle",
                        "idle",
                        new IdleStateHandler(tunnel.getIdleTimeout().toMillis(), 0, 0, TimeUnit.MILLISECONDS));
    }

    private void addFraming(Channel channel) {
        channel.pipeline()
                .addLast("idle", new IdleStateHandler(tunnel.getIdleTimeout().toMillis(), 0, 0, TimeUnit.MILLISECONDS));
        channel.pipeline()
                .addLast(
                        "frameDecoder",
                        new FrameDecoder(amst.getMaxFramePayload().toIntBytes()));
        channel.pipeline().addLast("frameEncoder", FRAME_ENCODER);
    }
}
