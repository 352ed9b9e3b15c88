package io.dwcp.region;

import static io.dwcp.metrics.Callbacks.counter;
import static io.dwcp.metrics.Callbacks.gauge;
import static java.util.Objects.requireNonNull;

import io.dwcp.gossip.GossipStats;
import io.dwcp.metrics.MetricsSource;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import jakarta.inject.Inject;

/**
 * The control plane's counters on {@code /metrics} ({@code dwcp_region_*}, {@code dwcp_gossip_*}),
 * registered only when it runs ({@code region.name} set). Read at each scrape on the exporter's
 * thread; {@link RegionStats} and {@link GossipStats} are thread-safe.
 */
public final class RegionMetrics implements MetricsSource {
    private final RegionConfig config;
    private final RegionStats region;
    private final GossipStats gossip;

    @Inject
    public RegionMetrics(RegionConfig config, RegionStats region, GossipStats gossip) {
        this.config = requireNonNull(config, "config is null");
        this.region = requireNonNull(region, "region is null");
        this.gossip = requireNonNull(gossip, "gossip is null");
    }

    @Override
    public void register(PrometheusRegistry registry) {
        if (!config.isEnabled()) {
            return;
        }
        counter(
                registry,
                "dwcp_region_leaderships_acquired_total",
                "Times this host became the region's leader",
                region::leadershipsAcquired);
        counter(
                registry,
                "dwcp_region_leaderships_lost_total",
                "Times this host lost the region's leadership",
                region::leadershipsLost);
        counter(
                registry,
                "dwcp_region_leader_writes_accepted_total",
                "Writes made as the leader that ZooKeeper accepted",
                region::leaderWritesAccepted);
        counter(
                registry,
                "dwcp_region_leader_writes_refused_total",
                "Writes made as the leader that were refused",
                region::leaderWritesRefused);
        counter(
                registry,
                "dwcp_region_metadata_refreshes_total",
                "Reads of the region's metadata from ZooKeeper (a cached read older than its bound refreshed)",
                region::metadataRefreshes);
        counter(
                registry,
                "dwcp_region_stale_refusals_total",
                "Decisions refused: the region's metadata was older than region.staleness-bound and could not be refreshed",
                region::staleRefusals);
        counter(registry, "dwcp_region_vm_locks_taken_total", "VM migration locks taken", region::vmLocksTaken);
        counter(
                registry,
                "dwcp_region_vm_locks_refused_total",
                "VM migration locks refused (held by another migration)",
                region::vmLocksRefused);
        counter(
                registry,
                "dwcp_region_connection_suspensions_total",
                "Times the ZooKeeper connection was suspended (acting as leader stops)",
                region::connectionSuspensions);
        counter(
                registry,
                "dwcp_region_sessions_lost_total",
                "Times the ZooKeeper connection was lost (its session expired)",
                region::sessionsLost);
        counter(
                registry,
                "dwcp_region_records_published_total",
                "Links, baselines and migration records of the data path written to the region's ZooKeeper",
                region::recordsPublished);
        counter(
                registry,
                "dwcp_region_records_publish_failed_total",
                "Links, baselines and migration records of the data path that could not be written",
                region::recordsPublishFailed);
        counter(
                registry,
                "dwcp_region_migration_records_pruned_total",
                "Migration records this host deleted as the region's leader (ended past region.migration-retention, beyond region.migration-records-max, or running with their source host gone)",
                region::migrationRecordsPruned);
        gauge(
                registry,
                "dwcp_region_term_acquire_seconds",
                "How long the last leadership took to acquire (NaN before the first)",
                region::lastTermAcquireSeconds);
        counter(registry, "dwcp_gossip_rounds_total", "Gossip rounds run", gossip::rounds);
        counter(registry, "dwcp_gossip_messages_sent_total", "Gossip messages sent", gossip::messagesSent);
        counter(registry, "dwcp_gossip_messages_received_total", "Gossip messages received", gossip::messagesReceived);
        counter(registry, "dwcp_gossip_bytes_sent_total", "Bytes of the gossip messages sent", gossip::bytesSent);
        counter(
                registry,
                "dwcp_gossip_bytes_received_total",
                "Bytes of the gossip messages received",
                gossip::bytesReceived);
        counter(
                registry,
                "dwcp_gossip_send_failures_total",
                "Gossip messages that could not be sent",
                gossip::sendFailures);
        counter(
                registry,
                "dwcp_gossip_malformed_messages_total",
                "Gossip messages dropped as malformed",
                gossip::malformedMessages);
        counter(
                registry,
                "dwcp_gossip_peers_refused_total",
                "Gossip connections refused (TLS failed, or the certificate is not the peer's)",
                gossip::peersRefused);
        counter(registry, "dwcp_gossip_updates_applied_total", "Gossip updates applied", gossip::updatesApplied);
        counter(
                registry,
                "dwcp_gossip_duplicate_updates_total",
                "Gossip updates dropped as already seen",
                gossip::duplicates);
        counter(
                registry,
                "dwcp_gossip_out_of_order_updates_total",
                "Gossip updates dropped because an earlier update of their origin is missing (a later round brings a snapshot)",
                gossip::outOfOrder);
        counter(registry, "dwcp_gossip_snapshots_sent_total", "Full-state snapshots sent", gossip::snapshotsSent);
        counter(
                registry,
                "dwcp_gossip_snapshots_applied_total",
                "Full-state snapshots applied",
                gossip::snapshotsApplied);
    }
}
