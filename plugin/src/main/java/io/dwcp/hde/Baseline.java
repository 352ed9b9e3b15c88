package io.dwcp.hde;

import java.io.IOException;

/**
 * Pages a destination holds before a migration starts (an earlier copy of this VM's memory, or a
 * page set shared by VMs of one image), read-only for the whole session. The source encodes
 * against its {@link #announcement()}; the destination's decoder reads pages from it.
 */
public interface Baseline {
    String id();

    /** The hashes of every page, as the destination announces them to the source. */
    BaselineAnnouncement announcement();

    /**
     * A new array with the page's 4096 bytes, or {@code null} if the baseline has no page with this
     * hash. The caller verifies the content against the hash.
     */
    byte[] read(PageHash hash) throws IOException;
}
