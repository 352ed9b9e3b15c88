package io.dwcp.hde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CacheBudgetTest {
    private static final long PAGE = CacheBudget.PAGE_ENTRY_BYTES;

    @Test
    void aSessionGetsWhatItAsksForWhileTheBudgetLasts() {
        CacheBudget budget = new CacheBudget(1000 * PAGE);
        CacheBudget.Grant first = budget.reserve(CacheBudget.End.DESTINATION, 300, 300);
        assertEquals(300, first.deltaEntries());
        assertEquals(300, first.hashEntries());
        assertFalse(first.reduced());
        assertEquals(600 * PAGE, budget.reserved());

        // 400 pages left of 1000: the next one's 300 + 300 are scaled alike to fit
        CacheBudget.Grant second = budget.reserve(CacheBudget.End.DESTINATION, 300, 300);
        assertEquals(200, second.deltaEntries());
        assertEquals(200, second.hashEntries());
        assertTrue(second.reduced());
        assertTrue(second.describe().contains("200 + 200 cache pages of the 300 + 300"), second.describe());
        assertEquals(1000 * PAGE, budget.reserved());

        // nothing left: no caches, the session still runs
        CacheBudget.Grant third = budget.reserve(CacheBudget.End.DESTINATION, 300, 300);
        assertEquals(0, third.deltaEntries());
        assertEquals(0, third.hashEntries());
        assertEquals(3, budget.grants());

        first.close();
        first.close(); // given back once
        assertEquals(400 * PAGE, budget.reserved());
        assertEquals(2, budget.grants());
        CacheBudget.Grant fourth = budget.reserve(CacheBudget.End.DESTINATION, 300, 300);
        assertFalse(fourth.reduced());
        second.close();
        third.close();
        fourth.close();
        assertEquals(0, budget.reserved());
        assertEquals(0, budget.grants());
    }

    @Test
    void aSourcesHashCacheHoldsNoPages() {
        CacheBudget budget = new CacheBudget(1L << 30);
        CacheBudget.Grant source = budget.reserve(CacheBudget.End.SOURCE, 100, 1000);
        assertEquals(100 * PAGE + 1000 * CacheBudget.HASH_ENTRY_BYTES, source.bytes());
        CacheBudget.Grant destination = budget.reserve(CacheBudget.End.DESTINATION, 100, 1000);
        assertEquals(1100 * PAGE, destination.bytes());
        source.close();
        destination.close();
        assertEquals(0, budget.reserved());
    }

    @Test
    void trimmingToWhatTheOtherEndGrantedGivesBackTheRest() {
        CacheBudget budget = new CacheBudget(1000 * PAGE);
        CacheBudget.Grant grant = budget.reserve(CacheBudget.End.DESTINATION, 400, 400);
        grant.trimTo(100, 500); // never more than it holds
        assertEquals(100, grant.deltaEntries());
        assertEquals(400, grant.hashEntries());
        assertEquals(500 * PAGE, budget.reserved());
        grant.close();
        grant.trimTo(0, 0); // after close: nothing more to give back
        assertEquals(0, budget.reserved());
    }

    @Test
    void theDefaultIsHalfTheHeap() {
        assertEquals(1L << 30, new HdeConfig().cacheBudgetBytes(2L << 30));
        assertEquals(512L << 20, new HdeConfig().setCacheBudget("512MiB").cacheBudgetBytes(2L << 30));
        assertEquals(0, new HdeConfig().setCacheBudget("0").cacheBudgetBytes(2L << 30));
    }
}
