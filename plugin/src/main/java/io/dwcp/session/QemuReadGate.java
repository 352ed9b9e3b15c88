package io.dwcp.session;

import static java.util.Objects.requireNonNull;

import io.dwcp.amst.AmstConfig;
import io.dwcp.amst.RawWindow;
import io.dwcp.amst.ReadPacer;
import java.util.Collection;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When a session reads its QEMU connections. A connection is read only while the session is
 * ready for more (it is open, its codec may run and its sender's window has room on a stream that
 * takes bytes), the codec lane keeps up with what was read (the bytes read from QEMU and not yet
 * handed to the sender stay under the queue limit), and less than the connection's raw window
 * ({@link #channelRawWindow}) of what was read from it is not yet in the peer's QEMU. Within
 * that, the session's reading is paced ({@link ReadPacer}) at {@code amst.read-pace-percent} of
 * the highest rate the peer's QEMU received the stream at, so that QEMU's bandwidth estimate, from
 * which it decides the switch-over, is what the tunnel delivers; a paced pause ends on a timer.
 *
 * <p>Reading is switched with each connection's auto-read. A connection that stops being read
 * is told ({@link Connection#fromQemuPaused}), so that the receiver can release what it holds back:
 * otherwise a full window could wait forever for a checkpoint (which follows once no byte came for
 * {@code amst.checkpoint-delay}). When the session as a whole stops
 * or resumes reading, its {@link ReadingListener} hears it (the link monitor, which does not count
 * the time QEMU is not read as the link's).
 *
 * <p>Threads: the session's event loop owns the gate (its reading flag, its raw window, the peer's
 * delivered count and the times reading was held back) and calls every method but {@link #queue},
 * which a QEMU connection's own event loop calls as its bytes arrive (it may be behind the session's
 * loop): the queue's count is atomic.
 */
final class QemuReadGate {
    private static final Logger log = LoggerFactory.getLogger(QemuReadGate.class);

    /** A QEMU connection as the gate sees it: {@link QemuChannel}. */
    interface Connection {
        /** QEMU's stream on this connection ended: nothing more is read from it. */
        boolean isInboundEnded();

        /** Raw bytes read from this connection that the peer has not yet written into its QEMU. */
        long undelivered();

        /** Whether its socket is attached and registered with its event loop: only then is its reading switched. */
        boolean isRegistered();

        /** Whether its socket reads now (auto-read); false without a socket. */
        boolean isAutoRead();

        void setAutoRead(boolean read);

        /** It stopped being read: what was read goes with a checkpoint, so the peer can release it. */
        void fromQemuPaused();
    }

    /**
     * What held the session's reading of QEMU back, the first that applies in this order: nothing
     * read yet (the streams, OPEN and the codec's answer), the tunnel (the session or its codec not
     * ready, or its sender's window full), the codec lane (the bytes read and not yet framed reached
     * the queue limit), the pace ({@link ReadPacer}), the raw window (what was read and is not yet in
     * the peer's QEMU).
     */
    enum Hold {
        START,
        TUNNEL,
        CODEC,
        PACE,
        RAW_WINDOW;

        /** Its name in metrics and logs. */
        String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** The session loop's clock and timer, for the pacing. */
    interface Clock {
        long nanoTime();

        /** Runs {@code task} on the session's event loop after {@code delayNanos}. */
        void schedule(long delayNanos, Runnable task);
    }

    /** Hears when the session stops ({@code false}) and resumes ({@code true}) reading QEMU. */
    @FunctionalInterface
    interface ReadingListener {
        void readingChanged(boolean reading);
    }

    private final String context;
    private final Collection<? extends Connection> connections;
    private final BooleanSupplier sessionReady;
    private final ReadingListener listener;
    private final long configuredRawWindow;
    private final long rawWindowFloor;
    // bytes read from QEMU and not yet in the peer's QEMU: follows the measured delivery rate (downtime bound)
    private final RawWindow rawWindow;
    // bytes read from QEMU but not yet handed to the sender; small against the window
    private final long queueLimit;
    private final AtomicLong queued = new AtomicLong();
    // bytes of this direction's stream the peer wrote into its QEMU (from its ACKs)
    private long peerDelivered;
    private boolean reading;
    private final ReadPacer pacer = new ReadPacer();
    private final double paceShare;
    private final Clock clock;
    private boolean resumeScheduled;
    // QEMU stopped the guest for the switch-over: its last bytes are read unpaced
    private boolean switchedOver;
    // the highest delivery rate of the session so far, bytes per second; and how many samples were taken
    private double highestRate;
    private int rateSamples;
    // the bytes read from QEMU and the frame bytes sent, at the last sample (the interval's compression)
    private long lastRawRead;
    private long lastWireBytes;
    // what holds reading back now (null: reading, or every connection's stream ended), since when,
    // and the time each reason held it back before
    private final long[] heldNanos = new long[Hold.values().length];
    private Hold held;
    private long heldSince;
    private boolean anyRead;

    /**
     * Samples (adaptation intervals, 1 s by default) before the pacing starts: the tunnel's own
     * start (TLS, slow start) is not a rate to hold QEMU to, and a pace of the highest rate seen
     * grows only as fast as the pace allows.
     */
    static final int PACE_AFTER_SAMPLES = 5;

    /**
     * @param amst the raw window ({@code amst.raw-window}), its floor per connection (2 x {@code
     *     amst.checkpoint-interval}) and the switch-over drain the adaptive limit aims at
     * @param window the session's window: the queue limit is a sixteenth of it, at least 1 MiB
     * @param connections the session's QEMU connections, in channel order (a live view)
     * @param sessionReady whether the session may read at all: it is open, its codec may run and
     *     its sender can accept more
     * @param listener hears when the session as a whole stops and resumes reading
     * @param reading whether the session counts as reading at the start (its codec may run)
     * @param clock the session loop's clock and timer (the pacing)
     * @param context the session's log context
     */
    QemuReadGate(
            AmstConfig amst,
            long window,
            Collection<? extends Connection> connections,
            BooleanSupplier sessionReady,
            ReadingListener listener,
            boolean reading,
            Clock clock,
            String context) {
        this.clock = requireNonNull(clock, "clock is null");
        this.paceShare = amst.getReadPacePercent() / 100.0;
        this.connections = requireNonNull(connections, "connections is null");
        this.sessionReady = requireNonNull(sessionReady, "sessionReady is null");
        this.listener = requireNonNull(listener, "listener is null");
        this.context = requireNonNull(context, "context is null");
        this.configuredRawWindow = amst.getRawWindow().bytes();
        this.rawWindowFloor = 2 * amst.getCheckpointInterval().bytes();
        this.rawWindow = new RawWindow(
                configuredRawWindow,
                Math.min(configuredRawWindow, rawWindowFloor),
                amst.getSwitchoverDrain().toNanos(),
                amst.getCheckpointInterval().bytes() + AckScheduler.COALESCE_BYTES);
        this.queueLimit = Math.max(1 << 20, window / 16);
        this.reading = reading;
    }

    /**
     * Counts bytes read from QEMU, on that connection's own event loop; true when that connection
     * must stop reading (the queue is full: the session's loop or the codec lane is behind).
     */
    boolean queue(int bytes) {
        return queued.addAndGet(bytes) >= queueLimit;
    }

    /** Bytes that left the queue: their frames reached the sender, or they were dropped. */
    void dequeue(int bytes) {
        queued.addAndGet(-bytes);
    }

    /** {@code bytes} were read from QEMU (on the session's loop): they count against the pace. */
    void read(int bytes) {
        anyRead = true;
        if (isPaced()) {
            pacer.read(bytes, clock.nanoTime());
        }
    }

    // no clock read per QEMU read or update while nothing is paced (the start, or 0 %)
    private boolean isPaced() {
        return pacer.pace() > 0;
    }

    /** The pace in force, bytes per second; 0 while not paced. */
    double pace() {
        return pacer.pace();
    }

    /** Whether the session reads QEMU now (the last {@link #update}). */
    boolean isReading() {
        return reading;
    }

    /**
     * Switches each connection's reading on or off as the session, the queue and its raw window
     * allow (also re-enabling a connection that paused itself for the queue limit).
     */
    void update() {
        long wait = isPaced() ? pacer.waitNanos(clock.nanoTime()) : 0;
        if (wait > 0 && !resumeScheduled) {
            resumeScheduled = true;
            clock.schedule(wait, () -> {
                resumeScheduled = false;
                update();
            });
        }
        boolean ready = sessionReady.getAsBoolean();
        boolean queueFull = queued.get() >= queueLimit;
        boolean open = ready && !queueFull && wait == 0;
        long limit = channelRawWindow();
        boolean any = false;
        boolean ended = !connections.isEmpty();
        for (Connection connection : connections) {
            boolean read = open && !connection.isInboundEnded() && connection.undelivered() < limit;
            any |= read;
            ended &= connection.isInboundEnded();
            if (connection.isRegistered() && !connection.isInboundEnded() && connection.isAutoRead() != read) {
                connection.setAutoRead(read);
                if (!read) {
                    // let the receiver release what it holds back, or a full window could wait forever for a
                    // checkpoint
                    connection.fromQemuPaused();
                }
            }
        }
        boolean shouldRead = open && (any || connections.isEmpty());
        hold(shouldRead || ended ? null : holdReason(ready, queueFull, wait > 0));
        if (shouldRead != reading) {
            reading = shouldRead;
            listener.readingChanged(reading);
            if (!reading) {
                for (Connection connection : connections) {
                    connection.fromQemuPaused();
                }
            }
        }
    }

    /** What holds reading back, the session not reading (see {@link Hold} for the order). */
    private Hold holdReason(boolean ready, boolean queueFull, boolean paced) {
        if (!anyRead) {
            return Hold.START;
        }
        if (!ready) {
            return Hold.TUNNEL;
        }
        if (queueFull) {
            return Hold.CODEC;
        }
        return paced ? Hold.PACE : Hold.RAW_WINDOW;
    }

    // the clock is read only when what holds reading back changes
    private void hold(Hold hold) {
        if (hold == held) {
            return;
        }
        long now = clock.nanoTime();
        if (held != null) {
            heldNanos[held.ordinal()] += now - heldSince;
        }
        held = hold;
        heldSince = now;
    }

    /** How long each {@link Hold} held reading QEMU back so far (by ordinal), the current one up to now. */
    long[] heldNanos() {
        long[] nanos = heldNanos.clone();
        if (held != null) {
            nanos[held.ordinal()] += clock.nanoTime() - heldSince;
        }
        return nanos;
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
    long channelRawWindow() {
        int count = connections.size();
        if (count <= 1) {
            return rawWindow.limit();
        }
        return Math.min(configuredRawWindow, Math.max(rawWindowFloor, configuredRawWindow / count));
    }

    /**
     * QEMU stopped the guest for the switch-over (the source's encoder saw it in the stream): from
     * now on its last bytes are read without pacing. The pace exists to keep QEMU's bandwidth
     * estimate true until it decides to switch over, and it has decided; every millisecond its
     * last bytes wait in its socket is now downtime. The raw window stays as it is: where the link
     * drains the tail (pages that compress little), more bytes in flight only queue, and more
     * packets in flight mean more to lose (lifting it too put 52-58 MB instead of 25-36 behind
     * QEMU's last byte on S2 light, and the drain took 546-713 ms instead of 122-161).
     */
    void switchedOver() {
        switchedOver = true;
        pacer.pace(0, clock.nanoTime());
    }

    /** The peer's ACK: bytes of this direction's stream it wrote into its QEMU so far (cumulative). */
    void peerDelivered(long delivered) {
        peerDelivered = Math.max(peerDelivered, delivered);
    }

    /**
     * The source's controller interval: the raw window follows what the destination wrote into its
     * QEMU ({@code minRttMicros}: the path's lowest RTT, 0 if unknown), and the pace the rate the
     * tunnel can deliver QEMU's stream at now ({@link #deliverableRate}).
     *
     * @param highestGoodput the link's highest recent goodput, bytes per second of frames
     * @param rawRead the bytes read from QEMU so far (cumulative)
     * @param wireBytes the frame bytes handed to the sender so far (cumulative)
     */
    void sampleRawWindow(long nowNanos, long minRttMicros, double highestGoodput, long rawRead, long wireBytes) {
        long before = rawWindow.limit();
        rawWindow.sample(nowNanos, peerDelivered, minRttMicros);
        if (rawWindow.limit() != before && log.isDebugEnabled()) {
            log.debug("{} raw window {} -> {} bytes", context, before, rawWindow.limit());
        }
        highestRate = Math.max(highestRate, rawWindow.maxRate());
        double deliverable = deliverableRate(highestGoodput, rawRead - lastRawRead, wireBytes - lastWireBytes);
        lastRawRead = rawRead;
        lastWireBytes = wireBytes;
        if (++rateSamples > PACE_AFTER_SAMPLES && !switchedOver) {
            // the headroom lets the delivery rate grow; the deliverable rate is already the link's
            pacer.pace(Math.max(paceShare * highestRate, deliverable), nowNanos);
        }
    }

    /**
     * Frame bytes an interval must have produced for its compression to count in {@link
     * #deliverableRate}: below, an interval that read little says nothing of the stream.
     */
    static final long RATIO_MIN_WIRE_BYTES = 1 << 20;

    /**
     * The raw rate the tunnel can deliver QEMU's stream at now: the link's highest recent goodput
     * times the compression of the last interval (raw bytes read per frame byte); 0 when the
     * interval produced too little to say. The highest delivery rate seen before cannot stand for
     * it once the stream compresses better than it did (a heavily dirtying guest's later
     * iterations go as deltas): on S3 the pace then held QEMU back for half the migration while the
     * link idled, since the pace grows by only a quarter per interval, and QEMU, reading a low
     * bandwidth, took iterations longer to converge (unpaced, `heavy` took 18-20 s against 23-31).
     * The pace is the higher of it and {@code amst.read-pace-percent} of the highest delivery
     * rate: it is a capacity already, and takes no headroom.
     */
    static double deliverableRate(double highestGoodput, long rawRead, long wireBytes) {
        if (highestGoodput <= 0 || wireBytes < RATIO_MIN_WIRE_BYTES || rawRead <= 0) {
            return 0;
        }
        return highestGoodput * rawRead / wireBytes;
    }
}
