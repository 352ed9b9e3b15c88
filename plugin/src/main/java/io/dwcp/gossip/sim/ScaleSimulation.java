package io.dwcp.gossip.sim;

import static java.util.Objects.requireNonNull;

import io.dwcp.gossip.Crdt;
import io.dwcp.gossip.Dot;
import io.dwcp.gossip.GossipCodec;
import io.dwcp.gossip.GossipMessage;
import io.dwcp.gossip.GossipNode;
import io.dwcp.gossip.GossipStats;
import io.dwcp.gossip.GossipTransport;
import io.dwcp.gossip.GossipUpdate;
import io.dwcp.gossip.LwwRegister;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Many hosts in many regions, in simulated time: each region's leader is a real {@link GossipNode}
 * speaking the real codec over {@link SimulatedNetwork}. What a leader applies it writes to its
 * region's ZooKeeper (leader-owned {@code leader/remote/REGION}); a host sees an update once a read
 * of its region's ZooKeeper returns it: the leader's write plus the host's read, modelled as a
 * per-host delay. Hosts read what their decisions need when their copy is older than the
 * staleness bound (modelled as one region summary read per host every {@code hostReadIntervalMillis}).
 *
 * <p>Workload: every region's leader publishes its region summary (an LWW register of about
 * {@code summaryBytes}) every {@code updateIntervalMillis}; every update is a probe. Faults,
 * seeded: inter-region message loss, hosts that crash (no longer counted), and region leaders that
 * crash: the region has no leader for a failover time modelled on the measured Curator failover
 * (session timeout, plus up to one server tick until the session expires, plus the election), then
 * a new leader starts from what the region's ZooKeeper holds (everything the old one applied).
 * Updates a region makes while it has no leader are published by the next one (their age counts).
 *
 * <p>Reported: time (and gossip rounds) until 50 %, 99 % and 100 % of the live hosts see each
 * update; bytes per host per second (gossip bytes as encoded, plus the modelled ZooKeeper traffic:
 * the leaders' writes, the hosts' reads and session pings, payload bytes without TCP/IP headers,
 * as the gossip bytes); failover times; and the
 * staleness a host's read of a region summary has (how old the oldest update it does not see yet
 * is, 0 when it sees everything), sampled at random times.
 *
 * <p>Run: {@code mvn -B -ntp -q -pl plugin -am package -DskipTests}, then {@code java -cp
 * "plugin/target/classes:plugin/target/lib/*" io.dwcp.gossip.sim.ScaleSimulation --regions 50
 * --hosts-per-region 200 --seconds 120 --seed 1}.
 */
public final class ScaleSimulation {
    /** What to simulate. */
    public record Parameters(
            int regions,
            int hostsPerRegion,
            long seed,
            long durationMillis,
            long gossipIntervalMillis,
            int fanout,
            int logCapacity,
            double loss,
            long minLatencyMillis,
            long maxLatencyMillis,
            long updateIntervalMillis,
            int summaryBytes,
            double hostFailureFraction,
            int leaderFailures,
            long sessionTimeoutMillis,
            long tickMillis,
            long electionMillis,
            long minZooKeeperDelayMillis,
            long maxZooKeeperDelayMillis,
            int zooKeeperRequestBytes,
            int zooKeeperPingBytesPerSecond,
            long hostReadIntervalMillis,
            int staleReads) {
        /** The defaults: the configuration dwcpd ships with and the measured ZooKeeper failover. */
        public static Parameters of(int regions, int hostsPerRegion, long seed, long durationMillis) {
            return new Parameters(
                    regions,
                    hostsPerRegion,
                    seed,
                    durationMillis,
                    200,
                    2,
                    256,
                    0.01,
                    10,
                    150,
                    1000,
                    120,
                    0.01,
                    Math.max(1, regions / 10),
                    3000,
                    1000,
                    300,
                    2,
                    20,
                    60,
                    40,
                    5000,
                    100_000);
        }
    }

    /** Percentiles of a sample (milliseconds or bytes). */
    public record Distribution(double p50, double p90, double p99, double max, int count) {
        static Distribution of(double[] values) {
            if (values.length == 0) {
                return new Distribution(Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0);
            }
            double[] sorted = values.clone();
            Arrays.sort(sorted);
            return new Distribution(
                    at(sorted, 0.50), at(sorted, 0.90), at(sorted, 0.99), sorted[sorted.length - 1], sorted.length);
        }

