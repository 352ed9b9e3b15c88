package io.dwcp.amst;

import static java.util.Objects.requireNonNull;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * How far one QEMU connection's stream has come and the SHA-256 of its bytes up to there: the body
 * of both CHECKPOINT (the stream so far) and FIN (the whole stream).
 * <pre>
 * StreamDigest =&gt;                         ; exactly 40 bytes
 *   Offset =&gt; int64   0..2^63-1   bytes of the channel's stream, as QEMU wrote them
 *   Sha256 =&gt; 32 bytes          SHA-256 of those bytes
 * </pre>
 */
public record StreamDigest(long offset, byte[] sha256) {
    public static final int LENGTH = 8 + FrameCodec.SHA256_LENGTH;

    public StreamDigest {
        if (offset < 0) {
            throw new IllegalArgumentException("offset is negative: " + offset);
        }
        requireNonNull(sha256, "sha256 is null");
        if (sha256.length != FrameCodec.SHA256_LENGTH) {
            throw new IllegalArgumentException(
                    "sha256 must be " + FrameCodec.SHA256_LENGTH + " bytes: " + sha256.length);
        }
        sha256 = sha256.clone();
    }

    @Override
    public byte[] sha256() {
        return sha256.clone();
    }

    ByteBuf encode() {
        return Unpooled.buffer(LENGTH, LENGTH).writeLong(offset).writeBytes(sha256);
    }

    /** Reads the payload of a {@code type} frame, whose offset field the grammar calls {@code offsetField}. */
    static StreamDigest decode(FrameType type, ByteBuf payload, String offsetField) {
        AmstProtocolException.checkLength(type, payload, LENGTH);
        long offset = AmstProtocolException.readNonNegativeLong(type, payload, offsetField);
        byte[] sha256 = new byte[FrameCodec.SHA256_LENGTH];
        payload.readBytes(sha256);
        return new StreamDigest(offset, sha256);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof StreamDigest that && offset == that.offset && Arrays.equals(sha256, that.sha256);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(offset) * 31 + Arrays.hashCode(sha256);
    }

    @Override
    public String toString() {
        return offset + " bytes, SHA-256 " + HexFormat.of().formatHex(sha256);
    }
}
