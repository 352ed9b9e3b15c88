package io.dwcp.metrics;

import com.sun.net.httpserver.HttpServer;
import jakarta.inject.Inject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * {@code GET /metrics} in Prometheus text format: what each component's {@link MetricsSource}
 * appends (the tunnel's, HDE's, the control plane's), one after the other in the order their
 * modules bind them. It knows none of them.
 */
public final class MetricsServer
        implements Closeable
{
    private static final Logger log = LoggerFactory.getLogger(MetricsServer.class);

    private final MetricsConfig config;
    private final List<MetricsSource> sources;
    private HttpServer server;

    @Inject
    public MetricsServer(MetricsConfig config, Set<MetricsSource> sources)
    {
        this.config = requireNonNull(config, "config is null");
        // a list: the multibinder's set iterates in binding order, which the output keeps
        this.sources = List.copyOf(requireNonNull(sources, "sources is null"));
    }

    public void start()
            throws IOException
    {
        if (!config.isEnabled()) {
            return;
        }
        server = HttpServer.create(config.getListen().toSocketAddress(), 16);
        server.createContext("/metrics", exchange -> {
            byte[] body = render().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        log.info("metrics on http://{}/metrics", config.getListen().host() + ":" + server.getAddress().getPort());
    }

    public InetSocketAddress address()
    {
        return server.getAddress();
    }

    public String render()
    {
        StringBuilder out = new StringBuilder(4096);
        for (MetricsSource source : sources) {
            source.appendPrometheus(out);
        }
        return out.toString();
    }

    @Override
    public void close()
    {
        if (server != null) {
            server.stop(0);
        }
    }
}
