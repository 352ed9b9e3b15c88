package io.dwcp.cli;

import static java.util.Objects.requireNonNull;

import io.dwcp.itp.Destination;
import io.dwcp.itp.Evacuation;
import io.dwcp.itp.Link;
import io.dwcp.itp.OrderConstraint;
import io.dwcp.itp.Plan;
import io.dwcp.itp.PlanRenderer;
import io.dwcp.itp.Planner;
import io.dwcp.itp.Vm;
import io.dwcp.pba.EwmaPredictor;
import io.dwcp.pba.GoodputPredictor;
import io.dwcp.pba.Prediction;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code dwcp evacuate [HOST] [--to PEER,...]}: moves every running domain of this host to dwcpd
 * peers, in the order, concurrency and destinations the ITP {@link Planner} chooses, each migration
 * through {@link MigrationRun} (the code path of {@code dwcp migrate}).
 *
 * <p>The plan runs in waves: a wave is the next steps of the plan (in plan order) whose earlier VMs
 * have ended, up to the plan's concurrency per link and {@code --max-concurrent}; a group starts in
 * one wave. Between waves, every destination's goodput observed in the wave (its migrations' bytes
 * on the wire over the wave's time) and, with a control plane, the latest link measurement feed a
 * PBA predictor per link; when a prediction moved by more than {@link #REPLAN_THRESHOLD} from the
 * rate the plan was made with, the VMs not yet started are planned again.
 */
@Command(
        name = "evacuate",
        mixinStandardHelpOptions = true,
        version = "dwcp 0.1.0",
        header = "Live-migrate every running domain of this host to other hosts, planned by ITP.",
        description = {
            "Moves every running libvirt domain of this host to the dwcpd peers given with --to (default: all peers of the "
                    + "local dwcpd). It measures each domain's memory and dirty rate (QEMU's calc-dirty-rate, through libvirt), "
                    + "asks the local dwcpd for its peers and, where a control plane runs, the measured link goodput and host "
                    + "capacities, and plans with ITP: the destination, the order and how many migrations run at once per link, "
                    + "honouring --group and --after. Links without a measurement are assumed to carry --link-rate; the output says "
                    + "which figure came from where.",
            "",
            "With --dry-run it prints the plan (per VM: order, destination, predicted start and end, reasons; the concurrency "
                    + "per link and the predicted makespan) and changes nothing. Otherwise it runs the plan in waves, each migration "
                    + "as 'dwcp migrate' runs it (its own dwcpd socket), with one progress line per VM, re-plans the VMs not yet "
                    + "started when a link's predicted goodput moved by more than 20%% between waves, and ends with a table: VM, "
                    + "destination, outcome, time, downtime and the reason for any VM not moved.",
            "",
            "A VM that is not moved (refused by the plan, failed, timed out, interrupted) keeps running on this host, intact: "
                    + "libvirt's pre-copy pauses the source only at the switch-over and resumes it when that fails. "
                    + "Ctrl-C aborts the running migrations and starts no more.",
            "",
            "Only this host can be evacuated: HOST, when given, must be this host's name or its dwcpd node name. "
                    + "Settings come from /etc/dwcp/dwcp.properties (keys migrate.connect, migrate.dest-uri, control.socket); "
                    + "options override them.",
            ""
        },
        footer = {
            "",
            "Exit status:",
            "  0    every running domain was moved (or, with --dry-run, the plan was printed)",
            "  2    usage: options, HOST not this host, unknown VM in --group or --after, settings file",
            "  3    dwcpd not running, not answering, without peers or without a peer named in --to",
            "  4    libvirt error before any migration started, or no running domain to evacuate",
            "  5    at least one domain was not moved (each keeps running here; the table says why)",
            "  130  interrupted (Ctrl-C): running migrations were aborted, no more were started"
        })
public final class EvacuateCommand implements Callable<Integer> {
    /** A link's predicted goodput moving by more than this (relative) from the plan's figure re-plans the waiting VMs. */
    static final double REPLAN_THRESHOLD = 0.2;
    /** How long the planner lets each migration stop the guest (libvirt's default maximum downtime). */
    static final Duration DEFAULT_DOWNTIME = Duration.ofMillis(300);
    /** Free memory at the destinations is not known to dwcpd: not limiting (libvirt refuses a VM that does not fit). */
    private static final long UNKNOWN_FREE_MEMORY = Long.MAX_VALUE / 4;

    private static final int UNKNOWN_SLOTS = 1 << 20;

    /** What the command talks to; {@code hostName} is this machine's name (HOST must be it or the dwcpd node). */
    public record Environment(MigrateCommand.Environment base, Supplier<String> hostName) {
        public Environment {
            requireNonNull(base, "base is null");
            requireNonNull(hostName, "hostName is null");
        }

        static Environment system() {
            return new Environment(MigrateCommand.Environment.system(), () -> {
                try {
                    return java.net.InetAddress.getLocalHost().getHostName();
                } catch (java.net.UnknownHostException e) {
                    return "localhost";
                }
            });
        }
    }

    public enum Policy {
        ITP,
        SERIAL,
        ALL_AT_ONCE
    }

    @Parameters(
            index = "0",
            arity = "0..1",
            paramLabel = "HOST",
            description = "The host to evacuate: this host (the default), by its host name or dwcpd node name.")
    String host;

    @Option(
            names = "--to",
            split = ",",
            paramLabel = "PEER",
            description =
                    "Destinations: dwcpd peers by name or tunnel address, comma-separated or repeated (default: every peer of the local dwcpd).")
    List<String> to;

    @Option(
            names = "--dry-run",
            description = "Measure, plan and print the plan with its reasons and predicted makespan; migrate nothing.")
    boolean dryRun;

    @Option(
            names = "--max-concurrent",
            paramLabel = "N",
            description = "Run at most N migrations at once in all (default: what the plan gives each link).")
    Integer maxConcurrent;

    @Option(
            names = "--policy",
            paramLabel = "POLICY",
            defaultValue = "itp",
            description =
                    "itp (the planner's concurrency per link), serial (one at a time) or all-at-once (every VM in one wave); destinations and order are the planner's in all three (default: ${DEFAULT-VALUE}).")
    String policy;

    @Option(
            names = "--group",
            paramLabel = "VM,VM",
            description = "VMs that must move together (one destination, started in the same wave); repeatable.")
    List<String> groups = new ArrayList<>();

    @Option(
            names = "--after",
            paramLabel = "VM:EARLIER",
            description = "VM starts only once EARLIER has ended (moved or given up); repeatable.")
    List<String> afters = new ArrayList<>();

    @Option(
            names = "--link-rate",
            paramLabel = "MBIT",
            defaultValue = "100",
            description =
                    "The goodput assumed, in Mbit/s, for a link dwcpd has no measurement of (default: ${DEFAULT-VALUE}).")
    double linkRateMbit;

    @Option(
            names = "--downtime",
            paramLabel = "MS",
            defaultValue = "300",
            description =
                    "The downtime each migration is planned to converge to, in milliseconds (default: ${DEFAULT-VALUE}, libvirt's default).")
    long downtimeMillis;

    @Option(
            names = "--dirty-rate-time",
            paramLabel = "SECONDS",
            defaultValue = "1",
            description =
                    "How long QEMU measures each VM's dirty rate (1-60, all VMs at once; default: ${DEFAULT-VALUE}).")
    int dirtyRateSeconds;

    @Option(
            names = {"-c", "--connect"},
            paramLabel = "URI",
            description = "The local libvirt URI (default: migrate.connect, else qemu:///system).")
    String connect;

    @Option(
            names = "--dest-uri",
            paramLabel = "TEMPLATE",
            description =
                    "The destinations' libvirt URI, {host} standing for the peer's tunnel host (default: migrate.dest-uri, else qemu+ssh://{host}/system).")
    String destinationUri;

    @Option(
            names = "--timeout",
            paramLabel = "SECONDS",
            description = "Abort a migration that has not finished after this many seconds; its VM stays here.")
    Long timeoutSeconds;

    @Option(
            names = "--progress",
            paramLabel = "MODE",
            defaultValue = "lines",
            description = "lines (one line per running VM every 10 s) or none (default: ${DEFAULT-VALUE}).")
    String progressMode;

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

    public EvacuateCommand() {
        this(null);
    }

    /** With a null environment the real one is made when the command runs. */
    public EvacuateCommand(Environment environment) {
        this.environment = environment;
    }

    /** A usage error: exit 2 with the message. */
    private static final class UsageException extends Exception {
        UsageException(String message) {
            super(message);
        }
    }

    /** An error that ends the command before any migration: its exit code and message. */
    private static final class Abort extends Exception {
        final ExitCode code;

        Abort(ExitCode code, String message) {
            super(message);
            this.code = code;
        }
    }

    /** One VM's end: moved or not, where, how long, why not. */
    record Outcome(
            String vm, String destination, String outcome, Duration time, Optional<String> reason, boolean moved) {}

    @Override
    public Integer call() {
        Environment env = environment != null ? environment : Environment.system();
        PrintStream err = env.base().err();
        try {
            return run(env).code();
        } catch (UsageException e) {
            err.println("dwcp evacuate: " + e.getMessage());
            return ExitCode.USAGE.code();
        } catch (Abort e) {
            err.println("dwcp evacuate: " + e.getMessage());
            return e.code.code();
        }
    }

    private ExitCode run(Environment env) throws UsageException, Abort {
        MigrateCommand.Environment base = env.base();
        PrintStream out = base.out();
        CliConfig config = config();
        Policy chosenPolicy;
        try {
            chosenPolicy = Policy.valueOf(policy.toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--policy must be itp, serial or all-at-once: '" + policy + "'");
        }
        MigrateCommand.Progress progress = switch (progressMode.toLowerCase(Locale.ROOT)) {
            case "lines" -> MigrateCommand.Progress.LINES;
            case "none" -> MigrateCommand.Progress.NONE;
            default -> throw new UsageException("--progress must be lines or none: '" + progressMode + "'");
        };
        if (maxConcurrent != null && maxConcurrent < 1) {
            throw new UsageException("--max-concurrent must be at least 1: " + maxConcurrent);
        }
        if (!(linkRateMbit > 0) || Double.isInfinite(linkRateMbit)) {
            throw new UsageException("--link-rate must be a number of Mbit/s above 0: " + linkRateMbit);
        }
        if (downtimeMillis < 1) {
            throw new UsageException("--downtime must be at least 1 ms: " + downtimeMillis);
        }
        if (dirtyRateSeconds < 1 || dirtyRateSeconds > 60) {
            throw new UsageException("--dirty-rate-time must be 1 to 60 seconds: " + dirtyRateSeconds);
        }
        if (timeoutSeconds != null && timeoutSeconds < 1) {
            throw new UsageException("--timeout must be at least 1 second: " + timeoutSeconds);
        }
        String connectUri = connect != null ? connect : config.getConnect();
        String uriTemplate = destinationUri != null ? destinationUri : config.getDestinationUri();

        Path socket = controlSocket != null ? controlSocket : config.getControlSocket();
        try (Dwcpd dwcpd = base.dwcpd().apply(socket)) {
            Dwcpd.Status status;
            try {
                status = dwcpd.status();
            } catch (Dwcpd.UnavailableException e) {
                throw new Abort(ExitCode.DWCPD_UNAVAILABLE, e.getMessage());
            }
            String hostName = env.hostName().get();
            if (host != null && !isThisHost(host, status.node(), hostName)) {
                throw new UsageException("'" + host + "' is not this host (host name " + hostName + ", dwcpd node "
                        + status.node() + "): dwcp evacuate moves this host's domains only; run it on " + host);
            }
            List<Dwcpd.Peer> destinations = destinations(status);
            Optional<Dwcpd.Region> region;
            try {
                region = dwcpd.region();
            } catch (Dwcpd.UnavailableException e) {
                out.println("No control plane figures: " + e.getMessage());
                region = Optional.empty();
            }

            List<String> domains;
            Map<String, Long> memory = new LinkedHashMap<>();
            Map<String, Double> dirty = new LinkedHashMap<>();
            List<String> notes = new ArrayList<>();
            try (Libvirt.Connection connection = base.libvirt().open(connectUri)) {
                domains = connection.runningDomains();
                if (domains.isEmpty()) {
                    throw new Abort(
                            ExitCode.LIBVIRT_ERROR,
                            "no running domain on this host (libvirt " + connectUri + "): nothing to evacuate");
                }
                List<List<String>> groupLists = new ArrayList<>();
                for (String group : groups) {
                    groupLists.add(List.of(group.split(",")));
                }
                checkNames(domains, groupLists, afters);
                measure(base, connection, domains, memory, dirty, notes);
            } catch (Libvirt.LibvirtException e) {
                throw new Abort(ExitCode.LIBVIRT_ERROR, e.getMessage());
            }

            // links: a control plane's measurement when there is one, else --link-rate; a PBA predictor per link
            Map<String, GoodputPredictor> predictors = new HashMap<>();
            Map<String, Link> links = new LinkedHashMap<>();
            List<Destination> hosts = new ArrayList<>();
            for (Dwcpd.Peer peer : destinations) {
                Optional<Dwcpd.Link> measured = region.flatMap(r -> link(r, peer));
                GoodputPredictor predictor = new EwmaPredictor(Duration.ofSeconds(60));
                predictors.put(peer.name(), predictor);
                double rate;
                Duration rtt = Duration.ZERO;
                if (measured.isPresent() && measured.get().goodputBytesPerSecond() > 0) {
                    rate = measured.get().goodputBytesPerSecond();
                    rtt = Duration.ofNanos(measured.get().rttMicros() * 1000);
                    predictor.observe(System.nanoTime(), rate * 8);
                    notes.add(String.format(
                            Locale.ROOT,
                            "link to %s: %s measured by the control plane (RTT %.1f ms)",
                            peer.name(),
                            rate(rate),
                            measured.get().rttMicros() / 1000.0));
                } else {
                    rate = linkRateMbit * 1e6 / 8;
                    notes.add(String.format(
                            Locale.ROOT,
                            "link to %s: no measurement (%s); assumed %s (--link-rate)",
                            peer.name(),
                            region.isPresent() ? "the control plane has none for it" : "no control plane",
                            rate(rate)));
                }
                links.put(peer.name(), new Link(peer.name(), rate, rtt, rate));
                int slots = region.flatMap(r -> r.hosts().stream()
                                .filter(h -> h.name().equals(peer.name()))
                                .findFirst())
                        .map(Dwcpd.Host::capacity)
                        .filter(capacity -> capacity > 0)
                        .orElse(UNKNOWN_SLOTS);
                hosts.add(new Destination(peer.name(), UNKNOWN_FREE_MEMORY, slots));
            }
            notes.add(
                    "destinations' free memory: not known to dwcpd, not checked (libvirt refuses a VM that does not fit; it stays here)");
            notes.add("baselines held at the destinations: not reported by dwcpd's control API; planned without");
            notes.add("uplink: not measured; taken as the sum of the links");

            List<Vm> vms = new ArrayList<>();
            Map<String, String> groupOf = new HashMap<>();
            for (int i = 0; i < groups.size(); i++) {
                for (String vm : groups.get(i).split(",")) {
                    groupOf.put(vm, "g" + (i + 1) + "(" + groups.get(i) + ")");
                }
            }
            for (String domain : domains) {
                Vm vm = Vm.of(domain, memory.get(domain), dirty.get(domain));
                vms.add(groupOf.containsKey(domain) ? vm.inGroup(groupOf.get(domain)) : vm);
            }
            List<OrderConstraint> orders = new ArrayList<>();
            for (String after : afters) {
                String[] parts = after.split(":");
                orders.add(new OrderConstraint(parts[1], parts[0]));
            }
            double uplink =
                    links.values().stream().mapToDouble(Link::bytesPerSecond).sum();
            Evacuation evacuation;
            try {
                evacuation = new Evacuation(vms, hosts, links, uplink, orders, Duration.ofMillis(downtimeMillis));
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage());
            }
            Planner planner = new Planner();
            Plan plan = planner.plan(evacuation);

            out.println("Evacuating " + status.node() + " (" + domains.size() + " running domain"
                    + (domains.size() == 1 ? "" : "s")
                    + ") to "
                    + String.join(
                            ", ", destinations.stream().map(Dwcpd.Peer::name).toList()) + "; policy " + policy
                    + (maxConcurrent != null ? ", at most " + maxConcurrent + " at once" : ""));
            notes.forEach(note -> out.println("  " + note));
            out.print(PlanRenderer.render(plan));
            if (chosenPolicy != Policy.ITP) {
                out.println("Policy " + policy + ": the planner's destinations and order, "
                        + (chosenPolicy == Policy.SERIAL ? "one migration at a time" : "every VM in one wave")
                        + "; the predicted times above are those of the itp policy");
            }
            if (dryRun) {
                return ExitCode.OK;
            }
            return execute(
                    env,
                    dwcpd,
                    planner,
                    plan,
                    evacuation,
                    destinations,
                    predictors,
                    chosenPolicy,
                    progress,
                    connectUri,
                    uriTemplate);
        }
    }

    private ExitCode execute(
            Environment env,
            Dwcpd dwcpd,
            Planner planner,
            Plan initial,
            Evacuation evacuation,
            List<Dwcpd.Peer> peers,
            Map<String, GoodputPredictor> predictors,
            Policy chosenPolicy,
            MigrateCommand.Progress progress,
            String connectUri,
            String uriTemplate) {
        MigrateCommand.Environment base = env.base();
        PrintStream out = base.out();
        Map<String, Dwcpd.Peer> peerByName = new HashMap<>();
        peers.forEach(peer -> peerByName.put(peer.name(), peer));
        Map<String, Outcome> outcomes = new LinkedHashMap<>();
        for (Plan.Refusal refusal : initial.refused()) {
            outcomes.put(
                    refusal.vm().id(),
                    new Outcome(
                            refusal.vm().id(), "-", "refused", Duration.ZERO, Optional.of(refusal.reason()), false));
        }
        AtomicInteger interrupts = new AtomicInteger();
        base.interrupts().onInterrupt(interrupts::incrementAndGet);
        Plan plan = initial;
        Set<String> ended = new HashSet<>();
        Map<String, Long> movedTo = new HashMap<>();
        initial.refused().forEach(refusal -> ended.add(refusal.vm().id()));
        int wave = 0;
        ExecutorService executor = Executors.newCachedThreadPool(runnable -> {
            Thread thread = new Thread(runnable, "dwcp-evacuate");
            thread.setDaemon(true);
            return thread;
        });
        try {
            while (interrupts.get() == 0) {
                List<Plan.Step> next = wave(plan, evacuation, ended, chosenPolicy);
                if (next.isEmpty()) {
                    break;
                }
                wave++;
                List<String> names = new ArrayList<>();
                next.forEach(step -> names.add(step.vm().id() + " -> " + step.destination()));
                out.println("Wave " + wave + ": " + String.join(", ", names));
                long start = System.nanoTime();
                List<Future<MigrationRun.Result>> running = new ArrayList<>();
                for (Plan.Step step : next) {
                    Dwcpd.Peer peer = peerByName.get(step.destination());
                    MigrationRun.Request request = new MigrationRun.Request(
                            step.vm().id(),
                            peer.name(),
                            connectUri,
                            CliConfig.destinationUri(uriTemplate, tunnelHost(peer.address())),
                            MigrateCommand.LIVE
                                    | MigrateCommand.PEER2PEER
                                    | MigrateCommand.PERSIST_DEST
                                    | MigrateCommand.UNDEFINE_SOURCE,
                            OptionalInt.empty(),
                            OptionalLong.empty(),
                            timeoutSeconds == null ? OptionalLong.empty() : OptionalLong.of(timeoutSeconds));
                    MigrationRun.Output output = new MigrationRun.Output(
                            out,
                            base.err(),
                            "dwcp evacuate: " + step.vm().id() + ": ",
                            progress,
                            false,
                            base.columns(),
                            base.pollInterval(),
                            base.lineInterval());
                    running.add(executor.submit(
                            () -> MigrationRun.run(output, base.libvirt(), dwcpd, request, interrupts)));
                }
                Map<String, Long> wireBytes = new HashMap<>();
                for (int i = 0; i < next.size(); i++) {
                    Plan.Step step = next.get(i);
                    MigrationRun.Result result = result(running.get(i));
                    ended.add(step.vm().id());
                    wireBytes.merge(
                            step.destination(),
                            result.wireBytes() > 0 ? result.wireBytes() : result.guestBytes(),
                            Long::sum);
                    outcomes.put(
                            step.vm().id(),
                            new Outcome(
                                    step.vm().id(),
                                    step.destination(),
                                    outcome(result),
                                    result.elapsed(),
                                    result.reason(),
                                    result.migrated()));
                    if (result.migrated()) {
                        movedTo.merge(step.destination(), 1L, Long::sum);
                    }
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                plan = replanIfMoved(
                        planner, plan, evacuation, ended, predictors, wireBytes, seconds, movedTo, dwcpd, out);
                plan.refused().forEach(refusal -> {
                    if (ended.add(refusal.vm().id())) {
                        outcomes.put(
                                refusal.vm().id(),
                                new Outcome(
                                        refusal.vm().id(),
                                        "-",
                                        "refused",
                                        Duration.ZERO,
                                        Optional.of(refusal.reason()),
                                        false));
                    }
                });
            }
        } finally {
            executor.shutdownNow();
        }
        for (Vm vm : evacuation.vms()) {
            if (!outcomes.containsKey(vm.id())) {
                outcomes.put(
                        vm.id(),
                        new Outcome(
                                vm.id(),
                                "-",
                                "not started",
                                Duration.ZERO,
                                Optional.of(
                                        interrupts.get() > 0
                                                ? "interrupted (Ctrl-C) before its wave"
                                                : "its plan step never became startable"),
                                false));
            }
        }
        out.print(table(evacuation, outcomes));
        long moved = outcomes.values().stream().filter(Outcome::moved).count();
        out.println("Moved " + moved + " of " + evacuation.vms().size() + " domains"
                + (moved < evacuation.vms().size() ? "; the others keep running on this host" : "") + ".");
        if (interrupts.get() > 0) {
            return ExitCode.INTERRUPTED;
        }
        return moved == evacuation.vms().size() ? ExitCode.OK : ExitCode.MIGRATION_FAILED;
    }

    /**
     * The next wave: the plan's steps in order whose earlier VMs ({@code --after}) have ended, up to
     * the plan's concurrency on each link (itp), one (serial) or all (all-at-once), and {@code
     * --max-concurrent} in all; a group's waiting members go together (a group larger than the limit
     * goes alone in its wave).
     */
    List<Plan.Step> wave(Plan plan, Evacuation evacuation, Set<String> ended, Policy chosenPolicy) {
        int total = switch (chosenPolicy) {
            case ITP, ALL_AT_ONCE -> Integer.MAX_VALUE;
            case SERIAL -> 1;
        };
        if (maxConcurrent != null) {
            total = Math.min(total, maxConcurrent);
        }
        Map<String, Integer> onLink = new HashMap<>();
        Set<String> taken = new HashSet<>();
        List<Plan.Step> wave = new ArrayList<>();
        for (Plan.Step step : plan.steps()) {
            String id = step.vm().id();
            if (ended.contains(id) || taken.contains(id)) {
                continue;
            }
            List<Plan.Step> together = step.vm()
                    .group()
                    .map(group -> plan.steps().stream()
                            .filter(s -> s.vm().group().equals(Optional.of(group)) && !ended.contains(s.vm().id()))
                            .toList())
                    .orElse(List.of(step));
            boolean ready = together.stream()
                    .allMatch(s -> evacuation.orders().stream()
                            .filter(order -> order.after().equals(s.vm().id()))
                            .allMatch(order -> ended.contains(order.before())));
            if (!ready) {
                continue;
            }
            Map<String, Integer> trial = new HashMap<>(onLink);
            together.forEach(s -> trial.merge(s.destination(), 1, Integer::sum));
            boolean fits = wave.size() + together.size() <= total;
            if (chosenPolicy == Policy.ITP) {
                fits &= trial.entrySet().stream()
                        .allMatch(e -> e.getValue() <= plan.concurrency().getOrDefault(e.getKey(), 1));
            }
            if (!fits && !wave.isEmpty()) {
                continue;
            }
            wave.addAll(together);
            together.forEach(s -> taken.add(s.vm().id()));
            onLink.clear();
            onLink.putAll(trial);
            if (!fits) {
                break;
            }
        }
        return wave;
    }

    /**
     * Feeds each destination's observed goodput of the wave and the control plane's latest link
     * measurement to its predictor; re-plans the VMs not yet started when a prediction moved by
     * more than {@link #REPLAN_THRESHOLD} from the plan's figure.
     */
    private Plan replanIfMoved(
            Planner planner,
            Plan plan,
            Evacuation evacuation,
            Set<String> ended,
            Map<String, GoodputPredictor> predictors,
            Map<String, Long> wireBytes,
            double seconds,
            Map<String, Long> movedTo,
            Dwcpd dwcpd,
            PrintStream out) {
        long now = System.nanoTime();
        Optional<Dwcpd.Region> region;
        try {
            region = dwcpd.region();
        } catch (Dwcpd.UnavailableException e) {
            region = Optional.empty();
        }
        Map<String, Double> predicted = new HashMap<>();
        for (Map.Entry<String, GoodputPredictor> entry : predictors.entrySet()) {
            String peer = entry.getKey();
            Long bytes = wireBytes.get(peer);
            if (bytes != null && bytes > 0 && seconds > 0) {
                entry.getValue().observe(now, 8 * bytes / seconds);
            }
            Optional<Dwcpd.Link> measured = region.flatMap(r -> r.links().stream()
                    .filter(l -> l.from().equals(r.host()) && l.to().equals(peer))
                    .findFirst());
            measured.filter(link -> link.goodputBytesPerSecond() > 0)
                    .ifPresent(link -> entry.getValue().observe(now, 8.0 * link.goodputBytesPerSecond()));
            Prediction prediction = entry.getValue().predict(Duration.ofSeconds(60));
            if (prediction.known()) {
                predicted.put(peer, prediction.bitsPerSecond() / 8);
            }
        }
        List<Vm> waiting =
                evacuation.vms().stream().filter(vm -> !ended.contains(vm.id())).toList();
        if (waiting.isEmpty()) {
            return plan;
        }
        List<String> moves = new ArrayList<>();
        predicted.forEach((peer, rate) -> {
            double planned = plan.linkBytesPerSecond().getOrDefault(peer, rate);
            if (planned > 0 && Math.abs(rate - planned) / planned > REPLAN_THRESHOLD) {
                moves.add(peer + " " + rate(planned) + " -> " + rate(rate));
            }
        });
        if (moves.isEmpty()) {
            return plan;
        }
        Map<String, Double> rates = new HashMap<>(plan.linkBytesPerSecond());
        rates.putAll(predicted);
        // as at the start: one migration may fill its link; the slots the moved VMs took are gone
        Map<String, Link> links = new HashMap<>();
        evacuation.links().forEach((id, link) -> {
            double rate = rates.getOrDefault(id, link.bytesPerSecond());
            links.put(id, new Link(id, rate, link.rtt(), rate));
        });
        List<Destination> room = new ArrayList<>();
        for (Destination destination : evacuation.destinations()) {
            long taken = movedTo.getOrDefault(destination.id(), 0L);
            room.add(new Destination(
                    destination.id(), destination.freeMemoryBytes(), (int) Math.max(0, destination.slots() - taken)));
        }
        Evacuation rest = evacuation.remaining(waiting, room);
        rest = new Evacuation(
                rest.vms(),
                rest.destinations(),
                links,
                links.values().stream().mapToDouble(Link::bytesPerSecond).sum(),
                rest.orders(),
                rest.downtimeLimit());
        Plan replanned = planner.planWithoutTimeline(rest);
        moves.sort(null);
        out.println("Re-planned the " + waiting.size() + " VMs not yet started: predicted link goodput moved ("
                + String.join(", ", moves) + ")");
        out.print(PlanRenderer.render(replanned));
        return replanned;
    }

    private static MigrationRun.Result result(Future<MigrationRun.Result> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return MigrationRun.Result.before(ExitCode.INTERRUPTED, "interrupted");
        } catch (ExecutionException e) {
            // MigrationRun reports its failures as results; anything else is a bug: say what it was
            return MigrationRun.Result.before(ExitCode.MIGRATION_FAILED, "internal error: " + e.getCause());
        }
    }

    private static String outcome(MigrationRun.Result result) {
        return switch (result.code()) {
            case OK -> "moved";
            case MIGRATION_FAILED -> "failed";
            case INTERRUPTED -> "interrupted";
            case DWCPD_UNAVAILABLE -> "refused by dwcpd";
            case LIBVIRT_ERROR -> "libvirt error";
            case USAGE -> "usage error";
        };
    }

    static String table(Evacuation evacuation, Map<String, Outcome> outcomes) {
        int vmWidth = Math.max(
                16,
                evacuation.vms().stream().mapToInt(vm -> vm.id().length()).max().orElse(0));
        int toWidth = Math.max(
                10,
                outcomes.values().stream()
                        .mapToInt(outcome -> outcome.destination().length())
                        .max()
                        .orElse(0));
        String format = "%-" + vmWidth + "s %-" + toWidth + "s %-16s %8s %9s  %s%n";
        StringBuilder table = new StringBuilder();
        table.append(String.format(Locale.ROOT, format, "VM", "TO", "OUTCOME", "TIME", "DOWNTIME", "REASON"));
        for (Vm vm : evacuation.vms()) {
            Outcome outcome = outcomes.get(vm.id());
            table.append(String.format(
                                    Locale.ROOT,
                                    format,
                                    vm.id(),
                                    outcome.destination(),
                                    outcome.outcome(),
                                    outcome.time().isZero()
                                            ? "-"
                                            : String.format(
                                                    Locale.ROOT,
                                                    "%.1f s",
                                                    outcome.time().toNanos() / 1e9),
                                    "-",
                                    outcome.reason().orElse(""))
                            .stripTrailing())
                    .append(System.lineSeparator());
        }
        return table
                + "(downtime: libvirt does not report it to dwcp; 'virsh domjobinfo --completed' on the destination shows it)"
                + System.lineSeparator();
    }

    /** Starts every VM's dirty-rate measurement, then collects them (each VM's failure is a note: planned as 0). */
    private void measure(
            MigrateCommand.Environment base,
            Libvirt.Connection connection,
            List<String> domains,
            Map<String, Long> memory,
            Map<String, Double> dirty,
            List<String> notes)
            throws Libvirt.LibvirtException {
        PrintStream out = base.out();
        Map<String, Libvirt.Domain> started = new LinkedHashMap<>();
        for (String name : domains) {
            Libvirt.Domain domain = connection.domain(name);
            memory.put(name, domain.memoryBytes());
            try {
                domain.startDirtyRate(dirtyRateSeconds);
                started.put(name, domain);
            } catch (Libvirt.LibvirtException e) {
                dirty.put(name, 0.0);
                notes.add(name + ": dirty rate unknown (" + e.getMessage() + "); planned as 0");
            }
        }
        out.println("Measuring the dirty rate of " + started.size() + " domain" + (started.size() == 1 ? "" : "s")
                + " over " + dirtyRateSeconds + " s (QEMU calc-dirty-rate)");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(dirtyRateSeconds + 10L);
        while (!started.isEmpty()) {
            for (var iterator = started.entrySet().iterator(); iterator.hasNext(); ) {
                var entry = iterator.next();
                try {
                    OptionalDouble rate = entry.getValue().dirtyRate();
                    if (rate.isPresent()) {
                        dirty.put(entry.getKey(), rate.getAsDouble());
                        iterator.remove();
                    }
                } catch (Libvirt.LibvirtException e) {
                    dirty.put(entry.getKey(), 0.0);
                    notes.add(entry.getKey() + ": dirty rate unknown (" + e.getMessage() + "); planned as 0");
                    iterator.remove();
                }
            }
            if (started.isEmpty()) {
                break;
            }
            if (System.nanoTime() - deadline > 0) {
                for (String name : started.keySet()) {
                    dirty.put(name, 0.0);
                    notes.add(name + ": dirty rate unknown (QEMU's measurement not done after "
                            + (dirtyRateSeconds + 10) + " s); planned as 0");
                }
                break;
            }
            try {
                Thread.sleep(Math.max(10, base.pollInterval().toMillis()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Libvirt.LibvirtException("interrupted while measuring dirty rates");
            }
        }
    }

    private List<Dwcpd.Peer> destinations(Dwcpd.Status status) throws Abort {
        if (status.peers().isEmpty()) {
            throw new Abort(
                    ExitCode.DWCPD_UNAVAILABLE,
                    "dwcpd " + status.node()
                            + " has no peers to evacuate to; add peer.NAME.address to its configuration");
        }
        if (to == null || to.isEmpty()) {
            return status.peers();
        }
        List<Dwcpd.Peer> chosen = new ArrayList<>();
        for (String name : to) {
            MigrationTarget target;
            try {
                target = MigrationTarget.parse("dwcp://" + name);
            } catch (IllegalArgumentException e) {
                throw new Abort(ExitCode.USAGE, "--to " + name + ": " + e.getMessage());
            }
            try {
                Dwcpd.Peer peer = MigrateCommand.peer(status, target);
                if (!chosen.contains(peer)) {
                    chosen.add(peer);
                }
            } catch (Dwcpd.UnavailableException e) {
                throw new Abort(ExitCode.DWCPD_UNAVAILABLE, "--to " + name + ": " + e.getMessage());
            }
        }
        return chosen;
    }

    private static Optional<Dwcpd.Link> link(Dwcpd.Region region, Dwcpd.Peer peer) {
        return region.links().stream()
                .filter(link -> link.from().equals(region.host()) && link.to().equals(peer.name()))
                .findFirst();
    }

    private static void checkNames(List<String> domains, List<List<String>> groupLists, List<String> afters)
            throws UsageException {
        Set<String> grouped = new HashSet<>();
        for (List<String> group : groupLists) {
            if (group.size() < 2) {
                throw new UsageException("--group needs two or more VMs, comma-separated: " + String.join(",", group));
            }
            for (String vm : group) {
                if (!domains.contains(vm)) {
                    throw new UsageException("--group " + String.join(",", group) + ": '" + vm
                            + "' is not a running domain here (running: " + String.join(", ", domains) + ")");
                }
                if (!grouped.add(vm)) {
                    throw new UsageException("--group: '" + vm + "' is in two groups");
                }
            }
        }
        for (String after : afters) {
            String[] parts = after.split(":", -1);
            if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
                throw new UsageException("--after must be VM:EARLIER: '" + after + "'");
            }
            for (String vm : parts) {
                if (!domains.contains(vm)) {
                    throw new UsageException("--after " + after + ": '" + vm
                            + "' is not a running domain here (running: " + String.join(", ", domains) + ")");
                }
            }
        }
    }

    static boolean isThisHost(String host, String node, String hostName) {
        String shortName = hostName.contains(".") ? hostName.substring(0, hostName.indexOf('.')) : hostName;
        return host.equalsIgnoreCase(node)
                || host.equalsIgnoreCase(hostName)
                || host.equalsIgnoreCase(shortName)
                || host.equals("localhost");
    }

    /** The host of a tunnel address {@code host:port} or {@code [v6]:port}. */
    static String tunnelHost(String address) {
        int colon = address.lastIndexOf(':');
        return (colon < 0 ? address : address.substring(0, colon))
                .replace("[", "")
                .replace("]", "");
    }

    private CliConfig config() throws UsageException {
        try {
            return CliConfig.load(configFile);
        } catch (CliConfig.Invalid e) {
            throw new UsageException(e.getMessage());
        }
    }

    /** As the plan shows rates: {@code 12.5 Mbit/s}. */
    private static String rate(double bytesPerSecond) {
        return String.format(Locale.ROOT, "%.1f Mbit/s", 8 * bytesPerSecond / 1e6);
    }
}
