package io.dwcp.metrics;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;

/**
 * Shorthands for a figure a component keeps anyway (a {@code LongAdder}, an atomic, a map's
 * size): registered as a callback the registry reads at each scrape, on the exporter's thread, so
 * the supplier must be thread-safe and cheap. Names are the full exposed names: a counter's ends
 * in {@code _total}.
 */
public final class Callbacks {
    private Callbacks() {}

    public static void counter(PrometheusRegistry registry, String name, String help, LongSupplier value) {
        CounterWithCallback.builder()
                .name(name)
                .help(help)
                .callback(callback -> callback.call(value.getAsLong()))
                .register(registry);
    }

    /** A counter of seconds, say, kept in another unit: {@code value} supplies it converted. */
    public static void counter(PrometheusRegistry registry, String name, String help, DoubleSupplier value) {
        CounterWithCallback.builder()
                .name(name)
                .help(help)
                .callback(callback -> callback.call(value.getAsDouble()))
                .register(registry);
    }

    public static void gauge(PrometheusRegistry registry, String name, String help, DoubleSupplier value) {
        GaugeWithCallback.builder()
                .name(name)
                .help(help)
                .callback(callback -> callback.call(value.getAsDouble()))
                .register(registry);
    }
}
