package io.dwcp.metrics;

import static io.dwcp.config.ConfigAssertions.assertFullMapping;
import static io.dwcp.config.ConfigAssertions.expectedDefaults;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.dwcp.config.HostAndPort;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MetricsConfigTest {
    @Test
    void defaults() {
        expectedDefaults(MetricsConfig.class)
                .expect("metrics.enabled", true)
                .expect("metrics.listen", new HostAndPort("127.0.0.1", 9470))
                .verify();
    }

    @Test
    void explicitMapping() {
        assertFullMapping(
                Map.of("metrics.enabled", "false", "metrics.listen", "[::1]:0"), MetricsConfig.class, config -> {
                    assertFalse(config.isEnabled());
                    assertEquals(new HostAndPort("::1", 0), config.getListen());
                });
    }
}
