package io.dwcp.metrics;

import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * A component that exposes its own metrics on {@code /metrics}: once, while the daemon is built,
 * it registers its collectors in the daemon's {@link PrometheusRegistry}. A collector is a
 * {@code Counter}, {@code Gauge} or {@code Histogram} the component owns and updates, a
 * {@code CounterWithCallback} or {@code GaugeWithCallback} over figures it counts anyway (see
 * {@link Callbacks}), or a {@code MultiCollector} for figures computed at each scrape (one sample
 * per session, per stream). Contributed through a Guice multibinder of this type (see
 * {@link MetricsModule}).
 *
 * <p>Callbacks and {@code collect()} run on the exporter's threads at every scrape: they read only
 * thread-safe state (counters, concurrent maps, copy-on-write lists, volatile fields) and never
 * block.
 */
public interface MetricsSource {
    void register(PrometheusRegistry registry);
}
