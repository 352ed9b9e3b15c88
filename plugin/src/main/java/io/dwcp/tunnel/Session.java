package io.dwcp.tunnel;

import io.dwcp.codec.CodecException;
import io.dwcp.codec.DestinationCodec;
import io.dwcp.codec.LinkMeasurement;
import io.dwcp.codec.SourceCodec;
import io.dwcp.transport.AmstAbort;
import io.dwcp.transport.AmstAccept;
import io.dwcp.transport.AmstAck;
import io.dwcp.transport.AmstCheckpoint;
import io.dwcp.transport.AmstFin;
import io.dwcp.transport.AmstFrameListener;
import io.dwcp.transport.AmstFrameReader;
import io.dwcp.transport.AmstHello;
import io.dwcp.transport.AmstOpen;
import io.dwcp.transport.AmstPing;
import io.dwcp.transport.AmstPong;
import io.dwcp.transport.AmstProtocolException;
import io.dwcp.transport.Frame;
import io.dwcp.transport.FrameSender;
import io.dwcp.transport.FrameType;
import io.dwcp.transport.LinkMonitor;
import io.dwcp.transport.RawWindow;
import io.dwcp.transport.Receiver;
import io.dwcp.transport.ReorderBuffer;
import io.dwcp.transport.StreamCountController;
import io.dwcp.transport.StreamPool;
import io.dwcp.transport.TunnelStream;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static java.util.Objects.requireNonNull;

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
 * The control socket and the metrics endpoint read its counters, state and failure from their
 * own threads (volatile fields, adders, copy-on-write lists).
 */
public final class Session
{
    private static final Logger log = LoggerFactory.getLogger(Session.class);

    public enum Role
    {
        SOURCE, DESTINATION
    }

    public enum State
    {
        OPEN, COMPLETED, FAILED
    }

    private final SessionSettings settings;
    private final SessionHost host;
    private final long id;
    private final Role role;
    private final PeerConfig peer;
    private final EventLoop loop;
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
    private final java.util.concurrent.atomic.LongAdder tunnelBytesReceived = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder retiredStreamBytesSent = new java.util.concurrent.atomic.LongAdder();

    private final java.util.concurrent.atomic.AtomicLong queuedFromQemu = new java.util.concurrent.atomic.AtomicLong();
    private final long queueLimit;
    private volatile State state = State.OPEN;
    private volatile boolean joinable = true;
    private volatile String failure;
    private Target target;
    // source: the announced migration whose own socket this session came through (fixed at creation)
    private final Optional<String> migrationId;
    // bytes of this direction's stream the peer wrote into its QEMU (from its ACKs)
    private long peerDelivered;
    private boolean ackScheduled;
    private boolean reading = true;
    private long lastStreamNanos = System.nanoTime();

    // destination: channels opened to QEMU one at a time, in sequence order
    private final java.util.ArrayDeque<QemuChannel> toConnect = new java.util.ArrayDeque<>();
    private boolean connecting;

    // source: stream slots and the stream count controller
    private final StreamCountController controller;
    // bytes read from QEMU and not yet in the peer's QEMU: follows the measured delivery rate (downtime bound)
    private final RawWindow rawWindow;
    private final StreamPool pool;
    // TCP_INFO and acknowledgements -> the link's figures (the source's controller; both ends' min RTT)
    private final LinkMonitor link;

    // the codec: the source's choice, told in OPEN; the destination's answer (ACCEPT) before the source reads QEMU
    /** The largest codec answer a source accepts (baseline announcements: 16 bytes per page). */
    static final int MAX_CODEC_ANSWER = 256 << 20;
    private final SourceCodec sourceCodec;
    private DestinationCodec destinationCodec;
    private boolean codecReady;
    private java.io.ByteArrayOutputStream answer;

