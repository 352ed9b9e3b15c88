package io.dwcp.gossip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.gossip.sim.SimulatedNetwork;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Gossip between region leaders over the in-process transport, with seeded loss and a partition:
 * concurrent updates on both sides are merged after the heal, nothing is lost, every node ends
 * with the same state, and each side keeps working while cut off.
 */
class GossipConvergenceTest {
    private static final long SEED = Long.getLong("dwcp.test.seed", 20261204L);

    private record Cluster(SimulatedNetwork network, List<GossipNode> nodes) {}

    private static Cluster cluster(Random random, int size, double loss, int logCapacity) {
        SimulatedNetwork network = new SimulatedNetwork(random);
        network.setLoss(loss);
        network.setLatency((from, to) -> 20 + Math.floorMod((from + to).hashCode(), 80));
        List<GossipNode> nodes = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            ids.add(String.format("region-%02d", i));
        }
        for (String id : ids) {
            GossipNode[] holder = new GossipNode[1];
            GossipTransport transport = network.endpoint(id, message -> holder[0].receive(message), new GossipStats());
            holder[0] = new GossipNode(
                    id, transport, network::now, new Random(random.nextLong()), new GossipStats(), 2, logCapacity);
            holder[0].setPeers(ids);
            nodes.add(holder[0]);
        }
        for (GossipNode node : nodes) {
            network.every(random.nextInt(200), 200, node::round);
        }
        return new Cluster(network, nodes);
    }

    @Test
    void partitionedRegionsKeepWorkingAndConvergeAfterHeal() {
        for (int schedule = 0; schedule < 5; schedule++) {
            Random random = new Random(SEED + schedule);
            Cluster cluster = cluster(random, 12, 0.05, 1 + random.nextInt(64));
            SimulatedNetwork network = cluster.network();
            List<GossipNode> nodes = cluster.nodes();
            List<String> left = new ArrayList<>();
            List<String> right = new ArrayList<>();
            for (GossipNode node : nodes) {
                (random.nextBoolean() ? left : right).add(node.id());
            }
            network.partition(List.of(left, right));
            // what each node added and wrote: every addition must survive
            Map<String, List<String>> added = new HashMap<>();
            long time = 0;
            for (int step = 0; step < 300; step++) {
                time += random.nextInt(40);
                network.runUntil(time);
                GossipNode node = nodes.get(random.nextInt(nodes.size()));
                switch (random.nextInt(4)) {
                    case 0, 1 -> {
                        String element = "host-" + step;
                        node.add("hosts", element);
                        added.computeIfAbsent("hosts", ignored -> new ArrayList<>())
                                .add(element);
                    }
                    case 2 -> node.write("vm/" + random.nextInt(5), node.id() + "@" + step);
                    default -> node.add("baselines/vm" + random.nextInt(3), node.id());
                }
            }
            // while cut off, each side converges on its own
            network.runUntil(time + 5_000);
            assertSameState(
                    left.stream().map(id -> byId(nodes, id)).toList(),
                    "left side, schedule " + schedule + ", seed " + SEED);
            assertSameState(
                    right.stream().map(id -> byId(nodes, id)).toList(),
                    "right side, schedule " + schedule + ", seed " + SEED);
            if (!left.isEmpty() && !right.isEmpty()) {
                assertNotEquals(
                        byId(nodes, left.get(0)).clock(),
                        byId(nodes, right.get(0)).clock(),
                        "the sides diverged while cut, schedule " + schedule);
            }
            network.heal();
            network.runUntil(time + 15_000);
            assertSameState(nodes, "after heal, schedule " + schedule + ", seed " + SEED);
            OrSet hosts = (OrSet) nodes.get(0).get("hosts").orElseThrow();
            for (String element : added.get("hosts")) {
                assertTrue(hosts.contains(element), element + " lost, schedule " + schedule + ", seed " + SEED);
            }
        }
    }

    @Test
    void concurrentAssignmentsAreKeptAndDetectedUntilOneNodeSawBoth() {
        Random random = new Random(SEED);
        Cluster cluster = cluster(random, 4, 0.05, 64);
        SimulatedNetwork network = cluster.network();
        List<GossipNode> nodes = cluster.nodes();
        nodes.get(0).assign("vm/web1", "host-a");
        network.runUntil(3_000);
        // a sequential assignment (it saw host-a) replaces it
        nodes.get(1).assign("vm/web1", "host-b");
        network.runUntil(6_000);
        assertSameState(nodes, "seed " + SEED);
        assertEquals(
                java.util.Set.of("host-b"), ((OrSet) nodes.get(3).get("vm/web1").orElseThrow()).elements());
        // cut in two, each side assigns: both values survive the heal, and the conflict shows
        network.partition(List.of(
                List.of(nodes.get(0).id(), nodes.get(1).id()),
                List.of(nodes.get(2).id(), nodes.get(3).id())));
        nodes.get(0).assign("vm/web1", "host-c");
        nodes.get(2).assign("vm/web1", "host-d");
        network.runUntil(9_000);
        network.heal();
        network.runUntil(12_000);
        assertSameState(nodes, "seed " + SEED);
        OrSet merged = (OrSet) nodes.get(1).get("vm/web1").orElseThrow();
        assertTrue(merged.isConcurrent());
        assertEquals(java.util.Set.of("host-c", "host-d"), merged.elements());
        // a node that saw both resolves it
        nodes.get(3).assign("vm/web1", "host-d");
        network.runUntil(15_000);
        assertSameState(nodes, "seed " + SEED);
        assertEquals(
                java.util.Set.of("host-d"), ((OrSet) nodes.get(0).get("vm/web1").orElseThrow()).elements());
    }

    @Test
    void aNodeFarBehindTheLogsCatchesUpBySnapshot() {
        Random random = new Random(SEED);
        Cluster cluster = cluster(random, 4, 0, 4);
        SimulatedNetwork network = cluster.network();
        GossipNode late = cluster.nodes().get(3);
        network.setDown(late.id(), true);
        for (int i = 0; i < 50; i++) {
            cluster.nodes().get(i % 3).add("hosts", "host-" + i);
            network.runUntil(network.now() + 50);
        }
        network.runUntil(network.now() + 2_000);
        network.setDown(late.id(), false);
        network.runUntil(network.now() + 5_000);
        assertSameState(cluster.nodes(), "seed " + SEED);
        assertEquals(50, ((OrSet) late.get("hosts").orElseThrow()).elements().size());
    }

    private static GossipNode byId(List<GossipNode> nodes, String id) {
        return nodes.stream().filter(node -> node.id().equals(id)).findFirst().orElseThrow();
    }

    private static void assertSameState(List<GossipNode> nodes, String context) {
        for (GossipNode node : nodes) {
            assertEquals(
                    nodes.get(0).state(),
                    node.state(),
                    node.id() + " differs from " + nodes.get(0).id() + ": " + context);
            assertEquals(nodes.get(0).clock(), node.clock(), node.id() + " clock: " + context);
        }
    }
}
