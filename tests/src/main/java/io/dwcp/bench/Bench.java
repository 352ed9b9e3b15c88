package io.dwcp.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.dwcp.testbed.dwcp.DwcpLink;
import io.dwcp.testbed.dwcp.Dwcpd;
import io.dwcp.testbed.guest.GuestConsole;
import io.dwcp.testbed.guest.GuestImage;
import io.dwcp.testbed.guest.Verdict;
import io.dwcp.testbed.guest.WorkloadSpec;
import io.dwcp.testbed.net.Host;
import io.dwcp.testbed.net.TcpBulkTransfer;
import io.dwcp.testbed.net.TwoHostNetwork;
import io.dwcp.testbed.qemu.Accelerator;
import io.dwcp.testbed.qemu.DirtyRate;
import io.dwcp.testbed.qemu.MigrationResult;
import io.dwcp.testbed.qemu.MigrationRun;
import io.dwcp.testbed.qemu.QemuBinary;
import io.dwcp.testbed.qemu.QemuVm;
import io.dwcp.testbed.sys.Folders;
import io.dwcp.testbed.sys.TrackedProcess;
import io.dwcp.testbed.wan.Scenario;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tests/bench}: migrates the same guest state with each mode over each emulated WAN
 * scenario, in one run on one machine, and prints a side-by-side table (median, min, max per
 * cell) plus a JSON file with every run. A migration that does not converge within its time
 * limit is cancelled and reported as {@code not-converged}; nothing is dropped from the output.
 */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = "Benchmark live migration modes side by side over emulated WAN scenarios.",
        exitCodeListHeading = "Exit status:%n",
        exitCodeList = {
            "0:every run migrated or was reported not-converged, every guest intact",
            "2:usage error",
            "3:a guest was not intact after a migration",
            "4:a run could not migrate at all"
        })
public final class Bench implements Callable<Integer> {
    @Option(
            names = "--scenario",
            split = ",",
            paramLabel = "S",
            description =
                    "Scenarios: S0 (local), S1 (70 ms, 1 Gbit/s), S2 (140 ms, 500 Mbit/s), S3 (300 ms, 200 Mbit/s), "
                            + "S4 (100 ms, trace-driven 200 Mbit/s mean). Default: all.")
    List<String> scenarios;

    @Option(
            names = "--workload",
            split = ",",
            paramLabel = "W",
            description = "light, heavy, app (a SQLite database under transfers). Default: light and heavy.")
    List<String> workloads;

    @Option(
            names = "--modes",
            split = ",",
            paramLabel = "M",
            description =
                    "QEMU's own: precopy, multifd, multifd-zstd, xbzrle; any of them with -bbr for BBR instead of the "
                            + "stock CUBIC on both hosts. Through dwcpd: dwcp-passthrough (the tunnel alone), dwcp (with HDE), dwcp-nobaselines (HDE, "
                            + "no baseline recorded or offered: dwcp's cost without them), dwcp-back (a round trip "
                            + "A->B->A with HDE; the row is the way back, which uses the baseline the way there left), dwcp-multifd (QEMU "
                            + "multifd through dwcpd with HDE on every channel); any of these with -warm (e.g. dwcp-warm): the daemons first carry "
                            + "a warm-up migration of another guest, so the row measures daemons the JIT has warmed, as on a long-running host. "
                            + "Resume: dwcp-resume, precopy-resume (any mode but the transport ones with -resume) cut the WAN and cancel the migration once QEMU has gone through 80 %% "
                            + "of the guest's pages, heal the link and migrate again; the row is the second attempt (through dwcpd it "
                            + "reuses what the first left at the destination, QEMU alone starts from zero). "
                            + "Transport only (bulk goodput, no guest): tcp-cubic, tcp-bbr, amst. "
                            + "Default: precopy, multifd, multifd-zstd, xbzrle, precopy-bbr.")
    List<String> modes;

    @Option(
            names = "--repeat",
            paramLabel = "N",
            description = "Repetitions per cell, taken in turn across the modes (A #1, B #1, A #2, ...). Default: 3.")
    Integer repeat;

    @Option(names = "--qemu", split = ",", paramLabel = "V", description = "7.2, 10 (or both: 7.2,10). Default: 10.")
    List<String> qemus;

    @Option(
            names = "--json",
            paramLabel = "FILE",
            description = "Where to write every run as JSON. Default: bench-results/bench-<time>.json.")
    Path json;

    @Option(
            names = "--quick",
            description =
                    "The demo, a few minutes: the same guest (light workload, QEMU 10) migrated once across S2 "
                            + "with QEMU's precopy, with its best native mode there (multifd-zstd) and through DWCP (dwcp), side by side.")
    boolean quick;

    @Option(
            names = "--time-limit",
            paramLabel = "SECONDS",
            description = "Cancel a migration still running after this long (reported not-converged). "
                    + "Default: max(60 s, 3 x the time one full copy of guest RAM takes at the link's rate).")
    Integer timeLimitSeconds;

    @Option(
            names = "--parallel",
            paramLabel = "N",
            description = "Run up to N emulated scenarios at the same time, each on its own hosts (they are bound by "
                    + "their links, not the CPU); S0 always runs alone. Default: 1.")
    int parallel = 1;

    @Option(
            names = "--report",
            arity = "1..*",
            paramLabel = "JSON",
            description = "Run nothing: print the table of the runs stored in these JSON files (from --json).")
    List<Path> reports;

    @Option(
            names = "--dwcpd-set",
            paramLabel = "KEY=VALUE",
            description =
                    "A dwcpd configuration key for the modes through dwcpd (repeatable), e.g. --dwcpd-set hde.tier3-max-level=3; "
                            + "see plugin/bin/dwcpd --help-config.")
    Map<String, String> dwcpdSettings = new LinkedHashMap<>();

    @Option(names = "--guest-ram", paramLabel = "MiB", description = "Guest RAM. Default: 1024.")
    int guestRamMiB = 1024;

    @Option(
            names = "--evacuate",
            description =
                    "Instead of the modes: evacuate host A to host B with 'dwcp evacuate', once per policy (--policies), "
                            + "through real libvirt (QEMU 7.2) and two dwcpd. Each policy gets a fresh test bed and fresh guests "
                            + "of mixed size and dirty rate (--guests; RAM 256, 384, 512 MiB in turn, half of it written, every other "
                            + "guest light at 500 pages/s or heavy at 2500 pages/s). Per policy: the makespan (first migration's "
                            + "start to the last one's end), the command's whole time, the sum and worst of libvirt's downtimes, "
                            + "VMs moved, VMs left at A and guests intact where they run. --scenario defaults to S2, --time-limit "
                            + "is each migration's --timeout (default 240 s); the link rate given to the planner is the scenario's.")
    boolean evacuate;

    @Option(names = "--guests", paramLabel = "N", description = "With --evacuate: the number of guests. Default: 6.")
    int guests = 6;

    @Option(
            names = "--policies",
            split = ",",
            paramLabel = "P",
            description = "With --evacuate: itp, serial, all-at-once. Default: all three, in this order.")
    List<String> policies;

