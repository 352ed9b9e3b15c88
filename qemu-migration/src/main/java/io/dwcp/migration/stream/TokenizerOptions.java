package io.dwcp.migration.stream;

/**
 * How a {@link MigrationStreamTokenizer} reads.
 *
 * <ul>
 *   <li>{@code strict}: throw {@link MalformedStreamException} on the first byte that does not fit
 *       the grammar (and on a stream that ends in the middle); lenient (the default) passes such bytes
 *       through as literals and resynchronizes where it safely can.</li>
 *   <li>{@code pagesPerMultifdPacket}: the size of the offset array of a multifd RAM packet header,
 *       {@code MULTIFD_PACKET_SIZE / page size}: 128 for x86 (512 KiB / 4 KiB) in QEMU 7.2 to 10.x.
 *       The header does not carry it (a SYNC packet of 10.0 says {@code pages_alloc = 0}).</li>
 * </ul>
 */
public final class TokenizerOptions {
    public static final int DEFAULT_PAGES_PER_MULTIFD_PACKET = 128;
    /** Keeps a packet header (320 + 8 per page bytes) within the tokenizer's carry bound. */
    public static final int MAX_PAGES_PER_MULTIFD_PACKET = 4096;

    private static final TokenizerOptions LENIENT = new TokenizerOptions(false, DEFAULT_PAGES_PER_MULTIFD_PACKET);
    private static final TokenizerOptions STRICT = new TokenizerOptions(true, DEFAULT_PAGES_PER_MULTIFD_PACKET);

    private final boolean strict;
    private final int pagesPerMultifdPacket;

    private TokenizerOptions(boolean strict, int pagesPerMultifdPacket) {
        if (pagesPerMultifdPacket < 1 || pagesPerMultifdPacket > MAX_PAGES_PER_MULTIFD_PACKET) {
            throw new IllegalArgumentException("pagesPerMultifdPacket must be 1.." + MAX_PAGES_PER_MULTIFD_PACKET
                    + ", got " + pagesPerMultifdPacket);
        }
        this.strict = strict;
        this.pagesPerMultifdPacket = pagesPerMultifdPacket;
    }

    public static TokenizerOptions lenient() {
        return LENIENT;
    }

    public static TokenizerOptions strict() {
        return STRICT;
    }

    public TokenizerOptions withPagesPerMultifdPacket(int pages) {
        return new TokenizerOptions(strict, pages);
    }

    public boolean isStrict() {
        return strict;
    }

    public int pagesPerMultifdPacket() {
        return pagesPerMultifdPacket;
    }
}
