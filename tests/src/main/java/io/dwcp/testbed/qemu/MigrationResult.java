package io.dwcp.testbed.qemu;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * What one migration measured.
 *
 * @param status        {@code completed}, {@code not-converged} (cancelled at its time limit; the
 *                      source kept running), or {@code failed}
 * @param totalMs       from the {@code migrate} command to the destination's RESUME event (-1 unless completed)
 * @param downtimeMs    from the source's STOP event to the destination's RESUME event, both
 *                      timestamped by QEMU on the same host clock (-1 unless completed)
 * @param qemuDowntimeMs QEMU's own downtime figure from the source's {@code query-migrate}
 * @param wireBytes     bytes that left the source host's interface during the migration (harness-measured)
 * @param reverseWireBytes bytes that left the destination host's interface (acknowledgements, return path)
 * @param guestRamBytes the guest's RAM size
 * @param pagesNormal   pages QEMU sent in full (query-migrate ram.normal)
 * @param pagesZero     zero pages (ram.duplicate)
 * @param iterations    dirty bitmap syncs (ram.dirty-sync-count)
 * @param guestIntact   the workload's own verdict where the VM runs afterwards (the destination when
 *                      completed, the source otherwise)
 * @param detail        the verdict line, or the error
 * @param elapsedMs     from the {@code migrate} command to completion, failure or cancellation
 * @param qemuRemainingBytes what QEMU still had to send when the migration ended (0 when completed)
 * @param estimate      QEMU's own bandwidth estimate, from which it decides the switch-over (polled
 *                      every 100 ms; {@link QemuEstimate#NONE} unless completed)
 */
public record MigrationResult(
        String status,
        long totalMs,
        long downtimeMs,
        long qemuDowntimeMs,
        long wireBytes,
        long reverseWireBytes,
        long guestRamBytes,
        long pagesNormal,
        long pagesZero,
        long iterations,
        boolean guestIntact,
        String detail,
        long elapsedMs,
        long qemuRemainingBytes,
        QemuEstimate estimate) {
    public static final String COMPLETED = "completed";
    public static final String NOT_CONVERGED = "not-converged";
    public static final String FAILED = "failed";

    /**
     * QEMU's bandwidth estimate ({@code query-migrate} {@code mbps}: what it wrote in its last
     * interval of about 100 ms), polled every 100 ms while the migration was active: the highest
     * seen, and the last before the switch-over with what QEMU then still had to send. QEMU
     * switches over once what remains fits its downtime limit at that estimate. With the moment the
     * VM stopped (the source's STOP event, milliseconds since the epoch on the host clock the
     * daemons' logs share; -1 if not known), to find the switch-over in their logs.
     */
    public record QemuEstimate(
            @JsonProperty("max_mbps") double maxMbps,
            @JsonProperty("switchover_mbps") double switchoverMbps,
            @JsonProperty("switchover_remaining_bytes") long switchoverRemainingBytes,
            @JsonProperty("stop_epoch_ms") long stopEpochMs) {
        public static final QemuEstimate NONE = new QemuEstimate(-1, -1, -1, -1);

        /** Files written before the STOP time was kept have none: -1. */
        @JsonCreator
        static QemuEstimate read(
                @JsonProperty("max_mbps") double maxMbps,
                @JsonProperty("switchover_mbps") double switchoverMbps,
                @JsonProperty("switchover_remaining_bytes") long switchoverRemainingBytes,
                @JsonProperty("stop_epoch_ms") Long stopEpochMs) {
            return new QemuEstimate(
                    maxMbps, switchoverMbps, switchoverRemainingBytes, stopEpochMs == null ? -1 : stopEpochMs);
        }
    }

    public boolean completed() {
        return COMPLETED.equals(status);
    }
}
