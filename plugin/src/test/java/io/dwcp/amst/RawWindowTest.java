package io.dwcp.amst;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class RawWindowTest {
    private static final long MIB = 1 << 20;
    private static final long SECOND = 1_000_000_000L;

    @Test
    void staysAtTheMaximumUntilSomethingWasDelivered() {
        RawWindow window = new RawWindow(64 * MIB, 8 * MIB, 150_000_000L, 0);
        assertEquals(64 * MIB, window.limit());
        window.sample(0, 0, 140_000);
        window.sample(SECOND, 0, 140_000);
        assertEquals(64 * MIB, window.limit());
    }

    @Test
    void followsTheDeliveryRateTimesTwoRoundTripsAndTheDrainTarget() {
        RawWindow window = new RawWindow(256 * MIB, 8 * MIB, 150_000_000L, 0);
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
    void addsTheBytesHeldAcrossTheLink() {
        RawWindow window = new RawWindow(256 * MIB, 8 * MIB, 150_000_000L, 5 * MIB);
        window.sample(0, 0, 140_000);
        window.sample(SECOND, 50_000_000, 140_000);
        assertEquals(21_500_000 + 5 * MIB, window.limit(), 1);
        assertThrows(IllegalArgumentException.class, () -> new RawWindow(64 * MIB, 8 * MIB, 0, -1));
    }

    @Test
    void boundedByMinimumAndMaximum() {
        RawWindow window = new RawWindow(64 * MIB, 8 * MIB, 150_000_000L, 0);
        window.sample(0, 0, 0);
        window.sample(SECOND, 1_000_000, 0);
        assertEquals(8 * MIB, window.limit());
        window.sample(2 * SECOND, 10_000_000_000L, 0);
        assertEquals(64 * MIB, window.limit());
    }

    @Test
    void zeroDrainKeepsTheConfiguredWindow() {
        RawWindow window = new RawWindow(64 * MIB, 8 * MIB, 0, 0);
        window.sample(0, 0, 1000);
        window.sample(SECOND, 1_000_000, 1000);
        assertEquals(64 * MIB, window.limit());
        assertEquals(1_000_000, window.maxRate(), 1e-6, "the rate is measured all the same (the read pacer uses it)");
        assertThrows(IllegalArgumentException.class, () -> new RawWindow(4 * MIB, 8 * MIB, 0, 0));
    }

    @Test
    void theMaximumRateIsTheHighestOfTheLastTenSamples() {
        RawWindow window = new RawWindow(64 * MIB, 8 * MIB, 150_000_000L, 0);
        assertEquals(0, window.maxRate(), "nothing measured yet");
        window.sample(0, 0, 140_000);
        assertEquals(0, window.maxRate(), "one reading is no rate");
        window.sample(SECOND, 30_000_000, 140_000);
        window.sample(2 * SECOND, 40_000_000, 140_000);
        assertEquals(30_000_000, window.maxRate(), 1e-6);
        for (int i = 3; i <= 11; i++) {
            window.sample(i * SECOND, 40_000_000 + (i - 2) * 5_000_000L, 140_000);
        }
        assertEquals(10_000_000, window.maxRate(), 1e-6, "the 30 MB/s second is more than ten samples old");
    }
}
