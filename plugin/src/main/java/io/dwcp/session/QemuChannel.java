package io.dwcp.session;

import static java.util.Objects.requireNonNull;

import io.dwcp.amst.AmstCheckpoint;
import io.dwcp.amst.AmstFin;
import io.dwcp.amst.FrameType;
import io.dwcp.codec.CodecException;
import io.dwcp.codec.StreamDecoder;
import io.dwcp.codec.StreamEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.socket.DuplexChannel;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.HexFormat;

/**
 * One QEMU connection of a session, both directions. Touched on the session's event loop only.
 *
 * <p>From QEMU: bytes go through the {@link StreamEncoder} into DATA frames; a running SHA-256
 * of the raw bytes is sent in a CHECKPOINT whenever QEMU's socket is drained and at least every
 * {@code amst.checkpoint-interval}, and in the FIN at the end.
 *
 * <p>To QEMU: DATA is decoded and <em>held back</em> until a CHECKPOINT or FIN whose offset and
 * digest match what was received; only verified bytes reach QEMU. So the final bytes of a stream
 * are delivered only after the end-to-end digest matched, and a mismatch fails the session
 * without delivering anything after the last good checkpoint.
 */
final class QemuChannel {
    private final Session session;
    private final int index;
    private final StreamEncoder encoder;
    private final StreamDecoder decoder;
    private final long checkpointInterval;
    private final int maxPayload;
    private Channel channel;

    // from QEMU
    private final MessageDigest inboundDigest = sha256();
    private long inboundOffset;
    private long sinceCheckpoint;
    private boolean inboundEnded;

    // to QEMU
    private final MessageDigest outboundDigest = sha256();
    private long outboundOffset;
    private final ArrayDeque<Pending> held = new ArrayDeque<>();
    private final ArrayDeque<Pending> verified = new ArrayDeque<>();
    private boolean finVerified;
    private boolean outboundEnded;
    private boolean outboundBroken;
    private long undelivered;
    private int writesInFlight;

    QemuChannel(
            Session session,
            int index,
            StreamEncoder encoder,
            StreamDecoder decoder,
            long checkpointInterval,
            int maxPayload) {
        this.session = requireNonNull(session, "session is null");
        this.index = index;
        this.encoder = requireNonNull(encoder, "encoder is null");
        this.decoder = requireNonNull(decoder, "decoder is null");
        this.checkpointInterval = checkpointInterval;
        this.maxPayload = maxPayload;
    }

    int index() {
        return index;
    }

    Channel channel() {
        return channel;
    }

    void attach(Channel channel) {
        this.channel = requireNonNull(channel, "channel is null");
        flushVerified();
    }

    boolean isInboundEnded() {
        return inboundEnded;
    }

    /** Both directions ended: QEMU's stream was sent with its FIN, and the peer's FIN was verified and delivered (or dropped: QEMU is gone). */
    boolean isDone() {
        return inboundEnded && outboundEnded;
    }

    long heldBytes() {
        return bytes(held);
    }

    /** Bytes verified and not yet written to QEMU (queued here, not counting Netty's buffer). */
    long verifiedBytes() {
        return bytes(verified);
    }

    private static long bytes(ArrayDeque<Pending> queue) {
        long bytes = 0;
        for (Pending pending : queue) {
            bytes += pending.buffer == null ? 0 : pending.buffer.readableBytes();
        }
        return bytes;
    }

    int writesInFlight() {
        return writesInFlight;
    }

    // ---- from QEMU to the tunnel ----

    void fromQemu(ByteBuf raw) {
        if (inboundEnded) {
            raw.release();
            return;
        }
        int length = raw.readableBytes();
        update(inboundDigest, raw);
        inboundOffset += length;
        sinceCheckpoint += length;
        session.stats().qemuBytesRead.add(length);
        session.countQemuRead(length);
        encoder.encode(raw, this::sendData);
        if (sinceCheckpoint >= checkpointInterval) {
            checkpoint();
        }
    }

    /** QEMU's socket is drained for now (or the window closed): let the receiver release what it holds. */
    void fromQemuPaused() {
        if (!inboundEnded && sinceCheckpoint > 0) {
            checkpoint();
        }
    }

    void fromQemuEnded() {
        if (inboundEnded) {
            return;
        }
        encoder.flush(this::sendData);
        inboundEnded = true;
        String summary = encoder.summary();
        if (summary != null) {
            session.logChannelSummary(index, summary);
        }
        session.sender().send(FrameType.FIN, index, new AmstFin(inboundOffset, inboundDigest.digest()).encode());
    }

    private void checkpoint() {
        encoder.flush(this::sendData);
        sinceCheckpoint = 0;
        session.sender()
                .send(FrameType.CHECKPOINT, index, new AmstCheckpoint(inboundOffset, snapshot(inboundDigest)).encode());
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
        if (finVerified) {
            payload.release();
            throw new SessionFailure("DATA for channel " + index + " after its FIN");
        }
        try {
            decoder.decode(payload, raw -> {
                update(outboundDigest, raw);
                outboundOffset += raw.readableBytes();
                held.addLast(new Pending(raw, 0));
            });
        } catch (CodecException e) {
            // nothing since the last verified checkpoint reaches QEMU: the session fails with the bytes held back
            throw new SessionFailure(e.getMessage() + "; holding back " + heldBytes() + " bytes");
        }
        // the frame's credit is returned once its bytes (or the last of them) reached QEMU
        held.addLast(new Pending(null, cost));
    }

