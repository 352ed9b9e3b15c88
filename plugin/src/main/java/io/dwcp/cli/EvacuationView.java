package io.dwcp.cli;

import io.dwcp.itp.Evacuation;
import io.dwcp.itp.Plan;
import io.dwcp.itp.PlanRenderer;
import io.dwcp.itp.SlotScheduler;
import io.dwcp.itp.Vm;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Every line {@code dwcp evacuate} prints on standard output about the evacuation itself: the
 * heading with the figures' sources and the plan ({@code --dry-run} ends there), a re-plan, the
 * progress lines (a VM not started, started in its slot, ended) and the closing table and count.
 * The integration test and the bench parse these lines: they are kept as they were. The per-VM
 * migration progress is {@link MigrationRun}'s, not this class's.
 *
 * <p>Used on the command's (main) thread only; the {@link PrintStream} is shared with the
 * migrations' own output, which {@code PrintStream} serialises line by line.
 */
final class EvacuationView {
    /** One VM's end: moved or not, where, how long, why not. */
    record Outcome(
            String vm, String destination, String outcome, Duration time, Optional<String> reason, boolean moved) {}

    private final PrintStream out;

    EvacuationView(PrintStream out) {
        this.out = out;
    }

    /** The heading, the notes on where each figure came from, the plan and, for serial or all-at-once, what differs. */
    void plan(
            String node,
            int domains,
            List<String> destinations,
            String policy,
            EvacuateCommand.Policy chosenPolicy,
            Integer maxConcurrent,
            List<String> notes,
            Plan plan) {
        out.println("Evacuating " + node + " (" + domains + " running domain"
                + (domains == 1 ? "" : "s")
                + ") to "
                + String.join(", ", destinations) + "; policy " + policy
                + (maxConcurrent != null ? ", at most " + maxConcurrent + " at once" : ""));
        notes.forEach(note -> out.println("  " + note));
        out.print(PlanRenderer.render(plan));
        if (chosenPolicy != EvacuateCommand.Policy.ITP) {
            out.println("Policy " + policy + ": the planner's destinations and order, "
                    + (chosenPolicy == EvacuateCommand.Policy.SERIAL
                            ? "one migration at a time"
                            : "every VM at once (those with --after once their earlier VMs moved)")
                    + "; the predicted times above are those of the itp policy");
        }
    }

    /** A VM left waiting for good (a VM it comes after was not moved). */
    void notStarting(String vm, String reason) {
        out.println("Not starting " + vm + ": " + reason + "; it keeps running on this host");
    }

    /** A migration started: {@code slot} is as {@link #slot} renders it. */
    void starting(String vm, String link, String slot, int running) {
        out.println("Starting " + vm + " -> " + link + " (" + slot + "; " + running + " running)");
    }

    /** A migration ended, its slot (as {@link #slot} renders it) free again. */
    void ended(String vm, String link, MigrationRun.Result result, String slot, int running) {
        out.println("Ended " + vm + " -> " + link + ": " + outcome(result)
                + String.format(Locale.ROOT, " in %.1f s", result.elapsed().toNanos() / 1e9)
                + (result.migrated() ? "" : ", it keeps running on this host") + " ("
                + slot + " free; " + running + " running)");
    }

    /** The learner changed how many migrations run at once (its reason, with the aggregate rates measured). */
    void concurrency(io.dwcp.itp.ConcurrencyLearner.Change change) {
        out.println("Concurrency: " + change.describe());
    }

    /** The VMs not yet started were planned again: why ({@code moves}: per link, old and new rate) and the new plan. */
    void replanned(int waiting, List<String> moves, Plan plan) {
        out.println("Re-planned the " + waiting + " VMs not yet started (running ones go on): predicted link "
                + "goodput moved (" + String.join(", ", moves) + ")");
        out.print(PlanRenderer.render(plan));
    }

