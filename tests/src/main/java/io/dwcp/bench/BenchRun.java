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
        @JsonProperty("detail") String detail) {

    static BenchRun of(String scenario, String workload, String mode, String qemu, int repeat, MigrationResult r) {
        return new BenchRun(scenario, workload, mode, qemu, repeat, r.status(), r.totalMs(), r.downtimeMs(),
                r.qemuDowntimeMs(), r.wireBytes(), r.reverseWireBytes(), r.guestRamBytes(), r.pagesNormal(),
                r.pagesZero(), r.iterations(), r.guestIntact(), r.detail());
    }

    /** A run that could not even start its migration (a guest that did not boot, ...): kept, never hidden. */
    static BenchRun error(String scenario, String workload, String mode, String qemu, int repeat, String detail) {
        return new BenchRun(scenario, workload, mode, qemu, repeat, "error", -1, -1, -1, 0, 0, 0, 0, 0, 0,
                false, detail);
    }

    boolean completed() {
        return MigrationResult.COMPLETED.equals(status);
    }
}
