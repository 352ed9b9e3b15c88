package io.dwcp.region;

import static java.util.Objects.requireNonNull;

/**
 * The znodes of one region, under {@code <root>/regions/<region>}:
 * <pre>
 * latch/                   LeaderLatch participants (ephemeral sequential)
 * term                     "epoch leader": the leader's fence (its version is checked by every leader write)
 * hosts/HOST               ephemeral, HostRecord JSON
 * links/FROM~TO            LinkRecord JSON
 * baselines/VM/HOST        BaselineRecord JSON
 * migrations/ID            MigrationRecord JSON (deleted by the leader when old: MigrationRecordPruner)
 * locks/VM                 ephemeral, VmLock.Holder JSON
 * leader/                  leader-owned (fenced): summary, remote/REGION (what gossip brought)
 * </pre>
 */
public record RegionPaths(String root, String region) {
    public RegionPaths {
        requireNonNull(root, "root is null");
        requireNonNull(region, "region is null");
    }

    public String base() {
        return root + "/regions/" + region;
    }

    public String latch() {
        return base() + "/latch";
    }

    public String term() {
        return base() + "/term";
    }

    public String hosts() {
        return base() + "/hosts";
    }

    public String host(String host) {
        return hosts() + "/" + host;
    }

    public String links() {
        return base() + "/links";
    }

    public String link(String from, String to) {
        return links() + "/" + from + "~" + to;
    }

    public String baselines() {
        return base() + "/baselines";
    }

    public String baselines(String vm) {
        return baselines() + "/" + vm;
    }

    public String migrations() {
        return base() + "/migrations";
    }

    public String locks() {
        return base() + "/locks";
    }

    public String lock(String vm) {
        return locks() + "/" + vm;
    }

    public String leaderOwned() {
        return base() + "/leader";
    }

    public String summary() {
        return leaderOwned() + "/summary";
    }

    public String remote() {
        return leaderOwned() + "/remote";
    }

    public String remote(String otherRegion) {
        return remote() + "/" + otherRegion;
    }
}
