package io.dwcp.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.util.Arrays;
import java.util.HexFormat;

import static java.util.Objects.requireNonNull;

/**
 * FIN: the end of one QEMU connection's stream in this direction, with its length and digest:
 * the receiver releases the rest of the stream to its QEMU only if what it rebuilt matches.
 * <pre>
 * Fin =&gt;                         ; exactly 40 bytes
 *   (header) Channel =&gt; int32   the QEMU connection
 *   Length =&gt; int64   0..2^63-1   bytes of the whole stream (as QEMU wrote them)
 *   Sha256 =&gt; 32 bytes          SHA-256 of the whole stream
 * </pre>
 */
public record AmstFin(long length, byte[] sha256)
        implements ControlPayload
{
    public static final int LENGTH = 8 + FrameCodec.SHA256_LENGTH;

    public AmstFin
    {
        if (length < 0) {
            throw new IllegalArgumentException("length is negative: " + length);
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
        return FrameType.FIN;
    }

    @Override
    public ByteBuf encode()
    {
        return Unpooled.buffer(LENGTH, LENGTH).writeLong(length).writeBytes(sha256);
    }

    public static AmstFin decode(ByteBuf payload)
    {
        AmstProtocolException.checkLength(FrameType.FIN, payload, LENGTH);
        long length = AmstProtocolException.readNonNegativeLong(FrameType.FIN, payload, "Length");
        byte[] sha256 = new byte[FrameCodec.SHA256_LENGTH];
        payload.readBytes(sha256);
        return new AmstFin(length, sha256);
    }

    @Override
    public boolean equals(Object other)
    {
        return other instanceof AmstFin that && length == that.length && Arrays.equals(sha256, that.sha256);
    }

    @Override
    public int hashCode()
    {
        return Long.hashCode(length) * 31 + Arrays.hashCode(sha256);
    }

    @Override
    public String toString()
    {
        return "AmstFin[length=" + length + " sha256=" + HexFormat.of().formatHex(sha256) + "]";
    }
}
