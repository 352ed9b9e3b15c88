package io.dwcp.cli;

import static java.util.Objects.requireNonNull;

import io.dwcp.itp.ConcurrencyLearner;
import io.dwcp.itp.Evacuation;
import io.dwcp.itp.Link;
import io.dwcp.itp.OrderConstraint;
import io.dwcp.itp.Plan;
import io.dwcp.itp.Planner;
import io.dwcp.itp.SlotScheduler;
import io.dwcp.itp.Vm;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code dwcp evacuate [HOST] [--to PEER,...]}: moves every running domain of this host to dwcpd
 * peers, in the order, concurrency and destinations the ITP {@link Planner} chooses, each migration
 * through {@link MigrationRun} (the code path of {@code dwcp migrate}).
 *
 * <p>The plan runs slot by slot ({@link SlotScheduler}): each link has the plan's concurrency in
 * slots ({@code --policy serial}: one slot in all; {@code all-at-once}: no limit; {@code
 * --max-concurrent} caps all three), and the next VM of the plan, in plan order, starts as soon as
 * a slot on its link is free and the VMs it comes after ({@code --after}) have moved; a group
 * ({@code --group}) starts together when its link has a slot for each member. A long migration
 * thus holds only its own slot. A VM that comes after one that was not moved is not started: it
 * stays, with the reason. At every slot release (a migration ended), each link's goodput observed
 * since the previous release (the guest bytes its migrations processed) and, with a control plane,
 * the latest link measurement feed a PBA predictor per link; when a prediction moved by more than
 * {@link #REPLAN_THRESHOLD} from the rate the plan was made with, the VMs not yet started are
 * planned again, and the new plan is taken only when it pays ({@link Planner#replan}); a re-plan
 * never refuses a VM the plan accepted (the running migrations go on as they are). One line says when each VM starts
 * (its slot and link) and one when it ends. With {@code --policy itp} a {@link ConcurrencyLearner} also limits how
 * many run at once: from one, wider only while each migration added raised the aggregate rate enough to pay for it.
 * The baselines the destinations hold of the VMs come from the region's catalogue ({@link
 * EvacuationInputs#catalogue}); without a control plane, or without its answer, the plan is made without.
 *
 * <p>This class holds the options and their checks and puts the pieces together, on picocli's
 * (main) thread: {@link EvacuationInputs} gathers what the planner needs (destinations, VM sizes
 * and dirty rates, links), {@link EvacuationView} prints the plan, the progress lines and the
 * table, {@link EvacuationRun} runs the plan slot by slot, with {@link LinkMeters} measuring each
 * link's goodput and {@link Replanner} planning the waiting VMs again.
 */
@Command(
        name = "evacuate",
        mixinStandardHelpOptions = true,
        version = "dwcp 0.1.0",
        header = "Live-migrate every running domain of this host to other hosts, planned by ITP.",
        description = {
            "Moves every running libvirt domain of this host to the dwcpd peers given with --to (default: all peers of the "
                    + "local dwcpd). It measures each domain's memory and dirty rate (QEMU's calc-dirty-rate, through libvirt), "
                    + "asks the local dwcpd for its peers and, where a control plane runs, the measured link goodput, host "
                    + "capacities and the baselines the destinations hold of the VMs (the region's catalogue: a VM is drawn to a "
                    + "destination holding a recent one), and plans with ITP: the destination, the order and how many migrations "
                    + "run at once per link, "
                    + "honouring --group and --after. Links without a measurement are assumed to carry --link-rate; the output says "
                    + "which figure came from where.",
            "",
            "With --dry-run it prints the plan (per VM: order, destination, predicted start and end, reasons; the concurrency "
                    + "per link and the predicted makespan) and changes nothing. Otherwise it runs the plan slot by slot: each link "
                    + "has as many slots as the plan's concurrency for it, and the next VM of the plan starts as soon as a slot "
                    + "on its link frees (a migration ended), not when a whole batch ended. Each migration runs as 'dwcp migrate' "
                    + "runs it (its own dwcpd socket); a line says when each VM starts (slot and link) and when it ends. At each "
                    + "slot release, when a link's predicted goodput moved by more than 20%%, the VMs not yet started are planned "
                    + "again, and the new plan is taken only when it is predicted to finish them more than 10%% sooner and still "
                    + "pays if the link comes back (running migrations go on untouched). A re-plan never refuses a VM the plan "
                    + "accepted: the goodput it sees is what the running migrations made, which on a busy host is their own "
                    + "limit, not the link's; a VM it doubts is tried, and --timeout aborts it if it does not converge. It ends "
                    + "with a table: VM, destination, outcome, time, downtime and the reason for any VM not moved.",
            "",
            "With --policy itp, how many migrations run at once is also learned from the rate they make together (the "
                    + "guest bytes processed per second, a host short of CPU does not gain from more): one at first; once its "
                    + "rate is measured over 10 s, two; a further one only while each one added raised that rate by at least "
                    + "half of one migration's rate, else back by one for the rest of the evacuation (never fewer than one). A "
                    + "line says each change and why. --fixed-concurrency leaves the plan's slots as they are.",
            "",
            "A VM that is not moved (refused by the plan, failed, timed out, interrupted, or not started because a VM it "
                    + "comes after was not moved) keeps running on this host, intact: "
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
            description =
                    "Run at most N migrations at once in all, on top of the policy's slots (default: what the plan gives each link).")
    Integer maxConcurrent;

    @Option(
            names = "--policy",
            paramLabel = "POLICY",
            defaultValue = "itp",
            description =
                    "itp (slots per link: the planner's concurrency), serial (one slot in all: one at a time) or all-at-once (no limit: every VM starts at once, those with --after once their earlier VMs moved); destinations and order are the planner's in all three (default: ${DEFAULT-VALUE}).")
    String policy;

    @Option(
            names = "--fixed-concurrency",
            description =
                    "With --policy itp, run as many migrations at once as the plan's slots allow from the start, without learning how many this host gains from (for a host known to scale, or to compare).")
    boolean fixedConcurrency;

    @Option(
            names = "--group",
            paramLabel = "VM,VM",
            description =
                    "VMs that must move together (one destination, started together once their link has a slot for each); repeatable.")
    List<String> groups = new ArrayList<>();

    @Option(
            names = "--after",
            paramLabel = "VM:EARLIER",
            description =
                    "VM starts only once EARLIER has moved; if EARLIER is not moved, VM is not started either and stays here (the table says why); repeatable.")
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
            description =
                    "Abort a migration that has not finished after this many seconds; its VM stays here. Recommended: without it a migration that does not converge runs until Ctrl-C.")
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
    static final class UsageException extends Exception {
        UsageException(String message) {
            super(message);
        }
    }

    /** An error that ends the command before any migration: its exit code and message. */
    static final class Abort extends Exception {
        final ExitCode code;

        Abort(ExitCode code, String message) {
            super(message);
            this.code = code;
        }
    }

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
        EvacuationInputs inputs =
                new EvacuationInputs(out, base.pollInterval(), dirtyRateSeconds, linkRateMbit, System::nanoTime);
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
            List<Dwcpd.Peer> destinations = EvacuationInputs.destinations(status, to);
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
                EvacuationInputs.checkNames(domains, groups, afters);
                inputs.measure(connection, domains, memory, dirty, notes);
            } catch (Libvirt.LibvirtException e) {
                throw new Abort(ExitCode.LIBVIRT_ERROR, e.getMessage());
            }

            // links: a control plane's measurement when there is one, else --link-rate; a PBA predictor per link
            EvacuationInputs.Links links = inputs.links(destinations, region, notes);
            // baselines: the region's catalogue says which destination holds one of which VM; else planned without
            Optional<Dwcpd.RegionBaselines> catalogue = EvacuationInputs.catalogue(dwcpd, region, domains, notes);
            List<Vm> vms = EvacuationInputs.withBaselines(
                    EvacuationInputs.vms(domains, memory, dirty, groups), destinations, catalogue, notes);
            List<OrderConstraint> orders = EvacuationInputs.orders(afters);
            double uplink = links.links().values().stream()
                    .mapToDouble(Link::bytesPerSecond)
                    .sum();
            Evacuation evacuation;
            try {
                evacuation = new Evacuation(
                        vms, links.hosts(), links.links(), uplink, orders, Duration.ofMillis(downtimeMillis));
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage());
            }
            Planner planner = new Planner();
            Plan plan = planner.plan(evacuation);

            EvacuationView view = new EvacuationView(out);
            view.plan(
                    status.node(),
                    domains.size(),
                    destinations.stream().map(Dwcpd.Peer::name).toList(),
                    policy,
                    chosenPolicy,
                    maxConcurrent,
                    notes,
                    plan);
            if (dryRun) {
                return ExitCode.OK;
            }
            EvacuationRun run = new EvacuationRun(
                    base,
                    dwcpd,
                    scheduler(chosenPolicy),
                    new LinkMeters(links.predictors(), System::nanoTime),
                    new Replanner(planner, scheduler(chosenPolicy), dwcpd, view, links.predictors(), System::nanoTime),
                    view,
                    new EvacuationRun.Settings(
                            connectUri,
                            uriTemplate,
                            timeoutSeconds == null ? OptionalLong.empty() : OptionalLong.of(timeoutSeconds),
                            progress),
                    chosenPolicy == Policy.ITP && !fixedConcurrency
                            ? Optional.of(new ConcurrencyLearner())
                            : Optional.empty(),
                    System::nanoTime);
            return run.run(plan, evacuation, destinations);
        }
    }

    /** The policy's scheduler: the plan's slots per link, one in all or no limit; and --max-concurrent. */
    SlotScheduler scheduler(Policy chosenPolicy) {
        SlotScheduler.Mode mode = switch (chosenPolicy) {
            case ITP -> SlotScheduler.Mode.ITP;
            case SERIAL -> SlotScheduler.Mode.SERIAL;
            case ALL_AT_ONCE -> SlotScheduler.Mode.ALL_AT_ONCE;
        };
        return new SlotScheduler(mode, maxConcurrent == null ? OptionalInt.empty() : OptionalInt.of(maxConcurrent));
    }

    static boolean isThisHost(String host, String node, String hostName) {
        String shortName = hostName.contains(".") ? hostName.substring(0, hostName.indexOf('.')) : hostName;
        return host.equalsIgnoreCase(node)
                || host.equalsIgnoreCase(hostName)
                || host.equalsIgnoreCase(shortName)
                || host.equals("localhost");
    }

    /**
     * The host of a tunnel address {@code host:port} or {@code [v6]:port} as a URI writes it: an IPv6
     * address keeps its brackets ({@code qemu+tls://[2001:db8::20]/system}), as {@code dwcp migrate}'s.
     */
    static String tunnelHost(String address) {
        int colon = address.lastIndexOf(':');
        String host = colon < 0 || address.endsWith("]") ? address : address.substring(0, colon);
        return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    private CliConfig config() throws UsageException {
        try {
            return CliConfig.load(configFile);
        } catch (CliConfig.Invalid e) {
            throw new UsageException(e.getMessage());
        }
    }
}
