package io.dwcp.testbed.region;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dwcp.cli.ControlClient;
import io.dwcp.region.CuratorClients;
import io.dwcp.region.LeaderTerm;
import io.dwcp.region.NotLeaderException;
import io.dwcp.region.Records.LinkRecord;
import io.dwcp.region.RegionLeader;
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
import java.net.InetSocketAddress;
import java.net.Socket;
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
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The region's control plane for real: a three-server ZooKeeper ensemble (ZooKeeper's own
 * {@code QuorumPeerMain}, one JVM each: servers 1 and 2 on host A, server 3 on host B, so cutting
 * the link leaves the majority on A's side) and a real dwcpd per host (alpha on A, beta on B) in
 * region {@code it}, over an emulated regional link (5 ms each way). What the daemons do is read
 * from their control sockets ({@code GET /v1/regions}, and once through {@code dwcp status}) and
 * their logs; a "probe" (a Curator client of this JVM whose connection lives in a host's network
 * namespace) reads the term znode, writes records, and plays the deposed leader's late write.
 *
 * <ol>
 * <li>(a) one leader: the daemon started first leads term 1, and both daemons say so;</li>
 * <li>(b) the leader's dwcpd killed (SIGKILL to its pid): the other leads a higher term within the
 * session timeout plus a tick plus a margin (failover printed);</li>
 * <li>(c) beta leads, the link is cut: beta stops acting as leader before alpha starts (SUSPENDED
 * = lost), alpha leads a higher term on the majority side, a write fenced by beta's term fails
 * during the cut and is refused after the heal, records written before the cut are all there on
 * both sides;</li>
 * <li>(d) beta's session expired during the cut: it counted the loss, registered again, follows
 * alpha's term, and takes over (a higher term again) when alpha leaves;</li>
 * <li>one migration per VM: while alpha's announced migration holds a VM's lock, beta's is refused
 * naming alpha; it goes when alpha lets go, or when alpha stops.</li>
 * </ol>
 * Throughout, a poller and the daemons' logs check that no term ever had two leaders acting in it.
 * The schedule (who starts first, records written, how long the cut lasts at least) comes from a
 * printed seed: replay with {@code -Ddwcp.test.seed=N}. About a minute.
 */
class RegionEnsembleIT {
    private static final long SEED = Long.getLong("dwcp.test.seed", new Random().nextLong());
    private static final String REGION = "it";
    /** The daemons' region.session-timeout (the default) and the servers' tickTime. */
    private static final Duration SESSION = Duration.ofSeconds(3);

    private static final Duration TICK = Duration.ofMillis(500);
    /** What a failover may take beyond session + tick: the latch's watch, the term CAS, a ZooKeeper re-election. */
    private static final Duration MARGIN = Duration.ofSeconds(3);

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Path DIR = TrackedProcess.STATE_DIR.resolve(
            "region-ensemble-" + ProcessHandle.current().pid());
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern TERM_TAKEN =
            Pattern.compile("\\[region=" + REGION + " host=(\\S+)] leader, term (\\d+)");
    private static final RegionPaths PATHS = new RegionPaths("/dwcp", REGION);

    /** One look at a daemon's /v1/regions. */
    private record View(String host, boolean leads, long term, String leader, List<String> hosts, int links) {}

    private final Closer opened = new Closer();
    private final Map<String, Dwcpd> daemons = new ConcurrentHashMap<>();
    /** The logs of daemons that were stopped (a restart starts a new log). */
    private final StringBuilder earlierLogs = new StringBuilder();
    /** term -> hosts seen acting as leader in it (by the poller). */
    private final Map<Long, Set<String>> leadersByTerm = new ConcurrentHashMap<>();

    private TwoHostNetwork network;
    private boolean cut;
    private ZooKeeperEnsemble ensemble;
    private Path ca;
    private ControlClient alphaClient;
    private ControlClient betaClient;

    @BeforeEach
    void setUp() {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root: network namespaces");
        TwoHostNetwork.cleanupLeftovers();
        TrackedProcess.cleanupLeftovers();
        Folders.deleteTree(DIR);
        opened.push(() -> Folders.deleteTree(DIR));
    }

    /** Everything this test started, in reverse: probes, poller, daemons (by pid), servers (by pid), namespaces, files. */
    @AfterEach
    void tearDown() throws Exception {
        for (Dwcpd daemon : daemons.values()) {
            opened.push(daemon);
        }
        opened.close();
    }

