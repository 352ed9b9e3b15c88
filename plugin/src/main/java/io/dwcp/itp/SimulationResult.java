package io.dwcp.itp;

import java.util.List;

/**
 * The outcome of one simulated evacuation: makespan (time until the last migration ended),
 * migrations converged, failed (cancelled after {@code maxRounds}) and not started, downtimes.
 */
public record SimulationResult(
        String policy,
        double makespanSeconds,
        int converged,
        int failed,
        int notStarted,
        double totalDowntimeSeconds,
        double worstDowntimeSeconds,
        double bytesSent,
        List<Outcome> outcomes) {
    public enum Status {
        CONVERGED,
        FAILED,
        NOT_STARTED
    }

    /** One VM: when it started and ended, its downtime (NaN unless converged), pre-copy rounds (the stop-and-copy not counted) and bytes sent. */
    public record Outcome(
            String vm,
            String destination,
            Status status,
            double startSeconds,
            double endSeconds,
            double downtimeSeconds,
            int rounds,
            double bytesSent) {}

    public SimulationResult {
        outcomes = List.copyOf(outcomes);
    }

    /** VMs that are not on a destination at the end. */
    public int notMoved() {
        return failed + notStarted;
    }

    public Outcome outcome(String vm) {
        return outcomes.stream()
                .filter(o -> o.vm().equals(vm))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no outcome for " + vm));
    }
}
