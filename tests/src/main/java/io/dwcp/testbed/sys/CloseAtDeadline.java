package io.dwcp.testbed.sys;

import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Closes a resource at a deadline unless this is closed first: a blocking channel has no read
 * timeout, so closing it is how a read blocked on it ends (it then fails with an IOException, and
 * {@link #expired} tells that the deadline, not the peer, ended it). The deadline fires on
 * {@link CompletableFuture}'s timer thread; the outcome is the future's, safe to read from any thread.
 */
public final class CloseAtDeadline implements AutoCloseable {
    private final CompletableFuture<Boolean> expired = new CompletableFuture<>();

    private CloseAtDeadline(Closeable target, Duration timeout) {
        expired.completeOnTimeout(true, timeout.toMillis(), TimeUnit.MILLISECONDS)
                .thenAccept(late -> {
                    if (late) {
                        closeQuietly(target);
                    }
                });
    }

    /** Closes {@code target} once {@code timeout} has passed, unless the returned deadline is closed before. */
    public static CloseAtDeadline after(Duration timeout, Closeable target) {
        return new CloseAtDeadline(target, timeout);
    }

    /** Whether the deadline passed and closed the resource. */
    public boolean expired() {
        return expired.getNow(false);
    }

    /** The work is over: the resource is no longer closed at the deadline. */
    @Override
    public void close() {
        expired.complete(false);
    }

    /** Closes {@code target}, ignoring a failure: for a resource given up on. */
    public static void closeQuietly(Closeable target) {
        try {
            target.close();
        } catch (IOException ignored) {
            // given up on: nothing more to do with it
        }
    }
}
