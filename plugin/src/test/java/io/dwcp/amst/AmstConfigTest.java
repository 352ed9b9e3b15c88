package io.dwcp.amst;

import static io.dwcp.config.ConfigAssertions.assertFullMapping;
import static io.dwcp.config.ConfigAssertions.expectedDefaults;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dwcp.config.ConfigurationBinder;
import io.dwcp.config.ConfigurationException;
import io.dwcp.config.DataSize;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AmstConfigTest {
    @Test
    void defaults() {
        AmstConfig config = expectedDefaults(AmstConfig.class)
                .expect("amst.window", DataSize.ofMiB(64))
                .expect("amst.raw-window", DataSize.ofMiB(64))
                .expect("amst.switchover-drain", Duration.ofMillis(150))
                .expect("amst.read-pace-percent", 125)
                .expect("amst.head-resend", Duration.ofMillis(100))
                .expect("amst.checkpoint-delay", Duration.ofMillis(5))
                .expect("amst.max-receive-window", DataSize.ofMiB(256))
                .expect("amst.max-frame-payload", DataSize.ofKiB(256))
                .expect("amst.checkpoint-interval", DataSize.ofMiB(4))
                .expect("amst.initial-streams", 8)
                .expect("amst.min-streams", 1)
                .expect("amst.max-streams", 256)
                .expect("amst.adapt-interval", Duration.ofSeconds(1))
                .expect("amst.congestion-control", "bbr")
                .expect("amst.max-pacing-rate", DataSize.ofBytes(0))
                .expect("amst.stream-write-buffer", DataSize.ofMiB(1))
                .expect("amst.notsent-lowat", DataSize.ofBytes(0))
                .verify();
        config.validate();
    }

    @Test
    void explicitMapping() {
        assertFullMapping(
                Map.ofEntries(
                        Map.entry("amst.window", "8MiB"),
                        Map.entry("amst.raw-window", "32MiB"),
                        Map.entry("amst.switchover-drain", "300ms"),
                        Map.entry("amst.read-pace-percent", "150"),
                        Map.entry("amst.head-resend", "0s"),
                        Map.entry("amst.checkpoint-delay", "0s"),
                        Map.entry("amst.max-receive-window", "128MiB"),
                        Map.entry("amst.max-frame-payload", "64KiB"),
                        Map.entry("amst.checkpoint-interval", "1MiB"),
                        Map.entry("amst.initial-streams", "2"),
                        Map.entry("amst.min-streams", "2"),
                        Map.entry("amst.max-streams", "16"),
                        Map.entry("amst.adapt-interval", "500ms"),
                        Map.entry("amst.congestion-control", "cubic"),
                        Map.entry("amst.max-pacing-rate", "100MiB"),
                        Map.entry("amst.stream-write-buffer", "2MiB"),
                        Map.entry("amst.notsent-lowat", "256KiB")),
                AmstConfig.class,
                config -> {
                    assertEquals(DataSize.ofMiB(8), config.getWindow());
                    assertEquals(DataSize.ofMiB(32), config.getRawWindow());
                    assertEquals(Duration.ofMillis(300), config.getSwitchoverDrain());
                    assertEquals(150, config.getReadPacePercent());
                    assertEquals(Duration.ZERO, config.getHeadResend());
                    assertEquals(Duration.ZERO, config.getCheckpointDelay());
                    assertEquals(DataSize.ofMiB(128), config.getMaxReceiveWindow());
                    assertEquals(DataSize.ofKiB(64), config.getMaxFramePayload());
                    assertEquals(DataSize.ofMiB(1), config.getCheckpointInterval());
                    assertEquals(2, config.getInitialStreams());
                    assertEquals(2, config.getMinStreams());
                    assertEquals(16, config.getMaxStreams());
                    assertEquals(Duration.ofMillis(500), config.getAdaptInterval());
                    assertEquals("cubic", config.getCongestionControl());
                    assertEquals(DataSize.ofMiB(100), config.getMaxPacingRate());
                    assertEquals(DataSize.ofMiB(2), config.getStreamWriteBuffer());
                    assertEquals(DataSize.ofKiB(256), config.getNotsentLowat());
                    config.validate();
                });
    }

    @Test
    void invalidValuesNameTheKey() {
        assertEquals(
                "amst.congestion-control=BBR v2: expected a TCP congestion control name such as bbr or cubic, or empty"
                        + " for the system's default",
                assertThrows(
                                ConfigurationException.class,
                                () -> new ConfigurationBinder(Map.of("amst.congestion-control", "BBR v2"))
                                        .bind(AmstConfig.class))
                        .getMessage());
        assertEquals(
                "amst.notsent-lowat=3GiB: expected at most 2GiB",
                assertThrows(
                                ConfigurationException.class,
                                () -> new ConfigurationBinder(Map.of("amst.notsent-lowat", "3GiB"))
                                        .bind(AmstConfig.class))
                        .getMessage());
        assertEquals(
                "need 1 <= amst.min-streams <= amst.initial-streams <= amst.max-streams <= 256, got 1, 8, 257",
                assertThrows(
                                ConfigurationException.class,
                                () -> new AmstConfig().setMaxStreams(257).validate())
                        .getMessage());
        assertEquals(
                "amst.raw-window must be at least 2 x amst.checkpoint-interval: 4MiB",
                assertThrows(
                                ConfigurationException.class,
                                () -> new AmstConfig()
                                        .setRawWindow(DataSize.ofMiB(4))
                                        .validate())
                        .getMessage());
        assertEquals(
                "amst.read-pace-percent must be 0 (not paced) or between 100 and 1000: 99",
                assertThrows(
                                ConfigurationException.class,
                                () -> new AmstConfig().setReadPacePercent(99).validate())
                        .getMessage());
        new AmstConfig().setReadPacePercent(0).validate();
        new AmstConfig().setReadPacePercent(1000).validate();
        assertEquals(
                "amst.max-receive-window must be at least amst.window",
                assertThrows(
                                ConfigurationException.class,
                                () -> new AmstConfig()
                                        .setMaxReceiveWindow(DataSize.ofMiB(32))
                                        .validate())
                        .getMessage());
        assertEquals(
                "amst.checkpoint-delay must be between 0s and 100ms: PT0.2S",
                assertThrows(
                                ConfigurationException.class,
                                () -> new AmstConfig()
                                        .setCheckpointDelay(Duration.ofMillis(200))
                                        .validate())
                        .getMessage());
        assertEquals(
                "amst.head-resend must not be negative: PT-0.001S",
                assertThrows(
                                ConfigurationException.class,
                                () -> new AmstConfig()
                                        .setHeadResend(Duration.ofMillis(-1))
                                        .validate())
                        .getMessage());
        new AmstConfig().setCongestionControl("").validate();
    }

    @Test
    void theDefaultInitialStreamsKeepWithinTheBoundsSetAndASetCountMustFitThem() {
        AmstConfig lowMaximum = new AmstConfig().setMaxStreams(4);
        lowMaximum.validate();
        assertEquals(4, lowMaximum.getInitialStreams());
        AmstConfig highMinimum = new AmstConfig().setMinStreams(10);
        highMinimum.validate();
        assertEquals(10, highMinimum.getInitialStreams());
        assertEquals(
                "need 1 <= amst.min-streams <= amst.initial-streams <= amst.max-streams <= 256, got 1, 6, 4",
                assertThrows(
                                ConfigurationException.class,
                                () -> new AmstConfig()
                                        .setInitialStreams(6)
                                        .setMaxStreams(4)
                                        .validate())
                        .getMessage());
        assertEquals(
                "amst.initial-streams=0: must be at least 1",
                assertThrows(
                                ConfigurationException.class,
                                () -> new ConfigurationBinder(Map.of("amst.initial-streams", "0"))
                                        .bind(AmstConfig.class))
                        .getMessage());
    }
}
