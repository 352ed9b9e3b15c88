package io.dwcp.amst;

import io.netty.buffer.ByteBuf;

/**
 * The typed payload of an AMST frame other than DATA and CHANNEL_OPEN (whose payloads are the
 * channel's bytes and nothing). Each record's javadoc is the grammar of its payload; all integers
 * are big-endian. A record's {@code decode} reads a whole payload and refuses anything else with
 * an {@link AmstProtocolException} naming the field and the value; {@link #encode} writes exactly
 * what {@code decode} accepts.
 */
public sealed interface ControlPayload
        permits AmstHello, AmstAck, AmstPing, AmstPong, AmstAbort, AmstOpen, AmstAccept, AmstCheckpoint, AmstFin {
    FrameType type();

    /** The payload's bytes in a new buffer (the caller owns it). */
    ByteBuf encode();
}
