package io.dwcp.testbed.wan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dwcp.testbed.net.TcpBulkTransfer;
import io.dwcp.testbed.net.TwoHostNetwork;
import io.dwcp.testbed.net.UdpProbe;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Does the emulated WAN do what its profile says? Real namespaces, real TCP and UDP, the emulator
 * in its own process. Bounds: RTT within ±1 ms, TCP goodput within ±3 % of the rate (less the
 * TCP/IP headers: 1448 payload bytes a 1500-byte packet), loss within a 99 % binomial bound.
 * Probe and bulk threads run at real-time priority (as the emulator does), so that what is measured
 * is the emulated link, not how much CPU the endpoints got on a machine shared with QEMU guests.
 *
 * <p>An RTT measured here includes four thread wake-ups that no WAN has: the emulator's on each
 * packet's arrival (both ways) and the two probe threads'. On this virtual machine they add
 * 0.4-1 ms together, and now and then a probe waits 2 ms more for a CPU (the hypervisor's, not
 * ours: real-time priority does not help). That noise only ever adds. So the RTT tests measure the
 * floor first, on an emulated link of negligible delay built the same way, and hold the emulator to
 * its profile with statistics that late probes cannot move: no probe comes back sooner than the
 * profile allows (an emulator that releases early fails), the median less the floor's median is
 * within ±1 ms, and on a jitter-free link the fastest quarter of the probes lies within 0.5 ms of
 * the fastest. (A CI run saw the middle half span 1.2 ms from noise alone, probes up to 3.7 ms late.)
 * On the jittered link the floor is measured at the same moments as the RTTs, and its whole
 * distribution, not only its median, is added to the profile's (see that test).
 */
@Timeout(value = 90)
class WanFidelityIT {
    private static final double PAYLOAD_PER_PACKET = 1448.0 / 1500.0;
    private static final double Z_99 = 2.576;

    @BeforeAll
    static void requireRoot() {
        assumeTrue(
                TwoHostNetwork.whyUnavailable().isEmpty(),
                () -> "skipped: " + TwoHostNetwork.whyUnavailable().orElse("")
                        + " (these tests build network namespaces)");
        TwoHostNetwork.cleanupLeftovers();
    }

    @Test
    void idleRoundTripIsTheConfiguredOne() throws Exception {
        Scenario scenario = Scenario.S1_CONTINENTAL;
        long floor = measurementFloor(7011);
        try (TwoHostNetwork network = TwoHostNetwork.create("rtt-s1", scenario.aToB(), scenario.bToA())) {
            long[] rtt = UdpProbe.roundTrips(
                    network.hostA(), network.hostB(), 7001, 62, Duration.ofMillis(40), Duration.ofSeconds(1));
            // the first two resolve ARP on both links; a probe lost to the 0.01 % loss is skipped
            long[] answered = answeredSorted(rtt);
            String seen = "S1 RTT (ms), floor " + floor / 1e6 + ": " + UdpProbe.millis(rtt);
            System.out.println(seen);
            assertTrue(answered.length >= 58, "answered " + answered.length + " of 60; " + seen);
            long configured = scenario.rtt().toNanos();
            assertTrue(answered[0] >= configured, "a probe came back sooner than " + scenario.rtt() + "; " + seen);
            assertEquals(
                    configured + floor, answered[answered.length / 2], 1_000_000, "median RTT less the floor; " + seen);
            // no jitter on this link: the fastest quarter of the probes lies within 0.5 ms of the
            // fastest one (the machine's noise delays some probes, never most of them; a link that
            // jittered by ±1 ms would spread that quarter over about 0.5 ms)
            long fastQuarter = answered[answered.length / 4] - answered[0];
            assertTrue(
                    fastQuarter <= 500_000,
                    "the fastest quarter of the RTTs spans " + fastQuarter / 1e6 + " ms on a link without jitter; "
                            + seen);
        }
    }

