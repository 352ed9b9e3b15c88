package io.dwcp.session;

/** Something that ends a session (and so the migration): the message is what the operator reads. */
final class SessionFailure extends RuntimeException {
    SessionFailure(String message) {
        super(message);
    }
}