    Session(SessionSettings settings, SessionHost host, long id, Role role, PeerConfig peer, EventLoop loop, Target target, long window)
    {
        this.settings = requireNonNull(settings, "settings is null");
        this.host = requireNonNull(host, "host is null");
        this.id = id;
        this.role = requireNonNull(role, "role is null");
        this.peer = requireNonNull(peer, "peer is null");
        this.loop = requireNonNull(loop, "loop is null");
        this.target = target;
        this.migrationId = target == null ? Optional.empty() : target.migrationId();
        // both directions use the window the source announced (the destination checked it against its limit)
        this.sender = new FrameSender(window, settings.stats());
        this.receiver = new Receiver(window, settings.amst().getMaxFramePayload().toIntBytes());
        this.context = String.format("[session=%016x peer=%s role=%s]", id, peer.name(), role.name().toLowerCase(java.util.Locale.ROOT));
        // bytes read from QEMU but not yet taken by this loop; small against the window
        this.queueLimit = Math.max(1 << 20, window / 16);
        this.controller = new StreamCountController(settings.amst().getMinStreams(), settings.amst().getMaxStreams(), settings.amst().getInitialStreams());
        this.pool = new StreamPool(controller.count(),
                (slot, failed) -> host.connectStream(this, slot, failure -> run(failed)),
                (task, delayMillis) -> loop.schedule(() -> guarded(task), delayMillis, TimeUnit.MILLISECONDS),
                () -> state == State.OPEN);
        this.rawWindow = new RawWindow(settings.amst().getRawWindow().bytes(),
                Math.min(settings.amst().getRawWindow().bytes(), 2 * settings.amst().getCheckpointInterval().bytes()),
                settings.amst().getSwitchoverDrain().toNanos());
        this.link = new LinkMonitor(startNanos, Math.max(1, settings.amst().getAdaptInterval().toNanos()));
        this.sourceCodec = role == Role.SOURCE ? settings.codecs().newSource(id, context) : null;
        this.codecReady = role == Role.DESTINATION || !sourceCodec.awaitsAnswer();
        this.reading = codecReady;
    }

    // ---- identity and state ----

    public long id()
    {
        return id;
    }

    public Role role()
    {
        return role;
    }

    public PeerConfig peer()
    {
        return peer;
    }

    /** A source session's announced migration (it came through that migration's own socket); empty otherwise. */
    public Optional<String> migrationId()
    {
        return migrationId;
    }

    public State state()
    {
        return state;
    }

    public Optional<String> failure()
    {
        return Optional.ofNullable(failure);
    }

    public String context()
    {
        return context;
    }

    EventLoop loop()
    {
        return loop;
    }

    FrameSender sender()
    {
        return sender;
    }

    TunnelStats stats()
    {
        return settings.stats();
    }

    /** Whether a connection accepted now joins this session (its main channel has not ended). */
    boolean isJoinable()
    {
        return joinable && state == State.OPEN;
    }

    /** The first failure to set up a stream is worth a WARN; the retries are not. */
    boolean firstStreamSetupFailure()
    {
        return pool.firstSetupFailure();
    }

    int reserveChannelIndex()
    {
        return channelCount.getAndIncrement();
    }

    /** Snapshot of the live streams, for metrics (any thread; best effort). */
    public List<TunnelStream> streamsSnapshot()
    {
        return List.copyOf(sender.streams());
    }

    public int desiredStreams()
    {
        return pool.desired();
    }

    public long inFlight()
    {
        return sender.inFlight();
    }

    // ---- this session's counters (any thread; best effort, like the metrics) ----

    public long startMillis()
    {
        return startMillis;
    }

    /** Bytes read from the local QEMU connections (the guest's migration stream, before encoding). */
    public long qemuBytesRead()
    {
        return qemuBytesRead.sum();
    }

    /** Bytes written to the local QEMU connections. */
    public long qemuBytesWritten()
    {
        return qemuBytesWritten.sum();
    }

    /** Source: what the session's encoding reused of the destination's baselines; {@link SourceCodec.Reuse#NONE} otherwise. */
    public SourceCodec.Reuse reuse()
    {
        return sourceCodec == null ? SourceCodec.Reuse.NONE : sourceCodec.reuse();
    }

