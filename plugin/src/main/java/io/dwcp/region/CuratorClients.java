package io.dwcp.region;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.state.StandardConnectionStateErrorPolicy;
import org.apache.curator.retry.ExponentialBackoffRetry;

import java.time.Duration;

/** The one way the control plane makes a Curator client (timeouts and policies in {@link RegionConfig}). */
public final class CuratorClients
{
    private CuratorClients() {}

    /** A client, not yet started. */
    public static CuratorFramework create(String connectString, Duration sessionTimeout, Duration connectionTimeout)
    {
        return CuratorFrameworkFactory.builder()
                .connectString(connectString)
                .sessionTimeoutMs(Math.toIntExact(sessionTimeout.toMillis()))
                .connectionTimeoutMs(Math.toIntExact(connectionTimeout.toMillis()))
                // bounded: an operation fails after about a second of retries instead of hanging
                .retryPolicy(new ExponentialBackoffRetry(100, 3, 500))
                // SUSPENDED is an error state: recipes (the leader latch) give up leadership on it
                .connectionStateErrorPolicy(new StandardConnectionStateErrorPolicy())
                .build();
    }
}
