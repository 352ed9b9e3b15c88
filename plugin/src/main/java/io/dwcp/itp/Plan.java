package io.dwcp.itp;

import java.util.List;
import java.util.Map;

/**
 * What the {@link Planner} decided for an evacuation: the steps in start priority (each VM's
 * destination and the reasons), the VMs it refuses to move, the most migrations each link runs at
 * once, the link estimates it planned with, and the timeline it predicts under those estimates.
 */
public record Plan(
        List<Step> steps,
        List<Refusal> refused,
        Map<String, Integer> concurrency,
        Map<String, Double> linkBytesPerSecond,
        double uplinkBytesPerSecond,
        double predictedMakespanSeconds) {
    /**
     * One VM: its destination; predicted start, end and downtime under the planned estimates
     * (NaN when the plan was made without a timeline); why.
     */
    public record Step(
            int order,
            Vm vm,
            String destination,
            boolean heavy,
            double predictedStartSeconds,
            double predictedEndSeconds,
            double predictedDowntimeSeconds,
            List<String> reasons) {
        public Step {
            reasons = List.copyOf(reasons);
        }

        Step withTimeline(double start, double end, double downtime) {
            return new Step(order, vm, destination, heavy, start, end, downtime, reasons);
        }
    }

    /** A VM left on the source, and why. */
    public record Refusal(Vm vm, String reason) {}

    public Plan {
        steps = List.copyOf(steps);
        refused = List.copyOf(refused);
        concurrency = Map.copyOf(concurrency);
        linkBytesPerSecond = Map.copyOf(linkBytesPerSecond);
    }

    public Step step(String vm) {
        return steps.stream()
                .filter(s -> s.vm().id().equals(vm))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no step for " + vm));
    }
}
