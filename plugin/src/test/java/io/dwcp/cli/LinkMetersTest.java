package io.dwcp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The goodput a link's migrations make between two slot releases, fed to the link's predictor. */
class LinkMetersTest {
    private static final long SECOND = 1_000_000_000L;

    private final AtomicLong clock = new AtomicLong(100 * SECOND);
    private final FakePredictor beta = new FakePredictor();
    private final LinkMeters meters = new LinkMeters(Map.of("beta", beta), clock::get);

    @Test
    void theBytesOfAllOfALinksMigrationsOverTheTimeItWasBusy() {
        AtomicLong first = meters.started("beta", true);
        clock.addAndGet(SECOND);
        AtomicLong second = meters.started("beta", false);
        first.set(3_000_000);
        second.set(1_000_000);
        clock.addAndGet(SECOND);
        meters.observe(Map.of("vm2", "beta"));
        assertEquals(1, beta.observed.size());
        assertEquals(102 * SECOND, (long) beta.observed.get(0)[0]);
        // 4 MB in 2 s
        assertEquals(16e6, beta.observed.get(0)[1], 1e-6);

        // the next observation counts from this one
        second.set(3_000_000);
        clock.addAndGet(4 * SECOND);
        meters.observe(Map.of("vm2", "beta"));
        assertEquals(4e6, beta.observed.get(1)[1], 1e-6);
    }

    @Test
    void lessThanASecondOrNoBytesIsNotAnObservation() {
        AtomicLong counter = meters.started("beta", true);
        counter.set(5_000_000);
        clock.addAndGet(SECOND / 2);
        meters.observe(Map.of("vm1", "beta"));
        clock.addAndGet(SECOND);
        counter.set(5_000_000);
        meters.observe(Map.of("vm1", "beta"));
        assertEquals(1, beta.observed.size(), "half a second: none; then 1.5 s: one");
        clock.addAndGet(2 * SECOND);
        meters.observe(Map.of("vm1", "beta"));
        assertEquals(1, beta.observed.size(), "no new bytes: none");
    }

    @Test
    void anIdleLinkMeasuresAfreshAtItsNextStart() {
        AtomicLong first = meters.started("beta", true);
        first.set(1_000_000);
        clock.addAndGet(SECOND / 2);
        // ended in under a second: not observed, and the link is idle now
        meters.observe(Map.of());
        clock.addAndGet(60 * SECOND);
        AtomicLong second = meters.started("beta", true);
        second.set(2_000_000);
        clock.addAndGet(2 * SECOND);
        meters.observe(Map.of());
        assertEquals(1, beta.observed.size());
        // only the second migration's bytes, over its own 2 s (not the idle minute)
        assertEquals(8e6, beta.observed.get(0)[1], 1e-6);
    }
}
