package io.dwcp.region;

import java.util.List;

/**
 * What {@code GET /v1/regions} of the control socket shows: this region (leader, term, hosts,
 * links, each with the age of the figure) and what gossip brought of the others. Built by the
 * control plane's own thread, read by anyone: no I/O on the caller's thread.
 */
public interface RegionStatus {
    Snapshot status();

    /**
     * Ages are milliseconds since this host made sure of the figure (-1: never). {@code term} is
     * this host's own term while it leads, else the region's latest term as the term znode held it
     * when the leader was read (0: none taken yet).
     */
    record Snapshot(
            String region,
            String host,
            String leader,
            long leaderAgeMillis,
            boolean thisHostLeads,
            long term,
            List<Records.HostRecord> hosts,
            long hostsAgeMillis,
            List<Records.LinkRecord> links,
            long linksAgeMillis,
            List<Remote> regions,
            Counters counters) {}

    /** Another region as gossip last described it. */
    record Remote(String region, String summary, List<String> hosts, long ageMillis) {}

    record Counters(
            long leadershipsAcquired,
            long leaderWritesAccepted,
            long leaderWritesRefused,
            long staleRefusals,
            long gossipRounds,
            long gossipBytesSent,
            long gossipBytesReceived,
            long gossipUpdatesApplied,
            long gossipPeersRefused) {}
}
