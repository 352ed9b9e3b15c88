package io.dwcp.amst;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class LinkMonitorTest {
    private static final long SECOND = 1_000_000_000L;
    private static final long START = 5 * SECOND;

    @Test
    void goodputRttAndTheRateTheCongestionWindowsAllow() {
        LinkMonitor link = new LinkMonitor(START, SECOND);
        assertFalse(link.due(START + SECOND / 2 - 1));
        assertTrue(link.due(START + SECOND / 2));

        // two streams: 100 segments of 1000 bytes per 20 ms and 50 per 40 ms
        LinkMonitor.Sample sample = link.sample(
                START + 2 * SECOND,
                6_000_000,
                List.of(
                        new LinkMonitor.StreamReading(20_000, 100, 1000, 0, 10_000_000),
                        new LinkMonitor.StreamReading(40_000, 50, 1000, 0, 20_000_000)));
        assertEquals(2.0, sample.seconds(), 1e-9);
        assertEquals(3_000_000, sample.goodput(), 1e-6);
        assertEquals(30_000, sample.rttMicros());
        assertEquals(20_000, sample.minRttMicros());
        assertEquals(100 * 1000 * 1e6 / 20_000 + 50 * 1000 * 1e6 / 40_000, sample.linkBytesPerSecond(), 1e-6);
        assertEquals(sample.linkBytesPerSecond(), link.linkBytesPerSecond(), 0);
        assertEquals(0, sample.tunnelLimited(), 0);
    }

    @Test
    void theLinkRateIsTheGoodputWhenTheWindowsAllowLess() {
        LinkMonitor link = new LinkMonitor(START, SECOND);
        LinkMonitor.Sample sample = link.sample(
                START + SECOND, 50_000_000, List.of(new LinkMonitor.StreamReading(100_000, 10, 1000, 0, 0)));
        assertEquals(50_000_000, sample.linkBytesPerSecond(), 1e-6);
    }

    @Test
    void lossIsRetransmitsOverSegmentsOnceEnoughWereSent() {
        LinkMonitor link = new LinkMonitor(START, SECOND);
        // 500 segments: too few to tell
        LinkMonitor.Sample few =
                link.sample(START + SECOND, 0, List.of(new LinkMonitor.StreamReading(10_000, 10, 1000, 5, 500_000)));
        assertEquals(0, few.loss(), 0);
        // 2,000 more segments, 20 more retransmissions
        LinkMonitor.Sample enough = link.sample(
                START + 2 * SECOND, 0, List.of(new LinkMonitor.StreamReading(10_000, 10, 1000, 25, 2_500_000)));
        assertEquals(20 / 2000.0, enough.loss(), 1e-12);
    }

    @Test
    void theMinimumRttIsTheLowestAnyStreamReported() {
        LinkMonitor link = new LinkMonitor(START, SECOND);
        link.observeRtt(0);
        assertEquals(0, link.minRttMicros(), "0 means not known yet");
        link.observeRtt(25_000);
        link.observeRtt(21_000);
        link.observeRtt(30_000);
        assertEquals(21_000, link.minRttMicros());
        // a sample's streams count too, each on its own (not their mean)
        LinkMonitor.Sample sample = link.sample(
                START + SECOND,
                0,
                List.of(
                        new LinkMonitor.StreamReading(19_000, 10, 1000, 0, 0),
                        new LinkMonitor.StreamReading(41_000, 10, 1000, 0, 0)));
        assertEquals(30_000, sample.rttMicros());
        assertEquals(19_000, sample.minRttMicros());
    }

    @Test
    void tunnelLimitedIsTheShareOfTheIntervalSpentPaused() {
        LinkMonitor link = new LinkMonitor(START, SECOND);
        link.readingPaused(START + SECOND / 4);
        link.readingPaused(START + SECOND / 2); // already paused: the first time counts
        link.readingResumed(START + SECOND / 2);
        link.readingPaused(START + 3 * SECOND / 4);
        LinkMonitor.Sample first = link.sample(START + SECOND, 0, List.of());
        assertEquals(0.5, first.tunnelLimited(), 1e-9);
        // still paused: the whole next interval
        LinkMonitor.Sample second = link.sample(START + 2 * SECOND, 0, List.of());
        assertEquals(1.0, second.tunnelLimited(), 1e-9);
        link.readingResumed(START + 2 * SECOND);
        LinkMonitor.Sample third = link.sample(START + 3 * SECOND, 0, List.of());
        assertEquals(0.0, third.tunnelLimited(), 1e-9);
    }

    @Test
    void refusesANonPositiveInterval() {
        assertThrows(IllegalArgumentException.class, () -> new LinkMonitor(START, 0));
    }

    @Test
    void theHighestGoodputIsTakenOverTheLastSamples() {
        LinkMonitor link = new LinkMonitor(START, SECOND);
        assertEquals(0, link.highestGoodput(), 0);
        long consumed = 30_000_000;
        link.sample(START + SECOND, consumed, List.of());
        assertEquals(30_000_000, link.highestGoodput(), 1e-6);
        for (int i = 2; i <= LinkMonitor.GOODPUT_SAMPLES; i++) {
            consumed += 10_000_000;
            link.sample(START + i * SECOND, consumed, List.of());
            assertEquals(30_000_000, link.highestGoodput(), 1e-6, "a slower interval does not lower it");
        }
        consumed += 10_000_000;
        link.sample(START + (LinkMonitor.GOODPUT_SAMPLES + 1) * SECOND, consumed, List.of());
        assertEquals(10_000_000, link.highestGoodput(), 1e-6, "the old one has left the samples");
    }

    @Test
    void theStreamsBufferLimitedShareIsOfTheirSummedBusyTime() {
        LinkMonitor link = new LinkMonitor(START, SECOND);
        LinkMonitor.Sample sample = link.sample(
                START + SECOND,
                0,
                List.of(
                        new LinkMonitor.StreamReading(10_000, 10, 1000, 0, 0, new TunnelStream.Busy(600_000, 300_000)),
                        new LinkMonitor.StreamReading(10_000, 10, 1000, 0, 0, new TunnelStream.Busy(400_000, 0)),
                        new LinkMonitor.StreamReading(10_000, 10, 1000, 0, 0)));
        assertEquals(0.3, sample.bufferLimited(), 1e-9);
        LinkMonitor.Sample unknown =
                link.sample(START + 2 * SECOND, 0, List.of(new LinkMonitor.StreamReading(10_000, 10, 1000, 0, 0)));
        assertTrue(Double.isNaN(unknown.bufferLimited()), "no busy time: not known, " + unknown.bufferLimited());
    }
}
