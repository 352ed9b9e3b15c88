package io.dwcp.codec;

import static io.dwcp.config.ConfigAssertions.assertFullMapping;
import static io.dwcp.config.ConfigAssertions.expectedDefaults;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dwcp.config.ConfigurationBinder;
import io.dwcp.config.ConfigurationException;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CodecConfigTest {
    @Test
    void defaults() {
        CodecConfig config =
                expectedDefaults(CodecConfig.class).expect("codec.mode", "hde").verify();
        assertEquals(CodecMode.HDE, config.codecMode());
        config.validate();
    }

    @Test
    void explicitMapping() {
        assertFullMapping(Map.of("codec.mode", "passthrough"), CodecConfig.class, config -> {
            assertEquals("passthrough", config.getMode());
            assertEquals(CodecMode.PASSTHROUGH, config.codecMode());
            config.validate();
        });
    }

    @Test
    void anUnknownModeIsRefusedWithTheKey() {
        ConfigurationException e = assertThrows(
                ConfigurationException.class,
                () -> new ConfigurationBinder(Map.of("codec.mode", "zstd")).bind(CodecConfig.class));
        assertEquals("codec.mode=zstd: expected hde or passthrough", e.getMessage());
    }
}
