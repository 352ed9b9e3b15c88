package io.dwcp.testbed.wan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LinkModelTest {
    private static final long MS = 1_000_000L;

    @Test
    void delayOnly() {
        LinkModel model = new LinkModel(LinkProfile.delay(Duration.ofMillis(35)), 0);
        assertEquals(35 * MS, model.arrive(0, 1500));
        assertEquals(45 * MS, model.arrive(10 * MS, 60));
    }

    @Test
    void rateSerializesBackToBackPackets() {
        // 12 Mbit/s: 1500 bytes take 1 ms
        LinkModel model = new LinkModel(LinkProfile.delay(Duration.ofMillis(10)).withRate(12_000_000), 0);
        assertEquals(11 * MS, model.arrive(0, 1500));
        assertEquals(12 * MS, model.arrive(0, 1500));
        assertEquals(13 * MS, model.arrive(0, 1500));
        // the link went idle: the next packet starts at its arrival
        assertEquals(30 * MS + 500_000, model.arrive(20 * MS, 750));
    }

    @Test
    void dropTailQueue() {
        LinkModel model = new LinkModel(
                LinkProfile.delay(Duration.ZERO).withRate(12_000_000).withQueueBytes(3000), 0);
        assertEquals(1 * MS, model.arrive(0, 1500));
        assertEquals(2 * MS, model.arrive(0, 1500));
        assertEquals(LinkModel.DROPPED_BY_QUEUE, model.arrive(0, 1500));
        assertEquals(LinkModel.DROPPED_BY_QUEUE, model.arrive(0, 60));
        // at 1 ms the first packet has left: room for one more
        assertEquals(3 * MS, model.arrive(1 * MS, 1500));
        assertEquals(3000, model.backlogBytes());
    }

    @Test
    void queueLimitInTimeIsConvertedAtTheRate() {
        LinkProfile profile =
                LinkProfile.delay(Duration.ZERO).withRate(1_000_000_000).withQueueTime(Duration.ofMillis(70));
        assertEquals(8_750_000, profile.effectiveQueueLimitBytes());
    }

    @Test
    void lossIsBernoulliAndSeeded() {
        double p = 0.02;
        int n = 200_000;
        long seed = 42;
        System.out.println("lossIsBernoulliAndSeeded seed=" + seed);
        LinkModel first = new LinkModel(
                LinkProfile.delay(Duration.ofMillis(1)).withLoss(p).withSeed(seed), 0);
        LinkModel second = new LinkModel(
                LinkProfile.delay(Duration.ofMillis(1)).withLoss(p).withSeed(seed), 0);
        int lost = 0;
        for (int i = 0; i < n; i++) {
            long a = first.arrive(i * 1000L, 100);
            assertEquals(a, second.arrive(i * 1000L, 100), "same seed, same outcome");
            if (a == LinkModel.DROPPED_BY_LOSS) {
                lost++;
            }
        }
        double bound = 2.576 * Math.sqrt(n * p * (1 - p));
        assertTrue(Math.abs(lost - n * p) <= bound, "lost " + lost + " of " + n);
    }

    @Test
    void jitterNeverReordersAndStaysWithinItsRange() {
        long seed = 7;
        System.out.println("jitterNeverReordersAndStaysWithinItsRange seed=" + seed);
        LinkModel model = new LinkModel(
                LinkProfile.delay(Duration.ofMillis(150))
                        .withJitter(Duration.ofMillis(5))
                        .withSeed(seed),
                0);
        long previous = Long.MIN_VALUE;
        double sum = 0;
        int n = 20_000;
        for (int i = 0; i < n; i++) {
            long now = i * 20 * MS; // far apart: jitter never needs clamping
            long release = model.arrive(now, 100);
            assertTrue(release >= previous, "reordered at " + i);
            assertTrue(release - now >= 145 * MS && release - now <= 155 * MS, "delay " + (release - now));
            previous = release;
            sum += release - now;
        }
        assertEquals(150 * MS, sum / n, 0.1 * MS);
        // back-to-back packets: clamped, still in order
        for (int i = 0; i < 1000; i++) {
            long release = model.arrive(n * 20 * MS + i, 100);
            assertTrue(release >= previous, "reordered back-to-back at " + i);
            previous = release;
        }
    }

    @Test
    void traceDeliveryOpportunities(@TempDir Path dir) throws IOException {
        // 4 opportunities in a 4 ms period: a mean of 12 Mbit/s
        Path trace = Files.writeString(dir.resolve("t.down"), "1\n1\n2\n4\n");
        assertEquals(12_000_000, RateTrace.load(trace).meanBitsPerSecond(), 1e-6);
        LinkModel model = new LinkModel(
                LinkProfile.delay(Duration.ZERO).withRate(12_000_000).withRateTrace(trace), 0);
        long[] expected = {1, 1, 2, 4, 5, 5, 6, 8};
        for (long millis : expected) {
            assertEquals(millis * MS, model.arrive(0, 1500));
        }
        // idle until 9.5 ms: the two opportunities at 9 ms were lost; the next one is at 10 ms
        assertEquals(10 * MS, model.arrive(9 * MS + 500_000, 1500));
        // a packet can use the rest of an opportunity (12 ms) and the start of the next (13 ms)
        assertEquals(12 * MS, model.arrive(12 * MS, 700));
        assertEquals(12 * MS, model.arrive(12 * MS, 700));
        assertEquals(13 * MS, model.arrive(12 * MS, 700));
    }

    @Test
    void traceScaledToTargetMean(@TempDir Path dir) throws IOException {
        Path trace = Files.writeString(dir.resolve("t.down"), "1\n1\n2\n4\n");
        // twice the trace's mean: 3000 bytes an opportunity
        LinkModel model = new LinkModel(
                LinkProfile.delay(Duration.ofMillis(10)).withRate(24_000_000).withRateTrace(trace), 0);
        long[] expected = {11, 11, 11, 11, 12, 12, 14, 14, 15};
        for (long millis : expected) {
            assertEquals(millis * MS, model.arrive(0, 1500));
        }
    }

    @Test
    void specRoundTrip() {
        LinkProfile profile = LinkProfile.delay(Duration.ofMillis(150))
                .withJitter(Duration.ofMillis(5))
                .withLoss(0.001)
                .withRate(200_000_000)
                .withQueueTime(Duration.ofMillis(100))
                .withRateTrace(Path.of("/x/y.down"))
                .withSeed(9);
        assertEquals(profile, LinkProfile.parse(profile.toSpec()));
        assertEquals(
                LinkProfile.direct(), LinkProfile.parse(LinkProfile.direct().toSpec()));
        assertTrue(LinkProfile.direct().isDirect());
    }

    @Test
    void scenariosSplitTheRttAndBoundTheQueue() {
        assertTrue(Scenario.S0_LOCAL.aToB().isDirect());
        LinkProfile s2 = Scenario.S2_TRANSATLANTIC.aToB();
        assertEquals(Duration.ofMillis(70), s2.delay());
        assertEquals(0.0005, s2.lossProbability());
        assertEquals(Duration.ofMillis(100), s2.queueLimitTime());
        assertEquals(Duration.ofMillis(70), Scenario.S1_CONTINENTAL.bToA().queueLimitTime());
        assertNull(s2.rateTrace());
    }

    @Test
    void theVaryingScenarioReplaysItsBundledTraces() {
        // S4 needs nothing beside the project: both traces ship in the test bed's resources
        LinkProfile aToB = Scenario.S4_VARYING.aToB();
        LinkProfile bToA = Scenario.S4_VARYING.bToA();
        assertTrue(
                aToB.rateTrace().toString().endsWith("TMobile-LTE-short.down"),
                aToB.rateTrace().toString());
        assertTrue(
                bToA.rateTrace().toString().endsWith("TMobile-LTE-short.up"),
                bToA.rateTrace().toString());
        RateTrace down = RateTrace.load(aToB.rateTrace());
        RateTrace up = RateTrace.load(bToA.rateTrace());
        // the recording: about 140 s per direction, a mean of a few Mbit/s before scaling
        assertEquals(139_986, down.periodMillis());
        assertTrue(up.periodMillis() > 130_000 && up.periodMillis() < 150_000, "up period " + up.periodMillis());
        assertTrue(
                down.meanBitsPerSecond() > 1e6 && down.meanBitsPerSecond() < 20e6,
                "down mean " + down.meanBitsPerSecond());
        // the emulator scales it to the scenario's mean
        LinkModel model = new LinkModel(aToB, 0);
        assertTrue(model.arrive(0, 1500) >= aToB.delay().toNanos());
        assertEquals(Scenario.S4_VARYING.rateBitsPerSecond(), aToB.rateBitsPerSecond());
    }
}
