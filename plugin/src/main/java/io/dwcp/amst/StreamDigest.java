package io.dwcp.amst;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * How far one QEMU connection's stream has come and the {@link StreamChecksum} of its bytes up to
 * there: the body of both CHECKPOINT (the stream so far) and FIN (the whole stream).
 * <pre>
 * StreamDigest =&gt;                         ; exactly 16 bytes
 *   Offset   =&gt; int64   0..2^63-1   bytes of the channel's stream, as QEMU wrote them
 *   Checksum =&gt; uint64              CRC-32C (high 32 bits) and CRC-32 (low 32 bits) of those bytes
 * </pre>
 */
public record StreamDigest(long offset, long checksum) {
    public static final int LENGTH = 16;
    /** The length before the checksum: the offset and a SHA-256. */
    private static final int OLD_LENGTH = 40;

    public StreamDigest {
        if (offset < 0) {
            throw new IllegalArgumentException("offset is negative: " + offset);
        }
    }

    ByteBuf encode() {
        return Unpooled.buffer(LENGTH, LENGTH).writeLong(offset).writeLong(checksum);
    }

    /** Reads the payload of a {@code type} frame, whose offset field the grammar calls {@code offsetField}. */
    static StreamDigest decode(FrameType type, ByteBuf payload, String offsetField) {
        if (payload.readableBytes() == OLD_LENGTH) {
            throw new AmstProtocolException(
                    type,
                    "payload length",
                    LENGTH + " bytes",
                    OLD_LENGTH + " bytes (a peer of an older release, whose checksum was a SHA-256)");
        }
        AmstProtocolException.checkLength(type, payload, LENGTH);
        long offset = AmstProtocolException.readNonNegativeLong(type, payload, offsetField);
        return new StreamDigest(offset, payload.readLong());
    }

    /** The checksum as it is written: 16 hex digits, CRC-32C first. */
    public static String hex(long checksum) {
        return String.format("%016x", checksum);
    }

    @Override
    public String toString() {
        return offset + " bytes, checksum " + hex(checksum);
    }
}
