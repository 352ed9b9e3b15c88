/**
 * The Prometheus endpoint, {@code GET /metrics}, served by the Prometheus client library
 * ({@code io.prometheus:prometheus-metrics-*}). It renders nobody's internals: each component
 * exposes its own figures as a {@link io.dwcp.metrics.MetricsSource} its module adds to a Guice
 * multibinder ({@code io.dwcp.session.TunnelMetrics}, {@code io.dwcp.hde.HdeMetrics},
 * {@code io.dwcp.region.RegionMetrics}), which registers its collectors in the daemon's registry;
 * {@link io.dwcp.metrics.MetricsServer} serves that registry. {@link io.dwcp.metrics.Callbacks}
 * and {@link io.dwcp.metrics.LatencyHistograms} are shorthands for the sources. Depends on
 * {@code io.dwcp.config} only; the components depend on it.
 *
 * <h2>Threads</h2>
 * <ul>
 * <li>{@link io.dwcp.metrics.MetricsServer}: built with the daemon (the sources register then),
 * started and closed by the daemon. Its fixed pool of two threads ({@code dwcp-metrics-*}, daemon
 * threads, never a Netty event loop; shut down on close) answers each request and scrapes the
 * registry on it:
 * every callback and {@code collect()} of every source runs there, so a source reads only
 * thread-safe state (counters, concurrent maps, copy-on-write lists, volatile fields) and never
 * blocks. {@code render()} scrapes on the caller's thread in the same way.</li>
 * <li>Histograms ({@link io.dwcp.metrics.LatencyHistograms}) are thread-safe: observed from any
 * thread (a session's event loop), read by a scrape.</li>
 * <li>{@link io.dwcp.metrics.MetricsConfig}: set while the daemon is configured, read-only after.</li>
 * </ul>
 */
package io.dwcp.metrics;
