package io.dwcp.testbed.guest;

import static java.util.Objects.requireNonNull;

/**
 * The workload's answer to a verify request: {@code intact} when every page holds exactly what it
 * must; {@code detail} is the rest of the verdict line (for CORRUPT: the number of bad pages, the
 * first one, its kind and class, the first differing byte, the expected and found write sequence);
 * {@code writes} counts the hot-page writes made so far.
 */
public record Verdict(boolean intact, String detail, long writes) {
    public Verdict {
        requireNonNull(detail, "detail is null");
    }
}
