package io.dwcp.region;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;

/**
 * A ZooKeeper ensemble on loopback whose client, election and quorum ports are all distinct.
 *
 * <p>curator-test picks each port of an {@link InstanceSpec} on its own (it binds port 0 and
 * closes the socket again), so two ports of one server can come out equal, which ZooKeeper
 * refuses ("Client and election port must be different"). Here every port is held open until all
 * of them are chosen, then released just before the ensemble starts.
 */
final class LocalEnsemble {
    private LocalEnsemble() {}

    /** An unstarted ensemble of {@code servers} servers; the caller starts and closes it. */
    static TestingCluster of(int servers) {
        List<ServerSocket> held = new ArrayList<>();
        try {
            List<InstanceSpec> specs = new ArrayList<>();
            for (int id = 1; id <= servers; id++) {
                int client = hold(held);
                int election = hold(held);
                int quorum = hold(held);
                specs.add(new InstanceSpec(null, client, election, quorum, true, id, -1, -1));
            }
            return new TestingCluster(specs);
        } finally {
            for (ServerSocket socket : held) {
                try {
                    socket.close();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
    }

    private static int hold(List<ServerSocket> held) {
        try {
            ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
            socket.setReuseAddress(true);
            held.add(socket);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
