package io.dwcp.bench;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.dwcp.testbed.qemu.MigrationResult;

/** One row of the benchmark's JSON output: one migration. */
public record BenchRun(
        @JsonProperty("scenario") String scenario,
        @JsonProperty("workload") String workload,
        @JsonProperty("mode") String mode,
        @JsonProperty("qemu") String qemu,
        @JsonProperty("repeat") int repeat,
        @JsonProperty("status") String status,
        @JsonProperty("total_ms") long totalMs,
        @JsonProperty("downtime_ms") long downtimeMs,
        @JsonProperty("qemu_downtime_ms") long qemuDowntimeMs,
        @JsonProperty("wire_bytes") long wireBytes,
        @JsonProperty("reverse_wire_bytes") long reverseWireBytes,
        @JsonProperty("guest_ram_bytes") long guestRamBytes,
        @JsonProperty("pages_normal") long pagesNormal,
        @JsonProperty("pages_zero") long pagesZero,
        @JsonProperty("iterations") long iterations,
        @JsonProperty("guest_intact") boolean guestIntact,
        @JsonProperty("detail") String detail,
        @JsonProperty("elapsed_ms") long elapsedMs,
        @JsonProperty("qemu_remaining_bytes") long qemuRemainingBytes,
        @JsonProperty("parallel_scenarios") int parallelScenarios,
        @JsonProperty("dirty_pages_per_s") long achievedDirtyPagesPerSecond,
        @JsonProperty("goodput_bps") long goodputBitsPerSecond,
        @JsonProperty("link_bps") long linkBitsPerSecond,
        @JsonProperty("cpu_seconds") java.util.Map<String, Double> cpuSeconds,
        @JsonProperty("bulk_wire_bps") long bulkWireBitsPerSecond,
        @JsonProperty("first_5s_wire_bps") long first5sWireBitsPerSecond,
        @JsonProperty("qemu_estimate") MigrationResult.QemuEstimate qemuEstimate) {

    /** Keys of {@link #cpuSeconds}: CPU seconds (user + system) each process spent during the migration. */
    static final String CPU_QEMU_SOURCE = "qemu-src";

    static final String CPU_QEMU_DESTINATION = "qemu-dst";
    static final String CPU_DWCPD_SOURCE = "dwcpd-src";
    static final String CPU_DWCPD_DESTINATION = "dwcpd-dst";
    /** The test bed's WAN emulator (both directions), where the scenario has one: no mode's own cost. */
    static final String CPU_WAN_EMULATOR = "wan-emulator";

    public BenchRun {
        qemuEstimate = qemuEstimate == null ? MigrationResult.QemuEstimate.NONE : qemuEstimate;
        cpuSeconds = cpuSeconds == null
                ? java.util.Map.of()
                : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(cpuSeconds));
    }

    /** The status of a transport run (a goodput measurement, no guest). */
    static final String MEASURED = "measured";

    /** @param dirtyRate the hot-page writes per second the guest achieved from READY to its verdict */
    static BenchRun of(
            String scenario,
            String workload,
            String mode,
            String qemu,
            int repeat,
            int parallel,
            long dirtyRate,
            MigrationResult r) {
        return new BenchRun(
                scenario,
                workload,
                mode,
                qemu,
                repeat,
                r.status(),
                r.totalMs(),
                r.downtimeMs(),
                r.qemuDowntimeMs(),
                r.wireBytes(),
                r.reverseWireBytes(),
                r.guestRamBytes(),
                r.pagesNormal(),
                r.pagesZero(),
                r.iterations(),
                r.guestIntact(),
                r.detail(),
                r.elapsedMs(),
                r.qemuRemainingBytes(),
                parallel,
                dirtyRate,
                0,
                0,
                null,
                0,
                0,
                r.estimate());
    }

    /**
     * A transport run: {@code bytes} of payload arrived in {@code windowMs} over a link of
     * {@code linkBps} (its configured rate, the mean for a trace).
     */
    static BenchRun transport(
            String scenario,
            String mode,
            int repeat,
            int parallel,
            long bytes,
            long windowMs,
            long linkBps,
            String detail) {
        long goodput = windowMs <= 0 ? 0 : bytes * 8000 / windowMs;
        return new BenchRun(
                scenario, "-", mode, "-", repeat, MEASURED, -1, -1, -1, bytes, 0, 0, 0, 0, 0, true, detail, windowMs,
                -1, parallel, -1, goodput, linkBps, null, 0, 0, null);
    }

    /** A run that could not even start its migration (a guest that did not boot, ...): kept, never hidden. */
    static BenchRun error(
            String scenario, String workload, String mode, String qemu, int repeat, int parallel, String detail) {
        return new BenchRun(
                scenario, workload, mode, qemu, repeat, "error", -1, -1, -1, 0, 0, 0, 0, 0, 0, false, detail, -1, -1,
                parallel, -1, 0, 0, null, 0, 0, null);
    }

    /** Goodput on the wire in Mbit/s over the whole migration (or until it was cancelled). */
    double wireMbitPerSecond() {
        return elapsedMs <= 0 ? 0 : wireBytes * 8.0 / 1000.0 / elapsedMs;
    }

    /** The same run with {@code prefix} put before its detail. */
    BenchRun withDetailPrefix(String prefix) {
        return new BenchRun(
                scenario,
                workload,
                mode,
                qemu,
                repeat,
                status,
                totalMs,
                downtimeMs,
                qemuDowntimeMs,
                wireBytes,
                reverseWireBytes,
                guestRamBytes,
                pagesNormal,
                pagesZero,
                iterations,
                guestIntact,
                prefix + detail,
                elapsedMs,
                qemuRemainingBytes,
                parallelScenarios,
                achievedDirtyPagesPerSecond,
                goodputBitsPerSecond,
                linkBitsPerSecond,
                cpuSeconds,
                bulkWireBitsPerSecond,
                first5sWireBitsPerSecond,
                qemuEstimate);
    }

    /**
     * The same run with the CPU seconds of its processes, the wire rates of its bulk phase and of
     * its first 5 s (the ramp-up), over a link of {@code linkBps}.
     */
    BenchRun withResources(java.util.Map<String, Double> cpu, long bulkBps, long linkBps, long first5sBps) {
        return new BenchRun(
                scenario,
                workload,
                mode,
                qemu,
                repeat,
                status,
                totalMs,
                downtimeMs,
                qemuDowntimeMs,
                wireBytes,
                reverseWireBytes,
                guestRamBytes,
                pagesNormal,
                pagesZero,
                iterations,
                guestIntact,
                detail,
                elapsedMs,
                qemuRemainingBytes,
                parallelScenarios,
                achievedDirtyPagesPerSecond,
                goodputBitsPerSecond,
                linkBps,
                cpu,
                bulkBps,
                first5sBps,
                qemuEstimate);
    }

    /** CPU seconds of one process per GiB of guest RAM, or -1 when not measured. */
    double cpuSecondsPerGiB(String process) {
        Double seconds = cpuSeconds.get(process);
        if (seconds == null || seconds < 0 || guestRamBytes <= 0) {
            return -1;
        }
        return seconds / (guestRamBytes / (double) (1L << 30));
    }

    /** The bulk phase's wire rate as a share of the link's rate, or -1 when either is unknown. */
    double bulkLinkUse() {
        return bulkWireBitsPerSecond <= 0 || linkBitsPerSecond <= 0
                ? -1
                : (double) bulkWireBitsPerSecond / linkBitsPerSecond;
    }

    boolean isTransport() {
        return MEASURED.equals(status) || "-".equals(workload);
    }

    boolean completed() {
        return MigrationResult.COMPLETED.equals(status);
    }
}
