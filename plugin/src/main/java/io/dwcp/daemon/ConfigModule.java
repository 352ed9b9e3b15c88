package io.dwcp.daemon;

import static java.util.Objects.requireNonNull;

import com.google.inject.AbstractModule;
import io.dwcp.amst.AmstConfig;
import io.dwcp.codec.CodecConfig;
import io.dwcp.control.ControlConfig;
import io.dwcp.gossip.GossipConfig;
import io.dwcp.hde.HdeConfig;
import io.dwcp.metrics.MetricsConfig;
import io.dwcp.node.NodeConfig;
import io.dwcp.region.RegionConfig;
import io.dwcp.session.PeersConfig;
import io.dwcp.session.TunnelConfig;
import io.dwcp.tls.TlsConfig;

/** Binds every configuration class, already bound from the properties and validated ({@link DaemonConfiguration}). */
public final class ConfigModule extends AbstractModule {
    private final DaemonConfiguration configuration;

    public ConfigModule(DaemonConfiguration configuration) {
        this.configuration = requireNonNull(configuration, "configuration is null");
    }

    @Override
    protected void configure() {
        bind(NodeConfig.class).toInstance(configuration.node());
        bind(TunnelConfig.class).toInstance(configuration.tunnel());
        bind(AmstConfig.class).toInstance(configuration.amst());
        bind(TlsConfig.class).toInstance(configuration.tls());
        bind(MetricsConfig.class).toInstance(configuration.metrics());
        bind(CodecConfig.class).toInstance(configuration.codec());
        bind(HdeConfig.class).toInstance(configuration.hde());
        bind(ControlConfig.class).toInstance(configuration.control());
        bind(PeersConfig.class).toInstance(configuration.peers());
        bind(RegionConfig.class).toInstance(configuration.region());
        bind(GossipConfig.class).toInstance(configuration.gossip());
    }
}
