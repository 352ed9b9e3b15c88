package io.dwcp.cli;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.function.LongSupplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dwcp status}: the local dwcpd's region as its control plane sees it (leader and term,
 * hosts, link measurements, the age of each figure), or its static peers when it runs none.
 */
@Command(
        name = "status",
        mixinStandardHelpOptions = true,
        version = "dwcp 0.1.0",
        header = "Show this host's region, its leader, hosts and links as the local dwcpd sees them.",
        description = {
            "Shows what the local dwcpd knows of its region: the region's name, its leader and the leader's term, "
                    + "the hosts registered (address, capacity, DWCP version, certificate fingerprint), the link measurements "
                    + "between hosts, what gossip brought of other regions, and how old each of these figures is "
                    + "(when dwcpd last made sure of it with ZooKeeper).",
            "",
            "Without a control plane (region.name not set in dwcpd's configuration) it says so in one line "
                    + "and lists dwcpd's static peers (peer.NAME.address), with exit status 0.",
            "",
            "Settings come from /etc/dwcp/dwcp.properties (key control.socket); options override them.",
            ""
        },
        footer = {
            "",
            "Exit status:",
            "  0    shown (with or without a control plane)",
            "  2    usage: options or settings file",
            "  3    dwcpd not running or not answering"
        })