    /** The demo's modes: QEMU's default, QEMU's best native mode on the WAN scenarios (see the baselines), DWCP. */
    static final List<String> QUICK_MODES = List.of("precopy", "multifd-zstd", "dwcp");

    /** A transport run's time to reach its steady rate (slow start, the stream count controller). */
    static final Duration TRANSPORT_WARM_UP = Duration.ofSeconds(10);
    /** How long a dwcpd may take to write a migration's baselines (a 1 GiB guest's on a slow disk). */
    static final Duration BASELINE_COMMIT_TIMEOUT = Duration.ofMinutes(2);
    /** A transport run's measured window. */
    static final Duration TRANSPORT_WINDOW = Duration.ofSeconds(20);

    private final PrintStream out = System.out;

    public static void main(String[] args) {
        System.exit(new CommandLine(new Bench())
                .setCaseInsensitiveEnumValuesAllowed(true)
                .execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (reports != null) {
            List<BenchRun> stored = new ArrayList<>();
            List<EvacuationRun> evacuations = new ArrayList<>();
            ObjectMapper mapper = new ObjectMapper();
            for (Path report : reports) {
                com.fasterxml.jackson.databind.JsonNode tree = mapper.readTree(report.toFile());
                if (tree.isArray() && tree.size() > 0 && tree.get(0).has("policy")) {
                    evacuations.addAll(List.of(mapper.treeToValue(tree, EvacuationRun[].class)));
                } else {
                    stored.addAll(List.of(mapper.treeToValue(tree, BenchRun[].class)));
                }
            }
            if (!evacuations.isEmpty()) {
                out.print(EvacuationTable.render(evacuations));
                if (stored.isEmpty()) {
                    return 0;
                }
                out.println();
            }
            out.print(ResultTable.render(stored));
            out.println(
                    "bench: 'n/c' = not converged within the time limit: how long it ran and its median goodput on the wire.");
            return 0;
        }
        if (evacuate) {
            return evacuate();
        }
        if (quick) {
            scenarios = scenarios != null ? scenarios : List.of("S2");
            workloads = workloads != null ? workloads : List.of("light");
            modes = modes != null ? modes : QUICK_MODES;
            repeat = repeat != null ? repeat : 1;
        }
        List<Scenario> scenarioList = (scenarios == null ? List.of("S0", "S1", "S2", "S3", "S4") : scenarios)
                .stream().map(Bench::scenario).toList();
        List<String> workloadList = workloads == null ? List.of("light", "heavy") : workloads;
        List<BenchMode> modeList = (modes == null ? BenchMode.DEFAULTS : modes)
                .stream().map(BenchMode::parse).toList();
        List<QemuBinary> qemuList = (qemus == null ? List.of("10") : qemus)
                .stream().map(QemuBinary::fromLabel).toList();
        int repeats = repeat == null ? 3 : repeat;
        if (json == null) {
            json = Path.of("bench-results", "bench-" + Instant.now().toString().replace(':', '-') + ".json");
        }
        for (String w : workloadList) {
            workload(w);
        }
        qemuList.forEach(QemuBinary::requireInstalled);
        if (parallel < 1) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--parallel must be at least 1");
        }

        TwoHostNetwork.cleanupLeftovers();
        TrackedProcess.cleanupLeftovers();
        Path runFolder = TrackedProcess.STATE_DIR.resolve(
                "bench-" + ProcessHandle.current().pid());
        GuestImage image = GuestImage.build().copyTo(runFolder.resolve("guest"));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> Folders.deleteTree(runFolder)));
        Accelerator accelerator = Accelerator.detect();
        long transportModes = modeList.stream().filter(BenchMode::isTransport).count();
        int total = (int) (scenarioList.size()
                * repeats
                * (workloadList.size() * qemuList.size() * (modeList.size() - transportModes) + transportModes));
        out.printf(
                "bench: %d runs (%s x %s x QEMU %s x %s x %d), accelerator %s, guest %d MiB, %s%n",
                total,
                scenarioList.stream().map(Bench::shortName).toList(),
                workloadList,
                qemuList.stream().map(QemuBinary::label).toList(),
                modeList.stream().map(BenchMode::label).toList(),
                repeats,
                accelerator,
                guestRamMiB,
                parallel == 1
                        ? "one migration at a time"
                        : "emulated scenarios up to " + parallel + " at a time (S0 alone)");

        Plan plan = new Plan(image, accelerator, workloadList, qemuList, modeList, repeats, total);
        // S0 is CPU-bound: it always runs alone. The emulated scenarios are bound by their links
        // and may run side by side (--parallel), each on its own pair of hosts.
        List<Scenario> alone = scenarioList.stream()
                .filter(s -> parallel == 1 || s.aToB().isDirect())
                .toList();
        List<Scenario> together = scenarioList.stream()
                .filter(s -> parallel > 1 && !s.aToB().isDirect())
                .toList();
        for (Scenario scenario : alone) {
            runScenario(plan, scenario, 1);
        }
        if (!together.isEmpty()) {
            ExecutorService pool = Executors.newFixedThreadPool(Math.min(parallel, together.size()));
            try {
                List<Future<?>> futures = new ArrayList<>();
                for (Scenario scenario : together) {
                    futures.add(pool.submit(() -> runScenario(plan, scenario, Math.min(parallel, together.size()))));
                }
                for (Future<?> future : futures) {
                    future.get();
                }
            } finally {
                pool.shutdownNow();
            }
        }
        List<BenchRun> runs = plan.runs();
        out.println();
        out.print(ResultTable.render(runs));
        out.println(
                "bench: 'n/c' = not converged within the time limit: how long it ran and its median goodput on the wire.");
        out.println("bench: runs written to " + json.toAbsolutePath());
        long errors = runs.stream().filter(r -> r.status().equals("error")).count();
        long corrupt = runs.stream()
                .filter(r -> !r.status().equals("error") && !r.guestIntact())
                .count();
        if (errors > 0) {
            out.println("bench: WARNING: " + errors
                    + " run(s) could not migrate at all (status error; see detail in the JSON)");
        }
        if (corrupt > 0) {
            out.println("bench: WARNING: " + corrupt
                    + " guest(s) were not intact after their migration (guest_intact false)");
        }
        return corrupt > 0 ? 3 : errors > 0 ? 4 : 0;
    }

    /** {@code --evacuate}: each scenario, each policy, fresh guests; a table and the JSON rows. */
    private int evacuate() {
        List<Scenario> scenarioList = (scenarios == null ? List.of("S2") : scenarios)
                .stream().map(Bench::scenario).toList();
        List<String> policyList = policies == null ? EvacuationTable.POLICIES : policies;
        for (String policy : policyList) {
            if (!EvacuationTable.POLICIES.contains(policy)) {
                throw new CommandLine.ParameterException(
                        new CommandLine(this), "unknown policy '" + policy + "' (expected itp, serial or all-at-once)");
            }
        }
        if (guests < 1) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--guests must be at least 1");
        }
        if (json == null) {
            json = Path.of(
                    "bench-results", "evacuate-" + Instant.now().toString().replace(':', '-') + ".json");
        }
        EvacuateBench.QEMU.requireInstalled();
        java.util.Optional<String> unavailable = io.dwcp.testbed.libvirt.LibvirtHost.whyUnavailable();
        if (unavailable.isPresent()) {
            throw new IllegalStateException(unavailable.get());
        }
        Path hook = EvacuateBench.defaultHook();
        if (!Files.isExecutable(hook)) {
            throw new IllegalStateException("the libvirt hook is not at " + hook + " (set -Ddwcp.hook.script)");
        }
        io.dwcp.testbed.libvirt.LibvirtTestBed.cleanupLeftovers();
        TrackedProcess.cleanupLeftovers();
        Accelerator accelerator = Accelerator.detect();
        List<EvacuateBench.GuestSpec> specs = EvacuateBench.mix(guests);
        Duration limit = Duration.ofSeconds(timeLimitSeconds != null ? timeLimitSeconds : 240);
        EvacuateBench bench = new EvacuateBench(out, GuestImage.build(), accelerator, hook, limit);
        out.printf(
                "bench: evacuate %s x %s, %d guests (%d MiB of guest RAM), QEMU %s, accelerator %s%n",
                scenarioList.stream().map(Bench::shortName).toList(),
                policyList,
                specs.size(),
                specs.stream().mapToInt(EvacuateBench.GuestSpec::ramMiB).sum(),
                EvacuateBench.QEMU.label(),
                accelerator);
        List<EvacuationRun> rows = new ArrayList<>();
        for (Scenario scenario : scenarioList) {
            for (String policy : policyList) {
                rows.add(bench.run(scenario, policy, specs));
                writeJson(rows);
            }
        }
        out.println();
        out.print(EvacuationTable.render(rows));
        out.println("bench: evacuations written to " + json.toAbsolutePath());
        long errors = rows.stream()
                .filter(r -> r.status().equals(EvacuationRun.ERROR))
                .count();
        long corrupt = rows.stream()
                .filter(r -> !r.status().equals(EvacuationRun.ERROR) && r.intact() < r.guests())
                .count();
        if (corrupt > 0) {
            out.println("bench: WARNING: " + corrupt + " evacuation(s) left guests not intact (see the VM table)");
        }
        if (errors > 0) {
            out.println("bench: WARNING: " + errors + " evacuation(s) could not run (status error)");
        }
        return corrupt > 0 ? 3 : errors > 0 ? 4 : 0;
    }

    /** What every scenario runs, and the runs collected so far (from one or several threads). */
    private final class Plan {
        final GuestImage image;
        final Accelerator accelerator;
        final List<String> workloads;
        final List<QemuBinary> qemus;
        final List<BenchMode> modes;
        final int repeats;
        final int total;
        private final List<BenchRun> runs = new ArrayList<>();
        private int started;

        Plan(
                GuestImage image,
                Accelerator accelerator,
                List<String> workloads,
                List<QemuBinary> qemus,
                List<BenchMode> modes,
                int repeats,
                int total) {
            this.image = image;
            this.accelerator = accelerator;
            this.workloads = workloads;
            this.qemus = qemus;
            this.modes = modes;
            this.repeats = repeats;
            this.total = total;
        }

        synchronized int nextIndex() {
            return ++started;
        }

        synchronized void add(BenchRun run) {
            runs.add(run);
            writeJson(runs);
        }

        synchronized List<BenchRun> runs() {
            return List.copyOf(runs);
        }
    }

    private void runScenario(Plan plan, Scenario scenario, int parallelScenarios) {
        String name = shortName(scenario);
        try (TwoHostNetwork network =
                TwoHostNetwork.create("bench-" + name.toLowerCase(Locale.ROOT), scenario.aToB(), scenario.bToA())) {
            Duration limit = timeLimit(scenario);
            out.printf("bench: scenario %s, time limit %d s%n", scenario, limit.toSeconds());
            List<BenchMode> transportModes =
                    plan.modes.stream().filter(BenchMode::isTransport).toList();
            List<BenchMode> guestModes =
                    plan.modes.stream().filter(m -> !m.isTransport()).toList();
            for (int r = 1; r <= plan.repeats; r++) {
                for (BenchMode mode : transportModes) {
                    String label = String.format(
                            Locale.ROOT, "[%d/%d] %s %s #%d", plan.nextIndex(), plan.total, name, mode.label(), r);
                    out.println("bench: " + label + " ...");
                    BenchRun run = runTransport(network, scenario, mode, r, parallelScenarios);
                    plan.add(run);
                    out.printf(
                            Locale.ROOT,
                            "bench: %s -> %s goodput %.1f Mbit/s (%s)%n",
                            label,
                            run.status(),
                            run.goodputBitsPerSecond() / 1e6,
                            run.detail());
                }
            }
            for (String workloadName : plan.workloads) {
                for (QemuBinary qemu : plan.qemus) {
                    // the repetitions in turn across the modes (A #1, B #1, A #2, ...): a machine whose
                    // speed drifts during the run (a shared or throttled host) weighs on every mode alike
                    for (int r = 1; r <= plan.repeats; r++) {
                        for (BenchMode mode : guestModes) {
                            String label = String.format(
                                    Locale.ROOT,
                                    "[%d/%d] %s %s qemu-%s %s #%d",
                                    plan.nextIndex(),
                                    plan.total,
                                    name,
                                    workloadName,
                                    qemu.label(),
                                    mode.label(),
                                    r);
                            out.println("bench: " + label + " ...");
                            BenchRun run = runOne(
                                    network,
                                    plan,
                                    scenario,
                                    workloadName,
                                    qemu,
                                    mode,
                                    r,
                                    limit,
                                    parallelScenarios,
                                    label);
                            plan.add(run);
                            String times = run.completed()
                                    ? String.format(
                                                    Locale.ROOT,
                                                    "total=%.1fs downtime=%dms",
                                                    run.totalMs() / 1000.0,
                                                    run.downtimeMs())
                                            + switchover(run.qemuEstimate())
                                    : String.format(Locale.ROOT, "after %.1fs", run.elapsedMs() / 1000.0);
                            out.printf(
                                    Locale.ROOT,
                                    "bench: %s -> %s %s wire=%.0fMiB (%.1f Mbit/s; first 5 s %.1f, bulk %.1f) intact=%s%s%n",
                                    label,
                                    run.status(),
                                    times,
                                    run.wireBytes() / 1048576.0,
                                    run.wireMbitPerSecond(),
                                    run.first5sWireBitsPerSecond() / 1e6,
                                    run.bulkWireBitsPerSecond() / 1e6,
                                    run.guestIntact(),
                                    run.cpuSeconds().isEmpty() ? "" : " cpu-s " + run.cpuSeconds());
                            if (!run.completed()
                                    && run.detail() != null
                                    && !run.detail().isBlank()) {
                                out.println("bench:   " + label + " " + run.status() + ": " + run.detail());
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * QEMU's estimate when it decided the switch-over, what then remained, its highest estimate, and
     * when the VM stopped (the host's local time, as the daemons log it).
     */
    static String switchover(MigrationResult.QemuEstimate estimate) {
        if (estimate.switchoverMbps() < 0) {
            return "";
        }
        String stopped = estimate.stopEpochMs() < 0
                ? ""
                : "; stopped at " + STOP_TIME.format(Instant.ofEpochMilli(estimate.stopEpochMs()));
        return String.format(
                Locale.ROOT,
                " (switch-over: QEMU's estimate %.0f Mbit/s, %.1f MiB left; its highest %.0f%s)",
                estimate.switchoverMbps(),
                estimate.switchoverRemainingBytes() / 1048576.0,
                estimate.maxMbps(),
                stopped);
    }

    private static final DateTimeFormatter STOP_TIME =
            DateTimeFormatter.ofPattern("HH:mm:ss.SSS", Locale.ROOT).withZone(ZoneId.systemDefault());

    private BenchRun runOne(
            TwoHostNetwork network,
            Plan plan,
            Scenario scenario,
            String workloadName,
            QemuBinary qemu,
            BenchMode mode,
            int repeat,
            Duration limit,
            int parallelScenarios,
            String label) {
        String name = shortName(scenario);
        WorkloadSpec spec = workload(workloadName);
        GuestImage image = plan.image;
        String cmdline = image.kernelCommandLine(spec, qemu.needsTcgDirtyBitmapWorkaround());
        Host a = network.hostA();
        Host b = network.hostB();
        Path work = TrackedProcess.STATE_DIR.resolve("vms").resolve(name);
        QemuVm.Config sourceConfig = new QemuVm.Config(
                "src",
                qemu,
                plan.accelerator,
                guestRamMiB,
                image.kernel(),
                image.initrd(),
                cmdline,
                false,
                work.resolve("src"),
                a::startTracked);
        QemuVm.Config destinationConfig = new QemuVm.Config(
                "dst",
                qemu,
                plan.accelerator,
                guestRamMiB,
                image.kernel(),
                image.initrd(),
                cmdline,
                true,
                work.resolve("dst"),
                b::startTracked);
        setCongestionControl(network, mode.congestionControl());
        try (DwcpLink link = mode.kind() == BenchMode.Kind.TUNNEL
                        ? DwcpLink.start(
                                network,
                                TrackedProcess.STATE_DIR.resolve("bench-dwcp").resolve(name),
                                dwcpSettings(mode))
                        : null;
                QemuVm source = QemuVm.start(sourceConfig);
                GuestConsole sourceConsole = GuestConsole.attach("src", source.consoleChannel())) {
            if (mode.warm()) {
                warmUp(network, link, plan, qemu, work, label);
            }
            sourceConsole.awaitReady(Duration.ofMinutes(5));
            long readyNanos = System.nanoTime();
            AtomicReference<Verdict> verdict = new AtomicReference<>();
            // as dwcp migrate does: the migration is announced at the source daemon before the destination QEMU
            // starts, so that its streams get through TCP and TLS meanwhile (a resumed migration's two attempts
            // go through the peer socket, which takes many sessions)
            // the wire is counted from the announcement: spare streams may send padding from then on
            MigrationRun.WireCounter wire = MigrationRun.WireCounter.since(network::bytesAtoB, network::bytesBtoA);
            Dwcpd.Announced announced = link == null || mode.resume()
                    ? null
                    : link.source().announceMigration("bench-" + name + "-" + workloadName, DwcpLink.B);
            try (QemuVm destination = QemuVm.start(destinationConfig);
                    GuestConsole destinationConsole = GuestConsole.attach("dst", destination.consoleChannel())) {
                // Let the dirtying settle into its steady rate before the migration starts; for the
                // application workload, whose writes are transactions, QEMU measures the page rate meanwhile.
                long sampledDirtyRate = -1;
                if (spec.program() == WorkloadSpec.Program.SQLITE) {
                    sampledDirtyRate = DirtyRate.measureMiBPerSecond(source.qmp(), 3) * 256;
                } else {
                    Thread.sleep(3000);
                }
                mode.nativeMode().configure(source.qmp());
                mode.nativeMode().configure(destination.qmp());
                String[] uris = migrationUris("tcp:" + b.address() + ":4444", link, announced);
                String listenUri = uris[0];
                String connectUri = uris[1];
                if (mode.resume()) {
                    return resumeAfterCancel(
                            network,
                            link,
                            source,
                            sourceConsole,
                            destination,
                            destinationConfig,
                            listenUri,
                            connectUri,
                            limit,
                            name,
                            workloadName,
                            qemu,
                            mode,
                            repeat,
                            parallelScenarios,
                            label,
                            scenario.rateBitsPerSecond());
                }
                Measured measured;
                try {
                    measured = migrateAtoB(
                            network,
                            wire,
                            link,
                            source,
                            sourceConsole,
                            destination,
                            destinationConsole,
                            listenUri,
                            connectUri,
                            limit,
                            verdict,
                            (status, elapsedMs, transferred, remaining, iterations) -> out.printf(
                                    Locale.ROOT,
                                    "bench:   %s %5.1fs %-10s sent %6.0f MiB, remaining %6.0f MiB, iteration %d%n",
                                    label,
                                    elapsedMs / 1000.0,
                                    status,
                                    transferred / 1048576.0,
                                    remaining / 1048576.0,
                                    iterations));
                } catch (RuntimeException e) {
                    // a guest that failed its check (or any other error) is diagnosed from these:
                    // the run's folders go when it ends
                    saveLogs(link, label, source, destination);
                    throw e;
                }
                MigrationResult result = measured.result();
                if (link != null) {
                    printTunnelCounts(label, link);
                    printHdeCounts(label, "A", link.source());
                }
                if (MigrationResult.FAILED.equals(result.status()) || !result.guestIntact()) {
                    saveLogs(link, label, source, destination);
                }
                long seconds = Math.max(1, (System.nanoTime() - readyNanos) / 1_000_000_000L);
                long dirtyRate = sampledDirtyRate >= 0
                        ? sampledDirtyRate
                        : verdict.get() == null ? -1 : verdict.get().writes() / seconds;
                if (mode.roundTrip()) {
                    return migrateBack(
                            network,
                            link,
                            destination,
                            destinationConsole,
                            destinationConfig,
                            work,
                            limit,
                            name,
                            workloadName,
                            qemu,
                            mode,
                            repeat,
                            parallelScenarios,
                            label,
                            result,
                            scenario.rateBitsPerSecond());
                }
                return measured.on(
                        BenchRun.of(
                                name,
                                workloadName,
                                mode.label(),
                                qemu.label(),
                                repeat,
                                parallelScenarios,
                                dirtyRate,
                                result),
                        scenario.rateBitsPerSecond());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return BenchRun.error(
                    name, workloadName, mode.label(), qemu.label(), repeat, parallelScenarios, "interrupted");
        } catch (RuntimeException e) {
            out.println("bench:   " + label + " error: " + e.getMessage());
            return BenchRun.error(
                    name,
                    workloadName,
                    mode.label(),
                    qemu.label(),
                    repeat,
                    parallelScenarios,
                    String.valueOf(e.getMessage()));
        } finally {
            setCongestionControl(network, BenchMode.STOCK_CONGESTION_CONTROL);
        }
    }

    /**
     * Where the destination QEMU listens and where the source QEMU connects: QEMU's own {@code tcp}
     * URI, or through the daemons: the announced migration's own socket, else the peer socket.
     */
    private static String[] migrationUris(String tcpUri, DwcpLink link, Dwcpd.Announced announced) {
        if (announced != null) {
            return new String[] {
                "unix:" + link.destination().migrationSocket(DwcpLink.B, announced.id()), "unix:" + announced.socket()
            };
        }
        return link == null ? new String[] {tcpUri, tcpUri} : new String[] {link.destinationUri(), link.sourceUri()};
    }

    /**
     * The logs of a run that failed (the migration, or the guest's check after it), beside the JSON
     * ({@code <json>-logs/<run>/}), for its diagnosis: the daemons' (when the run went through them),
     * and each QEMU's serial console and stderr ({@code src-console.log}, {@code dst-qemu.err}, ...).
     */
    private void saveLogs(DwcpLink link, String label, QemuVm source, QemuVm destination) {
        String file = json.getFileName().toString();
        Path dir = json.resolveSibling(file.replaceFirst("\\.json$", "") + "-logs")
                .resolve(label.replaceAll("[^A-Za-z0-9.-]+", "_").replaceAll("^_|_$", ""));
        try {
            Files.createDirectories(dir);
            if (link != null) {
                link.saveLogs(dir);
            }
            Files.writeString(dir.resolve("src-console.log"), source.consoleLog());
            Files.writeString(dir.resolve("src-qemu.err"), source.stderr());
            Files.writeString(dir.resolve("dst-console.log"), destination.consoleLog());
            Files.writeString(dir.resolve("dst-qemu.err"), destination.stderr());
            out.println("bench:   " + label + " its logs are in " + dir.toAbsolutePath());
        } catch (IOException | RuntimeException e) {
            out.println("bench:   " + label + " cannot save its logs to " + dir + ": " + e.getMessage());
        }
    }

    /**
     * How many frames and ACKs the daemons exchanged (the ACK rate is a per-byte cost of the
     * tunnel), and what the source's frames weighed on its streams, re-sends included (what the
     * wire carries beyond that is TLS, TCP/IP and the control connection). Counters of all the
     * migrations the daemons carried so far.
     */
    private void printTunnelCounts(String label, DwcpLink link) {
        try {
            out.printf(
                    Locale.ROOT,
                    "bench:   %s tunnel (all migrations so far): A sent %s, B sent %s%n",
                    label,
                    tunnelCounts(link.source()),
                    tunnelCounts(link.destination()));
        } catch (RuntimeException e) {
            out.println("bench:   " + label + " tunnel counts unavailable: " + e.getMessage());
        }
    }

    private static String tunnelCounts(Dwcpd daemon) {
        String metrics = daemon.metrics();
        return String.format(
                Locale.ROOT,
                "%.0f frames (%.0f re-sent; %.1f MiB) and %.0f ACKs; %.0f sessions read QEMU's first byte"
                        + " %.0f ms after it connected (sum), %.0f streams started as spares; %.0f sessions"
                        + " completed %.0f ms after QEMU's switch-over (sum); QEMU not read (sum, s): %s",
                Dwcpd.metric(metrics, "dwcp_frames_sent_total", "").orElse(Double.NaN),
                Dwcpd.metric(metrics, "dwcp_frames_resent_total", "").orElse(Double.NaN),
                Dwcpd.metric(metrics, "dwcp_tunnel_bytes_sent_total", "").orElse(Double.NaN) / 1048576.0,
                Dwcpd.metric(metrics, "dwcp_acks_sent_total", "").orElse(Double.NaN),
                Dwcpd.metric(metrics, "dwcp_session_start_seconds_count", "").orElse(Double.NaN),
                Dwcpd.metric(metrics, "dwcp_session_start_seconds_sum", "").orElse(Double.NaN) * 1000,
                Dwcpd.metric(metrics, "dwcp_spare_streams_taken_total", "").orElse(Double.NaN),
                Dwcpd.metric(metrics, "dwcp_switchover_seconds_count", "").orElse(Double.NaN),
                Dwcpd.metric(metrics, "dwcp_switchover_seconds_sum", "").orElse(Double.NaN) * 1000,
                QEMU_READ_HOLDS.stream()
                        .map(reason -> String.format(
                                Locale.ROOT,
                                "%s %.2f",
                                reason.replace('_', ' '),
                                Dwcpd.metric(metrics, "dwcp_qemu_read_held_seconds_total", "reason=\"" + reason + "\"")
                                        .orElse(Double.NaN)))
                        .collect(java.util.stream.Collectors.joining(", ")));
    }

    /** The reasons of {@code dwcp_qemu_read_held_seconds_total}, in the order dwcpd weighs them. */
    private static final List<String> QEMU_READ_HOLDS = List.of("start", "tunnel", "codec", "pace", "raw_window");

    private static final Pattern FRAME_BYTES_BY_LEVEL =
            Pattern.compile("^dwcp_hde_frame_bytes_total\\{zstd_level=\"([^\"]+)\"}\\s+(\\S+)$", Pattern.MULTILINE);

    /** Page levels in the order {@link #printHdeCounts} names them (the encoder's {@code PageLevel}s). */
    private static final List<String> HDE_LEVELS =
            List.of("zero", "reference", "delta", "baseline_delta", "baseline_zstd", "page");

    /**
     * What the encoding daemon made of the pages so far (its counters add up over every
     * migration it carried): pages and uncompressed record MiB per level, pages sent as references
     * to a baseline, and the MiB of frames written after zstd. Where a mode's bytes go.
     */
    private void printHdeCounts(String label, String name, Dwcpd encoder) {
        try {
            String metrics = encoder.metrics();
            StringBuilder line = new StringBuilder();
            for (String level : HDE_LEVELS) {
                line.append(String.format(
                        Locale.ROOT,
                        "%s %.0f (%.1f MiB), ",
                        level,
                        Dwcpd.metric(metrics, "dwcp_hde_pages_total", "level=\"" + level + "\"")
                                .orElse(Double.NaN),
                        Dwcpd.metric(metrics, "dwcp_hde_page_bytes_out_total", "level=\"" + level + "\"")
                                        .orElse(Double.NaN)
                                / 1048576.0));
            }
            StringBuilder levels = new StringBuilder();
            Matcher level = FRAME_BYTES_BY_LEVEL.matcher(metrics);
            while (level.find()) {
                levels.append(String.format(
                        Locale.ROOT, " %s: %.1f MiB;", level.group(1), Double.parseDouble(level.group(2)) / 1048576.0));
            }
            out.printf(
                    Locale.ROOT,
                    "bench:   %s hde at %s (all migrations so far): %sof which baseline references %.0f; raw %.1f MiB; frames %.1f MiB (by zstd level:%s)%n",
                    label,
                    name,
                    line,
                    Dwcpd.metric(metrics, "dwcp_hde_baseline_references_total", "")
                            .orElse(Double.NaN),
                    Dwcpd.metric(metrics, "dwcp_hde_raw_bytes_out_total", "").orElse(Double.NaN) / 1048576.0,
                    Dwcpd.metric(metrics, "dwcp_hde_frame_bytes_total", "").orElse(Double.NaN) / 1048576.0,
                    levels);
        } catch (RuntimeException e) {
            out.println("bench:   " + label + " HDE counts unavailable: " + e.getMessage());
        }
    }

    /** RAM of the warm-up guest of the -warm modes. */
    static final int WARM_UP_RAM_MIB = 256;
    /** The warm-up guest's workload: 128 MiB written, 2,000 dirty pages/s (the integration tests' guest). */
    static final WorkloadSpec WARM_UP_WORKLOAD = new WorkloadSpec(128, 2000, 10, 42);

    /**
     * The warm-up of a -warm mode: another guest ({@value #WARM_UP_RAM_MIB} MiB, light workload)
     * migrated from A to B through the same two dwcpd, so that the measured migration runs on code
     * the JIT has compiled in both roles' paths. It must complete intact, or the run is an error.
     */
    private void warmUp(TwoHostNetwork network, DwcpLink link, Plan plan, QemuBinary qemu, Path work, String label)
            throws InterruptedException {
        String cmdline = plan.image.kernelCommandLine(WARM_UP_WORKLOAD, qemu.needsTcgDirtyBitmapWorkaround());
        QemuVm.Config from = new QemuVm.Config(
                "warm-src",
                qemu,
                plan.accelerator,
                WARM_UP_RAM_MIB,
                plan.image.kernel(),
                plan.image.initrd(),
                cmdline,
                false,
                work.resolve("warm-src"),
                network.hostA()::startTracked);
        QemuVm.Config to = new QemuVm.Config(
                "warm-dst",
                qemu,
                plan.accelerator,
                WARM_UP_RAM_MIB,
                plan.image.kernel(),
                plan.image.initrd(),
                cmdline,
                true,
                work.resolve("warm-dst"),
                network.hostB()::startTracked);
        long start = System.nanoTime();
        AtomicReference<Verdict> verdict = new AtomicReference<>();
        try (QemuVm source = QemuVm.start(from);
                GuestConsole sourceConsole = GuestConsole.attach("warm-src", source.consoleChannel());
                QemuVm destination = QemuVm.start(to);
                GuestConsole destinationConsole = GuestConsole.attach("warm-dst", destination.consoleChannel())) {
            sourceConsole.awaitReady(Duration.ofMinutes(5));
            MigrationResult result = MigrationRun.run(
                    source,
                    destination,
                    link.destinationUri(),
                    link.sourceUri(),
                    Duration.ofMinutes(5),
                    MigrationRun.WireCounter.of(network::bytesAtoB, network::bytesBtoA),
                    vm -> check(vm == destination ? destinationConsole : sourceConsole, verdict),
                    null);
            if (!result.completed() || !result.guestIntact()) {
                throw new IllegalStateException(
                        "the warm-up migration did not complete intact: " + result.status() + " " + result.detail());
            }
            out.printf(
                    Locale.ROOT,
                    "bench:   %s warm-up: a %d MiB guest migrated through the same dwcpd in %.1f s (%.1f s with its boot)%n",
                    label,
                    WARM_UP_RAM_MIB,
                    result.totalMs() / 1000.0,
                    (System.nanoTime() - start) / 1e9);
        }
        // the warm-up's baselines are written in the background: not while the measured migration runs
        awaitBaselines(link);
    }

    /**
     * Waits until neither dwcpd records or writes a baseline any more (the states they publish on
     * their control sockets), so that no baseline write overlaps the next migration.
     */
    private void awaitBaselines(DwcpLink link) {
        long start = System.nanoTime();
        List<Dwcpd.BaselineCommit> atA = link.source().awaitBaselineCommits(0, BASELINE_COMMIT_TIMEOUT);
        List<Dwcpd.BaselineCommit> atB = link.destination().awaitBaselineCommits(0, BASELINE_COMMIT_TIMEOUT);
        out.printf(
                Locale.ROOT,
                "bench:   baselines written after %.1f s: A %s, B %s%n",
                (System.nanoTime() - start) / 1e9,
                describe(atA),
                describe(atB));
    }

    private static String describe(List<Dwcpd.BaselineCommit> commits) {
        if (commits.isEmpty()) {
            return "none";
        }
        Dwcpd.BaselineCommit last = commits.get(commits.size() - 1);
        return last.committed()
                ? String.format(Locale.ROOT, "%s %d pages", last.state(), last.pages())
                : last.state() + (last.reason() == null ? "" : " (" + last.reason() + ")");
    }

    /** A migration and what it cost: CPU-seconds per process, the bulk phase's and the first 5 s's wire rates. */
    private record Measured(MigrationResult result, Map<String, Double> cpuSeconds, long bulkBps, long first5sBps) {
        BenchRun on(BenchRun run, long linkBps) {
            return run.withResources(cpuSeconds, bulkBps, linkBps, first5sBps);
        }
    }

    /**
     * Migrates {@code source} to {@code destination}, from host A to host B, metering CPU and the
     * link ({@code wire} counts from its origin); each guest is checked on its own console
     * ({@code progress} may be null).
     */
    private static Measured migrateAtoB(
            TwoHostNetwork network,
            MigrationRun.WireCounter wire,
            DwcpLink link,
            QemuVm source,
            GuestConsole sourceConsole,
            QemuVm destination,
            GuestConsole destinationConsole,
            String listenUri,
            String connectUri,
            Duration limit,
            AtomicReference<Verdict> verdict,
            MigrationRun.Progress progress) {
        MigrationRun.GuestCheck guestCheck =
                vm -> check(vm == destination ? destinationConsole : sourceConsole, verdict);
        return measured(
                cpuMeter(source, destination, link, network),
                network::bytesAtoB,
                () -> MigrationRun.run(source, destination, listenUri, connectUri, limit, wire, guestCheck, progress));
    }

    /** Runs {@code migration} while metering the processes' CPU and sampling the link's byte counter. */
    private static Measured measured(
            ProcessCpu.Meter cpu, LongSupplier wireCounter, Supplier<MigrationResult> migration) {
        cpu.start();
        WireSampler wire = WireSampler.start(wireCounter);
        MigrationResult result;
        try {
            result = migration.get();
        } finally {
            wire.close();
        }
        return new Measured(result, cpu.stop(), wire.bulkBitsPerSecond(), wire.firstSecondsBitsPerSecond(5));
    }

    /**
     * The processes whose CPU time a migration run reports: both QEMUs, through the tunnel both
     * dwcpd, and the WAN emulator where there is one (not part of any mode, but it shares the
     * machine's cores with them).
     */
    private static ProcessCpu.Meter cpuMeter(QemuVm source, QemuVm destination, DwcpLink link, TwoHostNetwork network) {
        ProcessCpu.Meter meter = new ProcessCpu.Meter()
                .add(BenchRun.CPU_QEMU_SOURCE, source.pid())
                .add(BenchRun.CPU_QEMU_DESTINATION, destination.pid());
        network.emulatorPid().ifPresent(pid -> meter.add(BenchRun.CPU_WAN_EMULATOR, pid));
        if (link != null) {
            meter.addWithThreads(BenchRun.CPU_DWCPD_SOURCE, link.source().pid())
                    .addWithThreads(
                            BenchRun.CPU_DWCPD_DESTINATION, link.destination().pid());
        }
        return meter;
    }

    /** The share of the guest's pages QEMU has gone through when a resume mode's first attempt is cut. */
    static final double RESUME_CUT_AT = 0.8;

    /**
     * A resume mode's run: the first attempt is cut when QEMU has gone through {@link #RESUME_CUT_AT}
     * of the guest's pages (the WAN cut, then the operator's cancel, as {@code dwcp migrate}'s
     * Ctrl-C does), the link is healed, and the second attempt starts to a fresh destination QEMU.
     * Through dwcpd it begins once both daemons have stored what the first attempt left (a partial
     * baseline); QEMU alone starts from zero. The row is the second attempt; its detail says what
     * the first took.
     */
    private BenchRun resumeAfterCancel(
            TwoHostNetwork network,
            DwcpLink link,
            QemuVm source,
            GuestConsole sourceConsole,
            QemuVm destination,
            QemuVm.Config destinationConfig,
            String listenUri,
            String connectUri,
            Duration limit,
            String name,
            String workloadName,
            QemuBinary qemu,
            BenchMode mode,
            int repeat,
            int parallelScenarios,
            String label,
            long linkBps)
            throws InterruptedException {
        long wire0 = network.bytesAtoB();
        long start = System.nanoTime();
        AtomicReference<String> cut = new AtomicReference<>();
        Thread canceller = new Thread(
                () -> {
                    try {
                        while (cut.get() == null) {
                            Thread.sleep(100);
                            var ram = source.qmp().execute("query-migrate").path("ram");
                            long total = ram.path("total").asLong();
                            if (total > 0 && total - ram.path("remaining").asLong() >= RESUME_CUT_AT * total) {
                                network.setCut(true);
                                source.qmp().execute("migrate_cancel");
                                cut.set(String.format(
                                        Locale.ROOT,
                                        "cut at %.1f s, %.1f MiB on the wire",
                                        (System.nanoTime() - start) / 1e9,
                                        (network.bytesAtoB() - wire0) / 1048576.0));
                            }
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } catch (RuntimeException e) {
                        cut.compareAndSet(null, "the cut failed: " + e.getMessage());
                    }
                },
                "bench-resume-cut");
        canceller.setDaemon(true);
        canceller.start();
        MigrationResult first;
        try {
            first = MigrationRun.run(
                    source,
                    destination,
                    listenUri,
                    connectUri,
                    limit,
                    MigrationRun.WireCounter.of(network::bytesAtoB, network::bytesBtoA),
                    vm -> check(sourceConsole, new AtomicReference<>()),
                    null);
        } finally {
            cut.compareAndSet(null, "never cut");
            canceller.interrupt();
            canceller.join(10_000);
            network.setCut(false);
        }
        String firstSummary = String.format(
                Locale.ROOT,
                "first attempt %s (%s), %.1f MiB on the wire in all",
                first.status(),
                cut.get(),
                (network.bytesAtoB() - wire0) / 1048576.0);
        out.println("bench:   " + label + " " + firstSummary + "; now again");
        if (link != null) {
            printTunnelCounts(label, link);
            printHdeCounts(label, "A", link.source());
        }
        if (first.status().equals(MigrationResult.COMPLETED)) {
            return BenchRun.error(
                    name,
                    workloadName,
                    mode.label(),
                    qemu.label(),
                    repeat,
                    parallelScenarios,
                    "the first attempt completed before the cut: " + firstSummary);
        }
        if (link != null) {
            awaitBaselines(link);
        }
        destination.close();
        QemuVm.Config againConfig = new QemuVm.Config(
                "again",
                destinationConfig.binary(),
                destinationConfig.accelerator(),
                destinationConfig.ramMiB(),
                destinationConfig.kernel(),
                destinationConfig.initrd(),
                destinationConfig.kernelCommandLine(),
                true,
                destinationConfig.workDir().resolveSibling("again"),
                network.hostB()::startTracked);
        AtomicReference<Verdict> verdict = new AtomicReference<>();
        try (QemuVm again = QemuVm.start(againConfig);
                GuestConsole againConsole = GuestConsole.attach("again", again.consoleChannel())) {
            mode.nativeMode().configure(again.qmp());
            Measured measured = migrateAtoB(
                    network,
                    MigrationRun.WireCounter.of(network::bytesAtoB, network::bytesBtoA),
                    link,
                    source,
                    sourceConsole,
                    again,
                    againConsole,
                    listenUri,
                    connectUri,
                    limit,
                    verdict,
                    null);
            if (link != null) {
                printTunnelCounts(label, link);
                printHdeCounts(label, "A", link.source());
            }
            return measured.on(
                            BenchRun.of(
                                    name,
                                    workloadName,
                                    mode.label(),
                                    qemu.label(),
                                    repeat,
                                    parallelScenarios,
                                    -1,
                                    measured.result()),
                            linkBps)
                    .withDetailPrefix(firstSummary + "; ");
        }
    }

    /**
     * The way back of a round trip: the guest that {@code there} brought to B migrates back to a
     * fresh destination QEMU on A, through the same two dwcpd, which now hold the first leg's
     * baseline. The row is the way back; its detail says what the way there took.
     */
    private BenchRun migrateBack(
            TwoHostNetwork network,
            DwcpLink link,
            QemuVm guest,
            GuestConsole guestConsole,
            QemuVm.Config config,
            Path work,
            Duration limit,
            String name,
            String workloadName,
            QemuBinary qemu,
            BenchMode mode,
            int repeat,
            int parallelScenarios,
            String label,
            MigrationResult there,
            long linkBps)
            throws InterruptedException {
        if (!there.status().equals(MigrationResult.COMPLETED) || !there.guestIntact()) {
            return BenchRun.error(
                    name,
                    workloadName,
                    mode.label(),
                    qemu.label(),
                    repeat,
                    parallelScenarios,
                    "the way there did not complete intact: " + there.status() + " " + there.detail());
        }
        String thereSummary = String.format(
                Locale.ROOT,
                "way there %.1f s, %.1f MiB on the wire",
                there.totalMs() / 1000.0,
                there.wireBytes() / 1048576.0);
        out.println("bench:   " + label + " " + thereSummary + "; now back from B to A");
        // both dwcpd write their baselines in the background once the session completed: the way
        // back starts when each says it is done (A's is the one the way back refers to)
        awaitBaselines(link);
        QemuVm.Config backConfig = new QemuVm.Config(
                "back",
                config.binary(),
                config.accelerator(),
                config.ramMiB(),
                config.kernel(),
                config.initrd(),
                config.kernelCommandLine(),
                true,
                work.resolve("back"),
                network.hostA()::startTracked);
        AtomicReference<Verdict> verdict = new AtomicReference<>();
        try (QemuVm back = QemuVm.start(backConfig);
                GuestConsole backConsole = GuestConsole.attach("back", back.consoleChannel())) {
            mode.nativeMode().configure(back.qmp());
            // the way back: B's dwcpd is the source end, A's the destination end
            ProcessCpu.Meter cpu = new ProcessCpu.Meter()
                    .add(BenchRun.CPU_QEMU_SOURCE, guest.pid())
                    .add(BenchRun.CPU_QEMU_DESTINATION, back.pid())
                    .addWithThreads(
                            BenchRun.CPU_DWCPD_SOURCE, link.destination().pid())
                    .addWithThreads(
                            BenchRun.CPU_DWCPD_DESTINATION, link.source().pid());
            network.emulatorPid().ifPresent(pid -> cpu.add(BenchRun.CPU_WAN_EMULATOR, pid));
            Measured measured = measured(
                    cpu,
                    network::bytesBtoA,
                    () -> MigrationRun.run(
                            guest,
                            back,
                            link.reverseDestinationUri(),
                            link.reverseSourceUri(),
                            limit,
                            MigrationRun.WireCounter.of(network::bytesBtoA, network::bytesAtoB),
                            vm -> check(vm == back ? backConsole : guestConsole, verdict),
                            null));
            printTunnelCounts(label, link);
            printHdeCounts(label, "B", link.destination());
            return measured.on(
                            BenchRun.of(
                                    name,
                                    workloadName,
                                    mode.label(),
                                    qemu.label(),
                                    repeat,
                                    parallelScenarios,
                                    -1,
                                    measured.result()),
                            linkBps)
                    .withDetailPrefix(thereSummary + "; ");
        }
    }

    /**
     * Bulk data from A to B for {@link #TRANSPORT_WARM_UP} + {@link #TRANSPORT_WINDOW}: over one
     * TCP stream ({@code tcp-cubic}, {@code tcp-bbr}) or through two dwcpd ({@code amst}); the
     * goodput counts the payload that arrived during the window.
     */
    private BenchRun runTransport(
            TwoHostNetwork network, Scenario scenario, BenchMode mode, int repeat, int parallelScenarios) {
        String name = shortName(scenario);
        setCongestionControl(network, mode.congestionControl());
        try {
            if (mode.dwcpSettings() == null) {
                try (TcpBulkTransfer transfer = TcpBulkTransfer.start(network.hostA(), network.hostB(), 5201, 1)) {
                    return measure(
                            transfer,
                            name,
                            mode,
                            repeat,
                            parallelScenarios,
                            scenario,
                            "1 TCP stream, " + mode.congestionControl());
                }
            }
            try (DwcpLink link = DwcpLink.start(
                            network,
                            TrackedProcess.STATE_DIR.resolve("bench-dwcp").resolve(name),
                            dwcpSettings(mode));
                    TcpBulkTransfer transfer = TcpBulkTransfer.overUnixSockets(
                            link.destination().peerSocket(DwcpLink.B),
                            link.source().peerSocket(DwcpLink.B),
                            Duration.ofSeconds(30))) {
                BenchRun run = measure(transfer, name, mode, repeat, parallelScenarios, scenario, "");
                String streams = link.source().metric("dwcp_session_streams", "").stream()
                        .mapToObj(v -> String.format(Locale.ROOT, "%.0f", v))
                        .findFirst()
                        .orElse("?");
                return BenchRun.transport(
                        run.scenario(),
                        run.mode(),
                        repeat,
                        parallelScenarios,
                        run.wireBytes(),
                        run.elapsedMs(),
                        run.linkBitsPerSecond(),
                        "dwcpd tunnel, " + streams + " streams at the end");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return BenchRun.error(name, "-", mode.label(), "-", repeat, parallelScenarios, "interrupted");
        } catch (RuntimeException e) {
            out.println("bench:   " + mode.label() + " error: " + e.getMessage());
            return BenchRun.error(
                    name, "-", mode.label(), "-", repeat, parallelScenarios, String.valueOf(e.getMessage()));
        } finally {
            setCongestionControl(network, BenchMode.STOCK_CONGESTION_CONTROL);
        }
    }

    private static BenchRun measure(
            TcpBulkTransfer transfer,
            String name,
            BenchMode mode,
            int repeat,
            int parallelScenarios,
            Scenario scenario,
            String detail)
            throws InterruptedException {
        Thread.sleep(TRANSPORT_WARM_UP.toMillis());
        long startBytes = transfer.receivedBytes();
        long start = System.nanoTime();
        Thread.sleep(TRANSPORT_WINDOW.toMillis());
        long bytes = transfer.receivedBytes() - startBytes;
        long windowMs = (System.nanoTime() - start) / 1_000_000;
        return BenchRun.transport(
                name, mode.label(), repeat, parallelScenarios, bytes, windowMs, scenario.rateBitsPerSecond(), detail);
    }

    /** The mode's dwcpd settings with the --dwcpd-set ones over them. */
    private Map<String, String> dwcpSettings(BenchMode mode) {
        Map<String, String> settings = new LinkedHashMap<>(mode.dwcpSettings());
        settings.putAll(dwcpdSettings);
        return settings;
    }

    /** Both hosts' default TCP congestion control (a per-namespace setting). */
    private static void setCongestionControl(TwoHostNetwork network, String algorithm) {
        for (Host host : List.of(network.hostA(), network.hostB())) {
            host.run("sysctl", "-q", "-w", "net.ipv4.tcp_congestion_control=" + algorithm);
        }
    }

    private static MigrationRun.Check check(GuestConsole console, AtomicReference<Verdict> holder) {
        Verdict verdict = console.requestVerdict(Duration.ofMinutes(2));
        holder.set(verdict);
        return new MigrationRun.Check(verdict.intact(), verdict.detail());
    }

    private Duration timeLimit(Scenario scenario) {
        if (timeLimitSeconds != null) {
            return Duration.ofSeconds(timeLimitSeconds);
        }
        long rate = scenario.rateBitsPerSecond();
        if (rate <= 0) {
            return Duration.ofSeconds(60);
        }
        long onePassSeconds = ((long) guestRamMiB << 23) / rate;
        return Duration.ofSeconds(Math.max(60, 3 * onePassSeconds));
    }

    /** S0 ... S4: the short names used on the command line and in results. */
    static String shortName(Scenario scenario) {
        return scenario.name().substring(0, scenario.name().indexOf('_'));
    }

    static Scenario scenario(String name) {
        for (Scenario scenario : Scenario.values()) {
            if (shortName(scenario).equalsIgnoreCase(name) || scenario.name().equalsIgnoreCase(name)) {
                return scenario;
            }
        }
        throw new IllegalArgumentException("unknown scenario '" + name + "' (expected S0, S1, S2, S3 or S4)");
    }

    private static WorkloadSpec workload(String name) {
        return switch (name) {
            case "light" -> WorkloadSpec.light();
            case "heavy" -> WorkloadSpec.heavy();
            case "app" -> WorkloadSpec.app();
            default ->
                throw new CommandLine.ParameterException(
                        new CommandLine(new Bench()), "unknown workload '" + name + "' (expected light, heavy or app)");
        };
    }

    private synchronized void writeJson(List<?> runs) {
        try {
            Path parent = json.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            Path tmp = parent.resolve(json.getFileName() + ".tmp");
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(tmp.toFile(), runs);
            Files.move(
                    tmp,
                    json,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot write " + json, e);
        }
    }
}
