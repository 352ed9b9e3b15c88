package io.dwcp.testbed.region;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dwcp.region.CuratorClients;
import io.dwcp.region.Records.HostRecord;
import io.dwcp.region.Records.RemoteRecord;
import io.dwcp.region.RegionMetadata;
import io.dwcp.region.RegionPaths;
import io.dwcp.region.RegionStats;
import io.dwcp.testbed.dwcp.Dwcpd;
import io.dwcp.testbed.net.Host;
import io.dwcp.testbed.net.TwoHostNetwork;
import io.dwcp.testbed.sys.Closer;
import io.dwcp.testbed.sys.Command;
import io.dwcp.testbed.sys.Folders;
import io.dwcp.testbed.sys.TrackedProcess;
import io.dwcp.testbed.wan.LinkProfile;
import io.dwcp.testbed.zookeeper.ZooKeeperEnsemble;
import io.dwcp.testbed.zookeeper.ZooKeeperEnsemble.Member;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Gossip between two regions for real, across a WAN link that is cut and healed: region {@code eu}
 * on test bed host A and region {@code us} on host B, each with its own three-server ZooKeeper
 * ensemble (three {@code QuorumPeerMain} JVMs in its host's namespace, client ports 2181-2183,
 * {@code tickTime=500}; every dwcpd of the region lists all three, and a cut leaves both regions
 * their quorum) and several dwcpd (real daemons, each its own JVM, tunnel, gossip and metrics ports,
 * run-dir and state-dir), over an emulated link of 20 ms each way at 100 Mbit/s. Every dwcpd lists the other
 * region's hosts as gossip peers (mutual TLS, one site CA); the region leaders gossip. What the
 * daemons know is read from their control sockets ({@code GET /v1/regions}, the destinations
 * answer that reads the other region from the region's ZooKeeper) and once through
 * {@code dwcp status --json}, run in a host's namespace.
 *
 * <ol>
 * <li>one leader per region (term 1), named by every daemon of the region; each region's summary
 * (leader, term) and hosts reach the other region: the propagation time of a new host is printed
 * and held to a bound from the gossip configuration; the other region's age stays under
 * {@code region.staleness-bound} while gossip flows;</li>
 * <li>a server of one region's ensemble killed (SIGKILL to its pid; a follower of the ensemble
 * that the region's leader is not connected to): the two left keep the quorum, the leader keeps
 * its term (it never stops acting), every host's session outlives the kill, and the other region
 * keeps receiving fresh summaries; the server stays down through the cut;</li>
 * <li>the link cut: both regions keep one leader and read their own ZooKeeper within the bound;
 * one region (chosen by the seed) gains a host, the other loses its leader (SIGKILL to its pid) and
 * elects another in a higher term; each side still shows the other's last summary, with an age that
 * grows past the bound (stale, and saying so), not the changes made over there;</li>
 * <li>the link healed: gossip converges, every daemon of each region sees the other region's new
 * state (the joined host, the new leader and term, the dead leader gone from the OR-set), also as
 * the leaders stored it in their ZooKeeper; the time is printed and held to a bound from the gossip
 * and transport configuration; the killed server started again catches up, and every server of
 * both ensembles, read alone after a sync, holds its region's last term and leader, its hosts
 * (those registered before and during the cut) and the other region's converged summary and
 * hosts: nothing written on either side before or during the cut is lost;</li>
 * <li>the leader of the region that gained a host killed (SIGKILL): another of its dwcpd leads a
 * higher term, and the other region learns the new leader and that the old one is gone.</li>
 * </ol>
 * No term is taken by two hosts (daemon logs). The schedule (which daemon of a region starts
 * first, which region gains a host during the cut, how long the cut lasts at least, which region
 * loses a ZooKeeper server and which one when two qualify) comes from a
 * printed seed: replay with {@code -Ddwcp.test.seed=N} (the server killed is the same by role, its id
 * also depends on the ZooKeeper clients' own random choice of server). About a minute (54-74 s on
 * two cores).
 */
class GossipRegionsIT {
    private static final long SEED = Long.getLong("dwcp.test.seed", new Random().nextLong());
    /** The daemons' region.session-timeout (the default) and the ZooKeeper servers' tickTime. */
    private static final Duration SESSION = Duration.ofSeconds(3);

    private static final Duration TICK = Duration.ofMillis(500);
    /** What a failover may take beyond session + tick: the latch's watch, the term CAS. */
    private static final Duration MARGIN = Duration.ofSeconds(3);
    /** region.staleness-bound (the default, set explicitly). */
    private static final Duration BOUND = Duration.ofSeconds(5);
    /** gossip.interval and gossip.fanout (the defaults, set explicitly). */
    private static final Duration GOSSIP_INTERVAL = Duration.ofMillis(200);

    private static final int FANOUT = 2;
    /** The control plane's publishing tick (ControlPlane: leader, term, hosts, summary; remote views on followers). */
    private static final Duration PUBLISH_TICK = Duration.ofSeconds(1);
    /**
     * A change the origin's leader shows reaches the other region's daemons within: one publishing
     * tick (the origin writes it into its gossip node on its next tick, the remote followers
     * refresh their view on theirs: two), plus a few gossip rounds (a digest, its reply and the push
     * each cross the link once per round), plus the link's round trip per round.
     */
    private static final Duration PROPAGATION_BOUND =
            PUBLISH_TICK.multipliedBy(2).plus(GOSSIP_INTERVAL.multipliedBy(5));

    /**
     * TlsGossipTransport's TCP_USER_TIMEOUT and connect timeout: a connection or a dial that spans
     * the heal is given up and dialled again within this.
     */
    private static final Duration TRANSPORT_RECOVERY = Duration.ofSeconds(2);
    /**
     * After the heal every daemon shows both sides' changes within: the transport's recovery, a few
     * rounds, then on hosts the other region does not gossip with (they read what their leader
     * stored in ZooKeeper) a read within half the bound, and two publishing ticks.
     */
    private static final Duration CONVERGENCE_BOUND = TRANSPORT_RECOVERY
            .plus(GOSSIP_INTERVAL.multipliedBy(5))
            .plus(BOUND.dividedBy(2))
            .plus(PUBLISH_TICK.multipliedBy(2));

    /** The link between the regions: 20 ms each way at 100 Mbit/s (gossip needs little; the emulator's buffers stay small). */
    private static final LinkProfile WAN =
            LinkProfile.delay(Duration.ofMillis(20)).withRate(100_000_000L);

    /** Each region's ZooKeeper ensemble: this many servers in its host's namespace. */
    private static final int SERVERS = 3;

    private static final Duration WAIT = Duration.ofSeconds(45);
    private static final Path DIR = TrackedProcess.STATE_DIR.resolve(
            "gossip-regions-" + ProcessHandle.current().pid());
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> REGIONS = List.of("eu", "us");

    /** Another region as one daemon shows it: the summary's leader and term, the OR-set of hosts, the age. */
    private record Remote(String leader, long term, List<String> hosts, long ageMillis) {}

    /** One look at a daemon's /v1/regions. */
    private record View(
            String host,
            String region,
            boolean leads,
            long term,
            String leader,
            long leaderAgeMillis,
            List<String> hosts,
            long hostsAgeMillis,
            Map<String, Remote> remotes) {
        Optional<Remote> remote(String region) {
            return Optional.ofNullable(remotes.get(region));
        }
    }

    private final long began = System.nanoTime();
    private final Closer opened = new Closer();
    /** Running daemons by name (eu-1, eu-2, ... us-1, ...). */
    private final Map<String, Dwcpd> daemons = new ConcurrentHashMap<>();
    /** The logs of daemons that were killed or stopped. */
    private final StringBuilder earlierLogs = new StringBuilder();

    private TwoHostNetwork network;
    private boolean cut;
    private final Map<String, ZooKeeperEnsemble> zooKeepers = new LinkedHashMap<>();
    private Path ca;

    @BeforeEach
    void setUp() {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root: network namespaces");
        TwoHostNetwork.cleanupLeftovers();
        TrackedProcess.cleanupLeftovers();
        Folders.deleteTree(DIR);
        opened.push(() -> Folders.deleteTree(DIR));
    }

    /** Everything this test started, in reverse: daemons (by pid), ZooKeeper servers (by pid), the link, namespaces, files. */
    @AfterEach
    void tearDown() throws Exception {
        for (Dwcpd daemon : daemons.values()) {
            opened.push(daemon);
        }
        daemons.clear();
        opened.close();
    }

    @Test
    void regionsGossipAcrossACutLinkAndConvergeAfterTheHeal() throws Exception {
        Random random = new Random(SEED);
        Map<String, Integer> firstIndex = new TreeMap<>();
        for (String region : REGIONS) {
            firstIndex.put(region, 1 + random.nextInt(2));
        }
        String joining = REGIONS.get(random.nextInt(2));
        String crashing = other(joining);
        long minCutMillis = BOUND.toMillis() + 2000 + random.nextInt(4001);
        // drawn after the rest, so that a seed's earlier choices stay what they were
        String zkRegion = REGIONS.get(random.nextInt(2));
        int zkPick = random.nextInt(2);
        say("SCHEDULE seed " + SEED + " (replay: -Ddwcp.test.seed=" + SEED + "): first daemons "
                + firstIndex.entrySet().stream()
                        .map(entry -> entry.getKey() + "-" + entry.getValue())
                        .collect(Collectors.joining(", "))
                + "; during the cut " + joining + " gains a host and " + crashing
                + "'s leader is killed; the cut lasts at least " + minCutMillis + " ms; before the cut a server of "
                + zkRegion + "'s ensemble is killed (candidate " + zkPick + "), started again after the heal");
        try {
            run(firstIndex, joining, crashing, minCutMillis, zkRegion, zkPick);
        } catch (Throwable t) {
            say("FAILED with seed " + SEED + "; views and logs follow");
            for (String name : new TreeSet<>(daemons.keySet())) {
                say("---- view of " + name + ": " + view(name).orElse(null));
            }
            daemons.values().forEach(daemon -> say("---- " + daemon + "\n" + tail(daemon.log())));
            zooKeepers.forEach((region, zooKeeper) -> say("---- ZooKeeper of " + region + ": " + zooKeeper.states()));
            throw t;
        }
    }

    private void run(
            Map<String, Integer> firstIndex,
            String joining,
            String crashing,
            long minCutMillis,
            String zkRegion,
            int zkPick)
            throws Exception {
        network = TwoHostNetwork.create("gossipreg", WAN, WAN);
        opened.push(network);
        opened.push(() -> {
            if (cut) {
                network.setCut(false);
            }
        });
        long ensemblesAt = System.nanoTime();
        for (String region : REGIONS) {
            // three servers in the region's host namespace (client ports 2181-2183): a cut leaves each region its
            // quorum
            ZooKeeperEnsemble zooKeeper = ZooKeeperEnsemble.start(
                    ZooKeeperEnsemble.onOneHost(hostOf(region), SERVERS), DIR.resolve("zookeeper-" + region));
            opened.push(zooKeeper);
            zooKeepers.put(region, zooKeeper);
        }
        ca = Dwcpd.createCa(DIR.resolve("ca"));
        for (ZooKeeperEnsemble zooKeeper : zooKeepers.values()) {
            zooKeeper.awaitQuorum(Duration.ofSeconds(60));
        }
        say("ENSEMBLES served " + millisSince(ensemblesAt) + " ms after their start: "
                + zooKeepers.entrySet().stream()
                        .map(entry -> entry.getKey() + " (" + entry.getValue().connectString() + ") "
                                + entry.getValue().states())
                        .collect(Collectors.joining("; ")));

        // 1. one leader per region, term 1, and each region's summary reaches the other
        for (String region : REGIONS) {
            start(region + "-" + firstIndex.get(region));
        }
        for (String region : REGIONS) {
            String first = region + "-" + firstIndex.get(region);
            await(first + " leads " + region + " in term 1", () -> view(first).filter(v -> v.leads() && v.term() == 1));
        }
        for (String region : REGIONS) {
            String first = region + "-" + firstIndex.get(region);
            String otherRegion = other(region);
            await(
                    "region " + otherRegion + " sees " + region + "'s leader " + first,
                    () -> all(
                            otherRegion,
                            v -> v.remote(region)
                                    .filter(r -> r.leader().equals(first) && r.term() == 1)
                                    .isPresent()));
        }
        for (String region : REGIONS) {
            String second = region + "-" + (3 - firstIndex.get(region));
            String leader = region + "-" + firstIndex.get(region);
            start(second);
            // from the moment the daemon says it started (its JVM's start-up is not gossip)
            long startedAt = System.nanoTime();
            List<String> both = List.of(region + "-1", region + "-2");
            await(
                    "the leader of " + region + " shows both its hosts",
                    () -> view(leader).filter(v -> v.hosts().equals(both)));
            long localMillis = millisSince(startedAt);
            long remoteMillis = propagation(region, both, startedAt);
            say("PROPAGATION " + second + " joined " + region + ": its leader showed it "
                    + localMillis + " ms after the daemon had started (hosts are read again every "
                    + BOUND.dividedBy(2).toMillis() + " ms), every daemon of " + other(region) + " "
                    + remoteMillis + " ms after (gossip " + (remoteMillis - localMillis) + " ms; bound "
                    + PROPAGATION_BOUND.toMillis() + " ms)");
            assertTrue(
                    remoteMillis - localMillis <= PROPAGATION_BOUND.toMillis(),
                    "gossip took " + (remoteMillis - localMillis) + " ms");
        }
        Map<String, View> leaders = new TreeMap<>();
        for (String region : REGIONS) {
            View leader = awaitOneLeader(region);
            assertEquals(1, leader.term(), region + "'s term");
            assertEquals(region + "-" + firstIndex.get(region), leader.host(), region + "'s leader");
            leaders.put(region, leader);
        }
        say("LEADERS "
                + leaders.values().stream()
                        .map(v -> v.region() + ": " + v.host() + " term " + v.term())
                        .collect(Collectors.joining(", ")));
        // while gossip flows, the other region's age stays under the bound (its leader re-stamps its summary)
        long freshest = awaitFresh("before the cut");
        say("FRESH before the cut: every daemon shows the other region younger than " + BOUND.toMillis()
                + " ms (oldest " + freshest + " ms)");
        // what the leaders stored in their ZooKeeper for their hosts, read by a follower
        for (String region : REGIONS) {
            String follower = region + "-" + (3 - firstIndex.get(region));
            String body = await(
                    follower + " reads " + other(region) + " from its ZooKeeper",
                    () -> storedRemote(
                            follower,
                            other(region),
                            leaders.get(other(region)).host(),
                            List.of(other(region) + "-1", other(region) + "-2")));
            say("STORED " + follower + " reads " + other(region) + " from " + region + "'s ZooKeeper: " + body);
        }
        JsonNode status = statusJson(region1Follower(firstIndex));
        say("DWCP STATUS --json on " + region1Follower(firstIndex) + ": " + status);
        JsonNode region = status.path("region");
        assertEquals("eu", region.path("region").asText(), status.toString());
        assertEquals(leaders.get("eu").host(), region.path("leader").asText(), status.toString());
        JsonNode us = null;
        for (JsonNode remote : region.path("regions")) {
            if (remote.path("region").asText().equals("us")) {
                us = remote;
            }
        }
        assertTrue(us != null, "dwcp status --json shows region us: " + status);
        assertEquals(List.of("us-1", "us-2"), strings(us.path("hosts")), "us's hosts in dwcp status --json: " + status);
        assertEquals(
                leaders.get("us").host(),
                JSON.readTree(us.path("summary").asText()).path("leader").asText());
        assertTrue(us.path("ageMillis").asLong() < BOUND.toMillis(), "us's age in dwcp status --json: " + status);

        // 1b. a server of zkRegion's ensemble killed (SIGKILL to its pid): a follower that the region's leader is not
        // connected to (one a follower daemon is connected to, where there is one). Two of three keep the quorum: the
        // leader, its term, every host's session and gossip go on.
        ZooKeeperEnsemble ensemble = zooKeepers.get(zkRegion);
        View zkLeader = leaders.get(zkRegion);
        Map<String, Connection> before = new TreeMap<>();
        for (String name : running(zkRegion)) {
            before.put(name, connection(name));
        }
        Member leaderServer = before.get(zkLeader.host()).server();
        Member ensembleLeader = await("the ensemble of " + zkRegion + " has a leader", ensemble::leader);
        List<Member> candidates = ensemble.members().stream()
                .filter(member -> !member.equals(leaderServer) && !member.equals(ensembleLeader))
                .toList();
        List<Member> withClients = candidates.stream()
                .filter(member ->
                        before.values().stream().anyMatch(c -> c.server().equals(member)))
                .toList();
        Member victim = withClients.isEmpty()
                ? candidates.get(zkPick % candidates.size())
                : withClients.get(zkPick % withClients.size());
        List<String> moved = before.entrySet().stream()
                .filter(entry -> entry.getValue().server().equals(victim))
                .map(Map.Entry::getKey)
                .toList();
        long victimPid = ensemble.pid(victim).orElseThrow();
        String statesBefore = ensemble.states();
        String stopped = "acting as leader stops";
        int stopsBefore = count(daemons.get(zkLeader.host()).log(), stopped);
        List<String> zkHosts = List.of(zkRegion + "-1", zkRegion + "-2");
        long zkKilledAt = System.nanoTime();
        ensemble.kill(victim);
        ensemble.awaitQuorum(WAIT);
        long quorumMillis = millisSince(zkKilledAt);
        // every daemon that was connected to it connects to another server with the same session (no expiry: its
        // ephemeral records stay), and the region's daemons name the same leader, term and hosts
        Map<String, Long> reconnected = awaitEach(
                "is connected to a running server of " + zkRegion + " in the session it had",
                running(zkRegion),
                zkKilledAt,
                v -> {
                    Connection now = connection(v.host());
                    return !now.server().equals(victim)
                            && now.session().equals(before.get(v.host()).session())
                            && v.leader().equals(zkLeader.host())
                            && v.term() == zkLeader.term()
                            && v.hosts().equals(zkHosts);
                });
        // gossip goes on: the other region shows a summary of zkRegion written after the kill
        Map<String, Long> restamped = awaitEach(
                "shows a summary of " + zkRegion + " written after the server's kill",
                running(other(zkRegion)),
                zkKilledAt,
                v -> v.remote(zkRegion)
                        .filter(remote -> remote.leader().equals(zkLeader.host())
                                && remote.term() == zkLeader.term()
                                && remote.hosts().equals(zkHosts)
                                && remote.ageMillis() < millisSince(zkKilledAt))
                        .isPresent());
        View kept = awaitOneLeader(zkRegion);
        assertEquals(zkLeader.host(), kept.host(), zkRegion + "'s leader after a server of its ensemble was killed");
        assertEquals(zkLeader.term(), kept.term(), zkRegion + "'s term after a server of its ensemble was killed");
        assertEquals(
                stopsBefore,
                count(daemons.get(zkLeader.host()).log(), stopped),
                zkLeader.host() + " stopped acting as leader when a server it was not connected to was killed");
        assertEquals(
                Map.of(1L, Set.of(zkLeader.host())),
                termsTaken(zkRegion),
                "terms taken in " + zkRegion + " (logs) after a server of its ensemble was killed");
        say("ZK-KILL server " + victim.id() + " of " + zkRegion + "'s ensemble (" + victim.clientAddress()
                + ", pid " + victimPid + ") killed; before " + statesBefore + ", " + zkLeader.host()
                + " connected to server " + leaderServer.id() + ", " + moved + " to the one killed; after "
                + ensemble.states() + " (quorum checked " + quorumMillis + " ms after the kill); " + zkLeader.host()
                + " still leads term " + kept.term() + " and never stopped; " + moved
                + " connected to another server in the same session, every daemon of " + zkRegion
                + " naming both hosts within " + Collections.max(reconnected.values()) + " ms " + reconnected + "; "
                + other(zkRegion) + " got a summary written after the kill within "
                + Collections.max(restamped.values()) + " ms " + restamped);

        // 2. the link cut: both regions work on their own side; each shows the other as it was, with its age
        Map<String, Remote> beforeCut = new TreeMap<>();
        for (String r : REGIONS) {
            View leader = leaders.get(r);
            beforeCut.put(r, new Remote(leader.host(), leader.term(), leader.hosts(), 0));
        }
        long cutAt = System.nanoTime();
        network.setCut(true);
        cut = true;
        say("CUT the link between A (eu) and B (us)");
        String joined = joining + "-3";
        start(joined);
        List<String> joinedHosts = List.of(joining + "-1", joining + "-2", joined);
        await(
                "the leader of " + joining + " shows " + joined + " during the cut",
                () -> view(leaders.get(joining).host()).filter(v -> v.hosts().equals(joinedHosts)));
        say("JOINED " + joined + " in " + joining + " " + millisSince(cutAt) + " ms into the cut");
        String deposed = leaders.get(crashing).host();
        String successor = crashing + "-" + (deposed.endsWith("1") ? 2 : 1);
        long killedAt = System.nanoTime();
        kill(deposed);
        View successorView = await(
                successor + " leads " + crashing + " in a term after 1",
                () -> view(successor).filter(v -> v.leads() && v.term() > 1));
        long failoverMillis = millisSince(killedAt);
        // the dead leader's host record goes with its session; the successor reads the hosts within half the bound
        await(
                successor + " shows itself alone in " + crashing,
                () -> view(successor).filter(v -> v.hosts().equals(List.of(successor))));
        say("FAILOVER during the cut: " + deposed + " killed (pid), " + successor + " leads "
                + crashing + " in term " + successorView.term() + " after " + failoverMillis + " ms (session "
                + SESSION.toMillis() + " ms, tick " + TICK.toMillis() + " ms)");
        assertTrue(
                failoverMillis <= SESSION.plus(TICK).plus(MARGIN).toMillis(),
                "failover took " + failoverMillis + " ms");
        View joiningLeader = awaitOneLeader(joining);
        assertEquals(leaders.get(joining).host(), joiningLeader.host(), joining + " kept its leader");
        View crashingLeader = awaitOneLeader(crashing);
        assertEquals(successor, crashingLeader.host());
        // the other region, as each side shows it: what it was before the cut, older than the bound
        long staleAt = System.nanoTime();
        for (String r : REGIONS) {
            Remote was = beforeCut.get(other(r));
            await(
                    "every daemon of " + r + " shows " + other(r) + " as before the cut, older than the bound",
                    () -> all(
                            r,
                            v -> v.remote(other(r))
                                    .filter(remote -> remote.leader().equals(was.leader())
                                            && remote.term() == was.term()
                                            && remote.hosts().equals(was.hosts())
                                            && remote.ageMillis() > BOUND.toMillis())
                                    .isPresent()));
        }
        long sinceCut = millisSince(cutAt);
        for (String name : running()) {
            View v = view(name).orElseThrow();
            Remote remote = v.remote(other(v.region())).orElseThrow();
            assertTrue(
                    // nothing crosses the cut link: what each side shows was written before the cut
                    remote.ageMillis() >= sinceCut - 500,
                    name + " shows " + other(v.region()) + " " + remote.ageMillis() + " ms old, " + sinceCut
                            + " ms into the cut");
            // its own region: read from its ZooKeeper within the bound
            assertTrue(
                    v.hostsAgeMillis() >= 0 && v.hostsAgeMillis() <= BOUND.toMillis(),
                    name + "'s hosts read " + v.hostsAgeMillis() + " ms ago during the cut");
            Dwcpd.ControlAnswer local =
                    daemons.get(name).control("GET", "/v1/regions/" + v.region() + "/destinations?vm=vm-" + name, null);
            assertEquals(200, local.status(), name + " chooses in its own region during the cut: " + local.body());
        }
        say("STALE during the cut: every daemon shows the other region as before the cut, older than "
                + BOUND.toMillis() + " ms (" + millisSince(staleAt) + " ms after both sides' changes), and reads "
                + "its own region within the bound");
        long holdMillis = minCutMillis - millisSince(cutAt);
        if (holdMillis > 0) {
            // the seeded cut length: the cut itself is what is waited for here
            Thread.sleep(holdMillis);
        }

        // 3. healed: both sides' changes reach the other side, nothing lost
        long cutMillis = millisSince(cutAt);
        long healedAt = System.nanoTime();
        network.setCut(false);
        cut = false;
        Map<String, Remote> expected = new TreeMap<>();
        expected.put(
                joining,
                new Remote(leaders.get(joining).host(), leaders.get(joining).term(), joinedHosts, 0));
        expected.put(crashing, new Remote(successor, successorView.term(), List.of(successor), 0));
        Map<String, Long> convergedAt = awaitEach(
                "converged after the heal",
                running(),
                healedAt,
                v -> v.remote(other(v.region()))
                        .filter(remote -> {
                            Remote wanted = expected.get(other(v.region()));
                            return remote.leader().equals(wanted.leader())
                                    && remote.term() == wanted.term()
                                    && remote.hosts().equals(wanted.hosts())
                                    && remote.ageMillis() < BOUND.toMillis();
                        })
                        .isPresent());
        long convergedMillis = Collections.max(convergedAt.values());
        say("CONVERGED " + convergedMillis + " ms after the heal, per daemon " + convergedAt + " (cut "
                + cutMillis + " ms; gossip every " + GOSSIP_INTERVAL.toMillis() + " ms to " + FANOUT + " peers; bound "
                + CONVERGENCE_BOUND.toMillis() + " ms)");
        assertTrue(
                convergedMillis <= CONVERGENCE_BOUND.toMillis(),
                "converged " + convergedMillis + " ms after the heal: " + convergedAt);
        for (String r : REGIONS) {
            // a follower where there is one (the region that lost its leader has one daemon left)
            String reader = running(r).stream()
                    .filter(name -> !view(name).map(View::leads).orElse(true))
                    .findFirst()
                    .orElse(running(r).get(0));
            Remote wanted = expected.get(other(r));
            String body = await(
                    reader + " reads the converged " + other(r) + " from its ZooKeeper",
                    () -> storedRemote(reader, other(r), wanted.leader(), wanted.hosts()));
            say("STORED after the heal: " + reader + " reads " + other(r) + ": " + body);
        }
        freshest = awaitFresh("after the heal");
        say("FRESH after the heal (oldest " + freshest + " ms)");

        // the killed server started again: it catches up; then nothing written on either side before or during the
        // cut is lost, on any server of either ensemble (read from each server alone, after a sync)
        long restartedAt = System.nanoTime();
        ensemble.start(victim);
        ensemble.awaitQuorum(WAIT);
        say("ZK-RESTART server " + victim.id() + " of " + zkRegion + " serves again " + millisSince(restartedAt)
                + " ms after its start: " + ensemble.states());
        for (String r : REGIONS) {
            View leader = awaitOneLeader(r);
            Remote wanted = expected.get(other(r));
            long lastTerm = Collections.max(termsTaken(r).keySet());
            assertEquals(lastTerm, leader.term(), r + "'s leader's term is the last one logged");
            List<String> hosts = running(r);
            for (Member server : zooKeepers.get(r).members()) {
                Stored found = await(
                        "server " + server.id() + " of " + r + " holds term " + leader.term() + " of " + leader.host()
                                + ", hosts " + hosts + ", and " + other(r) + " as " + wanted,
                        () -> stored(r, server)
                                .filter(stored -> stored.term() == leader.term()
                                        && stored.termLeader().equals(leader.host())
                                        && stored.hosts().equals(hosts)
                                        && stored.remote() != null
                                        && stored.remote().leader().equals(wanted.leader())
                                        && stored.remote().term() == wanted.term()
                                        && stored.remote().hosts().equals(wanted.hosts())));
                say("METADATA after the heal on server " + server.id() + " of " + r
                        + (r.equals(zkRegion) && server.equals(victim) ? " (the one killed and started again)" : "")
                        + ": " + found);
            }
        }

        // 4. the leader of the region that grew killed: another of its dwcpd leads a higher term, gossip goes on from
        // it
        View grown = awaitOneLeader(joining);
        String killed = grown.host();
        long killedLeaderAt = System.nanoTime();
        kill(killed);
        View taken = await(
                "another dwcpd of " + joining + " leads a term after " + grown.term(),
                () -> running(joining).stream()
                        .map(this::view)
                        .flatMap(Optional::stream)
                        .filter(v -> v.leads() && v.term() > grown.term())
                        .findFirst());
        long takenMillis = millisSince(killedLeaderAt);
        List<String> left = new ArrayList<>(joinedHosts);
        left.remove(killed);
        await(
                "every daemon of " + crashing + " sees " + taken.host() + " lead " + joining + " in term "
                        + taken.term() + " without " + killed,
                () -> all(
                        crashing,
                        v -> v.remote(joining)
                                .filter(remote -> remote.leader().equals(taken.host())
                                        && remote.term() == taken.term()
                                        && remote.hosts().equals(left))
                                .isPresent()));
        long learnedMillis = millisSince(killedLeaderAt);
        say("FAILOVER after the heal: " + killed + " killed (pid), " + taken.host() + " leads " + joining
                + " in term " + taken.term() + " after " + takenMillis + " ms; " + crashing + " learned it after "
                + learnedMillis + " ms (gossip " + (learnedMillis - takenMillis) + " ms)");
        assertTrue(takenMillis <= SESSION.plus(TICK).plus(MARGIN).toMillis(), "failover took " + takenMillis + " ms");
        assertTrue(
                learnedMillis - takenMillis <= PROPAGATION_BOUND.plus(BOUND).toMillis(),
                "the new leader reached " + crashing + " " + (learnedMillis - takenMillis) + " ms after it led");
        awaitOneLeader(joining);

        // never a term taken by two hosts of a region
        for (String r : REGIONS) {
            Map<Long, Set<String>> logged = termsTaken(r);
            say("TERMS " + r + " (logs): " + logged);
            logged.forEach((term, hosts) -> assertEquals(1, hosts.size(), r + ": term " + term + " taken by " + hosts));
        }
    }

    private static final Pattern SESSION_ESTABLISHED = Pattern.compile(
            "Session establishment complete on server (?:[^/\\s]*/)?([0-9.]+):(\\d+), session id = (0x[0-9a-f]+)");

    /** A daemon's ZooKeeper connection: the server and the session. */
    private record Connection(Member server, String session) {}

    /** The server of its region's ensemble that the daemon's ZooKeeper client last connected to, and the session (its log says). */
    private Connection connection(String name) {
        Matcher matcher = SESSION_ESTABLISHED.matcher(daemons.get(name).log());
        Connection last = null;
        while (matcher.find()) {
            Member server = zooKeepers
                    .get(regionOf(name))
                    .member(matcher.group(1), Integer.parseInt(matcher.group(2)))
                    .orElseThrow(() ->
                            new AssertionError(name + " connected to no server of its ensemble: " + matcher.group()));
            last = new Connection(server, matcher.group(3));
        }
        if (last == null) {
            throw new AssertionError(name + "'s log names no ZooKeeper server it connected to");
        }
        return last;
    }

    private static int count(String text, String what) {
        int found = 0;
        for (int at = text.indexOf(what); at >= 0; at = text.indexOf(what, at + what.length())) {
            found++;
        }
        return found;
    }

    /** What one ZooKeeper server holds of a region: the term znode, the hosts' records, what gossip brought of the other. */
    private record Stored(long term, String termLeader, List<String> hosts, Remote remote) {}

    /**
     * Reads {@code region}'s metadata from {@code server} alone (a client of this JVM in the region's
     * host namespace, after a sync with the ensemble's leader); empty while it does not answer.
     */
    private Optional<Stored> stored(String region, Member server) {
        try {
            return Optional.of(hostOf(region).call(() -> {
                CuratorFramework client = CuratorClients.create(server.clientAddress(), SESSION, Duration.ofSeconds(2));
                try {
                    client.start();
                    if (!client.blockUntilConnected(5, TimeUnit.SECONDS)) {
                        throw new IllegalStateException("server " + server.id() + " does not answer");
                    }
                    RegionPaths paths = new RegionPaths("/dwcp", region);
                    RegionMetadata metadata = new RegionMetadata(
                            client, paths, Duration.ofSeconds(2), new RegionStats(), System::currentTimeMillis);
                    List<String> hosts = metadata.hosts(Duration.ZERO).value().stream() // a sync, then the read
                            .map(HostRecord::name)
                            .sorted()
                            .toList();
                    String[] term =
                            new String(client.getData().forPath(paths.term()), StandardCharsets.UTF_8).split(" ", 2);
                    Remote remote = null;
                    for (RemoteRecord record :
                            metadata.remoteRegions(Duration.ZERO).value()) {
                        if (record.region().equals(other(region))) {
                            JsonNode summary = JSON.readTree(record.summary());
                            List<String> remoteHosts = new ArrayList<>(record.hosts());
                            Collections.sort(remoteHosts);
                            remote = new Remote(
                                    summary.path("leader").asText(),
                                    summary.path("term").asLong(),
                                    remoteHosts,
                                    0);
                        }
                    }
                    return new Stored(Long.parseLong(term[0]), term[1], hosts, remote);
                } finally {
                    client.close();
                }
            }));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Every daemon of the other region shows {@code region}'s hosts as {@code hosts}; ms since {@code startedAt}. */
    private long propagation(String region, List<String> hosts, long startedAt) throws Exception {
        Map<String, Long> seen = awaitEach(
                "sees " + region + "'s hosts " + hosts,
                running(other(region)),
                startedAt,
                v -> v.remote(region).filter(r -> r.hosts().equals(hosts)).isPresent());
        return Collections.max(seen.values());
    }

    /**
     * Polls the daemons {@code names} until each has passed {@code check} once; the ms from
     * {@code sinceNanos} to when each first did (fails after {@link #WAIT} naming the others).
     */
    private Map<String, Long> awaitEach(
            String what, List<String> names, long sinceNanos, java.util.function.Predicate<View> check)
            throws Exception {
        Map<String, Long> passed = new TreeMap<>();
        await(names + " each " + what, () -> {
            for (String name : names) {
                if (!passed.containsKey(name) && view(name).filter(check).isPresent()) {
                    passed.put(name, millisSince(sinceNanos));
                }
            }
            return passed.size() == names.size() ? Optional.of(true) : Optional.empty();
        });
        return passed;
    }

    /** Waits until every running daemon shows the other region younger than the bound; the oldest age seen then. */
    private long awaitFresh(String when) throws Exception {
        return await("every daemon shows the other region younger than the bound " + when, () -> {
            long oldest = 0;
            for (String name : running()) {
                Optional<View> v = view(name);
                Optional<Remote> remote = v.flatMap(view -> view.remote(other(view.region())));
                if (remote.isEmpty() || remote.get().ageMillis() >= BOUND.toMillis()) {
                    return Optional.empty();
                }
                oldest = Math.max(oldest, remote.get().ageMillis());
            }
            return Optional.of(oldest);
        });
    }

    /**
     * The destinations answer of {@code name} for {@code region} (another region: 409, naming what its
     * leader stored in the region's ZooKeeper) once it names {@code leader} and exactly {@code hosts}.
     */
    private Optional<String> storedRemote(String name, String region, String leader, List<String> hosts) {
        Dwcpd daemon = daemons.get(name);
        Dwcpd.ControlAnswer answer;
        try {
            answer = daemon.control("GET", "/v1/regions/" + region + "/destinations?vm=vm1", null);
        } catch (UncheckedIOException | IllegalStateException e) {
            return Optional.empty();
        }
        if (answer.status() != 200) {
            return Optional.empty();
        }
        // the destinations in another region: its hosts from the records its leader gossips, as this region's
        // leader stored them, and the summary naming that region's leader
        JsonNode choice;
        try {
            choice = JSON.readTree(answer.body());
        } catch (IOException e) {
            return Optional.empty();
        }
        List<String> candidates = new ArrayList<>();
        choice.path("candidates")
                .forEach(candidate -> candidates.add(candidate.path("host").asText()));
        boolean stored = choice.path("summary").asText().contains("\"leader\":\"" + leader + "\"")
                && new TreeSet<>(candidates).equals(new TreeSet<>(hosts));
        return stored ? Optional.of(answer.body().strip()) : Optional.empty();
    }

    /** {@code dwcp status --json} for {@code name}'s control socket, run in its host's namespace. */
    private JsonNode statusJson(String name) throws IOException {
        Dwcpd daemon = daemons.get(name);
        Command.Result result = daemon.host()
                .run(Dwcpd.cliCommand(List.of(
                                "status",
                                "--json",
                                "--control-socket",
                                daemon.controlSocket().toString()))
                        .toArray(String[]::new));
        return JSON.readTree(result.stdout());
    }

    private static String region1Follower(Map<String, Integer> firstIndex) {
        return "eu-" + (3 - firstIndex.get("eu"));
    }

    private static String other(String region) {
        return region.equals("eu") ? "us" : "eu";
    }

    private Host hostOf(String region) {
        return region.equals("eu") ? network.hostA() : network.hostB();
    }

    private static String regionOf(String name) {
        return name.substring(0, name.indexOf('-'));
    }

    /** A daemon's slot in its host (1, 2, 3): its ports are 7470, 7471, 9470 plus 10 per slot above 1. */
    private static int offset(String name) {
        return 10 * (Integer.parseInt(name.substring(name.indexOf('-') + 1)) - 1);
    }

    private static int gossipPort(String name) {
        return Dwcpd.TUNNEL_PORT + 1 + offset(name);
    }

    private void start(String name) {
        String region = regionOf(name);
        Host host = hostOf(region);
        Host remote = hostOf(other(region));
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("region.name", region);
        settings.put("region.zookeeper.connect", zooKeepers.get(region).connectString());
        settings.put("region.advertised-address", host.address() + ":" + (Dwcpd.TUNNEL_PORT + offset(name)));
        settings.put("region.staleness-bound", BOUND.toMillis() + "ms");
        settings.put("tunnel.listen", "0.0.0.0:" + (Dwcpd.TUNNEL_PORT + offset(name)));
        settings.put("metrics.listen", "127.0.0.1:" + (Dwcpd.METRICS_PORT + offset(name)));
        settings.put("gossip.listen", "0.0.0.0:" + gossipPort(name));
        settings.put("gossip.interval", GOSSIP_INTERVAL.toMillis() + "ms");
        settings.put("gossip.fanout", Integer.toString(FANOUT));
        // the other region's first two hosts, as an operator lists a few per region
        for (int slot = 1; slot <= 2; slot++) {
            String peer = other(region) + "-" + slot;
            settings.put("gossip.peer." + peer, remote.address() + ":" + gossipPort(peer));
        }
        daemons.put(name, Dwcpd.start(host, name, DIR.resolve(name), ca, Map.of(), settings));
    }

    /** SIGKILL to the daemon's pid, as a crash. */
    private void kill(String name) {
        Dwcpd daemon = daemons.remove(name);
        daemon.kill();
        earlierLogs.append(daemon.log());
        daemon.close();
    }

    private List<String> running() {
        return new ArrayList<>(new TreeSet<>(daemons.keySet()));
    }

    private List<String> running(String region) {
        return running().stream().filter(name -> regionOf(name).equals(region)).toList();
    }

    /** The view of every running daemon of {@code region} passes {@code check}. */
    private Optional<Boolean> all(String region, java.util.function.Predicate<View> check) {
        List<String> names = running(region);
        for (String name : names) {
            Optional<View> v = view(name);
            if (v.isEmpty() || !check.test(v.get())) {
                return Optional.empty();
            }
        }
        return names.isEmpty() ? Optional.empty() : Optional.of(true);
    }

    /** Every running daemon of the region answers, exactly one leads, and all name it and its term. */
    private View awaitOneLeader(String region) throws Exception {
        return await("exactly one leader in " + region + ", named by all its daemons", () -> {
            List<View> views = new ArrayList<>();
            for (String name : running(region)) {
                Optional<View> v = view(name);
                if (v.isEmpty()) {
                    return Optional.empty();
                }
                views.add(v.get());
            }
            List<View> leading = views.stream().filter(View::leads).toList();
            if (leading.size() != 1) {
                return Optional.empty();
            }
            View leader = leading.get(0);
            boolean agreed =
                    views.stream().allMatch(v -> v.leader().equals(leader.host()) && v.term() == leader.term());
            return agreed ? Optional.of(leader) : Optional.empty();
        });
    }

    /** The daemon's /v1/regions, or empty while it is not running or not answering. */
    private Optional<View> view(String name) {
        Dwcpd daemon = daemons.get(name);
        if (daemon == null) {
            return Optional.empty();
        }
        try {
            Dwcpd.ControlAnswer answer = daemon.control("GET", "/v1/regions", null);
            if (answer.status() != 200) {
                return Optional.empty();
            }
            JsonNode region = JSON.readTree(answer.body());
            List<String> hosts = new ArrayList<>();
            region.path("hosts").forEach(host -> hosts.add(host.path("name").asText()));
            Collections.sort(hosts);
            Map<String, Remote> remotes = new TreeMap<>();
            for (JsonNode remote : region.path("regions")) {
                JsonNode summary = JSON.readTree(remote.path("summary").asText("{}"));
                List<String> remoteHosts = strings(remote.path("hosts"));
                Collections.sort(remoteHosts);
                remotes.put(
                        remote.path("region").asText(),
                        new Remote(
                                summary.path("leader").asText(),
                                summary.path("term").asLong(),
                                remoteHosts,
                                remote.path("ageMillis").asLong()));
            }
            return Optional.of(new View(
                    region.path("host").asText(),
                    region.path("region").asText(),
                    region.path("thisHostLeads").asBoolean(),
                    region.path("term").asLong(),
                    region.path("leader").asText(),
                    region.path("leaderAgeMillis").asLong(),
                    hosts,
                    region.path("hostsAgeMillis").asLong(),
                    remotes));
        } catch (UncheckedIOException | IllegalStateException | IOException e) {
            return Optional.empty();
        }
    }

    private static List<String> strings(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(value -> values.add(value.asText()));
        return values;
    }

    private static final Pattern TERM_TAKEN = Pattern.compile("\\[region=(\\S+) host=(\\S+)] leader, term (\\d+)");

    /** term -> hosts that logged taking it, in {@code region}. */
    private Map<Long, Set<String>> termsTaken(String region) {
        StringBuilder logs = new StringBuilder(earlierLogs);
        daemons.values().forEach(daemon -> logs.append(daemon.log()));
        Map<Long, Set<String>> taken = new TreeMap<>();
        Matcher matcher = TERM_TAKEN.matcher(logs);
        while (matcher.find()) {
            if (matcher.group(1).equals(region)) {
                taken.computeIfAbsent(Long.parseLong(matcher.group(3)), term -> new TreeSet<>())
                        .add(matcher.group(2));
            }
        }
        return taken;
    }

    private interface Check<T> {
        Optional<T> get() throws Exception;
    }

    /** Polls every 20 ms until the check gives a value; fails after {@link #WAIT} saying what did not happen. */
    private <T> T await(String what, Check<T> check) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            Optional<T> value = check.get();
            if (value.isPresent()) {
                return value.get();
            }
            if (System.nanoTime() > deadline) {
                StringBuilder views = new StringBuilder();
                for (String name : running()) {
                    views.append("\n  ")
                            .append(name)
                            .append(": ")
                            .append(view(name).orElse(null));
                }
                fail("not within " + WAIT.toSeconds() + " s: " + what + views);
            }
            Thread.sleep(20);
        }
    }

    /** A line of the test's output, after the seconds since the test began. */
    private void say(String line) {
        System.out.printf("[%5.1f s] %s%n", (System.nanoTime() - began) / 1e9, line);
    }

    private static long millisSince(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
    }

    private static String tail(String log) {
        return log.length() <= 6000 ? log : "..." + log.substring(log.length() - 6000);
    }
}
