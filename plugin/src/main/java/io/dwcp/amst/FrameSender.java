package io.dwcp.amst;

import static io.dwcp.amst.FrameCodec.HEADER_LENGTH;
import static io.dwcp.amst.FrameCodec.frameCost;
import static java.util.Objects.requireNonNull;

import io.netty.buffer.ByteBuf;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * The sending half of a session: numbers sequenced frames, stripes them over the streams, keeps
 * each until it is acknowledged, and re-sends a failed stream's unacknowledged frames on the
 * others. The window bounds the credit (payload + {@link FrameCodec#FRAME_COST_OVERHEAD} per
 * frame) sent but not yet consumed by the receiver; {@link #canAcceptMore()} tells the session
 * when to stop reading QEMU.
 *
 * <p>The receiver delivers in sequence order, so one frame stuck on a stream (a loss the stream's
 * TCP recovers slowly, a stream whose queue drains slowly) holds back every frame after it, on
 * every stream. {@link #resendStalledHead} sends the frame the receiver waits for again, on
 * another stream, once it has been out for longer than a threshold; the receiver drops whichever
 * copy arrives second.
 *
 * <p>Every frame of the session goes out through here, control frames too ({@link #sendControl},
 * written by its {@link ControlWriter}), so that {@code tunnelBytesSent} and each stream's byte
 * count are every byte written.
 *
 * <p>Not thread-safe: used on the session's event loop.
 */
public final class FrameSender {
    private final long window;
    private final SenderStats stats;
    private final ControlWriter control;
    private final ArrayDeque<InFlight> unacknowledged = new ArrayDeque<>();
    // sequenced but not yet transmitted: the window was full (QEMU reads in flight when it closed)
    private final ArrayDeque<InFlight> held = new ArrayDeque<>();
    private long transmittedCredit;
    // copy-on-write: the metrics endpoint lists the streams from its own thread; changes are rare
    private final List<TunnelStream> streams = new java.util.concurrent.CopyOnWriteArrayList<>();
    private long nextSequence;
    private long sentCredit;
    private long consumedCredit;
    private int cursor;
    private int unassigned;
    private final LongSupplier clock;

    public FrameSender(long window, SenderStats stats) {
        this(window, stats, System::nanoTime);
    }

    /** @param clock nanoseconds, for the time a frame has been out (tests give their own) */
    public FrameSender(long window, SenderStats stats, LongSupplier clock) {
        this.window = window;
        this.stats = requireNonNull(stats, "stats is null");
        this.control = new ControlWriter(stats);
        this.clock = requireNonNull(clock, "clock is null");
    }

    /**
     * If the oldest unacknowledged frame (the one the receiver waits for) was written more than
     * {@code thresholdNanos} ago and its stream's TCP is stalled ({@code flowing} says no: data out
     * and no acknowledgement from the peer's TCP within the threshold, as while TCP waits for a
     * retransmission timeout), that frame and every other frame on the same stream out for as long
     * are written again on the least loaded streams that still flow (the frames behind a loss on
     * one stream are every N-th frame of the session: re-sending only the head would cost a
     * threshold per frame). Each copy restarts its frame's clock, so a frame is sent again at most
     * once per threshold. Returns how many frames were sent again.
     * <p>
     * A head that is merely queued behind earlier bytes of a stream whose TCP still moves (a deep
     * send queue on a long, fat link) is not re-sent: a copy would duplicate the queue, not skip it.
     * When the whole link stalls (a burst of loss or an outage on the path every stream shares), a
     * copy on another stream would only queue behind the same bottleneck and double the bytes the
     * link must carry once it recovers: then nothing is re-sent, counted in
     * {@link SenderStats#resendsWithheld}.
     */
    public int resendStalledHead(long thresholdNanos, Predicate<TunnelStream> flowing) {
        InFlight head = unacknowledged.peekFirst();
        if (head == null || head.held || head.stream == null || streams.size() < 2) {
            return 0;
        }
        long now = clock.getAsLong();
        if (now - head.writtenNanos < thresholdNanos || flowing.test(head.stream)) {
            return 0;
        }
        TunnelStream stalled = head.stream;
        List<TunnelStream> targets = new ArrayList<>(streams.size());
        for (TunnelStream stream : streams) {
            if (stream != stalled && !stream.isDraining() && stream.channel().isActive() && flowing.test(stream)) {
                targets.add(stream);
            }
        }
        if (targets.isEmpty()) {
            stats.resendsWithheld.increment();
            return 0;
        }
        int resent = 0;
        for (InFlight inFlight : unacknowledged) {
            if (inFlight.held) {
                break;
            }
            if (inFlight.stream != stalled || now - inFlight.writtenNanos < thresholdNanos) {
                continue;
            }
            TunnelStream other = leastLoaded(targets);
            stats.framesResent.increment();
            transmit(inFlight, other, false);
            resent++;
        }
        if (resent > 0) {
            for (TunnelStream stream : streams) {
                if (stream != stalled) {
                    stream.channel().flush();
                }
            }
        }
        return resent;
    }

    /** The stream with the most room before it counts as full. */
    private static TunnelStream leastLoaded(List<TunnelStream> candidates) {
        TunnelStream best = null;
        long bestRoom = -1;
        for (TunnelStream stream : candidates) {
            long room = stream.channel().bytesBeforeUnwritable();
            if (room > bestRoom) {
                best = stream;
                bestRoom = room;
            }
        }
        return best;
    }

    /**
     * The end of the stream was handed over: the newest transmitted, unacknowledged frames get a
     * second copy each, on another stream, up to {@code budgetBytes} of copies (taken newest first,
     * written oldest first). While QEMU is stopped for the switch-over, a packet lost in the last
     * bytes of a stream has no later packets to reveal it: TCP finds it only by its tail loss probe
     * or retransmission timeout, two round trips or more, and every later frame waits behind it
     * at the receiver, which keeps only the first copy of a frame. A copy costs its bytes on the
     * link once, so the budget is a small share of what the link carries in a round trip. Held
     * frames (the window was full) and frames without a stream are left to the usual paths.
     * Returns how many copies were written ({@link SenderStats#tailCopies}).
     */
    public int copyTail(long budgetBytes) {
        List<TunnelStream> live = new ArrayList<>(streams.size());
        for (TunnelStream stream : streams) {
            if (!stream.isDraining() && stream.channel().isActive()) {
                live.add(stream);
            }
        }
        if (live.size() < 2 || budgetBytes <= 0) {
            return 0;
        }
        List<InFlight> chosen = new ArrayList<>();
        long spent = 0;
        Iterator<InFlight> newestFirst = unacknowledged.descendingIterator();
        while (newestFirst.hasNext()) {
            InFlight inFlight = newestFirst.next();
            if (inFlight.held || inFlight.stream == null) {
                continue;
            }
            long cost = HEADER_LENGTH + inFlight.frame.payloadLength();
            if (spent + cost > budgetBytes) {
                break;
            }
            spent += cost;
            chosen.add(inFlight);
        }
        // the copies go round the live streams, so that one lost packet holds back few of them; of two
        // streams in a row one is not the frame's own
        int next = 0;
        for (int i = chosen.size() - 1; i >= 0; i--) {
            InFlight inFlight = chosen.get(i);
            TunnelStream other = live.get(next++ % live.size());
            if (other == inFlight.stream) {
                other = live.get(next++ % live.size());
            }
            stats.tailCopies.increment();
            transmit(inFlight, other, false);
        }
        if (!chosen.isEmpty()) {
            live.forEach(stream -> stream.channel().flush());
        }
        return chosen.size();
    }

    /** Sends a sequenced frame; takes ownership of the payload. */
    public void send(FrameType type, int channel, ByteBuf payload) {
        if (!type.isSequenced()) {
            throw new IllegalArgumentException("not a sequenced frame type: " + type);
        }
        Frame frame = new Frame(type, nextSequence++, channel, payload);
        sentCredit += frameCost(frame.payloadLength());
        InFlight inFlight = new InFlight(frame);
        unacknowledged.addLast(inFlight);
        held.addLast(inFlight);
        transmitHeld();
    }

    /**
     * Transmits held frames, in order, while the credit transmitted and not consumed is below the
     * window: the receiver never holds more than the window plus one frame.
     */
    private void transmitHeld() {
        while (!held.isEmpty() && transmittedCredit - consumedCredit < window) {
            InFlight inFlight = held.pollFirst();
            transmittedCredit += frameCost(inFlight.frame.payloadLength());
            write(inFlight);
        }
    }

    /** Sends an unsequenced control frame on some stream (dropped if there is none). */
    public boolean sendControl(ControlPayload payload) {
        TunnelStream stream = pick();
        if (stream == null) {
            return false;
        }
        control.write(stream, payload, false);
        return true;
    }

    /**
     * Sends an unsequenced control frame on the given stream: the first HELLO on a stream the
     * session is taking up, a PONG on the PING's stream, the PINGs of every stream; with {@code
     * close}, the stream closes once it is written (ABORT, the last ACK).
     */
    public void sendControl(TunnelStream stream, ControlPayload payload, boolean close) {
        control.write(stream, payload, close);
    }

    /** True while the window has room and some stream can take more bytes without queueing. */
    public boolean canAcceptMore() {
        return inFlight() < window && hasWritableStream();
    }

    public boolean isWindowFull() {
        return inFlight() >= window;
    }

    public boolean hasWritableStream() {
        for (TunnelStream stream : streams) {
            if (!stream.isDraining() && stream.channel().isWritable()) {
                return true;
            }
        }
        return false;
    }

    public long inFlight() {
        return sentCredit - consumedCredit;
    }

    public long window() {
        return window;
    }

    public long consumedCredit() {
        return consumedCredit;
    }

    public long nextSequence() {
        return nextSequence;
    }

    @Override
    public String toString() {
        return "sender[next=" + nextSequence + " inFlight=" + inFlight() + " window=" + window + " unacknowledged="
                + unacknowledged.size()
                + " held=" + held.size() + " unassigned=" + unassigned + " transmitted=" + transmittedCredit
                + " consumed=" + consumedCredit
                + " streams=" + streams.size() + " writable=" + hasWritableStream() + "]";
    }

    public int unacknowledgedCount() {
        return unacknowledged.size();
    }

    public List<TunnelStream> streams() {
        return streams;
    }

    /**
     * An ACK arrived: frames below {@code next} were received, {@code consumed} credit is free again.
     * Each frame it covers adds its time since its first transmission to
     * {@link SenderStats#frameDeliverySeconds} (one clock read per ACK).
     */
    public void acknowledge(long next, long consumed) {
        long now = clock.getAsLong();
        while (!unacknowledged.isEmpty()
                && unacknowledged.peekFirst().frame.sequence() < next
                && !unacknowledged.peekFirst().held) {
            InFlight inFlight = unacknowledged.pollFirst();
            if (inFlight.stream == null) {
                unassigned--;
            }
            if (inFlight.transmitted) {
                stats.frameDelivered(now - inFlight.firstWrittenNanos);
            }
            inFlight.frame.release();
        }
        if (consumed > consumedCredit) {
            consumedCredit = Math.min(consumed, transmittedCredit);
        }
        transmitHeld();
    }

    /** Whether the stream still carries unacknowledged frames (a draining stream closes when not). */
    public boolean hasUnacknowledged(TunnelStream stream) {
        for (InFlight inFlight : unacknowledged) {
            if (inFlight.stream == stream) {
                return true;
            }
        }
        return false;
    }

    public void streamUp(TunnelStream stream) {
        streams.add(stream);
        if (unassigned > 0) {
            for (InFlight inFlight : unacknowledged) {
                if (inFlight.stream == null && !inFlight.held) {
                    unassigned--;
                    stats.framesResent.increment();
                    write(inFlight);
                }
            }
        }
    }

    /** The stream failed or closed: its unacknowledged frames go out again on the others, in order. */
    public void streamDown(TunnelStream stream) {
        if (!streams.remove(stream)) {
            return;
        }
        cursor = 0;
        List<InFlight> orphans = new ArrayList<>();
        for (InFlight inFlight : unacknowledged) {
            if (inFlight.stream == stream && !inFlight.held) {
                inFlight.stream = null;
                unassigned++;
                orphans.add(inFlight);
            }
        }
        if (streams.isEmpty()) {
            return;
        }
        for (InFlight inFlight : orphans) {
            unassigned--;
            stats.framesResent.increment();
            write(inFlight);
        }
    }

    public void releaseAll() {
        Iterator<InFlight> iterator = unacknowledged.iterator();
        while (iterator.hasNext()) {
            iterator.next().frame.release();
            iterator.remove();
        }
        held.clear();
        unassigned = 0;
    }

    private void write(InFlight inFlight) {
        inFlight.held = false;
        TunnelStream stream = pick();
        if (stream == null) {
            inFlight.stream = null;
            unassigned++;
            return;
        }
        stats.framesSent.increment();
        transmit(inFlight, stream, true);
    }

    /** Writes a frame on a stream (a copy of it: the frame stays here until acknowledged) and counts it. */
    private void transmit(InFlight inFlight, TunnelStream stream, boolean flush) {
        inFlight.stream = stream;
        inFlight.writtenNanos = clock.getAsLong();
        if (!inFlight.transmitted) {
            inFlight.transmitted = true;
            inFlight.firstWrittenNanos = inFlight.writtenNanos;
        }
        Frame frame = inFlight.frame;
        stream.recordSent(HEADER_LENGTH + frame.payloadLength());
        stats.tunnelBytesSent.add(HEADER_LENGTH + frame.payloadLength());
        if (flush) {
            stream.channel()
                    .writeAndFlush(frame.retainedDuplicate(), stream.channel().voidPromise());
        } else {
            stream.channel().write(frame.retainedDuplicate(), stream.channel().voidPromise());
        }
    }

    /** Round robin over writable streams that are not draining; when none is writable, any live one. */
    private TunnelStream pick() {
        int count = streams.size();
        if (count == 0) {
            return null;
        }
        TunnelStream fallback = null;
        for (int i = 0; i < count; i++) {
            TunnelStream stream = streams.get((cursor + i) % count);
            if (stream.isDraining()) {
                continue;
            }
            if (stream.channel().isWritable()) {
                cursor = (cursor + i + 1) % count;
                return stream;
            }
            if (fallback == null) {
                fallback = stream;
            }
        }
        if (fallback == null) {
            fallback = streams.get(cursor % count);
        }
        cursor = (cursor + 1) % count;
        return fallback;
    }

    private static final class InFlight {
        private final Frame frame;
        private TunnelStream stream;
        private boolean held = true;
        // the last copy's time (for re-sending), and the first one's (for the delivery time)
        private long writtenNanos;
        private boolean transmitted;
        private long firstWrittenNanos;

        private InFlight(Frame frame) {
            this.frame = frame;
        }
    }
}
