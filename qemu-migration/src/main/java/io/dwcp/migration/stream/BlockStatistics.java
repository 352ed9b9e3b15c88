package io.dwcp.migration.stream;

/** Page counts of one RAM block in one channel. */
public final class BlockStatistics {
    long pages;
    long zeroPages;
    long xbzrlePages;
    long compressedPages;

    /** Whole pages sent (main channel {@code PAGE} records and multifd normal pages). */
    public long pages() {
        return pages;
    }

    /** Zero pages (main channel {@code ZERO} records and multifd zero pages). */
    public long zeroPages() {
        return zeroPages;
    }

    public long xbzrlePages() {
        return xbzrlePages;
    }

    public long compressedPages() {
        return compressedPages;
    }
}
