package io.dwcp.amst;

import static java.util.Objects.requireNonNull;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.buffer.Unpooled;

/**
 * One AMST frame: see {@link FrameCodec} for the wire grammar. Owns one reference of its payload.
 */
public final class Frame implements ByteBufHolder {
    private final FrameType type;
    private final long sequence;
    private final int channel;
    private final ByteBuf payload;

    public Frame(FrameType type, long sequence, int channel, ByteBuf payload) {
        this.type = requireNonNull(type, "type is null");
        this.sequence = sequence;
        this.channel = channel;
        this.payload = requireNonNull(payload, "payload is null");
    }

    public static Frame control(FrameType type, ByteBuf payload) {
        return new Frame(type, 0, 0, payload);
    }

    public static Frame empty(FrameType type) {
        return new Frame(type, 0, 0, Unpooled.EMPTY_BUFFER);
    }

    public FrameType type() {
        return type;
    }

    public long sequence() {
        return sequence;
    }

    public int channel() {
        return channel;
    }

    public ByteBuf payload() {
        return payload;
    }

    public int payloadLength() {
        return payload.readableBytes();
    }

    /** The same frame with another sequence number (the payload reference moves to the result). */
    public Frame withSequence(long newSequence) {
        return new Frame(type, newSequence, channel, payload);
    }

    /** A frame sharing this payload, with its own reference (for writing while keeping this one). */
    public Frame retainedDuplicate() {
        return new Frame(type, sequence, channel, payload.retainedDuplicate());
    }

    @Override
    public ByteBuf content() {
        return payload;
    }

    @Override
    public Frame copy() {
        return replace(payload.copy());
    }

    @Override
    public Frame duplicate() {
        return replace(payload.duplicate());
    }

    @Override
    public Frame replace(ByteBuf content) {
        return new Frame(type, sequence, channel, content);
    }

    @Override
    public int refCnt() {
        return payload.refCnt();
    }

    @Override
    public Frame retain() {
        payload.retain();
        return this;
    }

    @Override
    public Frame retain(int increment) {
        payload.retain(increment);
        return this;
    }

    @Override
    public Frame touch() {
        payload.touch();
        return this;
    }

    @Override
    public Frame touch(Object hint) {
        payload.touch(hint);
        return this;
    }

    @Override
    public boolean release() {
        return payload.release();
    }

    @Override
    public boolean release(int decrement) {
        return payload.release(decrement);
    }

    @Override
    public String toString() {
        return type + "[seq=" + sequence + " channel=" + channel + " length=" + payload.readableBytes() + "]";
    }
}
