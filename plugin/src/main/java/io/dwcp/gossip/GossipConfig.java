package io.dwcp.gossip;

import io.dwcp.config.Config;
import io.dwcp.config.ConfigurationException;
import io.dwcp.config.DataSize;
import io.dwcp.config.HostAndPort;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/**
 * Gossip between regions ({@code gossip.*}); used when {@code region.name} is set. Every dwcpd of a
 * region listens; only the region's leader starts rounds. Peers are other regions' hosts, named as
 * in their certificates ({@code gossip.peer.<node.name>=host:port}); list a few hosts per region,
 * so a region is reached whoever leads it.
 *
 * <p>Defaults from the scale simulation ({@code ScaleSimulation}): rounds every 200 ms to 2 peers
 * inform 99 % of 10,000 hosts in 50 regions within about 0.7 s (median) at a few hundred bytes
 * per host and second.
 */
public class GossipConfig {
    private HostAndPort listen = new HostAndPort("0.0.0.0", 7471);
    private Duration interval = Duration.ofMillis(200);
    private int fanout = 2;
    private int logCapacity = 256;
    private DataSize maxMessageSize = DataSize.ofMiB(1);
    private Map<String, HostAndPort> peers = Map.of();

    public HostAndPort getListen() {
        return listen;
    }

    @Config(value = "gossip.listen", description = "gossip port (mutual TLS, the tunnel's certificates)")
    public GossipConfig setListen(HostAndPort listen) {
        this.listen = listen;
        return this;
    }

    public Duration getInterval() {
        return interval;
    }

    @Config(value = "gossip.interval", description = "how often the region's leader starts an anti-entropy exchange")
    public GossipConfig setInterval(Duration interval) {
        this.interval = interval;
        return this;
    }

    public int getFanout() {
        return fanout;
    }

    @Config(value = "gossip.fanout", description = "peers per round")
    public GossipConfig setFanout(int fanout) {
        this.fanout = fanout;
        return this;
    }

    public int getLogCapacity() {
        return logCapacity;
    }

    @Config(
            value = "gossip.log-capacity",
            description = "updates kept per origin to send as deltas (a peer further behind gets a snapshot)")
    public GossipConfig setLogCapacity(int logCapacity) {
        this.logCapacity = logCapacity;
        return this;
    }

    public DataSize getMaxMessageSize() {
        return maxMessageSize;
    }

    @Config(value = "gossip.max-message-size", description = "largest gossip message sent or accepted")
    public GossipConfig setMaxMessageSize(DataSize maxMessageSize) {
        this.maxMessageSize = maxMessageSize;
        return this;
    }

    /** Peer name (its certificate's CN) to gossip address. */
    public Map<String, HostAndPort> getPeers() {
        return peers;
    }

    public GossipConfig setPeers(Map<String, HostAndPort> peers) {
        this.peers = Map.copyOf(peers);
        return this;
    }

    /** {@code gossip.peer.<name>} entries (the prefix already removed) to peers. */
    public static Map<String, HostAndPort> parsePeers(Map<String, String> entries) {
        Map<String, HostAndPort> peers = new TreeMap<>();
        entries.forEach((name, address) -> {
            try {
                peers.put(name, HostAndPort.valueOf(address));
            } catch (IllegalArgumentException e) {
                throw new ConfigurationException(
                        "invalid value for gossip.peer." + name + ": '" + address + "': " + e.getMessage(), e);
            }
        });
        return peers;
    }

    public void validate() {
        if (interval.toMillis() < 10) {
            throw new ConfigurationException("gossip.interval must be at least 10ms: " + interval.toMillis() + "ms");
        }
        if (fanout < 1) {
            throw new ConfigurationException("gossip.fanout must be at least 1: " + fanout);
        }
        if (logCapacity < 1) {
            throw new ConfigurationException("gossip.log-capacity must be at least 1: " + logCapacity);
        }
        if (maxMessageSize.bytes() < 4096 || maxMessageSize.bytes() > (64 << 20)) {
            throw new ConfigurationException(
                    "gossip.max-message-size must be between 4KiB and 64MiB: " + maxMessageSize);
        }
    }
}
