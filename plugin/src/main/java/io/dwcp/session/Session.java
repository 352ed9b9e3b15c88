package io.dwcp.session;

import static java.util.Objects.requireNonNull;

import io.dwcp.amst.AmstAbort;
import io.dwcp.amst.AmstHello;
import io.dwcp.amst.Frame;
import io.dwcp.amst.FrameSender;
import io.dwcp.amst.FrameType;
import io.dwcp.amst.LinkMonitor;
import io.dwcp.amst.Receiver;
import io.dwcp.amst.TunnelStream;
import io.dwcp.codec.SourceCodec;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
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
    // the loop's and the codec lane's tasks, guarded (see CodecThreads)
    private final SessionTasks tasks;
    private final FrameSender sender;
    private final Receiver receiver;
    private final String context;
    private final Map<Integer, QemuChannel> channels = new TreeMap<>();
    private final AtomicInteger channelCount = new AtomicInteger();
    private final long startNanos = System.nanoTime();
    // the loop's: when the first byte was read from QEMU (0: not yet)
    private long firstReadNanos;
    // source: when a QEMU connection's encoder saw QEMU's switch-over in the stream (0: not yet)
    private long switchoverNanos;
    private final long startMillis = System.currentTimeMillis();
    // this session's own byte counts, for the control socket (TunnelStats counts the whole daemon)
    private final LongAdder qemuBytesRead = new LongAdder();
    private final LongAdder qemuBytesWritten = new LongAdder();
    private final LongAdder tunnelBytesReceived = new LongAdder();

    private volatile State state = State.OPEN;
    // on the loop: run once the session ended (whenEnded)
    private final List<Runnable> endListeners = new ArrayList<>();
    private volatile boolean joinable = true;
    private volatile String failure;
    private Target target;
    // the announced migration this session carries and its VM's domain name: the source's fixed at
    // creation (the migration whose own socket it came through), the destination's set once by OPEN
    private volatile Optional<String> migrationId;
    private volatile Optional<String> vm;

    // TCP_INFO and acknowledgements -> the link's figures (the source's controller; both ends' min RTT)
    private final LinkMonitor link;
    // the link's lowest RTT so far (0: none yet): the loop's LinkMonitor's, and the streams' TCP_INFO
    // when they close; written on the loop, read by the region's link sampler once the streams are gone
    private volatile long minRttMicros;

    // what only one role does: exactly one of the two is set
    private final SourceSide source;
    private final DestinationSide destination;

    // the streams as they come and go; when QEMU is read; the ACKs to the peer; what the peer's frames do
    private final SessionStreams streams;
    private final QemuEndPolicy ends;
    private final QemuReadGate readGate;
    private final AckScheduler acks;
    private final PeerFrames frames;

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
        this.target = target;
        this.migrationId = target == null ? Optional.empty() : target.migrationId();
        this.vm = requireNonNull(vm, "vm is null").isEmpty() ? Optional.empty() : Optional.of(vm);
        // both directions use the window the source announced (the destination checked it against its limit)
        this.sender = new FrameSender(window, settings.stats());
        this.receiver =
                new Receiver(window, settings.amst().getMaxFramePayload().toIntBytes());
        this.context = String.format(
                "[session=%016x peer=%s role=%s]", id, peer.name(), role.name().toLowerCase(java.util.Locale.ROOT));
        this.tasks = new SessionTasks(
                loop, requireNonNull(settings.lanes().get(), "lane is null"), context, reason -> fail(reason, true));
        this.link = new LinkMonitor(
                startNanos, Math.max(1, settings.amst().getAdaptInterval().toNanos()));
        this.source = role == Role.SOURCE ? new SourceSide(this, settings, host) : null;
        this.destination = role == Role.DESTINATION ? new DestinationSide(this, settings, host) : null;
        this.streams = new SessionStreams(
                sender,
                source == null ? null : source.pool(),
                role,
                stats(),
                settings.tunnel().getReconnectTimeout(),
                peer.name(),
                context,
                startNanos);
        this.ends = new QemuEndPolicy(role, context);
        this.readGate = new QemuReadGate(
                settings.amst(),
                window,
                channels.values(),
                () -> state == State.OPEN && codecReady() && sender.canAcceptMore(),
                reading -> {
                    if (reading) {
                        link.readingResumed(System.nanoTime());
                    } else {
                        link.readingPaused(System.nanoTime());
                    }
                },
                codecReady(),
                new QemuReadGate.Clock() {
                    @Override
                    public long nanoTime() {
                        return System.nanoTime();
                    }

                    @Override
                    public void schedule(long delayNanos, Runnable task) {
                        loop.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
                    }
                },
                context);
        this.acks = new AckScheduler(
                receiver,
                channels.values(),
                qemuBytesWritten::sum,
                loop,
                (millis, task) -> loop.schedule(task, millis, TimeUnit.MILLISECONDS),
                settings.amst().getCheckpointInterval().bytes(),
                () -> state == State.OPEN,
                ack -> {
                    stats().acksSent.increment();
                    sender.sendControl(ack);
                });
        this.frames = new PeerFrames(
                new FrameOwner(),
                sender,
                receiver,
                acks,
                readGate,
                channels,
                source,
                destination,
                stats(),
                peer.name());
    }

    // ---- identity and state ----

    public long id() {
        return id;
    }

    /** How long reading QEMU was held back because the codec lane was behind, so far (on the session's loop). */
    long qemuHeldByCodecNanos() {
        return readGate.heldNanos()[QemuReadGate.Hold.CODEC.ordinal()];
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
        return streams.bytesSent();
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
        acks.schedule();
    }

    void countTunnelReceived(long bytes) {
        tunnelBytesReceived.add(bytes);
    }

    /** Runs the task on the session's event loop, guarded: what it throws fails the session ({@link SessionTasks}). */
    void run(Runnable task) {
        tasks.run(task);
    }

    /**
     * Runs {@code listener} on the session's loop once the session has ended (completed or
     * failed), or at once there if it has already: whoever keeps a session only to know how it
     * ended can then let it go with its codecs' buffers and windows.
     */
    void whenEnded(Runnable listener) {
        requireNonNull(listener, "listener is null");
        run(() -> {
            if (state == State.OPEN) {
                endListeners.add(listener);
            } else {
                listener.run();
            }
        });
    }

    /** Runs codec work on the session's codec lane, in order; it hands its results back with {@link #run}. */
    void onLane(Runnable task) {
        tasks.onLane(task);
    }

    /** On the lane: whether the codec was closed (a task then only releases its buffers). */
    boolean codecClosed() {
        return tasks.codecClosed();
    }

    // ---- start ----

    void start() {
        long keepalive = settings.tunnel().getKeepaliveInterval().toNanos();
        tasks.scheduleAtFixedDelay(this::tick, keepalive);
        if (source != null) {
            source.start(target, vm.orElse(""));
        }
    }

    /** Runs the task on this session's loop after a delay, guarded. */
    void schedule(Runnable task, long delayNanos) {
        tasks.schedule(task, delayNanos);
    }

    /** Runs the task on this session's loop every {@code periodNanos} until the session ends, guarded. */
    void scheduleAtFixedDelay(Runnable task, long periodNanos) {
        tasks.scheduleAtFixedDelay(task, periodNanos);
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
                settings.amst().getCheckpointDelay().toNanos(),
                settings.amst().getMaxFramePayload().toIntBytes());
    }

    /** The source read QEMU connection {@code channel} to its end; {@code undelivered} of its bytes are not in the peer's QEMU yet. */
    void logChannelSummary(int channel, String summary, long undelivered) {
        log.info(
                "{} QEMU connection {} ended: {}; {} bytes of it not in the peer's QEMU yet",
                context,
                channel,
                summary,
                undelivered);
    }

    /**
     * Share of what the link carries in a round trip (its highest recent goodput, {@link
     * LinkMonitor#highestGoodput}, x the lowest RTT) that a source session spends on second copies
     * of its last frames once every QEMU connection's stream was sent to its end ({@link
     * io.dwcp.amst.FrameSender#copyTail}): a quarter of a round trip on the link at most, against
     * the two or more round trips a packet lost there costs.
     */
    static final double TAIL_COPY_SHARE = 0.25;

    /** A QEMU connection's stream was sent to its end: once all were (the source's), the newest frames get a second copy. */
    void streamEndSent() {
        if (role != Role.SOURCE || state != State.OPEN) {
            return;
        }
        for (QemuChannel channel : channels.values()) {
            if (!channel.isFinSent()) {
                return;
            }
        }
        long budget = (long) (TAIL_COPY_SHARE * link.highestGoodput() * minRttMicros / 1e6);
        int copies = sender.copyTail(budget);
        log.debug(
                "{} the stream's end sent: {} of its last frames copied on other streams (budget {} bytes)",
                context,
                copies,
                budget);
    }

    /** The peer's whole stream for QEMU connection {@code channel} was written into it (or dropped: QEMU had gone). */
    void logStreamDelivered(int channel, long bytes) {
        log.debug("{} QEMU connection {}: the peer's whole stream written ({} bytes)", context, channel, bytes);
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
     * {@link QemuEndPolicy}).
     */
    void qemuClosed(QemuChannel channel, Throwable error) {
        if (state != State.OPEN) {
            return;
        }
        if (!channel.isInboundEnded()) {
            if (error != null) {
                ends.reset(channel.index(), error);
            }
            qemuEnded(channel);
        }
        channel.markOutboundBroken();
        checkDone();
    }

    void qemuWriteFailed(QemuChannel channel, Throwable cause) {
        if (state == State.OPEN) {
            ends.writeFailed(channel.index(), cause);
        }
    }

    /** Whether the QEMU may end this connection before the whole stream reached it (see {@link QemuEndPolicy}). */
    boolean mayEndEarly(QemuChannel channel) {
        return ends.mayEndEarly(channel.index());
    }

    /** Counts bytes read from QEMU on that connection's own loop; true when it must stop reading (see {@link QemuReadGate#queue}). */
    boolean queueFromQemu(int bytes) {
        return readGate.queue(bytes);
    }

    void dequeueFromQemu(int bytes) {
        readGate.dequeue(bytes);
    }

    /** {@code bytes} were read from QEMU; on the session's loop (the pacing, see {@link QemuReadGate#read}). */
    void readFromQemu(int bytes) {
        if (firstReadNanos == 0 && role == Role.SOURCE) {
            firstReadNanos = System.nanoTime();
            stats().sessionStarted(firstReadNanos - startNanos);
        }
        readGate.read(bytes);
    }

    /**
     * The source's encoder of QEMU connection {@code channel} saw QEMU's switch-over at stream
     * offset {@code offset}: the guest is stopped, and every millisecond from now to the session's
     * completion is downtime. Logged with the bytes still undelivered; the time to completion is
     * measured ({@code dwcp_switchover_seconds}).
     */
    void switchoverSeen(int channel, long offset) {
        if (role != Role.SOURCE || switchoverNanos != 0 || state != State.OPEN) {
            return;
        }
        switchoverNanos = System.nanoTime();
        readGate.switchedOver();
        long undelivered = 0;
        for (QemuChannel qemu : channels.values()) {
            undelivered += qemu.undelivered();
        }
        log.info(
                "{} QEMU stopped the guest for the switch-over (connection {}, stream offset {}): {} bytes read from QEMU are not in the peer's QEMU yet",
                context,
                channel,
                offset,
                undelivered);
        readGate.update();
    }

    /** Switches each QEMU connection's reading as the session, its queue and raw windows allow ({@link QemuReadGate}). */
    void updateReading() {
        readGate.update();
    }

    /** Whether QEMU connection {@code channel} is read now (see {@link #updateReading}); for tests. */
    boolean reads(int channel) {
        QemuChannel qemu = channels.get(channel);
        return qemu != null && qemu.isAutoRead();
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
        streams.up(stream, System.nanoTime());
        acks.send();
        updateReading();
        log.debug("{} {} up ({} streams)", context, stream, sender.streams().size());
    }

    /**
     * A stream closed. The source retires streams the controller no longer wants by closing them
     * once they carry no unacknowledged frame: at the destination a clean close is not a failure.
     */
    void streamDown(TunnelStream stream, String reason, boolean clean) {
        streams.down(stream, reason, clean, state == State.OPEN, System.nanoTime());
        if (state == State.OPEN) {
            updateReading();
        }
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
        streams.seen(System.nanoTime());
        frames.onFrame(stream, frame);
    }

    /** What the peer's frames ask of this session (see {@link PeerFrames}). */
    private final class FrameOwner implements PeerFrames.Owner {
        @Override
        public boolean isOpen() {
            return state == State.OPEN;
        }

        @Override
        public QemuChannel newChannel(int index) {
            return Session.this.newChannel(index);
        }

        @Override
        public void acknowledged() {
            closeDrainedStreams();
            updateReading();
            checkDone();
        }

        @Override
        public void checkDone() {
            Session.this.checkDone();
        }

        @Override
        public void fail(String reason, boolean notifyPeer) {
            Session.this.fail(reason, notifyPeer);
        }
    }

    /** Window credit the local QEMU side consumed: returned to the peer with the next ACK. */
    void consumed(long cost) {
        acks.consumed(cost);
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

    /**
     * The source's controller interval: the raw window follows what the destination wrote into its
     * QEMU, the pace what the link carries at the stream's present compression.
     */
    void sampleRawWindow(long nowNanos, long minRttMicros) {
        readGate.sampleRawWindow(
                nowNanos, minRttMicros, link.highestGoodput(), qemuBytesRead(), sender.consumedCredit());
    }

    /** A measured RTT (0: none): kept when it is the lowest so far. On the loop. */
    void noteRtt(long rttMicros) {
        if (rttMicros > 0 && (minRttMicros == 0 || rttMicros < minRttMicros)) {
            minRttMicros = rttMicros;
        }
    }

    /** Before the streams close: their TCP_INFO RTT, for a session too short for the controller to have sampled it. */
    private void noteStreamsRtt() {
        for (TunnelStream stream : streamsSnapshot()) {
            stream.tcpInfo().ifPresent(info -> noteRtt(info.rtt()));
        }
    }

    /** The link's lowest smoothed RTT the session measured (TCP_INFO), 0 if none yet; from any thread. */
    public long minRttMicros() {
        return minRttMicros;
    }

    void closeDrainedStreams() {
        streams.closeDrained();
    }

    // ---- timers, completion, failure ----

    private void tick() {
        if (state != State.OPEN) {
            return;
        }
        long now = System.nanoTime();
        streams.ping(now);
        acks.send();
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
                    readGate.isReading());
        }
        streams.checkConnected(now);
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
        long completedNanos = System.nanoTime();
        if (switchoverNanos != 0) {
            stats().switchoverCompleted(completedNanos - switchoverNanos);
        }
        // the destination verified every stream (the source: its FINs were acknowledged after verification)
        onLane(() -> {
            if (source != null && source.codec() != null) {
                source.codec().completed();
            }
            if (destination != null && destination.codec() != null) {
                destination.codec().completed();
            }
        });
        String held = "";
        if (role == Role.SOURCE) {
            long[] heldNanos = readGate.heldNanos();
            stats().qemuReadHeld(heldNanos);
            StringBuilder text = new StringBuilder(", QEMU not read for");
            for (QemuReadGate.Hold hold : QemuReadGate.Hold.values()) {
                text.append(hold == QemuReadGate.Hold.START ? " " : ", ")
                        .append(hold.label())
                        .append(' ')
                        .append(heldNanos[hold.ordinal()] / 1_000_000)
                        .append(" ms");
            }
            held = text.toString();
        }
        log.info(
                "{} migration session completed: {} QEMU connections, {} ms{}{}{}",
                context,
                channels.size(),
                (completedNanos - startNanos) / 1_000_000,
                firstReadNanos == 0
                        ? ""
                        : ", QEMU first read after " + (firstReadNanos - startNanos) / 1_000_000 + " ms",
                switchoverNanos == 0
                        ? ""
                        : ", " + (completedNanos - switchoverNanos) / 1_000_000 + " ms after the switch-over",
                held);
        for (QemuChannel channel : channels.values()) {
            ends.completedWithout(channel.index(), channel.undeliveredBytes());
        }
        // the peer may still wait for this acknowledgement of its last frames
        noteStreamsRtt();
        streams.closeAll(acks::ack);
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
        noteStreamsRtt();
        streams.closeAll(notifyPeer ? () -> new AmstAbort(reason) : null);
        cleanup();
    }

    /** Fails the session from any thread; the future completes once the session loop did it. */
    public io.netty.util.concurrent.Future<?> abort(String reason) {
        return tasks.submit(() -> fail(reason, true));
    }

    private void cleanup() {
        joinable = false;
        tasks.cancelTimers();
        sender.releaseAll();
        receiver.releaseAll();
        tasks.closeCodec(() -> {
            if (source != null && source.codec() != null) {
                source.codec().close();
            }
            if (destination != null && destination.codec() != null) {
                destination.codec().close();
            }
        });
        host.removed(this);
        List<Runnable> ended = List.copyOf(endListeners);
        endListeners.clear();
        for (Runnable listener : ended) {
            try {
                listener.run();
            } catch (RuntimeException e) {
                // as SessionManager does for its own: one listener's failure is not the others'
                log.warn("{} a listener of the session's end failed: {}", context, e.toString());
            }
        }
    }
}
