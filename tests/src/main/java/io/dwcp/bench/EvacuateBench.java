package io.dwcp.bench;

import io.dwcp.testbed.dwcp.Dwcpd;
import io.dwcp.testbed.guest.GuestConsole;
import io.dwcp.testbed.guest.GuestImage;
import io.dwcp.testbed.guest.Verdict;
import io.dwcp.testbed.guest.WorkloadSpec;
import io.dwcp.testbed.libvirt.LibvirtDomainXml;
import io.dwcp.testbed.libvirt.LibvirtHost;
import io.dwcp.testbed.libvirt.LibvirtTestBed;
import io.dwcp.testbed.qemu.Accelerator;
import io.dwcp.testbed.qemu.QemuBinary;
import io.dwcp.testbed.sys.Command;
import io.dwcp.testbed.sys.CommandException;
import io.dwcp.testbed.sys.Folders;
import io.dwcp.testbed.sys.TrackedProcess;
import io.dwcp.testbed.wan.Scenario;
import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code tests/bench --evacuate}: the same mix of guests evacuated from host A to host B with each
 * {@code dwcp evacuate} policy in turn, through real libvirt and two dwcpd, as
 * {@code LibvirtDwcpMigrationIT} runs one evacuation. Each policy gets a fresh test bed (network,
 * both libvirtd, both dwcpd) and fresh guests of the same sizes, workloads and seeds, so no policy
 * inherits the previous one's baselines or caches.
 */
final class EvacuateBench {
    /** libvirt's QEMU in the test bed (as LibvirtDwcpMigrationIT). */
    static final QemuBinary QEMU = QemuBinary.QEMU_7_2;

    private static final String RUN_DIR = "/run/dwcp";
    private static final Duration BOOT_TIMEOUT = Duration.ofMinutes(6);
    private static final Duration VERDICT_TIMEOUT = Duration.ofMinutes(2);
    /** Prefixes each output line with the epoch milliseconds it came at; exits with the command's status. */
    private static final String STAMP = "set -o pipefail; \"$@\" 2>&1 | while IFS= read -r line; do "
            + "printf '%s %s\\n' \"$(date +%s%3N)\" \"$line\"; done";

    /** One guest of the mix: its RAM and its workload. */
    record GuestSpec(int ramMiB, WorkloadSpec workload) {}

    private final PrintStream out;
    private final GuestImage image;
    private final Accelerator accelerator;
    private final Path hook;
    private final Duration migrationLimit;

    EvacuateBench(PrintStream out, GuestImage image, Accelerator accelerator, Path hook, Duration migrationLimit) {
        this.out = out;
        this.image = image;
        this.accelerator = accelerator;
        this.hook = hook;
        this.migrationLimit = migrationLimit;
    }

