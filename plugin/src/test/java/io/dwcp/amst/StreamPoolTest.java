package io.dwcp.amst;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class StreamPoolTest {
    /** Dials recorded, completed by the test. */
    private final Map<Integer, Runnable> dials = new TreeMap<>();

    private final List<Integer> dialOrder = new ArrayList<>();
    /** Timers recorded with their delays, run by the test. */
    private final List<Runnable> timers = new ArrayList<>();

    private final List<Long> delays = new ArrayList<>();
    private boolean open = true;

    private StreamPool pool(int desired) {
        return new StreamPool(
                desired,
                (slot, failed) -> {
                    dials.put(slot, failed);
                    dialOrder.add(slot);
                },
                (task, delayMillis) -> {
                    timers.add(task);
                    delays.add(delayMillis);
                },
                () -> open);
    }

    @Test
    void dialsEverySlotOnceUntilItIsUp() {
        StreamPool pool = pool(3);
        pool.fill();
        assertEquals(List.of(0, 1, 2), dialOrder);
        pool.fill();
        assertEquals(3, dialOrder.size(), "no second dial while one is under way");
        assertEquals(Set.of(0, 1, 2), pool.dialling());

        TunnelStream one = stream(1);
        pool.up(one);
        assertEquals(Set.of(0, 2), pool.dialling());
        assertEquals(Map.of(1, one), pool.streams());
        pool.fill();
        assertEquals(3, dialOrder.size());
    }

    @Test
    void aFailedSlotIsDialledAgainAfterABackoffThatGrowsToOneSecond() {
        StreamPool pool = pool(1);
        pool.fill();
        for (int attempt = 1; attempt <= 6; attempt++) {
            dials.remove(0).run(); // the dial failed
            assertEquals(attempt, timers.size(), "one timer per failure");
            timers.get(attempt - 1).run();
            assertTrue(dials.containsKey(0), "dialled again when the timer ran");
        }
        assertEquals(List.of(100L, 200L, 400L, 800L, 1000L, 1000L), delays);

        // once up, the backoff starts over
        pool.up(stream(0));
        TunnelStream again = stream(0);
        pool.up(again);
        pool.down(again);
        pool.failed(0);
        assertEquals(100L, delays.get(delays.size() - 1));
    }

    @Test
    void aStreamThatFailsIsReplacedButOnlyWhileTheSessionIsOpen() {
        StreamPool pool = pool(2);
        pool.fill();
        TunnelStream zero = stream(0);
        pool.up(zero);
        pool.down(zero);
        assertFalse(pool.streams().containsKey(0));
        pool.failed(0);
        assertEquals(1, timers.size());
        open = false;
        timers.get(0).run();
        assertFalse(pool.dialling().contains(0), "the session ended while the timer waited: no dial");
        pool.failed(1);
        pool.fill();
        assertEquals(1, timers.size(), "no timer once the session ended");
        assertEquals(List.of(0, 1), dialOrder);
    }

    @Test
    void downIgnoresAStreamThatNoLongerHoldsItsSlot() {
        StreamPool pool = pool(1);
        TunnelStream old = stream(0);
        TunnelStream replacement = stream(0);
        pool.up(old);
        pool.up(replacement);
        pool.down(old);
        assertEquals(Map.of(0, replacement), pool.streams());
    }

    @Test
    void shrinkingDrainsTheStreamsAboveTheCountAndGrowingDialsTheMissingOnes() {
        StreamPool pool = pool(3);
        pool.fill();
        TunnelStream zero = stream(0);
        TunnelStream one = stream(1);
        TunnelStream two = stream(2);
        pool.up(zero);
        pool.up(one);
        pool.up(two);

        List<TunnelStream> draining = pool.resize(1);
        assertEquals(List.of(one, two), draining);
        assertTrue(one.isDraining());
        assertTrue(two.isDraining());
        assertFalse(zero.isDraining());
        assertEquals(1, pool.desired());

        // a drained stream that closes is not dialled again: its slot is no longer wanted
        pool.down(two);
        pool.failed(2);
        assertTrue(timers.isEmpty());

        pool.down(one);
        pool.resize(4);
        assertEquals(List.of(0, 1, 2, 1, 2, 3), dialOrder);
    }

    @Test
    void onlyTheFirstSetupFailureIsWorthAWarning() {
        StreamPool pool = pool(1);
        assertTrue(pool.firstSetupFailure());
        assertFalse(pool.firstSetupFailure());
    }

    @Test
    void refusesNonsense() {
        assertThrows(IllegalArgumentException.class, () -> pool(0));
        assertThrows(IllegalArgumentException.class, () -> pool(1).resize(0));
    }

    private static TunnelStream stream(int slot) {
        return new TunnelStream(slot, new EmbeddedChannel());
    }
}