    /** Frame bytes sent on this session's tunnel streams, re-sends and control frames included. */
    public long tunnelBytesSent()
    {
        long bytes = retiredStreamBytesSent.sum();
        for (TunnelStream stream : sender.streams()) {
            bytes += stream.bytesSent();
        }
        return bytes;
    }

    public long tunnelBytesReceived()
    {
        return tunnelBytesReceived.sum();
    }

    void countQemuRead(int bytes)
    {
        qemuBytesRead.add(bytes);
    }

    void countQemuWritten(int bytes)
    {
        qemuBytesWritten.add(bytes);
        // the peer's raw window opens by what reached QEMU here
        scheduleAck();
    }

    void countTunnelReceived(long bytes)
    {
        tunnelBytesReceived.add(bytes);
    }

    /** Runs the task on the session's event loop. */
    void run(Runnable task)
    {
        if (loop.inEventLoop()) {
            guarded(task);
        }
        else {
            loop.execute(() -> guarded(task));
        }
    }

    private void guarded(Runnable task)
    {
        try {
            task.run();
        }
        catch (SessionFailure e) {
            fail(e.getMessage(), true);
        }
        catch (AmstProtocolException e) {
            fail("protocol error from the peer: " + e.getMessage(), true);
        }
        catch (ReorderBuffer.ReorderOverflowException e) {
            fail("peer broke the window: " + e.getMessage(), true);
        }
        catch (RuntimeException e) {
            log.error("{} internal error", context, e);
            fail("internal error: " + e, true);
        }
    }

    // ---- start ----

    void start()
    {
        long keepalive = settings.tunnel().getKeepaliveInterval().toNanos();
        timers.add(loop.scheduleWithFixedDelay(() -> guarded(this::tick), keepalive, keepalive, TimeUnit.NANOSECONDS));
        if (role == Role.SOURCE) {
            log.info("{} migration session started, target {}, codec {}", context, target, sourceCodec.mode().configName());
            sender.send(FrameType.OPEN, 0, target.open(CodecSelection.offer(sourceCodec)).encode());
            pool.fill();
            if (!settings.amst().getHeadResend().isZero()) {
                timers.add(loop.scheduleWithFixedDelay(() -> guarded(this::resendStalledHead), HEAD_CHECK_MILLIS, HEAD_CHECK_MILLIS,
                        TimeUnit.MILLISECONDS));
            }
            long adapt = settings.amst().getAdaptInterval().toNanos();
            if (adapt > 0) {
                timers.add(loop.scheduleWithFixedDelay(() -> guarded(this::adapt), adapt, adapt, TimeUnit.NANOSECONDS));
            }
        }
    }

    // ---- QEMU side ----

    /**
     * Source: a QEMU connection accepted on the session's listener, called in accept order (so the
     * CHANNEL_OPENs are in that order); the connection may not be registered yet, it starts
     * reading in {@link #qemuChannelActive}.
     */
    void addSourceChannel(QemuChannel qemu, Channel channel)
    {
        if (state != State.OPEN) {
            Channels.close(channel);
            return;
        }
        channels.put(qemu.index(), qemu);
        qemu.attach(channel);
        sender.send(FrameType.CHANNEL_OPEN, qemu.index(), Unpooled.EMPTY_BUFFER);
        log.info("{} QEMU connection {} joined{}", context, qemu.index(), qemu.index() == 0 ? ": main channel" : "");
    }

    void qemuChannelActive(QemuChannel qemu)
    {
        Channel channel = qemu.channel();
        if (state == State.OPEN && channel != null && !qemu.isInboundEnded()) {
            channel.config().setAutoRead(reading);
        }
    }

    QemuChannel newChannel(int index)
    {
        // the source's encoders start once the destination answered (QEMU is not read before)
        boolean source = role == Role.SOURCE;
        return new QemuChannel(this, index, source ? sourceCodec.newEncoder(index) : destinationCodec.newEncoder(index),
                source ? sourceCodec.newDecoder(index) : destinationCodec.newDecoder(index),
                settings.amst().getCheckpointInterval().bytes(), settings.amst().getMaxFramePayload().toIntBytes());
    }

