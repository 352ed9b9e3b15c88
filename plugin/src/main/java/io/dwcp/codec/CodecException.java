package io.dwcp.codec;

/**
 * A stream could not be encoded or decoded, or the two ends cannot agree on a codec: the session
 * fails with this message (no byte after the last verified checkpoint reaches QEMU).
 */
public class CodecException extends RuntimeException {
    public CodecException(String message) {
        super(message);
    }

    public CodecException(String message, Throwable cause) {
        super(message, cause);
    }
}