    void onCheckpoint(AmstCheckpoint checkpoint) {
        verify(checkpoint.offset(), checkpoint.sha256(), "CHECKPOINT", snapshot(outboundDigest));
        verified.addAll(held);
        held.clear();
        flushVerified();
    }

    void onFin(AmstFin fin) {
        verify(fin.length(), fin.sha256(), "FIN", outboundDigest.digest());
        finVerified = true;
        verified.addAll(held);
        held.clear();
        flushVerified();
    }

    private void verify(long offset, byte[] expected, String what, byte[] actual) {
        if (offset != outboundOffset) {
            session.stats().digestMismatches.increment();
            throw new SessionFailure("end-to-end check failed on channel " + index + ": " + what + " at stream offset "
                    + offset + ", but " + outboundOffset + " bytes were rebuilt; holding back " + heldBytes()
                    + " bytes");
        }
        if (!MessageDigest.isEqual(expected, actual)) {
            session.stats().digestMismatches.increment();
            throw new SessionFailure("end-to-end digest mismatch on channel " + index + " at stream offset " + offset
                    + ": expected SHA-256 " + HexFormat.of().formatHex(expected) + ", found "
                    + HexFormat.of().formatHex(actual)
                    + "; holding back " + heldBytes() + " bytes");
        }
    }

    private void flushVerified() {
        if (channel == null) {
            return;
        }
        boolean wrote = false;
        while (!verified.isEmpty()) {
            Pending pending = verified.pollFirst();
            if (pending.buffer == null) {
                if (writesInFlight == 0) {
                    session.consumed(pending.cost);
                } else {
                    // returned when the writes before it completed
                    Pending marker = pending;
                    channel.write(Unpooled.EMPTY_BUFFER)
                            .addListener(future -> session.run(() -> writeDone(0, marker.cost)));
                    writesInFlight++;
                }
                continue;
            }
            if (outboundBroken || !channel.isActive()) {
                int dropped = pending.buffer.readableBytes();
                pending.buffer.release();
                if (session.role() == Session.Role.DESTINATION) {
                    if (!session.mayEndEarly(this)) {
                        throw new SessionFailure("destination QEMU closed connection " + index
                                + " before the end of the stream (" + dropped + " bytes could not be delivered)");
                    }
                    undelivered += dropped;
                    session.countQemuWritten(dropped);
                }
                continue;
            }
            int length = pending.buffer.readableBytes();
            writesInFlight++;
            ChannelFuture future = channel.write(pending.buffer);
            future.addListener(done -> session.run(() -> {
                if (!done.isSuccess()) {
                    undelivered += length;
                    writeFailed(done.cause());
                }
                writeDone(length, 0, done.isSuccess());
            }));
            wrote = true;
        }
        if (wrote || writesInFlight > 0) {
            channel.flush();
        }
        maybeShutdownOutput();
    }

    private void writeDone(int length, long cost) {
        writeDone(length, cost, true);
    }

    /** A write ended; bytes QEMU did not take still leave the window (they are gone, not held). */
    private void writeDone(int length, long cost, boolean delivered) {
        writesInFlight--;
        if (delivered) {
            session.stats().qemuBytesWritten.add(length);
        }
        session.countQemuWritten(length);
        if (cost > 0) {
            session.consumed(cost);
        }
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
            if (channel instanceof DuplexChannel duplex && channel.isActive() && !outboundBroken) {
                duplex.shutdownOutput();
            }
            session.checkDone();
        }
    }

    /** Drops everything not yet delivered (the session failed): the tail never reaches QEMU. */
    void discard() {
        for (Pending pending : held) {
            if (pending.buffer != null) {
                pending.buffer.release();
            }
        }
        held.clear();
        for (Pending pending : verified) {
            if (pending.buffer != null) {
                pending.buffer.release();
            }
        }
        verified.clear();
        Channels.close(channel);
    }

    /**
     * Destination: bytes of the source's stream the destination QEMU never read, because it closed
     * the connection first (only a multifd connection may end so; see {@link Session#mayEndEarly}).
     */
    long undeliveredBytes() {
        return undelivered;
    }

    /** QEMU closed the connection: what still arrives for it is dropped (the source QEMU is done). */
    void markOutboundBroken() {
        outboundBroken = true;
        flushVerified();
    }

    private static void update(MessageDigest digest, ByteBuf buffer) {
        if (buffer.nioBufferCount() == 1) {
            digest.update(buffer.nioBuffer());
            return;
        }
        for (ByteBuffer part : buffer.nioBuffers()) {
            digest.update(part);
        }
    }

    private static byte[] snapshot(MessageDigest digest) {
        try {
            return ((MessageDigest) digest.clone()).digest();
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException("SHA-256 implementation cannot be cloned", e);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private record Pending(ByteBuf buffer, long cost) {}
}
