package io.dwcp.amst;

import io.netty.handler.codec.DecoderException;

/**
 * Malformed input on a tunnel stream. Names the stream offset of the frame, the field, and what
 * was expected and found; the stream is closed, the session re-sends its frames on the others.
 */
public class CorruptFrameException extends DecoderException {
    private final long offset;
    private final String field;
    private final String expected;
    private final String found;

    public CorruptFrameException(long offset, String field, String expected, String found) {
        super("corrupt frame at stream offset " + offset + ": " + field + ": expected " + expected + ", found "
                + found);
        this.offset = offset;
        this.field = field;
        this.expected = expected;
        this.found = found;
    }

    public long offset() {
        return offset;
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
}
