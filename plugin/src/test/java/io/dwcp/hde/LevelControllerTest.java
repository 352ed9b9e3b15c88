package io.dwcp.hde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

class LevelControllerTest {
    private static final double MBIT = 1e6 / 8;
    private static final double MB = 1e6;

    /** Measured levels: speed in MB/s of stream bytes, ratio = frame bytes / stream bytes. */
    private static IntFunction<HdeStats.LevelSample> measured(double... levelSpeedRatio) {
        Map<Integer, HdeStats.LevelSample> samples = new HashMap<>();
        for (int i = 0; i < levelSpeedRatio.length; i += 3) {
            int level = (int) levelSpeedRatio[i];
            long input = 100L << 20;
            long nanos = (long) (input / (levelSpeedRatio[i + 1] * MB) * 1e9);
            samples.put(level, new HdeStats.LevelSample(level, input, (long) (input * levelSpeedRatio[i + 2]), nanos));
        }
        return level -> samples.getOrDefault(level, new HdeStats.LevelSample(level, 0, 0, 0));
    }

    // this machine's shape (see the JMH figures in the report): fast levels ~ 200-300 MB/s, high levels a few MB/s
    private static final IntFunction<HdeStats.LevelSample> MEASURED =
            measured(1, 260, 0.46, 3, 200, 0.44, 6, 90, 0.42, 9, 50, 0.41, 12, 30, 0.405, 15, 10, 0.40, 19, 3, 0.38);

    private final LevelController controller =
            new LevelController(new HdeConfig().setTier3MinLevel(1).setTier3MaxLevel(19), 2);

    @Test
    void slowLinkGetsTheStrongestLevelTheCpuKeepsUpWith() {
        // 10 Mbit/s: level 19 drains 1.25 / 0.38 = 3.3 MB/s of stream, needs 3.9 MB/s with headroom: CPU does 3 -> no.
        // level 18, estimated from 19: 3 x 4.5/3.5 = 3.86 MB/s, needs 1.25 / 0.385 x 1.2 = 3.90 -> no;
        // level 17, estimated from 15: 10 x 6/11 = 5.5 MB/s, needs 1.25 / 0.382 x 1.2 = 3.93 -> yes
        assertEquals(17, controller.choose(10 * MBIT, MEASURED));
        // 1 Mbit/s: everything keeps up
        assertEquals(19, controller.choose(1 * MBIT, MEASURED));
    }

    @Test
    void wanRatesPickMiddleLevels() {
        // 100 Mbit/s = 12.5 MB/s: level 12 drains 30.9 MB/s, needs 37 with headroom (30: no); level 11 estimated 30 x
        // 45/40 = 33.7: no;
        // level 10: 30 x 55/40 = 41 MB/s vs 12.5 / (0.405 x 3.56/3.52) x 1.2 = 36.6: yes
        assertEquals(10, controller.choose(100 * MBIT, MEASURED));
        // 1 Gbit/s = 125 MB/s: level 1 drains 272 MB/s and does 260: nothing keeps up; the most stream bytes per second
        // is level 1
        assertEquals(1, controller.choose(1000 * MBIT, MEASURED));
        // 300 Mbit/s = 37.5 MB/s: level 3 drains 85 MB/s, needs 102, does 200: yes; level 6 needs 107, does 90: no;
        // level 5 estimated from 6 (90 x 160/125 = 115): yes
        assertEquals(5, controller.choose(300 * MBIT, MEASURED));
    }

    @Test
    void cpuBoundEverywhereTakesTheFastestLevel() {
        // 10 Gbit/s: no level keeps up, the encoder is the bottleneck: the fastest level moves the most
        assertEquals(1, controller.choose(10_000 * MBIT, MEASURED));
    }

    /**
     * No level keeps up with a 500 Mbit/s link at a tenth of the bytes (the app guest's ratio), yet
     * QEMU supplies only 70 MB/s: level 3, which keeps up with that, is kept; it is lowered at once
     * when QEMU supplies what level 1 would encode, raised again when the supply falls, and never
     * above the start level (3) on the supply alone.
     */
    @Test
    void aLevelThatKeepsUpWithQemuIsKept() {
        IntFunction<HdeStats.LevelSample> text = measured(1, 300, 0.100, 3, 200, 0.086);
        LevelController held =
                new LevelController(new HdeConfig().setTier3MinLevel(1).setTier3MaxLevel(19), 2);
        assertEquals(1, held.choose(500 * MBIT, text), "the link alone: the fastest");
        assertEquals(1, held.decide(LinkTier.WAN, 3, 500 * MBIT, text), "supply unknown: the fastest, at once");
        assertEquals(1, held.decide(LinkTier.WAN, 3, 500 * MBIT, Double.NaN, text));
        assertEquals(3, held.decide(LinkTier.WAN, 3, 500 * MBIT, 70 * MB, text));
        assertEquals(3, held.decide(LinkTier.WAN, 3, 500 * MBIT, 160 * MB, text));
        // QEMU supplies more than level 3 encodes: the encoder is the bottleneck, down at once, to the
        // highest level that keeps up (level 2, estimated from level 1: 300 x 420/510 = 247 MB/s >= 1.2 x 190)
        assertEquals(2, held.decide(LinkTier.WAN, 3, 500 * MBIT, 190 * MB, text));
        // QEMU supplies what level 1 encodes: level 1
        assertEquals(1, held.decide(LinkTier.WAN, 3, 500 * MBIT, 300 * MB, text));
        // at level 1, a supply level 3 keeps up with: back to 3 after `hold` (2) decisions
        assertEquals(1, held.decide(LinkTier.WAN, 1, 500 * MBIT, 70 * MB, text));
        assertEquals(3, held.decide(LinkTier.WAN, 1, 500 * MBIT, 70 * MB, text));
        // nothing to encode: the start level, not higher
        assertEquals(3, held.decide(LinkTier.WAN, 3, 500 * MBIT, 0, text));
    }

