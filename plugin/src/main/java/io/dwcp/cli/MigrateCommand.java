package io.dwcp.cli;

import static java.util.Objects.requireNonNull;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dwcp migrate DOMAIN dwcp://HOST[:PORT][?OPTIONS]}: a live migration through the local dwcpd. */
@Command(
        name = "migrate",
        mixinStandardHelpOptions = true,
        version = "dwcp 0.1.0",
        header = "Live-migrate a libvirt domain to another host through the local dwcpd.",
        description = {
            "Live-migrates DOMAIN to HOST through the local dwcpd. The command announces the migration to dwcpd, which "
                    + "opens a socket for it alone, and libvirt migrates the domain peer-to-peer with "
                    + "--migrateuri unix://<run-dir>/peer/<peer>/<migration-id>.sock, so QEMU's stream goes through the DWCP "
                    + "tunnel as a session of its own: several migrations may run at once. "
                    + "The command shows guest data sent, bytes on the wire, rate, compression, iteration and ETA, then a summary. "
                    + "Ctrl-C aborts the migration job; the domain keeps running here.",
            "",
            "TARGET is dwcp://HOST[:PORT][?peer=NAME&parallel=N&bandwidth=MIB&dest-uri=URI]. The dwcpd peer is the one "
                    + "named HOST (or NAME), else the one whose tunnel address is HOST[:PORT]. Options in the query are "
                    + "percent-decoded. When dwcpd runs a region (region.name) and HOST is none of its configured peers, "
                    + "dwcpd looks HOST up in the region's host records (its address, and the fingerprint its TLS certificate must have).",
            "",
            "--to-region REGION instead of TARGET: dwcpd chooses the host of REGION (this host's region, or another one "
                    + "its region's leader hears of by gossip) for DOMAIN: first a host holding a baseline of it (known in this "
                    + "host's region only), then the fastest measured link from here, then the most free capacity; full hosts "
                    + "are left out. The command prints each candidate's figures and why it chose the one, then migrates to it. "
                    + "Every figure is read within region.staleness-bound, or the choice is refused.",
            "",
            "Settings come from /etc/dwcp/dwcp.properties (keys migrate.connect, migrate.dest-uri, control.socket "
                    + "and node.run-dir); options override them.",
            ""
        },
        footer = {
            "",
            "Exit status:",
            "  0    migrated",
            "  2    usage: options, TARGET or settings file",
            "  3    dwcpd not running, not answering, without that peer, or refusing (also: no host of REGION can be chosen)",
            "  4    libvirt error before the migration started (connection, domain)",
            "  5    migration failed or timed out; the domain keeps running here",
            "  130  interrupted (Ctrl-C): the job was aborted; the domain keeps running here"
        })
public final class MigrateCommand implements Callable<Integer> {
    /** What --dry-run shows in place of the migration id that dwcpd assigns on announcement. */
    static final String MIGRATION_ID = "MIGRATION-ID";

    private static final Pattern PEER_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");

    /** Registers what Ctrl-C does. */
    public interface Interrupts {
        void onInterrupt(Runnable handler);
    }

    /** What the command talks to and writes on; tests give fakes. */
    public record Environment(
            Libvirt libvirt,
            Function<Path, Dwcpd> dwcpd,
            Interrupts interrupts,
            PrintStream out,
            PrintStream err,
            boolean terminal,
            int columns,
            Duration pollInterval,
            Duration lineInterval) {
        public Environment {
            requireNonNull(libvirt, "libvirt is null");
            requireNonNull(dwcpd, "dwcpd is null");
            requireNonNull(interrupts, "interrupts is null");
            requireNonNull(out, "out is null");
            requireNonNull(err, "err is null");
            requireNonNull(pollInterval, "pollInterval is null");
            requireNonNull(lineInterval, "lineInterval is null");
        }

        @SuppressWarnings("sunapi")
        static Environment system() {
            int columns = 100;
            try {
                columns = Integer.parseInt(System.getenv().getOrDefault("COLUMNS", "100"));
            } catch (NumberFormatException ignored) {
                // not a number: keep 100
            }
            return new Environment(
                    new LibvirtJava(),
                    socket -> new DwcpdControl(new ControlClient(socket, Duration.ofSeconds(5))),
                    handler -> sun.misc.Signal.handle(new sun.misc.Signal("INT"), signal -> handler.run()),
                    System.out,
                    System.err,
                    System.console() != null,
                    columns,
                    Duration.ofSeconds(1),
                    Duration.ofSeconds(10));
        }
    }