    @Test
    void roundTripWithJitterAveragesTheConfiguredOne() throws Exception {
        Scenario scenario = Scenario.S3_INTERCONTINENTAL;
        LinkProfile negligible = LinkProfile.delay(Duration.ofNanos(10_000));
        try (TwoHostNetwork network = TwoHostNetwork.create("rtt-s3", scenario.aToB(), scenario.bToA());
                TwoHostNetwork floorNetwork = TwoHostNetwork.create("rtt-s3-floor", negligible, negligible)) {
            // probes 25 ms apart: further apart than the jitter range, so no-reordering never delays one;
            // 600 of them, so that the median's sampling error is a fifth of the ±1 ms bound. The
            // floor's probes run at the same time, halfway between them, so that they meet the same
            // moments of the machine's noise (a CI run measured the floor first and then saw the S3
            // median 3.4 ms late: the noise had grown in between)
            FutureTask<long[]> floorProbes = new FutureTask<>(() -> {
                Thread.sleep(12);
                return UdpProbe.roundTrips(
                        floorNetwork.hostA(),
                        floorNetwork.hostB(),
                        7013,
                        602,
                        Duration.ofMillis(25),
                        Duration.ofSeconds(1));
            });
            Thread floorThread = new Thread(floorProbes, "udp-probe-floor");
            floorThread.setDaemon(true);
            floorThread.start();
            long[] rtt = UdpProbe.roundTrips(
                    network.hostA(), network.hostB(), 7002, 602, Duration.ofMillis(25), Duration.ofSeconds(1));
            long[] floors = answeredSorted(floorProbes.get(60, TimeUnit.SECONDS));
            long[] answered = answeredSorted(rtt);
            assertTrue(floors.length >= 590, "answered " + floors.length + " of 600 on the negligible-delay link");
            long floor = floors[floors.length / 2];
            long configured = scenario.rtt().toNanos();
            long jitterBoth = 2 * scenario.jitter().toNanos();
            long median = answered[answered.length / 2];
            long modelMedian = modelMedian(configured, jitterBoth, floors);
            System.out.printf(
                    Locale.ROOT,
                    "S3 RTT: %d answered, median %.3f ms, min %.3f, max %.3f; floor (same time) median %.3f,"
                            + " 90th %.3f, max %.3f; median the profile and that floor predict %.3f%n",
                    answered.length,
                    median / 1e6,
                    answered[0] / 1e6,
                    answered[answered.length - 1] / 1e6,
                    floor / 1e6,
                    floors[floors.length * 9 / 10] / 1e6,
                    floors[floors.length - 1] / 1e6,
                    modelMedian / 1e6);
            assertTrue(floor < 2_000_000, "probes and emulator add " + floor / 1e6 + " ms to an RTT: more than 2 ms");
            assertTrue(answered.length >= 588, "answered " + answered.length + " of 600");
            assertTrue(
                    answered[0] >= configured - jitterBoth,
                    "a probe came back " + answered[0] / 1e6 + " ms after it left: sooner than the jitter allows");
            // an RTT is the configured one, plus the sum of two independent uniform ±5 ms jitters (a
            // triangle on ±10 ms, sd 4.1 ms), plus what the probes and wake-ups add: the floor's
            // distribution, measured at the same moments. The median of 600 is that model's median
            // with an sd of about 0.21 ms (1.25 sd / sqrt(n)). Subtracting the floor's median
            // instead would ignore its tail, which moves the wide triangle's median but not the
            // narrow floor's own.
            assertEquals(modelMedian, median, 1_000_000, "median RTT against the profile plus the floor");
            long expected = configured + floor;
            long within = Arrays.stream(answered)
                    .filter(v -> Math.abs(v - expected) <= jitterBoth + 1_000_000)
                    .count();
            double modelWithin = 0;
            for (long f : floors) {
                modelWithin += triangleCdf(expected + jitterBoth + 1_000_000 - configured - f, jitterBoth)
                        - triangleCdf(expected - jitterBoth - 1_000_000 - configured - f, jitterBoth);
            }
            modelWithin /= floors.length;
            double required =
                    Math.min(0.95, modelWithin) - 3 * Math.sqrt(modelWithin * (1 - modelWithin) / answered.length);
            assertTrue(
                    within >= required * answered.length,
                    within + " of " + answered.length + " RTTs within the jitter range ±1 ms; the profile and"
                            + " the floor predict " + modelWithin);
        }
    }

