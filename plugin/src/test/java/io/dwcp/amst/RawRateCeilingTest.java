package io.dwcp.amst;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class RawRateCeilingTest {
    private static final long MIB = 1 << 20;

    @Test
    void unknownUntilACompressionAndALinkRateWereMeasured() {
        RawRateCeiling ceiling = new RawRateCeiling();
        assertEquals(0, ceiling.bytesPerSecond(), 0);
        ceiling.sample(0, 0, 25e6);
        assertEquals(0, ceiling.bytesPerSecond(), 0, "one sample is only the start of a stretch");
        ceiling.sample(40 * MIB, 10 * MIB, 0);
        assertEquals(4, ceiling.rawPerWire(), 1e-9);
        assertEquals(100e6, ceiling.bytesPerSecond(), 1, "the link's rate of the sample before, times 4");

        RawRateCeiling noLink = new RawRateCeiling();
        noLink.sample(0, 0, 0);
        noLink.sample(40 * MIB, 10 * MIB, 0);
        assertEquals(0, noLink.bytesPerSecond(), 0, "no link rate measured: no bound");
    }

    @Test
    void followsTheMostRecentCompression() {
        RawRateCeiling ceiling = new RawRateCeiling();
        ceiling.sample(0, 0, 25e6);
        // small deltas: 20 raw bytes per frame byte
        ceiling.sample(200 * MIB, 10 * MIB, 25e6);
        assertEquals(500e6, ceiling.bytesPerSecond(), 1);
        // then pages that compress 1.5 : 1
        ceiling.sample(200 * MIB + 30 * MIB, 10 * MIB + 20 * MIB, 25e6);
        assertEquals(1.5, ceiling.rawPerWire(), 1e-9);
        assertEquals(37.5e6, ceiling.bytesPerSecond(), 1);
    }

    @Test
    void anIntervalThatReadLittleAddsToTheNext() {
        RawRateCeiling ceiling = new RawRateCeiling();
        ceiling.sample(0, 0, 10e6);
        ceiling.sample(8 * MIB, 4 * MIB, 10e6);
        assertEquals(2, ceiling.rawPerWire(), 1e-9);
        // half a MiB read: too little, the ratio stays
        ceiling.sample(8 * MIB + MIB / 2, 4 * MIB + MIB / 2, 10e6);
        assertEquals(2, ceiling.rawPerWire(), 1e-9);
        // with the next interval's, the stretch is long enough: 3.5 MiB raw in 1 MiB of frames
        ceiling.sample(11 * MIB + MIB / 2, 5 * MIB, 10e6);
        assertEquals(3.5, ceiling.rawPerWire(), 1e-9);
    }

    @Test
    void theLinksRateIsTheHighestGoodputOfTheLastSamples() {
        RawRateCeiling ceiling = new RawRateCeiling();
        ceiling.sample(0, 0, 30e6);
        long raw = 0;
        for (int i = 1; i < RawRateCeiling.LINK_SAMPLES; i++) {
            raw += 10 * MIB;
            ceiling.sample(raw, raw, 10e6);
            assertEquals(30e6, ceiling.bytesPerSecond(), 1, "a quieter interval does not lower the link");
        }
        raw += 10 * MIB;
        ceiling.sample(raw, raw, 10e6);
        assertEquals(10e6, ceiling.bytesPerSecond(), 1, "after " + RawRateCeiling.LINK_SAMPLES + " samples it is gone");
    }
}
