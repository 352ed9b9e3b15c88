package io.dwcp.bench;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * One row of the {@code --evacuate} benchmark's JSON: one {@code dwcp evacuate} of fresh guests
 * with one policy.
 *
 * @param makespanMs      from the first migration's start line to the last one's end line, as the
 *                        harness timestamped the command's output (-1 when no migration started)
 * @param commandMs       the whole {@code dwcp evacuate} command: JVM start, dirty-rate measurement,
 *                        planning and the migrations
 * @param totalDowntimeMs the sum of the moved VMs' downtimes (libvirt's figure at the destination);
 *                        -1 when none was known
 * @param worstDowntimeMs the longest of them; -1 when none was known
 * @param moved           VMs the command reports moved (their migration completed)
 * @param leftAtSource    VMs still running on the source host afterwards
 * @param intact          VMs whose workload found every page as it must be where they run afterwards,
 *                        and which went on writing
 */
public record EvacuationRun(
        @JsonProperty("scenario") String scenario,
        @JsonProperty("policy") String policy,
        @JsonProperty("guests") int guests,
        @JsonProperty("status") String status,
        @JsonProperty("exit_code") int exitCode,
        @JsonProperty("makespan_ms") long makespanMs,
        @JsonProperty("command_ms") long commandMs,
        @JsonProperty("total_downtime_ms") long totalDowntimeMs,
        @JsonProperty("worst_downtime_ms") long worstDowntimeMs,
        @JsonProperty("moved") int moved,
        @JsonProperty("left_at_source") int leftAtSource,
        @JsonProperty("intact") int intact,
        @JsonProperty("wire_bytes") long wireBytes,
        @JsonProperty("detail") String detail,
        @JsonProperty("vms") List<Vm> vms) {

    /** The row's status when the command ran (whatever it moved). */
    static final String RAN = "ran";
    /** The row's status when the evacuation could not run at all (guests did not boot, ...). */
    static final String ERROR = "error";

    public EvacuationRun {
        vms = vms == null ? List.of() : List.copyOf(vms);
        detail = detail == null ? "" : detail;
    }

    /**
     * One guest of the evacuation.
     *
     * @param ramMiB          the domain's RAM
     * @param workloadMiB     what its workload filled
     * @param pagesPerSecond  the hot-page writes a second the workload was asked for
     * @param outcome         the command's outcome for it ({@code moved}, {@code failed}, {@code not started} ...)
     * @param timeMs          its migration's time as the command reports it (-1 if it did not run)
     * @param startMs         its start line, from the first start line of the evacuation (-1 if none)
     * @param downtimeMs      libvirt's downtime figure at the destination (-1 if unknown)
     * @param runsOn          where it runs afterwards: {@code a} (the source), {@code b}, {@code both},
     *                        {@code none}
     * @param intact          the workload's verdict where it runs, and it went on writing
     */
    public record Vm(
            @JsonProperty("name") String name,
            @JsonProperty("ram_mib") int ramMiB,
            @JsonProperty("workload_mib") int workloadMiB,
            @JsonProperty("pages_per_s") int pagesPerSecond,
            @JsonProperty("outcome") String outcome,
            @JsonProperty("time_ms") long timeMs,
            @JsonProperty("start_ms") long startMs,
            @JsonProperty("downtime_ms") long downtimeMs,
            @JsonProperty("runs_on") String runsOn,
            @JsonProperty("intact") boolean intact,
            @JsonProperty("detail") String detail) {
        public Vm {
            detail = detail == null ? "" : detail;
        }

        boolean moved() {
            return "moved".equals(outcome);
        }
    }

    /** The policy's row from its VMs: the sums, the worst and the counts are derived here only. */
    static EvacuationRun of(
            String scenario,
            String policy,
            int exitCode,
            long makespanMs,
            long commandMs,
            long wireBytes,
            String detail,
            List<Vm> vms) {
        long[] downtimes = vms.stream()
                .filter(Vm::moved)
                .mapToLong(Vm::downtimeMs)
                .filter(d -> d >= 0)
                .toArray();
        long total =
                downtimes.length == 0 ? -1 : java.util.Arrays.stream(downtimes).sum();
        long worst = downtimes.length == 0
                ? -1
                : java.util.Arrays.stream(downtimes).max().orElse(-1);
        int moved = (int) vms.stream().filter(Vm::moved).count();
        int left = (int) vms.stream()
                .filter(vm -> vm.runsOn().equals("a") || vm.runsOn().equals("both"))
                .count();
        int intact = (int) vms.stream().filter(Vm::intact).count();
        return new EvacuationRun(
                scenario,
                policy,
                vms.size(),
                RAN,
                exitCode,
                makespanMs,
                commandMs,
                total,
                worst,
                moved,
                left,
                intact,
                wireBytes,
                detail,
                vms);
    }

    /** An evacuation that could not run: kept in the output, never hidden. */
    static EvacuationRun error(String scenario, String policy, int guests, String detail) {
        return new EvacuationRun(scenario, policy, guests, ERROR, -1, -1, -1, -1, -1, 0, 0, 0, 0, detail, List.of());
    }
}
