package io.dwcp.amst;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ReadPacerTest {
    private static final long MS = 1_000_000L;

    @Test
    void withoutAPaceNothingWaits() {
        ReadPacer pacer = new ReadPacer();
        pacer.read(1L << 30, 0);
        assertEquals(0, pacer.waitNanos(0));
        pacer.pace(0, 0);
        pacer.read(1L << 30, 1);
        assertEquals(0, pacer.waitNanos(1));
        pacer.pace(Double.NaN, 2);
        assertEquals(0, pacer.pace());
    }

    @Test
    void theBucketHoldsTenMillisecondsAtThePace() {
        ReadPacer pacer = new ReadPacer();
        pacer.pace(100_000_000, 0); // 100 MB/s: 1 MB of bucket
        pacer.read(1_000_000, 0);
        assertEquals(0, pacer.waitNanos(0), "a full bucket to start with");
        pacer.read(500_000, 0);
        assertEquals(5 * MS, pacer.waitNanos(0), "500 kB over, at 100 MB/s");
        assertEquals(2 * MS, pacer.waitNanos(3 * MS));
        assertEquals(0, pacer.waitNanos(5 * MS));
        // a long idle time fills the bucket, never more
        assertEquals(0, pacer.waitNanos(10_000 * MS));
        pacer.read(1_000_001, 10_000 * MS);
        assertEquals(10, pacer.waitNanos(10_000 * MS), "a byte over: 10 ns at 100 MB/s");
    }

    @Test
    void aLowerPaceShrinksTheBucketAndAHigherOneKeepsTheDebt() {
        ReadPacer pacer = new ReadPacer();
        pacer.pace(100_000_000, 0);
        pacer.pace(10_000_000, 0);
        pacer.read(200_000, 0);
        assertEquals(10 * MS, pacer.waitNanos(0), "the bucket is 100 kB now: 100 kB over at 10 MB/s");
        pacer.pace(20_000_000, 0);
        assertEquals(5 * MS, pacer.waitNanos(0), "the same debt, paid at 20 MB/s");
    }

    @Test
    void overASecondThePaceIsWhatPasses() {
        ReadPacer pacer = new ReadPacer();
        pacer.pace(50_000_000, 0);
        long now = 0;
        long read = 0;
        while (now < 1000 * MS) {
            long wait = pacer.waitNanos(now);
            if (wait == 0) {
                pacer.read(65_536, now);
                read += 65_536;
            } else {
                now += wait;
            }
        }
        assertEquals(50_500_000, read, 70_000, "the pace for a second plus the bucket");
    }
}