    public enum Progress {
        AUTO,
        BAR,
        LINES,
        NONE
    }

    @Parameters(index = "0", paramLabel = "DOMAIN", description = "The libvirt domain (its name) to migrate.")
    String domain;

    @Parameters(
            index = "1",
            arity = "0..1",
            paramLabel = "TARGET",
            description = "Where to: dwcp://HOST[:PORT][?OPTIONS] (or --to-region).")
    String target;

    @Option(
            names = "--to-region",
            paramLabel = "REGION",
            description =
                    "Instead of TARGET: let dwcpd choose the host of REGION (this host's region or another one gossip knows) by the "
                            + "baseline it holds of DOMAIN, the measured link and its free capacity; prints each candidate's figures and why the one was chosen.")
    String toRegion;

    @Option(
            names = {"-c", "--connect"},
            paramLabel = "URI",
            description = "The local libvirt URI (default: migrate.connect, else qemu:///system).")
    String connect;

    @Option(
            names = "--dest-uri",
            paramLabel = "URI",
            description =
                    "The destination's libvirt URI (default: dest-uri in TARGET, else migrate.dest-uri, else qemu+ssh://{host}/system).")
    String destinationUri;

    @Option(
            names = "--parallel",
            paramLabel = "N",
            description = "Migrate with multifd over N parallel connections (1-255), all through dwcpd.")
    Integer parallel;

    @Option(
            names = "--bandwidth",
            paramLabel = "MIB",
            description = "libvirt's bandwidth limit in MiB/s, of guest data before DWCP's encoding.")
    Long bandwidth;

    @Option(
            names = "--timeout",
            paramLabel = "SECONDS",
            description = "Abort the migration if it has not finished after this many seconds (exit status 5).")
    Long timeoutSeconds;

    @Option(
            names = "--keep-source",
            description = "Keep the domain's definition here (no VIR_MIGRATE_UNDEFINE_SOURCE).")
    boolean keepSource;

    @Option(
            names = "--transient",
            description = "Do not define the domain at the destination (no VIR_MIGRATE_PERSIST_DEST).")
    boolean transientDestination;

    @Option(
            names = "--dry-run",
            description =
                    "Print the virsh command line libvirt's part amounts to (its socket, <run-dir>/peer/<peer>/MIGRATION-ID.sock, named by dwcpd when the migration is announced) and exit; contacts neither libvirt nor dwcpd.")
    boolean dryRun;

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

    @Option(
            names = "--progress",
            paramLabel = "MODE",
            description =
                    "How to show progress: auto (a bar on a terminal, else lines), bar, lines or none (default: ${DEFAULT-VALUE}).",
            defaultValue = "auto")
    String progressMode;

    private final Environment environment;

    public MigrateCommand() {
        this(null);
    }

    /** With a null environment the real one is made when the command runs. */
    public MigrateCommand(Environment environment) {
        this.environment = environment;
    }

    /** The flags of virDomainMigrateToURI3 (VIR_MIGRATE_*). */
    static final int LIVE = 1;

    static final int PEER2PEER = 2;
    static final int PERSIST_DEST = 8;
    static final int UNDEFINE_SOURCE = 16;
    static final int PARALLEL = 1 << 17;

    /** What will be done: the same for --dry-run and a real run. */
    record Plan(
            String domain,
            String peer,
            String connectUri,
            String destinationUri,
            String migrateUri,
            int flags,
            OptionalInt parallel,
            OptionalLong bandwidthMiB,
            OptionalLong timeoutSeconds) {
        List<String> virshCommand() {
            List<String> command = new ArrayList<>(List.of("virsh", "-c", connectUri, "migrate", "--live", "--p2p"));
            if ((flags & PERSIST_DEST) != 0) {
                command.add("--persistent");
            }
            if ((flags & UNDEFINE_SOURCE) != 0) {
                command.add("--undefinesource");
            }
            command.addAll(List.of(domain, destinationUri, "--migrateuri", migrateUri));
            parallel.ifPresent(connections ->
                    command.addAll(List.of("--parallel", "--parallel-connections", Integer.toString(connections))));
            bandwidthMiB.ifPresent(mib -> command.addAll(List.of("--bandwidth", Long.toString(mib))));
            return command;
        }

        Libvirt.MigrationParameters parameters() {
            return new Libvirt.MigrationParameters(migrateUri, parallel, bandwidthMiB);
        }
    }

