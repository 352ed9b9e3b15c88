package io.dwcp.hde;

/**
 * The identity of a page in the previous-version cache: the stream's number for its RAM block (in
 * order of first appearance, see {@link HdeFrame} BLOCK records) and its offset in the block.
 * {@link LruCache} keeps it as its two numbers ({@link LruCache#PAGE_KEYS}).
 *
 * <p>{@code equals} and {@code hashCode} are written out for the tests and any map that holds
 * one: a record's generated ones go through method handles, and its hash ({@code 31 * blockId +
 * offset ^ offset >>> 32}) of page offsets, which are multiples of 4096, leaves the low bits empty
 * ({@code HashMap} buckets filled up and turned into trees in a Flight Recorder profile). The
 * offset's page number and the block are mixed by a multiplication (Fibonacci hashing), whose high
 * bits are folded into the low.
 */
record PageKey(int blockId, long offset) {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    @Override
    public boolean equals(Object other) {
        return other instanceof PageKey key && key.offset == offset && key.blockId == blockId;
    }

    @Override
    public int hashCode() {
        long mixed = ((offset >>> 12) ^ ((long) blockId << 44) ^ (offset << 52)) * GOLDEN;
        return (int) (mixed ^ (mixed >>> 32));
    }
}
