package io.dwcp.metrics;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import jakarta.inject.Inject;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /metrics}: the daemon's {@link PrometheusRegistry}, into which every component's
 * {@link MetricsSource} registered its collectors (the tunnel's, HDE's, the control plane's), served
 * by the Prometheus client library's HTTP exporter on {@code metrics.listen}. It knows none of
 * the sources. The exporter answers in the format the scraper asks for (Prometheus text 0.0.4 by
 * default, OpenMetrics or protobuf on request, gzip if accepted); metric families come out sorted
 * by name. Any other path is 404.
 *
 * <p>The registry is the daemon's own, not the library's default one: two daemons in one JVM (the
 * tests) keep their figures apart.
 */
public final class MetricsServer implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(MetricsServer.class);

    private final MetricsConfig config;
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private volatile HTTPServer server;
    private volatile ExecutorService executor;

    @Inject
    public MetricsServer(MetricsConfig config, Set<MetricsSource> sources) {
        this.config = requireNonNull(config, "config is null");
        for (MetricsSource source : requireNonNull(sources, "sources is null")) {
            source.register(registry);
        }
    }

    /** Serves {@code /metrics} on {@code metrics.listen}, on the exporter's own threads; nothing if disabled. */
    public void start() throws IOException {
        if (!config.isEnabled()) {
            return;
        }
        InetSocketAddress listen = config.getListen().toSocketAddress();
        if (listen.isUnresolved()) {
            // the exporter would take a null address as "every interface"
            throw new IOException(
                    "metrics.listen: cannot resolve " + config.getListen().host());
        }
        // two named daemon threads, always the same ones: the exporter's default pool grows a thread per
        // overlapping scrape (up to ten), which made the daemon's thread count drift (DwcpSoakIT)
        AtomicInteger threads = new AtomicInteger();
        executor = Executors.newFixedThreadPool(2, runnable -> {
            Thread thread = new Thread(runnable, "dwcp-metrics-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        server = HTTPServer.builder()
                .executorService(executor)
                .inetAddress(listen.getAddress())
                .port(listen.getPort())
                .registry(registry)
                .metricsHandlerPath("/metrics")
                .registerHealthHandler(false)
                .defaultHandler(exchange -> {
                    exchange.sendResponseHeaders(404, -1);
                    exchange.close();
                })
                .buildAndStart();
        log.info("metrics on http://{}/metrics", address().getHostString() + ":" + server.getPort());
    }

    /** Where {@code /metrics} is served (the port the system chose, for port 0); only once started. */
    public InetSocketAddress address() {
        if (server == null) {
            throw new IllegalStateException("the metrics endpoint is not serving");
        }
        return new InetSocketAddress(config.getListen().toSocketAddress().getAddress(), server.getPort());
    }

    /** What a scrape without an {@code Accept} header gets: every source's figures in Prometheus text format. */
    public String render() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
        try {
            PrometheusTextFormatWriter.create().write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        return out.toString(UTF_8);
    }

    @Override
    public void close() {
        if (server != null) {
            // stops accepting, then shuts the exporter's thread pool down
            server.close();
        }
        if (executor != null) {
            executor.shutdownNow();
        }
    }
}
