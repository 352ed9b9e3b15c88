package io.dwcp.hde;

/**
 * The cache pages one session's QEMU connections may hold together: what both ends reserved of
 * their {@link CacheBudget} ({@code hde.cache-budget}) for it. Each connection's caches come out of
 * it: at the source its share ({@link HdeFrame#connectionCacheEntries}) or what is left of the
 * session's pages, whichever is less, in the order the connections start; at the destination
 * each START frame's, refused when it asks for more than is left. So neither end holds more
 * than the session reserved, whatever number of connections QEMU opens. Thread-safe.
 */
public final class SessionCaches {
    /** No session-wide bound: each connection its share of the configured caches. */
    public static final SessionCaches UNBOUNDED = new SessionCaches(Integer.MAX_VALUE, Integer.MAX_VALUE);

    private final int deltaEntries;
    private final int hashEntries;
    private int deltaLeft;
    private int hashLeft;

    public SessionCaches(int deltaEntries, int hashEntries) {
        if (deltaEntries < 0 || hashEntries < 0) {
            throw new IllegalArgumentException("entries " + deltaEntries + ", " + hashEntries);
        }
        this.deltaEntries = deltaEntries;
        this.hashEntries = hashEntries;
        this.deltaLeft = deltaEntries;
        this.hashLeft = hashEntries;
    }

    public int deltaEntries() {
        return deltaEntries;
    }

    public int hashEntries() {
        return hashEntries;
    }

    /** Source: a connection's caches, at most {@code delta} and {@code hash} pages; {@code [delta, hash]}. */
    synchronized int[] take(int delta, int hash) {
        if (this == UNBOUNDED) {
            return new int[] {delta, hash};
        }
        int takenDelta = Math.min(delta, deltaLeft);
        int takenHash = Math.min(hash, hashLeft);
        deltaLeft -= takenDelta;
        hashLeft -= takenHash;
        return new int[] {takenDelta, takenHash};
    }

    /** Destination: a START frame asks for these caches; false (and nothing taken) when more than is left. */
    synchronized boolean admit(int delta, int hash) {
        if (this == UNBOUNDED) {
            return true;
        }
        if (delta > deltaLeft || hash > hashLeft) {
            return false;
        }
        deltaLeft -= delta;
        hashLeft -= hash;
        return true;
    }

    /** What is left, for a refusal's message. */
    synchronized String left() {
        return deltaLeft + " delta and " + hashLeft + " hash cache pages left of the session's " + deltaEntries
                + " and " + hashEntries + " (hde.cache-budget of this host)";
    }
}