        static double at(double[] sorted, double quantile) {
            return sorted[Math.min(sorted.length - 1, (int) Math.ceil(quantile * sorted.length) - 1)];
        }
    }

    /** The figures. Spread times are milliseconds from an update's creation, per update. */
    public record Report(
            Parameters parameters,
            int probes,
            Distribution to50Percent,
            Distribution to99Percent,
            Distribution to100Percent,
            double fractionOfUpdates99PercentWithin3s,
            double bytesPerHostPerSecond,
            double gossipBytesPerHostPerSecond,
            double gossipBytesPerLeaderPerSecond,
            Distribution failoverMillis,
            Distribution stalenessMillis,
            double fractionOfReadsWithin5s,
            long messagesSent,
            long messagesDropped) {
        public String table() {
            StringBuilder out = new StringBuilder();
            long interval = parameters.gossipIntervalMillis();
            out.append(String.format(
                    Locale.ROOT,
                    "%d hosts in %d regions, %.0f s simulated, seed %d, loss %.1f %%, gossip every %d ms to %d peers, %d leader crashes, %.1f %% hosts crash%n",
                    parameters.regions() * parameters.hostsPerRegion(),
                    parameters.regions(),
                    parameters.durationMillis() / 1000.0,
                    parameters.seed(),
                    parameters.loss() * 100,
                    interval,
                    parameters.fanout(),
                    parameters.leaderFailures(),
                    parameters.hostFailureFraction() * 100));
            out.append(String.format(Locale.ROOT, "updates probed: %d%n", probes));
            out.append("hosts informed      median s (rounds)   p99 s (rounds)   max s (rounds)\n");
            row(out, "50 %", to50Percent, interval);
            row(out, "99 %", to99Percent, interval);
            row(out, "100 %", to100Percent, interval);
            out.append(String.format(
                    Locale.ROOT,
                    "updates seen by 99 %% of hosts within 3 s: %.2f %%%n",
                    fractionOfUpdates99PercentWithin3s * 100));
            out.append(String.format(
                    Locale.ROOT,
                    "bytes per host per second: %.1f (gossip %.1f, ZooKeeper %.1f); per region leader, gossip: %.0f B/s%n",
                    bytesPerHostPerSecond,
                    gossipBytesPerHostPerSecond,
                    bytesPerHostPerSecond - gossipBytesPerHostPerSecond,
                    gossipBytesPerLeaderPerSecond));
            out.append(String.format(
                    Locale.ROOT,
                    "regional failover (modelled): median %.0f ms, max %.0f ms over %d%n",
                    failoverMillis.p50(),
                    failoverMillis.max(),
                    failoverMillis.count()));
            out.append(String.format(
                    Locale.ROOT,
                    "staleness at read time (%d reads): p50 %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms; within 5 s: %.2f %%%n",
                    stalenessMillis.count(),
                    stalenessMillis.p50(),
                    stalenessMillis.p90(),
                    stalenessMillis.p99(),
                    stalenessMillis.max(),
                    fractionOfReadsWithin5s * 100));
            out.append(String.format(Locale.ROOT, "messages: %d sent, %d dropped%n", messagesSent, messagesDropped));
            return out.toString();
        }

        private static void row(StringBuilder out, String label, Distribution distribution, long interval) {
            out.append(String.format(
                    Locale.ROOT,
                    "  %-6s            %6.2f (%4.1f)       %6.2f (%4.1f)    %6.2f (%4.1f)%n",
                    label,
                    distribution.p50() / 1000,
                    distribution.p50() / interval,
                    distribution.p99() / 1000,
                    distribution.p99() / interval,
                    distribution.max() / 1000,
                    distribution.max() / interval));
        }
    }

    /** One update of a region's summary: its origin, sequence and creation time. */
    private record Update(int origin, int sequence, long createdMillis) {}

    private final Parameters parameters;
    private final Random random;
    private final SimulatedNetwork network;
    private final String[] regionNames;
    private final GossipNode[] leaders;
    private final int[] terms;
    private final long[][] hostDelay;
    private final long[][] hostCrash;
    // per region x and origin o: times at which x's leader first held sequence >= index
    private final List<List<long[]>> seenAt = new ArrayList<>();
    private final List<List<Update>> updates = new ArrayList<>();
    private final List<List<Update>> pending = new ArrayList<>();
    private final List<Double> failovers = new ArrayList<>();
    private long zooKeeperBytes;

