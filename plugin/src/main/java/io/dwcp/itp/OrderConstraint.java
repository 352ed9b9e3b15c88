package io.dwcp.itp;

import static java.util.Objects.requireNonNull;

/** VM {@code after} starts only once VM {@code before} has ended (converged, or given up). */
public record OrderConstraint(String before, String after) {
    public OrderConstraint {
        requireNonNull(before, "before is null");
        requireNonNull(after, "after is null");
        if (before.equals(after)) {
            throw new IllegalArgumentException("a VM cannot come before itself: " + before);
        }
    }
}
