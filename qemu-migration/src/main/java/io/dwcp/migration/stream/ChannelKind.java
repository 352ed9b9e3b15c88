package io.dwcp.migration.stream;

/**
 * The kind of a migration connection, told by its first four bytes.
 *
 * <p>QEMU 7.2's destination takes the first connection as the main channel whatever it carries;
 * later versions peek at the magic. Both main channels begin with {@code QEVM} and both kinds of
 * multifd channel with {@code 0x11223344}, so the magic identifies the channel for all versions.
 * A relay must still open its connections to a 7.2 destination in the order the source opened them.
 */
public enum ChannelKind {
    /** Starts with {@code QEVM}: sections, RAM records, device state, VM description. */
    MAIN,
    /** Starts with the multifd magic {@code 0x11223344}: init packet, then packets. */
    MULTIFD,
    /** Anything else (or fewer than four bytes): passed through as literal bytes. */
    UNKNOWN;

    static final int MAIN_MAGIC = 0x5145564d;
    static final int MULTIFD_MAGIC = 0x11223344;

    /** The kind of a channel whose first four bytes are {@code bytes[offset..offset+4)}. */
    public static ChannelKind identify(byte[] bytes, int offset, int length) {
        if (length < 4) {
            return UNKNOWN;
        }
        int magic = Bytes.be32(bytes, offset);
        if (magic == MAIN_MAGIC) {
            return MAIN;
        }
        if (magic == MULTIFD_MAGIC) {
            return MULTIFD;
        }
        return UNKNOWN;
    }
}
