package io.dwcp.transport;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RawWindowTest
{
    private static final long MIB = 1 << 20;
    private static final long SECOND = 1_000_000_000L;

    @Test
    void staysAtTheMaximumUntilSomethingWasDelivered()
    {
        RawWindow window = new RawWindow(64 * MIB, 8 * MIB, 150_000_000L);
        assertEquals(64 * MIB, window.limit());
        window.sample(0, 0, 140_000);
        window.sample(SECOND, 0, 140_000);
        assertEquals(64 * MIB, window.limit());
    }

    @Test
    void followsTheDeliveryRateTimesTwoRoundTripsAndTheDrainTarget()
    {
        RawWindow window = new RawWindow(256 * MIB, 8 * MIB, 150_000_000L);
        window.sample(0, 0, 140_000);
        // 50 MB/s delivered on a 140 ms path: 50e6 x (0.28 + 0.15) = 21.5 MB
        window.sample(SECOND, 50_000_000, 140_000);
        assertEquals(21_500_000, window.limit(), 1);
        // a slower second keeps the best of the recent rates
        window.sample(2 * SECOND, 60_000_000, 140_000);
        assertEquals(21_500_000, window.limit(), 1);
        // ten slow samples later the old maximum has left the window of samples
        for (int i = 3; i <= 2 + RawWindow.RATE_SAMPLES; i++) {
            window.sample(i * SECOND, 60_000_000 + (i - 2) * 20_000_000L, 140_000);
        }
        assertEquals((long) (20_000_000 * 0.43), window.limit(), 1);
    }

    @Test
    void boundedByMinimumAndMaximum()
    {
        RawWindow window = new RawWindow(64 * MIB, 8 * MIB, 150_000_000L);
        window.sample(0, 0, 0);
        window.sample(SECOND, 1_000_000, 0);
        assertEquals(8 * MIB, window.limit());
        window.sample(2 * SECOND, 10_000_000_000L, 0);
        assertEquals(64 * MIB, window.limit());
    }

    @Test
    void zeroDrainKeepsTheConfiguredWindow()
    {
        RawWindow window = new RawWindow(64 * MIB, 8 * MIB, 0);
        window.sample(0, 0, 1000);
        window.sample(SECOND, 1_000_000, 1000);
        assertEquals(64 * MIB, window.limit());
        assertThrows(IllegalArgumentException.class, () -> new RawWindow(4 * MIB, 8 * MIB, 0));
    }

    /**
     * The pipeline's own delay, when longer than the RTT, sizes the bound: sized from the RTT alone
     * it would hold fewer bytes than the pipeline holds at that rate, and the rate could never grow.
     */
    @Test
    void usesThePipelineDelayWhenLongerThanTheRoundTrip()
    {
        RawWindow window = new RawWindow(256 * MIB, 8 * MIB, 150_000_000L);
        window.sample(0, 0, 140_000, 0);
        // 20 MB/s, and bytes took at least 600 ms from QEMU to QEMU: 20e6 x (1.2 + 0.15) = 27 MB
        window.sample(SECOND, 20_000_000, 140_000, 600_000);
        assertEquals(27_000_000, window.limit(), 1);
        // a lower delay later in the samples lowers the bound
        window.sample(2 * SECOND, 40_000_000, 140_000, 300_000);
        assertEquals(15_000_000, window.limit(), 1);
        // no delay measured in an interval: the others stand, and never below the RTT
        window.sample(3 * SECOND, 60_000_000, 140_000, 0);
        assertEquals(15_000_000, window.limit(), 1);
        RawWindow shortDelay = new RawWindow(256 * MIB, 8 * MIB, 150_000_000L);
        shortDelay.sample(0, 0, 140_000, 0);
        shortDelay.sample(SECOND, 50_000_000, 140_000, 50_000);
        assertEquals(21_500_000, shortDelay.limit(), 1);
    }
}
