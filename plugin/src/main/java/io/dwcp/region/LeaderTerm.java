package io.dwcp.region;

import static java.util.Objects.requireNonNull;

/**
 * One leadership of a region: its epoch (1, 2, 3, ... over the region's life), the version of the
 * term znode this leader set when it took office (what its fenced writes check), the leader's
 * host name and when it started acting.
 */
public record LeaderTerm(String region, long epoch, int termVersion, String leader, long sinceMillis) {
    public LeaderTerm {
        requireNonNull(region, "region is null");
        requireNonNull(leader, "leader is null");
    }

    /** LWW timestamps of the leader's gossiped keys: the epoch above the clock, so a later term always wins. */
    public long gossipTimestamp(long nowMillis) {
        return (epoch << 42) | (nowMillis & ((1L << 42) - 1));
    }
}
