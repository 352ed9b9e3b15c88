package io.dwcp.itp.sim;

import static java.util.Objects.requireNonNull;

import io.dwcp.itp.Capacity;
import io.dwcp.itp.Destination;
import io.dwcp.itp.Evacuation;
import io.dwcp.itp.Link;
import io.dwcp.itp.OrderConstraint;
import io.dwcp.itp.Vm;
import io.dwcp.pba.GoodputSeries;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Seeded evacuation scenarios. With {@code p} the per-migration rate:
 * <ul>
 * <li>RAM: 1, 2, 4, 8 or 16 GiB (weights 20, 30, 30, 15, 5%);</li>
 * <li>dirty rate: light VMs log-normal around {@code lightDirty} (sigma 0.8); a share {@code
 * heavyShare} of heavy ones at {@code U(0.25, 0.6) p}; a share {@code hopelessShare} at {@code 1.2
 * p}, which no link lets converge;</li>
 * <li>a baseline for 30% of the VMs, on a random destination, sharing {@code U(0.5, 0.95)};</li>
 * <li>groups of 2 or 3 among about 6% of the VMs; about one order constraint per 20 VMs, always
 * from a VM listed earlier to one listed later;</li>
 * <li>destinations with room for 1.5 times the VMs' RAM and count in total, links with mean
 * {@code U(0.5, 1.5) x linkMean} and RTT {@code U(10, 100)} ms, each following the trace from a
 * random offset.</li>
 * </ul>
 * The evacuation's link rates are the links' means: what the planner believes at the start.
 */
public final class ScenarioGenerator {
    /** The knobs of a scenario; rates in bytes/s. */
    public record Spec(
            String name,
            int vms,
            int hosts,
            double linkMeanBytesPerSecond,
            double perMigrationBytesPerSecond,
            double uplinkBytesPerSecond,
            double lightDirtyBytesPerSecond,
            double heavyShare,
            double hopelessShare,
            Duration downtimeLimit) {
        /** 6 VMs to one host over a 150 Mbit/s path, 60 Mbit/s per migration, 1 Gbit/s uplink. */
        public static Spec small() {
            return new Spec(
                    "6 VMs / 1 link", 6, 1, 150e6 / 8, 60e6 / 8, 1e9 / 8, 0.5e6, 0.2, 0, Duration.ofMillis(300));
        }

        /** 40 VMs to 5 hosts over 300 Mbit/s paths, 100 Mbit/s per migration, 1 Gbit/s uplink. */
        public static Spec medium() {
            return new Spec(
                    "40 VMs / 5 hosts", 40, 5, 300e6 / 8, 100e6 / 8, 1e9 / 8, 1e6, 0.1, 0.025, Duration.ofMillis(300));
        }

        /** 200 VMs to 20 hosts over 1 Gbit/s paths, 300 Mbit/s per migration, 10 Gbit/s uplink. */
        public static Spec large() {
            return new Spec(
                    "200 VMs / 20 hosts",
                    200,
                    20,
                    1e9 / 8,
                    300e6 / 8,
                    10e9 / 8,
                    2e6,
                    0.1,
                    0.02,
                    Duration.ofMillis(300));
        }
    }

    /** An evacuation and the true capacities it will meet. */
    public record Scenario(String name, long seed, Evacuation evacuation, Capacity capacity) {}

    private static final long GIB = 1L << 30;
    private static final long[] MEMORY = {GIB, 2 * GIB, 4 * GIB, 8 * GIB, 16 * GIB};
    private static final double[] MEMORY_WEIGHTS = {0.20, 0.30, 0.30, 0.15, 0.05};

    private final GoodputSeries trace;

    /** @param trace the shape every link's capacity follows (e.g. a mahimahi trace in 1 s buckets) */
    public ScenarioGenerator(GoodputSeries trace) {
        this.trace = requireNonNull(trace, "trace is null");
    }

    public Scenario generate(Spec spec, long seed) {
        Random random = new Random(seed);
        List<String> hosts = new ArrayList<>();
        for (int h = 1; h <= spec.hosts(); h++) {
            hosts.add(String.format("h%02d", h));
        }
        List<Vm> vms = new ArrayList<>();
        for (int i = 1; i <= spec.vms(); i++) {
            vms.add(vm(spec, String.format("vm%03d", i), random, hosts));
        }
        groups(vms, random);
        List<OrderConstraint> orders = new ArrayList<>();
        for (int c = 0; c < spec.vms() / 20; c++) {
            int before = random.nextInt(spec.vms() - 1);
            int after = before + 1 + random.nextInt(spec.vms() - before - 1);
            orders.add(new OrderConstraint(vms.get(before).id(), vms.get(after).id()));
        }
        long totalMemory = vms.stream().mapToLong(Vm::memoryBytes).sum();
        long largest = vms.stream().mapToLong(Vm::memoryBytes).max().orElse(0);
        List<Destination> destinations = new ArrayList<>();
        Map<String, Link> links = new HashMap<>();
        Map<String, Double> means = new HashMap<>();
        Map<String, Integer> offsets = new HashMap<>();
        for (String host : hosts) {
            long memory =
                    Math.max(largest, (long) (1.5 * totalMemory / spec.hosts() * (0.8 + 0.4 * random.nextDouble())));
            int slots = (int) Math.ceil(1.5 * spec.vms() / spec.hosts());
            destinations.add(new Destination(host, memory, slots));
            double mean = spec.linkMeanBytesPerSecond() * (0.5 + random.nextDouble());
            Duration rtt = Duration.ofMillis(10 + random.nextInt(91));
            links.put(host, new Link(host, mean, rtt, spec.perMigrationBytesPerSecond()));
            means.put(host, mean);
            offsets.put(host, random.nextInt(trace.size()));
        }
        Evacuation evacuation =
                new Evacuation(vms, destinations, links, spec.uplinkBytesPerSecond(), orders, spec.downtimeLimit());
        return new Scenario(
                spec.name(), seed, evacuation, new TraceCapacity(trace, means, offsets, spec.uplinkBytesPerSecond()));
    }

    private static Vm vm(Spec spec, String id, Random random, List<String> hosts) {
        long memory = MEMORY[MEMORY.length - 1];
        double pick = random.nextDouble();
        for (int m = 0; m < MEMORY.length; m++) {
            pick -= MEMORY_WEIGHTS[m];
            if (pick < 0) {
                memory = MEMORY[m];
                break;
            }
        }
        double kind = random.nextDouble();
        double dirty;
        if (kind < spec.hopelessShare()) {
            dirty = 1.2 * spec.perMigrationBytesPerSecond();
        } else if (kind < spec.hopelessShare() + spec.heavyShare()) {
            dirty = (0.25 + 0.35 * random.nextDouble()) * spec.perMigrationBytesPerSecond();
        } else {
            dirty = spec.lightDirtyBytesPerSecond() * Math.exp(0.8 * random.nextGaussian());
        }
        Vm vm = Vm.of(id, memory, dirty);
        if (random.nextDouble() < 0.3) {
            vm = vm.withBaseline(hosts.get(random.nextInt(hosts.size())), 0.5 + 0.45 * random.nextDouble());
        }
        return vm;
    }

    private static void groups(List<Vm> vms, Random random) {
        int groups = (int) Math.round(vms.size() * 0.06 / 2.5);
        for (int g = 1; g <= groups; g++) {
            int size = 2 + random.nextInt(2);
            for (int k = 0; k < size; k++) {
                int index = random.nextInt(vms.size());
                if (vms.get(index).group().isEmpty()) {
                    vms.set(index, vms.get(index).inGroup("g" + g));
                }
            }
        }
    }
}
