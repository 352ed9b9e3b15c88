package io.dwcp.migration.stream;

import static java.util.Objects.requireNonNull;

/**
 * A strict {@link MigrationStreamTokenizer} found bytes that are not a well-formed QEMU migration
 * stream. It names the absolute offset in the channel, what the grammar expected there and what
 * was found. A lenient tokenizer never throws this: it passes such bytes through as literals.
 */
public final class MalformedStreamException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final long offset;
    private final String expected;
    private final String found;

    public MalformedStreamException(long offset, String expected, String found) {
        super("malformed migration stream at offset " + offset + ": expected " + expected + ", found " + found);
        this.offset = offset;
        this.expected = requireNonNull(expected, "expected is null");
        this.found = requireNonNull(found, "found is null");
    }

    /** The absolute offset in the channel of the first byte that does not fit. */
    public long offset() {
        return offset;
    }

    public String expected() {
        return expected;
    }

    public String found() {
        return found;
    }
}