    private ScaleSimulation(Parameters parameters) {
        this.parameters = requireNonNull(parameters, "parameters is null");
        this.random = new Random(parameters.seed());
        this.network = new SimulatedNetwork(new Random(random.nextLong()));
        int regions = parameters.regions();
        this.regionNames = new String[regions];
        this.leaders = new GossipNode[regions];
        this.terms = new int[regions];
        this.hostDelay = new long[regions][parameters.hostsPerRegion()];
        this.hostCrash = new long[regions][parameters.hostsPerRegion()];
        long[][] latency = new long[regions][regions];
        for (int r = 0; r < regions; r++) {
            regionNames[r] = String.format(Locale.ROOT, "region-%02d", r);
            for (int s = 0; s < r; s++) {
                long oneWay = parameters.minLatencyMillis()
                        + (long)
                                (random.nextDouble() * (parameters.maxLatencyMillis() - parameters.minLatencyMillis()));
                latency[r][s] = oneWay;
                latency[s][r] = oneWay;
            }
            for (int h = 0; h < parameters.hostsPerRegion(); h++) {
                hostDelay[r][h] = parameters.minZooKeeperDelayMillis()
                        + (long) (random.nextDouble()
                                * (parameters.maxZooKeeperDelayMillis() - parameters.minZooKeeperDelayMillis()));
                hostCrash[r][h] = random.nextDouble() < parameters.hostFailureFraction()
                        ? (long) (random.nextDouble() * parameters.durationMillis())
                        : Long.MAX_VALUE;
            }
            List<long[]> perOrigin = new ArrayList<>();
            for (int o = 0; o < regions; o++) {
                perOrigin.add(new long[16]);
            }
            seenAt.add(perOrigin);
            updates.add(new ArrayList<>());
            pending.add(new ArrayList<>());
        }
        network.setLatency((from, to) -> latency[regionOf(from)][regionOf(to)]);
        network.setLoss(parameters.loss());
    }

    private int regionOf(String nodeId) {
        // node ids are "region-NN/tT"
        return Integer.parseInt(nodeId.substring(7, nodeId.indexOf('/')));
    }

    public static Report run(Parameters parameters) {
        return new ScaleSimulation(parameters).simulate();
    }

    private Report simulate() {
        int regions = parameters.regions();
        for (int r = 0; r < regions; r++) {
            startLeader(r, null);
        }
        refreshPeers();
        for (int r = 0; r < regions; r++) {
            int region = r;
            network.every(
                    random.nextInt((int) parameters.gossipIntervalMillis()), parameters.gossipIntervalMillis(), () -> {
                        if (leaders[region] != null) {
                            leaders[region].round();
                        }
                    });
            network.every(
                    random.nextInt((int) parameters.updateIntervalMillis()),
                    parameters.updateIntervalMillis(),
                    () -> createUpdate(region));
        }
        // leader crashes, at seeded times in the middle of the run, in distinct regions
        List<Integer> order = new ArrayList<>();
        for (int r = 0; r < regions; r++) {
            order.add(r);
        }
        java.util.Collections.shuffle(order, random);
        for (int i = 0; i < Math.min(parameters.leaderFailures(), regions); i++) {
            int region = order.get(i);
            long at =
                    parameters.durationMillis() / 5 + (long) (random.nextDouble() * parameters.durationMillis() * 0.5);
            network.schedule(at, () -> crashLeader(region));
        }
        // updates of the last 10 s are not probed: they may still be spreading
        network.runUntil(parameters.durationMillis());
        return report();
    }

    private void startLeader(int region, GossipMessage.Snapshot zooKeeperState) {
        terms[region]++;
        String id = regionNames[region] + "/t" + terms[region];
        GossipNode[] holder = new GossipNode[1];
        GossipStats stats = new GossipStats();
        GossipTransport transport = network.endpoint(id, message -> holder[0].receive(message), stats);
        GossipNode node = new GossipNode(
                id,
                transport,
                network::now,
                new Random(random.nextLong()),
                stats,
                parameters.fanout(),
                parameters.logCapacity());
        holder[0] = node;
        node.addListener((key, value, dot) -> applied(region, key, value));
        if (zooKeeperState != null) {
            node.restore(zooKeeperState);
        }
        leaders[region] = node;
        // what the region made while it had no leader
        for (Update update : pending.get(region)) {
            publish(region, update);
        }
        pending.get(region).clear();
    }

