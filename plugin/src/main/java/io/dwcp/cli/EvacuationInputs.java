package io.dwcp.cli;

import io.dwcp.itp.Destination;
import io.dwcp.itp.Link;
import io.dwcp.itp.OrderConstraint;
import io.dwcp.itp.PlanRenderer;
import io.dwcp.itp.Vm;
import io.dwcp.pba.EwmaPredictor;
import io.dwcp.pba.GoodputPredictor;
import java.io.PrintStream;
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
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * What {@code dwcp evacuate} gathers for the planner before it plans: the destinations ({@code --to}
 * among dwcpd's peers), the check of {@code --group} and {@code --after} against the running
 * domains, each domain's memory and dirty rate (QEMU's calc-dirty-rate, all at once), each link's
 * goodput (the control plane's measurement, else {@code --link-rate}) with a PBA predictor per link,
 * the destinations' slots, the baselines the destinations hold of the VMs (the region's catalogue,
 * {@link #catalogue} and {@link #withBaselines}), and the VMs and order constraints; and a note for each figure saying
 * where it came from.
 *
 * <p>Runs on the command's (main) thread, before any migration starts.
 */
final class EvacuationInputs {
    /** Free memory at the destinations is not known to dwcpd: not limiting (libvirt refuses a VM that does not fit). */
    static final long UNKNOWN_FREE_MEMORY = Long.MAX_VALUE / 4;

    static final int UNKNOWN_SLOTS = 1 << 20;

    /** Per destination: its link, its predictor (seeded with the measurement if any) and its slots. */
    record Links(Map<String, Link> links, Map<String, GoodputPredictor> predictors, List<Destination> hosts) {}

    private final PrintStream out;
    private final Duration pollInterval;
    private final int dirtyRateSeconds;
    private final double linkRateMbit;
    private final LongSupplier nanoClock;

    /**
     * @param out where the measuring line goes
     * @param pollInterval how often a pending dirty-rate measurement is asked for (at least 10 ms)
     * @param dirtyRateSeconds how long QEMU measures ({@code --dirty-rate-time})
     * @param linkRateMbit the goodput assumed for a link without measurement ({@code --link-rate})
     * @param nanoClock {@link System#nanoTime} but in tests: the measurement deadline and the predictors' time
     */
    EvacuationInputs(
            PrintStream out, Duration pollInterval, int dirtyRateSeconds, double linkRateMbit, LongSupplier nanoClock) {
        this.out = out;
        this.pollInterval = pollInterval;
        this.dirtyRateSeconds = dirtyRateSeconds;
        this.linkRateMbit = linkRateMbit;
        this.nanoClock = nanoClock;
    }

    /** The peers named with {@code --to} (each once, in their order), or every peer when none is named. */
    static List<Dwcpd.Peer> destinations(Dwcpd.Status status, List<String> to) throws EvacuateCommand.Abort {
        if (status.peers().isEmpty()) {
            throw new EvacuateCommand.Abort(
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
                throw new EvacuateCommand.Abort(ExitCode.USAGE, "--to " + name + ": " + e.getMessage());
            }
            try {
                Dwcpd.Peer peer = MigrateCommand.peer(status, target);
                if (!chosen.contains(peer)) {
                    chosen.add(peer);
                }
            } catch (Dwcpd.UnavailableException e) {
                throw new EvacuateCommand.Abort(ExitCode.DWCPD_UNAVAILABLE, "--to " + name + ": " + e.getMessage());
            }
        }
        return chosen;
    }

    /** Every VM of {@code --group} and {@code --after} is a running domain, in one group at most; the forms are right. */
    static void checkNames(List<String> domains, List<String> groups, List<String> afters)
            throws EvacuateCommand.UsageException {
        List<List<String>> groupLists = new ArrayList<>();
        for (String group : groups) {
            groupLists.add(List.of(group.split(",")));
        }
        Set<String> grouped = new HashSet<>();
        for (List<String> group : groupLists) {
            if (group.size() < 2) {
                throw new EvacuateCommand.UsageException(
                        "--group needs two or more VMs, comma-separated: " + String.join(",", group));
            }
            for (String vm : group) {
                if (!domains.contains(vm)) {
                    throw new EvacuateCommand.UsageException("--group " + String.join(",", group) + ": '" + vm
                            + "' is not a running domain here (running: " + String.join(", ", domains) + ")");
                }
                if (!grouped.add(vm)) {
                    throw new EvacuateCommand.UsageException("--group: '" + vm + "' is in two groups");
                }
            }
        }
        for (String after : afters) {
            String[] parts = after.split(":", -1);
            if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
                throw new EvacuateCommand.UsageException("--after must be VM:EARLIER: '" + after + "'");
            }
            for (String vm : parts) {
                if (!domains.contains(vm)) {
                    throw new EvacuateCommand.UsageException("--after " + after + ": '" + vm
                            + "' is not a running domain here (running: " + String.join(", ", domains) + ")");
                }
            }
        }
    }

    /** Starts every VM's dirty-rate measurement, then collects them (each VM's failure is a note: planned as 0). */
    void measure(
            Libvirt.Connection connection,
            List<String> domains,
            Map<String, Long> memory,
            Map<String, Double> dirty,
            List<String> notes)
            throws Libvirt.LibvirtException {
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
        long deadline = nanoClock.getAsLong() + TimeUnit.SECONDS.toNanos(dirtyRateSeconds + 10L);
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
            if (nanoClock.getAsLong() - deadline > 0) {
                for (String name : started.keySet()) {
                    dirty.put(name, 0.0);
                    notes.add(name + ": dirty rate unknown (QEMU's measurement not done after "
                            + (dirtyRateSeconds + 10) + " s); planned as 0");
                }
                break;
            }
            try {
                Thread.sleep(Math.max(10, pollInterval.toMillis()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Libvirt.LibvirtException("interrupted while measuring dirty rates");
            }
        }
    }

    /**
     * Each destination's link (the control plane's measurement when it has one above 0, else {@code
     * --link-rate}), its PBA predictor (seeded with the measurement) and its slots (the control
     * plane's capacity, else not limiting); a note per link and the notes on what is not known.
     */
    Links links(List<Dwcpd.Peer> destinations, Optional<Dwcpd.Region> region, List<String> notes) {
        Map<String, GoodputPredictor> predictors = new HashMap<>();
        Map<String, Link> links = new LinkedHashMap<>();
        List<Destination> hosts = new ArrayList<>();
        for (Dwcpd.Peer peer : destinations) {
            Optional<Dwcpd.Link> measured = region.flatMap(r -> link(r, peer.name()));
            GoodputPredictor predictor = new EwmaPredictor(Duration.ofSeconds(60));
            predictors.put(peer.name(), predictor);
            double rate;
            Duration rtt = Duration.ZERO;
            if (measured.isPresent() && measured.get().goodputBytesPerSecond() > 0) {
                rate = measured.get().goodputBytesPerSecond();
                rtt = Duration.ofNanos(measured.get().rttMicros() * 1000);
                predictor.observe(nanoClock.getAsLong(), rate * 8);
                notes.add(String.format(
                        Locale.ROOT,
                        "link to %s: %s measured by the control plane (RTT %.1f ms)",
                        peer.name(),
                        EvacuationView.rate(rate),
                        measured.get().rttMicros() / 1000.0));
            } else {
                rate = linkRateMbit * 1e6 / 8;
                notes.add(String.format(
                        Locale.ROOT,
                        "link to %s: no measurement (%s); assumed %s (--link-rate)",
                        peer.name(),
                        region.isPresent() ? "the control plane has none for it" : "no control plane",
                        EvacuationView.rate(rate)));
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
        notes.add("uplink: not measured; taken as the sum of the links");
        return new Links(links, predictors, hosts);
    }

    /**
     * The region's catalogue of the baselines held of {@code domains} ({@link Dwcpd#regionBaselines}),
     * or empty, with a note saying why (no control plane, or dwcpd's answer): the plan is then made
     * without baselines, as before the catalogue was asked.
     */
    static Optional<Dwcpd.RegionBaselines> catalogue(
            Dwcpd dwcpd, Optional<Dwcpd.Region> region, List<String> domains, List<String> notes) {
        if (region.isEmpty()) {
            notes.add("baselines held at the destinations: not known without a control plane; planned without");
            return Optional.empty();
        }
        try {
            return Optional.of(dwcpd.regionBaselines(region.get().region(), domains));
        } catch (Dwcpd.UnavailableException e) {
            notes.add("baselines held at the destinations: the region's catalogue is not available (" + e.getMessage()
                    + "); planned without");
            return Optional.empty();
        }
    }

    /**
     * The VMs with the baselines the catalogue says the destinations hold of them, each as the share
     * of its memory still identical there ({@link #share}); a note per baseline used, or one saying
     * that none is held (or that none could be known, when {@code catalogue} is empty: noted by
     * {@link #catalogue} already). Baselines at hosts that are not destinations are left out.
     */
    static List<Vm> withBaselines(
            List<Vm> vms,
            List<Dwcpd.Peer> destinations,
            Optional<Dwcpd.RegionBaselines> catalogue,
            List<String> notes) {
        if (catalogue.isEmpty()) {
            return vms;
        }
        Set<String> hosts = new HashSet<>();
        destinations.forEach(peer -> hosts.add(peer.name()));
        List<Vm> planned = new ArrayList<>();
        int held = 0;
        for (Vm vm : vms) {
            Vm with = vm;
            for (Dwcpd.HeldBaseline baseline : catalogue.get().baselines()) {
                if (!baseline.vm().equals(vm.id()) || !hosts.contains(baseline.host())) {
                    continue;
                }
                double coverage = coverage(baseline.sizeBytes(), vm.memoryBytes());
                double unchanged = unchanged(baseline.ageMillis(), vm.memoryBytes(), vm.dirtyBytesPerSecond());
                with = with.withBaseline(baseline.host(), coverage * unchanged);
                held++;
                notes.add(String.format(
                        Locale.ROOT,
                        "baseline of %s on %s: %s, taken %s ago; planned as %.0f%% of its memory held there "
                                + "(its size %.0f%% of the VM's memory, %.0f%% of that unchanged at its dirty rate)",
                        vm.id(),
                        baseline.host(),
                        PlanRenderer.bytes(baseline.sizeBytes()),
                        PlanRenderer.duration(baseline.ageMillis() / 1000.0),
                        100 * coverage * unchanged,
                        100 * coverage,
                        100 * unchanged));
            }
            planned.add(with);
        }
        if (held == 0) {
            notes.add(String.format(
                    Locale.ROOT,
                    "baselines held at the destinations: none of these VMs (region %s's catalogue, read %d ms ago)",
                    catalogue.get().region(),
                    catalogue.get().baselinesAgeMillis()));
        }
        return planned;
    }

    /**
     * The share of a VM's memory a baseline holds: its size over the VM's memory, at most 1. A
     * baseline stores each distinct page once (a hash, the page, its addresses: 4,120 bytes a page),
     * so this is a lower bound when the guest has pages alike (zero pages cost nothing anyway).
     */
    static double coverage(long baselineBytes, long memoryBytes) {
        return Math.min(1, Math.max(0, baselineBytes) / (double) memoryBytes);
    }

    /**
     * The share of those pages still unchanged after {@code ageMillis} of the guest dirtying its
     * memory at its measured rate, page writes taken as uniform over memory: {@code exp(-dirty x
     * age / memory)}. A pessimistic figure (a guest that rewrites one hot set again and again keeps
     * more unchanged), so a baseline draws its VM only when it clearly pays.
     */
    static double unchanged(long ageMillis, long memoryBytes, double dirtyBytesPerSecond) {
        return Math.exp(-dirtyBytesPerSecond * Math.max(0, ageMillis) / 1000.0 / memoryBytes);
    }

    /** The VMs to plan, in the domains' order, each {@code --group} member in its group {@code gN(VM,VM)}. */
    static List<Vm> vms(
            List<String> domains, Map<String, Long> memory, Map<String, Double> dirty, List<String> groups) {
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
        return vms;
    }

    /** The {@code --after VM:EARLIER} constraints, checked by {@link #checkNames} already. */
    static List<OrderConstraint> orders(List<String> afters) {
        List<OrderConstraint> orders = new ArrayList<>();
        for (String after : afters) {
            String[] parts = after.split(":");
            orders.add(new OrderConstraint(parts[1], parts[0]));
        }
        return orders;
    }

    /** The control plane's measurement of the link from this host to {@code peer}, if it has one. */
    static Optional<Dwcpd.Link> link(Dwcpd.Region region, String peer) {
        return region.links().stream()
                .filter(link -> link.from().equals(region.host()) && link.to().equals(peer))
                .findFirst();
    }
}
