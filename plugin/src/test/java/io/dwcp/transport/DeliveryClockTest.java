package io.dwcp.transport;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class DeliveryClockTest
{
    private static final long MS = 1_000_000;

    @Test
    void delayIsFromTheReadOfTheLastWholeMarkToItsDelivery()
    {
        DeliveryClock clock = new DeliveryClock();
        assertEquals(0, clock.takeIntervalMinMicros());
        clock.read(1000, 0);
        clock.read(2000, 10 * MS);
        clock.read(3000, 20 * MS);
        // nothing whole delivered yet
        clock.delivered(500, 100 * MS);
        assertEquals(0, clock.takeIntervalMinMicros());
        // bytes up to 2000 delivered at 150 ms: the mark read at 10 ms is the latest whole one
        clock.delivered(2000, 150 * MS);
        assertEquals(140_000, clock.takeIntervalMinMicros());
        // the lowest delay of an interval counts; a new interval starts empty
        clock.read(4000, 200 * MS);
        clock.delivered(3000, 300 * MS);
        clock.delivered(4000, 260 * MS);
        assertEquals(60_000, clock.takeIntervalMinMicros());
        assertEquals(0, clock.takeIntervalMinMicros());
    }

    @Test
    void readsWithinTheResolutionShareOneMark()
    {
        DeliveryClock clock = new DeliveryClock();
        clock.read(1000, 0);
        clock.read(5000, DeliveryClock.RESOLUTION_NANOS / 2);
        // the mark now stands for 5000 bytes read at 0
        clock.delivered(4999, 50 * MS);
        assertEquals(0, clock.takeIntervalMinMicros());
        clock.delivered(5000, 50 * MS);
        assertEquals(50_000, clock.takeIntervalMinMicros());
    }

    @Test
    void aFullRingSkipsMarksInsteadOfGrowing()
    {
        DeliveryClock clock = new DeliveryClock();
        for (int i = 0; i < DeliveryClock.CAPACITY + 100; i++) {
            clock.read((i + 1) * 100L, i * MS);
        }
        // the marks beyond the capacity were skipped: everything delivered maps to the last kept mark
        long lastKept = (DeliveryClock.CAPACITY - 1) * MS;
        clock.delivered((DeliveryClock.CAPACITY + 100) * 100L, lastKept + 7 * MS);
        assertEquals(7_000, clock.takeIntervalMinMicros());
    }
}
