package io.dwcp.amst;

import static java.util.Objects.requireNonNull;

import io.netty.buffer.ByteBuf;

/**
 * CHECKPOINT: how much of one QEMU connection's stream the sender has sent so far and its digest:
 * the receiver releases the bytes up to here to its QEMU only if what it rebuilt matches.
 * <pre>
 * Checkpoint =&gt;                         ; exactly 16 bytes
 *   (header) Channel =&gt; int32   the QEMU connection
 *   Offset =&gt; int64   0..2^63-1   bytes of the channel's stream (as QEMU wrote them) so far
 *   Checksum =&gt; uint64   CRC-32C (high 32 bits) and CRC-32 (low 32 bits) of those bytes
 * </pre>
 * (the body is a {@link StreamDigest}).
 */
public record AmstCheckpoint(StreamDigest digest) implements ControlPayload {
    public static final int LENGTH = StreamDigest.LENGTH;

    public AmstCheckpoint {
        requireNonNull(digest, "digest is null");
    }

    public AmstCheckpoint(long offset, long checksum) {
        this(new StreamDigest(offset, checksum));
    }

    public long offset() {
        return digest.offset();
    }

    public long checksum() {
        return digest.checksum();
    }

    @Override
    public FrameType type() {
        return FrameType.CHECKPOINT;
    }

    @Override
    public ByteBuf encode() {
        return digest.encode();
    }

    public static AmstCheckpoint decode(ByteBuf payload) {
        return new AmstCheckpoint(StreamDigest.decode(FrameType.CHECKPOINT, payload, "Offset"));
    }
}
