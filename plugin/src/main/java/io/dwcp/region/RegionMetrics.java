package io.dwcp.region;

import io.dwcp.gossip.GossipStats;
import io.dwcp.metrics.MetricsSource;
import jakarta.inject.Inject;

import static java.util.Objects.requireNonNull;

/** The control plane's counters on {@code /metrics} ({@code dwcp_region_*}, {@code dwcp_gossip_*}), only when it runs. */
public final class RegionMetrics
        implements MetricsSource
{
    private final RegionConfig config;
    private final RegionStats region;
    private final GossipStats gossip;

    @Inject
    public RegionMetrics(RegionConfig config, RegionStats region, GossipStats gossip)
    {
        this.config = requireNonNull(config, "config is null");
        this.region = requireNonNull(region, "region is null");
        this.gossip = requireNonNull(gossip, "gossip is null");
    }

    @Override
    public void appendPrometheus(StringBuilder out)
    {
        if (!config.isEnabled()) {
            return;
        }
        region.appendPrometheus(out);
        gossip.appendPrometheus(out);
    }
}
