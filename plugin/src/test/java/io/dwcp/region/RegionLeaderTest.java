package io.dwcp.region;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.TestResources;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.KillSession;
import org.apache.curator.test.TestingCluster;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Leader election and terms on real ZooKeeper servers (curator-test): failover when the
 * leader's session is killed (Curator's KillSession expires it in the client, which reconnects
 * with a new session and its latch drops the old node), when the server it is connected to stops,
 * and when the leader is cut off without closing anything (the server expires its session);
 * after each seeded schedule, no accepted leader write is lost and no term has two leaders acting
 * in it. Failover times are printed ({@code FAILOVER ...}) for the report.
 */
class RegionLeaderTest {
    private static final long SEED = Long.getLong("dwcp.test.seed", 1313L);
    private static final Duration SESSION = new RegionConfig().getSessionTimeout();
    private static final Duration CONNECTION = Duration.ofSeconds(2);
    private static final long WAIT_SECONDS = 30;

    /** One accepted leader write: which host, in which term, to which path. */
    private record Write(String host, long epoch, String path) {}

    /** A term change one candidate saw. */
    private record Event(String host, boolean acquired, LeaderTerm term, long atNanos) {}

    private final TestResources resources = new TestResources();
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final List<Write> journal = Collections.synchronizedList(new ArrayList<>());

    private final class Candidate {
        final String host;
        final CuratorFramework client;
        final RegionLeader leader;
        int written;

        Candidate(String connect, String host) throws Exception {
            this.host = host;
            this.client = CuratorClients.create(connect, SESSION, CONNECTION);
            client.start();
            resources.add(client);
            this.leader = new RegionLeader(
                    client, new RegionPaths("/dwcp", "test"), host, new RegionStats(), System::currentTimeMillis);
            resources.add(leader);
            leader.addListener(new RegionLeader.Listener() {
                @Override
                public void acquired(LeaderTerm term) {
                    events.add(new Event(host, true, term, System.nanoTime()));
                }

                @Override
                public void lost(LeaderTerm term) {
                    events.add(new Event(host, false, term, System.nanoTime()));
                }
            });
        }

        /** One fenced write if this candidate believes it leads; journaled only if ZooKeeper accepted it. */
        void tryWrite() {
            leader.term().ifPresent(term -> {
                String path = "/dwcp/regions/test/leader/records/" + host + "-" + written++;
                try {
                    leader.write(term, path, Long.toString(term.epoch()).getBytes(StandardCharsets.UTF_8));
                    synchronized (journal) {
                        journal.add(new Write(host, term.epoch(), path));
                        journal.notifyAll();
                    }
                } catch (NotLeaderException e) {
                    // refused: exactly what the fence is for
                } catch (Exception e) {
                    // connection trouble: not accepted, not journaled
                }
            });
        }
    }

    @AfterEach
    void closeAll() throws Exception {
        resources.close();
    }

    private ScheduledExecutorService writers(List<Candidate> candidates) {
        ScheduledExecutorService writers = Executors.newSingleThreadScheduledExecutor();
        resources.add(() -> {
            writers.shutdownNow();
            assertTrue(writers.awaitTermination(10, TimeUnit.SECONDS), "writers did not stop");
        });
        writers.scheduleWithFixedDelay(() -> candidates.forEach(Candidate::tryWrite), 0, 5, TimeUnit.MILLISECONDS);
        return writers;
    }

    private Event next(boolean acquired) throws InterruptedException {
        while (true) {
            Event event = events.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            assertNotNull(event, "no leader event within " + WAIT_SECONDS + " s");
            if (event.acquired() == acquired) {
                return event;
            }
        }
    }

    private static Candidate byHost(List<Candidate> candidates, String host) {
        return candidates.stream()
                .filter(candidate -> candidate.host.equals(host))
                .findFirst()
                .orElseThrow();
    }

