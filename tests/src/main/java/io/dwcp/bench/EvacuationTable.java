package io.dwcp.bench;

import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code --evacuate} benchmark's shaping: what the timestamped output of {@code dwcp evacuate}
 * says of each VM ({@link #timeline}), libvirt's downtime figure ({@link #downtimeMs}), and the
 * tables: one row per scenario and policy, then one per VM.
 */
final class EvacuationTable {
    private EvacuationTable() {}

    /** The policies in the order they run and are shown. */
    static final List<String> POLICIES = List.of("itp", "serial", "all-at-once");

    private static final Pattern STAMPED = Pattern.compile("^(\\d+) (.*)$");
    private static final Pattern STARTING = Pattern.compile("^Starting (\\S+) -> (\\S+) \\(.*");
    private static final Pattern ENDED = Pattern.compile("^Ended (\\S+) -> (\\S+): (.+?) in ([0-9.]+) s\\b.*");
    private static final Pattern NOT_STARTING = Pattern.compile("^Not starting (\\S+): .*");
    private static final Pattern DOWNTIME = Pattern.compile("(?m)^Total downtime:\\s+(\\d+)\\s+ms");

    /**
     * What the command's output said of each VM: when its start and end lines came (epoch
     * milliseconds, as the harness stamped each line), its outcome and its time.
     */
    record Timeline(
            Map<String, Long> startedAt,
            Map<String, Long> endedAt,
            Map<String, String> outcomes,
            Map<String, Long> timesMs) {
        /** From the first start line to the last end line; -1 when nothing started or ended. */
        long makespanMs() {
            if (startedAt.isEmpty() || endedAt.isEmpty()) {
                return -1;
            }
            long first =
                    startedAt.values().stream().mapToLong(Long::longValue).min().orElseThrow();
            long last =
                    endedAt.values().stream().mapToLong(Long::longValue).max().orElseThrow();
            return Math.max(0, last - first);
        }

        /** A VM's start from the evacuation's first start line; -1 if it did not start. */
        long startOffsetMs(String vm) {
            Long at = startedAt.get(vm);
            if (at == null) {
                return -1;
            }
            return at
                    - startedAt.values().stream()
                            .mapToLong(Long::longValue)
                            .min()
                            .orElseThrow();
        }

        /** The outcome the command reported for {@code vm}: its end line's, {@code not started} otherwise. */
        String outcome(String vm) {
            return outcomes.getOrDefault(vm, "not started");
        }

        long timeMs(String vm) {
            return timesMs.getOrDefault(vm, -1L);
        }
    }

    /**
     * Reads lines "EPOCH_MS text" (the command's output as the harness stamped it); other lines are
     * skipped. A VM's outcome is the closing table's, else its end line's, else {@code not started}.
     */
    static Timeline timeline(String stampedOutput) {
        Map<String, Long> started = new LinkedHashMap<>();
        Map<String, Long> ended = new LinkedHashMap<>();
        Map<String, String> outcomes = new LinkedHashMap<>();
        Map<String, Long> times = new LinkedHashMap<>();
        Map<String, String> tabled = new LinkedHashMap<>();
        int outcomeColumn = -1;
        for (String line : stampedOutput.lines().toList()) {
            Matcher stamped = STAMPED.matcher(line);
            if (!stamped.matches()) {
                continue;
            }
            long at = Long.parseLong(stamped.group(1));
            String text = stamped.group(2);
            if (text.startsWith("VM ") && text.contains(" OUTCOME ")) {
                outcomeColumn = text.indexOf("OUTCOME");
                continue;
            }
            if (outcomeColumn >= 0) {
                // the closing table: VM, TO, OUTCOME (16 wide), TIME, DOWNTIME, REASON; then its footnote
                if (text.length() > outcomeColumn && !text.startsWith("(") && !text.startsWith("Moved ")) {
                    String vm = text.substring(0, text.indexOf(' ') < 0 ? text.length() : text.indexOf(' '));
                    String outcome = text.substring(outcomeColumn, Math.min(text.length(), outcomeColumn + 16))
                            .strip();
                    if (!vm.isEmpty() && !outcome.isEmpty()) {
                        tabled.put(vm, outcome);
                    }
                    continue;
                }
                outcomeColumn = -1;
            }
            Matcher m = STARTING.matcher(text);
            if (m.matches()) {
                started.putIfAbsent(m.group(1), at);
                continue;
            }
            m = ENDED.matcher(text);
            if (m.matches()) {
                ended.put(m.group(1), at);
                outcomes.put(m.group(1), m.group(3));
                times.put(m.group(1), Math.round(Double.parseDouble(m.group(4)) * 1000));
                continue;
            }
            m = NOT_STARTING.matcher(text);
            if (m.matches()) {
                outcomes.putIfAbsent(m.group(1), "not started");
            }
        }
        // the closing table has the last word: e.g. "refused" for a VM a re-plan left on the source
        outcomes.putAll(tabled);
        return new Timeline(started, ended, outcomes, times);
    }

    /** libvirt's "Total downtime" of a completed migration ({@code virsh domjobinfo --completed}), if it says. */
    static Optional<Long> downtimeMs(String domjobinfo) {
        Matcher m = DOWNTIME.matcher(domjobinfo);
        return m.find() ? Optional.of(Long.parseLong(m.group(1))) : Optional.empty();
    }

    /** The policy table, then the VM table. */
    static String render(Collection<EvacuationRun> runs) {
        List<EvacuationRun> ordered = runs.stream()
                .sorted(Comparator.comparing(EvacuationRun::scenario).thenComparing(r -> policyRank(r.policy())))
                .toList();
        String format = "%-4s %-12s %-6s %-10s %-10s %-6s %-5s %-7s %-20s %-9s %-4s%n";
        StringBuilder out = new StringBuilder();
        out.append(String.format(
                Locale.ROOT,
                format,
                "scen",
                "policy",
                "guests",
                "makespan s",
                "command s",
                "moved",
                "left",
                "intact",
                "downtime ms sum/max",
                "wire MiB",
                "exit"));
        for (EvacuationRun run : ordered) {
            if (run.status().equals(EvacuationRun.ERROR)) {
                out.append(String.format(
                        Locale.ROOT,
                        "%-4s %-12s %-6d error: %s%n",
                        run.scenario(),
                        run.policy(),
                        run.guests(),
                        run.detail()));
                continue;
            }
            out.append(String.format(
                    Locale.ROOT,
                    format,
                    run.scenario(),
                    run.policy(),
                    run.guests(),
                    seconds(run.makespanMs()),
                    seconds(run.commandMs()),
                    run.moved() + "/" + run.guests(),
                    run.leftAtSource(),
                    run.intact() + "/" + run.guests(),
                    run.totalDowntimeMs() < 0 ? "-" : run.totalDowntimeMs() + "/" + run.worstDowntimeMs(),
                    String.format(Locale.ROOT, "%.0f", run.wireBytes() / 1048576.0),
                    run.exitCode()));
        }
        String vmFormat = "%-4s %-12s %-24s %-7s %-12s %-8s %-8s %-11s %-12s %-7s %-6s%n";
        out.append(System.lineSeparator());
        out.append(String.format(
                Locale.ROOT,
                vmFormat,
                "scen",
                "policy",
                "vm",
                "ram MiB",
                "load MiB p/s",
                "start s",
                "time s",
                "downtime ms",
                "outcome",
                "runs on",
                "intact"));
        for (EvacuationRun run : ordered) {
            for (EvacuationRun.Vm vm : run.vms()) {
                out.append(String.format(
                        Locale.ROOT,
                        vmFormat,
                        run.scenario(),
                        run.policy(),
                        vm.name(),
                        vm.ramMiB(),
                        vm.workloadMiB() + " " + vm.pagesPerSecond(),
                        seconds(vm.startMs()),
                        seconds(vm.timeMs()),
                        vm.downtimeMs() < 0 ? "-" : Long.toString(vm.downtimeMs()),
                        vm.outcome(),
                        vm.runsOn(),
                        vm.intact() ? "yes" : "NO"));
            }
        }
        return out.toString()
                .lines()
                .map(String::stripTrailing)
                .collect(java.util.stream.Collectors.joining(System.lineSeparator(), "", System.lineSeparator()));
    }

    private static String seconds(long millis) {
        return millis < 0 ? "-" : String.format(Locale.ROOT, "%.1f", millis / 1000.0);
    }

    private static int policyRank(String policy) {
        int rank = POLICIES.indexOf(policy);
        return rank < 0 ? Integer.MAX_VALUE : rank;
    }
}
