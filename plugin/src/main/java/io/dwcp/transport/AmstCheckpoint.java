package io.dwcp.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.util.Arrays;
import java.util.HexFormat;

import static java.util.Objects.requireNonNull;

/**
 * CHECKPOINT: how much of one QEMU connection's stream the sender has sent so far and its digest:
 * the receiver releases the bytes up to here to its QEMU only if what it rebuilt matches.
 * <pre>
 * Checkpoint =&gt;                         ; exactly 40 bytes
 *   (header) Channel =&gt; int32   the QEMU connection
 *   Offset =&gt; int64   0..2^63-1   bytes of the channel's stream (as QEMU wrote them) so far
 *   Sha256 =&gt; 32 bytes          SHA-256 of those bytes
 * </pre>
 */
public record AmstCheckpoint(long offset, byte[] sha256)
        implements ControlPayload
{
    public static final int LENGTH = 8 + FrameCodec.SHA256_LENGTH;

    public AmstCheckpoint
    {
        if (offset < 0) {
            throw new IllegalArgumentException("offset is negative: " + offset);
        }
        requireNonNull(sha256, "sha256 is null");
        if (sha256.length != FrameCodec.SHA256_LENGTH) {
            throw new IllegalArgumentException("sha256 must be " + FrameCodec.SHA256_LENGTH + " bytes: " + sha256.length);
        }
        sha256 = sha256.clone();
    }

    @Override
    public byte[] sha256()
    {
        return sha256.clone();
    }

    @Override
    public FrameType type()
    {
        return FrameType.CHECKPOINT;
    }

    @Override
    public ByteBuf encode()
    {
        return Unpooled.buffer(LENGTH, LENGTH).writeLong(offset).writeBytes(sha256);
    }

    public static AmstCheckpoint decode(ByteBuf payload)
    {
        AmstProtocolException.checkLength(FrameType.CHECKPOINT, payload, LENGTH);
        long offset = AmstProtocolException.readNonNegativeLong(FrameType.CHECKPOINT, payload, "Offset");
        byte[] sha256 = new byte[FrameCodec.SHA256_LENGTH];
        payload.readBytes(sha256);
        return new AmstCheckpoint(offset, sha256);
    }

    @Override
    public boolean equals(Object other)
    {
        return other instanceof AmstCheckpoint that && offset == that.offset && Arrays.equals(sha256, that.sha256);
    }

    @Override
    public int hashCode()
    {
        return Long.hashCode(offset) * 31 + Arrays.hashCode(sha256);
    }

    @Override
    public String toString()
    {
        return "AmstCheckpoint[offset=" + offset + " sha256=" + HexFormat.of().formatHex(sha256) + "]";
    }
}