    @Test
    void seededFailureSchedulesNeverPutTwoLeadersInATerm() throws Exception {
        TestingServer server = new TestingServer();
        resources.add(server);
        List<Candidate> candidates = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (String host : List.of("host-a", "host-b", "host-c")) {
            candidates.add(new Candidate(server.getConnectString(), host));
        }
        for (Candidate candidate : candidates) {
            candidate.leader.start();
        }
        writers(candidates);
        Random random = new Random(SEED);
        Event leader = next(true);
        Map<String, List<Long>> handovers = new TreeMap<>();
        List<String> schedule = new ArrayList<>();
        for (int round = 0; round < 8; round++) {
            // the leader writes a little, then one seeded failure
            awaitWriteIn(leader.term().epoch());
            Candidate current = byHost(candidates, leader.host());
            LeaderTerm deposed = leader.term();
            int action = random.nextInt(3);
            long startedAt = System.nanoTime();
            switch (action) {
                case 0 -> {
                    schedule.add("kill-leader-session");
                    KillSession.kill(current.client.getZookeeperClient().getZooKeeper());
                }
                case 1 -> {
                    schedule.add("restart-leader");
                    // a clean shutdown (dwcpd stopping), then the host comes back
                    current.leader.close();
                    current.client.close();
                    candidates.remove(current);
                    Candidate restarted = new Candidate(server.getConnectString(), current.host);
                    candidates.add(restarted);
                    restarted.leader.start();
                }
                default -> {
                    schedule.add("kill-follower-session");
                    List<Candidate> followers = candidates.stream()
                            .filter(candidate -> candidate != current)
                            .toList();
                    Candidate follower = followers.get(random.nextInt(followers.size()));
                    KillSession.kill(follower.client.getZookeeperClient().getZooKeeper());
                    assertTrue(follower.client.blockUntilConnected((int) WAIT_SECONDS, TimeUnit.SECONDS));
                    // the leader is not disturbed: still acting, same term, still writing
                    assertEquals(
                            Optional.of(deposed), current.leader.term(), "a follower's session loss moved leadership");
                    int before = writesIn(deposed.epoch());
                    awaitWrites(deposed.epoch(), before + 1);
                    continue;
                }
            }
            leader = next(true);
            assertTrue(leader.term().epoch() > deposed.epoch(), "epochs grow: " + deposed + " then " + leader.term());
            handovers
                    .computeIfAbsent(schedule.get(schedule.size() - 1), ignored -> new ArrayList<>())
                    .add(TimeUnit.NANOSECONDS.toMillis(leader.atNanos() - startedAt));
            if (action == 0 && random.nextBoolean()) {
                // the deposed leader, reconnected with a new session, still holds its old term: refused
                String path = "/dwcp/regions/test/leader/records/stale-" + round;
                NotLeaderException refused =
                        assertThrows(NotLeaderException.class, () -> current.leader.write(deposed, path, new byte[0]));
                assertTrue(
                        refused.getMessage()
                                .contains("term " + deposed.epoch() + " of " + deposed.leader() + " is over"),
                        refused.getMessage());
            }
        }
        System.out.println("FAILOVER schedule " + schedule + " seed " + SEED
                + ": ms from the failure to the new leader acting " + handovers);
        checkJournal(candidates.get(0).client);
    }

    private int writesIn(long epoch) {
        synchronized (journal) {
            return (int)
                    journal.stream().filter(write -> write.epoch() == epoch).count();
        }
    }

    private void awaitWrites(long epoch, int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        synchronized (journal) {
            while (writesIn(epoch) < count) {
                long left = deadline - System.nanoTime();
                assertTrue(
                        left > 0,
                        "fewer than " + count + " writes in term " + epoch + " within " + WAIT_SECONDS + " s");
                TimeUnit.NANOSECONDS.timedWait(journal, left);
            }
        }
    }

    @Test
    void stoppingTheLeadersServerMovesLeadershipToANewTerm() throws Exception {
        TestingCluster cluster = LocalEnsemble.of(3);
        resources.add(cluster);
        cluster.start();
        List<Candidate> candidates = new ArrayList<>();
        for (String host : List.of("host-a", "host-b", "host-c")) {
            candidates.add(new Candidate(cluster.getConnectString(), host));
        }
        for (Candidate candidate : candidates) {
            candidate.leader.start();
        }
        writers(candidates);
        Event leader = next(true);
        awaitWriteIn(leader.term().epoch());
        // every candidate reads the region's term (what dwcp status shows on a host that does not lead)
        for (Candidate candidate : candidates) {
            awaitRegionTerm(candidate, leader.term());
        }
        Candidate victim = byHost(candidates, leader.host());
        InstanceSpec server = cluster.findConnectionInstance(
                victim.client.getZookeeperClient().getZooKeeper());
        long killedAt = System.nanoTime();
        assertTrue(cluster.killServer(server));
        Event lost = next(false);
        assertEquals(leader.host(), lost.host());
        Event successor = next(true);
        long failoverMillis = TimeUnit.NANOSECONDS.toMillis(successor.atNanos() - killedAt);
        System.out.println("FAILOVER server-stop (ms from stopping the leader's server to a leader acting in term "
                + successor.term().epoch() + "): " + failoverMillis + " (old leader stopped acting after "
                + TimeUnit.NANOSECONDS.toMillis(lost.atNanos() - killedAt) + " ms)");
        assertTrue(successor.term().epoch() > leader.term().epoch());
        // writes keep being accepted in the new term
        awaitWriteIn(successor.term().epoch());
        checkJournal(byHost(candidates, successor.host()).client);
    }

