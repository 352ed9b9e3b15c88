package io.dwcp.session;

import static io.dwcp.session.TestBed.readAndVerify;
import static io.dwcp.session.TestBed.writeStream;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dwcp.FreePorts;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The loopback TCP path: QEMU migrates to tcp:127.0.0.1:P at the source; the destination dwcpd
 * connects to QEMU -incoming on 127.0.0.1:P (here P + tunnel.incoming-port-offset, both daemons
 * sharing one host).
 */
class QemuTcpPortTest {
    @Test
    void migratesThroughTheLoopbackPort() throws Exception {
        int port = FreePorts.pick();
        int destinationPort = FreePorts.pick();
        long seed = System.nanoTime();
        long bytes = 24L << 20;
        ExecutorService executor = Executors.newCachedThreadPool();
        Map<String, String> beta = Map.of("tunnel.incoming-port-offset", Integer.toString(destinationPort - port));
        try (TestBed bed = new TestBed(Map.of("amst.adapt-interval", "0s"), beta, binder -> {});
                ServerSocketChannel destination =
                        ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", destinationPort))) {
            // alpha only learns the port from its configuration: restart it with peer.beta.qemu-port
            bed.alpha.close();
            Map<String, String> alphaProperties =
                    new java.util.HashMap<>(bed.properties("alpha", Map.of("amst.adapt-interval", "0s")));
            alphaProperties.put(
                    "node.run-dir", bed.directory.resolve("alpha-tcp-run").toString());
            alphaProperties.put(
                    "peer.beta.address",
                    "127.0.0.1:" + bed.beta.tunnelServer().localAddress().getPort());
            alphaProperties.put("peer.beta.qemu-port", Integer.toString(port));
            try (var alpha = io.dwcp.daemon.DwcpDaemon.create(alphaProperties)) {
                alpha.start();
                Future<Long> received = executor.submit(() -> {
                    try (SocketChannel channel = destination.accept()) {
                        return readAndVerify(channel, seed, bytes, true);
                    }
                });
                try (SocketChannel source = SocketChannel.open(new InetSocketAddress("127.0.0.1", port))) {
                    writeStream(source, seed, bytes);
                }
                assertEquals(bytes, received.get(60, TimeUnit.SECONDS));
                TestBed.await(
                        "sessions to complete",
                        Duration.ofSeconds(20),
                        () -> alpha.sessions().sessions().isEmpty()
                                && bed.beta.sessions().sessions().isEmpty());
                assertEquals(1, alpha.tunnelStats().sessionsCompleted.sum());
            }
        } finally {
            executor.shutdownNow();
        }
    }
}