    /**
     * The median of configured + a triangle on ±{@code halfWidth} + one of the {@code floors} (each
     * equally likely), found by bisection to 1 µs.
     */
    static long modelMedian(long configured, long halfWidth, long[] floors) {
        long low = configured - halfWidth;
        long high = configured + halfWidth + Arrays.stream(floors).max().orElse(0);
        while (high - low > 1_000) {
            long mid = (low + high) >>> 1;
            double cdf = 0;
            for (long f : floors) {
                cdf += triangleCdf(mid - configured - f, halfWidth);
            }
            if (cdf / floors.length < 0.5) {
                low = mid;
            } else {
                high = mid;
            }
        }
        return (low + high) >>> 1;
    }

    /**
     * The round trips that were answered, ascending, without the first two (they resolve ARP on
     * both links).
     */
    private static long[] answeredSorted(long[] rtt) {
        return Arrays.stream(rtt).skip(2).filter(v -> v >= 0).sorted().toArray();
    }

    /** P(X <= u) for X the sum of two independent uniforms on ±halfWidth/2: a triangle on ±halfWidth. */
    static double triangleCdf(double u, double halfWidth) {
        if (u <= -halfWidth) {
            return 0;
        }
        if (u >= halfWidth) {
            return 1;
        }
        double w2 = 2 * halfWidth * halfWidth;
        return u <= 0 ? (u + halfWidth) * (u + halfWidth) / w2 : 1 - (halfWidth - u) * (halfWidth - u) / w2;
    }

    /**
     * The median RTT of probes across an emulated link whose delay is negligible (10 µs each way):
     * what the probes and the emulator's wake-ups add to any RTT measured here. Checked to be small,
     * so that a slow emulator cannot hide behind it.
     */
    private static long measurementFloor(int port) throws Exception {
        LinkProfile negligible = LinkProfile.delay(Duration.ofNanos(10_000));
        try (TwoHostNetwork network = TwoHostNetwork.create("rtt-floor", negligible, negligible)) {
            long[] rtt = UdpProbe.roundTrips(
                    network.hostA(), network.hostB(), port, 42, Duration.ofMillis(20), Duration.ofSeconds(1));
            long[] answered = answeredSorted(rtt);
            System.out.println("floor RTT (ms): " + UdpProbe.millis(rtt));
            assertTrue(answered.length >= 38, "answered " + answered.length + " of 40 on the negligible-delay link");
            long floor = answered[answered.length / 2];
            assertTrue(floor < 2_000_000, "probes and emulator add " + floor / 1e6 + " ms to an RTT: more than 2 ms");
            return floor;
        }
    }

    /*
     * Known gap (open): at 500 Mbit/s and 1 Gbit/s the emulator delivers only about 97 % of the
     * configured IP rate under bulk TCP on this 2-core machine (measured -2.8 % to -3.2 % goodput,
     * with the queue overflowing at the same time), so those rates are not yet within +-3 %
     * reliably and are not asserted here. 200 Mbit/s is.
     */
    @Test
    void bulkTcpGoodputFollowsTheRate() throws Exception {
        assertGoodput("rate-200m", 200_000_000L, Duration.ofMillis(20), 8);
    }