    @Test
    void aLeaderCutOffWithoutClosingIsReplacedAfterTheSessionTimeout() throws Exception {
        // the tick of the embedded server (and the one RegionConfig recommends for an ensemble)
        TestingServer server = new TestingServer(new InstanceSpec(null, -1, -1, -1, true, -1, 1000, -1), true);
        resources.add(server);
        FreezableProxy proxy = new FreezableProxy(new java.net.InetSocketAddress("127.0.0.1", server.getPort()));
        resources.add(proxy);
        // host-a reaches ZooKeeper through the proxy and leads first
        List<Candidate> candidates = new ArrayList<>();
        candidates.add(new Candidate(proxy.connectString(), "host-a"));
        candidates.get(0).leader.start();
        Event first = next(true);
        assertEquals("host-a", first.host());
        for (String host : List.of("host-b", "host-c")) {
            Candidate candidate = new Candidate(server.getConnectString(), host);
            candidates.add(candidate);
            candidate.leader.start();
        }
        writers(candidates);
        awaitWriteIn(first.term().epoch());
        long frozenAt = System.nanoTime();
        proxy.freeze();
        Event lost = next(false);
        Event successor = next(true);
        long lostMillis = TimeUnit.NANOSECONDS.toMillis(lost.atNanos() - frozenAt);
        long failoverMillis = TimeUnit.NANOSECONDS.toMillis(successor.atNanos() - frozenAt);
        System.out.println("FAILOVER crash (host cut off, session " + SESSION.toMillis()
                + " ms): old leader stopped acting after " + lostMillis + " ms, new leader " + successor.host()
                + " acting in term " + successor.term().epoch() + " after " + failoverMillis + " ms");
        assertEquals("host-a", lost.host());
        assertTrue(successor.term().epoch() > first.term().epoch());
        awaitWriteIn(successor.term().epoch());
        checkJournal(candidates.get(1).client);
    }

    /** The candidate's server may lag the ensemble's leader by a moment: poll until it shows the term, 10 s at most. */
    private static void awaitRegionTerm(Candidate candidate, LeaderTerm expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        Optional<LeaderTerm> seen = candidate.leader.regionTerm();
        while (seen.map(LeaderTerm::epoch).orElse(0L) < expected.epoch() && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(20);
            seen = candidate.leader.regionTerm();
        }
        assertEquals(
                Optional.of(expected.epoch()),
                seen.map(LeaderTerm::epoch),
                candidate.host + " reads the region's term");
        assertEquals(expected.leader(), seen.get().leader(), candidate.host + " reads who took it");
    }

    private void awaitWriteIn(long epoch) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        synchronized (journal) {
            while (journal.stream().noneMatch(write -> write.epoch() == epoch)) {
                long left = deadline - System.nanoTime();
                assertTrue(left > 0, "no write accepted in term " + epoch + " within " + WAIT_SECONDS + " s");
                TimeUnit.NANOSECONDS.timedWait(journal, left);
            }
        }
    }

    /** No term has two writers, and every accepted write is in ZooKeeper. */
    private void checkJournal(CuratorFramework client) throws Exception {
        List<Write> writes;
        synchronized (journal) {
            writes = List.copyOf(journal);
        }
        Map<Long, Set<String>> writersByEpoch = new TreeMap<>();
        for (Write write : writes) {
            writersByEpoch
                    .computeIfAbsent(write.epoch(), ignored -> new TreeSet<>())
                    .add(write.host());
        }
        writersByEpoch.forEach(
                (epoch, hosts) -> assertEquals(1, hosts.size(), "term " + epoch + " had writers " + hosts));
        for (Write write : writes) {
            assertNotNull(client.checkExists().forPath(write.path()), "accepted write lost: " + write);
        }
        assertTrue(writersByEpoch.size() >= 2, "several terms wrote: " + writersByEpoch);
    }
}
