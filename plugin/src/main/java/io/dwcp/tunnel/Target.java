package io.dwcp.tunnel;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.nio.charset.StandardCharsets;

import static java.util.Objects.requireNonNull;

/**
 * What the destination dwcpd connects to: the unix socket {@code <run-dir>/peer/<name>.sock} or
 * the loopback TCP port QEMU -incoming listens on. Payload of the OPEN frame.
 */
public record Target(Kind kind, String value)
{
    public enum Kind
    {
        UNIX(0), TCP(1);

        private final int code;

        Kind(int code)
        {
            this.code = code;
        }
    }

    public Target
    {
        requireNonNull(kind, "kind is null");
        requireNonNull(value, "value is null");
    }

    public static Target unix(String name)
    {
        return new Target(Kind.UNIX, name);
    }

    public static Target tcp(int port)
    {
        return new Target(Kind.TCP, Integer.toString(port));
    }

    /** The start of an OPEN payload: {@code u8 kind, be16 length, value (UTF-8)}. */
    public ByteBuf encode()
    {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        ByteBuf buffer = Unpooled.buffer(3 + bytes.length);
        buffer.writeByte(kind.code);
        buffer.writeShort(bytes.length);
        buffer.writeBytes(bytes);
        return buffer;
    }

    /** Decodes the start of an OPEN payload (what follows stays unread); throws IllegalArgumentException with what is wrong. */
    public static Target decode(ByteBuf payload)
    {
        if (payload.readableBytes() < 4) {
            throw new IllegalArgumentException("OPEN payload too short: " + payload.readableBytes() + " bytes");
        }
        int code = payload.readUnsignedByte();
        int length = payload.readUnsignedShort();
        if (length < 1 || length > payload.readableBytes()) {
            throw new IllegalArgumentException("OPEN target length: expected 1.." + payload.readableBytes() + ", found " + length);
        }
        String value = payload.readCharSequence(length, StandardCharsets.UTF_8).toString();
        return switch (code) {
            case 0 -> {
                io.dwcp.daemon.NodeConfig.checkName(value, "OPEN unix target");
                yield unix(value);
            }
            case 1 -> {
                int port = Integer.parseInt(value);
                if (port < 1 || port > 65535) {
                    throw new IllegalArgumentException("OPEN TCP target out of range: " + port);
                }
                yield tcp(port);
            }
            default -> throw new IllegalArgumentException("OPEN target kind: expected 0 or 1, found " + code);
        };
    }

    @Override
    public String toString()
    {
        return kind == Kind.UNIX ? "unix:" + value : "tcp:" + value;
    }
}