    /** A usage error: exit 2 with the message. */
    private static final class UsageException extends Exception {
        UsageException(String message) {
            super(message);
        }
    }

    @Override
    public Integer call() {
        Environment env = environment != null ? environment : Environment.system();
        try {
            return run(env).code();
        } catch (UsageException e) {
            env.err().println("dwcp migrate: " + e.getMessage());
            return ExitCode.USAGE.code();
        }
    }

    private ExitCode run(Environment env) throws UsageException {
        CliConfig config = config();
        if (toRegion != null) {
            if (target != null) {
                throw new UsageException("give TARGET or --to-region, not both");
            }
            if (dryRun) {
                throw new UsageException("--dry-run contacts no dwcpd, so it cannot choose a host of region " + toRegion
                        + ": give TARGET");
            }
            Optional<String> chosen =
                    chooseInRegion(env, controlSocket != null ? controlSocket : config.getControlSocket());
            if (chosen.isEmpty()) {
                return ExitCode.DWCPD_UNAVAILABLE;
            }
            target = chosen.get();
        } else if (target == null) {
            throw new UsageException("give TARGET (dwcp://HOST) or --to-region REGION");
        }
        MigrationTarget destination;
        try {
            destination = MigrationTarget.parse(target);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        Progress progress;
        try {
            progress = Progress.valueOf(progressMode.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--progress must be auto, bar, lines or none: '" + progressMode + "'");
        }
        OptionalInt parallelConnections = parallel != null
                ? OptionalInt.of(checked(() -> MigrationTarget.parallel(parallel.toString())))
                : destination.parallel();
        OptionalLong bandwidthMiB = bandwidth != null
                ? OptionalLong.of(checked(() -> MigrationTarget.bandwidth(bandwidth.toString())))
                : destination.bandwidthMiB();
        if (timeoutSeconds != null && timeoutSeconds < 1) {
            throw new UsageException("--timeout must be at least 1 second: " + timeoutSeconds);
        }
        String connectUri = connect != null ? connect : config.getConnect();
        String destUri = destinationUri != null
                ? destinationUri
                : destination
                        .destinationUri()
                        .orElseGet(() -> CliConfig.destinationUri(config.getDestinationUri(), destination.uriHost()));
        int flags = LIVE
                | PEER2PEER
                | (transientDestination ? 0 : PERSIST_DEST)
                | (keepSource ? 0 : UNDEFINE_SOURCE)
                | (parallelConnections.isPresent() ? PARALLEL : 0);
        OptionalLong timeout = timeoutSeconds == null ? OptionalLong.empty() : OptionalLong.of(timeoutSeconds);

        if (dryRun) {
            String peer = destination.peer().orElse(destination.host());
            if (!PEER_NAME.matcher(peer).matches()) {
                throw new UsageException(
                        "'" + destination.host() + "' is not a dwcpd peer name: give it with dwcp://HOST?peer=NAME");
            }
            // a real run's socket is the migration's own, named by dwcpd when it is announced
            Path socket = config.getRunDirectory().resolve("peer").resolve(peer).resolve(MIGRATION_ID + ".sock");
            Plan plan = new Plan(
                    domain,
                    peer,
                    connectUri,
                    destUri,
                    migrateUri(socket.toString()),
                    flags,
                    parallelConnections,
                    bandwidthMiB,
                    timeout);
            env.out().println(shellJoin(plan.virshCommand()));
            Path control = controlSocket != null ? controlSocket : config.getControlSocket();
            env.err()
                    .println("# " + MIGRATION_ID
                            + " is a placeholder: dwcp migrate first announces the migration to dwcpd (POST /v1/migrations on "
                            + control + "), which opens " + socket
                            + " for this migration alone and names its id; libvirt then migrates as above; "
                            + "at the end dwcp releases it (DELETE /v1/migrations/" + MIGRATION_ID
                            + "). virsh alone cannot announce a migration");
            timeout.ifPresent(seconds -> env.err()
                    .println("# --timeout " + seconds + ": dwcp aborts the job after that (virsh domjobabort "
                            + shellQuote(domain) + "); virsh's --timeout differs"));
            return ExitCode.OK;
        }

        Path socket = controlSocket != null ? controlSocket : config.getControlSocket();
        try (Dwcpd dwcpd = env.dwcpd().apply(socket)) {
            Dwcpd.Peer peer;
            try {
                peer = peer(dwcpd.status(), destination, dwcpd::region);
            } catch (Dwcpd.UnavailableException e) {
                env.err().println("dwcp migrate: " + e.getMessage());
                return ExitCode.DWCPD_UNAVAILABLE;
            }
            AtomicInteger interrupts = new AtomicInteger();
            env.interrupts().onInterrupt(interrupts::incrementAndGet);
            MigrationRun.Output output = new MigrationRun.Output(
                    env.out(),
                    env.err(),
                    "dwcp migrate: ",
                    progress,
                    env.terminal(),
                    env.columns(),
                    env.pollInterval(),
                    env.lineInterval());
            MigrationRun.Request request = new MigrationRun.Request(
                    domain, peer.name(), connectUri, destUri, flags, parallelConnections, bandwidthMiB, timeout);
            return MigrationRun.run(output, env.libvirt(), dwcpd, request, interrupts)
                    .code();
        }
    }

    /** The peer of dwcpd that the target names: by ?peer=, by name, then by tunnel address. */
    /**
     * Asks dwcpd to choose the host of {@link #toRegion} for the domain, prints each candidate's
     * figures and the reason, and answers the target to migrate to ({@code dwcp://HOST?peer=NAME},
     * HOST from the chosen host's tunnel address); empty (after saying why) when none can be chosen.
     */
    private Optional<String> chooseInRegion(Environment env, Path socket) {
        Dwcpd.Destinations choice;
        try (Dwcpd dwcpd = env.dwcpd().apply(socket)) {
            choice = dwcpd.destinations(toRegion, domain);
        } catch (Dwcpd.UnavailableException e) {
            env.err().println("dwcp migrate: cannot choose a host of region " + toRegion + ": " + e.getMessage());
            return Optional.empty();
        }
        env.out()
                .println("Hosts of region " + choice.region() + " for " + choice.domain() + " (read "
                        + choice.hostsAgeMillis() + " ms ago, links "
                        + choice.linksAgeMillis() + " ms, baselines "
                        + (choice.baselinesAgeMillis() < 0
                                ? "not known from here"
                                : choice.baselinesAgeMillis() + " ms")
                        + ", migrations "
                        + choice.migrationsAgeMillis()
                        + " ms; bound " + choice.stalenessBoundMillis() + " ms):");
        for (Dwcpd.Destination candidate : choice.candidates()) {
            String mark = choice.chosen().filter(candidate.host()::equals).isPresent()
                    ? "  <- chosen"
                    : candidate.full() ? "  (full)" : "";
            env.out()
                    .println("  " + candidate.host() + " (" + candidate.address() + "): " + candidate.figures() + mark);
        }
        if (choice.chosen().isEmpty()) {
            env.err()
                    .println("dwcp migrate: no host of region " + choice.region() + " to migrate " + choice.domain()
                            + " to: " + choice.reason());
            return Optional.empty();
        }
        env.out().println("Chose " + choice.reason());
        String host = choice.chosen().get();
        String address = choice.candidates().stream()
                .filter(candidate -> candidate.host().equals(host))
                .findFirst()
                .map(Dwcpd.Destination::address)
                .orElse(host);
        int colon = address.lastIndexOf(':');
        String uriHost = colon > 0 ? address.substring(0, colon) : address;
        if (uriHost.contains(":") && !uriHost.startsWith("[")) {
            uriHost = "[" + uriHost + "]";
        }
        return Optional.of("dwcp://" + uriHost + "?peer=" + host);
    }

    /**
     * The configured peer TARGET names; else, when dwcpd runs a region, the host of the region it
     * names (by name, or by the tunnel address in its record), which dwcpd resolves from the
     * region's records when the migration is announced.
     */
    static Dwcpd.Peer peer(Dwcpd.Status status, MigrationTarget target, RegionLookup lookup)
            throws Dwcpd.UnavailableException {
        try {
            return peer(status, target);
        } catch (Dwcpd.UnavailableException notConfigured) {
            // asked only now: a configured peer needs no region
            Optional<Dwcpd.Region> region = lookup.region();
            if (region.isEmpty()) {
                throw notConfigured;
            }
            if (target.peer().isPresent()
                    || (target.port().isEmpty()
                            && PEER_NAME.matcher(target.host()).matches()
                            && region.get().hosts().stream()
                                    .noneMatch(host -> addressMatches(host.address(), target)))) {
                String name = target.peer().orElse(target.host());
                return new Dwcpd.Peer(name, "", "");
            }
            for (Dwcpd.Host host : region.get().hosts()) {
                if (addressMatches(host.address(), target)) {
                    return new Dwcpd.Peer(host.name(), host.address(), "");
                }
            }
            throw new Dwcpd.UnavailableException(notConfigured.getMessage() + "; nor is " + target.uriHost()
                    + (target.port().isPresent() ? ":" + target.port().getAsInt() : "")
                    + " the address of a host of region " + region.get().region());
        }
    }

    /** dwcpd's region, asked only when TARGET is no configured peer. */
    @FunctionalInterface
    interface RegionLookup {
        Optional<Dwcpd.Region> region() throws Dwcpd.UnavailableException;
    }

    private static boolean addressMatches(String address, MigrationTarget target) {
        int colon = address.lastIndexOf(':');
        String host = address.substring(0, Math.max(0, colon)).replace("[", "").replace("]", "");
        String port = address.substring(colon + 1);
        return host.equalsIgnoreCase(target.host())
                && (target.port().isEmpty()
                        || port.equals(Integer.toString(target.port().getAsInt())));
    }

    static Dwcpd.Peer peer(Dwcpd.Status status, MigrationTarget target) throws Dwcpd.UnavailableException {
        List<Dwcpd.Peer> peers = status.peers();
        if (target.peer().isPresent()) {
            for (Dwcpd.Peer peer : peers) {
                if (peer.name().equals(target.peer().get())) {
                    return peer;
                }
            }
        } else {
            for (Dwcpd.Peer peer : peers) {
                if (peer.name().equals(target.host()) && target.port().isEmpty()) {
                    return peer;
                }
            }
            for (Dwcpd.Peer peer : peers) {
                int colon = peer.address().lastIndexOf(':');
                String host = peer.address()
                        .substring(0, Math.max(0, colon))
                        .replace("[", "")
                        .replace("]", "");
                String port = peer.address().substring(colon + 1);
                if (host.equalsIgnoreCase(target.host())
                        && (target.port().isEmpty()
                                || port.equals(Integer.toString(target.port().getAsInt())))) {
                    return peer;
                }
            }
        }
        List<String> known = new ArrayList<>();
        peers.forEach(peer -> known.add(peer.name() + " (" + peer.address() + ")"));
        String wanted = target.peer()
                .map(name -> "peer '" + name + "'")
                .orElse("peer for " + target.uriHost()
                        + (target.port().isPresent() ? ":" + target.port().getAsInt() : ""));
        throw new Dwcpd.UnavailableException("dwcpd " + status.node() + " has no " + wanted + " (peers: "
                + (known.isEmpty() ? "none" : String.join(", ", known))
                + "); add peer.NAME.address to its configuration, or name one with dwcp://HOST?peer=NAME");
    }

    static String migrateUri(String socket) {
        return "unix://" + Path.of(socket).toAbsolutePath();
    }

    private CliConfig config() throws UsageException {
        try {
            return CliConfig.load(configFile);
        } catch (CliConfig.Invalid e) {
            throw new UsageException(e.getMessage());
        }
    }

    private interface Check<T> {
        T get();
    }

    private static <T> T checked(Check<T> check) throws UsageException {
        try {
            return check.get();
        } catch (IllegalArgumentException e) {
            throw new UsageException("--" + e.getMessage());
        }
    }

    static String shellJoin(List<String> words) {
        List<String> quoted = new ArrayList<>();
        words.forEach(word -> quoted.add(shellQuote(word)));
        return String.join(" ", quoted);
    }

    static String shellQuote(String word) {
        if (!word.isEmpty() && word.matches("[A-Za-z0-9_@%+=:,./-]+")) {
            return word;
        }
        return "'" + word.replace("'", "'\\''") + "'";
    }
}
