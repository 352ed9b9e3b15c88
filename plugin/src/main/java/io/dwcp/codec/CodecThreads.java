package io.dwcp.codec;

import com.google.common.util.concurrent.MoreExecutors;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's codec threads ({@code dwcp-codec-N}, {@code tunnel.codec-threads}): where QEMU's
 * streams are encoded, decoded and digested, so that no event loop does that work. Each session
 * gets a <em>lane</em>: an executor that runs its tasks one at a time in submission order on these
 * threads (Guava's sequential executor), so a session's codec state is touched by one task at a
 * time, in stream order, and different sessions encode in parallel. One-off CPU-heavy jobs of a
 * codec that need no order (HDE's dictionary training) run on the same threads through {@link
 * #background()}.
 *
 * <p>Started with the daemon and closed by it, after its sessions: closing waits a bounded time for
 * the tasks in flight, then interrupts them.
 */
public final class CodecThreads implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CodecThreads.class);
    private static final long CLOSE_WAIT_SECONDS = 5;

    private final ExecutorService pool;
    private final int threads;

    /** {@code threads} threads, started now. */
    public CodecThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("codec threads must be >= 1: " + threads);
        }
        this.threads = threads;
        ThreadPoolExecutor executor = (ThreadPoolExecutor)
                Executors.newFixedThreadPool(threads, new DefaultThreadFactory("dwcp-codec", true));
        // all started now: the daemon's thread count is its working level from the start, not after
        // the first sessions (DwcpSoakIT holds it to that)
        executor.prestartAllCoreThreads();
        this.pool = executor;
    }

    public int threads() {
        return threads;
    }

    /** The codec threads themselves, for a one-off job that needs no order; closed with them. */
    public Executor background() {
        return pool;
    }

    /** A new lane: tasks run one at a time, in the order given, on the codec threads. */
    public Executor newLane() {
        return MoreExecutors.newSequentialExecutor(pool);
    }

    @Override
    public void close() {
        pool.shutdown();
        try {
            if (!pool.awaitTermination(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS)) {
                log.warn("codec tasks still running after {} s; interrupting them", CLOSE_WAIT_SECONDS);
                pool.shutdownNow();
            }
        } catch (InterruptedException e) {
            pool.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
