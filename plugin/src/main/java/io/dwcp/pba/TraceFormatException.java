package io.dwcp.pba;

/** A trace or measurement file that does not follow its grammar; the message names the line. */
public final class TraceFormatException extends RuntimeException {
    public TraceFormatException(String message) {
        super(message);
    }
}
