package io.dwcp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class ProgressViewTest {
    private static final long SECOND = 1_000_000_000L;
    private static final long MIB = 1L << 20;

    @Test
    void jobStatsFromLibvirtFields() {
        JobStats stats = JobStats.of(
                2,
                Map.of(
                        "time_elapsed",
                        5000L,
                        "data_total",
                        1024 * MIB,
                        "data_processed",
                        300 * MIB,
                        "data_remaining",
                        724 * MIB,
                        "memory_iteration",
                        3L,
                        "memory_dirty_rate",
                        100L,
                        "memory_page_size",
                        4096L));
        assertEquals(JobStats.Type.UNBOUNDED, stats.type());
        assertEquals(5000, stats.elapsedMillis());
        assertEquals(OptionalLong.of(3), stats.memoryIteration());
        assertEquals(OptionalLong.of(409600), stats.dirtyBytesPerSecond());
        assertEquals(OptionalLong.empty(), stats.memoryBytesPerSecond());
        assertEquals(JobStats.Type.NONE, JobStats.of(0, Map.of()).type());
    }

    @Test
    void ratesFromDeltasAndEta() {
        ProgressView view = new ProgressView("vm1", "beta");
        view.update(0, stats(100 * MIB, 900 * MIB, 1), Optional.of(FakeDwcpd.migration("open", 100 * MIB, 25 * MIB)));
        view.update(
                SECOND, stats(200 * MIB, 800 * MIB, 1), Optional.of(FakeDwcpd.migration("open", 200 * MIB, 50 * MIB)));
        assertEquals(
                "vm1 -> beta [####----------------]  20% 200.0 MiB wire 50.0 MiB x4.00 100.0 MiB/s iter 1 ETA 0:08",
                view.bar(200));
        // the rate is smoothed: 0.4 x 300 MiB/s + 0.6 x 100 MiB/s
        view.update(
                2 * SECOND,
                stats(500 * MIB, 500 * MIB, 2),
                Optional.of(FakeDwcpd.migration("open", 500 * MIB, 125 * MIB)));
        assertEquals(
                "[0:02] vm1 -> beta: 50% of 1000.0 MiB, 500.0 MiB sent, wire 125.0 MiB (ratio 4.00), 180.0 MiB/s, iteration 2, ETA 0:03",
                view.line());
        assertEquals("vm1 -> beta [##########----------]  50% 500.0 MiB ", view.bar(50));
        assertEquals(
                "Migrated vm1 to beta in 4.0 s: guest data 500.0 MiB, on the wire 125.0 MiB (ratio 4.00), 125.0 MiB/s average, 2 iterations.",
                view.summary(4 * SECOND));
    }

    @Test
    void summarySaysWhatWasReused() {
        ProgressView view = new ProgressView("vm1", "beta");
        Dwcpd.Migration done = FakeDwcpd.migration("completed", 1000 * MIB, 100 * MIB);
        Dwcpd.Migration reused = new Dwcpd.Migration(
                done.id(),
                done.socket(),
                done.state(),
                done.qemuBytes(),
                done.tunnelBytesSent(),
                done.streams(),
                done.compressionRatio(),
                done.failure(),
                new Dwcpd.Reuse(250_000, 200_000, 3_000));
        view.update(0, stats(1000 * MIB, 0, 1), Optional.of(reused));
        assertEquals(
                "Migrated vm1 to beta in 2.0 s: guest data 1000.0 MiB, on the wire 100.0 MiB (ratio 10.00); reused 793.0 MiB the"
                        + " destination held (200000 pages as references, 3000 as deltas), 500.0 MiB/s average, 1 iteration.",
                view.summary(2 * SECOND));
        // nothing reused: nothing said
        view.update(0, stats(1000 * MIB, 0, 1), Optional.of(done));
        assertEquals(
                "Migrated vm1 to beta in 2.0 s: guest data 1000.0 MiB, on the wire 100.0 MiB (ratio 10.00), 500.0 MiB/s average, 1 iteration.",
                view.summary(2 * SECOND));
    }

    @Test
    void etaFollowsThePredictedRateAndTheDirtyPasses() {
        ProgressView view = new ProgressView("vm1", "beta");
        // 100 MiB/s, the guest dirtying 20 MiB/s: 600 MiB left in this pass take 6 s, the 120 MiB
        // dirtied meanwhile 1.2 s, then 24 MiB (0.24 s) fit the 300 ms limit: 6 + 1.2 + 0.24 s
        view.update(0, dirty(400 * MIB, 600 * MIB, 20 * MIB), Optional.empty());
        view.update(SECOND, dirty(500 * MIB, 600 * MIB, 20 * MIB), Optional.empty());
        assertEquals(100.0 * MIB, view.predictedRate().getAsDouble(), 1e-6 * MIB);
        assertEquals(7.44, view.etaSeconds().getAsDouble(), 1e-9);
        assertTrue(view.line().endsWith(", dirty 20.0 MiB/s, ETA 0:07"), view.line());
    }

    @Test
    void noEtaWhenTheGuestDirtiesFasterThanThePredictedRate() {
        ProgressView view = new ProgressView("vm1", "beta");
        view.update(0, dirty(400 * MIB, 600 * MIB, 150 * MIB), Optional.empty());
        view.update(SECOND, dirty(500 * MIB, 600 * MIB, 150 * MIB), Optional.empty());
        assertTrue(view.etaSeconds().isEmpty());
        assertTrue(view.line().endsWith(", dirty 150.0 MiB/s, not converging at this rate"), view.line());
        assertTrue(view.bar(200).endsWith(" ETA n/c"), view.bar(200));
    }

    @Test
    void withoutTunnelOrRateYet() {
        ProgressView view = new ProgressView("vm1", "beta");
        view.update(0, JobStats.NONE, Optional.empty());
        assertEquals("vm1 -> beta [--------------------]   0% 0 B -- B/s ETA --:--", view.bar(200));
        assertEquals("Migrated vm1 to beta in 0.0 s: guest data 0 B.", view.summary(0));
    }

    @Test
    void formats() {
        assertEquals("1023 B", ProgressView.bytes(1023));
        assertEquals("1.0 KiB", ProgressView.bytes(1024));
        assertEquals("1.5 GiB", ProgressView.bytes(1.5 * (1L << 30)));
        assertEquals("0:59", ProgressView.duration(59.4));
        assertEquals("1:00", ProgressView.duration(59.6));
        assertEquals("1:01:05", ProgressView.duration(3665));
    }

    private static JobStats dirty(long processed, long remaining, long dirtyBytesPerSecond) {
        return new JobStats(
                JobStats.Type.UNBOUNDED,
                1000,
                processed + remaining,
                processed,
                remaining,
                OptionalLong.of(1),
                OptionalLong.of(dirtyBytesPerSecond / 4096),
                OptionalLong.empty(),
                OptionalLong.of(4096));
    }

    private static JobStats stats(long processed, long remaining, long iteration) {
        return new JobStats(
                JobStats.Type.UNBOUNDED,
                iteration * 1000,
                processed + remaining,
                processed,
                remaining,
                OptionalLong.of(iteration),
                OptionalLong.empty(),
                OptionalLong.empty(),
                OptionalLong.empty());
    }
}
