package io.dwcp.itp;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The text of a {@link Plan}, as {@code dwcp evacuate --dry-run} prints it: the estimates planned
 * with, the concurrency per link, the VMs planned with a baseline at their destination, one line per VM in start order (destination, predicted start,
 * end and downtime, reasons), the VMs refused, and the predicted makespan.
 */
public final class PlanRenderer {
    private PlanRenderer() {}

    public static String render(Plan plan) {
        StringBuilder out = new StringBuilder();
        out.append(String.format(
                Locale.ROOT,
                "Evacuation plan: %d VMs to move, %d refused; predicted makespan %s%n",
                plan.steps().size(),
                plan.refused().size(),
                duration(plan.predictedMakespanSeconds())));
        out.append("Links (estimate, most migrations at once):");
        for (Map.Entry<String, Double> link : new TreeMap<>(plan.linkBytesPerSecond()).entrySet()) {
            out.append(String.format(
                    Locale.ROOT,
                    " %s %s x%d;",
                    link.getKey(),
                    rate(link.getValue()),
                    plan.concurrency().get(link.getKey())));
        }
        out.append(String.format(Locale.ROOT, " uplink %s%n", rate(plan.uplinkBytesPerSecond())));
        out.append(baselines(plan));
        out.append(String.format(
                Locale.ROOT,
                "%4s  %-12s %9s %12s  %-8s %8s %8s %9s  %s%n",
                "#",
                "VM",
                "RAM",
                "dirty",
                "to",
                "start",
                "end",
                "downtime",
                "why"));
        for (Plan.Step step : plan.steps()) {
            Vm vm = step.vm();
            out.append(String.format(
                    Locale.ROOT,
                    "%4d  %-12s %9s %12s  %-8s %8s %8s %9s  %s%n",
                    step.order(),
                    vm.id(),
                    bytes(vm.memoryBytes()),
                    rate(vm.dirtyBytesPerSecond()),
                    step.destination(),
                    duration(step.predictedStartSeconds()),
                    duration(step.predictedEndSeconds()),
                    Double.isNaN(step.predictedDowntimeSeconds())
                            ? "-"
                            : String.format(Locale.ROOT, "%.2f s", step.predictedDowntimeSeconds()),
                    String.join("; ", step.reasons())));
        }
        for (Plan.Refusal refusal : plan.refused()) {
            out.append(String.format(
                    Locale.ROOT,
                    "   -  %-12s %9s %12s  refused: %s%n",
                    refusal.vm().id(),
                    bytes(refusal.vm().memoryBytes()),
                    rate(refusal.vm().dirtyBytesPerSecond()),
                    refusal.reason()));
        }
        return out.toString();
    }

    /**
     * Which VMs are planned with a baseline held at their destination (its first round smaller), in
     * plan order: one line, or nothing when none is.
     */
    static String baselines(Plan plan) {
        List<String> with = new ArrayList<>();
        for (Plan.Step step : plan.steps()) {
            Vm vm = step.vm();
            if (vm.baseline(step.destination()).isPresent()) {
                with.add(String.format(
                        Locale.ROOT,
                        "%s on %s (first round %s of %s)",
                        vm.id(),
                        step.destination(),
                        bytes((long) vm.firstRoundBytes(step.destination())),
                        bytes(vm.memoryBytes())));
            }
        }
        return with.isEmpty()
                ? ""
                : "Planned with a baseline at the destination: " + String.join(", ", with) + System.lineSeparator();
    }

    /** {@code 4.0 GiB}, {@code 512 MiB}. */
    public static String bytes(long bytes) {
        if (bytes >= 1L << 30) {
            return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
        }
        return String.format(Locale.ROOT, "%d MiB", bytes >> 20);
    }

    /** Bytes/s as {@code 12.5 Mbit/s}. */
    static String rate(double bytesPerSecond) {
        return String.format(Locale.ROOT, "%.1f Mbit/s", 8 * bytesPerSecond / 1e6);
    }

    /** {@code 1h02m03s}, {@code 4m05s}, {@code 12s}; {@code -} for NaN or infinity. */
    public static String duration(double seconds) {
        if (Double.isNaN(seconds) || Double.isInfinite(seconds)) {
            return "-";
        }
        long s = Math.round(seconds);
        if (s >= 3600) {
            return String.format(Locale.ROOT, "%dh%02dm%02ds", s / 3600, s % 3600 / 60, s % 60);
        }
        if (s >= 60) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        return s + "s";
    }
}
