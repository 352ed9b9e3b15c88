package io.dwcp.session;

import static java.util.Objects.requireNonNull;

import io.dwcp.amst.AmstConfig;
import io.dwcp.amst.AmstHello;
import io.dwcp.amst.TunnelStream;
import io.dwcp.codec.CodecThreads;
import io.dwcp.node.NodeConfig;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import jakarta.inject.Inject;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.security.SecureRandom;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Creates, finds and forgets sessions; opens their tunnel streams and destination QEMU connections. */
public final class SessionManager implements SessionHost {
    private static final Logger log = LoggerFactory.getLogger(SessionManager.class);
    /** Reads from QEMU grow to 256 KiB: fewer, fuller frames and checkpoints when QEMU streams fast. */
    static final io.netty.channel.AdaptiveRecvByteBufAllocator QEMU_READS =
            new io.netty.channel.AdaptiveRecvByteBufAllocator(4096, 64 * 1024, 256 * 1024);

    private final NodeConfig node;
    private final TunnelConfig tunnel;
    private final AmstConfig amst;
    private final StreamPipeline pipeline;
    private final TunnelStats stats;
    private final EventLoopGroup group;
    private final SessionSettings settings;
    private final SpareStreams spares;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();
    private final List<Consumer<Session>> sessionListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final List<Consumer<Session>> openListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final List<Consumer<Session>> endListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Inject
    public SessionManager(
            NodeConfig node,
            TunnelConfig tunnel,
            AmstConfig amst,
            StreamPipeline pipeline,
            TunnelStats stats,
            CodecSelection codecs,
            CodecThreads codecThreads,
            EventLoopGroup group) {
        this.node = requireNonNull(node, "node is null");
        this.tunnel = requireNonNull(tunnel, "tunnel is null");
        this.amst = requireNonNull(amst, "amst is null");
        this.pipeline = requireNonNull(pipeline, "pipeline is null");
        this.stats = requireNonNull(stats, "stats is null");
        this.group = requireNonNull(group, "group is null");
        this.spares = new SpareStreams(
                tunnel,
                pipeline,
                stats,
                group,
                (int) amst.getNotsentLowat().bytes(),
                peer -> sessions.values().stream()
                        .anyMatch(session -> session.role() == Session.Role.SOURCE
                                && session.peer().name().equals(peer)));
        this.settings = new SessionSettings(
                node.getName(),
                tunnel,
                amst,
                stats,
                requireNonNull(codecs, "codecs is null"),
                requireNonNull(codecThreads, "codecThreads is null")::newLane);
    }

    /** Called with every new session, on the thread that creates it (an event loop: keep it short). */
    public void addSessionListener(Consumer<Session> listener) {
        sessionListeners.add(requireNonNull(listener, "listener is null"));
    }

    /**
     * Called with every session that ended (completed or failed: {@link Session#state()}), on its
     * event loop once it let go of its streams and buffers: keep it short, never block.
     */
    public void addSessionEndListener(Consumer<Session> listener) {
        endListeners.add(requireNonNull(listener, "listener is null"));
    }

    private void started(Session session) {
        for (Consumer<Session> listener : sessionListeners) {
            listener.accept(session);
        }
    }

    /**
     * Called with every destination session once its OPEN arrived (its {@link Session#migrationId()}
     * and {@link Session#vm()} are then known), on the session's event loop: keep it short.
     */
    public void addOpenListener(Consumer<Session> listener) {
        openListeners.add(requireNonNull(listener, "listener is null"));
    }

    @Override
    public void opened(Session session) {
        for (Consumer<Session> listener : openListeners) {
            listener.accept(session);
        }
    }

    public Collection<Session> sessions() {
        return List.copyOf(sessions.values());
    }

    private static String key(String peer, long id) {
        return peer + "/" + Long.toHexString(id);
    }

    /** A new source session towards the peer carrying {@code vm} ("" if unknown), or empty when too many sessions are open. */
    Optional<Session> newSourceSession(PeerConfig peer, Target target, String vm) {
        if (sessions.size() >= tunnel.getMaxSessions()) {
            return Optional.empty();
        }
        long id = random.nextLong() & Long.MAX_VALUE;
        // the session's first streams take spares; from now the peer has them for the next one
        spares.keep(peer);
        Session session = new Session(
                settings,
                this,
                id,
                Session.Role.SOURCE,
                peer,
                group.next(),
                target,
                vm,
                amst.getWindow().bytes());
        sessions.put(key(peer.name(), id), session);
        stats.sessionsStarted.increment();
        started(session);
        session.run(session::start);
        return Optional.of(session);
    }