    void logChannelSummary(int channel, String summary)
    {
        log.info("{} QEMU connection {} ended: {}", context, channel, summary);
    }

    void qemuEnded(QemuChannel channel)
    {
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
    void qemuClosed(QemuChannel channel, Throwable error)
    {
        if (state != State.OPEN) {
            return;
        }
        if (!channel.isInboundEnded()) {
            if (error != null) {
                if (!mayEndEarly(channel)) {
                    throw new SessionFailure("QEMU connection " + channel.index() + " failed: " + error.getMessage());
                }
                log.warn("{} destination QEMU reset connection {} ({}); the rest of its stream is dropped", context, channel.index(),
                        error.getMessage());
            }
            qemuEnded(channel);
        }
        channel.markOutboundBroken();
        checkDone();
    }

    void qemuWriteFailed(QemuChannel channel, Throwable cause)
    {
        if (state != State.OPEN) {
            return;
        }
        if (role == Role.DESTINATION) {
            log.debug("{} write to destination QEMU connection {} failed", context, channel.index(), cause);
            if (!mayEndEarly(channel)) {
                throw new SessionFailure("destination QEMU connection " + channel.index() + " failed: " + cause);
            }
            // the connection's close follows
            log.warn("{} destination QEMU connection {} no longer accepts bytes ({}); the rest of its stream is dropped", context,
                    channel.index(), cause.toString());
            return;
        }
        // the source QEMU closed its socket: what it no longer reads is dropped, as without dwcpd
        log.debug("{} source QEMU connection {} no longer accepts return-path bytes: {}", context, channel.index(), cause.toString());
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
    boolean mayEndEarly(QemuChannel channel)
    {
        return role == Role.DESTINATION && channel.index() != 0;
    }

    /** Counts bytes read from QEMU on its own loop; true when that connection must stop reading. */
    boolean queueFromQemu(int bytes)
    {
        return queuedFromQemu.addAndGet(bytes) >= queueLimit;
    }

    void dequeueFromQemu(int bytes)
    {
        queuedFromQemu.addAndGet(-bytes);
    }

    /**
     * Reads QEMU only while the window has room, some stream takes bytes and this loop keeps up
     * with what was read.
     */
    void updateReading()
    {
        boolean shouldRead = state == State.OPEN && codecReady && sender.canAcceptMore() && queuedFromQemu.get() < queueLimit
                && qemuBytesRead.sum() - peerDelivered < rawWindowLimit();
        if (shouldRead == reading) {
            if (reading) {
                // a connection may have paused itself for the queue limit
                for (QemuChannel channel : channels.values()) {
                    Channel netty = channel.channel();
                    if (netty != null && netty.isRegistered() && !channel.isInboundEnded() && !netty.config().isAutoRead()) {
                        netty.config().setAutoRead(true);
                    }
                }
            }
            return;
        }
        reading = shouldRead;
        if (!reading) {
            link.readingPaused(System.nanoTime());
            // let the receiver release what it holds back, or a full window could wait forever for a checkpoint
            for (QemuChannel channel : channels.values()) {
                channel.fromQemuPaused();
            }
        }
        else {
            link.readingResumed(System.nanoTime());
        }
        for (QemuChannel channel : channels.values()) {
            Channel netty = channel.channel();
            if (netty != null && netty.isRegistered() && !channel.isInboundEnded()) {
                netty.config().setAutoRead(reading);
            }
        }
    }

    /**
     * The raw window in force. With several QEMU connections (multifd) the destination QEMU reads
     * them in an order of its own (the main channel waits for every channel's sync packet): a
     * session-wide bound small enough to follow the delivery rate can hold back the one packet
     * the destination waits for behind bytes it will not read yet, and the migration stalls
     * (seen on S1 through dwcp-multifd). Such sessions keep the configured amst.raw-window.
     */
    private long rawWindowLimit()
    {
        return channels.size() > 1 ? settings.amst().getRawWindow().bytes() : rawWindow.limit();
    }

    // ---- tunnel side ----

    /** Source: a stream this side connected (TLS done, peer checked); its first frame is the HELLO. */
    void streamConnected(TunnelStream stream, AmstHello hello)
    {
        if (state == State.OPEN) {
            sender.sendControl(stream, hello, false);
        }
        streamUp(stream);
    }

    void streamUp(TunnelStream stream)
    {
        if (state != State.OPEN) {
            stream.channel().close();
            return;
        }
        lastStreamNanos = System.nanoTime();
        stats().streamsOpened.increment();
        if (role == Role.SOURCE) {
            pool.up(stream);
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
    void streamDown(TunnelStream stream, String reason, boolean clean)
    {
        if (sender.streams().contains(stream)) {
            retiredStreamBytesSent.add(stream.bytesSent());
        }
        sender.streamDown(stream);
        if (role == Role.SOURCE) {
            pool.down(stream);
        }
        if (state != State.OPEN) {
            return;
        }
        if (role == Role.DESTINATION && clean) {
            log.debug("{} {} closed by the source ({} streams left)", context, stream, sender.streams().size());
        }
        else if (!stream.isDraining()) {
            stats().streamsFailed.increment();
            log.info("{} {} failed ({}); its unacknowledged frames were re-sent on {} other streams", context, stream, reason, sender.streams().size());
            if (role == Role.SOURCE) {
                pool.failed(stream.index());
            }
        }
        if (!sender.streams().isEmpty()) {
            lastStreamNanos = System.nanoTime();
        }
        updateReading();
    }

    void streamWritabilityChanged()
    {
        updateReading();
    }

    /** A frame from the peer (sequenced or control) on one of the streams. */
    void onFrame(TunnelStream stream, Frame frame)
    {
        if (state != State.OPEN) {
            frame.release();
            return;
        }
        lastStreamNanos = System.nanoTime();
        FrameType type = frame.type();
        if (!type.isSequenced()) {
            try {
                AmstFrameReader.readControl(stream, frame, frames);
            }
            finally {
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
            }
            finally {
                next.release();
            }
        }
        scheduleAck();
    }

    /** Sequenced frames, in order. */
    private void deliver(Frame frame)
    {
        AmstFrameReader.readSequenced(frame, frames);
    }

    /** The peer's frames, read by {@link AmstFrameReader}: on the session's loop. */
    private final class PeerFrames
            implements AmstFrameListener
    {
        @Override
        public void onHello(TunnelStream stream, AmstHello hello)
        {
            throw new SessionFailure("HELLO on an established stream");
        }

        @Override
        public void onAck(TunnelStream stream, AmstAck ack)
        {
            sender.acknowledge(ack.nextSequence(), ack.consumedCredit());
            peerDelivered = Math.max(peerDelivered, ack.delivered());
            closeDrainedStreams();
            updateReading();
            checkDone();
        }

        @Override
        public void onPing(TunnelStream stream, AmstPing ping)
        {
            sender.sendControl(stream, new AmstPong(ping.timestampNanos()), false);
        }

        @Override
        public void onPong(TunnelStream stream, AmstPong pong)
        {
            long rttNanos = System.nanoTime() - pong.timestampNanos();
            stream.recordRtt(rttNanos);
            stats().pingRtt(peer.name(), rttNanos);
        }

        @Override
        public void onAbort(TunnelStream stream, AmstAbort abort)
        {
            fail("peer aborted the session: " + abort.reason(), false);
        }

        @Override
        public void onOpen(AmstOpen open, long credit)
        {
            if (role != Role.DESTINATION || target != null) {
                throw new SessionFailure("unexpected OPEN");
            }
            Target opened;
            try {
                opened = Target.of(open, settings.nodeName());
            }
            catch (IllegalArgumentException e) {
                throw new SessionFailure("bad OPEN: " + e.getMessage());
            }
            try {
                destinationCodec = settings.codecs().newDestination(id, context, open.codecOffer());
            }
            catch (CodecException e) {
                throw new SessionFailure("refused the source's codec: " + e.getMessage());
            }
            target = opened;
            String configured = settings.codecs().mode().configName();
            String chosen = destinationCodec.mode().configName();
            log.info("{} migration session opened by the source, target {}, codec {}{}", context, target, chosen,
                    chosen.equals(configured) ? "" : " (the source's choice; this host's codec.mode is " + configured + ")");
            sendAnswer(destinationCodec.answer());
            consumed(credit);
        }

        @Override
        public void onAccept(AmstAccept accept, long credit)
        {
            onAnswer(accept);
            consumed(credit);
        }

        @Override
        public void onChannelOpen(int index, long credit)
        {
            if (role != Role.DESTINATION || target == null) {
                throw new SessionFailure("CHANNEL_OPEN before OPEN");
            }
            if (channels.containsKey(index) || index != channels.size()) {
                throw new SessionFailure("CHANNEL_OPEN " + index + ": expected channel " + channels.size());
            }
            QemuChannel channel = newChannel(index);
            channels.put(index, channel);
            toConnect.addLast(channel);
            consumed(credit);
            connectNext();
        }

        @Override
        public void onData(int channel, ByteBuf data, long credit)
        {
            channel(FrameType.DATA, channel).onData(data.retain(), credit);
        }

        @Override
        public void onCheckpoint(int channel, AmstCheckpoint checkpoint, long credit)
        {
            channel(FrameType.CHECKPOINT, channel).onCheckpoint(checkpoint);
            consumed(credit);
        }

        @Override
        public void onFin(int channel, AmstFin fin, long credit)
        {
            channel(FrameType.FIN, channel).onFin(fin);
            consumed(credit);
            checkDone();
        }
    }

    /** Destination: the codec's answer, in pieces of at most one frame payload. */
    private void sendAnswer(byte[] bytes)
    {
        int piece = settings.amst().getMaxFramePayload().toIntBytes();
        int at = 0;
        do {
            int length = Math.min(piece, bytes.length - at);
            boolean last = at + length == bytes.length;
            AmstAccept accept = new AmstAccept(Unpooled.wrappedBuffer(bytes, at, length), last);
            sender.send(FrameType.ACCEPT, accept.channel(), accept.encode());
            at += length;
        }
        while (at < bytes.length);
    }

    /** Source: a piece of the destination's codec answer; with the last, the codec starts and QEMU is read. */
    private void onAnswer(AmstAccept accept)
    {
        if (role != Role.SOURCE || codecReady && answer == null && sourceCodec.awaitsAnswer()) {
            throw new SessionFailure("unexpected ACCEPT");
        }
        if (answer == null) {
            answer = new java.io.ByteArrayOutputStream();
        }
        ByteBuf payload = accept.piece();
        if (answer.size() + (long) payload.readableBytes() > MAX_CODEC_ANSWER) {
            throw new SessionFailure("the destination's codec answer exceeds " + MAX_CODEC_ANSWER + " bytes");
        }
        try {
            payload.readBytes(answer, payload.readableBytes());
        }
        catch (java.io.IOException e) {
            throw new IllegalStateException("writing to memory", e);
        }
        if (!accept.last()) {
            return;
        }
        byte[] bytes = answer.toByteArray();
        answer = null;
        if (codecReady) {
            return;   // passthrough: nothing awaited
        }
        sourceCodec.linkMeasured(new LinkMeasurement(minRttMicros(), link.linkBytesPerSecond()));
        try {
            sourceCodec.answer(bytes);
        }
        catch (CodecException e) {
            throw new SessionFailure(e.getMessage());
        }
        codecReady = true;
        updateReading();
    }

    /** The lowest smoothed RTT of the streams so far (TCP_INFO), in microseconds; 0 if none yet. */
    private long minRttMicros()
    {
        if (link.minRttMicros() == 0) {
            for (TunnelStream stream : sender.streams()) {
                stream.tcpInfo().ifPresent(info -> link.observeRtt(info.rtt()));
            }
        }
        return link.minRttMicros();
    }

    private QemuChannel channel(FrameType type, int index)
    {
        QemuChannel channel = channels.get(index);
        if (channel == null) {
            throw new SessionFailure(type + " for unknown channel " + index);
        }
        return channel;
    }

    /** Window credit the local QEMU side consumed: returned to the peer with the next ACK. */
    void consumed(long cost)
    {
        receiver.consumed(cost);
        scheduleAck();
    }

    private void scheduleAck()
    {
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

    private void sendAck()
    {
        sender.sendControl(ack());
    }

    private AmstAck ack()
    {
        return receiver.ack(qemuBytesWritten.sum());
    }

    // ---- destination: connecting to QEMU in order ----

    private void connectNext()
    {
        if (connecting || toConnect.isEmpty() || state != State.OPEN) {
            return;
        }
        QemuChannel channel = toConnect.pollFirst();
        connecting = true;
        host.connectToQemu(this, target, channel.index(), System.nanoTime() + settings.tunnel().getQemuConnectTimeout().toNanos(), result -> run(() -> {
            connecting = false;
            if (state != State.OPEN) {
                if (result != null) {
                    result.close();
                }
                return;
            }
            if (result == null) {
                throw new SessionFailure("cannot connect to the destination QEMU at " + host.describe(target)
                        + " within " + settings.tunnel().getQemuConnectTimeout().toSeconds() + "s");
            }
            result.config().setAutoRead(reading);
            channel.attach(result);
            result.pipeline().addLast("qemu", new QemuChannelHandler(this, channel));
            log.info("{} connected QEMU connection {} to {}", context, channel.index(), host.describe(target));
            connectNext();
        }));
    }

    // ---- source: stream management ----

    private void adapt()
    {
        long now = System.nanoTime();
        if (state != State.OPEN || sender.streams().isEmpty() || !link.due(now)) {
            return;
        }
        List<TunnelStream> streams = List.copyOf(sender.streams());
        List<LinkMonitor.StreamReading> readings = new ArrayList<>(streams.size());
        for (TunnelStream stream : streams) {
            stream.tcpInfo().ifPresent(info -> readings.add(LinkMonitor.StreamReading.of(info, stream.bytesSent())));
        }
        LinkMonitor.Sample sample = link.sample(now, sender.consumedCredit(), readings);
        for (TunnelStream stream : streams) {
            stream.measureThroughput(sample.seconds());
        }
        long rawBefore = rawWindow.limit();
        rawWindow.sample(now, peerDelivered, sample.minRttMicros());
        if (rawWindow.limit() != rawBefore && log.isDebugEnabled()) {
            log.debug("{} raw window {} -> {} bytes", context, rawBefore, rawWindow.limit());
        }
        if (codecReady) {
            sourceCodec.linkMeasured(new LinkMeasurement(sample.minRttMicros(), sample.linkBytesPerSecond()));
        }
        int before = pool.desired();
        int desired = controller.update(sample.goodput(), sample.tunnelLimited(), sample.loss(), sample.rttMicros(), sample.minRttMicros());
        if (desired != before) {
            log.info("{} streams {} -> {} ({}; goodput {} MB/s, tunnel-limited {}%, loss {}%, rtt {} ms, min {} ms)", context, before, desired,
                    controller.lastReason(), String.format("%.1f", sample.goodput() / 1e6), Math.round(sample.tunnelLimited() * 100),
                    String.format("%.2f", sample.loss() * 100), String.format("%.1f", sample.rttMicros() / 1000.0),
                    String.format("%.1f", sample.minRttMicros() / 1000.0));
            pool.resize(desired);
            closeDrainedStreams();
        }
    }

    /** How often the source checks whether the frame the receiver waits for is stuck. */
    private static final long HEAD_CHECK_MILLIS = 50;

    /** Source: the frame the receiver waits for goes again on another stream once out for 3 RTT + amst.head-resend. */
    private void resendStalledHead()
    {
        if (state != State.OPEN) {
            return;
        }
        long rttMicros = minRttMicros();
        long threshold = 3 * rttMicros * 1000 + settings.amst().getHeadResend().toNanos();
        int resent = sender.resendStalledHead(threshold, stream -> isFlowing(stream, threshold));
        if (resent > 0) {
            log.debug("{} re-sent {} frames of a stalled stream on the others (out for more than {} ms)", context, resent, threshold / 1_000_000);
        }
    }

    /**
     * Whether a stream's TCP still moves bytes: nothing of its own waits for the peer's TCP, or the
     * peer acknowledged something within {@code thresholdNanos}. Without TCP_INFO it counts as moving.
     */
    private static boolean isFlowing(TunnelStream stream, long thresholdNanos)
    {
        return stream.tcpInfo()
                .map(info -> info.unacked() == 0 || TimeUnit.MILLISECONDS.toNanos(info.lastAckRecv()) < thresholdNanos)
                .orElse(true);
    }

    private void closeDrainedStreams()
    {
        for (TunnelStream stream : List.copyOf(sender.streams())) {
            if (stream.isDraining() && !sender.hasUnacknowledged(stream)) {
                stream.channel().close();
            }
        }
    }

    // ---- timers, completion, failure ----

    private void tick()
    {
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
            log.debug("{} {} receiver[next={} received={} consumed={} buffered={} held={} verified={} writes={}] reading={}", context, sender,
                    receiver.next(), receiver.receivedCredit(), receiver.consumedCredit(), receiver.waiting(), held, verified, writes, reading);
        }
        if (sender.streams().isEmpty() && now - lastStreamNanos > settings.tunnel().getReconnectTimeout().toNanos()) {
            throw new SessionFailure("no tunnel stream to peer " + peer.name() + " for " + settings.tunnel().getReconnectTimeout().toSeconds() + "s");
        }
        if (role == Role.DESTINATION && target == null && now - startNanos > settings.tunnel().getHandshakeTimeout().toNanos()) {
            throw new SessionFailure("no OPEN from the source within " + settings.tunnel().getHandshakeTimeout().toSeconds() + "s");
        }
        if (role == Role.SOURCE) {
            pool.fill();
        }
    }

    void checkDone()
    {
        if (state != State.OPEN || channels.isEmpty() || sender.unacknowledgedCount() > 0) {
            return;
        }
        if (role == Role.SOURCE && joinable) {
            return;
        }
        if (role == Role.DESTINATION && (connecting || !toConnect.isEmpty())) {
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
        if (sourceCodec != null) {
            sourceCodec.completed();
        }
        if (destinationCodec != null) {
            destinationCodec.completed();
        }
        log.info("{} migration session completed: {} QEMU connections, {} ms", context, channels.size(), (System.nanoTime() - startNanos) / 1_000_000);
        for (QemuChannel channel : channels.values()) {
            if (channel.undeliveredBytes() > 0) {
                log.warn("{} the destination QEMU closed connection {} without reading the last {} bytes of its stream", context,
                        channel.index(), channel.undeliveredBytes());
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
    void fail(String reason, boolean notifyPeer)
    {
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
        for (QemuChannel channel : toConnect) {
            channel.discard();
        }
        for (TunnelStream stream : List.copyOf(sender.streams())) {
            if (notifyPeer) {
                sender.sendControl(stream, new AmstAbort(reason), true);
            }
            else {
                stream.channel().close();
            }
        }
        cleanup();
    }

    /** Fails the session from any thread; the future completes once the session loop did it. */
    public io.netty.util.concurrent.Future<?> abort(String reason)
    {
        return loop.submit(() -> guarded(() -> fail(reason, true)));
    }

    private void cleanup()
    {
        joinable = false;
        for (ScheduledFuture<?> timer : timers) {
            timer.cancel(false);
        }
        sender.releaseAll();
        receiver.releaseAll();
        if (sourceCodec != null) {
            sourceCodec.close();
        }
        if (destinationCodec != null) {
            destinationCodec.close();
        }
        host.removed(this);
    }
}
