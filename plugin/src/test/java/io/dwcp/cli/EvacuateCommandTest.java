package io.dwcp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code dwcp evacuate} against the hand-written libvirt and dwcpd: plans, slots, concurrency, failures, exit codes. */
class EvacuateCommandTest {
    private static final long GIB = 1L << 30;

    private final FakeLibvirt libvirt = new FakeLibvirt();
    private final FakeDwcpd dwcpd = new FakeDwcpd();
    private final java.util.concurrent.atomic.AtomicReference<Runnable> interruptHandler =
            new java.util.concurrent.atomic.AtomicReference<>();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    /** The concurrency learner of --policy itp: off (--fixed-concurrency) where a test is about the slots alone. */
    private boolean learn = false;

    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private Path directory;
    private Path config;

    @BeforeEach
    void setUp() throws IOException {
        directory = Files.createTempDirectory("dwcp-evacuate");
        config = directory.resolve("dwcp.properties");
        Files.writeString(config, "migrate.dest-uri=qemu+tls://{host}/system\n");
        dwcpd.migrationPerDomain = true;
        dwcpd.peers = List.of(
                new Dwcpd.Peer("beta", "192.0.2.20:7470", "/run/dwcp/peer/beta.sock"),
                new Dwcpd.Peer("gamma", "192.0.2.30:7470", "/run/dwcp/peer/gamma.sock"));
    }

    @AfterEach
    void tearDown() throws IOException {
        Files.deleteIfExists(config);
        Files.deleteIfExists(directory);
    }

    /** A running domain whose migration lasts {@code polls} progress samples. */
    private FakeLibvirt.FakeDomain domain(String name, long memory, double dirtyBytesPerSecond, int polls) {
        return libvirt.addMigrating(name, memory, dirtyBytesPerSecond, polls);
    }

    private int run(String... arguments) {
        MigrateCommand.Environment base = new MigrateCommand.Environment(
                libvirt,
                socket -> dwcpd,
                interruptHandler::set,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8),
                false,
                120,
                Duration.ofMillis(10),
                Duration.ofSeconds(10));
        CommandLine commandLine =
                new CommandLine(new EvacuateCommand(new EvacuateCommand.Environment(base, () -> "alpha.example.net")));
        commandLine.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
        commandLine.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
        List<String> all = new ArrayList<>(List.of("--config", config.toString()));
        all.addAll(List.of(arguments));
        if (!learn) {
            all.add("--fixed-concurrency");
        }
        return commandLine.execute(all.toArray(String[]::new));
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    private List<String> lines(String prefix) {
        return out().lines().filter(line -> line.startsWith(prefix)).toList();
    }

