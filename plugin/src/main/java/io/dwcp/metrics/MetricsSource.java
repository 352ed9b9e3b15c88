package io.dwcp.metrics;

/**
 * A component that exposes its own metrics: it appends its lines, in Prometheus text format, to
 * what {@code /metrics} serves. Contributed through a Guice multibinder of this type (see
 * {@link MetricsModule}); called on the metrics server's thread, so it must only read
 * thread-safe counters.
 */
public interface MetricsSource
{
    void appendPrometheus(StringBuilder out);
}
