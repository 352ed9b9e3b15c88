package io.dwcp.hde;

import static java.util.Objects.requireNonNull;

import jakarta.inject.Inject;

/**
 * The daemon's memory for HDE caches ({@code hde.cache-budget}), shared by every session at both
 * ends. A session reserves what its caches can grow to before its first page (the source when it
 * makes its OPEN, the destination when the OPEN arrives) and lets it go when it ends, so the caches
 * of all sessions together never outgrow the budget, however many migrations run at once.
 *
 * <p>A session that asks for more than is left gets less, down to no cache at all: both caches
 * scaled alike, in whole pages. It still migrates (zero pages, zstd, baselines), only with fewer
 * deltas and references, and the reason is logged. First come, first served: what a running
 * session holds is never taken back, since the caches of both ends must stay alike.
 *
 * <p>What an entry costs: a page and its bookkeeping ({@link #PAGE_ENTRY_BYTES}) where the page's
 * content is kept (either end's delta cache, the destination's hash cache); only the hash and its
 * bookkeeping ({@link #HASH_ENTRY_BYTES}) in the source's hash cache. Thread-safe.
 */
public final class CacheBudget {
    /** A cache entry holding a page: the page, its array's header, its keys, recency links and index slot. */
    public static final long PAGE_ENTRY_BYTES = HdeFrame.PAGE_SIZE + 64;
    /** A source's hash-cache entry: its keys, recency links and index slot. */
    public static final long HASH_ENTRY_BYTES = 64;

    /** Which end a session is: what its hash-cache entries cost. */
    public enum End {
        SOURCE,
        DESTINATION;

        long bytes(long deltaEntries, long hashEntries) {
            return deltaEntries * PAGE_ENTRY_BYTES
                    + hashEntries * (this == SOURCE ? HASH_ENTRY_BYTES : PAGE_ENTRY_BYTES);
        }
    }

    private final long capacity;
    private long reserved;
    private int grants;

    @Inject
    public CacheBudget(HdeConfig config) {
        this(requireNonNull(config, "config is null")
                .cacheBudgetBytes(Runtime.getRuntime().maxMemory()));
    }

    public CacheBudget(long capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity " + capacity);
        }
        this.capacity = capacity;
    }

    public long capacity() {
        return capacity;
    }

    /** Bytes the running sessions hold. */
    public synchronized long reserved() {
        return reserved;
    }

    /** Sessions holding a part of the budget (an empty grant counts too). */
    public synchronized int grants() {
        return grants;
    }

    /**
     * Reserves caches of up to {@code deltaEntries} and {@code hashEntries} pages, or as much of
     * them as is left (both scaled by the same factor).
     */
    public synchronized Grant reserve(End end, int deltaEntries, int hashEntries) {
        requireNonNull(end, "end is null");
        if (deltaEntries < 0 || hashEntries < 0) {
            throw new IllegalArgumentException("entries " + deltaEntries + ", " + hashEntries);
        }
        long asked = end.bytes(deltaEntries, hashEntries);
        long free = capacity - reserved;
        int delta = deltaEntries;
        int hash = hashEntries;
        if (asked > free) {
            double scale = Math.max(0, free) / (double) asked;
            delta = (int) Math.floor(deltaEntries * scale);
            hash = (int) Math.floor(hashEntries * scale);
        }
        long bytes = end.bytes(delta, hash);
        reserved += bytes;
        grants++;
        return new Grant(end, deltaEntries, hashEntries, delta, hash, bytes, free);
    }

    private synchronized void release(long bytes, boolean last) {
        reserved -= bytes;
        if (last) {
            grants--;
        }
    }

    /** What one session holds; {@link #close} gives it back (once). */
    public final class Grant implements AutoCloseable {
        private final End end;
        private final int askedDelta;
        private final int askedHash;
        private final long freeWhenAsked;
        private int deltaEntries;
        private int hashEntries;
        private long bytes;
        private boolean closed;

        private Grant(End end, int askedDelta, int askedHash, int delta, int hash, long bytes, long free) {
            this.end = end;
            this.askedDelta = askedDelta;
            this.askedHash = askedHash;
            this.deltaEntries = delta;
            this.hashEntries = hash;
            this.bytes = bytes;
            this.freeWhenAsked = free;
        }

        public synchronized int deltaEntries() {
            return deltaEntries;
        }

        public synchronized int hashEntries() {
            return hashEntries;
        }

        public synchronized long bytes() {
            return bytes;
        }

        /** Less than asked for: the budget was short. */
        public boolean reduced() {
            synchronized (this) {
                return deltaEntries < askedDelta || hashEntries < askedHash;
            }
        }

        /** Keeps at most {@code delta} and {@code hash} pages (what the other end granted) and gives back the rest. */
        public void trimTo(int delta, int hash) {
            long given;
            synchronized (this) {
                if (closed) {
                    return;
                }
                deltaEntries = Math.min(deltaEntries, Math.max(0, delta));
                hashEntries = Math.min(hashEntries, Math.max(0, hash));
                long now = end.bytes(deltaEntries, hashEntries);
                given = bytes - now;
                bytes = now;
            }
            release(given, false);
        }

        @Override
        public void close() {
            long given;
            synchronized (this) {
                if (closed) {
                    return;
                }
                closed = true;
                given = bytes;
                bytes = 0;
            }
            release(given, true);
        }

        /** Why the caches are smaller than asked, for the session's log. */
        public String describe() {
            synchronized (this) {
                return String.format(
                        "%d + %d cache pages of the %d + %d asked for (hde.cache-budget %d MiB, %d MiB of it were free)",
                        deltaEntries,
                        hashEntries,
                        askedDelta,
                        askedHash,
                        capacity >> 20,
                        Math.max(0, freeWhenAsked) >> 20);
            }
        }
    }
}
