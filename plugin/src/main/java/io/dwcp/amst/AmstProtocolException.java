package io.dwcp.amst;

import static java.util.Objects.requireNonNull;

import io.netty.buffer.ByteBuf;

/**
 * A frame that passed {@link FrameDecoder} (length, magic, type, flags, CRC) but whose header or
 * payload breaks the grammar of its type (see the {@code Amst*} records and {@link
 * AmstFrameReader}). Names the frame type, the field, what was expected and what was found. The
 * peer is not speaking AMST correctly: the session fails (re-sending on another stream cannot help).
 */
public final class AmstProtocolException extends RuntimeException {
    private final FrameType type;
    private final String field;
    private final String expected;
    private final String found;

    public AmstProtocolException(FrameType type, String field, String expected, String found) {
        super("malformed " + requireNonNull(type, "type is null") + " frame: " + field + ": expected " + expected
                + ", found " + found);
        this.type = type;
        this.field = requireNonNull(field, "field is null");
        this.expected = requireNonNull(expected, "expected is null");
        this.found = requireNonNull(found, "found is null");
    }

    public FrameType type() {
        return type;
    }

    public String field() {
        return field;
    }

    public String expected() {
        return expected;
    }

    public String found() {
        return found;
    }

    /** Refuses a payload whose length is not exactly {@code length}. */
    static void checkLength(FrameType type, ByteBuf payload, int length) {
        if (payload.readableBytes() != length) {
            throw new AmstProtocolException(
                    type, "payload length", length + " bytes", payload.readableBytes() + " bytes");
        }
    }

    /** Reads an int64 that must not be negative. */
    static long readNonNegativeLong(FrameType type, ByteBuf payload, String field) {
        long value = payload.readLong();
        if (value < 0) {
            throw new AmstProtocolException(type, field, "0.." + Long.MAX_VALUE, Long.toString(value));
        }
        return value;
    }
}
