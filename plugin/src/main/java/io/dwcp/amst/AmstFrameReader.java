package io.dwcp.amst;

/**
 * The one place that reads AMST frame payloads: checks a decoded {@link Frame}'s header fields
 * against its type and decodes its payload with the type's record, then calls the {@link
 * AmstFrameListener} method of that type. {@link FrameDecoder} has already checked length, magic,
 * type, flags and CRC; this adds, per type:
 * <pre>
 * type          Sequence   Channel          payload
 * HELLO         0          0                {@link AmstHello}
 * ACK           0          0                {@link AmstAck}
 * PING, PONG    0          0                {@link AmstPing}, {@link AmstPong}
 * ABORT         0          0                {@link AmstAbort}
 * PAD           never: only a spare stream sends it, before HELLO ({@code TunnelServer} discards it)
 * OPEN          any        0                {@link AmstOpen}
 * ACCEPT        any        0 or 1           {@link AmstAccept}
 * CHANNEL_OPEN  any        the channel      empty
 * DATA          any        the channel      the channel's bytes (any length)
 * CHECKPOINT    any        the channel      {@link AmstCheckpoint}
 * FIN           any        the channel      {@link AmstFin}
 * </pre>
 * Anything else raises {@link AmstProtocolException}, and the listener is not called. Stateless;
 * the payload's reader index may move; the caller keeps ownership of the frame.
 */
public final class AmstFrameReader {
    private AmstFrameReader() {}

    /** Reads a frame of an unsequenced (per-stream control) type that arrived on {@code stream}. */
    public static void readControl(TunnelStream stream, Frame frame, AmstFrameListener listener) {
        FrameType type = frame.type();
        if (type.isSequenced()) {
            throw new IllegalArgumentException("not a control frame: " + frame);
        }
        checkHeader(frame, "0", frame.sequence() == 0, frame.channel() == 0);
        switch (type) {
            case HELLO -> listener.onHello(stream, AmstHello.decode(frame.payload()));
            case ACK -> listener.onAck(stream, AmstAck.decode(frame.payload()));
            case PING -> listener.onPing(stream, AmstPing.decode(frame.payload()));
            case PONG -> listener.onPong(stream, AmstPong.decode(frame.payload()));
            case ABORT -> listener.onAbort(stream, AmstAbort.decode(frame.payload()));
            case PAD ->
                throw new AmstProtocolException(
                        FrameType.PAD, "type", "no PAD on a session's stream (a spare's, before its HELLO)", "PAD");
            case OPEN, ACCEPT, CHANNEL_OPEN, DATA, CHECKPOINT, FIN ->
                throw new IllegalStateException("sequenced " + type);
        }
    }

    /** Reads a frame of a sequenced type, in sequence order. */
    public static void readSequenced(Frame frame, AmstFrameListener listener) {
        FrameType type = frame.type();
        if (!type.isSequenced()) {
            throw new IllegalArgumentException("not a sequenced frame: " + frame);
        }
        long credit = FrameCodec.frameCost(frame.payloadLength());
        int channel = frame.channel();
        switch (type) {
            case OPEN -> {
                checkHeader(frame, "any", true, channel == 0);
                listener.onOpen(AmstOpen.decode(frame.payload()), credit);
            }
            case ACCEPT -> listener.onAccept(AmstAccept.decode(channel, frame.payload()), credit);
            case CHANNEL_OPEN -> {
                if (frame.payloadLength() != 0) {
                    throw new AmstProtocolException(
                            type, "payload length", "0 bytes", frame.payloadLength() + " bytes");
                }
                listener.onChannelOpen(channel, credit);
            }
            case DATA -> listener.onData(channel, frame.payload(), credit);
            case CHECKPOINT -> listener.onCheckpoint(channel, AmstCheckpoint.decode(frame.payload()), credit);
            case FIN -> listener.onFin(channel, AmstFin.decode(frame.payload()), credit);
            case HELLO, ACK, PING, PONG, ABORT, PAD -> throw new IllegalStateException("control " + type);
        }
    }

    private static void checkHeader(Frame frame, String sequence, boolean sequenceValid, boolean channelValid) {
        if (!sequenceValid) {
            throw new AmstProtocolException(frame.type(), "Sequence", sequence, Long.toString(frame.sequence()));
        }
        if (!channelValid) {
            throw new AmstProtocolException(frame.type(), "Channel", "0", Integer.toString(frame.channel()));
        }
    }
}
