package io.dwcp.itp;

import static java.util.Objects.requireNonNull;

/** A host that can take VMs: free RAM for them and a number of VM slots. */
public record Destination(String id, long freeMemoryBytes, int slots) {
    public Destination {
        requireNonNull(id, "id is null");
        if (freeMemoryBytes < 0 || slots < 0) {
            throw new IllegalArgumentException(
                    id + ": free memory and slots must be >= 0: " + freeMemoryBytes + ", " + slots);
        }
    }
}
