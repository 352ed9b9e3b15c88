package io.dwcp.session;

import static java.util.Objects.requireNonNull;

import io.dwcp.amst.AmstAbort;
import io.dwcp.amst.AmstAccept;
import io.dwcp.amst.AmstAck;
import io.dwcp.amst.AmstCheckpoint;
import io.dwcp.amst.AmstFin;
import io.dwcp.amst.AmstFrameListener;
import io.dwcp.amst.AmstFrameReader;
import io.dwcp.amst.AmstHello;
import io.dwcp.amst.AmstOpen;
import io.dwcp.amst.AmstPing;
import io.dwcp.amst.AmstPong;
import io.dwcp.amst.AmstProtocolException;
import io.dwcp.amst.Frame;
import io.dwcp.amst.FrameSender;
import io.dwcp.amst.FrameType;
import io.dwcp.amst.LinkMonitor;
import io.dwcp.amst.RawWindow;
import io.dwcp.amst.Receiver;
import io.dwcp.amst.ReorderBuffer;
import io.dwcp.amst.TunnelStream;
import io.dwcp.codec.SourceCodec;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One migration: the QEMU connections of one migration (main channel first, then multifd and
 * other channels, in the order the source accepted them) and the tunnel streams carrying them.
 *
 * <p>A session starts at the source when QEMU connects to a listener with no joinable session,
 * and every connection accepted on that listener while the session's main channel (its first)
 * has not ended joins it. When the main channel's stream ended, the migration is over: a later
 * connection starts a new session. The session ends when every channel ended in both directions
 * and all frames were acknowledged, or fails (both ends close every QEMU connection).
 *
 * <p>Its state is owned by one event loop ({@link #run}): the stream and QEMU handlers hop here.
 * Its codec (encoders, decoders, digests, the codec handshake's heavy half) runs on its codec lane
 * ({@link #onLane}): one task at a time, in order, on the daemon's codec threads; a lane task hands
 * its results back with {@link #run}. The control socket and the metrics endpoint read its counters,
 * state and failure from their own threads (volatile fields, adders, copy-on-write lists).
 */
public final class Session {
    private static final Logger log = LoggerFactory.getLogger(Session.class);

    public enum Role {
        SOURCE,
        DESTINATION
    }

    public enum State {
        OPEN,
        COMPLETED,
        FAILED
    }

    private final SessionSettings settings;
    private final SessionHost host;
    private final long id;
    private final Role role;
    private final PeerConfig peer;
    private final EventLoop loop;
    // the codec's thread of control: tasks one at a time, in submission order (see CodecThreads)
    private final Executor lane;
    // lane-confined: the codec was closed, later lane tasks only release what they were given
    private boolean codecClosed;
    private final FrameSender sender;
    private final AmstFrameListener frames = new PeerFrames();
    private final Receiver receiver;
    private final String context;
    private final Map<Integer, QemuChannel> channels = new TreeMap<>();
    private final AtomicInteger channelCount = new AtomicInteger();
    private final List<ScheduledFuture<?>> timers = new ArrayList<>();
    private final long startNanos = System.nanoTime();
    private final long startMillis = System.currentTimeMillis();
    // this session's own byte counts, for the control socket (TunnelStats counts the whole daemon)
    private final java.util.concurrent.atomic.LongAdder qemuBytesRead = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder qemuBytesWritten = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder tunnelBytesReceived =
            new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder retiredStreamBytesSent =
            new java.util.concurrent.atomic.LongAdder();

    private final java.util.concurrent.atomic.AtomicLong queuedFromQemu = new java.util.concurrent.atomic.AtomicLong();
    private final long queueLimit;
    private volatile State state = State.OPEN;
    private volatile boolean joinable = true;
    private volatile String failure;
    private Target target;
    // the announced migration this session carries and its VM's domain name: the source's fixed at
    // creation (the migration whose own socket it came through), the destination's set once by OPEN
    private volatile Optional<String> migrationId;
    private volatile Optional<String> vm;
    // bytes of this direction's stream the peer wrote into its QEMU (from its ACKs)
    private long peerDelivered;
    private boolean ackScheduled;
    private boolean reading = true;
    private long lastStreamNanos = System.nanoTime();

    // bytes read from QEMU and not yet in the peer's QEMU: follows the measured delivery rate (downtime bound)
    private final RawWindow rawWindow;
    // TCP_INFO and acknowledgements -> the link's figures (the source's controller; both ends' min RTT)
    private final LinkMonitor link;

    // what only one role does: exactly one of the two is set
    private final SourceSide source;
    private final DestinationSide destination;

    /** {@code vm}: a source session's VM (its announced migration's domain name), "" if unknown; "" for a destination. */
    Session(
            SessionSettings settings,
            SessionHost host,
            long id,
            Role role,
            PeerConfig peer,
            EventLoop loop,
            Target target,
            String vm,
            long window) {
        this.settings = requireNonNull(settings, "settings is null");
        this.host = requireNonNull(host, "host is null");
        this.id = id;
        this.role = requireNonNull(role, "role is null");
        this.peer = requireNonNull(peer, "peer is null");
        this.loop = requireNonNull(loop, "loop is null");
        this.lane = requireNonNull(settings.lanes().get(), "lane is null");
        this.target = target;
        this.migrationId = target == null ? Optional.empty() : target.migrationId();
        this.vm = requireNonNull(vm, "vm is null").isEmpty() ? Optional.empty() : Optional.of(vm);
        // both directions use the window the source announced (the destination checked it against its limit)
        this.sender = new FrameSender(window, settings.stats());
        this.receiver =
                new Receiver(window, settings.amst().getMaxFramePayload().toIntBytes());
        this.context = String.format(
                "[session=%016x peer=%s role=%s]", id, peer.name(), role.name().toLowerCase(java.util.Locale.ROOT));
        // bytes read from QEMU but not yet taken by this loop; small against the window
        this.queueLimit = Math.max(1 << 20, window / 16);
        this.rawWindow = new RawWindow(
                settings.amst().getRawWindow().bytes(),
                Math.min(
                        settings.amst().getRawWindow().bytes(),
                        2 * settings.amst().getCheckpointInterval().bytes()),
                settings.amst().getSwitchoverDrain().toNanos());
        this.link = new LinkMonitor(
                startNanos, Math.max(1, settings.amst().getAdaptInterval().toNanos()));
        this.source = role == Role.SOURCE ? new SourceSide(this, settings, host) : null;
        this.destination = role == Role.DESTINATION ? new DestinationSide(this, settings, host) : null;
        this.reading = codecReady();
    }

    // ---- identity and state ----

    public long id() {
        return id;
    }

    public Role role() {
        return role;
    }

    public PeerConfig peer() {
        return peer;
    }

    /**
     * The announced migration this session carries: at the source, the one through whose own
     * socket it came; at the destination, the one its OPEN named (empty before OPEN). Empty for a
     * migration through the peer's socket.
     */
    public Optional<String> migrationId() {
        return migrationId;
    }

    /**
     * The domain name of the VM this session carries, as the source was told (the announced
     * migration's domain; at the destination, from OPEN). Empty when not told, and at the
     * destination before OPEN.
     */
    public Optional<String> vm() {
        return vm;
    }

    public State state() {
        return state;
    }

    public Optional<String> failure() {
        return Optional.ofNullable(failure);
    }

    public String context() {
        return context;
    }

    EventLoop loop() {
        return loop;
    }

    FrameSender sender() {
        return sender;
    }

    TunnelStats stats() {
        return settings.stats();
    }

    /** Whether a connection accepted now joins this session (its main channel has not ended). */
    boolean isJoinable() {
        return joinable && state == State.OPEN;
    }

    /** The first failure to set up a stream is worth a WARN; the retries are not. */
    boolean firstStreamSetupFailure() {
        return source != null && source.pool().firstSetupFailure();
    }

    int reserveChannelIndex() {
        return channelCount.getAndIncrement();
    }

    /** Snapshot of the live streams, for metrics (any thread; best effort). */
    public List<TunnelStream> streamsSnapshot() {
        return List.copyOf(sender.streams());
    }

    public int desiredStreams() {
        return source == null ? 0 : source.pool().desired();
    }

    public long inFlight() {
        return sender.inFlight();
    }

    // ---- this session's counters (any thread; best effort, like the metrics) ----

    public long startMillis() {
        return startMillis;
    }

    /** Bytes read from the local QEMU connections (the guest's migration stream, before encoding). */
    public long qemuBytesRead() {
        return qemuBytesRead.sum();
    }

    /** Bytes written to the local QEMU connections. */
    public long qemuBytesWritten() {
        return qemuBytesWritten.sum();
    }

    /** Source: what the session's encoding reused of the destination's baselines; {@link SourceCodec.Reuse#NONE} otherwise. */
    public SourceCodec.Reuse reuse() {
        SourceCodec codec = source == null ? null : source.codec();
        return codec == null ? SourceCodec.Reuse.NONE : codec.reuse();
    }

    /** Frame bytes sent on this session's tunnel streams, re-sends and control frames included. */
    public long tunnelBytesSent() {
        long bytes = retiredStreamBytesSent.sum();
        for (TunnelStream stream : sender.streams()) {
            bytes += stream.bytesSent();
        }
        return bytes;
    }

    public long tunnelBytesReceived() {
        return tunnelBytesReceived.sum();
    }

    void countQemuRead(int bytes) {
        qemuBytesRead.add(bytes);
    }

    void countQemuWritten(int bytes) {
        qemuBytesWritten.add(bytes);
        // the peer's raw window opens by what reached QEMU here
        scheduleAck();
    }

    void countTunnelReceived(long bytes) {
        tunnelBytesReceived.add(bytes);
    }

    /** Runs the task on the session's event loop. */
    void run(Runnable task) {
        if (loop.inEventLoop()) {
            guarded(task);
        } else {
            loop.execute(() -> guarded(task));
        }
    }

    /**
     * Runs codec work on this session's codec lane, after every lane task given before; a
     * {@link RuntimeException} it throws fails the session (on its loop). The task hands its
     * results to the loop with {@link #run}.
     */
    void onLane(Runnable task) {
        try {
            lane.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    run(() -> {
                        throw e;
                    });
                }
            });
        } catch (RejectedExecutionException e) {
            run(() -> fail("the codec threads stopped (dwcpd is shutting down)", true));
        }
    }

    /** On the lane: whether the codec was closed (a task then only releases its buffers). */
    boolean codecClosed() {
        return codecClosed;
    }

    private void guarded(Runnable task) {
        try {
            task.run();
        } catch (SessionFailure e) {
            fail(e.getMessage(), true);
        } catch (AmstProtocolException e) {
            fail("protocol error from the peer: " + e.getMessage(), true);
        } catch (ReorderBuffer.ReorderOverflowException e) {
            fail("peer broke the window: " + e.getMessage(), true);
        } catch (RuntimeException e) {
            log.error("{} internal error", context, e);
            fail("internal error: " + e, true);
        }
    }

    // ---- start ----

    void start() {
        long keepalive = settings.tunnel().getKeepaliveInterval().toNanos();
        timers.add(loop.scheduleWithFixedDelay(() -> guarded(this::tick), keepalive, keepalive, TimeUnit.NANOSECONDS));
        if (source != null) {
            source.start(target, vm.orElse(""));
        }
    }

    /** Runs the task on this session's loop after a delay, guarded. */
    void schedule(Runnable task, long delayNanos) {
        loop.schedule(() -> guarded(task), delayNanos, TimeUnit.NANOSECONDS);
    }

    /** Runs the task on this session's loop every {@code periodNanos} until the session ends, guarded. */
    void scheduleAtFixedDelay(Runnable task, long periodNanos) {
        timers.add(loop.scheduleWithFixedDelay(() -> guarded(task), periodNanos, periodNanos, TimeUnit.NANOSECONDS));
    }

    /** Whether the codec may run: always at the destination; at the source once the destination answered. */
    private boolean codecReady() {
        return source == null || source.codecReady();
    }

    // ---- QEMU side ----

    /**
     * Source: a QEMU connection accepted on the session's listener, called in accept order (so the
     * CHANNEL_OPENs are in that order); the connection may not be registered yet, it starts
     * reading in {@link #qemuChannelActive}.
     */
    void addSourceChannel(QemuChannel qemu, Channel channel) {
        if (state != State.OPEN) {
            Channels.close(channel);
            return;
        }
        channels.put(qemu.index(), qemu);
        qemu.attach(channel);
        if (source.opened()) {
            sender.send(FrameType.CHANNEL_OPEN, qemu.index(), Unpooled.EMPTY_BUFFER);
        }
        // else: sent after the OPEN, once the lane made the codec (openChannels)
        log.info("{} QEMU connection {} joined{}", context, qemu.index(), qemu.index() == 0 ? ": main channel" : "");
    }

    /** Source: OPEN went; the CHANNEL_OPENs of the connections accepted before follow it, in order. */
    void openChannels() {
        for (QemuChannel qemu : channels.values()) {
            sender.send(FrameType.CHANNEL_OPEN, qemu.index(), Unpooled.EMPTY_BUFFER);
        }
    }

    void qemuChannelActive(QemuChannel qemu) {
        Channel channel = qemu.channel();
        if (state == State.OPEN && channel != null && !qemu.isInboundEnded()) {
            channel.config().setAutoRead(false);
            updateReading();
        }
    }

    QemuChannel newChannel(int index) {
        // created on the lane at the channel's first codec task: the source's encoders start once
        // the destination answered (QEMU is not read before), the destination's codec is made there
        return new QemuChannel(
                this,
                index,
                () -> source != null
                        ? source.codec().newEncoder(index)
                        : destination.codec().newEncoder(index),
                () -> source != null
                        ? source.codec().newDecoder(index)
                        : destination.codec().newDecoder(index),
                settings.amst().getCheckpointInterval().bytes(),
                settings.amst().getMaxFramePayload().toIntBytes());
    }

    void logChannelSummary(int channel, String summary) {
        log.info("{} QEMU connection {} ended: {}", context, channel, summary);
    }

    void qemuEnded(QemuChannel channel) {
        channel.fromQemuEnded();
        if (channel.index() == 0) {
            joinable = false;
        }
        updateReading();
        checkDone();
    }

    /**
     * QEMU closed the connection. QEMU does not half-close its migration sockets: a clean close
     * ends its stream (FIN), and nothing more can be delivered to it; an error (reset) fails the
     * session, except where the destination QEMU reset a multifd connection (see
     * {@link #mayEndEarly}).
     */
    void qemuClosed(QemuChannel channel, Throwable error) {
        if (state != State.OPEN) {
            return;
        }
        if (!channel.isInboundEnded()) {
            if (error != null) {
                if (!mayEndEarly(channel)) {
                    throw new SessionFailure("QEMU connection " + channel.index() + " failed: " + error.getMessage());
                }
                log.warn(
                        "{} destination QEMU reset connection {} ({}); the rest of its stream is dropped",
                        context,
                        channel.index(),
                        error.getMessage());
            }
            qemuEnded(channel);
        }
        channel.markOutboundBroken();
        checkDone();
    }

    void qemuWriteFailed(QemuChannel channel, Throwable cause) {
        if (state != State.OPEN) {
            return;
        }
        if (role == Role.DESTINATION) {
            log.debug("{} write to destination QEMU connection {} failed", context, channel.index(), cause);
            if (!mayEndEarly(channel)) {
                throw new SessionFailure("destination QEMU connection " + channel.index() + " failed: " + cause);
            }
            // the connection's close follows
            log.warn(
                    "{} destination QEMU connection {} no longer accepts bytes ({}); the rest of its stream is dropped",
                    context,
                    channel.index(),
                    cause.toString());
            return;
        }
        // the source QEMU closed its socket: what it no longer reads is dropped, as without dwcpd
        log.debug(
                "{} source QEMU connection {} no longer accepts return-path bytes: {}",
                context,
                channel.index(),
                cause.toString());
    }

    /**
     * Whether the QEMU may end this connection before the whole stream reached it: a destination's
     * multifd connection. The destination QEMU tears its multifd channels down as soon as the main
     * channel says the migration is complete, and may close one with a tail it no longer needs
     * unread (a reset), or before that tail arrives; over a direct connection the source QEMU would
     * see that only if it still wrote. The migration's outcome is the QEMU's to decide, on the main
     * channel: such a tail is dropped and counted, and the main channel still fails the session if
     * its own stream cannot be delivered.
     */
    boolean mayEndEarly(QemuChannel channel) {
        return role == Role.DESTINATION && channel.index() != 0;
    }

    /** Counts bytes read from QEMU on its own loop; true when that connection must stop reading. */
    boolean queueFromQemu(int bytes) {
        return queuedFromQemu.addAndGet(bytes) >= queueLimit;
    }

    void dequeueFromQemu(int bytes) {
        queuedFromQemu.addAndGet(-bytes);
    }

    /**
     * Reads a QEMU connection only while the session's window has room, some stream takes bytes,
     * the codec lane keeps up with what was read, and less than the connection's raw window
     * ({@link #channelRawWindow}) of it is not yet in the peer's QEMU.
     */
    void updateReading() {
        boolean open =
                state == State.OPEN && codecReady() && sender.canAcceptMore() && queuedFromQemu.get() < queueLimit;
        long limit = channelRawWindow();
        boolean any = false;
        for (QemuChannel channel : channels.values()) {
            Channel netty = channel.channel();
            boolean read = open && !channel.isInboundEnded() && channel.undelivered() < limit;
            any |= read;
            if (netty != null && netty.isRegistered() && !channel.isInboundEnded()) {
                // also re-enables a connection that paused itself for the queue limit
                if (netty.config().isAutoRead() != read) {
                    netty.config().setAutoRead(read);
                    if (!read) {
                        // let the receiver release what it holds back, or a full window could wait forever for a
                        // checkpoint
                        channel.fromQemuPaused();
                    }
                }
            }
        }
        boolean shouldRead = open && (any || channels.isEmpty());
        if (shouldRead != reading) {
            reading = shouldRead;
            if (!reading) {
                link.readingPaused(System.nanoTime());
                for (QemuChannel channel : channels.values()) {
                    channel.fromQemuPaused();
                }
            } else {
                link.readingResumed(System.nanoTime());
            }
        }
    }

    /** Whether QEMU connection {@code channel} is read now (see {@link #updateReading}); for tests. */
    boolean reads(int channel) {
        QemuChannel qemu = channels.get(channel);
        return qemu != null && qemu.channel() != null && qemu.channel().config().isAutoRead();
    }

    /**
     * The raw window of each QEMU connection: bytes read from it and not yet written into the
     * peer's QEMU (the peer's ACKs count them per connection). One connection (precopy): the raw
     * window in force, which follows the measured delivery rate (the downtime bound). Several
     * (multifd): the destination QEMU reads them in an order of its own (a multifd channel that
     * reached a sync point waits until the main channel's flush arrives, and the main channel until
     * every channel's sync packet did), so each connection gets its own share of amst.raw-window,
     * at least 2 x amst.checkpoint-interval: a connection the destination does not read now holds
     * only its own share, and the one whose sync packet the destination waits for is still read.
     * (One window for the whole session stalled QEMU 10 multifd migrations through HDE in
     * DwcpSoakIT: the bytes of channels at a sync point filled it.)
     */
    private long channelRawWindow() {
        int count = channels.size();
        if (count <= 1) {
            return rawWindow.limit();
        }
        long configured = settings.amst().getRawWindow().bytes();
        long floor = 2 * settings.amst().getCheckpointInterval().bytes();
        return Math.min(configured, Math.max(floor, configured / count));
    }

    // ---- tunnel side ----

    /** Source: a stream this side connected (TLS done, peer checked); its first frame is the HELLO. */
    void streamConnected(TunnelStream stream, AmstHello hello) {
        if (state == State.OPEN) {
            sender.sendControl(stream, hello, false);
        }
        streamUp(stream);
    }

    void streamUp(TunnelStream stream) {
        if (state != State.OPEN) {
            stream.channel().close();
            return;
        }
        lastStreamNanos = System.nanoTime();
        stats().streamsOpened.increment();
        if (source != null) {
            source.pool().up(stream);
        }
        sender.streamUp(stream);
        sendAck();
        updateReading();
        log.debug("{} {} up ({} streams)", context, stream, sender.streams().size());
    }

    /**
     * A stream closed. The source retires streams the controller no longer wants by closing them
     * once they carry no unacknowledged frame: at the destination a clean close is not a failure.
     */
    void streamDown(TunnelStream stream, String reason, boolean clean) {
        if (sender.streams().contains(stream)) {
            retiredStreamBytesSent.add(stream.bytesSent());
        }
        sender.streamDown(stream);
        if (source != null) {
            source.pool().down(stream);
        }
        if (state != State.OPEN) {
            return;
        }
        if (role == Role.DESTINATION && clean) {
            log.debug(
                    "{} {} closed by the source ({} streams left)",
                    context,
                    stream,
                    sender.streams().size());
        } else if (!stream.isDraining()) {
            stats().streamsFailed.increment();
            log.info(
                    "{} {} failed ({}); its unacknowledged frames were re-sent on {} other streams",
                    context,
                    stream,
                    reason,
                    sender.streams().size());
            if (source != null) {
                source.pool().failed(stream.index());
            }
        }
        if (!sender.streams().isEmpty()) {
            lastStreamNanos = System.nanoTime();
        }
        updateReading();
    }

    void streamWritabilityChanged() {
        updateReading();
    }

    /** A frame from the peer (sequenced or control) on one of the streams. */
    void onFrame(TunnelStream stream, Frame frame) {
        if (state != State.OPEN) {
            frame.release();
            return;
        }
        lastStreamNanos = System.nanoTime();
        FrameType type = frame.type();
        if (!type.isSequenced()) {
            try {
                AmstFrameReader.readControl(stream, frame, frames);
            } finally {
                frame.release();
            }
            return;
        }
        if (!receiver.add(frame)) {
            stats().framesDuplicate.increment();
            return;
        }
        Frame next;
        while (state == State.OPEN && (next = receiver.poll()) != null) {
            try {
                deliver(next);
            } finally {
                next.release();
            }
        }
        scheduleAck();
    }

    /** Sequenced frames, in order. */
    private void deliver(Frame frame) {
        AmstFrameReader.readSequenced(frame, frames);
    }

    /** The peer's frames, read by {@link AmstFrameReader}: on the session's loop. */
    private final class PeerFrames implements AmstFrameListener {
        @Override
        public void onHello(TunnelStream stream, AmstHello hello) {
            throw new SessionFailure("HELLO on an established stream");
        }

        @Override
        public void onAck(TunnelStream stream, AmstAck ack) {
            sender.acknowledge(ack.nextSequence(), ack.consumedCredit());
            peerDelivered = Math.max(peerDelivered, ack.delivered());
            for (AmstAck.ChannelDelivered delivered : ack.channels()) {
                QemuChannel channel = channels.get(delivered.channel());
                if (channel != null) {
                    channel.peerDelivered(delivered.delivered());
                }
            }
            closeDrainedStreams();
            updateReading();
            checkDone();
        }

        @Override
        public void onPing(TunnelStream stream, AmstPing ping) {
            sender.sendControl(stream, new AmstPong(ping.timestampNanos()), false);
        }

        @Override
        public void onPong(TunnelStream stream, AmstPong pong) {
            long rttNanos = System.nanoTime() - pong.timestampNanos();
            stream.recordRtt(rttNanos);
            stats().pingRtt(peer.name(), rttNanos);
        }

        @Override
        public void onAbort(TunnelStream stream, AmstAbort abort) {
            fail("peer aborted the session: " + abort.reason(), false);
        }

        @Override
        public void onOpen(AmstOpen open, long credit) {
            if (destination == null) {
                throw new SessionFailure("unexpected OPEN");
            }
            destination.onOpen(open);
            consumed(credit);
        }

        @Override
        public void onAccept(AmstAccept accept, long credit) {
            if (source == null) {
                throw new SessionFailure("unexpected ACCEPT");
            }
            source.onAnswer(accept);
            consumed(credit);
        }

        @Override
        public void onChannelOpen(int index, long credit) {
            if (destination == null || !destination.isOpened()) {
                throw new SessionFailure("CHANNEL_OPEN before OPEN");
            }
            if (channels.containsKey(index) || index != channels.size()) {
                throw new SessionFailure("CHANNEL_OPEN " + index + ": expected channel " + channels.size());
            }
            QemuChannel channel = newChannel(index);
            channels.put(index, channel);
            consumed(credit);
            destination.onChannelOpen(channel);
        }

        @Override
        public void onData(int channel, ByteBuf data, long credit) {
            channel(FrameType.DATA, channel).onData(data.retain(), credit);
        }

        @Override
        public void onCheckpoint(int channel, AmstCheckpoint checkpoint, long credit) {
            channel(FrameType.CHECKPOINT, channel).onCheckpoint(checkpoint);
            consumed(credit);
        }

        @Override
        public void onFin(int channel, AmstFin fin, long credit) {
            channel(FrameType.FIN, channel).onFin(fin);
            consumed(credit);
            checkDone();
        }
    }

    /** The lowest smoothed RTT of the streams so far (TCP_INFO), in microseconds; 0 if none yet. */
    long minRttMicros() {
        if (link.minRttMicros() == 0) {
            for (TunnelStream stream : sender.streams()) {
                stream.tcpInfo().ifPresent(info -> link.observeRtt(info.rtt()));
            }
        }
        return link.minRttMicros();
    }

    private QemuChannel channel(FrameType type, int index) {
        QemuChannel channel = channels.get(index);
        if (channel == null) {
            throw new SessionFailure(type + " for unknown channel " + index);
        }
        return channel;
    }

    /** Window credit the local QEMU side consumed: returned to the peer with the next ACK. */
    void consumed(long cost) {
        receiver.consumed(cost);
        scheduleAck();
    }

    private void scheduleAck() {
        if (!ackScheduled) {
            ackScheduled = true;
            loop.execute(() -> {
                ackScheduled = false;
                if (state == State.OPEN) {
                    sendAck();
                }
            });
        }
    }

    private void sendAck() {
        sender.sendControl(ack());
    }

    private AmstAck ack() {
        List<AmstAck.ChannelDelivered> delivered = new ArrayList<>(channels.size());
        for (QemuChannel channel : channels.values()) {
            delivered.add(new AmstAck.ChannelDelivered(channel.index(), channel.delivered()));
        }
        return receiver.ack(qemuBytesWritten.sum(), delivered);
    }

    /** The destination's OPEN named this session's target and VM. */
    void opened(Target opened, String openedVm) {
        target = opened;
        migrationId = opened.migrationId();
        vm = openedVm.isEmpty() ? Optional.empty() : Optional.of(openedVm);
        host.opened(this);
    }

    /** The QEMU the source dialled (null at a destination before OPEN). */
    Target target() {
        return target;
    }

    /** Destination: the QEMU connection for a channel is open: it takes what was verified and reads QEMU's return path. */
    void attachQemu(QemuChannel channel, Channel netty) {
        netty.config().setAutoRead(false);
        channel.attach(netty);
        netty.pipeline().addLast("qemu", new QemuChannelHandler(this, channel));
        updateReading();
    }

    LinkMonitor link() {
        return link;
    }

    /** The source's controller interval: the raw window follows what the destination wrote into its QEMU. */
    void sampleRawWindow(long nowNanos, long minRttMicros) {
        long before = rawWindow.limit();
        rawWindow.sample(nowNanos, peerDelivered, minRttMicros);
        if (rawWindow.limit() != before && log.isDebugEnabled()) {
            log.debug("{} raw window {} -> {} bytes", context, before, rawWindow.limit());
        }
    }

    void closeDrainedStreams() {
        for (TunnelStream stream : List.copyOf(sender.streams())) {
            if (stream.isDraining() && !sender.hasUnacknowledged(stream)) {
                stream.channel().close();
            }
        }
    }

    // ---- timers, completion, failure ----

    private void tick() {
        if (state != State.OPEN) {
            return;
        }
        long now = System.nanoTime();
        for (TunnelStream stream : sender.streams()) {
            sender.sendControl(stream, new AmstPing(now), false);
        }
        sendAck();
        if (log.isDebugEnabled()) {
            long held = 0;
            long verified = 0;
            int writes = 0;
            for (QemuChannel channel : channels.values()) {
                held += channel.heldBytes();
                verified += channel.verifiedBytes();
                writes += channel.writesInFlight();
            }
            log.debug(
                    "{} {} receiver[next={} received={} consumed={} buffered={} held={} verified={} writes={}] reading={}",
                    context,
                    sender,
                    receiver.next(),
                    receiver.receivedCredit(),
                    receiver.consumedCredit(),
                    receiver.waiting(),
                    held,
                    verified,
                    writes,
                    reading);
        }
        if (sender.streams().isEmpty()
                && now - lastStreamNanos
                        > settings.tunnel().getReconnectTimeout().toNanos()) {
            throw new SessionFailure("no tunnel stream to peer " + peer.name() + " for "
                    + settings.tunnel().getReconnectTimeout().toSeconds() + "s");
        }
        if (destination != null && destination.handshakeExpired(now, startNanos)) {
            throw new SessionFailure("no OPEN from the source within "
                    + settings.tunnel().getHandshakeTimeout().toSeconds() + "s");
        }
        if (source != null) {
            source.pool().fill();
        }
    }

    void checkDone() {
        if (state != State.OPEN || channels.isEmpty() || sender.unacknowledgedCount() > 0) {
            return;
        }
        if (role == Role.SOURCE && joinable) {
            return;
        }
        if (destination != null && destination.connecting()) {
            return;
        }
        for (QemuChannel channel : channels.values()) {
            if (!channel.isDone()) {
                return;
            }
        }
        state = State.COMPLETED;
        stats().sessionsCompleted.increment();
        // the destination verified every stream (the source: its FINs were acknowledged after verification)
        onLane(() -> {
            if (source != null && source.codec() != null) {
                source.codec().completed();
            }
            if (destination != null && destination.codec() != null) {
                destination.codec().completed();
            }
        });
        log.info(
                "{} migration session completed: {} QEMU connections, {} ms",
                context,
                channels.size(),
                (System.nanoTime() - startNanos) / 1_000_000);
        for (QemuChannel channel : channels.values()) {
            if (channel.undeliveredBytes() > 0) {
                log.warn(
                        "{} the destination QEMU closed connection {} without reading the last {} bytes of its stream",
                        context,
                        channel.index(),
                        channel.undeliveredBytes());
            }
        }
        for (TunnelStream stream : List.copyOf(sender.streams())) {
            // the peer may still wait for this acknowledgement of its last frames
            sender.sendControl(stream, ack(), true);
        }
        for (QemuChannel channel : channels.values()) {
            Channels.close(channel.channel());
        }
        cleanup();
    }

    /** Fails the session: every QEMU connection is closed without the bytes still held back. */
    void fail(String reason, boolean notifyPeer) {
        if (state != State.OPEN) {
            return;
        }
        state = State.FAILED;
        failure = reason;
        stats().sessionsFailed.increment();
        log.error("{} migration session failed: {}", context, reason);
        host.failed(this, reason);
        for (QemuChannel channel : channels.values()) {
            channel.discard();
        }
        if (destination != null) {
            destination.discard();
        }
        for (TunnelStream stream : List.copyOf(sender.streams())) {
            if (notifyPeer) {
                sender.sendControl(stream, new AmstAbort(reason), true);
            } else {
                stream.channel().close();
            }
        }
        cleanup();
    }

    /** Fails the session from any thread; the future completes once the session loop did it. */
    public io.netty.util.concurrent.Future<?> abort(String reason) {
        return loop.submit(() -> guarded(() -> fail(reason, true)));
    }

    private void cleanup() {
        joinable = false;
        for (ScheduledFuture<?> timer : timers) {
            timer.cancel(false);
        }
        sender.releaseAll();
        receiver.releaseAll();
        onLane(() -> {
            codecClosed = true;
            if (source != null && source.codec() != null) {
                source.codec().close();
            }
            if (destination != null && destination.codec() != null) {
                destination.codec().close();
            }
        });
        host.removed(this);
    }
}
