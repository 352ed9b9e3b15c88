package io.dwcp.testbed.qemu;

/** A QMP command failed, timed out, or the monitor connection was lost. */
public final class QmpException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public QmpException(String message) {
        super(message);
    }
}
