package io.dwcp.hde;

import static java.util.Objects.requireNonNull;

import io.dwcp.config.Config;
import io.dwcp.config.ConfigurationException;
import io.dwcp.config.DataSize;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * HDE page encoding: tiers and zstd levels, cache sizes, the dictionary, baselines.
 *
 * <p>Cache sizes are per stream (one QEMU channel) and count 4 KiB per entry. Both ends must use
 * the same entry counts: the encoder announces its own in the START frame and the decoder refuses
 * counts above its own configuration (so a destination bounds its memory): configure both hosts
 * alike. Memory at the destination is at most delta + hash cache size per stream (less when both
 * hold the same page); the source holds the delta cache and about 100 bytes per hash-cache entry
 * (the hash and its map entry). Cache contents follow from what was sent, never from guest size.
 */
public class HdeConfig {
    /** Where baselines are recorded ({@code hde.baseline-record}). */
    public enum BaselineRecording {
        /** Nothing is recorded. */
        NONE,
        /** The source records what it sent: a later migration back to it (A to B to A) references it. */
        SOURCE,
        /** The destination records what it verified: a later migration to it again references it. */
        DESTINATION,
        BOTH;

        public boolean atSource() {
            return this == SOURCE || this == BOTH;
        }

        public boolean atDestination() {
            return this == DESTINATION || this == BOTH;
        }
    }

    private String tier = "auto";
    private Duration tier1MaxRtt = Duration.ofMillis(2);
    private Duration tier2MaxRtt = Duration.ofMillis(20);
    private String tier1Pages = "raw";
    private String baselineRecord = "both";
    private int baselineAnnounceLimit = 4;
    private int tier2Level = 1;
    private int tier3InitialLevel = 3;
    private int tier3MinLevel = 1;
    private int tier3MaxLevel = 19;
    private int controllerHeadroomPercent = 20;
    private DataSize deltaCacheSize = DataSize.ofMiB(128);
    private DataSize hashCacheSize = DataSize.ofMiB(128);
    private String cacheBudget = "auto";
    private DataSize frameSize = DataSize.ofMiB(1);
    private DataSize dictionarySize = DataSize.ofKiB(64);
    private DataSize dictionarySample = DataSize.ofMiB(4);
    private DataSize zstdWindow = DataSize.ofMiB(32);
    private boolean zstdLong = true;
    private Path baselineDirectory;
    private DataSize baselineSizeLimit = DataSize.valueOf("16GiB");
    private Duration baselineMaxAge = Duration.ofDays(7);

    public String getTier() {
        return tier;
    }

    @Config(
            value = "hde.tier",
            description =
                    "link tier: auto (from the session's measured RTT, see hde.tier1-max-rtt and hde.tier2-max-rtt), 1 local (raw frames), 2 regional, 3 WAN")
    public HdeConfig setTier(String tier) {
        this.tier = tier;
        return this;
    }

    public HdeConfig setTier(int tier) {
        this.tier = Integer.toString(tier);
        return this;
    }

    public boolean isTierAuto() {
        return "auto".equals(tier);
    }

    /** The configured tier; with {@code auto}, the tier used until the RTT is measured (3, WAN). */
    public LinkTier linkTier() {
        return isTierAuto() ? LinkTier.WAN : LinkTier.ofNumber(Integer.parseInt(tier));
    }

    /** The tier of a link with this RTT ({@code auto}): {@code <= hde.tier1-max-rtt} 1, {@code <= hde.tier2-max-rtt} 2, else 3. */
    public LinkTier tierOfRtt(long rttMicros) {
        if (rttMicros <= 0) {
            return LinkTier.WAN;
        }
        if (rttMicros <= tier1MaxRtt.toNanos() / 1000) {
            return LinkTier.LOCAL;
        }
        return rttMicros <= tier2MaxRtt.toNanos() / 1000 ? LinkTier.REGIONAL : LinkTier.WAN;
    }

    public Duration getTier1MaxRtt() {
        return tier1MaxRtt;
    }

    @Config(
            value = "hde.tier1-max-rtt",
            description = "hde.tier=auto: a link up to this RTT is tier 1 (same site: raw frames)")
    public HdeConfig setTier1MaxRtt(Duration tier1MaxRtt) {
        this.tier1MaxRtt = tier1MaxRtt;
        return this;
    }

    public Duration getTier2MaxRtt() {
        return tier2MaxRtt;
    }

