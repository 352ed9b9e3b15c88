package io.dwcp.hde;

import static java.util.Objects.requireNonNull;

import java.util.function.IntFunction;

/**
 * Picks the zstd level of a stream from the link's measured rate and the encoder's measured speed
 * and ratio per level: in tier 3, the highest level whose encoder keeps the link full.
 *
 * <p>At level L the link drains {@code linkRate / ratio(L)} stream bytes per second ({@code ratio}
 * = frame bytes per stream byte). Level L <em>keeps up</em> if the encoder's speed at L (stream
 * bytes per second of encoder time) is at least {@code (1 + headroom) x} that. The controller
 * chooses the highest level in {@code [hde.tier3-min-level, hde.tier3-max-level]} that keeps up; if
 * none does (a fast link, a slow CPU), the level that moves the most stream bytes per second,
 * {@code max min(speed(L), linkRate / ratio(L))}; but no lower than the highest level up to
 * {@code hde.tier3-initial-level} whose speed keeps up (with the same headroom) with the rate QEMU
 * supplies the stream at: then the encoder does not limit the migration, and a faster level would
 * only leave it idle and send more bytes (a TCG guest, a guest that dirties little). That holds
 * while the encoder runs on CPU nobody else needs: {@code HdeStreamCodec} passes no supply (NaN)
 * while the host's CPUs are more than {@code CPU_SATURATED} busy, since then a slower level takes
 * its CPU from QEMU and the tunnel, and QEMU supplies slowly because the encoder is slow.
 *
 * <p>Speed and ratio come from {@link HdeStats#levelSample} once a level has encoded {@link
 * #MIN_SAMPLE_BYTES}; a level not measured yet is estimated from the nearest measured one,
 * scaled by zstd's published relative speeds and ratios per level (or from defaults when nothing
 * is measured). Decisions: moving down happens at once when the current level does not keep up
 * (the CPU would be limiting the migration); any other change needs the same choice {@code hold}
 * times in a row, so one noisy sample does not make the level oscillate. Call {@link #decide}
 * periodically (e.g. each second) from the thread that owns the encoder. Not thread-safe.
 */
public final class LevelController {
    /** Bytes a level must have encoded before its measurements replace the estimates. */
    public static final long MIN_SAMPLE_BYTES = 4L << 20;

    static final double DEFAULT_LEVEL1_SPEED = 250e6;
    static final double DEFAULT_LEVEL1_RATIO = 0.5;

    // zstd 1.5 on the Silesia corpus, one core: compression speed in MB/s and ratio, levels 1..22;
    // only their proportions are used, as priors for levels not measured yet
    private static final double[] SPEED = {
        0, 510, 420, 330, 300, 160, 125, 100, 85, 70, 55, 45, 40, 18, 15, 11, 8, 6, 4.5, 3.5, 3, 2.5, 2
    };
    private static final double[] RATIO = {
        0, 2.896, 3.04, 3.16, 3.20, 3.28, 3.33, 3.39, 3.43, 3.47, 3.52, 3.55, 3.56, 3.58, 3.60, 3.63, 3.72, 3.80, 3.83,
        3.88, 3.90, 3.92, 3.94
    };

    private final int tier2Level;
    private final int minLevel;
    private final int initialLevel;
    private final int maxLevel;
    private final double headroom;
    private final int hold;
    private int pendingLevel = Integer.MIN_VALUE;
    private int pendingCount;

    public LevelController(HdeConfig config) {
        this(config, 2);
    }

    public LevelController(HdeConfig config, int hold) {
        requireNonNull(config, "config is null");
        if (hold < 1) {
            throw new IllegalArgumentException("hold must be at least 1: " + hold);
        }
        this.tier2Level = config.getTier2Level();
        this.minLevel = config.getTier3MinLevel();
        this.initialLevel = config.getTier3InitialLevel();
        this.maxLevel = config.getTier3MaxLevel();
        this.headroom = config.getControllerHeadroomPercent() / 100.0;
        this.hold = hold;
    }

    /** Sets the encoder's level from its own statistics and the link's measured rate. */
    public void adjust(HdeEncoder encoder, HdeStats stats, double linkBytesPerSecond) {
        adjust(encoder, stats, linkBytesPerSecond, Double.NaN);
    }

    /**
     * As {@link #adjust(HdeEncoder, HdeStats, double)}, knowing how fast QEMU supplied the stream
     * lately ({@code supplyBytesPerSecond}, stream bytes per second of wall time; NaN if unknown).
     */
    public void adjust(HdeEncoder encoder, HdeStats stats, double linkBytesPerSecond, double supplyBytesPerSecond) {
        int level =
                decide(encoder.tier(), encoder.level(), linkBytesPerSecond, supplyBytesPerSecond, stats::levelSample);
        if (level != encoder.level() && level != HdeStats.NO_COMPRESSION) {
            encoder.setLevel(level);
        }
    }

    /**
     * The level to use next ({@link HdeStats#NO_COMPRESSION} in tier 1).
     *
     * @param currentLevel the level in use
     * @param linkBytesPerSecond the link's measured rate (e.g. BBR's bandwidth estimate)
     * @param samples measurements per level
     */
    public int decide(
            LinkTier tier, int currentLevel, double linkBytesPerSecond, IntFunction<HdeStats.LevelSample> samples) {
        return decide(tier, currentLevel, linkBytesPerSecond, Double.NaN, samples);
    }

