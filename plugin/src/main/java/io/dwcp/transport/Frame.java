package io.dwcp.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import static java.util.Objects.requireNonNull;

/**
 * One AMST frame: see {@link FrameCodec} for the wire grammar. Owns one reference of its payload.
 */
public final class Frame
{
    private final FrameType type;
    private final long sequence;
    private final int channel;
    private final ByteBuf payload;

    public Frame(FrameType type, long sequence, int channel, ByteBuf payload)
    {
        this.type = requireNonNull(type, "type is null");
        this.sequence = sequence;
        this.channel = channel;
        this.payload = requireNonNull(payload, "payload is null");
    }

    public static Frame control(FrameType type, ByteBuf payload)
    {
        return new Frame(type, 0, 0, payload);
    }

    public static Frame empty(FrameType type)
    {
        return new Frame(type, 0, 0, Unpooled.EMPTY_BUFFER);
    }

    public FrameType type()
    {
        return type;
    }

    public long sequence()
    {
        return sequence;
    }

    public int channel()
    {
        return channel;
    }

    public ByteBuf payload()
    {
        return payload;
    }

    public int payloadLength()
    {
        return payload.readableBytes();
    }

    /** The same frame with another sequence number (the payload reference moves to the result). */
    public Frame withSequence(long newSequence)
    {
        return new Frame(type, newSequence, channel, payload);
    }

    /** A frame sharing this payload, with its own reference (for writing while keeping this one). */
    public Frame retainedDuplicate()
    {
        return new Frame(type, sequence, channel, payload.retainedDuplicate());
    }

    public void release()
    {
        payload.release();
    }

    @Override
    public String toString()
    {
        return type + "[seq=" + sequence + " channel=" + channel + " length=" + payload.readableBytes() + "]";
    }
}
