package io.dwcp.amst;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class StreamCountControllerTest {
    @Test
    void growsWhileThroughputGrows() {
        StreamCountController controller = new StreamCountController(1, 256, 4);
        assertEquals(8, controller.update(100, 1.0, 0)); // tunnel-limited: probe
        assertEquals(8, controller.update(200, 1.0, 0)); // helped: keep
        assertEquals(16, controller.update(200, 1.0, 0)); // probe again
        assertEquals(16, controller.update(390, 1.0, 0)); // helped
        assertEquals(32, controller.update(390, 1.0, 0));
        assertEquals(16, controller.update(400, 1.0, 0)); // did not help: back
        for (int i = 0; i < StreamCountController.HOLD_INTERVALS; i++) {
            assertEquals(16, controller.update(400, 1.0, 0), "hold " + i);
        }
        assertEquals(32, controller.update(400, 1.0, 0)); // probes again after the hold
    }

    @Test
    void staysWhenQemuIsTheBottleneck() {
        StreamCountController controller = new StreamCountController(1, 256, 4);
        for (int i = 0; i < 10; i++) {
            assertEquals(4, controller.update(100, 0.0, 0));
        }
    }

    @Test
    void shrinksOnLoss() {
        StreamCountController controller = new StreamCountController(1, 256, 16);
        assertEquals(16, controller.update(100, 0.0, 0));
        assertEquals(12, controller.update(100, 1.0, 0.05));
        assertEquals("loss", controller.lastReason());
    }

    @Test
    void shrinksWhenRttInflatesOnAWan() {
        StreamCountController controller = new StreamCountController(1, 256, 16);
        assertEquals(16, controller.update(100, 0.0, 0, 50_000, 50_000));
        // the queue fills: RTT 120 ms against 50 ms at best, no more goodput
        assertEquals(12, controller.update(100, 1.0, 0, 120_000, 50_000));
        assertEquals("rtt inflation", controller.lastReason());
        // loopback RTTs (microseconds) are noise, not queueing
        StreamCountController loopback = new StreamCountController(1, 256, 16);
        assertEquals(16, loopback.update(100, 0.0, 0, 50, 10));
        assertEquals(32, loopback.update(100, 1.0, 0, 500, 10));
    }

    @Test
    void staysWithinBounds() {
        StreamCountController controller = new StreamCountController(2, 5, 4);
        assertEquals(5, controller.update(100, 1.0, 0));
        assertEquals(5, controller.update(1000, 1.0, 0));
        assertEquals(5, controller.update(1000, 1.0, 0));
        StreamCountController shrinking = new StreamCountController(2, 5, 2);
        assertEquals(2, shrinking.update(100, 0, 0.5));
        assertThrows(IllegalArgumentException.class, () -> new StreamCountController(0, 5, 2));
        assertThrows(IllegalArgumentException.class, () -> new StreamCountController(1, 5, 6));
    }

    @Test
    void zeroThroughputNeverCountsAsProgress() {
        StreamCountController controller = new StreamCountController(1, 256, 4);
        assertEquals(8, controller.update(0, 1.0, 0));
        assertEquals(4, controller.update(0, 1.0, 0));
    }

    @Test
    void aProbeMustBeatTheForecastWhenTheLastIntervalDipped() {
        // the interval before the probe dipped to 60; the forecast at the old count is 100
        StreamCountController controller = new StreamCountController(1, 256, 4);
        assertEquals(8, controller.update(60, 100, 1.0, 0, 0, 0));
        // 105 is well above the dip, not 10 % above what 4 streams were expected to make: back
        assertEquals(4, controller.update(105, 1.0, 0));
        assertEquals("probe did not help: back", controller.lastReason());
        // without a forecast the same figures keep the probe
        StreamCountController unforecast = new StreamCountController(1, 256, 4);
        assertEquals(8, unforecast.update(60, Double.NaN, 1.0, 0, 0, 0));
        assertEquals(8, unforecast.update(105, 1.0, 0));
        assertEquals("probe helped", unforecast.lastReason());
    }

    @Test
    void aForecastBelowTheLastIntervalChangesNothing() {
        // a ramp the forecast lags behind: the probe is judged against the last interval, as without one
        StreamCountController controller = new StreamCountController(1, 256, 4);
        assertEquals(8, controller.update(200, 150, 1.0, 0, 0, 0));
        assertEquals(4, controller.update(210, 1.0, 0));
        StreamCountController helped = new StreamCountController(1, 256, 4);
        assertEquals(8, helped.update(200, 150, 1.0, 0, 0, 0));
        assertEquals(8, helped.update(221, 1.0, 0));
    }

    @Test
    void probesOnlyWhereTheStreamsBuffersHoldThemBack() {
        // the tunnel limits QEMU, but the streams were held back by their congestion windows: the
        // path (or the ends' CPUs) limits them, and cold new streams would only slow the rest down
        StreamCountController controller = new StreamCountController(1, 256, 4);
        for (int i = 0; i < 10; i++) {
            assertEquals(4, controller.update(100, 1.0, 0.05, 0));
        }
        assertEquals("tunnel-limited, not by the streams' buffers", controller.lastReason());
        // a third of their busy time: a receiver short of CPU shuts its windows as well, and more
        // streams do not give it CPU
        assertEquals(4, controller.update(100, 1.0, 0.35, 0));
        // most of their busy time the peer's windows or the send buffers held them back: probe
        assertEquals(8, controller.update(100, 1.0, 0.6, 0));
        assertEquals("tunnel-limited: probe", controller.lastReason());
        assertEquals(8, controller.update(200, 1.0, 0.6, 0));
        assertEquals("probe helped", controller.lastReason());
        // without the kernel's busy times the tunnel's limit is taken as the streams'
        StreamCountController unknown = new StreamCountController(1, 256, 4);
        assertEquals(8, unknown.update(100, 1.0, Double.NaN, 0));
    }

    @Test
    void doesNotProbeWhileTheStreamsSettle() {
        StreamCountController controller = new StreamCountController(1, 256, 4, 3);
        for (int i = 0; i < 3; i++) {
            assertEquals(4, controller.update(100 * (i + 1), 1.0, 0.7, 0), "interval " + i);
            assertEquals("hold", controller.lastReason());
        }
        assertEquals(8, controller.update(400, 1.0, 0.7, 0));
        // loss is acted on from the first interval
        StreamCountController lossy = new StreamCountController(1, 256, 16, 3);
        assertEquals(16, lossy.update(100, 1.0, 0.5, 0));
        assertEquals(12, lossy.update(100, 1.0, 0.5, 0.05));
        assertEquals("loss", lossy.lastReason());
    }
}
