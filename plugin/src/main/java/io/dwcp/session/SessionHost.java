package io.dwcp.session;

import io.netty.channel.Channel;
import java.util.function.Consumer;

/**
 * What a {@link Session} asks of the one that owns it ({@link SessionManager} in the daemon, a
 * hand-written fake in a test): to dial its streams and its destination QEMU, and to hear that
 * it failed or ended. Calls come from the session's event loop; callbacks may come from any
 * thread, and the session hops back to its loop.
 */
interface SessionHost {
    /** Opens stream {@code slot} of a source session: TCP, TLS (the peer must be the one dialled), HELLO. */
    void connectStream(Session session, int slot, Consumer<Throwable> onFailure);

    /** Connects to the destination QEMU, retrying until the deadline; the callback gets null on failure. */
    void connectToQemu(Session session, Target target, int index, long deadlineNanos, Consumer<Channel> result);

    /** Where a target's QEMU is, for messages. */
    String describe(Target target);

    /** A destination session learned from the source's OPEN which migration (and VM) it carries. */
    void opened(Session session);

    void failed(Session session, String reason);

    /** The session ended (completed or failed) and holds nothing any more. */
    void removed(Session session);
}