    /**
     * As {@link #decide(LinkTier, int, double, IntFunction)}, with the rate QEMU supplied the stream
     * at lately (stream bytes per second of wall time; NaN if unknown).
     */
    public int decide(
            LinkTier tier,
            int currentLevel,
            double linkBytesPerSecond,
            double supplyBytesPerSecond,
            IntFunction<HdeStats.LevelSample> samples) {
        switch (tier) {
            case LOCAL -> {
                return HdeStats.NO_COMPRESSION;
            }
            case REGIONAL -> {
                return tier2Level;
            }
            case WAN -> {
                // below
            }
        }
        Estimate[] estimates = estimate(samples);
        int target = choose(estimates, linkBytesPerSecond);
        // up to the start level, a level that keeps up with what QEMU supplies does not limit the
        // migration: a faster one would send more bytes for nothing
        for (int level = Math.min(initialLevel, maxLevel); level > target; level--) {
            if (keepsUpWithSupply(estimates[level], supplyBytesPerSecond)) {
                target = level;
                break;
            }
        }
        boolean currentInRange = currentLevel >= minLevel && currentLevel <= maxLevel;
        if (target == currentLevel) {
            pendingLevel = Integer.MIN_VALUE;
            return currentLevel;
        }
        if (currentInRange
                && target < currentLevel
                && !keepsUp(estimates[currentLevel], linkBytesPerSecond)
                && !keepsUpWithSupply(estimates[currentLevel], supplyBytesPerSecond)) {
            pendingLevel = Integer.MIN_VALUE;
            return target;
        }
        if (!currentInRange) {
            pendingLevel = Integer.MIN_VALUE;
            return target;
        }
        if (target == pendingLevel) {
            pendingCount++;
        } else {
            pendingLevel = target;
            pendingCount = 1;
        }
        if (pendingCount >= hold) {
            pendingLevel = Integer.MIN_VALUE;
            return target;
        }
        return currentLevel;
    }

    /** The level the measurements call for, without hysteresis. */
    public int choose(double linkBytesPerSecond, IntFunction<HdeStats.LevelSample> samples) {
        return choose(estimate(samples), linkBytesPerSecond);
    }

    record Estimate(int level, double speed, double ratio, boolean measured) {}

    private int choose(Estimate[] estimates, double linkBytesPerSecond) {
        for (int level = maxLevel; level >= minLevel; level--) {
            if (keepsUp(estimates[level], linkBytesPerSecond)) {
                return level;
            }
        }
        int best = minLevel;
        double bestRate = -1;
        for (int level = minLevel; level <= maxLevel; level++) {
            double rate = Math.min(estimates[level].speed(), linkBytesPerSecond / estimates[level].ratio());
            if (rate > bestRate * 1.0001) {
                best = level;
                bestRate = rate;
            }
        }
        return best;
    }

    /** The level keeps up with what QEMU supplies (unknown supply: no). */
    private boolean keepsUpWithSupply(Estimate estimate, double supplyBytesPerSecond) {
        return supplyBytesPerSecond >= 0 && estimate.speed() >= (1 + headroom) * supplyBytesPerSecond;
    }

    private boolean keepsUp(Estimate estimate, double linkBytesPerSecond) {
        return estimate.speed() >= (1 + headroom) * linkBytesPerSecond / estimate.ratio();
    }

    Estimate[] estimate(IntFunction<HdeStats.LevelSample> samples) {
        Estimate[] estimates = new Estimate[maxLevel + 1];
        for (int level = minLevel; level <= maxLevel; level++) {
            HdeStats.LevelSample sample = samples.apply(level);
            if (sample != null && sample.inputBytes() >= MIN_SAMPLE_BYTES && sample.encodeNanos() > 0) {
                estimates[level] =
                        new Estimate(level, sample.inputBytesPerSecond(), Math.max(sample.ratio(), 1e-6), true);
            }
        }
        for (int level = minLevel; level <= maxLevel; level++) {
            if (estimates[level] != null) {
                continue;
            }
            Estimate nearest = null;
            for (int distance = 1; nearest == null && distance <= maxLevel; distance++) {
                for (int candidate : new int[] {level - distance, level + distance}) {
                    if (candidate >= minLevel
                            && candidate <= maxLevel
                            && estimates[candidate] != null
                            && estimates[candidate].measured()) {
                        nearest = estimates[candidate];
                        break;
                    }
                }
            }
            if (nearest == null) {
                estimates[level] = new Estimate(
                        level,
                        DEFAULT_LEVEL1_SPEED * SPEED[level] / SPEED[1],
                        DEFAULT_LEVEL1_RATIO * RATIO[1] / RATIO[level],
                        false);
            } else {
                estimates[level] = new Estimate(
                        level,
                        nearest.speed() * SPEED[level] / SPEED[nearest.level()],
                        nearest.ratio() * RATIO[nearest.level()] / RATIO[level],
                        false);
            }
        }
        return estimates;
    }
}
