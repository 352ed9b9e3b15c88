package io.dwcp.itp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PrecopyModelTest {
    @Test
    void roundsShrinkByDirtyOverRateUntilTheRestFitsTheDowntimeLimit() {
        // M = 1000 B, d = 50 B/s, r = 100 B/s, L = 1 s, RTT 0.1 s:
        // round 0: 1000 B in 10 s, dirty 500 (5 s > L); round 1: 500 B in 5 s, dirty 250 (2.5 s);
        // round 2: 250 B in 2.5 s, dirty 125 (1.25 s); round 3: 125 B in 1.25 s, dirty 62.5 (0.625 s <= L): stop
        PrecopyModel.Estimate estimate = PrecopyModel.estimate(1000, 1000, 50, 100, 1, 0.1, 30);
        assertTrue(estimate.converges());
        assertEquals(4, estimate.rounds());
        assertEquals(0.625 + 0.1, estimate.downtimeSeconds(), 1e-12);
        assertEquals(1000 + 500 + 250 + 125 + 62.5, estimate.bytesSent(), 1e-9);
        assertEquals(10 + 5 + 2.5 + 1.25 + 0.725, estimate.seconds(), 1e-9);
    }

    @Test
    void aGuestThatDirtiesFasterThanTheRateNeverConverges() {
        // d = 2 r: the dirty set is capped by memory, every round resends all of it
        PrecopyModel.Estimate estimate = PrecopyModel.estimate(1000, 1000, 200, 100, 1, 0.1, 30);
        assertFalse(estimate.converges());
        assertEquals(30, estimate.rounds());
        assertEquals(30 * 1000, estimate.bytesSent(), 1e-9);
        assertFalse(PrecopyModel.canConverge(100, 100));
        assertTrue(PrecopyModel.canConverge(99, 100));
    }

    @Test
    void tooManyRoundsIsNoConvergence() {
        // d / r = 0.9: converging needs log(1 / 1000) / log(0.9) = 66 rounds, more than 30
        assertFalse(PrecopyModel.estimate(1000, 1000, 90, 100, 0.01, 0, 30).converges());
        assertTrue(PrecopyModel.estimate(1000, 1000, 90, 100, 0.01, 0, 100).converges());
    }

    @Test
    void aBaselineShrinksTheFirstRound() {
        Vm vm = Vm.of("vm", 1000, 0).withBaseline("h2", 0.75);
        assertEquals(250, vm.firstRoundBytes("h2"), 1e-9);
        assertEquals(1000, vm.firstRoundBytes("h1"), 1e-9);
    }

    @Test
    void theUplinkIsFilledFromTheSmallestShareUp() {
        // link shares 10, 50, 50 under a 60 B/s uplink: 10 takes 10, the other two split 50
        double[] rates = RateAllocation.allocate(new double[] {50, 10, 50}, 60);
        assertEquals(25, rates[0], 1e-12);
        assertEquals(10, rates[1], 1e-12);
        assertEquals(25, rates[2], 1e-12);
        // an uplink larger than the links: each gets its link share
        double[] free = RateAllocation.allocate(new double[] {50, 10}, 1000);
        assertEquals(50, free[0], 1e-12);
        assertEquals(10, free[1], 1e-12);
    }
}
