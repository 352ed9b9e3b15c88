package io.dwcp.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * The side-by-side table: one row per scenario, workload, QEMU and mode; median, min and max of
 * each measure over the completed repetitions; how many converged and how many guests were intact;
 * and ratios against plain precopy of the same scenario, workload and QEMU.
 */
final class ResultTable {
    private ResultTable() {}

    record Cell(String scenario, String workload, String qemu, String mode) {}

    static String render(Collection<BenchRun> runs) {
        Map<Cell, List<BenchRun>> cells = new LinkedHashMap<>();
        List<BenchRun> ordered = runs.stream().sorted(Comparator
                .comparing(BenchRun::scenario)
                .thenComparing(r -> r.workload().equals("light") ? 0 : r.workload().equals("heavy") ? 1 : 2)
                .thenComparing(BenchRun::qemu)
                .thenComparing(r -> modeRank(r.mode()))
                .thenComparing(BenchRun::mode)).toList();
        for (BenchRun run : ordered) {
            cells.computeIfAbsent(new Cell(run.scenario(), run.workload(), run.qemu(), run.mode()), c -> new ArrayList<>())
                    .add(run);
        }
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "%-4s %-6s %-5s %-14s %-9s %-7s %-26s %-12s %-22s %-14s %-9s%n",
                "scen", "load", "qemu", "mode", "converged", "intact", "total s (med [min-max])",
                "downtime ms", "wire MiB (med [min-max])", "vs precopy t/B", "dirty/s"));
        for (Map.Entry<Cell, List<BenchRun>> entry : cells.entrySet()) {
            Cell cell = entry.getKey();
            List<BenchRun> all = entry.getValue();
            List<BenchRun> done = all.stream().filter(BenchRun::completed).toList();
            long intact = all.stream().filter(BenchRun::guestIntact).count();
            String total = done.isEmpty() ? notConverged(all) : triple(done, BenchRun::totalMs, 1000.0, "%.1f");
            String downtime = done.isEmpty() ? "-" : String.format(Locale.ROOT, "%d", median(done, BenchRun::downtimeMs));
            String wire = done.isEmpty() ? "-" : triple(done, BenchRun::wireBytes, 1 << 20, "%.0f");
            List<BenchRun> baseline = cells.getOrDefault(new Cell(cell.scenario(), cell.workload(), cell.qemu(), "precopy"),
                    List.of()).stream().filter(BenchRun::completed).toList();
            String ratio = "-";
            if (!done.isEmpty() && !baseline.isEmpty()) {
                ratio = String.format(Locale.ROOT, "%.2f/%.2f",
                        (double) median(done, BenchRun::totalMs) / median(baseline, BenchRun::totalMs),
                        (double) median(done, BenchRun::wireBytes) / median(baseline, BenchRun::wireBytes));
            }
            List<BenchRun> rated = all.stream().filter(r -> r.achievedDirtyPagesPerSecond() >= 0).toList();
            String dirty = rated.isEmpty() ? "-" : Long.toString(median(rated, BenchRun::achievedDirtyPagesPerSecond));
            out.append(String.format(Locale.ROOT, "%-4s %-6s %-5s %-14s %-9s %-7s %-26s %-12s %-22s %-14s %-9s%n",
                    cell.scenario(), cell.workload(), cell.qemu(), cell.mode(),
                    done.size() + "/" + all.size(), intact + "/" + all.size(), total, downtime, wire, ratio, dirty));
        }
        return out.toString();
    }

    private static int modeRank(String mode) {
        int rank = BenchMode.DEFAULTS.indexOf(mode);
        return rank < 0 ? Integer.MAX_VALUE : rank;
    }

    /** What the runs that did not complete achieved: the median wire goodput, and how long they ran. */
    private static String notConverged(List<BenchRun> runs) {
        List<BenchRun> measured = runs.stream().filter(r -> r.elapsedMs() > 0).toList();
        if (measured.isEmpty()) {
            return runs.get(0).status();
        }
        double[] rates = measured.stream().mapToDouble(BenchRun::wireMbitPerSecond).sorted().toArray();
        return String.format(Locale.ROOT, "n/c %.0fs @%.1f Mbit/s", median(measured, BenchRun::elapsedMs) / 1000.0,
                rates[rates.length / 2]);
    }

    private static String triple(List<BenchRun> runs, ToLongFunction<BenchRun> measure, double unit, String format) {
        long[] values = runs.stream().mapToLong(measure).sorted().toArray();
        return String.format(Locale.ROOT, format + " [" + format + "-" + format + "]",
                median(runs, measure) / unit, values[0] / unit, values[values.length - 1] / unit);
    }

    static long median(List<BenchRun> runs, ToLongFunction<BenchRun> measure) {
        long[] values = runs.stream().mapToLong(measure).sorted().toArray();
        int n = values.length;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }
}
