package io.dwcp.metrics;

import io.dwcp.config.HostAndPort;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

class MetricsServerTest
{
    /** A component's counter, as a module would contribute it. */
    private record Counter(String name, long value)
            implements MetricsSource
    {
        @Override
        public void appendPrometheus(StringBuilder out)
        {
            out.append("# TYPE ").append(name).append(" counter\n").append(name).append(' ').append(value).append('\n');
        }
    }

    @Test
    void rendersEverySourceInTheOrderTheyWereBound()
    {
        // the multibinder hands a set that iterates in binding order: second before first here
        Set<MetricsSource> sources = new LinkedHashSet<>(List.of(new Counter("dwcp_second_total", 2), new Counter("dwcp_first_total", 1)));
        MetricsServer server = new MetricsServer(new MetricsConfig(), sources);
        assertEquals("# TYPE dwcp_second_total counter\ndwcp_second_total 2\n# TYPE dwcp_first_total counter\ndwcp_first_total 1\n", server.render());
        assertEquals("", new MetricsServer(new MetricsConfig(), Set.of()).render());
    }

    @Test
    void servesTheRenderingOverHttp()
            throws IOException
    {
        MetricsConfig config = new MetricsConfig().setListen(new HostAndPort("127.0.0.1", 0));
        try (MetricsServer server = new MetricsServer(config, Set.of(new Counter("dwcp_only_total", 7)))) {
            server.start();
            HttpURLConnection http = (HttpURLConnection) URI.create("http://127.0.0.1:" + server.address().getPort() + "/metrics").toURL().openConnection();
            try (InputStream in = http.getInputStream()) {
                assertEquals(200, http.getResponseCode());
                assertEquals("text/plain; version=0.0.4; charset=utf-8", http.getHeaderField("Content-Type"));
                assertEquals("# TYPE dwcp_only_total counter\ndwcp_only_total 7\n", new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
            finally {
                http.disconnect();
            }
        }
    }
}
