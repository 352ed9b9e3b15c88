package io.dwcp.region;

import io.dwcp.FreePorts;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;

/**
 * A ZooKeeper ensemble on loopback whose client, election and quorum ports are all distinct.
 *
 * <p>curator-test picks each port of an {@link InstanceSpec} on its own (it binds port 0 and
 * closes the socket again), so two ports of one server can come out equal, which ZooKeeper
 * refuses ("Client and election port must be different"), and a port the kernel handed out can
 * be handed out again before the server binds it. Here every port comes from {@link FreePorts}
 * (below the kernel's ephemeral range) and no two are the same.
 */
final class LocalEnsemble {
    private LocalEnsemble() {}

    /** An unstarted ensemble of {@code servers} servers; the caller starts and closes it. */
    static TestingCluster of(int servers) {
        Set<Integer> taken = new HashSet<>();
        List<InstanceSpec> specs = new ArrayList<>();
        for (int id = 1; id <= servers; id++) {
            int client = distinct(taken);
            int election = distinct(taken);
            int quorum = distinct(taken);
            specs.add(new InstanceSpec(null, client, election, quorum, true, id, -1, -1));
        }
        return new TestingCluster(specs);
    }

    private static int distinct(Set<Integer> taken) {
        int port = FreePorts.pick();
        while (!taken.add(port)) {
            port = FreePorts.pick();
        }
        return port;
    }
}