    @Config(
            value = "hde.tier2-max-rtt",
            description =
                    "hde.tier=auto: a link up to this RTT is tier 2 (regional: hde.tier2-level), above it tier 3 (WAN)")
    public HdeConfig setTier2MaxRtt(Duration tier2MaxRtt) {
        this.tier2MaxRtt = tier2MaxRtt;
        return this;
    }

    public String getTier1Pages() {
        return tier1Pages;
    }

    @Config(
            value = "hde.tier1-pages",
            description =
                    "tier 1 (same site): raw (pages pass as QEMU wrote them, in RAW records: none is hashed, cached or recorded in a baseline, since there the encoder's CPU costs more time than the bytes it saves) or encoded (zero pages, references and deltas, as at the other tiers, in raw frames)")
    public HdeConfig setTier1Pages(String tier1Pages) {
        this.tier1Pages = tier1Pages;
        return this;
    }

    /** Whether pages pass as they are at tier 1 ({@code hde.tier1-pages raw}). */
    public boolean isTier1PagesRaw() {
        return "raw".equals(tier1Pages);
    }

    public String getBaselineRecord() {
        return baselineRecord;
    }

    @Config(
            value = "hde.baseline-record",
            description =
                    "which end stores a completed migration's memory as a baseline: both, source, destination or none")
    public HdeConfig setBaselineRecord(String baselineRecord) {
        this.baselineRecord = baselineRecord;
        return this;
    }

    public BaselineRecording baselineRecording() {
        return BaselineRecording.valueOf(baselineRecord.toUpperCase(Locale.ROOT));
    }

    public int getBaselineAnnounceLimit() {
        return baselineAnnounceLimit;
    }

    @Config(
            value = "hde.baseline-announce-limit",
            description =
                    "newest baselines a destination offers a source (0..16; each costs 16 bytes per page at session start)")
    public HdeConfig setBaselineAnnounceLimit(int baselineAnnounceLimit) {
        this.baselineAnnounceLimit = baselineAnnounceLimit;
        return this;
    }

    public int getTier2Level() {
        return tier2Level;
    }

    @Config(value = "hde.tier2-level", description = "zstd level of tier 2 (regional) links, -7..22")
    public HdeConfig setTier2Level(int tier2Level) {
        this.tier2Level = tier2Level;
        return this;
    }

    public int getTier3InitialLevel() {
        return tier3InitialLevel;
    }

    @Config(
            value = "hde.tier3-initial-level",
            description = "zstd level a tier 3 (WAN) stream starts with, before the controller adjusts it")
    public HdeConfig setTier3InitialLevel(int tier3InitialLevel) {
        this.tier3InitialLevel = tier3InitialLevel;
        return this;
    }

    public int getTier3MinLevel() {
        return tier3MinLevel;
    }

    @Config(value = "hde.tier3-min-level", description = "lowest zstd level the tier 3 controller picks")
    public HdeConfig setTier3MinLevel(int tier3MinLevel) {
        this.tier3MinLevel = tier3MinLevel;
        return this;
    }

    public int getTier3MaxLevel() {
        return tier3MaxLevel;
    }

    @Config(value = "hde.tier3-max-level", description = "highest zstd level the tier 3 controller picks (<= 22)")
    public HdeConfig setTier3MaxLevel(int tier3MaxLevel) {
        this.tier3MaxLevel = tier3MaxLevel;
        return this;
    }

    public int getControllerHeadroomPercent() {
        return controllerHeadroomPercent;
    }

    @Config(
            value = "hde.controller-headroom-percent",
            description = "CPU speed a level needs above the link's drain rate to count as keeping up")
    public HdeConfig setControllerHeadroomPercent(int controllerHeadroomPercent) {
        this.controllerHeadroomPercent = controllerHeadroomPercent;
        return this;
    }

    public DataSize getDeltaCacheSize() {
        return deltaCacheSize;
    }

    @Config(
            value = "hde.delta-cache-size",
            description = "previous-version cache per stream (4KiB per page; 0 = no deltas)")
    public HdeConfig setDeltaCacheSize(DataSize deltaCacheSize) {
        this.deltaCacheSize = deltaCacheSize;
        return this;
    }

    public DataSize getHashCacheSize() {
        return hashCacheSize;
    }

    @Config(
            value = "hde.hash-cache-size",
            description =
                    "content-hash cache per stream (4KiB per page at the destination; 0 = no references within a migration)")
    public HdeConfig setHashCacheSize(DataSize hashCacheSize) {
        this.hashCacheSize = hashCacheSize;
        return this;
    }

    public String getCacheBudget() {
        return cacheBudget;
    }

