package io.dwcp.session;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import com.google.inject.multibindings.MapBinder;
import com.google.inject.multibindings.Multibinder;
import io.dwcp.codec.CodecMode;
import io.dwcp.codec.CodecThreads;
import io.dwcp.codec.IdentityStreamCodec;
import io.dwcp.codec.PassthroughSessionCodecs;
import io.dwcp.codec.SessionCodecs;
import io.dwcp.codec.StreamCodec;
import io.dwcp.codec.TokenizingStreamCodec;
import io.dwcp.metrics.MetricsSource;
import io.dwcp.tls.TlsConfig;
import io.dwcp.tls.TlsContexts;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import org.slf4j.LoggerFactory;

/** The tunnel: event loops (epoll), TLS, sessions, the tunnel port, the QEMU listeners and its metrics. */
public final class TunnelModule extends AbstractModule {
    @Override
    protected void configure() {
        bind(TunnelStats.class).in(Singleton.class);
        bind(SessionManager.class).in(Singleton.class);
        bind(TunnelServer.class).in(Singleton.class);
        bind(QemuListeners.class).in(Singleton.class);
        bind(CodecSelection.class).in(Singleton.class);
        // the session codecs of each codec.mode, which CodecSelection picks from; HdeModule binds HDE's
        MapBinder.newMapBinder(binder(), CodecMode.class, SessionCodecs.class)
                .addBinding(CodecMode.PASSTHROUGH)
                .to(PassthroughSessionCodecs.class);
        Multibinder.newSetBinder(binder(), MetricsSource.class).addBinding().to(TunnelMetrics.class);
    }

    /** The codec of {@code codec.mode = passthrough}: tokenized at the source (statistics) or not at all. */
    @Provides
    @Singleton
    public static StreamCodec streamCodec(TunnelConfig config) {
        return config.isTokenizeSource() ? new TokenizingStreamCodec() : new IdentityStreamCodec();
    }

    /** The daemon's codec threads: {@code tunnel.codec-threads}, 0 = one per core. */
    @Provides
    @Singleton
    public static CodecThreads codecThreads(TunnelConfig config) {
        return new CodecThreads(
                config.getCodecThreads() == 0 ? Runtime.getRuntime().availableProcessors() : config.getCodecThreads());
    }

    @Provides
    @Singleton
    public static EventLoopGroup eventLoopGroup(TunnelConfig config) {
        if (!Epoll.isAvailable()) {
            throw new IllegalStateException(
                    "dwcpd needs Linux epoll (Netty native transport): " + Epoll.unavailabilityCause());
        }
        int threads =
                config.getIoThreads() == 0 ? 2 * Runtime.getRuntime().availableProcessors() : config.getIoThreads();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(
                threads, new DefaultThreadFactory("dwcpd-io", true), EpollIoHandler.newFactory());
        // Netty starts a loop's thread with its first task: start them all now, so that the daemon's
        // thread count is its working level from the start, not after the first sessions
        for (EventExecutor loop : group) {
            loop.execute(() -> {});
        }
        return group;
    }

    @Provides
    @Singleton
    public static TlsContexts tlsContexts(TlsConfig config) {
        TlsContexts contexts = new TlsContexts(config);
        LoggerFactory.getLogger(TunnelModule.class)
                .info(
                        "tunnel TLS: {} (tls.provider={})",
                        contexts.provider() == SslProvider.OPENSSL ? "BoringSSL" : "the JDK's engine",
                        config.getProvider());
        return contexts;
    }
}
