package io.dwcp.hde;

/**
 * The XOR of a page against its previous version, as runs of 8-byte words:
 * <pre>
 * delta = *( varint zeroWords  varint literalWords  literalWords * 8 bytes )   ; XOR of the words
 * </pre>
 * Runs cover the 512 words of the page in order; unchanged words cost nothing but the run length,
 * changed ones carry {@code old XOR new}, which the frame's zstd compresses further (small counter
 * increments and pointer changes leave mostly zero bits). A final run may have {@code literalWords
 * == 0}; runs stop as soon as all 512 words are covered.
 */
final class XorDelta {
    static final int WORDS = HdeFrame.PAGE_SIZE / 8;
    /** The largest delta: one run of 512 literal words. */
    static final int MAX_LENGTH = 2 + 2 + HdeFrame.PAGE_SIZE;

    private XorDelta() {}

    /**
     * Writes the delta from {@code previous} to {@code current} into {@code out} (at least
     * {@link #MAX_LENGTH} bytes from {@code outOffset}); returns its length.
     */
    static int encode(
            byte[] previous, int previousOffset, byte[] current, int currentOffset, byte[] out, int outOffset) {
        int at = outOffset;
        int word = 0;
        while (word < WORDS) {
            int zeroStart = word;
            while (word < WORDS
                    && Bytes.getWord(previous, previousOffset + word * 8)
                            == Bytes.getWord(current, currentOffset + word * 8)) {
                word++;
            }
            if (word == WORDS) {
                break;
            }
            int literalStart = word;
            // a literal run ends at two unchanged words in a row: a single one costs less inside the run
            while (word < WORDS) {
                if (Bytes.getWord(previous, previousOffset + word * 8)
                                == Bytes.getWord(current, currentOffset + word * 8)
                        && (word + 1 == WORDS
                                || Bytes.getWord(previous, previousOffset + word * 8 + 8)
                                        == Bytes.getWord(current, currentOffset + word * 8 + 8))) {
                    break;
                }
                word++;
            }
            at = Varint.write(out, at, literalStart - zeroStart);
            at = Varint.write(out, at, word - literalStart);
            for (int w = literalStart; w < word; w++) {
                Bytes.putWord(
                        out,
                        at,
                        Bytes.getWord(previous, previousOffset + w * 8)
                                ^ Bytes.getWord(current, currentOffset + w * 8));
                at += 8;
            }
        }
        return at - outOffset;
    }

    /**
     * Writes {@code previous XOR delta} into {@code out}, the pages at {@code previousOffset} and
     * {@code outOffset}. Returns -1 on success, or the offset in the delta of the first malformed run
     * (a run past the page's end, or past the delta's end).
     */
    static int apply(
            byte[] previous,
            int previousOffset,
            byte[] delta,
            int deltaOffset,
            int deltaLength,
            byte[] out,
            int outOffset) {
        System.arraycopy(previous, previousOffset, out, outOffset, HdeFrame.PAGE_SIZE);
        int at = deltaOffset;
        int end = deltaOffset + deltaLength;
        int word = 0;
        while (at < end) {
            int runStart = at;
            long zeroWords = Varint.read(delta, at, end);
            if (zeroWords < 0) {
                return runStart;
            }
            at += Varint.length(zeroWords);
            long literalWords = Varint.read(delta, at, end);
            if (literalWords < 0) {
                return runStart;
            }
            at += Varint.length(literalWords);
            // compared without sums or products: the varints go up to 2^63 - 1, which would overflow them
            if (zeroWords > WORDS - word || literalWords > WORDS - word - zeroWords || literalWords > (end - at) / 8) {
                return runStart;
            }
            word += (int) zeroWords;
            for (int w = 0; w < literalWords; w++, word++, at += 8) {
                int o = outOffset + word * 8;
                Bytes.putWord(out, o, Bytes.getWord(out, o) ^ Bytes.getWord(delta, at));
            }
        }
        return -1;
    }
}