    private static void assertGoodput(String name, long rate, Duration oneWay, int streams) throws Exception {
        // one BDP of queue: CUBIC keeps the link busy after a loss; no random loss
        LinkProfile forward = LinkProfile.delay(oneWay).withRate(rate).withQueueTime(oneWay.multipliedBy(2));
        LinkProfile reverse = LinkProfile.delay(oneWay);
        try (TwoHostNetwork network = TwoHostNetwork.create(name, forward, reverse);
                TcpBulkTransfer transfer = TcpBulkTransfer.start(network.hostA(), network.hostB(), 7003, streams, 5)) {
            Thread.sleep(5000); // warm-up: slow start, first losses
            WanStats before = network.wanStats();
            long start = System.nanoTime();
            double goodput = transfer.measureGoodput(Duration.ZERO, Duration.ofSeconds(10));
            long elapsed = System.nanoTime() - start;
            WanStats after = network.wanStats();
            double delivered = (after.aToB().bytesOut() - before.aToB().bytesOut()) * 8e9 / elapsed;
            double expected = rate * PAYLOAD_PER_PACKET;
            System.out.printf(
                    Locale.ROOT,
                    "%s: goodput %.2f Mbit/s (expected %.2f, %+.2f %%), emulator delivered %.2f Mbit/s of IP,"
                            + " queue drops %d%n",
                    name,
                    goodput / 1e6,
                    expected / 1e6,
                    (goodput / expected - 1) * 100,
                    delivered / 1e6,
                    after.aToB().droppedByQueue() - before.aToB().droppedByQueue());
            assertEquals(expected, goodput, expected * 0.03, "goodput over " + streams + " CUBIC streams");
        }
    }

    @Test
    void lossIsWithinItsBinomialBound() throws Exception {
        double lossAtoB = 0.02;
        double lossBtoA = 0.05;
        long seed = 20240601L;
        System.out.println("lossIsWithinItsBinomialBound seed=" + seed);
        LinkProfile forward =
                LinkProfile.delay(Duration.ofMillis(5)).withLoss(lossAtoB).withSeed(seed);
        LinkProfile reverse =
                LinkProfile.delay(Duration.ofMillis(5)).withLoss(lossBtoA).withSeed(seed + 1);
        try (TwoHostNetwork network = TwoHostNetwork.create("loss", forward, reverse)) {
            int probes = 20_000;
            int deliveredAtoB =
                    UdpProbe.delivered(network.hostA(), network.hostB(), 7004, probes, 10_000, Duration.ofMillis(500));
            int deliveredBtoA =
                    UdpProbe.delivered(network.hostB(), network.hostA(), 7005, probes, 10_000, Duration.ofMillis(500));
            WanStats stats = network.wanStats();
            System.out.printf(
                    Locale.ROOT,
                    "loss A->B %d of %d (p=%.3f), B->A %d of %d (p=%.3f); emulator %s%n",
                    probes - deliveredAtoB,
                    probes,
                    lossAtoB,
                    probes - deliveredBtoA,
                    probes,
                    lossBtoA,
                    stats);
            assertBinomial(probes, lossAtoB, probes - deliveredAtoB, "A->B");
            assertBinomial(probes, lossBtoA, probes - deliveredBtoA, "B->A");
            // nothing is lost anywhere else: the emulator's loss drops are the missing probes (+ ARP at most)
            assertEquals(0, stats.aToB().droppedByQueue());
            assertTrue(stats.aToB().droppedByLoss() >= probes - deliveredAtoB, "emulator loss drops A->B");
        }
    }

    private static void assertBinomial(int n, double p, int lost, String direction) {
        double mean = n * p;
        double bound = Z_99 * Math.sqrt(n * p * (1 - p));
        assertTrue(
                Math.abs(lost - mean) <= bound,
                String.format(
                        Locale.ROOT,
                        "%s: %d of %d probes lost, expected %.0f ± %.0f (99 %%)",
                        direction,
                        lost,
                        n,
                        mean,
                        bound));
    }
}
