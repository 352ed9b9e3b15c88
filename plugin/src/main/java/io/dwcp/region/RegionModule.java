package io.dwcp.region;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import com.google.inject.multibindings.Multibinder;
import io.dwcp.gossip.GossipConfig;
import io.dwcp.gossip.GossipStats;
import io.dwcp.metrics.MetricsSource;
import io.dwcp.node.NodeConfig;
import io.dwcp.session.TunnelConfig;
import io.dwcp.tls.TlsConfig;
import java.util.Optional;

/**
 * The control plane for dwcpd: present only when {@code region.name} is set (otherwise dwcpd
 * runs as before, without ZooKeeper). Needs {@link RegionConfig} and {@link GossipConfig} bound
 * (bound and validated with the other configuration classes).
 */
public final class RegionModule extends AbstractModule {
    @Override
    protected void configure() {
        bind(RegionStats.class).in(Singleton.class);
        bind(GossipStats.class).in(Singleton.class);
        Multibinder.newSetBinder(binder(), MetricsSource.class).addBinding().to(RegionMetrics.class);
    }

    @Provides
    @Singleton
    Optional<ControlPlane> controlPlane(
            NodeConfig node,
            RegionConfig region,
            GossipConfig gossip,
            TlsConfig tls,
            TunnelConfig tunnel,
            RegionStats stats,
            GossipStats gossipStats) {
        if (!region.isEnabled()) {
            return Optional.empty();
        }
        return Optional.of(new ControlPlane(node, region, gossip, tls, tunnel, stats, gossipStats));
    }

    @Provides
    @Singleton
    Optional<RegionStatus> regionStatus(Optional<ControlPlane> controlPlane) {
        return controlPlane.map(RegionStatus.class::cast);
    }

    @Provides
    @Singleton
    Optional<RegionRecords> regionRecords(Optional<ControlPlane> controlPlane) {
        return controlPlane.map(RegionRecords.class::cast);
    }

    @Provides
    @Singleton
    Optional<RegionView> regionView(Optional<ControlPlane> controlPlane) {
        return controlPlane.map(RegionView.class::cast);
    }

    @Provides
    @Singleton
    Optional<VmLocks> vmLocks(Optional<ControlPlane> controlPlane) {
        return controlPlane.map(VmLocks.class::cast);
    }
}
