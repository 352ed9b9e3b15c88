package io.dwcp.region;

import java.time.Duration;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.state.StandardConnectionStateErrorPolicy;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.client.ZKClientConfig;

/** The one way the control plane makes a Curator client (timeouts and policies in {@link RegionConfig}). */
public final class CuratorClients {
    private CuratorClients() {}

    /** A client, not yet started. */
    public static CuratorFramework create(String connectString, Duration sessionTimeout, Duration connectionTimeout) {
        return CuratorFrameworkFactory.builder()
                .zkClientConfig(clientConfig())
                .connectString(connectString)
                .sessionTimeoutMs(Math.toIntExact(sessionTimeout.toMillis()))
                .connectionTimeoutMs(Math.toIntExact(connectionTimeout.toMillis()))
                // bounded: an operation fails after about a second of retries instead of hanging
                .retryPolicy(new ExponentialBackoffRetry(100, 3, 500))
                // SUSPENDED is an error state: recipes (the leader latch) give up leadership on it
                .connectionStateErrorPolicy(new StandardConnectionStateErrorPolicy())
                .build();
    }

    /**
     * No SASL: DWCP does not authenticate to ZooKeeper with it, and ZooKeeper's client, when SASL
     * is on, looks up the server's host name by reverse DNS before every connection attempt. Where
     * that lookup times out (servers named by addresses without PTR records, a resolver that does
     * not answer) each attempt waits for it: 5 s in the test bed's namespaces, longer than
     * region.connection-timeout and the session itself.
     */
    static ZKClientConfig clientConfig() {
        ZKClientConfig config = new ZKClientConfig();
        config.setProperty(ZKClientConfig.ENABLE_CLIENT_SASL_KEY, "false");
        return config;
    }
}
