package io.dwcp.amst;

/**
 * The kinds of AMST frames. Sequenced frames carry a session-level sequence number (one space per
 * direction), are striped over the session's streams, re-sent after a stream failure and delivered
 * in order; the others are per-stream control frames.
 */
public enum FrameType {
    /** First frame on every stream, from the connecting side: session id, stream index, window. */
    HELLO(0x01, false),
    /** Cumulative acknowledgement of sequenced frames and of consumed window credit. */
    ACK(0x02, false),
    /** Keep-alive with a timestamp; answered by {@link #PONG}. */
    PING(0x03, false),
    PONG(0x04, false),
    /** The whole session failed; payload: UTF-8 reason. */
    ABORT(0x05, false),
    /**
     * Bytes a spare stream sends before HELLO to open its TCP congestion window (see {@code
     * tunnel.spare-prime}); the receiver discards them. Any payload length up to the frame limit.
     */
    PAD(0x06, false),
    /** Sequence 0 of the source: what the destination connects to (unix socket name or TCP port). */
    OPEN(0x10, true),
    /** A QEMU connection joined the session; opened at the destination in sequence order. */
    CHANNEL_OPEN(0x11, true),
    /** Bytes of one QEMU connection, in stream order. */
    DATA(0x12, true),
    /** Offset and checksum of the channel's stream so far: bytes up to here may be released. */
    CHECKPOINT(0x13, true),
    /** End of the channel's stream in this direction: total length and checksum of the whole stream. */
    FIN(0x14, true),
    /**
     * The destination's answer to the codec the source offered in OPEN (e.g. the baselines it
     * holds), in one or more frames: channel 1 = more follows, 0 = the last piece.
     */
    ACCEPT(0x15, true);

    private final int code;
    private final boolean sequenced;

    FrameType(int code, boolean sequenced) {
        this.code = code;
        this.sequenced = sequenced;
    }

    public int code() {
        return code;
    }

    public boolean isSequenced() {
        return sequenced;
    }

    private static final FrameType[] BY_CODE = new FrameType[256];

    static {
        for (FrameType type : values()) {
            BY_CODE[type.code] = type;
        }
    }

    /** Returns the type for a wire code, or null when the code is unknown. */
    public static FrameType fromCode(int code) {
        return BY_CODE[code & 0xff];
    }
}
