package io.dwcp.daemon;

import com.google.inject.AbstractModule;
import io.dwcp.codec.CodecConfig;
import io.dwcp.control.ControlConfig;
import io.dwcp.config.ConfigurationBinder;
import io.dwcp.gossip.GossipConfig;
import io.dwcp.hde.HdeConfig;
import io.dwcp.metrics.MetricsConfig;
import io.dwcp.region.RegionConfig;
import io.dwcp.tls.TlsConfig;
import io.dwcp.transport.AmstConfig;
import io.dwcp.tunnel.PeersConfig;
import io.dwcp.tunnel.TunnelConfig;

import java.util.Map;

import static java.util.Objects.requireNonNull;

/** Binds every configuration class, bound from the properties and validated before anything starts. */
public final class ConfigModule
        extends AbstractModule
{
    private final Map<String, String> properties;

    public ConfigModule(Map<String, String> properties)
    {
        this.properties = Map.copyOf(requireNonNull(properties, "properties is null"));
    }

    @Override
    protected void configure()
    {
        ConfigurationBinder binder = new ConfigurationBinder(properties);
        NodeConfig node = binder.bind(NodeConfig.class);
        TunnelConfig tunnel = binder.bind(TunnelConfig.class);
        AmstConfig amst = binder.bind(AmstConfig.class);
        TlsConfig tls = binder.bind(TlsConfig.class);
        MetricsConfig metrics = binder.bind(MetricsConfig.class);
        CodecConfig codec = binder.bind(CodecConfig.class);
        HdeConfig hde = binder.bind(HdeConfig.class);
        ControlConfig control = binder.bind(ControlConfig.class);
        RegionConfig region = binder.bind(RegionConfig.class);
        GossipConfig gossip = binder.bind(GossipConfig.class);
        gossip.setPeers(GossipConfig.parsePeers(binder.claimPrefix("gossip.peer.")));
        PeersConfig peers = PeersConfig.fromProperties(binder.claimPrefix("peer."));
        binder.checkAllUsed();
        node.validate();
        tunnel.validate();
        amst.validate();
        codec.validate();
        hde.validate();
        if (hde.getBaselineDirectory() == null) {
            hde.setBaselineDirectory(node.getStateDirectory().resolve("baselines"));
        }
        control.validate();
        region.validate();
        gossip.validate();
        if (region.getZookeeperDataDirectory() == null) {
            region.setZookeeperDataDirectory(node.getStateDirectory().resolve("zookeeper"));
        }
        if (peers.get(node.getName()).isPresent()) {
            throw new io.dwcp.config.ConfigurationException("node.name '" + node.getName() + "' must not also be a peer");
        }
        bind(NodeConfig.class).toInstance(node);
        bind(TunnelConfig.class).toInstance(tunnel);
        bind(AmstConfig.class).toInstance(amst);
        bind(TlsConfig.class).toInstance(tls);
        bind(MetricsConfig.class).toInstance(metrics);
        bind(CodecConfig.class).toInstance(codec);
        bind(HdeConfig.class).toInstance(hde);
        bind(ControlConfig.class).toInstance(control);
        bind(PeersConfig.class).toInstance(peers);
        bind(RegionConfig.class).toInstance(region);
        bind(GossipConfig.class).toInstance(gossip);
    }
}
