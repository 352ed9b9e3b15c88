package io.dwcp.region;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.gossip.GossipStats;
import io.dwcp.metrics.MetricsConfig;
import io.dwcp.metrics.MetricsServer;
import io.dwcp.metrics.ScrapedMetrics;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The control plane's figures as a scraper reads them, from known {@link RegionStats} and {@link GossipStats}. */
class RegionMetricsTest {
    private final RegionStats region = new RegionStats();
    private final GossipStats gossip = new GossipStats();

    private String render(RegionConfig config) {
        return new MetricsServer(new MetricsConfig(), Set.of(new RegionMetrics(config, region, gossip))).render();
    }

    @Test
    void nothingWithoutARegion() {
        region.leadershipAcquired(10);
        gossip.sent(100);
        assertEquals("", render(new RegionConfig()));
    }

    @Test
    void regionAndGossipCounters() {
        RegionConfig config = new RegionConfig().setName("eu-west").setZookeeperEmbedded(true);
        ScrapedMetrics before = ScrapedMetrics.parse(render(config));
        // no leadership yet: the acquire time is unknown
        assertTrue(Double.isNaN(before.require("dwcp_region_term_acquire_seconds")));
        assertEquals(0, before.require("dwcp_region_leaderships_acquired_total"));

        region.leadershipAcquired(1250);
        region.leadershipLost();
        region.leadershipAcquired(300);
        region.leaderWrite(true);
        region.leaderWrite(true);
        region.leaderWrite(false);
        region.metadataRefreshed();
        region.staleRefusal();
        region.vmLock(true);
        region.vmLock(false);
        region.vmLock(false);
        region.suspended();
        region.sessionLost();
        region.recordPublished(true);
        region.recordPublished(true);
        region.recordPublished(false);
        region.migrationRecordsDeleted(3);
        region.migrationRecordsDeleted(0);
        region.migrationRecordsDeleted(2);
        gossip.sent(100);
        gossip.sent(50);
        gossip.received(70);
        gossip.sendFailed();
        gossip.malformed();
        gossip.peerRefused();

        ScrapedMetrics scrape = ScrapedMetrics.parse(render(config));
        assertEquals(2, scrape.require("dwcp_region_leaderships_acquired_total"));
        assertEquals(1, scrape.require("dwcp_region_leaderships_lost_total"));
        assertEquals(2, scrape.require("dwcp_region_leader_writes_accepted_total"));
        assertEquals(1, scrape.require("dwcp_region_leader_writes_refused_total"));
        assertEquals(1, scrape.require("dwcp_region_metadata_refreshes_total"));
        assertEquals(1, scrape.require("dwcp_region_stale_refusals_total"));
        assertEquals(1, scrape.require("dwcp_region_vm_locks_taken_total"));
        assertEquals(2, scrape.require("dwcp_region_vm_locks_refused_total"));
        assertEquals(1, scrape.require("dwcp_region_connection_suspensions_total"));
        assertEquals(1, scrape.require("dwcp_region_sessions_lost_total"));
        assertEquals(2, scrape.require("dwcp_region_records_published_total"));
        assertEquals(1, scrape.require("dwcp_region_records_publish_failed_total"));
        assertEquals("counter", scrape.type("dwcp_region_records_publish_failed_total"));
        assertEquals(5, scrape.require("dwcp_region_migration_records_pruned_total"));
        assertEquals("counter", scrape.type("dwcp_region_migration_records_pruned_total"));
        assertEquals(0.3, scrape.require("dwcp_region_term_acquire_seconds"));
        assertEquals("gauge", scrape.type("dwcp_region_term_acquire_seconds"));
        assertEquals(0, scrape.require("dwcp_gossip_rounds_total"));
        assertEquals(2, scrape.require("dwcp_gossip_messages_sent_total"));
        assertEquals(1, scrape.require("dwcp_gossip_messages_received_total"));
        assertEquals(150, scrape.require("dwcp_gossip_bytes_sent_total"));
        assertEquals(70, scrape.require("dwcp_gossip_bytes_received_total"));
        assertEquals(1, scrape.require("dwcp_gossip_send_failures_total"));
        assertEquals(1, scrape.require("dwcp_gossip_malformed_messages_total"));
        assertEquals(1, scrape.require("dwcp_gossip_peers_refused_total"));
        for (String name : new String[] {
            "dwcp_gossip_updates_applied_total",
            "dwcp_gossip_duplicate_updates_total",
            "dwcp_gossip_out_of_order_updates_total",
            "dwcp_gossip_snapshots_sent_total",
            "dwcp_gossip_snapshots_applied_total"
        }) {
            assertEquals(0, scrape.require(name), name);
            assertEquals("counter", scrape.type(name), name);
        }
        // 14 region figures and 13 gossip ones, nothing else
        assertEquals(27, scrape.samples().size(), scrape.toString());
    }
}
