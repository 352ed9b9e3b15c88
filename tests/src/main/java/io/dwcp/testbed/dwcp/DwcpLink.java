package io.dwcp.testbed.dwcp;

import static java.util.Objects.requireNonNull;

import io.dwcp.testbed.net.Host;
import io.dwcp.testbed.net.TwoHostNetwork;
import io.dwcp.testbed.sys.Folders;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Two dwcpd across a test bed network: one on host A (the source side, node name {@value #A}),
 * one on host B ({@value #B}), each the other's peer, with certificates from one CA made for this
 * link. A source QEMU on A migrates to {@link #sourceUri()}; the destination QEMU on B listens on
 * {@link #destinationUri()}: the same path scheme libvirt uses ({@code <run-dir>/peer/<dest>.sock}
 * on both hosts).
 */
public final class DwcpLink implements AutoCloseable {
    public static final String A = "a";
    public static final String B = "b";

    private final TwoHostNetwork network;
    private final Path dir;
    private final Map<String, String> settings;
    private Dwcpd source;
    private Dwcpd destination;

    private DwcpLink(TwoHostNetwork network, Path dir, Map<String, String> settings) {
        this.network = network;
        this.dir = dir;
        this.settings = settings;
    }

    /**
     * Starts both daemons with the same extra {@code settings} (configuration keys), keeping their
     * files under {@code dir} (removed on close).
     */
    public static DwcpLink start(TwoHostNetwork network, Path dir, Map<String, String> settings) {
        requireNonNull(network, "network is null");
        DwcpLink link = new DwcpLink(network, dir, Map.copyOf(settings));
        try {
            Folders.deleteTree(dir);
            Dwcpd.createCa(dir.resolve("ca"));
            link.source = link.startDaemon(network.hostA(), A, B, network.hostB());
            link.destination = link.startDaemon(network.hostB(), B, A, network.hostA());
            return link;
        } catch (RuntimeException e) {
            link.close();
            throw e;
        }
    }

    private Dwcpd startDaemon(Host host, String name, String peer, Host peerHost) {
        Map<String, String> peers = new LinkedHashMap<>();
        peers.put(peer, peerHost.address() + ":" + Dwcpd.TUNNEL_PORT);
        return Dwcpd.start(host, name, dir.resolve(name), dir.resolve("ca"), peers, settings);
    }

    /** The source-side daemon, on host A. */
    public Dwcpd source() {
        return source;
    }

    /** The destination-side daemon, on host B. */
    public Dwcpd destination() {
        return destination;
    }

    /** The folder of the link's CA (ca.pem, ca.key). */
    public Path caDir() {
        return dir.resolve("ca");
    }

    /** What the source QEMU on A migrates to. */
    public String sourceUri() {
        return "unix:" + source.peerSocket(B);
    }

    /** What the destination QEMU on B listens on (dwcpd B connects to it). */
    public String destinationUri() {
        return "unix:" + destination.peerSocket(B);
    }

    /** The way back: what a source QEMU on B migrates to (towards A). */
    public String reverseSourceUri() {
        return "unix:" + destination.peerSocket(A);
    }

    /** The way back: what the destination QEMU on A listens on. */
    public String reverseDestinationUri() {
        return "unix:" + source.peerSocket(A);
    }

    /** Starts the destination daemon again after it was killed or stopped (same files, same configuration). */
    public Dwcpd restartDestination() {
        destination.close();
        destination = startDaemon(network.hostB(), B, A, network.hostA());
        return destination;
    }

    /** Both daemons' logs, for failure messages. */
    public String logs() {
        return "--- dwcpd " + A + " ---\n" + tail(source) + "\n--- dwcpd " + B + " ---\n" + tail(destination);
    }

    /** Copies both daemons' whole logs into {@code dir} (a failed test keeps them for a reader: the link's own folder goes). */
    public void saveLogs(Path dir) {
        try {
            java.nio.file.Files.createDirectories(dir);
            if (source != null) {
                java.nio.file.Files.writeString(dir.resolve("dwcpd-" + A + ".log"), source.log());
            }
            if (destination != null) {
                java.nio.file.Files.writeString(dir.resolve("dwcpd-" + B + ".log"), destination.log());
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String tail(Dwcpd daemon) {
        if (daemon == null) {
            return "(not started)";
        }
        String log = daemon.log();
        return log.length() <= 6000 ? log : "..." + log.substring(log.length() - 6000);
    }

    @Override
    public void close() {
        if (destination != null) {
            destination.close();
        }
        if (source != null) {
            source.close();
        }
        Folders.deleteTree(dir);
    }

    /**
     * The local ports of {@code from}'s established tunnel connections to {@code to}, the one that
     * sent the most bytes first: while a migration runs, its streams come before spare streams
     * (which carry a PING every few seconds). Read with {@code ss -t -i} in {@code from}'s namespace.
     */
    public static List<String> busiestTunnelPorts(Host from, Host to) {
        String out = from.run(ssTunnel(to, List.of("-H", "-t", "-n", "-i"))).stdout();
        List<String> ports = busiestPorts(out, from.address());
        if (ports.isEmpty()) {
            throw new AssertionError(
                    "no tunnel connection from " + from.address() + " to " + to.address() + ":\n" + out);
        }
        return ports;
    }

    /**
     * Destroys {@code from}'s busiest tunnel connection to {@code to} (a stream of the migration
     * that runs, not a spare; see {@link #busiestTunnelPorts}) with {@code ss -K}, as a broken link
     * would; returns its local port.
     */
    public static String killBusiestTunnelConnection(Host from, Host to) {
        String port = busiestTunnelPorts(from, to).get(0);
        from.run(ssTunnel(to, List.of("-K", "-t"), "sport", "=", ":" + port));
        return port;
    }

    /** {@code ss OPTIONS} on the established connections to {@code to}'s tunnel port, then {@code more} filters. */
    private static String[] ssTunnel(Host to, List<String> options, String... more) {
        List<String> argv = new ArrayList<>(List.of("ss"));
        argv.addAll(options);
        argv.addAll(List.of("state", "established", "dst", to.address(), "dport", "=", ":" + Dwcpd.TUNNEL_PORT));
        argv.addAll(List.of(more));
        return argv.toArray(String[]::new);
    }

    private static final Pattern BYTES_SENT = Pattern.compile("\\bbytes_sent:(\\d+)");

    /** The local ports in {@code ss -t -i} output (a connection's line, then its indented details), most bytes_sent first. */
    static List<String> busiestPorts(String ssOutput, String localAddress) {
        List<String> ports = new ArrayList<>();
        Map<String, Long> sent = new HashMap<>();
        String current = null;
        for (String line : ssOutput.split("\n")) {
            String port = null;
            for (String field : line.trim().split("\\s+")) {
                if (field.startsWith(localAddress + ":")) {
                    port = field.substring(field.lastIndexOf(':') + 1);
                }
            }
            if (port != null) {
                current = port;
                ports.add(port);
                sent.put(port, 0L);
            }
            Matcher bytes = BYTES_SENT.matcher(line);
            if (current != null && bytes.find()) {
                sent.put(current, Long.parseLong(bytes.group(1)));
            }
        }
        ports.sort(Comparator.comparing((String p) -> sent.get(p)).reversed());
        return ports;
    }
}
