package io.dwcp.testbed.guest;

/** The guest did not answer as expected on its console: timeout, console closed, workload exited, kernel panic. */
public final class GuestConsoleException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public GuestConsoleException(String message) {
        super(message);
    }

    public GuestConsoleException(String message, Throwable cause) {
        super(message, cause);
    }
}
