package io.dwcp.amst;

import static java.util.Objects.requireNonNull;

import io.netty.buffer.ByteBuf;

/**
 * FIN: the end of one QEMU connection's stream in this direction, with its length and digest:
 * the receiver releases the rest of the stream to its QEMU only if what it rebuilt matches.
 * <pre>
 * Fin =&gt;                         ; exactly 16 bytes
 *   (header) Channel =&gt; int32   the QEMU connection
 *   Length =&gt; int64   0..2^63-1   bytes of the whole stream (as QEMU wrote them)
 *   Checksum =&gt; uint64   CRC-32C (high 32 bits) and CRC-32 (low 32 bits) of the whole stream
 * </pre>
 * (the body is a {@link StreamDigest}).
 */
public record AmstFin(StreamDigest digest) implements ControlPayload {
    public static final int LENGTH = StreamDigest.LENGTH;

    public AmstFin {
        requireNonNull(digest, "digest is null");
    }

    public AmstFin(long length, long checksum) {
        this(new StreamDigest(length, checksum));
    }

    public long length() {
        return digest.offset();
    }

    public long checksum() {
        return digest.checksum();
    }

    @Override
    public FrameType type() {
        return FrameType.FIN;
    }

    @Override
    public ByteBuf encode() {
        return digest.encode();
    }

    public static AmstFin decode(ByteBuf payload) {
        return new AmstFin(StreamDigest.decode(FrameType.FIN, payload, "Length"));
    }
}