    /** The index among the output's lines of the first that starts with {@code prefix}; -1 if none. */
    private int index(String prefix) {
        List<String> all = out().lines().toList();
        for (int i = 0; i < all.size(); i++) {
            if (all.get(i).startsWith(prefix)) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void dryRunPrintsThePlanWithItsSourcesAndChangesNothing() {
        domain("db", 4 * GIB, 2e6, 1);
        domain("web", GIB, 1e6, 1);
        domain("cache", GIB / 2, 0, 1);
        assertEquals(0, run("--dry-run"), err());
        String text = out();
        assertTrue(text.contains("Evacuating alpha (3 running domains) to beta, gamma; policy itp\n"), text);
        assertTrue(text.contains("Measuring the dirty rate of 3 domains over 1 s (QEMU calc-dirty-rate)"), text);
        assertTrue(
                text.contains("link to beta: no measurement (no control plane); assumed 100.0 Mbit/s (--link-rate)"),
                text);
        assertTrue(
                text.contains("baselines held at the destinations: not known without a control plane; planned without"),
                text);
        assertTrue(text.contains("Evacuation plan: 3 VMs to move, 0 refused; predicted makespan "), text);
        assertTrue(
                text.contains(
                        "Links (estimate, most migrations at once): beta 100.0 Mbit/s x2; gamma 100.0 Mbit/s x2; uplink 200.0 Mbit/s"),
                text);
        // one line per VM: order, name, RAM, measured dirty rate, destination, predicted times, reasons; the largest
        // first
        List<String> steps =
                text.lines().filter(line -> line.matches(" +[0-9]+ {2}\\S+ .*")).toList();
        assertEquals(3, steps.size(), text);
        assertTrue(steps.get(0).matches(" +1 {2}db +4\\.0 GiB +16\\.0 Mbit/s +(beta|gamma) .*"), steps.get(0));
        assertTrue(steps.get(1).contains("web") && steps.get(1).contains("8.0 Mbit/s"), steps.get(1));
        assertTrue(libvirt.calls.contains("calc-dirty-rate db 1"), libvirt.calls.toString());
        assertFalse(libvirt.calls.stream().anyMatch(call -> call.startsWith("migrate ")), libvirt.calls.toString());
        assertFalse(dwcpd.calls.stream().anyMatch(call -> call.startsWith("announce ")), dwcpd.calls.toString());
    }

    @Test
    void controlPlaneLinksAndCapacitiesAreUsed() {
        domain("vm1", GIB, 0, 1);
        dwcpd.region = Optional.of(new Dwcpd.Region(
                "eu",
                "alpha",
                "alpha",
                10,
                true,
                3,
                List.of(new Dwcpd.Host("beta", "192.0.2.20:7470", 4, "0.1.0", "ab", 1)),
                10,
                List.of(new Dwcpd.Link("alpha", "beta", 20_000, 50_000_000, 0, 1)),
                10,
                List.of()));
        assertEquals(0, run("--dry-run", "--to", "beta"), err());
        assertTrue(out().contains("link to beta: 400.0 Mbit/s measured by the control plane (RTT 20.0 ms)"), out());
        assertTrue(out().contains("vm1") && out().contains("beta"), out());
        assertFalse(out().contains("gamma"), out());
    }

    @Test
    void aBaselineInTheRegionsCatalogueDrawsItsVmAndThePlanSaysSo() {
        domain("db", 4 * GIB, 0, 1);
        domain("web", GIB, 0, 1);
        dwcpd.region = Optional.of(new Dwcpd.Region(
                "eu",
                "alpha",
                "alpha",
                10,
                true,
                3,
                List.of(
                        new Dwcpd.Host("beta", "192.0.2.20:7470", 4, "0.1.0", "ab", 1),
                        new Dwcpd.Host("gamma", "192.0.2.30:7470", 4, "0.1.0", "cd", 1)),
                10,
                List.of(),
                10,
                List.of()));
        // db is the larger: without its baseline it would go first to either link (the names break the tie: beta)
        dwcpd.regionBaselines = new Dwcpd.RegionBaselines(
                "eu", "alpha", List.of(new Dwcpd.HeldBaseline("db", "gamma", 3 * GIB, 1, 60_000)), 40, 5000);
        assertEquals(0, run("--dry-run"), err());
        assertTrue(dwcpd.calls.contains("regionBaselines eu db,web"), dwcpd.calls.toString());
        assertTrue(
                out().contains("  baseline of db on gamma: 3.0 GiB, taken 1m00s ago; planned as 75% of its memory held "
                        + "there (its size 75% of the VM's memory, 100% of that unchanged at its dirty rate)\n"),
                out());
        assertTrue(
                out().contains(
                                "Planned with a baseline at the destination: db on gamma (first round 1.0 GiB of 4.0 GiB)\n"),
                out());
        List<String> steps = out().lines()
                .filter(line -> line.matches(" +[0-9]+ {2}\\S+ .*"))
                .toList();
        assertTrue(
                steps.stream()
                        .anyMatch(line ->
                                line.matches(" +[12] {2}db +4\\.0 GiB .* gamma .*baseline on gamma: first round "
                                        + "1\\.0 GiB instead of 4\\.0 GiB.*")),
                steps.toString());
    }

    @Test
    void withoutTheCatalogueThePlanIsMadeWithoutBaselinesAndSaysWhy() {
        domain("db", 4 * GIB, 0, 1);
        dwcpd.region = Optional.of(
                new Dwcpd.Region("eu", "alpha", "alpha", 10, true, 3, List.of(), 10, List.of(), 10, List.of()));
        assertEquals(0, run("--dry-run", "--to", "beta"), err());
        assertTrue(
                out().contains(
                                "  baselines held at the destinations: the region's catalogue is not available (dwcpd at "
                                        + "unix:/run/dwcp/control.sock answered 404 to GET /v1/regions/eu/baselines: "),
                out());
        assertFalse(out().contains("Planned with a baseline"), out());
    }

    @Test
    void itpLearnsConcurrencyAndStartsWithOneMigration() {
        learn = true;
        for (String name : List.of("vm1", "vm2", "vm3")) {
            domain(name, GIB, 0, 3);
        }
        assertEquals(0, run("--to", "beta", "--progress", "none"), err());
        // the plan gives beta two slots; the learner lets a second start only once one migration's rate was measured
        assertTrue(out().contains("Links (estimate, most migrations at once): beta 100.0 Mbit/s x2"), out());
        assertEquals(1, libvirt.maxRunning.get(), out());
        assertEquals(3, lines("Ended ").size(), out());
    }

    @Test
    void runsThePlanWithAtMostMaxConcurrentMigrations() {
        for (String name : List.of("vm1", "vm2", "vm3", "vm4", "vm5")) {
            domain(name, GIB, 0, 5);
        }
        assertEquals(0, run("--max-concurrent", "2"), err());
        assertEquals(2, libvirt.maxRunning.get(), "two at once, never more: " + out());
        assertEquals(5, lines("Starting ").size(), out());
        assertEquals(5, lines("Ended ").size(), out());
        assertTrue(
                lines("Starting ").stream()
                        .allMatch(
                                line -> line.matches(
                                        "Starting vm[1-5] -> (beta|gamma) \\(slot [12]/2 to (beta|gamma), at most 2 in all; [12] running\\)")),
                out());
        assertTrue(
                lines("Ended ").stream()
                        .allMatch(
                                line -> line.matches(
                                        "Ended vm[1-5] -> (beta|gamma): moved in [0-9.]+ s \\(slot [12]/2 to (beta|gamma), at most 2 in all free; [01] running\\)")),
                out());
        for (String name : List.of("vm1", "vm2", "vm3", "vm4", "vm5")) {
            assertTrue(dwcpd.calls.contains("release m-" + name), dwcpd.calls.toString());
            assertTrue(
                    out().lines().anyMatch(line -> line.matches(name + " +(beta|gamma) +moved +[0-9.]+ s +-")), out());
            String uri = libvirt.domains.get(name).destinationUri;
            assertTrue(uri.equals("qemu+tls://192.0.2.20/system") || uri.equals("qemu+tls://192.0.2.30/system"), uri);
            // through the migration's own socket, as dwcp migrate does
            assertTrue(
                    libvirt.domains.get(name).parameters.migrateUri().endsWith("/m-" + name + ".sock"),
                    libvirt.domains.get(name).parameters.toString());
        }
        assertTrue(out().contains("Migrating vm1 to "), out());
        assertTrue(out().contains("Moved 5 of 5 domains."), out());
    }

    @Test
    void serialPolicyRunsOneAtATime() {
        domain("vm1", GIB, 0, 3);
        domain("vm2", GIB, 0, 3);
        domain("vm3", GIB, 0, 3);
        assertEquals(0, run("--policy", "serial", "--progress", "none"), err());
        assertEquals(1, libvirt.maxRunning.get());
        // each VM starts once the one before it ended, in its one slot
        List<String> progress = out().lines()
                .filter(line -> line.startsWith("Starting ") || line.startsWith("Ended "))
                .toList();
        assertEquals(6, progress.size(), out());
        for (int i = 0; i < progress.size(); i += 2) {
            assertTrue(
                    progress.get(i).startsWith("Starting ")
                            && progress.get(i).endsWith("(slot 1/1 in all (serial); 1 running)"),
                    progress.toString());
            String vm = progress.get(i).split(" ")[1];
            assertTrue(progress.get(i + 1).startsWith("Ended " + vm + " -> "), progress.toString());
        }
    }

    @Test
    void aLongMigrationHoldsOnlyItsOwnSlot() {
        // one link, two slots: "long" takes one for the whole evacuation, the three short ones go one after another
        // in the other, each as soon as the one before ended (not once "long" ended)
        domain("long", 2 * GIB, 0, 150);
        domain("s1", GIB / 4, 0, 3);
        domain("s2", GIB / 4, 0, 3);
        domain("s3", GIB / 4, 0, 3);
        assertEquals(0, run("--to", "beta", "--progress", "none"), out() + err());
        assertTrue(out().contains("Starting long -> beta (slot 1/2 to beta; 1 running)"), out());
        int longEnded = index("Ended long -> beta: moved");
        assertTrue(longEnded > 0, out());
        for (String vm : List.of("s1", "s2", "s3")) {
            int started = index("Starting " + vm + " -> beta (slot 2/2 to beta; 2 running)");
            int ended = index("Ended " + vm + " -> beta: moved");
            assertTrue(started > 0 && started < ended && ended < longEnded, vm + ":\n" + out());
        }
        assertEquals(2, libvirt.maxRunning.get(), out());
        assertTrue(out().contains("Moved 4 of 4 domains."), out());
    }

    @Test
    void aVmAfterAFailedVmIsNotStartedAndSaysWhy() {
        domain("db", GIB, 0, 3).ending = FakeLibvirt.Ending.FAIL;
        domain("app", GIB / 2, 0, 3);
        domain("other", GIB / 2, 0, 3);
        assertEquals(5, run("--after", "app:db", "--to", "beta", "--progress", "none"), out() + err());
        assertFalse(libvirt.calls.contains("migrate app"), libvirt.calls.toString());
        assertTrue(libvirt.calls.contains("migrate other"), libvirt.calls.toString());
        assertTrue(
                out().contains("Not starting app: not started: it comes after db (--after), which was not moved; "
                        + "it keeps running on this host"),
                out());
        assertTrue(index("Not starting app") > index("Ended db -> beta: failed"), out());
        assertTrue(
                out().lines()
                        .anyMatch(
                                line -> line.matches(
                                        "app +- +not started +- +- +not started: it comes after db \\(--after\\), which was not moved")),
                out());
        assertTrue(out().contains("Moved 1 of 3 domains; the others keep running on this host."), out());
    }

    @Test
    void aFailingVmIsReportedWhileTheOthersMove() {
        domain("vm1", GIB, 0, 3);
        domain("vm2", GIB, 0, 3).ending = FakeLibvirt.Ending.FAIL;
        domain("vm3", GIB, 0, 3);
        assertEquals(5, run(), out() + err());
        assertTrue(
                out().lines()
                        .anyMatch(
                                line -> line.matches(
                                        "vm2 +(beta|gamma) +failed +[0-9.]+ s +- +migration of 'vm2' to .*unexpectedly failed")),
                out());
        assertTrue(out().lines().anyMatch(line -> line.matches("vm1 +\\S+ +moved .*")), out());
        assertTrue(out().lines().anyMatch(line -> line.matches("vm3 +\\S+ +moved .*")), out());
        assertTrue(out().contains("Moved 2 of 3 domains; the others keep running on this host."), out());
        assertTrue(err().contains("dwcp evacuate: vm2: vm2 keeps running on this host"), err());
    }

    @Test
    void orderConstraintsAndGroupsShapeTheStarts() {
        domain("app", GIB, 0, 2);
        domain("db", GIB / 2, 0, 2);
        // the group's migrations last 5 progress samples: long enough that both run at once even when
        // a loaded machine delays the second one's start (with 2 samples one run saw only one at a time)
        domain("web1", GIB / 4, 0, 5);
        domain("web2", GIB / 4, 0, 5);
        assertEquals(
                0,
                run("--after", "app:db", "--group", "web1,web2", "--max-concurrent", "2", "--progress", "none"),
                err());
        // app starts after db ended; web1 and web2 start together (no line between their starts)
        int dbEnded = index("Ended db -> ");
        int appStarted = index("Starting app -> ");
        assertTrue(dbEnded >= 0 && appStarted > dbEnded, "app after db:\n" + out());
        int web1 = index("Starting web1 -> ");
        int web2 = index("Starting web2 -> ");
        assertTrue(web1 >= 0 && Math.abs(web1 - web2) == 1, "a group starts together:\n" + out());
        assertEquals(2, libvirt.maxRunning.get(), out());
    }

    @Test
    void aVmThatCannotConvergeIsLeftRunningWithTheReason() {
        domain("calm", GIB, 0, 2);
        domain("hot", GIB, 200e6, 2);
        assertEquals(5, run("--progress", "none"), out() + err());
        assertTrue(
                out().lines().anyMatch(line -> line.matches("hot +- +refused +- +- +cannot converge by pre-copy.*")),
                out());
        assertFalse(libvirt.calls.contains("migrate hot"), libvirt.calls.toString());
        assertTrue(libvirt.calls.contains("migrate calm"), libvirt.calls.toString());
    }

    @Test
    void ctrlCAbortsTheRunningMigrationAndStartsNoMore() {
        domain("vm1", GIB, 0, 50).onSecondPoll = () -> interruptHandler.get().run();
        domain("vm2", GIB / 2, 0, 2);
        assertEquals(130, run("--policy", "serial", "--progress", "none"), out() + err());
        assertTrue(libvirt.calls.contains("abortJob vm1"), libvirt.calls.toString());
        assertFalse(libvirt.calls.contains("migrate vm2"), libvirt.calls.toString());
        assertTrue(
                out().lines()
                        .anyMatch(
                                line -> line.matches(
                                        "vm1 +(beta|gamma) +interrupted +[0-9.]+ s +- +interrupted \\(Ctrl-C\\): the job was aborted")),
                out());
        assertTrue(
                out().lines()
                        .anyMatch(line ->
                                line.matches("vm2 +- +not started +- +- +interrupted \\(Ctrl-C\\) before it started")),
                out());
        assertTrue(out().contains("Moved 0 of 2 domains; the others keep running on this host."), out());
    }

    @Test
    void clearErrors() throws IOException {
        domain("vm1", GIB, 0, 1);
        assertEquals(2, run("--dry-run", "delta"));
        assertTrue(
                err().contains(
                                "dwcp evacuate: 'delta' is not this host (host name alpha.example.net, dwcpd node alpha): "
                                        + "dwcp evacuate moves this host's domains only; run it on delta"),
                err());
        assertEquals(0, run("--dry-run", "alpha"), err());
        assertEquals(0, run("--dry-run", "alpha.example.net"), err());

        assertEquals(3, run("--dry-run", "--to", "omega"));
        assertTrue(err().contains("dwcp evacuate: --to omega: dwcpd alpha has no peer for omega"), err());

        assertEquals(2, run("--dry-run", "--group", "vm1,vm9"));
        assertTrue(err().contains("--group vm1,vm9: 'vm9' is not a running domain here (running: vm1)"), err());
        assertEquals(2, run("--dry-run", "--after", "vm1"));
        assertTrue(err().contains("--after must be VM:EARLIER: 'vm1'"), err());
        assertEquals(2, run("--dry-run", "--policy", "random"));
        assertTrue(err().contains("--policy must be itp, serial or all-at-once: 'random'"), err());

        dwcpd.down = "dwcpd is not running: /run/dwcp/control.sock: connection refused";
        assertEquals(3, run("--dry-run"));
        assertTrue(
                err().contains("dwcp evacuate: dwcpd is not running: /run/dwcp/control.sock: connection refused"),
                err());
        dwcpd.down = null;

        libvirt.domains.get("vm1").active = false;
        assertEquals(4, run("--dry-run"));
        assertTrue(
                err().contains(
                                "dwcp evacuate: no running domain on this host (libvirt qemu:///system): nothing to evacuate"),
                err());

        libvirt.refuseConnection = "Failed to connect socket";
        assertEquals(4, run("--dry-run"));
        assertTrue(err().contains("dwcp evacuate: cannot connect to qemu:///system: Failed to connect socket"), err());
    }

    @Test
    void anUnmeasurableDirtyRateIsSaid() {
        domain("vm1", GIB, 0, 1).dirtyRateFailure = "The command calc-dirty-rate has not been found";
        assertEquals(0, run("--dry-run"), err());
        assertTrue(
                out().contains(
                                "vm1: dirty rate unknown (QEMU monitor of 'vm1': The command calc-dirty-rate has not been found); planned as 0"),
                out());
    }

    @Test
    void tunnelHostIsWrittenAsAUriHost() {
        assertEquals("beta", EvacuateCommand.tunnelHost("beta:7470"));
        assertEquals("10.0.0.2", EvacuateCommand.tunnelHost("10.0.0.2:7470"));
        assertEquals("[2001:db8::20]", EvacuateCommand.tunnelHost("[2001:db8::20]:7470"));
        assertEquals("[2001:db8::20]", EvacuateCommand.tunnelHost("[2001:db8::20]"));
        assertEquals(
                "qemu+tls://[2001:db8::20]/system",
                CliConfig.destinationUri(
                        "qemu+tls://{host}/system", EvacuateCommand.tunnelHost("[2001:db8::20]:7470")));
    }
}
