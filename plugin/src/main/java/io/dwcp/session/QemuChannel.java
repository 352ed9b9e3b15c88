package io.dwcp.session;

import static java.util.Objects.requireNonNull;

import io.dwcp.amst.AmstCheckpoint;
import io.dwcp.amst.AmstFin;
import io.dwcp.amst.FrameType;
import io.dwcp.amst.StreamChecksum;
import io.dwcp.amst.StreamDigest;
import io.dwcp.codec.CodecException;
import io.dwcp.codec.StreamDecoder;
import io.dwcp.codec.StreamEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.socket.DuplexChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * One QEMU connection of a session, both directions.
 *
 * <p>From QEMU: bytes go through the {@link StreamEncoder} into DATA frames; a running {@link
 * StreamChecksum} of the raw bytes is sent in a CHECKPOINT whenever QEMU's socket is drained and
 * at least every {@code amst.checkpoint-interval}, and in the FIN at the end.
 *
 * <p>To QEMU: DATA is decoded and <em>held back</em> until a CHECKPOINT or FIN whose offset and
 * digest match what was received; only verified bytes reach QEMU. So the final bytes of a stream
 * are delivered only after the end-to-end digest matched, and a mismatch fails the session
 * without delivering anything after the last good checkpoint.
 *
 * <p>Threads: the encoder, the decoder and the two digests with their offsets belong to the
 * session's codec lane ({@link Session#onLane}); everything else (the connection, what is held
 * back and verified, the writes to QEMU) to the session's event loop. The loop hands bytes to the
 * lane in stream order and the lane hands its frames and rebuilt bytes back in the same order
 * ({@link Session#run}), so what reaches the tunnel and QEMU keeps the stream's order.
 */
final class QemuChannel implements QemuReadGate.Connection, AckScheduler.Connection {
    private final Session session;
    private final int index;
    private final Supplier<StreamEncoder> encoders;
    private final Supplier<StreamDecoder> decoders;
    private final long checkpointInterval;
    private final long checkpointDelayNanos;
    private final int maxPayload;
    private Channel channel;

    // ---- the lane's ----
    private StreamEncoder encoder;
    private StreamDecoder decoder;
    private final StreamChecksum inboundDigest = new StreamChecksum();
    private long inboundOffset;
    private long sinceCheckpoint;
    private final StreamChecksum outboundDigest = new StreamChecksum();
    private long outboundOffset;

    // ---- the loop's: from QEMU ----
    // QEMU's stream ended (no more bytes are read); its FIN was sent (after the lane flushed)
    private boolean inboundEnded;
    private boolean finSent;
    // bytes handed to the lane since the last checkpoint asked of it
    private long sinceCheckpointAsked;
    // a pause's checkpoint waits for QEMU's next bytes (amst.checkpoint-delay): whether one waits now
    private boolean pauseCheckpointPending;

    // raw bytes read from QEMU on this connection; of them, what the peer wrote into its QEMU (its ACKs)
    private long readFromQemu;
    private long peerDelivered;

    // ---- the loop's: to QEMU ----
    private final ArrayDeque<ByteBuf> held = new ArrayDeque<>();
    private final ArrayDeque<ByteBuf> verified = new ArrayDeque<>();
    // bytes of the peer's stream written into QEMU (or dropped: QEMU is gone), for the ACKs
    private long delivered;
    private boolean finReceived;
    private boolean finVerified;
    private boolean outboundEnded;
    private boolean outboundBroken;
    private long undelivered;
    private int writesInFlight;

    /**
     * @param encoders makes this connection's encoder, on the lane, at its first use
     * @param decoders makes this connection's decoder, on the lane, at its first use
     */
    QemuChannel(
            Session session,
            int index,
            Supplier<StreamEncoder> encoders,
            Supplier<StreamDecoder> decoders,
            long checkpointInterval,
            long checkpointDelayNanos,
            int maxPayload) {
        this.session = requireNonNull(session, "session is null");
        this.index = index;
        this.encoders = requireNonNull(encoders, "encoders is null");
        this.decoders = requireNonNull(decoders, "decoders is null");
        this.checkpointInterval = checkpointInterval;
        this.checkpointDelayNanos = checkpointDelayNanos;
        this.maxPayload = maxPayload;
    }

    @Override
    public int index() {
        return index;
    }

    Channel channel() {
        return channel;
    }

    void attach(Channel channel) {
        this.channel = requireNonNull(channel, "channel is null");
        flushVerified();
    }

    @Override
    public boolean isInboundEnded() {
        return inboundEnded;
    }

    @Override
    public boolean isRegistered() {
        return channel != null && channel.isRegistered();
    }

    @Override
    public boolean isAutoRead() {
        return channel != null && channel.config().isAutoRead();
    }

    @Override
    public void setAutoRead(boolean read) {
        channel.config().setAutoRead(read);
    }

    /** QEMU's stream on this connection was sent to its end, FIN included. */
    boolean isFinSent() {
        return finSent;
    }

    /** Both directions ended: QEMU's stream was sent with its FIN, and the peer's FIN was verified and delivered (or dropped: QEMU is gone). */
    boolean isDone() {
        return finSent && outboundEnded;
    }

    long heldBytes() {
        return bytes(held);
    }

    /** Bytes verified and not yet written to QEMU (queued here, not counting Netty's buffer). */
    long verifiedBytes() {
        return bytes(verified);
    }

    private static long bytes(ArrayDeque<ByteBuf> queue) {
        long bytes = 0;
        for (ByteBuf buffer : queue) {
            bytes += buffer.readableBytes();
        }
        return bytes;
    }

    /** Raw bytes read from this QEMU connection that the peer has not yet written into its QEMU. */
    @Override
    public long undelivered() {
        return readFromQemu - peerDelivered;
    }

    /** The peer's ACK: cumulative bytes of this connection it wrote into its QEMU. */
    void peerDelivered(long bytes) {
        peerDelivered = Math.max(peerDelivered, bytes);
    }

    /** Bytes of the peer's stream on this connection written into QEMU (or dropped), for the ACKs. */
    @Override
    public long delivered() {
        return delivered;
    }

    int writesInFlight() {
        return writesInFlight;
    }

    // ---- from QEMU to the tunnel ----

    /**
     * QEMU's next bytes, counted in the session's queue ({@link QemuReadGate#queue}) until their
     * frames were handed to the sender.
     */
    void fromQemu(ByteBuf raw) {
        int length = raw.readableBytes();
        if (inboundEnded) {
            raw.release();
            session.dequeueFromQemu(length);
            return;
        }
        session.stats().qemuBytesRead.add(length);
        session.countQemuRead(length);
        readFromQemu += length;
        sinceCheckpointAsked += length;
        session.onLane(() -> {
            if (session.codecClosed()) {
                raw.release();
                session.run(() -> session.dequeueFromQemu(length));
                return;
            }
            List<Outgoing> out = new ArrayList<>();
            inboundDigest.update(raw);
            inboundOffset += length;
            sinceCheckpoint += length;
            encoder().encode(raw, encoded -> out.add(new Outgoing(FrameType.DATA, encoded)));
            if (sinceCheckpoint >= checkpointInterval) {
                checkpoint(out);
            }
            // once the encoder saw QEMU's switch-over (the session heeds the first report)
            long switchover = encoder().switchoverOffset();
            session.run(() -> {
                if (switchover >= 0) {
                    session.switchoverSeen(index, switchover);
                }
                session.dequeueFromQemu(length);
                send(out);
                session.updateReading();
            });
        });
    }

    /**
     * QEMU's socket is drained for now (or the window closed): let the receiver release what it
     * holds. The checkpoint waits {@code amst.checkpoint-delay} first: when QEMU's next bytes come
     * by then (it writes a stream in bursts that drain the socket many times a second), it waits
     * for the pause after them, so the frames carry more than a burst each and no page is cut at
     * every pause (the encoder sends the part of a page it holds as raw bytes). It waits at most
     * {@link #MAX_CHECKPOINT_DELAYS} delays; a pause that lasts (QEMU waits, or the window stays
     * closed) gets its checkpoint after one.
     */
    @Override
    public void fromQemuPaused() {
        if (inboundEnded || sinceCheckpointAsked == 0 || pauseCheckpointPending) {
            return;
        }
        if (checkpointDelayNanos == 0) {
            checkpointNow();
            return;
        }
        pauseCheckpointPending = true;
        awaitQuiet(readFromQemu, 1);
    }

    /**
     * Checkpoints after the delay if QEMU sent nothing since {@code readAtPause} or this is the
     * {@code delays}-th delay of {@link #MAX_CHECKPOINT_DELAYS}; else waits again.
     */
    private void awaitQuiet(long readAtPause, int delays) {
        session.schedule(
                () -> {
                    if (inboundEnded || sinceCheckpointAsked == 0 || session.state() != Session.State.OPEN) {
                        pauseCheckpointPending = false;
                        return;
                    }
                    if (readFromQemu == readAtPause || delays >= MAX_CHECKPOINT_DELAYS) {
                        pauseCheckpointPending = false;
                        checkpointNow();
                    } else {
                        // QEMU went on: the pauses after its new bytes came while this one waited
                        awaitQuiet(readFromQemu, delays + 1);
                    }
                },
                checkpointDelayNanos);
    }

    /** How many {@code amst.checkpoint-delay}s a pause's checkpoint waits at most. */
    static final int MAX_CHECKPOINT_DELAYS = 10;

    private void checkpointNow() {
        sinceCheckpointAsked = 0;
        session.onLane(() -> {
            if (session.codecClosed() || sinceCheckpoint == 0) {
                return;
            }
            List<Outgoing> out = new ArrayList<>();
            checkpoint(out);
            session.run(() -> send(out));
        });
    }

    void fromQemuEnded() {
        if (inboundEnded) {
            return;
        }
        inboundEnded = true;
        session.onLane(() -> {
            if (session.codecClosed()) {
                return;
            }
            List<Outgoing> out = new ArrayList<>();
            encoder().flush(encoded -> out.add(new Outgoing(FrameType.DATA, encoded)));
            String summary = encoder().summary();
            out.add(new Outgoing(FrameType.FIN, new AmstFin(inboundOffset, inboundDigest.value()).encode()));
            session.run(() -> {
                if (summary != null) {
                    session.logChannelSummary(index, summary, undelivered());
                }
                if (send(out)) {
                    finSent = true;
                    session.streamEndSent();
                    session.checkDone();
                }
            });
        });
    }

    /** On the lane: what the decoder needs so far, then the digest of the stream so far. */
    private void checkpoint(List<Outgoing> out) {
        encoder().flush(encoded -> out.add(new Outgoing(FrameType.DATA, encoded)));
        sinceCheckpoint = 0;
        out.add(new Outgoing(FrameType.CHECKPOINT, new AmstCheckpoint(inboundOffset, inboundDigest.value()).encode()));
    }

    private StreamEncoder encoder() {
        if (encoder == null) {
            encoder = requireNonNull(encoders.get(), "encoder is null");
        }
        return encoder;
    }

    private StreamDecoder decoder() {
        if (decoder == null) {
            decoder = requireNonNull(decoders.get(), "decoder is null");
        }
        return decoder;
    }

    /** On the loop: the lane's frames to the sender, in order; false (and released) once the session ended. */
    private boolean send(List<Outgoing> out) {
        if (session.state() != Session.State.OPEN) {
            for (Outgoing outgoing : out) {
                outgoing.payload.release();
            }
            return false;
        }
        for (Outgoing outgoing : out) {
            if (outgoing.type == FrameType.DATA) {
                sendData(outgoing.payload);
            } else {
                session.sender().send(outgoing.type, index, outgoing.payload);
            }
        }
        return true;
    }

    private void sendData(ByteBuf encoded) {
        while (encoded.readableBytes() > maxPayload) {
            session.sender().send(FrameType.DATA, index, encoded.readRetainedSlice(maxPayload));
        }
        if (encoded.isReadable()) {
            session.sender().send(FrameType.DATA, index, encoded);
        } else {
            encoded.release();
        }
    }

    // ---- from the tunnel to QEMU ----

    void onData(ByteBuf payload, long cost) {
        if (finReceived) {
            payload.release();
            throw new SessionFailure("DATA for channel " + index + " after its FIN");
        }
        session.onLane(() -> {
            if (session.codecClosed()) {
                payload.release();
                return;
            }
            List<ByteBuf> rebuilt = new ArrayList<>();
            try {
                decoder().decode(payload, raw -> {
                    outboundDigest.update(raw);
                    outboundOffset += raw.readableBytes();
                    rebuilt.add(raw);
                });
            } catch (CodecException e) {
                rebuilt.forEach(ByteBuf::release);
                // nothing since the last verified checkpoint reaches QEMU: the session fails with the bytes held back
                session.run(() -> {
                    throw new SessionFailure(e.getMessage() + "; holding back " + heldBytes() + " bytes");
                });
                return;
            }
            session.run(() -> {
                if (session.state() != Session.State.OPEN) {
                    rebuilt.forEach(ByteBuf::release);
                    return;
                }
                held.addAll(rebuilt);
                // the frame's credit is returned once it was decoded: what waits for this QEMU is
                // bounded by the peer's raw window for this connection (ACK's ChannelDelivered), so
                // a connection the destination QEMU does not read now never holds up the others
                session.consumed(cost);
            });
        });
    }

    void onCheckpoint(AmstCheckpoint checkpoint) {
        session.onLane(() -> {
            if (session.codecClosed()) {
                return;
            }
            String mismatch = verify(checkpoint.offset(), checkpoint.checksum(), "CHECKPOINT", outboundDigest.value());
            session.run(() -> {
                if (session.state() != Session.State.OPEN) {
                    return;
                }
                failOn(mismatch);
                verified.addAll(held);
                held.clear();
                flushVerified();
            });
        });
    }

    void onFin(AmstFin fin) {
        finReceived = true;
        session.onLane(() -> {
            if (session.codecClosed()) {
                return;
            }
            String mismatch = verify(fin.length(), fin.checksum(), "FIN", outboundDigest.value());
            session.run(() -> {
                if (session.state() != Session.State.OPEN) {
                    return;
                }
                failOn(mismatch);
                finVerified = true;
                verified.addAll(held);
                held.clear();
                flushVerified();
                session.checkDone();
            });
        });
    }

    /** On the lane: what is wrong with the peer's checkpoint, or null if it matches what was rebuilt. */
    private String verify(long offset, long expected, String what, long actual) {
        if (offset != outboundOffset) {
            return "end-to-end check failed on channel " + index + ": " + what + " at stream offset " + offset
                    + ", but " + outboundOffset + " bytes were rebuilt";
        }
        if (expected != actual) {
            return "end-to-end digest mismatch on channel " + index + " at stream offset " + offset
                    + ": expected checksum " + StreamDigest.hex(expected) + ", found " + StreamDigest.hex(actual);
        }
        return null;
    }

    /** On the loop: a mismatch fails the session, naming what is held back (never delivered). */
    private void failOn(String mismatch) {
        if (mismatch != null) {
            session.stats().digestMismatches.increment();
            throw new SessionFailure(mismatch + "; holding back " + heldBytes() + " bytes");
        }
    }

    private void flushVerified() {
        if (channel == null) {
            return;
        }
        boolean wrote = false;
        while (!verified.isEmpty()) {
            ByteBuf buffer = verified.pollFirst();
            if (outboundBroken || !channel.isActive()) {
                int dropped = buffer.readableBytes();
                buffer.release();
                if (session.role() == Session.Role.DESTINATION) {
                    if (!session.mayEndEarly(this)) {
                        throw new SessionFailure("destination QEMU closed connection " + index
                                + " before the end of the stream (" + dropped + " bytes could not be delivered)");
                    }
                    undelivered += dropped;
                    delivered += dropped;
                    session.countQemuWritten(dropped);
                }
                continue;
            }
            int length = buffer.readableBytes();
            writesInFlight++;
            ChannelFuture future = channel.write(buffer);
            future.addListener(done -> session.run(() -> {
                if (!done.isSuccess()) {
                    undelivered += length;
                    writeFailed(done.cause());
                }
                writeDone(length, done.isSuccess());
            }));
            wrote = true;
        }
        if (wrote || writesInFlight > 0) {
            channel.flush();
        }
        maybeShutdownOutput();
    }

    /** A write ended; bytes QEMU did not take still leave the window (they are gone, not held). */
    private void writeDone(int length, boolean written) {
        writesInFlight--;
        if (written) {
            session.stats().qemuBytesWritten.add(length);
        }
        delivered += length;
        session.countQemuWritten(length);
        maybeShutdownOutput();
        session.checkDone();
    }

    private void writeFailed(Throwable cause) {
        if (outboundBroken) {
            return;
        }
        outboundBroken = true;
        session.qemuWriteFailed(this, cause);
    }

    private void maybeShutdownOutput() {
        if (finVerified
                && !outboundEnded
                && verified.isEmpty()
                && writesInFlight == 0
                && (channel != null || outboundBroken)) {
            outboundEnded = true;
            session.logStreamDelivered(index, delivered);
            if (channel instanceof DuplexChannel duplex && channel.isActive() && !outboundBroken) {
                duplex.shutdownOutput();
            }
            session.checkDone();
        }
    }

    /** Drops everything not yet delivered (the session failed): the tail never reaches QEMU. */
    void discard() {
        held.forEach(ByteBuf::release);
        held.clear();
        verified.forEach(ByteBuf::release);
        verified.clear();
        Channels.close(channel);
    }

    /**
     * Destination: bytes of the source's stream the destination QEMU never read, because it closed
     * the connection first (only a multifd connection may end so; see {@link QemuEndPolicy#mayEndEarly}).
     */
    long undeliveredBytes() {
        return undelivered;
    }

    /** QEMU closed the connection: what still arrives for it is dropped (the source QEMU is done). */
    void markOutboundBroken() {
        outboundBroken = true;
        flushVerified();
    }

    /** A frame the lane made, for the loop to send. */
    private record Outgoing(FrameType type, ByteBuf payload) {}
}