    /** The destination session a HELLO names, created on its first stream; empty when too many are open. */
    synchronized Optional<Session> destinationSession(PeerConfig peer, long id, long window) {
        Session existing = sessions.get(key(peer.name(), id));
        if (existing != null) {
            return Optional.of(existing);
        }
        if (sessions.size() >= tunnel.getMaxSessions()) {
            return Optional.empty();
        }
        Session session =
                new Session(settings, this, id, Session.Role.DESTINATION, peer, group.next(), null, "", window);
        sessions.put(key(peer.name(), id), session);
        stats.sessionsStarted.increment();
        started(session);
        session.run(session::start);
        return Optional.of(session);
    }

    private volatile String lastFailure;

    @Override
    public void failed(Session session, String reason) {
        lastFailure = session.context() + " " + reason;
    }

    /** The context and reason of the last session that failed here, or null (for tests and diagnostics). */
    public String lastFailure() {
        return lastFailure;
    }

    /** Sessions that ended here, newest last (bounded): a late stream of one must not start it again. */
    private final Map<String, String> ended =
            java.util.Collections.synchronizedMap(new java.util.LinkedHashMap<>(16, 0.75f, false) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
                    return size() > 4096;
                }
            });

    /** Empty if the session did not end here; else its failure reason, or "" if it completed. */
    Optional<String> ended(PeerConfig peer, long id) {
        return Optional.ofNullable(ended.get(key(peer.name(), id)));
    }

    @Override
    public void removed(Session session) {
        ended.put(key(session.peer().name(), session.id()), session.failure().orElse(""));
        sessions.remove(key(session.peer().name(), session.id()));
        for (Consumer<Session> listener : endListeners) {
            try {
                listener.accept(session);
            } catch (RuntimeException e) {
                log.warn("{} a listener of the session's end failed: {}", session.context(), e.toString());
            }
        }
    }

    /** Opens stream {@code index} of a source session: TCP, TLS (peer must be who we dialled), HELLO. */
    @Override
    public void connectStream(Session session, int index, Consumer<Throwable> onFailure) {
        PeerConfig peer = session.peer();
        Optional<Channel> spare = spares.take(peer);
        if (spare.isPresent()) {
            Channel channel = spare.get();
            channel.eventLoop().execute(() -> {
                if (!spares.handOver(channel, session, index, hello(session, index))) {
                    // it closed since: dial instead
                    dial(session, index, onFailure);
                }
            });
            return;
        }
        dial(session, index, onFailure);
    }

    /**
     * Keeps spare streams to {@code peer} ({@code tunnel.spare-streams}) for the next
     * {@code tunnel.spare-linger}: a migration to it was announced.
     */
    public void keepSpareStreams(PeerConfig peer) {
        spares.keepPrimed(peer);
    }

    /** The peers spare streams are kept to (for tests and diagnostics). */
    public java.util.Set<String> spareStreamPeers() {
        return spares.peers();
    }

    /** Spare streams ready to {@code peer} now (for tests and diagnostics). */
    public int spareStreamsReady(String peer) {
        return spares.ready(peer);
    }

    /** The HELLO that makes a connection stream {@code index} of {@code session}. */
    private AmstHello hello(Session session, int index) {
        return new AmstHello(session.id(), index, amst.getWindow().bytes());
    }

    private void dial(Session session, int index, Consumer<Throwable> onFailure) {
        ChannelFuture future =
                pipeline.dial(group, session.peer(), "handshake", () -> new ClientHandshake(session, index, onFailure));
        future.addListener(done -> {
            if (!done.isSuccess()) {
                onFailure.accept(done.cause());
            }
        });
    }

    /** Connects to the destination QEMU, retrying until the deadline; the callback gets null on failure. */
    @Override
    public void connectToQemu(Session session, Target target, int index, long deadlineNanos, Consumer<Channel> result) {
        SocketAddress address = address(target);
        Bootstrap bootstrap = new Bootstrap()
                .group(session.loop())
                .channel(target.kind() == Target.Kind.UNIX ? EpollDomainSocketChannel.class : EpollSocketChannel.class)
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.RECVBUF_ALLOCATOR, QEMU_READS)
                .handler(Channels.NO_OP);
        if (target.kind() == Target.Kind.TCP) {
            bootstrap.option(ChannelOption.TCP_NODELAY, true);
        }
        bootstrap.connect(address).addListener((ChannelFuture done) -> {
            if (done.isSuccess()) {
                result.accept(done.channel());
            } else if (System.nanoTime() < deadlineNanos && session.state() == Session.State.OPEN) {
                log.debug(
                        "{} destination QEMU at {} not ready: {}",
                        session.context(),
                        describe(target),
                        done.cause().toString());
                session.loop()
                        .schedule(
                                () -> connectToQemu(session, target, index, deadlineNanos, result),
                                100,
                                TimeUnit.MILLISECONDS);
            } else {
                result.accept(null);
            }
        });
    }

    SocketAddress address(Target target) {
        return switch (target.kind()) {
            case UNIX -> new DomainSocketAddress(node.peerSocket(target.value()).toFile());
            case TCP ->
                new InetSocketAddress(
                        tunnel.getIncomingQemuHost(),
                        Integer.parseInt(target.value()) + tunnel.getIncomingPortOffset());
        };
    }

    @Override
    public String describe(Target target) {
        return switch (target.kind()) {
            case UNIX -> "unix:" + node.peerSocket(target.value());
            case TCP ->
                "tcp:" + tunnel.getIncomingQemuHost() + ":"
                        + (Integer.parseInt(target.value()) + tunnel.getIncomingPortOffset());
        };
    }

    /** Fails every session (daemon shutdown), telling the peers; waits up to two seconds. */
    public void closeAll() {
        spares.close();
        List<io.netty.util.concurrent.Future<?>> aborts = new java.util.ArrayList<>();
        for (Session session : sessions()) {
            aborts.add(session.abort("dwcpd is shutting down"));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        for (io.netty.util.concurrent.Future<?> abort : aborts) {
            abort.awaitUninterruptibly(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
    }

    /** The source side of the stream set-up: checks the server's identity, sends HELLO. */
    private final class ClientHandshake extends ChannelInboundHandlerAdapter {
        private final Session session;
        private final int index;
        private final Consumer<Throwable> onFailure;
        private boolean settled;

        private ClientHandshake(Session session, int index, Consumer<Throwable> onFailure) {
            this.session = session;
            this.index = index;
            this.onFailure = onFailure;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext context, Object event) {
            if (!(event instanceof SslHandshakeCompletionEvent completion)) {
                context.fireUserEventTriggered(event);
                return;
            }
            PeerConfig peer = session.peer();
            if (!completion.isSuccess()) {
                String message = "{} cannot open tunnel stream {} to {} at {}: TLS handshake failed: {} (retrying)";
                if (session.firstStreamSetupFailure()) {
                    log.warn(
                            message,
                            session.context(),
                            index,
                            peer.name(),
                            peer.address(),
                            completion.cause().getMessage());
                } else {
                    log.debug(
                            message,
                            session.context(),
                            index,
                            peer.name(),
                            peer.address(),
                            completion.cause().getMessage());
                }
                settle(context, completion.cause());
                return;
            }
            Optional<String> wrong = StreamPipeline.wrongPeer(
                    context.pipeline().get(SslHandler.class).engine().getSession(), peer);
            if (wrong.isPresent()) {
                String message = "{} refused tunnel peer {} at {}: {}";
                if (session.firstStreamSetupFailure()) {
                    log.error(message, session.context(), peer.name(), peer.address(), wrong.get());
                } else {
                    log.debug(message, session.context(), peer.name(), peer.address(), wrong.get());
                }
                stats.refused("wrong-peer");
                settle(context, new IllegalStateException("wrong peer: " + wrong.get()));
                return;
            }
            settled = true;
            Channel channel = context.channel();
            TunnelStream stream = new TunnelStream(index, channel);
            context.pipeline().replace(this, "stream", new TunnelStreamHandler(session, stream));
            AmstHello hello = hello(session, index);
            session.run(() -> session.streamConnected(stream, hello));
        }

        private void settle(ChannelHandlerContext context, Throwable cause) {
            if (!settled) {
                settled = true;
                onFailure.accept(cause);
            }
            context.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext context) {
            if (!settled) {
                settled = true;
                onFailure.accept(new IllegalStateException("closed before the TLS handshake completed"));
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
            log.debug("{} stream {} set-up: {}", session.context(), index, cause.toString());
            settle(context, cause);
        }
    }
}
