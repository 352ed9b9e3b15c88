package io.dwcp.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.testbed.qemu.MigrationResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class BenchMeasuresTest {
    @Test
    void statLineCountsFieldsFromTheLastParenthesis() {
        // a command name with spaces and a ')' inside, as /proc allows
        String stat = "4242 (java (dwcpd) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 567 0 0 20 0 40 0 100 0 0";
        assertEquals(18.01, ProcessCpu.parseStat(stat), 1e-9);
        assertThrows(IllegalArgumentException.class, () -> ProcessCpu.parseStat("garbage"));
    }

    @Test
    void ownProcessCpuGrowsWithWork() {
        long pid = ProcessHandle.current().pid();
        ProcessCpu.Meter meter = new ProcessCpu.Meter()
                .add("self", pid)
                .add("gone", Long.MAX_VALUE)
                .start();
        // busy until this thread itself used 0.3 s of CPU, however loaded the machine is
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        long until = threads.getCurrentThreadCpuTime() + 300_000_000L;
        long x = 0;
        while (threads.getCurrentThreadCpuTime() < until) {
            x += Long.numberOfTrailingZeros(x + System.nanoTime());
        }
        Map<String, Double> used = meter.stop();
        // /proc counts in 10 ms ticks
        assertTrue(used.get("self") >= 0.28, "0.3 s of CPU used, measured " + used.get("self") + " (" + x + ")");
        assertEquals(-1.0, used.get("gone"));
    }

    @Test
    void bulkRateIgnoresTheSlowStartAndTheTail() {
        List<WireSampler.Sample> samples = new ArrayList<>();
        long second = 1_000_000_000L;
        long bytes = 0;
        // 10 s of set-up at 1 MB/s, 10 s of bulk at 100 MB/s, 10 s of tail at 1 MB/s
        for (int t = 0; t <= 30; t++) {
            samples.add(new WireSampler.Sample(t * second, bytes));
            bytes += t < 10 || t >= 20 ? 1_000_000 : 100_000_000;
        }
        long bulk = WireSampler.bulkBitsPerSecond(samples);
        assertEquals(8_000_000L, WireSampler.firstSecondsBitsPerSecond(samples, 5));
        assertEquals(0, WireSampler.firstSecondsBitsPerSecond(samples, 60));
        assertTrue(bulk >= 700_000_000L && bulk <= 800_000_000L, "bulk rate " + bulk);
        assertEquals(0, WireSampler.bulkBitsPerSecond(List.of(new WireSampler.Sample(0, 0))));
    }

    @Test
    void ratesOfMoreThanAGigabyteDoNotOverflow() {
        // 2 GB in 100 s at an even 160 Mbit/s: bytes x 8e9 alone would overflow a long (it printed a negative bulk
        // rate)
        List<WireSampler.Sample> samples = new ArrayList<>();
        for (int t = 0; t <= 100; t++) {
            samples.add(new WireSampler.Sample(t * 1_000_000_000L, t * 20_000_000L));
        }
        assertEquals(160_000_000L, WireSampler.bulkBitsPerSecond(samples));
        assertEquals(160_000_000L, WireSampler.bitsPerSecond(2_000_000_000L, 100_000_000_000L));
    }

    @Test
    void tableShowsDwcpdCpuPerGibAndLinkUse() {
        BenchRun run = BenchRun.error("S2", "light", "dwcp", "10", 1, 1, "x")
                .withResources(
                        Map.of(BenchRun.CPU_DWCPD_SOURCE, 3.0, BenchRun.CPU_DWCPD_DESTINATION, 1.5),
                        400_000_000L,
                        500_000_000L,
                        0);
        BenchRun sized = new BenchRun(
                run.scenario(),
                run.workload(),
                run.mode(),
                run.qemu(),
                1,
                "completed",
                10_000,
                100,
                100,
                1 << 30,
                0,
                2L << 30,
                0,
                0,
                1,
                true,
                "",
                10_000,
                0,
                1,
                1,
                0,
                run.linkBitsPerSecond(),
                run.cpuSeconds(),
                run.bulkWireBitsPerSecond(),
                0,
                null);
        assertEquals("1.5/0.8", ResultTable.dwcpdCpu(List.of(sized)));
        assertEquals("-", ResultTable.dwcpdJit(List.of(sized)), "no thread breakdown measured");
        assertEquals("80 %", ResultTable.linkUse(List.of(sized)));
        String table = ResultTable.render(List.of(sized));
        assertTrue(table.contains("dwcpd CPU-s/GiB") && table.contains("1.5/0.8") && table.contains("80 %"), table);
    }

    @Test
    void threadKindsByName() {
        assertEquals("jit", ProcessCpu.threadKind("C2 CompilerThre"));
        assertEquals("jit", ProcessCpu.threadKind("C1 CompilerThre"));
        assertEquals("gc", ProcessCpu.threadKind("GC Thread#0"));
        assertEquals("gc", ProcessCpu.threadKind("G1 Conc#0"));
        assertEquals("gc", ProcessCpu.threadKind("VM Thread"));
        assertEquals("io", ProcessCpu.threadKind("dwcpd-io-1-2"));
        assertEquals("codec", ProcessCpu.threadKind("dwcp-codec-3-1"));
        assertEquals("baselines", ProcessCpu.threadKind("hde-baseline-jo"));
        assertEquals("other", ProcessCpu.threadKind("main"));
    }

    @Test
    void ownThreadsCpuByKind() throws Exception {
        long pid = ProcessHandle.current().pid();
        ProcessCpu.Meter meter =
                new ProcessCpu.Meter().addWithThreads("self", pid).start();
        // a thread named as a codec thread, busy until it used 0.2 s of CPU however loaded the machine is
        long[] sink = new long[1];
        Thread codec = new Thread(
                () -> {
                    java.lang.management.ThreadMXBean threads =
                            java.lang.management.ManagementFactory.getThreadMXBean();
                    long until = threads.getCurrentThreadCpuTime() + 200_000_000L;
                    while (threads.getCurrentThreadCpuTime() < until) {
                        sink[0] += Long.numberOfTrailingZeros(sink[0] + System.nanoTime());
                    }
                },
                "dwcp-codec-test");
        codec.start();
        codec.join();
        // join returns when the Java thread has terminated, but the kernel task lingers until the
        // native thread has finished its own exit: wait for the task itself to be gone
        awaitTaskGone("dwcp-codec-test");
        // measured once the thread has ended: its time is the process's, not in a kind any more
        Map<String, Double> ended = meter.stop();
        assertTrue(ended.get("self.other") >= 0.18, ended + " (" + sink[0] + ")");
        for (String kind : ProcessCpu.THREAD_KINDS) {
            assertTrue(ended.containsKey("self." + kind), ended.toString());
        }
        double sum = ProcessCpu.THREAD_KINDS.stream()
                        .mapToDouble(kind -> ended.get("self." + kind))
                        .sum()
                + ended.get("self.other");
        assertEquals(ended.get("self"), sum, 0.02 * ProcessCpu.THREAD_KINDS.size(), ended.toString());
    }

    @Test
    void aLiveThreadCountsInItsKind() throws Exception {
        long pid = ProcessHandle.current().pid();
        java.util.concurrent.CountDownLatch busy = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        long[] sink = new long[1];
        Thread codec = new Thread(
                () -> {
                    java.lang.management.ThreadMXBean threads =
                            java.lang.management.ManagementFactory.getThreadMXBean();
                    long until = threads.getCurrentThreadCpuTime() + 200_000_000L;
                    while (threads.getCurrentThreadCpuTime() < until) {
                        sink[0] += Long.numberOfTrailingZeros(sink[0] + System.nanoTime());
                    }
                    busy.countDown();
                    try {
                        done.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                },
                "dwcp-codec-live");
        ProcessCpu.Meter meter =
                new ProcessCpu.Meter().addWithThreads("self", pid).start();
        codec.start();
        busy.await();
        Map<String, Double> used = meter.stop();
        done.countDown();
        codec.join();
        // /proc counts in 10 ms ticks
        assertTrue(used.get("self.codec") >= 0.18, used + " (" + sink[0] + ")");
    }

    /** Waits, at most 10 s, until no task of this process has the name {@code comm}. */
    private static void awaitTaskGone(String comm) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (taskNamed(comm)) {
            assertTrue(System.nanoTime() < deadline, "task " + comm + " still in /proc/self/task after 10 s");
            LockSupport.parkNanos(1_000_000L);
        }
    }

    private static boolean taskNamed(String comm) throws IOException {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            return tasks.anyMatch(task -> {
                try {
                    return Files.readString(task.resolve("comm")).strip().equals(comm);
                } catch (IOException ended) {
                    return false;
                }
            });
        }
    }

    @Test
    void theSwitchOverLineSaysWhatQemuDecidedOn() {
        assertEquals("", Bench.switchover(MigrationResult.QemuEstimate.NONE));
        assertEquals(
                " (switch-over: QEMU's estimate 804 Mbit/s, 27.7 MiB left; its highest 1071)",
                Bench.switchover(new MigrationResult.QemuEstimate(1071.2, 804.4, 29_045_555, -1)));
        String withStop =
                Bench.switchover(new MigrationResult.QemuEstimate(1071.2, 804.4, 29_045_555, 1_765_000_000_123L));
        assertTrue(
                withStop.matches(" \\(switch-over: .*; its highest 1071; stopped at \\d\\d:\\d\\d:\\d\\d\\.123\\)"),
                withStop);
    }

    @Test
    void theEstimateGoesToTheJsonAndBackAndOldFilesReadWithout() throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        BenchRun run = BenchRun.of(
                "S2",
                "light",
                "dwcp",
                "10",
                1,
                1,
                10,
                new MigrationResult(
                        "completed",
                        1,
                        1,
                        1,
                        1,
                        1,
                        1,
                        1,
                        1,
                        1,
                        true,
                        "",
                        1,
                        0,
                        new MigrationResult.QemuEstimate(500, 300, 1 << 20, 1_765_000_000_123L)));
        String text = json.writeValueAsString(run);
        assertTrue(
                text.contains("\"qemu_estimate\":{\"max_mbps\":500.0,\"switchover_mbps\":300.0,"
                        + "\"switchover_remaining_bytes\":1048576,\"stop_epoch_ms\":1765000000123}"),
                text);
        assertEquals(run.qemuEstimate(), json.readValue(text, BenchRun.class).qemuEstimate());
        String withoutStop = text.replace(",\"stop_epoch_ms\":1765000000123", "");
        assertEquals(
                new MigrationResult.QemuEstimate(500, 300, 1 << 20, -1),
                json.readValue(withoutStop, BenchRun.class).qemuEstimate(),
                "a file from before the STOP time was kept");
        String old = text.replaceAll(",\"qemu_estimate\":\\{[^}]*\\}", "");
        assertEquals(
                MigrationResult.QemuEstimate.NONE,
                json.readValue(old, BenchRun.class).qemuEstimate());
    }
}
