package io.dwcp.session;

import static java.util.Objects.requireNonNull;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a session takes a QEMU connection that ends badly: reset by QEMU, or refusing a write. Such
 * a connection fails the session, unless QEMU may end it before the whole stream reached it
 * ({@link #mayEndEarly}): then the rest of its stream is dropped, with a warning (and another
 * when the session completed without it). A source QEMU that no longer reads its return path
 * drops what it does not read, as without dwcpd.
 *
 * <p>Threads: immutable; called on the session's event loop.
 */
final class QemuEndPolicy {
    private static final Logger log = LoggerFactory.getLogger(QemuEndPolicy.class);

    private final Session.Role role;
    private final String context;

    /** @param context the session's log context */
    QemuEndPolicy(Session.Role role, String context) {
        this.role = requireNonNull(role, "role is null");
        this.context = requireNonNull(context, "context is null");
    }

    /**
     * Whether the QEMU may end connection {@code index} before the whole stream reached it: a
     * destination's multifd connection. The destination QEMU tears its multifd channels down as soon
     * as the main channel says the migration is complete, and may close one with a tail it no longer
     * needs unread (a reset), or before that tail arrives; over a direct connection the source QEMU
     * would see that only if it still wrote. The migration's outcome is the QEMU's to decide, on the
     * main channel: such a tail is dropped and counted, and the main channel still fails the session
     * if its own stream cannot be delivered.
     */
    boolean mayEndEarly(int index) {
        return role == Session.Role.DESTINATION && index != 0;
    }

    /**
     * QEMU reset connection {@code index} while its stream was still read.
     *
     * @throws SessionFailure unless the connection may end early
     */
    void reset(int index, Throwable error) {
        if (!mayEndEarly(index)) {
            throw new SessionFailure("QEMU connection " + index + " failed: " + error.getMessage());
        }
        log.warn(
                "{} destination QEMU reset connection {} ({}); the rest of its stream is dropped",
                context,
                index,
                error.getMessage());
    }

    /**
     * A write to QEMU connection {@code index} failed (its close follows).
     *
     * @throws SessionFailure at the destination, unless the connection may end early
     */
    void writeFailed(int index, Throwable cause) {
        if (role == Session.Role.DESTINATION) {
            log.debug("{} write to destination QEMU connection {} failed", context, index, cause);
            if (!mayEndEarly(index)) {
                throw new SessionFailure("destination QEMU connection " + index + " failed: " + cause);
            }
            // the connection's close follows
            log.warn(
                    "{} destination QEMU connection {} no longer accepts bytes ({}); the rest of its stream is dropped",
                    context,
                    index,
                    cause.toString());
            return;
        }
        // the source QEMU closed its socket: what it no longer reads is dropped, as without dwcpd
        log.debug(
                "{} source QEMU connection {} no longer accepts return-path bytes: {}",
                context,
                index,
                cause.toString());
    }

    /** The session completed: a tail of connection {@code index}'s stream its QEMU never read is worth a warning. */
    void completedWithout(int index, long undeliveredBytes) {
        if (undeliveredBytes > 0) {
            log.warn(
                    "{} the destination QEMU closed connection {} without reading the last {} bytes of its stream",
                    context,
                    index,
                    undeliveredBytes);
        }
    }
}
