package io.dwcp.region;

import static java.util.Objects.requireNonNull;

import io.dwcp.config.HostAndPort;
import java.io.Closeable;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import org.apache.zookeeper.server.embedded.ExitHandler;
import org.apache.zookeeper.server.embedded.ZooKeeperServerEmbedded;

/**
 * A single-node ZooKeeper inside dwcpd ({@code region.zookeeper.embedded=true}): for one host and
 * demos, so nothing else needs installing. Data under {@code region.zookeeper.data-dir}; no admin
 * HTTP server; a fatal server error is logged, never exits dwcpd. Production regions use an
 * ensemble of three or five servers instead: a single server is a single point of failure.
 */
public final class EmbeddedZooKeeper implements Closeable {
    private final ZooKeeperServerEmbedded server;
    private final HostAndPort listen;
    private volatile String connectString;

    public EmbeddedZooKeeper(Path dataDirectory, HostAndPort listen) throws Exception {
        this.listen = requireNonNull(listen, "listen is null");
        Files.createDirectories(dataDirectory);
        Properties configuration = new Properties();
        configuration.setProperty("clientPort", Integer.toString(listen.port()));
        configuration.setProperty("clientPortAddress", listen.host());
        // 1 s ticks: sessions of 2 s to 20 s are granted, and expire within a second of their
        // timeout (the server expires sessions in tick-sized buckets): see RegionConfig
        configuration.setProperty("tickTime", "1000");
        configuration.setProperty("initLimit", "10");
        configuration.setProperty("syncLimit", "5");
        configuration.setProperty("admin.enableServer", "false");
        configuration.setProperty("dataDir", dataDirectory.resolve("data").toString());
        configuration.setProperty("autopurge.snapRetainCount", "3");
        configuration.setProperty("autopurge.purgeInterval", "24");
        this.server = ZooKeeperServerEmbedded.builder()
                .baseDir(dataDirectory)
                .configuration(configuration)
                .exitHandler(ExitHandler.LOG_ONLY)
                .build();
    }

    public void start(Duration timeout) throws Exception {
        // ZooKeeper's embedded server cannot be closed cleanly after a failed bind: check first (port
        // 0 always binds)
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(listen.toSocketAddress());
        } catch (IOException e) {
            throw new IllegalStateException(
                    "the embedded ZooKeeper cannot listen on " + listen + " (region.zookeeper.embedded-listen): "
                            + e.getMessage(),
                    e);
        }
        server.start(timeout.toMillis());
        // the port it bound: the one configured, or the free one it took for port 0
        HostAndPort bound = HostAndPort.valueOf(server.getConnectionString());
        this.connectString = new HostAndPort(listen.host(), bound.port()).toString();
    }

    /** Where clients reach it, with the port it bound; null until started. */
    public String connectString() {
        return connectString;
    }

    @Override
    public void close() {
        server.close();
    }
}
