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

    static String render(Collection<BenchRun> all) {
        List<BenchRun> transport = all.stream().filter(BenchRun::isTransport).toList();
        List<BenchRun> runs = all.stream().filter(r -> !r.isTransport()).toList();
        String migrations = runs.isEmpty() ? "" : renderMigrations(runs);
        return transport.isEmpty()
                ? migrations
                : migrations + (migrations.isEmpty() ? "" : "\n") + renderTransport(transport);
    }

    /**
     * The transport table: per scenario and mode, the goodput of bulk data (median, min, max over
     * the repetitions) and the median as a share of the link's rate.
     */
    static String renderTransport(Collection<BenchRun> runs) {
        Map<Cell, List<BenchRun>> cells = new LinkedHashMap<>();
        runs.stream()
                .sorted(Comparator.comparing(BenchRun::scenario).thenComparing(r -> modeRank(r.mode())))
                .forEach(run -> cells.computeIfAbsent(
                                new Cell(run.scenario(), "-", "-", run.mode()), c -> new ArrayList<>())
                        .add(run));
        StringBuilder out = new StringBuilder();
        out.append(String.format(
                Locale.ROOT,
                "%-4s %-10s %-10s %-30s %-10s%n",
                "scen",
                "transport",
                "link",
                "goodput Mbit/s (med [min-max])",
                "of link"));
        for (Map.Entry<Cell, List<BenchRun>> entry : cells.entrySet()) {
            List<BenchRun> measured = entry.getValue().stream()
                    .filter(r -> r.goodputBitsPerSecond() > 0)
                    .toList();
            long link = entry.getValue().get(0).linkBitsPerSecond();
            String goodput = measured.isEmpty()
                    ? entry.getValue().get(0).status() + ": "
                            + entry.getValue().get(0).detail()
                    : triple(measured, BenchRun::goodputBitsPerSecond, 1e6, "%.0f");
            String share = measured.isEmpty() || link <= 0
                    ? "-"
                    : String.format(
                            Locale.ROOT, "%.0f %%", 100.0 * median(measured, BenchRun::goodputBitsPerSecond) / link);
            out.append(String.format(
                    Locale.ROOT,
                    "%-4s %-10s %-10s %-30s %-10s%n",
                    entry.getKey().scenario(),
                    entry.getKey().mode(),
                    link <= 0 ? "-" : String.format(Locale.ROOT, "%.0f M", link / 1e6),
                    goodput,
                    share));
        }
        return out.toString();
    }

    private static String renderMigrations(Collection<BenchRun> runs) {
        Map<Cell, List<BenchRun>> cells = new LinkedHashMap<>();
        List<BenchRun> ordered = runs.stream()
                .sorted(Comparator.comparing(BenchRun::scenario)
                        .thenComparing(r ->
                                r.workload().equals("light") ? 0 : r.workload().equals("heavy") ? 1 : 2)
                        .thenComparing(BenchRun::qemu)
                        .thenComparing(r -> modeRank(r.mode()))
                        .thenComparing(BenchRun::mode))
                .toList();
        for (BenchRun run : ordered) {
            cells.computeIfAbsent(
                            new Cell(run.scenario(), run.workload(), run.qemu(), run.mode()), c -> new ArrayList<>())
                    .add(run);
        }
        StringBuilder out = new StringBuilder();
        out.append(String.format(
                Locale.ROOT,
                "%-4s %-6s %-5s %-16s %-9s %-7s %-26s %-12s %-22s %-14s %-10s %-9s %-23s %-9s %-8s%n",
                "scen",
                "load",
                "qemu",
                "mode",
                "converged",
                "intact",
                "total s (med [min-max])",
                "downtime ms",
                "wire MiB (med [min-max])",
                "vs precopy t/B",
                "vs best t",
                "dirty/s",
                "dwcpd CPU-s/GiB src/dst",
                "of it JIT",
                "bulk link use"));
        for (Map.Entry<Cell, List<BenchRun>> entry : cells.entrySet()) {
            Cell cell = entry.getKey();
            List<BenchRun> all = entry.getValue();
            List<BenchRun> done = all.stream().filter(BenchRun::completed).toList();
            long intact = all.stream().filter(BenchRun::guestIntact).count();
            String total = done.isEmpty() ? notConverged(all) : triple(done, BenchRun::totalMs, 1000.0, "%.1f");
            String downtime =
                    done.isEmpty() ? "-" : String.format(Locale.ROOT, "%d", median(done, BenchRun::downtimeMs));
            String wire = done.isEmpty() ? "-" : triple(done, BenchRun::wireBytes, 1 << 20, "%.0f");
            List<BenchRun> baseline = cells
                    .getOrDefault(new Cell(cell.scenario(), cell.workload(), cell.qemu(), "precopy"), List.of())
                    .stream()
                    .filter(BenchRun::completed)
                    .toList();
            String ratio = "-";
            if (!done.isEmpty() && !baseline.isEmpty()) {
                ratio = String.format(
                        Locale.ROOT,
                        "%.2f/%.2f",
                        (double) median(done, BenchRun::totalMs) / median(baseline, BenchRun::totalMs),
                        (double) median(done, BenchRun::wireBytes) / median(baseline, BenchRun::wireBytes));
            }
            String best = "-";
            long bestNative = bestNativeTotal(cells, cell);
            if (!done.isEmpty() && bestNative > 0) {
                best = String.format(Locale.ROOT, "%.2f", (double) median(done, BenchRun::totalMs) / bestNative);
            }
            List<BenchRun> rated = all.stream()
                    .filter(r -> r.achievedDirtyPagesPerSecond() >= 0)
                    .toList();
            String dirty = rated.isEmpty() ? "-" : Long.toString(median(rated, BenchRun::achievedDirtyPagesPerSecond));
            out.append(String.format(
                    Locale.ROOT,
                    "%-4s %-6s %-5s %-16s %-9s %-7s %-26s %-12s %-22s %-14s %-10s %-9s %-23s %-9s %-8s%n",
                    cell.scenario(),
                    cell.workload(),
                    cell.qemu(),
                    cell.mode(),
                    done.size() + "/" + all.size(),
                    intact + "/" + all.size(),
                    total,
                    downtime,
                    wire,
                    ratio,
                    best,
                    dirty,
                    dwcpdCpu(all),
                    dwcpdJit(all),
                    linkUse(all)));
        }
        return out.toString();
    }

    /** The median CPU seconds per GiB of guest RAM of the source and destination dwcpd ("-" for the native modes). */
    static String dwcpdCpu(List<BenchRun> runs) {
        double source = medianOf(runs, r -> r.cpuSecondsPerGiB(BenchRun.CPU_DWCPD_SOURCE));
        double destination = medianOf(runs, r -> r.cpuSecondsPerGiB(BenchRun.CPU_DWCPD_DESTINATION));
        return source < 0 && destination < 0 ? "-" : String.format(Locale.ROOT, "%.1f/%.1f", source, destination);
    }

    /**
     * The median share of both dwcpd's CPU time that their JIT compiler threads took ("-" where not
     * measured): a daemon the JIT has not yet warmed pays it on top of the data path.
     */
    static String dwcpdJit(List<BenchRun> runs) {
        double share = medianOf(runs, ResultTable::jitShare);
        return share < 0 ? "-" : String.format(Locale.ROOT, "%.0f %%", 100 * share);
    }

    private static double jitShare(BenchRun run) {
        Double source = run.cpuSeconds().get(BenchRun.CPU_DWCPD_SOURCE);
        Double destination = run.cpuSeconds().get(BenchRun.CPU_DWCPD_DESTINATION);
        Double sourceJit = run.cpuSeconds().get(BenchRun.CPU_DWCPD_SOURCE + ".jit");
        Double destinationJit = run.cpuSeconds().get(BenchRun.CPU_DWCPD_DESTINATION + ".jit");
        if (source == null || destination == null || sourceJit == null || destinationJit == null) {
            return -1;
        }
        double total = source + destination;
        return total <= 0 ? -1 : (sourceJit + destinationJit) / total;
    }

    /** The median share of the link's rate used while the bulk of the migration was sent ("-" on an unlimited link). */
    static String linkUse(List<BenchRun> runs) {
        double use = medianOf(runs, BenchRun::bulkLinkUse);
        return use < 0 ? "-" : String.format(Locale.ROOT, "%.0f %%", 100 * use);
    }

    /** The median of the values that were measured (non-negative), or -1 when none was. */
    private static double medianOf(List<BenchRun> runs, java.util.function.ToDoubleFunction<BenchRun> measure) {
        double[] values =
                runs.stream().mapToDouble(measure).filter(v -> v >= 0).sorted().toArray();
        int n = values.length;
        if (n == 0) {
            return -1;
        }
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }

    /**
     * The shortest median total time among QEMU's native modes (every mode not through dwcpd) of the
     * same scenario, workload and QEMU whose runs all converged; 0 when there is none.
     */
    private static long bestNativeTotal(Map<Cell, List<BenchRun>> cells, Cell cell) {
        long best = 0;
        for (Map.Entry<Cell, List<BenchRun>> entry : cells.entrySet()) {
            Cell other = entry.getKey();
            if (other.scenario().equals(cell.scenario())
                    && other.workload().equals(cell.workload())
                    && other.qemu().equals(cell.qemu())
                    && !other.mode().startsWith("dwcp")
                    && entry.getValue().stream().allMatch(BenchRun::completed)) {
                long total = median(entry.getValue(), BenchRun::totalMs);
                best = best == 0 ? total : Math.min(best, total);
            }
        }
        return best;
    }

    private static int modeRank(String mode) {
        int rank = BenchMode.ORDER.indexOf(mode);
        return rank < 0 ? Integer.MAX_VALUE : rank;
    }

    /** What the runs that did not complete achieved: the median wire goodput, and how long they ran. */
    private static String notConverged(List<BenchRun> runs) {
        List<BenchRun> measured = runs.stream().filter(r -> r.elapsedMs() > 0).toList();
        if (measured.isEmpty()) {
            return runs.get(0).status();
        }
        double[] rates = measured.stream()
                .mapToDouble(BenchRun::wireMbitPerSecond)
                .sorted()
                .toArray();
        return String.format(
                Locale.ROOT,
                "n/c %.0fs @%.1f Mbit/s",
                median(measured, BenchRun::elapsedMs) / 1000.0,
                rates[rates.length / 2]);
    }

    private static String triple(List<BenchRun> runs, ToLongFunction<BenchRun> measure, double unit, String format) {
        long[] values = runs.stream().mapToLong(measure).sorted().toArray();
        return String.format(
                Locale.ROOT,
                format + " [" + format + "-" + format + "]",
                median(runs, measure) / unit,
                values[0] / unit,
                values[values.length - 1] / unit);
    }

    static long median(List<BenchRun> runs, ToLongFunction<BenchRun> measure) {
        long[] values = runs.stream().mapToLong(measure).sorted().toArray();
        int n = values.length;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }
}