public final class StatusCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** What the command talks to and writes on; tests give fakes. */
    public record Environment(Function<Path, Dwcpd> dwcpd, PrintStream out, PrintStream err, LongSupplier clockMillis) {
        public Environment {
            requireNonNull(dwcpd, "dwcpd is null");
            requireNonNull(out, "out is null");
            requireNonNull(err, "err is null");
            requireNonNull(clockMillis, "clockMillis is null");
        }

        static Environment system() {
            return new Environment(
                    socket -> new DwcpdControl(new ControlClient(socket, Duration.ofSeconds(5))),
                    System.out,
                    System.err,
                    System::currentTimeMillis);
        }
    }

    @Option(
            names = "--json",
            description = "Print one JSON object (node, peers, region: null without a control plane) for scripts.")
    boolean json;

    @Option(
            names = "--control-socket",
            paramLabel = "PATH",
            description = "The local dwcpd's control socket (default: control.socket, else /run/dwcp/control.sock).")
    Path controlSocket;

    @Option(
            names = "--config",
            paramLabel = "FILE",
            description = "The settings file (default: /etc/dwcp/dwcp.properties, used when present).")
    Path configFile;

    private final Environment environment;

    public StatusCommand() {
        this(null);
    }

    /** With a null environment the real one is made when the command runs. */
    public StatusCommand(Environment environment) {
        this.environment = environment;
    }

    @Override
    public Integer call() {
        Environment env = environment != null ? environment : Environment.system();
        CliConfig config;
        try {
            config = CliConfig.load(configFile);
        } catch (CliConfig.Invalid e) {
            env.err().println("dwcp status: " + e.getMessage());
            return ExitCode.USAGE.code();
        }
        Path socket = controlSocket != null ? controlSocket : config.getControlSocket();
        try (Dwcpd dwcpd = env.dwcpd().apply(socket)) {
            Dwcpd.Status status = dwcpd.status();
            Optional<Dwcpd.Region> region = dwcpd.region();
            env.out()
                    .print(
                            json
                                    ? json(status, region)
                                    : text(status, region, env.clockMillis().getAsLong()));
            env.out().flush();
            return ExitCode.OK.code();
        } catch (Dwcpd.UnavailableException e) {
            env.err().println("dwcp status: " + e.getMessage());
            return ExitCode.DWCPD_UNAVAILABLE.code();
        }
    }

    static String json(Dwcpd.Status status, Optional<Dwcpd.Region> region) {
        Map<String, Object> all = new LinkedHashMap<>();
        all.put("node", status.node());
        all.put("peers", status.peers());
        all.put("region", region.orElse(null));
        try {
            return JSON.writeValueAsString(all) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The report for a person: a few headed tables, each figure with its age. */
    static String text(Dwcpd.Status status, Optional<Dwcpd.Region> found, long nowMillis) {
        StringBuilder out = new StringBuilder();
        if (found.isEmpty()) {
            out.append("dwcpd ")
                    .append(status.node())
                    .append(" runs no control plane (region.name is not set): it migrates to its static peers only\n");
            appendPeers(out, status.peers());
            return out.toString();
        }
        Dwcpd.Region region = found.get();
        out.append("Region ")
                .append(region.region())
                .append(", host ")
                .append(region.host())
                .append('\n');
        if (region.leader().isEmpty()) {
            out.append("Leader:  none known (")
                    .append(age(region.leaderAgeMillis()))
                    .append(")\n");
        } else {
            out.append("Leader:  ")
                    .append(region.leader())
                    .append(region.thisHostLeads() ? " (this host)" : "")
                    .append(", term ")
                    .append(region.term())
                    .append(" (")
                    .append(age(region.leaderAgeMillis()))
                    .append(")\n");
        }
        out.append('\n')
                .append("Hosts (")
                .append(region.hosts().size())
                .append(", ")
                .append(age(region.hostsAgeMillis()))
                .append("):\n");
        if (region.hosts().isEmpty()) {
            out.append("  none\n");
        } else {
            List<List<String>> rows = new ArrayList<>();
            rows.add(List.of("NAME", "ADDRESS", "CAPACITY", "VERSION", "FINGERPRINT"));
            for (Dwcpd.Host host : region.hosts()) {
                rows.add(List.of(
                        host.name() + (host.name().equals(region.leader()) ? " *" : ""),
                        host.address(),
                        Integer.toString(host.capacity()),
                        host.dwcpVersion(),
                        host.certificateFingerprint()));
            }
            appendTable(out, rows);
        }
        out.append('\n')
                .append("Links (")
                .append(region.links().size())
                .append(", ")
                .append(age(region.linksAgeMillis()))
                .append("):\n");
        if (region.links().isEmpty()) {
            out.append("  none measured\n");
        } else {
            List<List<String>> rows = new ArrayList<>();
            rows.add(List.of("FROM", "TO", "RTT", "GOODPUT", "LOSS", "MEASURED"));
            for (Dwcpd.Link link : region.links()) {
                rows.add(List.of(
                        link.from(),
                        link.to(),
                        String.format(Locale.ROOT, "%.1f ms", link.rttMicros() / 1000.0),
                        String.format(Locale.ROOT, "%.1f Mbit/s", link.goodputBytesPerSecond() * 8 / 1e6),
                        String.format(Locale.ROOT, "%.3f %%", link.lossPpm() / 1e4),
                        ago(nowMillis - link.measuredAtMillis())));
            }
            appendTable(out, rows);
        }
        if (!region.regions().isEmpty()) {
            out.append('\n').append("Other regions (gossip):\n");
            List<List<String>> rows = new ArrayList<>();
            rows.add(List.of("REGION", "HOSTS", "SUMMARY", "AGE"));
            for (Dwcpd.RemoteRegion remote : region.regions()) {
                rows.add(List.of(
                        remote.region(), String.join(",", remote.hosts()), remote.summary(), ago(remote.ageMillis())));
            }
            appendTable(out, rows);
        }
        if (!status.peers().isEmpty()) {
            out.append('\n');
            appendPeers(out, status.peers());
        }
        return out.toString();
    }

    private static void appendPeers(StringBuilder out, List<Dwcpd.Peer> peers) {
        out.append("Static peers (").append(peers.size()).append("):\n");
        if (peers.isEmpty()) {
            out.append("  none (peer.NAME.address)\n");
            return;
        }
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("NAME", "ADDRESS", "SOCKET"));
        peers.forEach(peer -> rows.add(List.of(peer.name(), peer.address(), peer.socket())));
        appendTable(out, rows);
    }

    /** "read 1.2 s ago", or "never read" for an age of -1. */
    static String age(long ageMillis) {
        return ageMillis < 0 ? "never read" : "read " + ago(ageMillis);
    }

    static String ago(long millis) {
        if (millis < 0) {
            return "in the future (clocks differ)";
        }
        if (millis < 1000) {
            return millis + " ms ago";
        }
        if (millis < 120_000) {
            return String.format(Locale.ROOT, "%.1f s ago", millis / 1000.0);
        }
        if (millis < 7_200_000) {
            return millis / 60_000 + " min ago";
        }
        return millis / 3_600_000 + " h ago";
    }

    private static void appendTable(StringBuilder out, List<List<String>> rows) {
        int[] widths = new int[rows.get(0).size()];
        for (List<String> row : rows) {
            for (int i = 0; i < row.size(); i++) {
                widths[i] = Math.max(widths[i], row.get(i).length());
            }
        }
        for (List<String> row : rows) {
            StringBuilder line = new StringBuilder("  ");
            for (int i = 0; i < row.size(); i++) {
                line.append(row.get(i));
                if (i < row.size() - 1) {
                    line.append(" ".repeat(widths[i] - row.get(i).length() + 2));
                }
            }
            out.append(line.toString().stripTrailing()).append('\n');
        }
    }
}
