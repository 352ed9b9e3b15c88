/**
 * The Prometheus endpoint, {@code GET /metrics}. It renders nobody's internals: each component
 * exposes its own figures as a {@link io.dwcp.metrics.MetricsSource} its module adds to a Guice
 * multibinder ({@code io.dwcp.tunnel.TunnelMetrics}, {@code io.dwcp.hde.HdeMetrics},
 * {@code io.dwcp.region.RegionMetrics}), and {@link io.dwcp.metrics.MetricsServer} appends them
 * in binding order. Depends on {@code io.dwcp.config} only; the components depend on it.
 *
 * <h2>Threads</h2>
 * <ul>
 * <li>{@link io.dwcp.metrics.MetricsServer}: started and closed by the daemon; the JDK HTTP
 * server's dispatcher thread answers each request and calls every source on it, so a source
 * reads only thread-safe state (counters, concurrent maps, copy-on-write lists, volatile
 * fields) and never blocks.</li>
 * <li>{@link io.dwcp.metrics.MetricsConfig}: set while the daemon is configured, read-only after.</li>
 * </ul>
 */
package io.dwcp.metrics;