    @Test
    void oneLeaderPerTermThroughAKilledLeaderACutLinkAndAnExpiredSession() throws Exception {
        Random random = new Random(SEED);
        String first = random.nextBoolean() ? "alpha" : "beta";
        int records = 5 + random.nextInt(11);
        long cutMillis = SESSION.toMillis() + 2000 + random.nextInt(3001);
        System.out.println("SCHEDULE seed " + SEED + " (replay: -Ddwcp.test.seed=" + SEED + "): " + first
                + " starts first and is killed; " + records + " records before the cut; link cut for " + cutMillis
                + " ms");
        try {
            run(first, records, cutMillis);
        } catch (Throwable t) {
            System.out.println("FAILED with seed " + SEED + "; logs follow");
            daemons.values().forEach(daemon -> System.out.println("---- " + daemon + "\n" + tail(daemon.log())));
            if (ensemble != null) {
                ensemble.members()
                        .forEach(member -> System.out.println(
                                "---- ZooKeeper " + member.id() + "\n" + tail(ensemble.log(member))));
            }
            throw t;
        }
    }

    private void run(String first, int records, long cutMillis) throws Exception {
        network = TwoHostNetwork.create(
                "regionens", LinkProfile.delay(Duration.ofMillis(5)), LinkProfile.delay(Duration.ofMillis(5)));
        opened.push(network);
        opened.push(() -> {
            if (cut) {
                network.setCut(false);
            }
        });
        Host a = network.hostA();
        Host b = network.hostB();
        ensemble = ZooKeeperEnsemble.start(
                List.of(
                        new Member(1, a, 2181, 2888, 3888),
                        new Member(2, a, 2182, 2889, 3889),
                        new Member(3, b, 2181, 2888, 3888)),
                DIR.resolve("zookeeper"));
        opened.push(ensemble);
        ca = Dwcpd.createCa(DIR.resolve("ca"));
        ensemble.awaitQuorum(Duration.ofSeconds(60));
        alphaClient =
                new ControlClient(DIR.resolve("alpha").resolve("run").resolve("control.sock"), Duration.ofSeconds(2));
        opened.push(alphaClient);
        betaClient =
                new ControlClient(DIR.resolve("beta").resolve("run").resolve("control.sock"), Duration.ofSeconds(2));
        opened.push(betaClient);
        ScheduledExecutorService poller = Executors.newSingleThreadScheduledExecutor();
        opened.push(() -> {
            poller.shutdownNow();
            assertTrue(poller.awaitTermination(10, TimeUnit.SECONDS), "poller did not stop");
        });
        poller.scheduleWithFixedDelay(this::poll, 0, 50, TimeUnit.MILLISECONDS);

        // (a) one leader: the first daemon up takes term 1, the second follows it
        String second = other(first);
        start(first);
        await(first + " leads term 1", () -> view(first).filter(view -> view.leads() && view.term() == 1));
        start(second);
        View settled = awaitOneLeader(first);
        assertEquals(1, settled.term(), "the first leader's term");
        System.out.println("LEADER " + first + " term 1; " + second + " follows");

        // (b) the leader's dwcpd killed: the other takes a higher term within session + tick + margin
        long killedAt = System.nanoTime();
        kill(first);
        View successor = await(
                second + " leads a term after 1", () -> view(second).filter(view -> view.leads() && view.term() > 1));
        long failoverMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
        System.out.println("FAILOVER leader's dwcpd killed (pid): " + second + " leads term " + successor.term()
                + " after " + failoverMillis + " ms (session " + SESSION.toMillis() + " ms, tick " + TICK.toMillis()
                + " ms)");
        assertTrue(
                failoverMillis <= SESSION.plus(TICK).plus(MARGIN).toMillis(),
                "failover took " + failoverMillis + " ms");
        start(first);
        View afterRestart = awaitOneLeader(second);
        assertEquals(successor.term(), afterRestart.term(), "a restarted follower does not move the term");

        // beta must lead for the cut: if alpha does, alpha leaves (a clean stop hands over at once) and comes back
        if (second.equals("alpha")) {
            long stoppedAt = System.nanoTime();
            stop("alpha");
            View handedOver =
                    await("beta leads after alpha stops", () -> view("beta").filter(View::leads));
            System.out.println("HANDOVER alpha stopped cleanly: beta leads term " + handedOver.term() + " after "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stoppedAt) + " ms");
            start("alpha");
            awaitOneLeader("beta");
        }

