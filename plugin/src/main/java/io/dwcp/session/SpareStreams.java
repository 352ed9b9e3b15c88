package io.dwcp.session;

import static java.util.Objects.requireNonNull;

import io.dwcp.amst.AmstHello;
import io.dwcp.amst.AmstPing;
import io.dwcp.amst.AmstPong;
import io.dwcp.amst.AmstProtocolException;
import io.dwcp.amst.ControlWriter;
import io.dwcp.amst.Frame;
import io.dwcp.amst.FrameCodec;
import io.dwcp.amst.FrameType;
import io.dwcp.amst.SocketTuning;
import io.dwcp.amst.TunnelStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.epoll.EpollTcpInfo;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.timeout.IdleStateEvent;
import java.io.Closeable;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Spare tunnel streams: connections to a peer that are through TCP and TLS (the peer's
 * certificate checked) before a session needs them, so that a migration's first streams start
 * without the two round trips of those handshakes (0.6 s on a 300 ms link).
 *
 * <p>The daemon keeps {@code tunnel.spare-streams} of them to a peer from the moment a migration to
 * it is announced or a session to it starts, until {@code tunnel.spare-linger} after the last of
 * those. A session takes spares before it dials; each one taken is replaced. A spare announces
 * itself with a PING instead of HELLO, then PINGs every third of {@code tunnel.idle-timeout}: the
 * peer answers each with a PONG and holds the connection without a session
 * ({@link TunnelServer}), and a spare whose PONGs stop for {@code tunnel.idle-timeout} is closed
 * and replaced, so a spare a session takes was alive a few seconds before. A taken spare sends
 * HELLO and is then a stream like any other. Re-dials after failures back off from 1 s to 30 s.
 *
 * <p><b>Priming</b> ({@code tunnel.spare-prime}): a new TCP connection starts with a congestion
 * window of ten segments and doubles it once per round trip, so on a 300 ms, 200 Mbit/s path a
 * migration's streams needed about 3 s (ten round trips) before they carried the link's rate. A
 * spare to a peer at least {@code tunnel.spare-prime-min-rtt} away (its connection's lowest RTT;
 * on shorter paths the ramp costs little: no gain measured on 70 and 140 ms) that is ready while
 * no session to its peer runs therefore sends PAD frames, which the peer
 * discards, until the path begins to queue (the smoothed RTT is above 5/4 of the lowest + 2 ms) or
 * loses a packet, BBR leaves its startup (TCP_CC_INFO's pacing gain), 20 round trips passed, or it
 * sent {@code tunnel.spare-prime} bytes: the spares together then carry about the path's
 * bandwidth-delay product, and padding beyond would only fill the bottleneck's queue. An announced
 * migration starts it on ready spares that were not primed yet. It writes a PAD only when less
 * than two are still in Netty's buffer, and the socket's TCP_NOTSENT_LOWAT is 128 KiB meanwhile,
 * so a session that takes the spare finds at most that much padding ahead of its HELLO. A primed
 * spare then PINGs every 150 ms: a connection idle for longer than its retransmission timeout
 * (200 ms at least) would restart from the initial window
 * ({@code net.ipv4.tcp_slow_start_after_idle}), while BBR keeps its window through PINGs alone.
 * The padding never competes with a migration to that peer: it stops as soon as a session to it
 * runs.
 *
 * <p>Thread-safe: a peer's state is guarded by its own lock and its ready spares are a concurrent
 * queue; a spare's handler runs on its channel's event loop, and so does its priming (its fields
 * are the handler's, touched only there); timers run on the event loops.
 */
final class SpareStreams implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(SpareStreams.class);
    private static final long MIN_BACKOFF_MILLIS = 1000;
    private static final long MAX_BACKOFF_MILLIS = 30_000;
    /** A primed spare's PING interval: under the shortest retransmission timeout Linux uses (200 ms). */
    static final long PRIMED_KEEPALIVE_MILLIS = 150;
    /** Round trips after which priming stops even if BBR (or another algorithm) did not say the path is full. */
    static final int PRIME_ROUND_TRIPS = 20;
    /** TCP_NOTSENT_LOWAT while priming: the padding a session's HELLO can find ahead of it in the kernel. */
    static final int PRIME_NOTSENT_LOWAT = 128 * 1024;

    static final int PAD_LENGTH = 32 * 1024;
    /** Smoothed RTT above 5/4 of the lowest plus this: the path queues (margin for jitter and a busy host). */
    static final long QUEUE_MARGIN_MICROS = 2000;

    private static final byte[] PAD = new byte[PAD_LENGTH];
    private static final String SESSION_RUNS = "a session to the peer runs";

    private final TunnelConfig tunnel;
    private final StreamPipeline pipeline;
    private final TunnelStats stats;
    private final EventLoopGroup group;
    private final ControlWriter control;
    private final long primeBytes;
    private final long primeMinRttNanos;
    private final int sessionNotsentLowat;
    private final Predicate<String> sessionRunning;
    private final Map<String, Peer> peers = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /**
     * @param sessionNotsentLowat the TCP_NOTSENT_LOWAT of session streams ({@code
     *     amst.notsent-lowat}, 0: the kernel's), which a primed spare gets back when taken
     * @param sessionRunning whether a source session to the named peer runs now (no priming then)
     */
    SpareStreams(
            TunnelConfig tunnel,
            StreamPipeline pipeline,
            TunnelStats stats,
            EventLoopGroup group,
            int sessionNotsentLowat,
            Predicate<String> sessionRunning) {
        this.tunnel = requireNonNull(tunnel, "tunnel is null");
        this.pipeline = requireNonNull(pipeline, "pipeline is null");
        this.stats = requireNonNull(stats, "stats is null");
        this.group = requireNonNull(group, "group is null");
        this.control = new ControlWriter(stats);
        this.primeBytes = tunnel.getSparePrime().bytes();
        this.primeMinRttNanos = tunnel.getSparePrimeMinRtt().toNanos();
        this.sessionNotsentLowat = sessionNotsentLowat;
        this.sessionRunning = requireNonNull(sessionRunning, "sessionRunning is null");
    }

    /**
     * Keeps spares to {@code peer} from now until {@code tunnel.spare-linger} after the last call
     * (a migration to it announced, a session to it started). Does nothing with
     * {@code tunnel.spare-streams=0}.
     */
    void keep(PeerConfig peer) {
        requireNonNull(peer, "peer is null");
        if (tunnel.getSpareStreams() == 0 || closed) {
            return;
        }
        peers.computeIfAbsent(peer.name(), name -> new Peer()).keep(peer);
    }

    /**
     * Keeps spares to {@code peer} as {@link #keep} does, and primes those ready that are not
     * primed yet (a migration to it was announced: its session comes soon).
     */
    void keepPrimed(PeerConfig peer) {
        keep(peer);
        Peer state = peers.get(peer.name());
        if (state == null || primeBytes == 0) {
            return;
        }
        for (Channel channel : state.ready) {
            SpareHandler handler = channel.pipeline().get(SpareHandler.class);
            if (handler != null) {
                channel.eventLoop().execute(handler::prime);
            }
        }
    }

    /**
     * A spare to {@code peer}, through TLS and alive a keepalive ago, now no longer a spare (a
     * replacement is dialled); empty when there is none. The caller sends HELLO on it.
     */
    Optional<Channel> take(PeerConfig peer) {
        Peer state = peers.get(peer.name());
        if (state == null) {
            return Optional.empty();
        }
        Optional<Channel> taken = state.take(peer);
        taken.ifPresent(channel -> stats.spareStreamsTaken.increment());
        return taken;
    }

    /** The peers spares were kept to since the daemon started (for tests and diagnostics). */
    Set<String> peers() {
        return Set.copyOf(peers.keySet());
    }

    /** Spares ready to {@code peer} now (for tests and diagnostics). */
    int ready(String peer) {
        Peer state = peers.get(peer);
        return state == null ? 0 : state.ready.size();
    }

    /** Closes every spare and dials no more. */
    @Override
    public void close() {
        closed = true;
        for (Peer peer : peers.values()) {
            peer.closeAll();
        }
    }

    /** The spares to one peer. */
    private final class Peer {
        final ConcurrentLinkedDeque<Channel> ready = new ConcurrentLinkedDeque<>();
        // guarded by this
        private PeerConfig config;
        private final Set<Channel> dialling = new HashSet<>();
        private long lingerUntilNanos;
        private long backoffMillis;
        private boolean retryScheduled;
        private boolean warned;

        synchronized void keep(PeerConfig peer) {
            config = peer;
            lingerUntilNanos = System.nanoTime() + tunnel.getSpareLinger().toNanos();
            fill();
        }

        /** A ready spare, no longer one; whether found or not, the peer's spares are kept and refilled. */
        Optional<Channel> take(PeerConfig peer) {
            try {
                Channel channel;
                while ((channel = ready.poll()) != null) {
                    stats.spareStreamsReady.decrementAndGet();
                    SpareHandler handler = channel.pipeline().get(SpareHandler.class);
                    if (channel.isActive() && handler != null) {
                        handler.taken = true;
                        return Optional.of(channel);
                    }
                    // closing: its handler replaces it
                    channel.close();
                }
                return Optional.empty();
            } finally {
                keep(peer);
            }
        }

        /** Dials until ready and dialling spares make tunnel.spare-streams, unless lingering is over or a retry waits. */
        synchronized void fill() {
            if (closed || retryScheduled) {
                return;
            }
            if (lingerOver()) {
                closeAll();
                return;
            }
            // a dial that fails at once schedules a retry: stop there
            while (!retryScheduled && ready.size() + dialling.size() < tunnel.getSpareStreams()) {
                dial();
            }
        }

        private void dial() {
            PeerConfig peer = config;
            ChannelFuture future = pipeline.dial(group, peer, "spare", () -> new SpareHandler(Peer.this, peer));
            dialling.add(future.channel());
            future.addListener(done -> {
                if (!done.isSuccess()) {
                    failed(future.channel(), done.cause().toString());
                }
            });
        }

        /** A spare completed TLS with the right peer, and the peer answered its first PING: it holds it. */
        synchronized boolean ready(Channel channel) {
            if (!dialling.remove(channel) || closed) {
                return false;
            }
            ready.add(channel);
            stats.spareStreamsReady.incrementAndGet();
            backoffMillis = 0;
            warned = false;
            return true;
        }

        /** A spare closed or never came up; it is replaced, after a back-off when it never came up. */
        synchronized void failed(Channel channel, String reason) {
            boolean wasDialling = dialling.remove(channel);
            if (ready.remove(channel)) {
                stats.spareStreamsReady.decrementAndGet();
            }
            if (closed) {
                return;
            }
            if (!wasDialling) {
                log.debug("spare stream to {} closed: {}", config.name(), reason);
                fill();
                return;
            }
            backoffMillis = backoffMillis == 0 ? MIN_BACKOFF_MILLIS : Math.min(MAX_BACKOFF_MILLIS, 2 * backoffMillis);
            if (!warned) {
                warned = true;
                log.warn(
                        "cannot open a spare tunnel stream to {} at {}: {} (retrying every {} s at most)",
                        config.name(),
                        config.address(),
                        reason,
                        MAX_BACKOFF_MILLIS / 1000);
            } else {
                log.debug("cannot open a spare tunnel stream to {}: {}", config.name(), reason);
            }
            if (!retryScheduled) {
                retryScheduled = true;
                group.next().schedule(this::retry, backoffMillis, TimeUnit.MILLISECONDS);
            }
        }

        private synchronized void retry() {
            retryScheduled = false;
            fill();
        }

        synchronized boolean lingerOver() {
            return System.nanoTime() - lingerUntilNanos > 0;
        }

        synchronized void closeAll() {
            Channel channel;
            while ((channel = ready.poll()) != null) {
                stats.spareStreamsReady.decrementAndGet();
                channel.close();
            }
            List<Channel> dialled = List.copyOf(dialling);
            // no longer dialling: their close is no failure to back off from
            dialling.clear();
            for (Channel unfinished : dialled) {
                unfinished.close();
            }
        }
    }

    /** A spare's glue until a session takes it: checks the peer, PINGs it, reads its PONGs. */
    private final class SpareHandler extends ChannelInboundHandlerAdapter {
        private final Peer owner;
        private final PeerConfig peer;
        private ScheduledFuture<?> keepalive;
        // set by the taker just before it removes this handler (on any thread; read on the loop)
        volatile boolean taken;
        // priming, on the channel's loop: its context, the first PING's round trip (used when the
        // kernel does not say the path's), PAD bytes sent, PADs still in Netty's buffer, when it
        // must stop, and whether it is going on or done
        private ChannelHandlerContext context;
        private long rttNanos;
        private long padded;
        private int padsOut;
        private long primeDeadline;
        private boolean priming;
        private boolean primed;

        @Override
        public void handlerAdded(ChannelHandlerContext context) {
            this.context = context;
        }

        SpareHandler(Peer owner, PeerConfig peer) {
            this.owner = owner;
            this.peer = peer;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext context, Object event) {
            if (event instanceof IdleStateEvent) {
                if (!taken) {
                    log.debug("spare stream to {}: no PONG within the idle timeout", peer.name());
                    context.close();
                }
                return;
            }
            if (!(event instanceof SslHandshakeCompletionEvent completion)) {
                context.fireUserEventTriggered(event);
                return;
            }
            if (!completion.isSuccess()) {
                owner.failed(
                        context.channel(),
                        "TLS handshake failed: " + completion.cause().getMessage());
                context.close();
                return;
            }
            Optional<String> wrong = StreamPipeline.wrongPeer(
                    context.pipeline().get(SslHandler.class).engine().getSession(), peer);
            if (wrong.isPresent()) {
                stats.refused("wrong-peer");
                owner.failed(context.channel(), "refused the peer: " + wrong.get());
                context.close();
                return;
            }
            // ready once the peer answers: a peer that holds no more spares closes it instead
            ping(context);
        }

        private void ping(ChannelHandlerContext context) {
            if (!taken && owner.lingerOver()) {
                // no session wanted it for tunnel.spare-linger: its close ends the peer's spares
                context.close();
                return;
            }
            if (!taken && context.channel().isActive()) {
                control.writeUnattached(context.channel(), new AmstPing(System.nanoTime()), false);
            }
        }

        /**
         * Starts or resumes priming, on the channel's loop: only on a ready spare to a peer at
         * least {@code tunnel.spare-prime-min-rtt} away, not taken, not primed yet, with no session
         * to the peer running.
         */
        void prime() {
            if (primeBytes == 0
                    || primed
                    || priming
                    || taken
                    || keepalive == null
                    || !context.channel().isActive()) {
                return;
            }
            // the kernel's lowest RTT of the connection; a first PING's answer also waits for busy hosts
            long pathRtt = TunnelStream.pathMinRttMicros(context.channel()) * 1000;
            if (pathRtt <= 0) {
                pathRtt = rttNanos;
            }
            if (pathRtt < primeMinRttNanos || sessionRunning.test(peer.name())) {
                return;
            }
            priming = true;
            primeDeadline = System.nanoTime() + PRIME_ROUND_TRIPS * Math.max(pathRtt, 1_000_000L);
            // from now on PINGs keep the window open (an idle connection restarts from the initial one)
            keepalive.cancel(false);
            keepalive = context.executor()
                    .scheduleAtFixedRate(
                            () -> ping(context),
                            PRIMED_KEEPALIVE_MILLIS,
                            PRIMED_KEEPALIVE_MILLIS,
                            TimeUnit.MILLISECONDS);
            setNotsentLowat(PRIME_NOTSENT_LOWAT);
            pad();
        }

        /** Writes PADs while priming goes on, at most two in Netty's buffer; ends it when it is done. */
        private void pad() {
            if (!priming || taken) {
                return;
            }
            Channel channel = context.channel();
            Optional<String> done = primingDone(channel);
            if (done.isPresent()) {
                priming = false;
                // one paused for a session may prime later; the others are done
                primed = !done.get().equals(SESSION_RUNS);
                setNotsentLowat(sessionNotsentLowat);
                log.debug("spare stream to {}: {} bytes of padding ({})", peer.name(), padded, done.get());
                return;
            }
            while (padsOut < 2 && padded < primeBytes) {
                padsOut++;
                padded += PAD_LENGTH;
                stats.sparePrimeBytes.add(PAD_LENGTH);
                control.writeUnattached(channel, Frame.control(FrameType.PAD, Unpooled.wrappedBuffer(PAD)))
                        .addListener(written -> {
                            padsOut--;
                            pad();
                        });
            }
        }

        /** Why priming ends now, if it does. */
        private Optional<String> primingDone(Channel channel) {
            if (!channel.isActive()) {
                return Optional.of("closed");
            }
            if (sessionRunning.test(peer.name())) {
                return Optional.of(SESSION_RUNS);
            }
            if (padded >= primeBytes) {
                return Optional.of("tunnel.spare-prime reached");
            }
            if (padded == 0) {
                return Optional.empty(); // the first PADs go whatever the handshake's RTT samples say
            }
            if (SocketTuning.bbrPastStartup(channel).orElse(false)) {
                return Optional.of("BBR found the path full");
            }
            // the path's queue began to grow, or lost a packet: the streams together are at its rate
            Optional<EpollTcpInfo> info = TunnelStream.tcpInfo(channel);
            long minRtt = TunnelStream.pathMinRttMicros(channel);
            if (info.isPresent() && minRtt > 0 && info.get().rtt() > minRtt * 5 / 4 + QUEUE_MARGIN_MICROS) {
                return Optional.of(
                        "the path queues: smoothed RTT " + info.get().rtt() + " us, lowest " + minRtt + " us");
            }
            if (info.isPresent() && info.get().totalRetrans() > 0) {
                return Optional.of("the path lost a packet");
            }
            if (System.nanoTime() - primeDeadline > 0) {
                return Optional.of(PRIME_ROUND_TRIPS + " round trips");
            }
            return Optional.empty();
        }

        private void setNotsentLowat(int bytes) {
            if (context.channel() instanceof EpollSocketChannel socket && socket.isOpen()) {
                try {
                    socket.config().setOption(SocketTuning.NOTSENT_LOWAT, bytes);
                } catch (RuntimeException e) {
                    log.debug("spare stream to {}: cannot set TCP_NOTSENT_LOWAT: {}", peer.name(), e.toString());
                }
            }
        }

        /**
         * Stops the keepalive and the priming: the taker calls it on the channel's loop before it
         * removes this handler. The session's own TCP_NOTSENT_LOWAT applies again.
         */
        void handOver() {
            taken = true;
            if (keepalive != null) {
                keepalive.cancel(false);
            }
            if (priming) {
                priming = false;
                setNotsentLowat(sessionNotsentLowat);
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext context, Object message) {
            Frame frame = (Frame) message;
            try {
                stats.tunnelBytesReceived.add(frame.payloadLength() + FrameCodec.HEADER_LENGTH);
                if (frame.type() != FrameType.PONG) {
                    log.debug("spare stream to {}: unexpected {}", peer.name(), frame.type());
                    context.close();
                    return;
                }
                long rtt = System.nanoTime() - AmstPong.decode(frame.payload()).timestampNanos();
                stats.pingRtt(peer.name(), rtt);
                if (keepalive == null && !taken) {
                    if (!owner.ready(context.channel())) {
                        context.close();
                        return;
                    }
                    rttNanos = rtt;
                    long every = Math.max(1, tunnel.getIdleTimeout().toMillis() / 3);
                    keepalive = context.executor()
                            .scheduleAtFixedRate(() -> ping(context), every, every, TimeUnit.MILLISECONDS);
                    prime();
                }
            } catch (AmstProtocolException e) {
                log.debug("spare stream to {}: {}", peer.name(), e.getMessage());
                context.close();
            } finally {
                frame.release();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext context) {
            if (keepalive != null) {
                keepalive.cancel(false);
            }
            owner.failed(
                    context.channel(),
                    keepalive == null
                            ? "closed before the peer answered its PING (the peer may hold no more spares:"
                                    + " its tunnel.max-spare-connections)"
                            : "connection closed");
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
            log.debug("spare stream to {}: {}", peer.name(), cause.toString());
            context.close();
        }
    }

    /**
     * Makes a taken spare stream {@code index} of {@code session}, on the spare's event loop:
     * stops its keepalive, gives it a fresh idle timer and the session's handler, and lets the
     * session send HELLO on it. Returns false (and closes nothing) when the spare closed meanwhile.
     */
    boolean handOver(Channel channel, Session session, int index, AmstHello hello) {
        SpareHandler handler = channel.pipeline().get(SpareHandler.class);
        if (handler == null || !channel.isActive()) {
            return false;
        }
        handler.handOver();
        channel.pipeline().remove(handler);
        pipeline.renewIdleTimer(channel);
        TunnelStream stream = new TunnelStream(index, channel);
        channel.pipeline().addLast("stream", new TunnelStreamHandler(session, stream));
        session.run(() -> session.streamConnected(stream, hello));
        return true;
    }
}