    private void crashLeader(int region) {
        GossipNode old = leaders[region];
        if (old == null) {
            return;
        }
        network.setDown(old.id(), true);
        network.removeEndpoint(old.id());
        leaders[region] = null;
        // its host crashes with it
        hostCrash[region][0] = Math.min(hostCrash[region][0], network.now());
        long failover = parameters.sessionTimeoutMillis()
                + (long) (random.nextDouble() * parameters.tickMillis())
                + (long) (random.nextDouble() * parameters.electionMillis());
        failovers.add((double) failover);
        GossipMessage.Snapshot persisted = old.snapshot();
        network.schedule(network.now() + failover, () -> {
            startLeader(region, persisted);
            refreshPeers();
        });
        refreshPeers();
    }

    private void refreshPeers() {
        List<String> ids = new ArrayList<>();
        for (GossipNode leader : leaders) {
            if (leader != null) {
                ids.add(leader.id());
            }
        }
        for (GossipNode leader : leaders) {
            if (leader != null) {
                leader.setPeers(ids);
            }
        }
    }

    private void createUpdate(int region) {
        Update update = new Update(region, updates.get(region).size() + 1, network.now());
        updates.get(region).add(update);
        if (leaders[region] == null) {
            pending.get(region).add(update);
            return;
        }
        publish(region, update);
    }

    private void publish(int region, Update update) {
        StringBuilder value = new StringBuilder(regionNames[region])
                .append('#')
                .append(update.sequence())
                .append(' ');
        while (value.length() < parameters.summaryBytes()) {
            value.append('x');
        }
        long timestamp = ((long) terms[region] << 42) | network.now();
        leaders[region].write("summary/" + regionNames[region], value.toString(), timestamp);
    }

    /** On the simulation thread: region's leader now holds this value. */
    private void applied(int region, String key, Crdt value) {
        if (!(value instanceof LwwRegister register) || !key.startsWith("summary/")) {
            return;
        }
        String text = register.value();
        int origin = Integer.parseInt(text.substring(7, text.indexOf('#')));
        int sequence = Integer.parseInt(text.substring(text.indexOf('#') + 1, text.indexOf(' ')));
        long[] times = seenAt.get(region).get(origin);
        if (times.length <= sequence) {
            long[] grown = Arrays.copyOf(times, Math.max(sequence + 1, times.length * 2));
            seenAt.get(region).set(origin, grown);
            times = grown;
        }
        // LWW only moves forward: every sequence up to this one is now seen here
        for (int s = sequence; s >= 1 && times[s] == 0; s--) {
            times[s] = network.now();
        }
        // the leader writes it to its ZooKeeper
        zooKeeperBytes += parameters.zooKeeperRequestBytes() + summaryRecordBytes(key, register);
    }

    private static int summaryRecordBytes(String key, LwwRegister register) {
        return GossipCodec.encode(new GossipMessage.Push(
                        "", new GossipMessage.Payload(List.of(new GossipUpdate(new Dot("x", 1), key, register)), null)))
                .length;
    }

    private long seenBy(int region, int host, Update update) {
        long[] times = seenAt.get(region).get(update.origin());
        if (update.sequence() >= times.length || times[update.sequence()] == 0) {
            return Long.MAX_VALUE;
        }
        return times[update.sequence()] + hostDelay[region][host];
    }

