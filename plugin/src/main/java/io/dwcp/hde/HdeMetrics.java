package io.dwcp.hde;

import static io.dwcp.metrics.Callbacks.counter;
import static io.dwcp.metrics.Callbacks.gauge;
import static java.util.Objects.requireNonNull;

import io.dwcp.metrics.MetricsSource;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import jakarta.inject.Inject;
import java.util.Locale;
import java.util.function.IntToDoubleFunction;
import java.util.function.ToLongFunction;

/**
 * HDE on {@code /metrics}: the daemon's {@link HdeStats} as counters read at each scrape (pages and
 * bytes per page level, frames and bytes per zstd level, times) the ratio of frame bytes to
 * QEMU bytes, and the {@link CacheBudget}'s size and what sessions reserved of it. Runs on the exporter's thread; reads only the thread-safe counters.
 */
public final class HdeMetrics implements MetricsSource {
    private final HdeStats stats;
    private final CacheBudget budget;

    @Inject
    public HdeMetrics(HdeStats stats, CacheBudget budget) {
        this.stats = requireNonNull(stats, "stats is null");
        this.budget = requireNonNull(budget, "budget is null");
    }

    @Override
    public void register(PrometheusRegistry registry) {
        perPageLevel(
                registry,
                "dwcp_hde_pages_total",
                "Pages encoded, by HDE level (zero, reference, delta, page, baseline_delta)",
                stats::pages);
        perPageLevel(
                registry,
                "dwcp_hde_page_bytes_in_total",
                "Stream bytes of the pages encoded (header and page), by HDE level",
                stats::pageBytesIn);
        perPageLevel(
                registry,
                "dwcp_hde_page_bytes_out_total",
                "Bytes of the records the pages became (uncompressed body), by HDE level",
                stats::pageBytesOut);
        counter(
                registry,
                "dwcp_hde_baseline_references_total",
                "Pages sent as references to a baseline the destination held before the migration",
                stats::baselineReferences);
        counter(registry, "dwcp_hde_raw_bytes_in_total", "Stream bytes encoded raw (not as pages)", stats::rawBytesIn);
        counter(registry, "dwcp_hde_raw_bytes_out_total", "Bytes of the raw records", stats::rawBytesOut);
        perZstdLevel(
                registry,
                "dwcp_hde_frames_total",
                "HDE frames encoded, by zstd level (none: not compressed)",
                stats::levelFrames);
        perZstdLevel(
                registry,
                "dwcp_hde_body_bytes_total",
                "Uncompressed body bytes of the HDE frames, by zstd level",
                stats::levelBodyBytes);
        perZstdLevel(
                registry,
                "dwcp_hde_frame_bytes_total",
                "Bytes of the HDE frames written, by zstd level",
                stats::levelFrameBytes);
        perZstdLevel(
                registry,
                "dwcp_hde_input_bytes_total",
                "Stream bytes given to the encoder while a zstd level was set",
                level -> stats.levelSample(level).inputBytes());
        perZstdLevel(
                registry,
                "dwcp_hde_level_encode_seconds_total",
                "Encoder time spent while a zstd level was set",
                level -> stats.levelSample(level).encodeNanos() / 1e9);
        counter(registry, "dwcp_hde_encode_seconds_total", "Time spent encoding", () -> stats.encodeNanos() / 1e9);
        counter(registry, "dwcp_hde_decode_seconds_total", "Time spent decoding", () -> stats.decodeNanos() / 1e9);
        counter(registry, "dwcp_hde_frames_decoded_total", "HDE frames decoded", stats::framesDecoded);
        counter(
                registry,
                "dwcp_hde_bytes_decoded_total",
                "Stream bytes handed out by the decoders",
                stats::bytesDecoded);
        counter(
                registry,
                "dwcp_hde_dictionaries_trained_total",
                "zstd dictionaries trained",
                stats::dictionariesTrained);
        counter(
                registry,
                "dwcp_hde_dictionary_training_failures_total",
                "zstd dictionary trainings that failed",
                stats::dictionaryTrainingFailures);
        gauge(
                registry,
                "dwcp_hde_cache_budget_bytes",
                "Memory for the HDE caches of all sessions together (hde.cache-budget)",
                budget::capacity);
        gauge(
                registry,
                "dwcp_hde_cache_reserved_bytes",
                "Memory the running sessions reserved for their HDE caches, out of hde.cache-budget",
                budget::reserved);
        gauge(registry, "dwcp_hde_ratio", "HDE frame bytes per QEMU byte encoded (lower is better)", () -> {
            long in = stats.bytesIn();
            return in == 0 ? 0 : (double) stats.frameBytesEncoded() / in;
        });
    }

    private static void perPageLevel(
            PrometheusRegistry registry, String name, String help, ToLongFunction<PageLevel> value) {
        CounterWithCallback.builder()
                .name(name)
                .help(help)
                .labelNames("level")
                .callback(callback -> {
                    for (PageLevel level : PageLevel.values()) {
                        callback.call(value.applyAsLong(level), level.name().toLowerCase(Locale.ROOT));
                    }
                })
                .register(registry);
    }

    /** One sample per compression level used so far ({@code none} for raw frames). */
    private void perZstdLevel(PrometheusRegistry registry, String name, String help, IntToDoubleFunction value) {
        CounterWithCallback.builder()
                .name(name)
                .help(help)
                .labelNames("zstd_level")
                .callback(callback -> {
                    for (int level : stats.levelsUsed()) {
                        callback.call(
                                value.applyAsDouble(level),
                                level == HdeStats.NO_COMPRESSION ? "none" : Integer.toString(level));
                    }
                })
                .register(registry);
    }
}
