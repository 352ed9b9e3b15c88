package io.dwcp.session;

import io.dwcp.config.ConfigurationException;
import io.dwcp.config.HostAndPort;
import io.dwcp.node.NodeConfig;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;

/**
 * The peers, from keys {@code peer.<name>.address = host:port} (required) and
 * {@code peer.<name>.qemu-port = port} (optional).
 */
public final class PeersConfig {
    private final Map<String, PeerConfig> peers;

    public PeersConfig(Collection<PeerConfig> peers) {
        Map<String, PeerConfig> map = new LinkedHashMap<>();
        for (PeerConfig peer : peers) {
            map.put(peer.name(), peer);
        }
        this.peers = Map.copyOf(map);
    }

    /** Parses the properties below {@code peer.} (keys without the prefix). */
    public static PeersConfig fromProperties(Map<String, String> properties) {
        Map<String, String> addresses = new TreeMap<>();
        Map<String, Integer> ports = new TreeMap<>();
        for (Map.Entry<String, String> entry : properties.entrySet()) {
            String key = entry.getKey();
            int dot = key.lastIndexOf('.');
            if (dot <= 0) {
                throw new ConfigurationException("unknown configuration key peer." + key
                        + " (peer keys are peer.<name>.address and peer.<name>.qemu-port)");
            }
            String name = key.substring(0, dot);
            if (!NodeConfig.isName(name)) {
                throw new ConfigurationException("peer." + key + ": the peer name '"
                        + ConfigurationException.oneLineValue(name) + "' is not a node name: " + NodeConfig.NAME_RULE);
            }
            String field = key.substring(dot + 1);
            switch (field) {
                case "address" -> addresses.put(name, entry.getValue());
                case "qemu-port" -> {
                    try {
                        int port = Integer.parseInt(entry.getValue());
                        if (port < 1 || port > 65535) {
                            throw new NumberFormatException();
                        }
                        ports.put(name, port);
                    } catch (NumberFormatException e) {
                        throw ConfigurationException.invalidValue(
                                "peer." + key, entry.getValue(), "expected a TCP port, 1 to 65535");
                    }
                }
                default ->
                    throw new ConfigurationException(
                            "unknown peer key peer." + key + " (peer.<name>.address, peer.<name>.qemu-port)");
            }
        }
        Map<String, PeerConfig> peers = new LinkedHashMap<>();
        for (String name : ports.keySet()) {
            if (!addresses.containsKey(name)) {
                throw new ConfigurationException("peer." + name + ".address is required");
            }
        }
        for (Map.Entry<String, String> entry : addresses.entrySet()) {
            HostAndPort address;
            try {
                address = HostAndPort.valueOf(entry.getValue());
            } catch (IllegalArgumentException e) {
                throw ConfigurationException.invalidValue(
                        "peer." + entry.getKey() + ".address",
                        entry.getValue(),
                        "expected host:port such as 192.0.2.7:7470 or [2001:db8::7]:7470 (the peer's tunnel.listen)");
            }
            Integer port = ports.get(entry.getKey());
            peers.put(
                    entry.getKey(),
                    new PeerConfig(entry.getKey(), address, port == null ? OptionalInt.empty() : OptionalInt.of(port)));
        }
        return new PeersConfig(peers.values());
    }

    public Optional<PeerConfig> get(String name) {
        return Optional.ofNullable(peers.get(name));
    }

    public Collection<PeerConfig> all() {
        return peers.values();
    }
}