        // (c) records written before the cut, with beta's term as the fence
        Probe probeA = probe(a);
        Probe probeB = probe(b);
        View betaLeads = view("beta").orElseThrow();
        LeaderTerm betaTerm = probeB.call(() -> probeB.fence.regionTerm()).orElseThrow();
        assertEquals("beta", betaTerm.leader(), "the term znode names the leader");
        assertEquals(betaLeads.term(), betaTerm.epoch(), "the term znode holds the term beta reports");
        List<String> written = new ArrayList<>();
        for (int i = 0; i < records; i++) {
            String path = PATHS.leaderOwned() + "/records/r" + i;
            assertEquals("accepted", probeB.write(betaTerm, path), "a write in the current term");
            written.add(path);
        }
        probeA.call(() -> {
            probeA.metadata.recordLink(
                    new LinkRecord("alpha", "beta", connectRttMicros(b.address()), 0, 0, System.currentTimeMillis()));
            return null;
        });
        probeB.call(() -> {
            probeB.metadata.recordLink(
                    new LinkRecord("beta", "alpha", connectRttMicros(a.address()), 0, 0, System.currentTimeMillis()));
            return null;
        });

        StringBuilder roles = new StringBuilder();
        ensemble.members()
                .forEach(member -> roles.append(" server ")
                        .append(member.id())
                        .append(" (host ")
                        .append(member.host().name())
                        .append("): ")
                        .append(ensemble.mode(member).orElse("not serving"))
                        .append(';'));
        System.out.println("ENSEMBLE before the cut:" + roles);
        long cutAt = System.nanoTime();
        long cutAtMillis = System.currentTimeMillis();
        network.setCut(true);
        cut = true;
        await("beta stops acting as leader", () -> view("beta").filter(view -> !view.leads()));
        long betaStoppedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cutAt);
        View alphaLeads = await(
                "alpha leads a term after " + betaTerm.epoch(),
                () -> view("alpha").filter(view -> view.leads() && view.term() > betaTerm.epoch()));
        long alphaActsMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cutAt);
        System.out.println("FAILOVER link cut: beta (minority side) stopped acting after " + betaStoppedMillis
                + " ms, alpha leads term " + alphaLeads.term() + " after " + alphaActsMillis + " ms");
        assertTrue(betaStoppedMillis < alphaActsMillis, "the deposed leader stops before its successor acts");
        assertTrue(
                alphaActsMillis
                        <= SESSION.plus(TICK)
                                .plus(MARGIN)
                                .plus(Duration.ofSeconds(2))
                                .toMillis(),
                "failover after the cut took " + alphaActsMillis
                        + " ms (session + tick + margin + a ZooKeeper re-election)");
        String lateWrite = PATHS.leaderOwned() + "/records/late";
        String duringCut = probeB.write(betaTerm, lateWrite);
        assertNotEquals("accepted", duringCut, "a write from the minority side during the cut");
        // the majority side has everything, and its leader's writes go through
        assertEquals(new TreeSet<>(written), probeA.existing(written), "records on the majority side during the cut");
        LeaderTerm alphaTerm = probeA.call(() -> probeA.fence.regionTerm()).orElseThrow();
        assertEquals(alphaLeads.term(), alphaTerm.epoch(), "the term znode holds alpha's term");
        assertEquals("alpha", alphaTerm.leader(), "the term znode names alpha");
        assertEquals("accepted", probeA.write(alphaTerm, PATHS.leaderOwned() + "/records/during-cut"));
        long left = cutMillis - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cutAt);
        if (left > 0) {
            Thread.sleep(left); // the schedule's cut length: beta's session must expire
        }
        network.setCut(false);
        cut = false;
        long healedAt = System.nanoTime();
        long healedAtMillis = System.currentTimeMillis();

        // heal: one leader again, beta follows; the deposed term's write is refused; nothing lost
        View healed = awaitOneLeader("alpha");
        System.out.println("HEAL after a cut of " + TimeUnit.NANOSECONDS.toMillis(healedAt - cutAt)
                + " ms (the schedule's "
                + cutMillis + " ms, or longer while the minority's write gave up): one leader (alpha, term "
                + healed.term()
                + ") on both daemons after " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - healedAt) + " ms");
        String refused = awaitOutcome(
                "the deposed term's write refused after the heal",
                () -> probeB.write(betaTerm, lateWrite),
                outcome -> outcome.startsWith("refused"));
        assertTrue(refused.contains("term " + betaTerm.epoch() + " of beta is over"), refused);
        List<String> all = new ArrayList<>(written);
        all.add(PATHS.leaderOwned() + "/records/during-cut");
        assertEquals(new TreeSet<>(all), probeB.existing(all), "records on beta's side after the heal");
        assertEquals(Set.of(), probeB.existing(List.of(lateWrite)), "the refused writes left nothing");

        // (d) beta's session expired in the cut: counted, registered again, following, and able to lead
        double lost = daemons.get("beta")
                .metric("dwcp_region_sessions_lost_total", "")
                .orElse(0);
        assertTrue(
                lost >= 1,
                "beta counted no lost session (cut " + cutMillis + " ms, session " + SESSION.toMillis() + " ms)");
        Stat registered = await(
                "beta's host record created again after its session expired",
                () -> probeA.stat(PATHS.host("beta")).filter(stat -> stat.getCtime() > cutAtMillis));
        System.out.println("EXPIRY beta's session (cut " + cutMillis + " ms): host record created again "
                + (registered.getCtime() - cutAtMillis) + " ms after the cut began ("
                + (registered.getCtime() - healedAtMillis)
                + " ms after the heal), sessions lost " + (long) lost);
        await(
                "both hosts and both links, seen by beta after the heal",
                () -> view("beta")
                        .filter(view -> view.hosts().equals(List.of("alpha", "beta"))
                                && view.links() == 2
                                && view.leader().equals("alpha")));
        await(
                "both hosts seen by alpha",
                () -> view("alpha").filter(view -> view.hosts().equals(List.of("alpha", "beta"))));
        Command.Result status = Command.run(
                Command.DEFAULT_TIMEOUT,
                Dwcpd.cliCommand(List.of(
                        "status",
                        "--control-socket",
                        daemons.get("beta").controlSocket().toString())));
        System.out.println("DWCP STATUS on beta:\n" + status.stdout());
        assertTrue(
                status.stdout().startsWith("Region it, host beta\nLeader:  alpha, term " + healed.term() + " (read "),
                status.stdout());
        assertTrue(status.stdout().contains("Hosts (2, read "), status.stdout());
        assertTrue(
                Pattern.compile("\n  alpha \\*  10\\.231\\.1\\.2:7470 .*sha256:[0-9a-f]{64}\n")
                        .matcher(status.stdout())
                        .find(),
                status.stdout());
        assertTrue(
                Pattern.compile("\n  alpha  beta +[0-9.]+ ms ")
                        .matcher(status.stdout())
                        .find(),
                status.stdout());
        // one migration per VM across the region: beta is refused while alpha's announcement holds vm1's lock
        ControlClient.Reply held =
                alphaClient.postForm("/v1/migrations", Map.of("protocol", "1", "domain", "vm1", "peer", "beta"));
        assertEquals(201, held.status(), held.body());
        String heldId = JSON.readTree(held.body()).path("id").asText();
        ControlClient.Reply refusedLock =
                betaClient.postForm("/v1/migrations", Map.of("protocol", "1", "domain", "vm1", "peer", "alpha"));
        assertEquals(409, refusedLock.status(), refusedLock.body());
        assertTrue(
                refusedLock
                        .body()
                        .startsWith(
                                "VM 'vm1' is already being migrated by host alpha (migration " + heldId + ", since "),
                refusedLock.body());
        assertEquals(204, alphaClient.delete("/v1/migrations/" + heldId).status());
        ControlClient.Reply betaTakes =
                betaClient.postForm("/v1/migrations", Map.of("protocol", "1", "domain", "vm1", "peer", "alpha"));
        assertEquals(201, betaTakes.status(), "alpha let go of vm1: " + betaTakes.body());
        // alpha's lock of vm2 goes with alpha (its session closes when it stops)
        assertEquals(
                201,
                alphaClient
                        .postForm("/v1/migrations", Map.of("protocol", "1", "domain", "vm2", "peer", "beta"))
                        .status());
        long lastTerm = healed.term();
        long stoppedAt = System.nanoTime();
        stop("alpha");
        View betaAgain = await(
                "beta leads again after alpha leaves",
                () -> view("beta").filter(view -> view.leads() && view.term() > lastTerm));
        System.out.println("HANDOVER after the expiry: beta leads term " + betaAgain.term() + " "
                + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stoppedAt) + " ms after alpha stopped");
        ControlClient.Reply afterAlpha =
                betaClient.postForm("/v1/migrations", Map.of("protocol", "1", "domain", "vm2", "peer", "alpha"));
        assertEquals(201, afterAlpha.status(), "vm2's lock went with alpha: " + afterAlpha.body());

        // never two leaders acting in one term: what the poller saw, and what the daemons logged
        Map<Long, Set<String>> logged = new TreeMap<>();
        Matcher taken = TERM_TAKEN.matcher(earlierLogs + daemons.get("beta").log());
        while (taken.find()) {
            logged.computeIfAbsent(Long.parseLong(taken.group(2)), term -> new TreeSet<>())
                    .add(taken.group(1));
        }
        System.out.println(
                "TERMS taken (logs): " + logged + "; seen leading (control sockets): " + new TreeMap<>(leadersByTerm));
        logged.forEach((term, hosts) -> assertEquals(1, hosts.size(), "term " + term + " taken by " + hosts));
        leadersByTerm.forEach((term, hosts) -> assertEquals(1, hosts.size(), "term " + term + " acted in by " + hosts));
        for (long term = 1; term <= betaAgain.term(); term++) {
            assertTrue(logged.containsKey(term), "term " + term + " was taken by nobody's log: " + logged);
        }
    }

    private static String other(String name) {
        return name.equals("alpha") ? "beta" : "alpha";
    }

    private Host hostOf(String name) {
        return name.equals("alpha") ? network.hostA() : network.hostB();
    }

    private void start(String name) {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("region.name", REGION);
        settings.put("region.zookeeper.connect", ensemble.connectString());
        settings.put("region.advertised-address", hostOf(name).address() + ":" + Dwcpd.TUNNEL_PORT);
        Map<String, String> peers = Map.of(other(name), hostOf(other(name)).address() + ":" + Dwcpd.TUNNEL_PORT);
        daemons.put(name, Dwcpd.start(hostOf(name), name, DIR.resolve(name), ca, peers, settings));
    }

    /** SIGKILL to the daemon's pid, as a crash. */
    private void kill(String name) {
        Dwcpd daemon = daemons.remove(name);
        daemon.kill();
        earlierLogs.append(daemon.log());
        daemon.close();
    }

    /** SIGTERM: dwcpd leaves the election on its way out. */
    private void stop(String name) {
        Dwcpd daemon = daemons.remove(name);
        daemon.close();
        earlierLogs.append(daemon.log());
    }

    /** On the poller's thread: who acts as leader in which term. */
    private void poll() {
        for (String name : List.of("alpha", "beta")) {
            view(name)
                    .filter(View::leads)
                    .ifPresent(view -> leadersByTerm
                            .computeIfAbsent(view.term(), term -> ConcurrentHashMap.newKeySet())
                            .add(name));
        }
    }

    /** The daemon's /v1/regions, or empty while it is not running or not answering. */
    private Optional<View> view(String name) {
        ControlClient client = name.equals("alpha") ? alphaClient : betaClient;
        try {
            ControlClient.Reply reply = client.get("/v1/regions");
            if (reply.status() != 200) {
                return Optional.empty();
            }
            JsonNode region = JSON.readTree(reply.body());
            List<String> hosts = new ArrayList<>();
            region.path("hosts").forEach(host -> hosts.add(host.path("name").asText()));
            Collections.sort(hosts);
            return Optional.of(new View(
                    region.path("host").asText(),
                    region.path("thisHostLeads").asBoolean(),
                    region.path("term").asLong(),
                    region.path("leader").asText(),
                    hosts,
                    region.path("links").size()));
        } catch (ControlClient.UnavailableException | IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /** Both daemons answer, exactly one leads, it is {@code leader}, and both name it and its term. */
    private View awaitOneLeader(String leader) throws Exception {
        return await("exactly one leader, " + leader + ", named by both daemons", () -> {
            Optional<View> alpha = view("alpha");
            Optional<View> beta = view("beta");
            if (alpha.isEmpty()
                    || beta.isEmpty()
                    || alpha.get().leads() == beta.get().leads()) {
                return Optional.empty();
            }
            View leading = alpha.get().leads() ? alpha.get() : beta.get();
            View following = alpha.get().leads() ? beta.get() : alpha.get();
            boolean agreed = leading.host().equals(leader)
                    && leading.leader().equals(leader)
                    && following.leader().equals(leader)
                    && following.term() == leading.term();
            return agreed ? Optional.of(leading) : Optional.empty();
        });
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
                fail("not within " + WAIT.toSeconds() + " s: " + what + " (alpha: "
                        + view("alpha").orElse(null) + ", beta: " + view("beta").orElse(null) + ")");
            }
            Thread.sleep(20);
        }
    }

    private <T> T awaitOutcome(String what, Callable<T> attempt, Predicate<T> done) throws Exception {
        List<T> seen = new ArrayList<>();
        return await(what, () -> {
            T outcome = attempt.call();
            seen.add(outcome);
            if (seen.size() > 5) {
                seen.remove(0);
            }
            return done.test(outcome) ? Optional.of(outcome) : Optional.empty();
        });
    }

    /** The median time to open a TCP connection to the address's tunnel port (from the calling host's namespace). */
    private static long connectRttMicros(String address) throws IOException {
        List<Long> samples = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            long started = System.nanoTime();
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(address, Dwcpd.TUNNEL_PORT), 2000);
            }
            samples.add(TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - started));
        }
        Collections.sort(samples);
        return samples.get(samples.size() / 2);
    }

    private Probe probe(Host host) {
        Probe probe = new Probe(host, ensemble.connectString());
        opened.push(probe);
        return probe;
    }

    /**
     * A ZooKeeper client of this JVM living in {@code host}'s network namespace: every call runs on a
     * thread inside it, so the threads Curator starts (also to reconnect after a session expiry)
     * are there too. Not a candidate: it reads the term and writes with a term it is given.
     */
    private static final class Probe implements AutoCloseable {
        final Host host;
        final CuratorFramework client;
        final RegionLeader fence;
        final RegionMetadata metadata;

        Probe(Host host, String connect) {
            this.host = host;
            this.client = host.call(() -> {
                CuratorFramework started = CuratorClients.create(connect, SESSION, Duration.ofSeconds(2));
                started.start();
                if (!started.blockUntilConnected(20, TimeUnit.SECONDS)) {
                    started.close();
                    throw new IllegalStateException("probe on " + host + " cannot reach ZooKeeper at " + connect);
                }
                return started;
            });
            this.fence = new RegionLeader(
                    client, PATHS, "probe-" + host.name(), new RegionStats(), System::currentTimeMillis);
            this.metadata = new RegionMetadata(
                    client, PATHS, Duration.ofSeconds(2), new RegionStats(), System::currentTimeMillis);
        }

        <T> T call(Callable<T> task) {
            return host.call(task);
        }

        /** "accepted", "refused: ..." (the term fence) or "failed: ..." (no answer, no quorum). */
        String write(LeaderTerm term, String path) {
            return call(() -> {
                try {
                    fence.write(term, path, Long.toString(term.epoch()).getBytes(StandardCharsets.UTF_8));
                    return "accepted";
                } catch (NotLeaderException e) {
                    return "refused: " + e.getMessage();
                } catch (Exception e) {
                    return "failed: " + e;
                }
            });
        }

        /** Which of the paths exist, after a sync with the ensemble's leader. */
        Set<String> existing(List<String> paths) {
            return call(() -> {
                metadata.hosts(Duration.ZERO); // a sync, then a read: this server has caught up
                Set<String> found = new TreeSet<>();
                for (String path : paths) {
                    if (client.checkExists().forPath(path) != null) {
                        found.add(path);
                    }
                }
                return found;
            });
        }

        /** The znode's stat after a sync, or empty when it does not exist. */
        Optional<Stat> stat(String path) {
            return call(() -> {
                metadata.hosts(Duration.ZERO);
                return Optional.ofNullable(client.checkExists().forPath(path));
            });
        }

        @Override
        public void close() {
            host.call(() -> {
                client.close();
                return null;
            });
        }
    }

    private static String tail(String log) {
        return log.length() <= 6000 ? log : "..." + log.substring(log.length() - 6000);
    }
}
