package io.dwcp.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.config.HostAndPort;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class MetricsServerTest {
    /** A component's counter, as a module would contribute it: a figure it keeps, read at each scrape. */
    private record Counter(String name, AtomicLong value) implements MetricsSource {
        Counter(String name, long value) {
            this(name, new AtomicLong(value));
        }

        @Override
        public void register(PrometheusRegistry registry) {
            Callbacks.counter(registry, name, "a test counter", value::get);
        }
    }

    @Test
    void rendersWhatEverySourceRegistered() {
        // the multibinder hands a set that iterates in binding order; the exposition sorts families by name
        Set<MetricsSource> sources =
                new LinkedHashSet<>(List.of(new Counter("dwcp_second_total", 2), new Counter("dwcp_first_total", 1)));
        MetricsServer server = new MetricsServer(new MetricsConfig(), sources);
        assertEquals("""
                # HELP dwcp_first_total a test counter
                # TYPE dwcp_first_total counter
                dwcp_first_total 1.0
                # HELP dwcp_second_total a test counter
                # TYPE dwcp_second_total counter
                dwcp_second_total 2.0
                """, server.render());
        assertEquals("", new MetricsServer(new MetricsConfig(), Set.of()).render());
    }

    @Test
    void aScrapeReadsTheFiguresOfThatMoment() {
        Counter counter = new Counter("dwcp_only_total", 7);
        MetricsServer server = new MetricsServer(new MetricsConfig(), Set.of(counter));
        assertEquals(7, ScrapedMetrics.parse(server.render()).require("dwcp_only_total"));
        counter.value().set(12_345_678_901L);
        ScrapedMetrics scrape = ScrapedMetrics.parse(server.render());
        assertEquals(12_345_678_901L, scrape.require("dwcp_only_total"));
        assertEquals("counter", scrape.type("dwcp_only_total"));
    }

    @Test
    void theExporterServesMetricsOnTheConfiguredAddress() throws IOException {
        MetricsConfig config = new MetricsConfig().setListen(new HostAndPort("127.0.0.1", 0));
        try (MetricsServer server = new MetricsServer(config, Set.of(new Counter("dwcp_only_total", 7)))) {
            server.start();
            assertEquals("127.0.0.1", server.address().getAddress().getHostAddress());
            assertTrue(server.address().getPort() > 0, "the port the system chose: " + server.address());
            HttpURLConnection http = get(server, "/metrics");
            try (InputStream in = http.getInputStream()) {
                assertEquals(200, http.getResponseCode());
                assertEquals("text/plain; version=0.0.4; charset=utf-8", http.getHeaderField("Content-Type"));
                assertEquals(server.render(), new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } finally {
                http.disconnect();
            }
            // only /metrics: no landing page, no health path
            for (String path : List.of("/", "/-/healthy")) {
                HttpURLConnection other = get(server, path);
                try {
                    assertEquals(404, other.getResponseCode(), path);
                } finally {
                    other.disconnect();
                }
            }
        }
    }

    @Test
    void closingStopsServing() throws IOException {
        MetricsConfig config = new MetricsConfig().setListen(new HostAndPort("127.0.0.1", 0));
        MetricsServer server = new MetricsServer(config, Set.of());
        server.start();
        int port = server.address().getPort();
        server.close();
        HttpURLConnection http = (HttpURLConnection)
                URI.create("http://127.0.0.1:" + port + "/metrics").toURL().openConnection();
        try {
            assertThrows(IOException.class, http::getResponseCode);
        } finally {
            http.disconnect();
        }
    }

    @Test
    void disabledServesNothing() throws IOException {
        try (MetricsServer server = new MetricsServer(
                new MetricsConfig().setEnabled(false).setListen(new HostAndPort("127.0.0.1", 0)), Set.of())) {
            server.start();
            assertThrows(IllegalStateException.class, server::address);
        }
    }

    private static HttpURLConnection get(MetricsServer server, String path) throws IOException {
        return (HttpURLConnection)
                URI.create("http://127.0.0.1:" + server.address().getPort() + path)
                        .toURL()
                        .openConnection();
    }
}
