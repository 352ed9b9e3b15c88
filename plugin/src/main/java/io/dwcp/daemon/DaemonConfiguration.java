package io.dwcp.daemon;

import static java.util.Objects.requireNonNull;

import io.dwcp.amst.AmstConfig;
import io.dwcp.codec.CodecConfig;
import io.dwcp.config.Config;
import io.dwcp.config.ConfigurationBinder;
import io.dwcp.config.ConfigurationException;
import io.dwcp.control.ControlConfig;
import io.dwcp.gossip.GossipConfig;
import io.dwcp.hde.HdeConfig;
import io.dwcp.metrics.MetricsConfig;
import io.dwcp.node.NodeConfig;
import io.dwcp.region.RegionConfig;
import io.dwcp.session.PeersConfig;
import io.dwcp.session.TunnelConfig;
import io.dwcp.tls.TlsConfig;
import java.util.List;
import java.util.Map;

/**
 * dwcpd's whole configuration, bound from the properties and checked before anything is created:
 * a bad key or value ends as one {@link ConfigurationException} naming it, never inside the injector.
 */
public record DaemonConfiguration(
        NodeConfig node,
        TunnelConfig tunnel,
        AmstConfig amst,
        TlsConfig tls,
        MetricsConfig metrics,
        ControlConfig control,
        CodecConfig codec,
        HdeConfig hde,
        PeersConfig peers,
        RegionConfig region,
        GossipConfig gossip) {
    /** The classes whose {@link Config} keys dwcpd reads, in the order {@code dwcpd --help-config} lists them. */
    public static final List<Class<?>> CONFIG_CLASSES = List.of(
            NodeConfig.class,
            TunnelConfig.class,
            AmstConfig.class,
            TlsConfig.class,
            MetricsConfig.class,
            ControlConfig.class,
            CodecConfig.class,
            HdeConfig.class,
            RegionConfig.class,
            GossipConfig.class);

    /** The prefix of the keys naming other regions' hosts to gossip with, {@code gossip.peer.<name>}. */
    public static final String GOSSIP_PEER_PREFIX = "gossip.peer.";

    /** The prefix of the per-peer keys, {@code peer.<name>.address} and {@code peer.<name>.qemu-port}. */
    public static final String PEER_PREFIX = "peer.";

    public DaemonConfiguration {
        requireNonNull(node, "node is null");
        requireNonNull(tunnel, "tunnel is null");
        requireNonNull(amst, "amst is null");
        requireNonNull(tls, "tls is null");
        requireNonNull(metrics, "metrics is null");
        requireNonNull(control, "control is null");
        requireNonNull(codec, "codec is null");
        requireNonNull(hde, "hde is null");
        requireNonNull(peers, "peers is null");
        requireNonNull(region, "region is null");
        requireNonNull(gossip, "gossip is null");
    }

    /** Binds and validates every class; throws {@link ConfigurationException} on the first bad key or value. */
    public static DaemonConfiguration bind(Map<String, String> properties) {
        ConfigurationBinder binder = new ConfigurationBinder(properties);
        NodeConfig node = binder.bind(NodeConfig.class);
        TunnelConfig tunnel = binder.bind(TunnelConfig.class);
        AmstConfig amst = binder.bind(AmstConfig.class);
        TlsConfig tls = binder.bind(TlsConfig.class);
        MetricsConfig metrics = binder.bind(MetricsConfig.class);
        ControlConfig control = binder.bind(ControlConfig.class);
        CodecConfig codec = binder.bind(CodecConfig.class);
        HdeConfig hde = binder.bind(HdeConfig.class);
        RegionConfig region = binder.bind(RegionConfig.class);
        GossipConfig gossip = binder.bind(GossipConfig.class);
        gossip.setPeers(GossipConfig.parsePeers(binder.claimPrefix(GOSSIP_PEER_PREFIX)));
        PeersConfig peers = PeersConfig.fromProperties(binder.claimPrefix(PEER_PREFIX));
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
            throw new ConfigurationException("node.name '" + node.getName() + "' must not also be a peer");
        }
        return new DaemonConfiguration(node, tunnel, amst, tls, metrics, control, codec, hde, peers, region, gossip);
    }
}