    private Report report() {
        int regions = parameters.regions();
        int hosts = parameters.hostsPerRegion();
        long probeEnd = parameters.durationMillis() - 10_000;
        List<Double> to50 = new ArrayList<>();
        List<Double> to99 = new ArrayList<>();
        List<Double> to100 = new ArrayList<>();
        int within3s = 0;
        int probes = 0;
        double[] latencies = new double[regions * hosts];
        for (int o = 0; o < regions; o++) {
            for (Update update : updates.get(o)) {
                if (update.createdMillis() < 2_000 || update.createdMillis() > probeEnd) {
                    continue;
                }
                int count = 0;
                for (int r = 0; r < regions; r++) {
                    for (int h = 0; h < hosts; h++) {
                        if (hostCrash[r][h] <= update.createdMillis() + 10_000) {
                            continue;
                        }
                        long seen = seenBy(r, h, update);
                        latencies[count++] =
                                seen == Long.MAX_VALUE ? Double.POSITIVE_INFINITY : seen - update.createdMillis();
                    }
                }
                double[] sorted = Arrays.copyOf(latencies, count);
                Arrays.sort(sorted);
                probes++;
                to50.add(Distribution.at(sorted, 0.50));
                double p99 = Distribution.at(sorted, 0.99);
                to99.add(p99);
                to100.add(sorted[count - 1]);
                if (p99 <= 3_000) {
                    within3s++;
                }
            }
        }
        double seconds = parameters.durationMillis() / 1000.0;
        int totalHosts = regions * hosts;
        double gossipPerHost = network.bytesSent() / seconds / totalHosts;
        double pings = parameters.zooKeeperPingBytesPerSecond();
        // each host's reads: one summary record per read interval
        String key = "summary/" + regionNames[0];
        int record = summaryRecordBytes(
                key, new LwwRegister("x".repeat(parameters.summaryBytes()), 1L << 50, regionNames[0] + "/t1"));
        double reads = (parameters.zooKeeperRequestBytes() + record) * 1000.0 / parameters.hostReadIntervalMillis();
        double perHost = gossipPerHost + zooKeeperBytes / seconds / totalHosts + reads + pings;

        // staleness of reads: random time, random live host, random origin region
        List<Double> staleness = new ArrayList<>();
        int within5s = 0;
        for (int i = 0; i < parameters.staleReads(); i++) {
            long t = 5_000 + (long) (random.nextDouble() * (parameters.durationMillis() - 5_000));
            int r = random.nextInt(regions);
            int h = random.nextInt(hosts);
            if (hostCrash[r][h] <= t) {
                continue;
            }
            int o = random.nextInt(regions);
            double age = 0;
            for (Update update : updates.get(o)) {
                if (update.createdMillis() > t) {
                    break;
                }
                if (seenBy(r, h, update) > t) {
                    age = t - update.createdMillis();
                    break;
                }
            }
            staleness.add(age);
            if (age <= 5_000) {
                within5s++;
            }
        }
        return new Report(
                parameters,
                probes,
                Distribution.of(toArray(to50)),
                Distribution.of(toArray(to99)),
                Distribution.of(toArray(to100)),
                probes == 0 ? 0 : (double) within3s / probes,
                perHost,
                gossipPerHost,
                network.bytesSent() / seconds / regions,
                Distribution.of(toArray(failovers)),
                Distribution.of(toArray(staleness)),
                staleness.isEmpty() ? 0 : (double) within5s / staleness.size(),
                network.messagesSent(),
                network.messagesDropped());
    }

    private static double[] toArray(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).toArray();
    }

    public static void main(String[] args) {
        int regions = 50;
        int hostsPerRegion = 200;
        long seconds = 120;
        long seed = 1;
        Integer leaderCrashes = null;
        Double loss = null;
        for (int i = 0; i < args.length; i += 2) {
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option without a value: " + args[i]);
            }
            switch (args[i]) {
                case "--regions" -> regions = Integer.parseInt(args[i + 1]);
                case "--hosts-per-region" -> hostsPerRegion = Integer.parseInt(args[i + 1]);
                case "--seconds" -> seconds = Long.parseLong(args[i + 1]);
                case "--seed" -> seed = Long.parseLong(args[i + 1]);
                case "--leader-crashes" -> leaderCrashes = Integer.parseInt(args[i + 1]);
                case "--loss" -> loss = Double.parseDouble(args[i + 1]);
                default ->
                    throw new IllegalArgumentException("unknown option " + args[i]
                            + " (--regions, --hosts-per-region, --seconds, --seed, --leader-crashes, --loss)");
            }
        }
        long started = System.nanoTime();
        Parameters parameters = Parameters.of(regions, hostsPerRegion, seed, seconds * 1000);
        if (leaderCrashes != null || loss != null) {
            Parameters p = parameters;
            parameters = new Parameters(
                    p.regions(),
                    p.hostsPerRegion(),
                    p.seed(),
                    p.durationMillis(),
                    p.gossipIntervalMillis(),
                    p.fanout(),
                    p.logCapacity(),
                    loss != null ? loss : p.loss(),
                    p.minLatencyMillis(),
                    p.maxLatencyMillis(),
                    p.updateIntervalMillis(),
                    p.summaryBytes(),
                    p.hostFailureFraction(),
                    leaderCrashes != null ? leaderCrashes : p.leaderFailures(),
                    p.sessionTimeoutMillis(),
                    p.tickMillis(),
                    p.electionMillis(),
                    p.minZooKeeperDelayMillis(),
                    p.maxZooKeeperDelayMillis(),
                    p.zooKeeperRequestBytes(),
                    p.zooKeeperPingBytesPerSecond(),
                    p.hostReadIntervalMillis(),
                    p.staleReads());
        }
        Report report = run(parameters);
        System.out.print(report.table());
        System.out.printf(Locale.ROOT, "(computed in %.1f s)%n", (System.nanoTime() - started) / 1e9);
    }
}
