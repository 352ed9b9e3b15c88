package io.dwcp.hde;

import java.io.IOException;

/**
 * Input the {@link HdeDecoder} cannot decode: a corrupt frame, or a record that contradicts what
 * the decoder holds (unknown hash, hash mismatch, unknown previous version). Names where (stream
 * offset of the frame, its sequence number, the offset in the body or -1), the field, and what was
 * expected and found. The decoder is unusable afterwards; the session must fail.
 */
public class HdeDecodeException extends IOException {
    private final long streamOffset;
    private final long sequence;
    private final long bodyOffset;
    private final String field;
    private final String expected;
    private final String found;

    public HdeDecodeException(
            long streamOffset, long sequence, long bodyOffset, String field, String expected, String found) {
        super("HDE decoding failed at stream offset " + streamOffset + " (frame " + sequence
                + (bodyOffset >= 0 ? ", body offset " + bodyOffset : "") + "): " + field + ": expected " + expected
                + ", found " + found);
        this.streamOffset = streamOffset;
        this.sequence = sequence;
        this.bodyOffset = bodyOffset;
        this.field = field;
        this.expected = expected;
        this.found = found;
    }

    /** The offset in the decoder's input of the frame at fault. */
    public long streamOffset() {
        return streamOffset;
    }

    /** The frame's position in the stream (the sequence the decoder expected), from 0. */
    public long sequence() {
        return sequence;
    }

    /** The offset in the decompressed body, or -1 for header and payload errors. */
    public long bodyOffset() {
        return bodyOffset;
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
