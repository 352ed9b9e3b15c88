package io.dwcp.hde;

import java.io.IOException;

/**
 * Source side: this host's own copies of earlier versions of the VM's pages, by guest address (the
 * baselines it recorded, {@link StoredBaseline#versionAt}). A page that changed since such a version,
 * when the destination holds that version too (its hash is in the destination's announcement or
 * in the stream's hash cache), goes as a delta against it ({@link HdeFrame}'s BASE_DELTA record):
 * the hash names the version, so both ends agree on it without a round trip.
 */
public interface BaselineVersions {
    /** Holds no version of any page. */
    BaselineVersions NONE = (block, offset, wanted) -> null;

    /** An earlier version of a page: its content hash and its 4096 bytes (verified against the hash). */
    record Version(PageHash hash, byte[] content) {}

    /**
     * The earlier version of the page at {@code offset} of RAM block {@code block} whose hash
     * {@code wanted} accepts (the decoder holds it), or {@code null}. Only such a version's content
     * is read, so a page whose version the destination lacks costs a lookup, not a read. Called on
     * the encoder's thread.
     */
    Version versionAt(String block, long offset, java.util.function.Predicate<PageHash> wanted) throws IOException;
}