    /**
     * {@code n} guests of mixed size and dirty rate: RAM 256, 384, 512 MiB in turn, the workload
     * filling half of it; every other guest light (500 pages/s over a 10 % hot set, about 2 MB/s)
     * or heavy (2500 pages/s over a 25 % hot set, about 10 MB/s); seed = index + 1. Six of them are
     * each combination once, 2304 MiB of guest RAM in all.
     */
    static List<GuestSpec> mix(int n) {
        int[] rams = {256, 384, 512};
        List<GuestSpec> guests = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int ram = rams[i % rams.length];
            boolean heavy = i % 2 == 1;
            guests.add(new GuestSpec(ram, new WorkloadSpec(ram / 2, heavy ? 2_500 : 500, heavy ? 25 : 10, i + 1)));
        }
        return guests;
    }

    /** The libvirt hook of the plugin's source tree (the one the plugin's build belongs to). */
    static Path defaultHook() {
        String property = System.getProperty("dwcp.hook.script");
        if (property != null && !property.isBlank()) {
            return Path.of(property).toAbsolutePath();
        }
        return Dwcpd.pluginHome().toAbsolutePath().getParent().getParent().resolve("libvirt-hooks/src/main/sh/50-dwcp");
    }

    /** A fresh bed, fresh guests, one {@code dwcp evacuate --policy policy}; the bed is gone when this returns. */
    EvacuationRun run(Scenario scenario, String policy, List<GuestSpec> specs) {
        String name = Bench.shortName(scenario);
        Path dir = TrackedProcess.STATE_DIR.resolve(
                "bench-evacuate-" + ProcessHandle.current().pid());
        Folders.deleteTree(dir);
        out.printf(
                "bench: evacuate %s, policy %s, %d guests (%s), per-migration limit %d s%n",
                name,
                policy,
                specs.size(),
                String.join(
                        ", ",
                        specs.stream()
                                .map(s -> s.ramMiB() + " MiB/" + s.workload().pagesPerSecond() + " p/s")
                                .toList()),
                migrationLimit.toSeconds());
        try (LibvirtTestBed bed = LibvirtTestBed.create("bevac", scenario.aToB(), scenario.bToA(), List.of(hook))) {
            Path ca = Dwcpd.createCa(dir.resolve("ca"));
            Dwcpd dwcpdA = null;
            Dwcpd dwcpdB = null;
            List<Guest> guests = new ArrayList<>();
            try {
                dwcpdA = startDwcpd(bed.hostA(), bed.hostB(), ca);
                dwcpdB = startDwcpd(bed.hostB(), bed.hostA(), ca);
                startGuests(bed, policy, specs, guests);
                return evacuate(bed, scenario, policy, guests);
            } finally {
                for (Guest guest : guests) {
                    guest.close(bed);
                }
                for (Dwcpd daemon : new Dwcpd[] {dwcpdB, dwcpdA}) {
                    if (daemon != null) {
                        daemon.close();
                    }
                }
            }
        } catch (RuntimeException | IOException e) {
            out.println("bench:   evacuate " + policy + " error: " + e.getMessage());
            return EvacuationRun.error(name, policy, specs.size(), String.valueOf(e.getMessage()));
        } finally {
            Folders.deleteTree(dir);
        }
    }

    private EvacuationRun evacuate(LibvirtTestBed bed, Scenario scenario, String policy, List<Guest> guests)
            throws IOException {
        LibvirtHost a = bed.hostA();
        LibvirtHost b = bed.hostB();
        long linkMbit = Math.max(1, scenario.rateBitsPerSecond() / 1_000_000);
        List<String> arguments = List.of(
                "evacuate",
                "--to",
                b.name(),
                "--dest-uri",
                b.tcpUri(),
                "--connect",
                "qemu:///system",
                "--control-socket",
                RUN_DIR + "/control.sock",
                "--policy",
                policy,
                "--link-rate",
                Long.toString(linkMbit),
                "--progress",
                "lines",
                "--timeout",
                Long.toString(migrationLimit.toSeconds()));
        List<String> argv = new ArrayList<>(List.of("/bin/bash", "-c", STAMP, "stamp"));
        argv.addAll(Dwcpd.cliCommand(arguments));
        // serial is the longest: every migration one after the other, each up to the limit
        Duration commandLimit = migrationLimit.multipliedBy(guests.size()).plusMinutes(3);
        long wire0 = bed.network().bytesAtoB();
        long start = System.nanoTime();
        Command.Result result;
        try {
            result = a.runInside(commandLimit, argv);
        } catch (CommandException e) {
            result = e.result();
        }
        long commandMs = (System.nanoTime() - start) / 1_000_000;
        long wire = bed.network().bytesAtoB() - wire0;
        out.printf(
                Locale.ROOT,
                "bench:   dwcp evacuate --policy %s exited %d after %.1f s; its output:%n",
                policy,
                result.exitCode(),
                commandMs / 1000.0);
        result.stdout().lines().forEach(line -> out.println("bench:     " + line));
        if (!result.stderr().isBlank()) {
            result.stderr().lines().forEach(line -> out.println("bench:     stderr: " + line));
        }
        EvacuationTable.Timeline timeline = EvacuationTable.timeline(result.stdout());
        List<EvacuationRun.Vm> vms = new ArrayList<>();
        for (Guest guest : guests) {
            vms.add(guest.after(a, b, timeline));
        }
        EvacuationRun run = EvacuationRun.of(
                Bench.shortName(scenario), policy, result.exitCode(), timeline.makespanMs(), commandMs, wire, "", vms);
        out.printf(
                Locale.ROOT,
                "bench:   %s: makespan %.1f s, moved %d/%d, left at A %d, intact %d/%d, downtime sum/max %d/%d ms%n",
                policy,
                run.makespanMs() / 1000.0,
                run.moved(),
                run.guests(),
                run.leftAtSource(),
                run.intact(),
                run.guests(),
                run.totalDowntimeMs(),
                run.worstDowntimeMs());
        return run;
    }

    private void startGuests(LibvirtTestBed bed, String policy, List<GuestSpec> specs, List<Guest> guests)
            throws IOException {
        LibvirtHost a = bed.hostA();
        String tag = policy.equals("all-at-once") ? "aao" : policy;
        // all created paused and attached first, then resumed together: the TCG guests boot and fill side by side
        for (int i = 0; i < specs.size(); i++) {
            GuestSpec spec = specs.get(i);
            String domain = LibvirtHost.domainName(tag + "-" + (i + 1));
            String consolePath = LibvirtHost.consoleSocketInside(domain);
            a.createPaused(new LibvirtDomainXml(
                    domain,
                    QEMU,
                    accelerator,
                    spec.ramMiB(),
                    image.kernel(),
                    image.initrd(),
                    image.kernelCommandLine(spec.workload(), QEMU.needsTcgDirtyBitmapWorkaround()),
                    consolePath));
            Guest guest = new Guest(domain, spec);
            guests.add(guest);
            guest.console = attach(a.name() + ":" + domain, a.outside(consolePath));
        }
        for (Guest guest : guests) {
            a.virsh("resume", guest.domain);
        }
        long start = System.nanoTime();
        for (Guest guest : guests) {
            guest.console.awaitReady(BOOT_TIMEOUT);
            Verdict before = guest.console.requestVerdict(VERDICT_TIMEOUT);
            if (!before.intact()) {
                throw new IllegalStateException(guest.domain + " not intact before the evacuation: " + before.detail());
            }
            guest.before = before;
        }
        out.printf(
                Locale.ROOT,
                "bench:   %d guests booted and filled in %.0f s%n",
                guests.size(),
                (System.nanoTime() - start) / 1e9);
    }

    /** A dwcpd inside {@code host}'s namespaces (run-dir /run/dwcp), its files under the host's state folder. */
    private static Dwcpd startDwcpd(LibvirtHost host, LibvirtHost peer, Path ca) {
        Dwcpd.Placement inside = new Dwcpd.Placement(host::startInside, RUN_DIR, host.outside(RUN_DIR));
        return Dwcpd.start(
                host.host(),
                inside,
                host.name(),
                host.stateDirectory().resolve("dwcpd"),
                ca,
                Map.of(peer.name(), peer.host().address() + ":" + Dwcpd.TUNNEL_PORT),
                Map.of());
    }

    private static GuestConsole attach(String name, Path socket) throws IOException {
        if (!Files.exists(socket)) {
            throw new IllegalStateException("no console socket " + socket);
        }
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket));
        return GuestConsole.attach(name, channel);
    }

    /** A guest of the evacuation: its domain, its console at A, its verdict before. */
    private final class Guest {
        final String domain;
        final GuestSpec spec;
        GuestConsole console;
        Verdict before;

        Guest(String domain, GuestSpec spec) {
            this.domain = domain;
            this.spec = spec;
        }

        /** Where it runs now, libvirt's downtime if it moved, and its workload's verdict there. */
        EvacuationRun.Vm after(LibvirtHost a, LibvirtHost b, EvacuationTable.Timeline timeline) {
            boolean atA = a.domainState(domain).map("running"::equals).orElse(false);
            boolean atB = b.domainState(domain).map("running"::equals).orElse(false);
            String runsOn = atA && atB ? "both" : atA ? "a" : atB ? "b" : "none";
            long downtime = -1;
            if (atB) {
                Command.Result info =
                        b.virshAllowingFailure(Duration.ofSeconds(30), "domjobinfo", "--completed", domain);
                downtime = EvacuationTable.downtimeMs(info.stdout()).orElse(-1L);
            }
            boolean intact = false;
            String detail;
            try {
                Verdict verdict;
                if (atB) {
                    try (GuestConsole there =
                            attach(b.name() + ":" + domain, b.outside(LibvirtHost.consoleSocketInside(domain)))) {
                        verdict = there.requestVerdict(VERDICT_TIMEOUT);
                    }
                } else if (atA) {
                    verdict = console.requestVerdict(VERDICT_TIMEOUT);
                } else {
                    verdict = null;
                }
                if (verdict == null) {
                    detail = "runs nowhere";
                } else {
                    intact = verdict.intact() && verdict.writes() > before.writes();
                    detail = verdict.intact()
                            ? "writes " + before.writes() + " -> " + verdict.writes()
                            : "CORRUPT " + verdict.detail();
                }
            } catch (IOException | RuntimeException e) {
                detail = "no verdict: " + e.getMessage();
            }
            return new EvacuationRun.Vm(
                    domain,
                    spec.ramMiB(),
                    spec.workload().memoryMiB(),
                    spec.workload().pagesPerSecond(),
                    timeline.outcome(domain),
                    timeline.timeMs(domain),
                    timeline.startOffsetMs(domain),
                    downtime,
                    runsOn,
                    intact,
                    detail);
        }

        void close(LibvirtTestBed bed) {
            if (console != null) {
                console.close();
            }
            for (LibvirtHost host : List.of(bed.hostA(), bed.hostB())) {
                if (host.domainState(domain).isPresent()) {
                    host.virshAllowingFailure(Duration.ofSeconds(30), "destroy", domain);
                    host.virshAllowingFailure(Duration.ofSeconds(30), "undefine", domain);
                }
            }
        }
    }
}
