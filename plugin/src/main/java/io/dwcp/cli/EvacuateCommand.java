package io.dwcp.cli;

import static java.util.Objects.requireNonNull;

import io.dwcp.itp.Destination;
import io.dwcp.itp.Evacuation;
import io.dwcp.itp.Link;
import io.dwcp.itp.OrderConstraint;
import io.dwcp.itp.Plan;
import io.dwcp.itp.PlanRenderer;
import io.dwcp.itp.Planner;
import io.dwcp.itp.SlotScheduler;
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
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
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
 * planned again (the running migrations go on as they are). One line says when each VM starts
 * (its slot and link) and one when it ends.
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
                    + "per link and the predicted makespan) and changes nothing. Otherwise it runs the plan slot by slot: each link "
                    + "has as many slots as the plan's concurrency for it, and the next VM of the plan starts as soon as a slot "
                    + "on its link frees (a migration ended), not when a whole batch ended. Each migration runs as 'dwcp migrate' "
                    + "runs it (its own dwcpd socket); a line says when each VM starts (slot and link) and when it ends. At each "
                    + "slot release the VMs not yet started are planned again when a link's predicted goodput moved by more than "
                    + "20%% (running migrations go on untouched). It ends with a table: VM, destination, outcome, time, downtime "
                    + "and the reason for any VM not moved.",
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
                        + (chosenPolicy == Policy.SERIAL
                                ? "one migration at a time"
                                : "every VM at once (those with --after once their earlier VMs moved)")
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

    /** A migration that ended: its step, the slot it held, how it went. */
    private record Finished(Plan.Step step, int slot, MigrationRun.Result result) {}

    /**
     * Per link, the guest bytes its migrations processed, sampled as they run, for the goodput
     * observed between two slot releases. Each counter is written by its {@code dwcp-evacuate}
     * thread; the rest belongs to the main thread.
     */
    private static final class LinkMeter {
        final List<AtomicLong> counters = new ArrayList<>();
        long lastBytes;
        long lastNanos;

        long bytes() {
            return counters.stream().mapToLong(AtomicLong::get).sum();
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
        AtomicInteger interrupts = new AtomicInteger();
        base.interrupts().onInterrupt(interrupts::incrementAndGet);
        SlotScheduler scheduler = scheduler(chosenPolicy);
        Plan plan = initial;
        Set<String> moved = new HashSet<>();
        Map<String, String> notMoved = new HashMap<>();
        Map<String, String> running = new LinkedHashMap<>();
        Map<String, Set<Integer>> slotsInUse = new HashMap<>();
        Map<String, LinkMeter> meters = new HashMap<>();
        Map<String, Long> movedTo = new HashMap<>();
        refuse(initial, notMoved, outcomes);
        ExecutorService executor = Executors.newCachedThreadPool(runnable -> {
            Thread thread = new Thread(runnable, "dwcp-evacuate");
            thread.setDaemon(true);
            return thread;
        });
        CompletionService<Finished> completions = new ExecutorCompletionService<>(executor);
        try {
            while (true) {
                if (interrupts.get() == 0) {
                    SlotScheduler.Decision decision = scheduler.decide(
                            plan, evacuation.orders(), new SlotScheduler.State(moved, notMoved, running));
                    decision.left().forEach((vm, reason) -> {
                        notMoved.put(vm, reason);
                        outcomes.put(
                                vm, new Outcome(vm, "-", "not started", Duration.ZERO, Optional.of(reason), false));
                        out.println("Not starting " + vm + ": " + reason + "; it keeps running on this host");
                    });
                    for (Plan.Step step : decision.starts()) {
                        String link = step.destination();
                        Set<Integer> inUse = slotsInUse.computeIfAbsent(link, l -> new HashSet<>());
                        int slot = 1;
                        while (inUse.contains(slot)) {
                            slot++;
                        }
                        inUse.add(slot);
                        running.put(step.vm().id(), link);
                        out.println("Starting " + step.vm().id() + " -> " + link + " ("
                                + slot(scheduler, plan, link, slot) + "; " + running.size() + " running)");
                        LinkMeter meter = meters.computeIfAbsent(link, l -> new LinkMeter());
                        if (running.values().stream().filter(link::equals).count() == 1) {
                            // the link was idle: its goodput is measured from now
                            meter.lastBytes = meter.bytes();
                            meter.lastNanos = System.nanoTime();
                        }
                        AtomicLong counter = new AtomicLong();
                        meter.counters.add(counter);
                        MigrationRun.Request request = request(step, peerByName.get(link), connectUri, uriTemplate);
                        MigrationRun.Output output = new MigrationRun.Output(
                                out,
                                base.err(),
                                "dwcp evacuate: " + step.vm().id() + ": ",
                                progress,
                                false,
                                base.columns(),
                                base.pollInterval(),
                                base.lineInterval());
                        int held = slot;
                        completions.submit(() -> {
                            MigrationRun.Result result;
                            try {
                                result = MigrationRun.run(
                                        output, base.libvirt(), dwcpd, request, interrupts, counter::set);
                            } catch (RuntimeException e) {
                                // MigrationRun reports its failures as results; anything else is a bug: say what it was
                                result = MigrationRun.Result.before(ExitCode.MIGRATION_FAILED, "internal error: " + e);
                            }
                            counter.accumulateAndGet(result.guestBytes(), Math::max);
                            return new Finished(step, held, result);
                        });
                    }
                }
                if (running.isEmpty()) {
                    break;
                }
                Finished finished = next(completions, interrupts);
                Plan.Step step = finished.step();
                String vm = step.vm().id();
                String link = step.destination();
                MigrationRun.Result result = finished.result();
                running.remove(vm);
                slotsInUse.get(link).remove(finished.slot());
                outcomes.put(
                        vm,
                        new Outcome(vm, link, outcome(result), result.elapsed(), result.reason(), result.migrated()));
                if (result.migrated()) {
                    moved.add(vm);
                    movedTo.merge(link, 1L, Long::sum);
                } else {
                    notMoved.put(vm, result.reason().orElse(outcome(result)));
                }
                out.println("Ended " + vm + " -> " + link + ": " + outcome(result)
                        + String.format(
                                Locale.ROOT, " in %.1f s", result.elapsed().toNanos() / 1e9)
                        + (result.migrated() ? "" : ", it keeps running on this host") + " ("
                        + slot(scheduler, plan, link, finished.slot()) + " free; " + running.size() + " running)");
                observe(meters, predictors, running);
                List<Vm> waiting = new SlotScheduler.State(moved, notMoved, running).waiting(evacuation);
                if (interrupts.get() == 0 && !waiting.isEmpty()) {
                    plan = replanIfMoved(planner, plan, evacuation, waiting, predictors, movedTo, dwcpd, out);
                    refuse(plan, notMoved, outcomes);
                }
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
                                                ? "interrupted (Ctrl-C) before it started"
                                                : "its plan step never became startable"),
                                false));
            }
        }
        out.print(table(evacuation, outcomes));
        long movedCount = outcomes.values().stream().filter(Outcome::moved).count();
        out.println("Moved " + movedCount + " of " + evacuation.vms().size() + " domains"
                + (movedCount < evacuation.vms().size() ? "; the others keep running on this host" : "") + ".");
        if (interrupts.get() > 0) {
            return ExitCode.INTERRUPTED;
        }
        return movedCount == evacuation.vms().size() ? ExitCode.OK : ExitCode.MIGRATION_FAILED;
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

    /** The VMs a plan refuses: not moved, with the plan's reason (once). */
    private static void refuse(Plan plan, Map<String, String> notMoved, Map<String, Outcome> outcomes) {
        for (Plan.Refusal refusal : plan.refused()) {
            String vm = refusal.vm().id();
            if (notMoved.putIfAbsent(vm, refusal.reason()) == null) {
                outcomes.put(vm, new Outcome(vm, "-", "refused", Duration.ZERO, Optional.of(refusal.reason()), false));
            }
        }
    }

    /** How a slot reads in the progress lines: {@code slot 2/3 to beta}, {@code slot 1/1 in all (serial)}. */
    static String slot(SlotScheduler scheduler, Plan plan, String link, int slot) {
        String most = scheduler.totalSlots() == SlotScheduler.UNLIMITED
                ? ""
                : ", at most " + scheduler.totalSlots() + " in all";
        return switch (scheduler.mode()) {
            case ITP -> "slot " + slot + "/" + scheduler.linkSlots(plan, link) + " to " + link + most;
            case SERIAL -> "slot 1/1 in all (serial)";
            case ALL_AT_ONCE -> "slot " + slot + " to " + link + (most.isEmpty() ? ", all at once" : most);
        };
    }

    private MigrationRun.Request request(Plan.Step step, Dwcpd.Peer peer, String connectUri, String uriTemplate) {
        return new MigrationRun.Request(
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
    }

    /** The next migration to end; a Ctrl-C while waiting counts as one (the runs abort and end). */
    private static Finished next(CompletionService<Finished> completions, AtomicInteger interrupts) {
        while (true) {
            try {
                return completions.take().get();
            } catch (InterruptedException e) {
                interrupts.incrementAndGet();
            } catch (ExecutionException e) {
                // the task catches what MigrationRun throws: not reached
                throw new IllegalStateException(e.getCause());
            }
        }
    }

    /**
     * At a slot release: each link's goodput since its previous observation (the guest bytes its
     * migrations processed, over at least a second of the link being busy) feeds its predictor.
     */
    private static void observe(
            Map<String, LinkMeter> meters, Map<String, GoodputPredictor> predictors, Map<String, String> running) {
        long now = System.nanoTime();
        meters.forEach((link, meter) -> {
            long bytes = meter.bytes();
            double seconds = (now - meter.lastNanos) / 1e9;
            if (seconds >= 1 && bytes > meter.lastBytes) {
                predictors.get(link).observe(now, 8 * (bytes - meter.lastBytes) / seconds);
                meter.lastBytes = bytes;
                meter.lastNanos = now;
            } else if (!running.containsValue(link)) {
                // idle now: the next start measures afresh
                meter.lastBytes = bytes;
                meter.lastNanos = now;
            }
        });
    }

    /**
     * At a slot release: feeds the control plane's latest link measurement to each link's
     * predictor (the goodput observed on it went in already) and re-plans the waiting VMs when a
     * prediction moved by more than {@link #REPLAN_THRESHOLD} from the plan's figure; the running
     * migrations are not touched (they keep their slots).
     */
    private Plan replanIfMoved(
            Planner planner,
            Plan plan,
            Evacuation evacuation,
            List<Vm> waiting,
            Map<String, GoodputPredictor> predictors,
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
        Map<String, Double> changed = SlotScheduler.movedLinks(plan, predicted, REPLAN_THRESHOLD);
        if (changed.isEmpty()) {
            return plan;
        }
        List<String> moves = new ArrayList<>();
        changed.forEach((peer, rate) ->
                moves.add(peer + " " + rate(plan.linkBytesPerSecond().get(peer)) + " -> " + rate(rate)));
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
        out.println("Re-planned the " + waiting.size() + " VMs not yet started (running ones go on): predicted link "
                + "goodput moved (" + String.join(", ", moves) + ")");
        out.print(PlanRenderer.render(replanned));
        return replanned;
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