    /** Links moved, but a new plan would not finish the waiting VMs clearly sooner: the plan is kept. */
    void replanKept(int waiting, List<String> moves, double keepSeconds, double replannedSeconds) {
        out.println("Kept the plan of the " + waiting + " VMs not yet started: predicted link goodput moved ("
                + String.join(", ", moves) + "), but a new plan would not finish them "
                + String.format(Locale.ROOT, "more than %.0f%%", 100 * SlotScheduler.REPLAN_GAIN)
                + " sooner (predicted ~" + PlanRenderer.duration(keepSeconds) + " kept, ~"
                + PlanRenderer.duration(replannedSeconds) + " re-planned)");
    }

    /** The closing table and count; returns how many VMs moved. */
    long summary(Evacuation evacuation, Map<String, Outcome> outcomes) {
        out.print(table(evacuation, outcomes));
        long movedCount = outcomes.values().stream().filter(Outcome::moved).count();
        out.println("Moved " + movedCount + " of " + evacuation.vms().size() + " domains"
                + (movedCount < evacuation.vms().size() ? "; the others keep running on this host" : "") + ".");
        return movedCount;
    }

    /** How a migration's end reads in the table and the progress lines. */
    static String outcome(MigrationRun.Result result) {
        return switch (result.code()) {
            case OK -> "moved";
            case MIGRATION_FAILED -> "failed";
            case INTERRUPTED -> "interrupted";
            case DWCPD_UNAVAILABLE -> "refused by dwcpd";
            case LIBVIRT_ERROR -> "libvirt error";
            case USAGE -> "usage error";
        };
    }

    /** How a slot reads in the progress lines: {@code slot 2/3 to beta}, {@code slot 1/1 in all (serial)}. */
    static String slot(SlotScheduler scheduler, Plan plan, String link, int slot) {
        String most = scheduler.totalSlots() == SlotScheduler.UNLIMITED
                ? ""
                : ", at most " + scheduler.totalSlots() + " in all";
        return switch (scheduler.mode()) {
            case ITP -> "slot " + slot + "/" + scheduler.linkSlots(plan, link) + " to " + link + most;
            case SERIAL -> "slot 1/1 in all (serial)";
            case ALL_AT_ONCE -> "slot " + slot + " to " + link + (most.isEmpty() ? ", all at once" : most);
        };
    }

    static String table(Evacuation evacuation, Map<String, Outcome> outcomes) {
        int vmWidth = Math.max(
                16,
                evacuation.vms().stream().mapToInt(vm -> vm.id().length()).max().orElse(0));
        int toWidth = Math.max(
                10,
                outcomes.values().stream()
                        .mapToInt(outcome -> outcome.destination().length())
                        .max()
                        .orElse(0));
        String format = "%-" + vmWidth + "s %-" + toWidth + "s %-16s %8s %9s  %s%n";
        StringBuilder table = new StringBuilder();
        table.append(String.format(Locale.ROOT, format, "VM", "TO", "OUTCOME", "TIME", "DOWNTIME", "REASON"));
        for (Vm vm : evacuation.vms()) {
            Outcome outcome = outcomes.get(vm.id());
            table.append(String.format(
                                    Locale.ROOT,
                                    format,
                                    vm.id(),
                                    outcome.destination(),
                                    outcome.outcome(),
                                    outcome.time().isZero()
                                            ? "-"
                                            : String.format(
                                                    Locale.ROOT,
                                                    "%.1f s",
                                                    outcome.time().toNanos() / 1e9),
                                    "-",
                                    outcome.reason().orElse(""))
                            .stripTrailing())
                    .append(System.lineSeparator());
        }
        return table
                + "(downtime: libvirt does not report it to dwcp; 'virsh domjobinfo --completed' on the destination shows it)"
                + System.lineSeparator();
    }

    /** As the plan shows rates: {@code 12.5 Mbit/s}. */
    static String rate(double bytesPerSecond) {
        return String.format(Locale.ROOT, "%.1f Mbit/s", 8 * bytesPerSecond / 1e6);
    }
}
