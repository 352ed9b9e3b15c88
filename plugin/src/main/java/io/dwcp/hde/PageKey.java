package io.dwcp.hde;

/**
 * The identity of a page in the previous-version cache: the stream's number for its RAM block (in
 * order of first appearance, see {@link HdeFrame} BLOCK records) and its offset in the block.
 */
record PageKey(int blockId, long offset) {}