    @Config(
            value = "hde.cache-budget",
            description =
                    "memory for the HDE caches of all sessions together, at each end: auto (half the JVM's maximum heap) or a size; a session that finds less left gets smaller caches, or none")
    public HdeConfig setCacheBudget(String cacheBudget) {
        this.cacheBudget = requireNonNull(cacheBudget, "cacheBudget is null").trim();
        return this;
    }

    /** {@code hde.cache-budget} in bytes, {@code auto} being half of {@code maxHeap}. */
    public long cacheBudgetBytes(long maxHeap) {
        if ("auto".equals(cacheBudget)) {
            return maxHeap / 2;
        }
        try {
            return DataSize.valueOf(cacheBudget).bytes();
        } catch (IllegalArgumentException e) {
            throw ConfigurationException.invalidValue(
                    "hde.cache-budget", cacheBudget, "expected auto or a size such as 1GiB or 512MiB");
        }
    }

    public DataSize getFrameSize() {
        return frameSize;
    }

    @Config(
            value = "hde.frame-size",
            description =
                    "records batched per frame, uncompressed (4KiB..4MiB; larger compresses better, e.g. 37.1% at 256KiB, 35.5% at 1MiB, level 3)")
    public HdeConfig setFrameSize(DataSize frameSize) {
        this.frameSize = frameSize;
        return this;
    }

    public DataSize getDictionarySize() {
        return dictionarySize;
    }

    @Config(
            value = "hde.dictionary-size",
            description = "zstd dictionary trained on the first pages (0 = none, at most 1MiB)")
    public HdeConfig setDictionarySize(DataSize dictionarySize) {
        this.dictionarySize = dictionarySize;
        return this;
    }

    public DataSize getDictionarySample() {
        return dictionarySample;
    }

    @Config(
            value = "hde.dictionary-sample",
            description = "bytes of literal pages the dictionary is trained on (>= 8 x hde.dictionary-size)")
    public HdeConfig setDictionarySample(DataSize dictionarySample) {
        this.dictionarySample = dictionarySample;
        return this;
    }

    public DataSize getZstdWindow() {
        return zstdWindow;
    }

    @Config(
            value = "hde.zstd-window",
            description =
                    "each QEMU connection's frames continue one zstd stream that matches this far back (a power of two, 1MiB..1GiB, per connection at both ends; no dictionary then); 0 = each frame compressed on its own, with the dictionary; a destination refuses a source asking for more than its own")
    public HdeConfig setZstdWindow(DataSize zstdWindow) {
        this.zstdWindow = zstdWindow;
        return this;
    }

    public boolean isZstdLong() {
        return zstdLong;
    }

    @Config(
            value = "hde.zstd-long",
            description =
                    "zstd's long-distance matching over hde.zstd-window: finds repeats further back, at more encoder CPU (no effect with hde.zstd-window 0)")
    public HdeConfig setZstdLong(boolean zstdLong) {
        this.zstdLong = zstdLong;
        return this;
    }

    /** log2 of {@code hde.zstd-window}, or 0 when frames are compressed each on its own. */
    public int zstdWindowLog() {
        long bytes = zstdWindow.bytes();
        return bytes == 0 ? 0 : Long.numberOfTrailingZeros(bytes);
    }

    public Path getBaselineDirectory() {
        return baselineDirectory;
    }

    @Config(
            value = "hde.baseline-dir",
            description =
                    "where baselines (earlier copies of VM memory) are kept (default: <node.state-dir>/baselines)")
    public HdeConfig setBaselineDirectory(Path baselineDirectory) {
        this.baselineDirectory = baselineDirectory;
        return this;
    }

    public DataSize getBaselineSizeLimit() {
        return baselineSizeLimit;
    }

    @Config(
            value = "hde.baseline-size-limit",
            description = "disk space of all baselines; the oldest are removed to make room (0 = no baselines)")
    public HdeConfig setBaselineSizeLimit(DataSize baselineSizeLimit) {
        this.baselineSizeLimit = baselineSizeLimit;
        return this;
    }

    public Duration getBaselineMaxAge() {
        return baselineMaxAge;
    }

    @Config(
            value = "hde.baseline-max-age",
            description =
                    "a baseline recorded longer ago is removed, at the next commit and by dwcpd's periodic check (0 = no age limit)")
    public HdeConfig setBaselineMaxAge(Duration baselineMaxAge) {
        if (baselineMaxAge.isNegative()) {
            throw ConfigurationException.invalidValue(
                    "hde.baseline-max-age", baselineMaxAge.toString(), "must not be negative (0 = no age limit)");
        }
        this.baselineMaxAge = baselineMaxAge;
        return this;
    }

