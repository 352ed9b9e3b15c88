package io.dwcp.metrics;

import io.dwcp.config.Config;
import io.dwcp.config.HostAndPort;

/** The Prometheus endpoint. */
public class MetricsConfig {
    private boolean enabled = true;
    private HostAndPort listen = new HostAndPort("127.0.0.1", 9470);

    public boolean isEnabled() {
        return enabled;
    }

    @Config(value = "metrics.enabled", description = "serve /metrics over HTTP")
    public MetricsConfig setEnabled(boolean enabled) {
        this.enabled = enabled;
        return this;
    }

    public HostAndPort getListen() {
        return listen;
    }

    @Config(value = "metrics.listen", description = "address of the metrics endpoint (port 0 = any free port)")
    public MetricsConfig setListen(HostAndPort listen) {
        this.listen = listen;
        return this;
    }
}
