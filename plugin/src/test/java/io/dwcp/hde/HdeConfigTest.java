package io.dwcp.hde;

import static io.dwcp.config.ConfigAssertions.assertFullMapping;
import static io.dwcp.config.ConfigAssertions.expectedDefaults;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.config.ConfigurationBinder;
import io.dwcp.config.ConfigurationException;
import io.dwcp.config.DataSize;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HdeConfigTest {
    @Test
    void defaults() {
        HdeConfig config = expectedDefaults(HdeConfig.class)
                .expect("hde.tier", "auto")
                .expect("hde.tier1-max-rtt", Duration.ofMillis(2))
                .expect("hde.tier2-max-rtt", Duration.ofMillis(20))
                .expect("hde.tier1-pages", "raw")
                .expect("hde.baseline-record", "both")
                .expect("hde.baseline-announce-limit", 4)
                .expect("hde.tier2-level", 1)
                .expect("hde.tier3-initial-level", 3)
                .expect("hde.tier3-min-level", 1)
                .expect("hde.tier3-max-level", 19)
                .expect("hde.controller-headroom-percent", 20)
                .expect("hde.delta-cache-size", DataSize.ofMiB(128))
                .expect("hde.hash-cache-size", DataSize.ofMiB(128))
                .expect("hde.cache-budget", "auto")
                .expect("hde.frame-size", DataSize.ofMiB(1))
                .expect("hde.dictionary-size", DataSize.ofKiB(64))
                .expect("hde.dictionary-sample", DataSize.ofMiB(4))
                .expect("hde.zstd-window", DataSize.ofMiB(32))
                .expect("hde.zstd-long", true)
                // unset: dwcpd's configuration makes it <node.state-dir>/baselines
                .expect("hde.baseline-dir", null)
                .expect("hde.baseline-size-limit", DataSize.valueOf("16GiB"))
                .expect("hde.baseline-max-age", Duration.ofDays(7))
                .verify();
        assertTrue(config.isTierAuto());
        assertEquals(LinkTier.WAN, config.linkTier());
        assertEquals(HdeConfig.BaselineRecording.BOTH, config.baselineRecording());
        assertTrue(config.isTier1PagesRaw());
        assertEquals(32768, config.deltaCacheEntries());
        assertEquals(32768, config.hashCacheEntries());
        assertEquals(25, config.zstdWindowLog());
        config.validate();
    }

    @Test
    void explicitMapping() {
        assertFullMapping(
                Map.ofEntries(
                        Map.entry("hde.tier", "2"),
                        Map.entry("hde.tier2-level", "-3"),
                        Map.entry("hde.tier3-initial-level", "6"),
                        Map.entry("hde.tier3-min-level", "2"),
                        Map.entry("hde.tier3-max-level", "12"),
                        Map.entry("hde.controller-headroom-percent", "50"),
                        Map.entry("hde.delta-cache-size", "1GiB"),
                        Map.entry("hde.hash-cache-size", "512MiB"),
                        Map.entry("hde.cache-budget", "3GiB"),
                        Map.entry("hde.frame-size", "256KiB"),
                        Map.entry("hde.dictionary-size", "112KiB"),
                        Map.entry("hde.dictionary-sample", "16MiB"),
                        Map.entry("hde.zstd-window", "128MiB"),
                        Map.entry("hde.zstd-long", "false"),
                        Map.entry("hde.baseline-dir", "/srv/dwcp/baselines"),
                        Map.entry("hde.baseline-size-limit", "100GiB"),
                        Map.entry("hde.tier1-max-rtt", "1ms"),
                        Map.entry("hde.tier2-max-rtt", "30ms"),
                        Map.entry("hde.tier1-pages", "encoded"),
                        Map.entry("hde.baseline-record", "destination"),
                        Map.entry("hde.baseline-announce-limit", "2"),
                        Map.entry("hde.baseline-max-age", "36h")),
                HdeConfig.class,
                config -> {
                    assertEquals("2", config.getTier());
                    assertEquals(LinkTier.REGIONAL, config.linkTier());
                    assertEquals(-3, config.getTier2Level());
                    assertEquals(6, config.getTier3InitialLevel());
                    assertEquals(2, config.getTier3MinLevel());
                    assertEquals(12, config.getTier3MaxLevel());
                    assertEquals(50, config.getControllerHeadroomPercent());
                    assertEquals(DataSize.valueOf("1GiB"), config.getDeltaCacheSize());
                    assertEquals(DataSize.ofMiB(512), config.getHashCacheSize());
                    assertEquals(262144, config.deltaCacheEntries());
                    assertEquals(131072, config.hashCacheEntries());
                    assertEquals("3GiB", config.getCacheBudget());
                    assertEquals(3L << 30, config.cacheBudgetBytes(1L << 30));
                    assertEquals(DataSize.ofKiB(256), config.getFrameSize());
                    assertEquals(DataSize.ofKiB(112), config.getDictionarySize());
                    assertEquals(DataSize.ofMiB(16), config.getDictionarySample());
                    assertEquals(DataSize.ofMiB(128), config.getZstdWindow());
                    assertEquals(27, config.zstdWindowLog());
                    assertEquals(false, config.isZstdLong());
                    assertEquals(Path.of("/srv/dwcp/baselines"), config.getBaselineDirectory());
                    assertEquals(DataSize.valueOf("100GiB"), config.getBaselineSizeLimit());
                    assertEquals(Duration.ofMillis(1), config.getTier1MaxRtt());
                    assertEquals(Duration.ofMillis(30), config.getTier2MaxRtt());
                    assertEquals("encoded", config.getTier1Pages());
                    assertFalse(config.isTier1PagesRaw());
                    assertEquals("destination", config.getBaselineRecord());
                    assertEquals(HdeConfig.BaselineRecording.DESTINATION, config.baselineRecording());
                    assertEquals(2, config.getBaselineAnnounceLimit());
                    assertEquals(Duration.ofHours(36), config.getBaselineMaxAge());
                    config.validate();
                });
    }

    @Test
    void everyKeyIsDescribed() {
        List<String> lines = ConfigurationBinder.describe(HdeConfig.class);
        assertEquals(22, lines.size());
        assertTrue(lines.stream().allMatch(line -> line.trim().startsWith("hde.")), lines.toString());
    }

    @Test
    void validation() {
        assertInvalid(new HdeConfig().setTier(4), "hde.tier must be auto, 1, 2 or 3: 4");
        assertInvalid(new HdeConfig().setTier("fast"), "hde.tier must be auto, 1, 2 or 3: fast");
        assertInvalid(new HdeConfig().setTier1Pages("zero"), "hde.tier1-pages must be raw or encoded: zero");
        assertInvalid(
                new HdeConfig().setBaselineRecord("sometimes"),
                "hde.baseline-record must be both, source, destination or none: sometimes");
        assertInvalid(
                new HdeConfig().setBaselineAnnounceLimit(17),
                "hde.baseline-announce-limit must be between 0 and 16: 17");
        assertInvalid(
                new HdeConfig().setTier1MaxRtt(Duration.ofMillis(30)),
                "need 0 <= hde.tier1-max-rtt <= hde.tier2-max-rtt, got PT0.03S, PT0.02S");
        assertInvalid(new HdeConfig().setTier2Level(23), "hde.tier2-level must be between -7 and 22: 23");
        assertInvalid(
                new HdeConfig().setTier3MinLevel(5).setTier3InitialLevel(3),
                "need 1 <= hde.tier3-min-level <= hde.tier3-initial-level <= hde.tier3-max-level <= 22, got 5, 3, 19");
        assertInvalid(
                new HdeConfig().setTier3MaxLevel(23),
                "need 1 <= hde.tier3-min-level <= hde.tier3-initial-level <= hde.tier3-max-level <= 22, got 1, 3, 23");
        assertInvalid(
                new HdeConfig().setFrameSize(DataSize.ofKiB(2)), "hde.frame-size must be between 4KiB and 4MiB: 2KiB");
        assertInvalid(
                new HdeConfig().setFrameSize(DataSize.ofMiB(8)), "hde.frame-size must be between 4KiB and 4MiB: 8MiB");
        assertInvalid(
                new HdeConfig().setDictionarySize(DataSize.ofMiB(2)),
                "hde.dictionary-size must be 0 or between 1KiB and 1MiB: 2MiB");
        assertInvalid(
                new HdeConfig().setDictionarySample(DataSize.ofKiB(256)),
                "hde.dictionary-sample must be between 8 x hde.dictionary-size (512KiB) and 256MiB: 256KiB");
        assertInvalid(
                new HdeConfig().setControllerHeadroomPercent(-1),
                "hde.controller-headroom-percent must be between 0 and 1000: -1");
        assertInvalid(
                new HdeConfig().setZstdWindow(DataSize.ofMiB(48)),
                "hde.zstd-window must be 0 or a power of two between 1MiB and 1GiB: 48MiB");
        assertInvalid(
                new HdeConfig().setZstdWindow(DataSize.ofKiB(512)),
                "hde.zstd-window must be 0 or a power of two between 1MiB and 1GiB: 512KiB");
        assertInvalid(
                new HdeConfig().setZstdWindow(DataSize.ofMiB(2048)),
                "hde.zstd-window must be 0 or a power of two between 1MiB and 1GiB: 2GiB");
        // long-distance matching (the default) needs no window of its own: no effect without one
        new HdeConfig().setZstdWindow(DataSize.ofBytes(0)).validate();
        assertEquals(0, new HdeConfig().setZstdWindow(DataSize.ofBytes(0)).zstdWindowLog());
        new HdeConfig().setZstdWindow(DataSize.ofMiB(1)).setZstdLong(true).validate();
        new HdeConfig().setZstdWindow(DataSize.ofMiB(1024)).validate();
        ConfigurationException negativeAge = assertThrows(
                ConfigurationException.class, () -> new HdeConfig().setBaselineMaxAge(Duration.ofSeconds(-1)));
        assertEquals("hde.baseline-max-age=PT-1S: must not be negative (0 = no age limit)", negativeAge.getMessage());
        new HdeConfig().setBaselineMaxAge(Duration.ZERO).validate();
        new HdeConfig()
                .setDictionarySize(DataSize.ofBytes(0))
                .setDictionarySample(DataSize.ofBytes(0))
                .validate();
        new HdeConfig()
                .setDeltaCacheSize(DataSize.ofBytes(0))
                .setHashCacheSize(DataSize.ofBytes(0))
                .validate();
    }

    @Test
    void tierOfMeasuredRtt() {
        HdeConfig config = new HdeConfig();
        assertEquals(LinkTier.WAN, config.tierOfRtt(0), "not measured yet");
        assertEquals(LinkTier.LOCAL, config.tierOfRtt(150));
        assertEquals(LinkTier.LOCAL, config.tierOfRtt(2_000));
        assertEquals(LinkTier.REGIONAL, config.tierOfRtt(2_001));
        assertEquals(LinkTier.REGIONAL, config.tierOfRtt(20_000));
        assertEquals(LinkTier.WAN, config.tierOfRtt(20_001));
        assertEquals(LinkTier.WAN, config.tierOfRtt(140_000));
    }

    @Test
    void invalidValuesNameTheKey() {
        ConfigurationException e = assertThrows(
                ConfigurationException.class,
                () -> new ConfigurationBinder(Map.of("hde.delta-cache-size", "lots")).bind(HdeConfig.class));
        assertEquals("hde.delta-cache-size=lots: expected a size such as 64MiB, 512KiB or 4096B", e.getMessage());
    }

    @Test
    void aCacheBudgetIsAutoOrASize() {
        assertInvalid(
                new HdeConfig().setCacheBudget("plenty"),
                "hde.cache-budget=plenty: expected auto or a size such as 1GiB or 512MiB");
    }

    private static void assertInvalid(HdeConfig config, String message) {
        ConfigurationException e = assertThrows(ConfigurationException.class, config::validate);
        assertEquals(message, e.getMessage());
    }
}