    /** Pages the previous-version cache holds. */
    public int deltaCacheEntries() {
        return entries(deltaCacheSize);
    }

    /** Pages the content-hash cache holds. */
    public int hashCacheEntries() {
        return entries(hashCacheSize);
    }

    private static int entries(DataSize size) {
        return (int) Math.min(Integer.MAX_VALUE, size.bytes() / HdeFrame.PAGE_SIZE);
    }

    public void validate() {
        cacheBudgetBytes(0);
        if (!isTierAuto() && !tier.matches("[123]")) {
            throw new ConfigurationException("hde.tier must be auto, 1, 2 or 3: " + tier);
        }
        if (tier1MaxRtt.isNegative() || tier2MaxRtt.compareTo(tier1MaxRtt) < 0) {
            throw new ConfigurationException(
                    "need 0 <= hde.tier1-max-rtt <= hde.tier2-max-rtt, got " + tier1MaxRtt + ", " + tier2MaxRtt);
        }
        if (!"raw".equals(tier1Pages) && !"encoded".equals(tier1Pages)) {
            throw new ConfigurationException("hde.tier1-pages must be raw or encoded: " + tier1Pages);
        }
        try {
            baselineRecording();
        } catch (IllegalArgumentException e) {
            throw new ConfigurationException(
                    "hde.baseline-record must be both, source, destination or none: " + baselineRecord);
        }
        if (baselineAnnounceLimit < 0 || baselineAnnounceLimit > HdeFrame.MAX_BASELINES) {
            throw new ConfigurationException("hde.baseline-announce-limit must be between 0 and "
                    + HdeFrame.MAX_BASELINES + ": " + baselineAnnounceLimit);
        }
        if (tier2Level < -7 || tier2Level > 22) {
            throw new ConfigurationException("hde.tier2-level must be between -7 and 22: " + tier2Level);
        }
        if (tier3MinLevel < 1
                || tier3MaxLevel > 22
                || tier3MinLevel > tier3InitialLevel
                || tier3InitialLevel > tier3MaxLevel) {
            throw new ConfigurationException(
                    "need 1 <= hde.tier3-min-level <= hde.tier3-initial-level <= hde.tier3-max-level <= 22, got "
                            + tier3MinLevel + ", " + tier3InitialLevel + ", " + tier3MaxLevel);
        }
        if (controllerHeadroomPercent < 0 || controllerHeadroomPercent > 1000) {
            throw new ConfigurationException(
                    "hde.controller-headroom-percent must be between 0 and 1000: " + controllerHeadroomPercent);
        }
        if (deltaCacheSize.bytes() / HdeFrame.PAGE_SIZE > Integer.MAX_VALUE
                || hashCacheSize.bytes() / HdeFrame.PAGE_SIZE > Integer.MAX_VALUE) {
            throw new ConfigurationException("hde.delta-cache-size and hde.hash-cache-size must be below 8TiB");
        }
        if (frameSize.bytes() < 4096 || frameSize.bytes() > (4 << 20)) {
            throw new ConfigurationException("hde.frame-size must be between 4KiB and 4MiB: " + frameSize);
        }
        if (dictionarySize.bytes() != 0
                && (dictionarySize.bytes() < 1024 || dictionarySize.bytes() > HdeFrame.MAX_DICTIONARY_LENGTH)) {
            throw new ConfigurationException(
                    "hde.dictionary-size must be 0 or between 1KiB and 1MiB: " + dictionarySize);
        }
        if (dictionarySize.bytes() != 0
                && (dictionarySample.bytes() < 8 * dictionarySize.bytes() || dictionarySample.bytes() > (256L << 20))) {
            throw new ConfigurationException("hde.dictionary-sample must be between 8 x hde.dictionary-size ("
                    + DataSize.ofBytes(8 * dictionarySize.bytes()) + ") and 256MiB: " + dictionarySample);
        }
        long window = zstdWindow.bytes();
        if (window != 0
                && (Long.bitCount(window) != 1
                        || window < (1L << HdeFrame.MIN_ZSTD_WINDOW_LOG)
                        || window > (1L << HdeFrame.MAX_ZSTD_WINDOW_LOG))) {
            throw new ConfigurationException(
                    "hde.zstd-window must be 0 or a power of two between 1MiB and 1GiB: " + zstdWindow);
        }
    }
}
