package io.dwcp.hde;

/** How a page was sent: the four levels of hierarchical delta encoding. */
public enum PageLevel {
    /** Level 1: an all-zero page, a token. */
    ZERO,
    /** Level 2: content the destination holds (this migration's hash cache, or a baseline). */
    REFERENCE,
    /** Level 3: XOR against the page's previous version. */
    DELTA,
    /** Level 4: the content itself, zstd-compressed with the frame. */
    PAGE,
    /**
     * Level 3 against a baseline: XOR against the page's earlier version that this host recorded
     * and the destination holds (named by its hash).
     */
    BASELINE_DELTA,
    /**
     * Level 3 against a baseline, compressed: the page as one zstd frame with that earlier version as
     * its dictionary, for a page whose content moved within it (an XOR delta sees every moved byte
     * as changed).
     */
    BASELINE_ZSTD
}