    @Test
    void unmeasuredLevelsUsePriors() {
        IntFunction<HdeStats.LevelSample> nothing = level -> new HdeStats.LevelSample(level, 0, 0, 0);
        // defaults: level 1 = 250 MB/s, ratio 0.5: a slow link allows high levels, a fast one the lowest
        assertTrue(controller.choose(10 * MBIT, nothing) >= 15);
        assertEquals(1, controller.choose(10_000 * MBIT, nothing));
        // a sample under MIN_SAMPLE_BYTES does not count as measured
        IntFunction<HdeStats.LevelSample> tiny = level -> new HdeStats.LevelSample(level, 1000, 10, 1);
        assertEquals(controller.choose(10 * MBIT, nothing), controller.choose(10 * MBIT, tiny));
    }

    @Test
    void movingUpNeedsTheSameChoiceTwice() {
        // current 3, link 10 Mbit/s: choice 17
        assertEquals(3, controller.decide(LinkTier.WAN, 3, 10 * MBIT, MEASURED));
        assertEquals(17, controller.decide(LinkTier.WAN, 3, 10 * MBIT, MEASURED));
        // a noisy sample in between restarts the count
        assertEquals(3, controller.decide(LinkTier.WAN, 3, 10 * MBIT, MEASURED));
        assertEquals(3, controller.decide(LinkTier.WAN, 3, 100 * MBIT, MEASURED));
        assertEquals(3, controller.decide(LinkTier.WAN, 3, 10 * MBIT, MEASURED));
        assertEquals(17, controller.decide(LinkTier.WAN, 3, 10 * MBIT, MEASURED));
    }

    @Test
    void movingDownIsImmediateWhenTheCpuCannotKeepUp() {
        // at level 19 on a 100 Mbit/s link the encoder (3 MB/s) limits the migration: go to 10 at once
        assertEquals(10, controller.decide(LinkTier.WAN, 19, 100 * MBIT, MEASURED));
        // at level 3 on a 10 Mbit/s link nothing is wrong: staying is fine until the choice repeats
        assertEquals(3, controller.decide(LinkTier.WAN, 3, 10 * MBIT, MEASURED));
    }

    @Test
    void stableWhenTheChoiceIsTheCurrentLevel() {
        for (int i = 0; i < 5; i++) {
            assertEquals(10, controller.decide(LinkTier.WAN, 10, 100 * MBIT, MEASURED));
        }
    }

    @Test
    void tiersOneAndTwoAreFixed() {
        LevelController c = new LevelController(new HdeConfig().setTier2Level(-1));
        assertEquals(HdeStats.NO_COMPRESSION, c.decide(LinkTier.LOCAL, 3, 10 * MBIT, MEASURED));
        assertEquals(-1, c.decide(LinkTier.REGIONAL, 3, 10 * MBIT, MEASURED));
    }

    @Test
    void staysWithinTheConfiguredRange() {
        LevelController narrow = new LevelController(
                new HdeConfig().setTier3MinLevel(3).setTier3InitialLevel(3).setTier3MaxLevel(9), 1);
        assertEquals(9, narrow.choose(1 * MBIT, MEASURED));
        assertEquals(3, narrow.choose(10_000 * MBIT, MEASURED));
    }

    @Test
    void adjustsAnEncoderFromItsOwnStatistics() {
        HdeStats stats = new HdeStats();
        // pretend level 3 encoded 100 MiB in 0.5 s into 44 MiB of frames
        stats.input(3, 100L << 20, 500_000_000L);
        stats.frameEncoded(3, 100L << 20, 44L << 20, 0);
        LevelController c = new LevelController(new HdeConfig(), 1);
        try (HdeEncoder encoder = new HdeEncoder(new HdeConfig(), stats, frame -> {})) {
            assertEquals(3, encoder.level());
            c.adjust(encoder, stats, 1000 * MBIT);
            assertTrue(encoder.level() < 3, "a 1 Gbit/s link at 210 MB/s of encoder: " + encoder.level());
            encoder.setTier(LinkTier.LOCAL);
            c.adjust(encoder, stats, 1000 * MBIT);
            assertEquals(HdeStats.NO_COMPRESSION, encoder.level());
        }
    }
}
