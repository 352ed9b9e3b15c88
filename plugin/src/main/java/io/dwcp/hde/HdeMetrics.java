package io.dwcp.hde;

import io.dwcp.metrics.MetricsSource;
import jakarta.inject.Inject;

import static java.util.Objects.requireNonNull;

/**
 * HDE on {@code /metrics}: the daemon's {@link HdeStats} (pages and bytes per level, frames per
 * zstd level, times) and the ratio of frame bytes to QEMU bytes. Called on the metrics server's
 * thread; reads only the thread-safe counters.
 */
public final class HdeMetrics
        implements MetricsSource
{
    private final HdeStats stats;

    @Inject
    public HdeMetrics(HdeStats stats)
    {
        this.stats = requireNonNull(stats, "stats is null");
    }

    @Override
    public void appendPrometheus(StringBuilder out)
    {
        out.append("# HELP dwcp_hde_pages_total Pages encoded, by HDE level (zero, reference, delta, page)\n# TYPE dwcp_hde_pages_total counter\n");
        stats.appendPrometheus(out);
        long in = stats.bytesIn();
        out.append("# HELP dwcp_hde_ratio HDE frame bytes per QEMU byte encoded (lower is better)\n# TYPE dwcp_hde_ratio gauge\n");
        out.append("dwcp_hde_ratio ").append(in == 0 ? 0 : (double) stats.frameBytesEncoded() / in).append('\n');
    }
}
