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
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code dwcp migrate} against a hand-written libvirt and dwcpd: plans, exit codes, progress, Ctrl-C. */
class MigrateCommandTest {
    private final FakeLibvirt libvirt = new FakeLibvirt();
    private final FakeDwcpd dwcpd = new FakeDwcpd();
    private final AtomicReference<Runnable> interruptHandler = new AtomicReference<>();
    private final List<Path> dwcpdSockets = new ArrayList<>();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private Path directory;
    private Path config;
    private boolean terminal;

    @BeforeEach
    void setUp() throws IOException {
        directory = Files.createTempDirectory("dwcp-migrate");
        config = directory.resolve("dwcp.properties");
        Files.writeString(config, "node.run-dir=/run/dwcp\n");
    }

    @AfterEach
    void tearDown() throws IOException {
        Files.deleteIfExists(config);
        Files.deleteIfExists(directory);
    }

    private int run(String... arguments) {
        MigrateCommand.Environment environment = new MigrateCommand.Environment(
                libvirt,
                socket -> {
                    dwcpdSockets.add(socket);
                    return dwcpd;
                },
                interruptHandler::set,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8),
                terminal,
                120,
                Duration.ofMillis(10),
                Duration.ZERO);
        CommandLine commandLine = new CommandLine(new MigrateCommand(environment));
        commandLine.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
        commandLine.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
        List<String> all = new ArrayList<>(List.of("--config", config.toString()));
        all.addAll(List.of(arguments));
        return commandLine.execute(all.toArray(String[]::new));
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    private static JobStats stats(long total, long processed, long remaining, long iteration) {
        return new JobStats(
                JobStats.Type.UNBOUNDED,
                1000 * iteration,
                total,
                processed,
                remaining,
                OptionalLong.of(iteration),
                OptionalLong.of(2560),
                OptionalLong.of(64L << 20),
                OptionalLong.of(4096));
    }

    @Test
    void dryRunPrintsTheVirshCommandLine() {
        assertEquals(0, run("vm1", "dwcp://beta", "--dry-run"));
        assertEquals(
                "virsh -c qemu:///system migrate --live --p2p --persistent --undefinesource vm1 qemu+ssh://beta/system"
                        + " --migrateuri unix:///run/dwcp/peer/beta/MIGRATION-ID.sock\n",
                out());
        // a real migration goes through its own socket, which dwcpd opens and names when it is announced
        assertEquals(
                "# MIGRATION-ID is a placeholder: dwcp migrate first announces the migration to dwcpd (POST /v1/migrations on"
                        + " /run/dwcp/control.sock), which opens /run/dwcp/peer/beta/MIGRATION-ID.sock for this migration alone and names its id;"
                        + " libvirt then migrates as above; at the end dwcp releases it (DELETE /v1/migrations/MIGRATION-ID)."
                        + " virsh alone cannot announce a migration\n",
                err());
        assertTrue(libvirt.calls.isEmpty(), "no libvirt call: " + libvirt.calls);
        assertTrue(dwcpd.calls.isEmpty(), "no dwcpd call: " + dwcpd.calls);
    }

    @Test
    void dryRunWithOptionsQuotingAndSettings() throws IOException {
        Files.writeString(
                config,
                "node.run-dir=/run/dwcp-a\nmigrate.dest-uri=qemu+tls://{host}/system?pkipath=/etc/pki\nmigrate.connect=qemu:///session\n");
        assertEquals(
                0,
                run(
                        "my vm's",
                        "dwcp://dest.example:7470?peer=dest1&parallel=4&bandwidth=100",
                        "--dry-run",
                        "--keep-source",
                        "--timeout",
                        "600"));
        assertEquals(
                "virsh -c qemu:///session migrate --live --p2p --persistent 'my vm'\\''s' 'qemu+tls://dest.example/system?pkipath=/etc/pki'"
                        + " --migrateuri unix:///run/dwcp-a/peer/dest1/MIGRATION-ID.sock --parallel --parallel-connections 4 --bandwidth 100\n",
                out());
        assertTrue(err().contains("\n# --timeout 600: dwcp aborts the job after that"), err());
        out.reset();
        assertEquals(
                0,
                run(
                        "vm1",
                        "dwcp://beta?parallel=2",
                        "--dry-run",
                        "--parallel",
                        "8",
                        "--transient",
                        "-c",
                        "qemu+ssh://src/system",
                        "--dest-uri",
                        "qemu:///system"));
        assertEquals(
                "virsh -c qemu+ssh://src/system migrate --live --p2p --undefinesource vm1 qemu:///system"
                        + " --migrateuri unix:///run/dwcp-a/peer/beta/MIGRATION-ID.sock --parallel --parallel-connections 8\n",
                out());
    }

    @Test
    void usageErrorsExitWithTwo() throws IOException {
        assertEquals(2, run("vm1", "tcp://beta", "--dry-run"));
        assertTrue(err().contains("dwcp migrate: expected dwcp://HOST[:PORT][?OPTIONS], not 'tcp://beta'"), err());
        assertEquals(2, run("vm1", "dwcp://beta?parallel=0"));
        assertTrue(err().contains("parallel must be 1 to 255 connections: '0'"), err());
        assertEquals(2, run("vm1", "dwcp://beta", "--parallel", "300"));
        assertTrue(err().contains("--parallel must be 1 to 255 connections: '300'"), err());
        assertEquals(2, run("vm1", "dwcp://beta", "--progress", "sometimes"));
        assertEquals(2, run("vm1"));
        assertTrue(err().contains("dwcp migrate: give TARGET (dwcp://HOST) or --to-region REGION"), err());
        assertEquals(2, run("vm1", "dwcp://beta", "--to-region", "eu-west"));
        assertTrue(err().contains("dwcp migrate: give TARGET or --to-region, not both"), err());
        assertEquals(2, run("vm1", "--to-region", "eu-west", "--dry-run"));
        assertTrue(
                err().contains(
                                "dwcp migrate: --dry-run contacts no dwcpd, so it cannot choose a host of region eu-west: give TARGET"),
                err());
        Files.writeString(config, "migrate.conect=qemu:///system\n");
        assertEquals(2, run("vm1", "dwcp://beta", "--dry-run"));
        assertTrue(
                err().contains(
                                "unknown configuration keys: [migrate.conect] (migrate.connect, migrate.dest-uri, control.socket, node.run-dir)"),
                err());
        assertTrue(libvirt.calls.isEmpty() && dwcpd.calls.isEmpty());
    }

    @Test
    void dwcpdDownOrWithoutThePeerExitsWithThree() {
        dwcpd.down = "cannot reach dwcpd at unix:/run/dwcp/control.sock: connect(..) failed: No such file or directory";
        assertEquals(3, run("vm1", "dwcp://beta", "--control-socket", "/tmp/elsewhere.sock"));
        assertEquals(List.of(Path.of("/tmp/elsewhere.sock")), dwcpdSockets);
        assertTrue(err().contains("dwcp migrate: cannot reach dwcpd at unix:/run/dwcp/control.sock"), err());
        dwcpd.down = null;
        assertEquals(3, run("vm1", "dwcp://gamma"));
        assertTrue(
                err().contains(
                                "dwcpd alpha has no peer for gamma (peers: beta (192.0.2.20:7470)); add peer.NAME.address"),
                err());
        assertTrue(libvirt.calls.isEmpty(), libvirt.calls.toString());
    }

    @Test
    void peerIsFoundByNameOrTunnelAddress() throws Exception {
        Dwcpd.Status status = new Dwcpd.Status(
                "alpha",
                List.of(
                        new Dwcpd.Peer("beta", "192.0.2.20:7470", "/run/dwcp/peer/beta.sock"),
                        new Dwcpd.Peer("gamma", "[2001:db8::7]:7471", "/run/dwcp/peer/gamma.sock")));
        assertEquals(
                "beta",
                MigrateCommand.peer(status, MigrationTarget.parse("dwcp://beta"))
                        .name());
        assertEquals(
                "beta",
                MigrateCommand.peer(status, MigrationTarget.parse("dwcp://192.0.2.20"))
                        .name());
        assertEquals(
                "gamma",
                MigrateCommand.peer(status, MigrationTarget.parse("dwcp://[2001:db8::7]:7471"))
                        .name());
        assertEquals(
                "gamma",
                MigrateCommand.peer(status, MigrationTarget.parse("dwcp://host.example?peer=gamma"))
                        .name());
        Dwcpd.UnavailableException wrongPort = org.junit.jupiter.api.Assertions.assertThrows(
                Dwcpd.UnavailableException.class,
                () -> MigrateCommand.peer(status, MigrationTarget.parse("dwcp://192.0.2.20:9999")));
        assertTrue(
                wrongPort
                        .getMessage()
                        .startsWith(
                                "dwcpd alpha has no peer for 192.0.2.20:9999 (peers: beta (192.0.2.20:7470), gamma ([2001:db8::7]:7471))"),
                wrongPort.getMessage());
    }

    private static Dwcpd.Region region(Dwcpd.Host... hosts) {
        return new Dwcpd.Region("eu-west", "alpha", "alpha", 10, true, 1, List.of(hosts), 10, List.of(), -1, List.of());
    }

    @Test
    void peerNotConfiguredIsAHostOfTheRegion() throws Exception {
        Dwcpd.Status status = new Dwcpd.Status(
                "alpha", List.of(new Dwcpd.Peer("beta", "192.0.2.20:7470", "/run/dwcp/peer/beta.sock")));
        Dwcpd.Region region = region(new Dwcpd.Host("delta", "192.0.2.40:7470", 4, "0.1.0", "sha256:ab", 1));
        List<String> asked = new ArrayList<>();
        MigrateCommand.RegionLookup lookup = () -> {
            asked.add("region");
            return Optional.of(region);
        };
        // a configured peer: the region is not asked
        assertEquals(
                "beta",
                MigrateCommand.peer(status, MigrationTarget.parse("dwcp://beta"), lookup)
                        .name());
        assertEquals(List.of(), asked);
        // by name: dwcpd resolves it from the region's records when the migration is announced
        assertEquals(
                new Dwcpd.Peer("delta", "", ""),
                MigrateCommand.peer(status, MigrationTarget.parse("dwcp://delta"), lookup));
        assertEquals(List.of("region"), asked);
        // by the tunnel address in its record
        assertEquals(
                "delta",
                MigrateCommand.peer(status, MigrationTarget.parse("dwcp://192.0.2.40:7470"), lookup)
                        .name());
        Dwcpd.UnavailableException unknown = org.junit.jupiter.api.Assertions.assertThrows(
                Dwcpd.UnavailableException.class,
                () -> MigrateCommand.peer(status, MigrationTarget.parse("dwcp://192.0.2.99:7470"), lookup));
        assertTrue(
                unknown.getMessage().endsWith("; nor is 192.0.2.99:7470 the address of a host of region eu-west"),
                unknown.getMessage());
        // without a region: as before
        Dwcpd.UnavailableException noRegion = org.junit.jupiter.api.Assertions.assertThrows(
                Dwcpd.UnavailableException.class,
                () -> MigrateCommand.peer(status, MigrationTarget.parse("dwcp://delta"), Optional::empty));
        assertTrue(
                noRegion.getMessage().startsWith("dwcpd alpha has no peer for delta (peers: beta (192.0.2.20:7470))"),
                noRegion.getMessage());
    }

    @Test
    void toRegionPrintsTheCandidatesAndMigratesToTheChosenHost() {
        FakeLibvirt.FakeDomain domain = libvirt.add("vm1");
        domain.script.add(stats(1L << 30, 1L << 30, 0, 1));
        dwcpd.samples.add(FakeDwcpd.migration("completed", 1L << 30, 512L << 20));
        dwcpd.region = Optional.of(region(new Dwcpd.Host("delta", "192.0.2.40:7470", 4, "0.1.0", "sha256:ab", 1)));
        dwcpd.destinations = new Dwcpd.Destinations(
                "eu-west",
                "vm1",
                Optional.of("delta"),
                "delta: it holds a baseline of vm1",
                List.of(
                        new Dwcpd.Destination(
                                "delta",
                                "192.0.2.40:7470",
                                false,
                                "baseline 1024 MiB, 60 s old; link not measured; 4 of 4 slots free"),
                        new Dwcpd.Destination(
                                "gamma",
                                "192.0.2.30:7470",
                                false,
                                "no baseline; link 940.0 Mbit/s, RTT 0.4 ms, loss 0.000 %, measured 3 s ago; 4 of 4 slots free"),
                        new Dwcpd.Destination(
                                "omega", "192.0.2.50:7470", true, "no baseline; link not measured; 0 of 1 slots free")),
                12,
                12,
                3,
                3,
                5000);
        assertEquals(0, run("vm1", "--to-region", "eu-west", "--progress", "none"), err());
        String[] lines = out().split("\n");
        assertEquals(
                "Hosts of region eu-west for vm1 (read 12 ms ago, links 12 ms, baselines 3 ms, migrations 3 ms; bound 5000 ms):",
                lines[0]);
        assertEquals(
                "  delta (192.0.2.40:7470): baseline 1024 MiB, 60 s old; link not measured; 4 of 4 slots free  <- chosen",
                lines[1]);
        assertEquals(
                "  gamma (192.0.2.30:7470): no baseline; link 940.0 Mbit/s, RTT 0.4 ms, loss 0.000 %, measured 3 s ago; 4 of 4 slots free",
                lines[2]);
        assertEquals("  omega (192.0.2.50:7470): no baseline; link not measured; 0 of 1 slots free  (full)", lines[3]);
        assertEquals("Chose delta: it holds a baseline of vm1", lines[4]);
        assertEquals("qemu+ssh://192.0.2.40/system", domain.destinationUri);
        assertEquals(
                List.of("destinations eu-west vm1", "status", "region", "announce vm1 delta", "release m1"),
                dwcpd.calls);
    }

    @Test
    void toRegionWithoutAChoiceExitsWithThree() {
        assertEquals(3, run("vm1", "--to-region", "far"));
        assertTrue(
                err().contains(
                                "dwcp migrate: cannot choose a host of region far: dwcpd at unix:/run/dwcp/control.sock answered 404"),
                err());
        dwcpd.destinations = new Dwcpd.Destinations(
                "eu-west",
                "vm1",
                Optional.empty(),
                "every host of region eu-west is full",
                List.of(new Dwcpd.Destination(
                        "omega", "192.0.2.50:7470", true, "no baseline; link not measured; 0 of 1 slots free")),
                1,
                1,
                1,
                1,
                5000);
        err.reset();
        assertEquals(3, run("vm1", "--to-region", "eu-west"));
        assertTrue(
                err().contains(
                                "dwcp migrate: no host of region eu-west to migrate vm1 to: every host of region eu-west is full"),
                err());
        assertTrue(libvirt.calls.isEmpty(), libvirt.calls.toString());
    }

    @Test
    void libvirtErrorsBeforeTheMigrationExitWithFour() {
        libvirt.refuseConnection =
                "Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory";
        assertEquals(4, run("vm1", "dwcp://beta"));
        assertTrue(err().contains("dwcp migrate: cannot connect to qemu:///system: Failed to connect socket"), err());
        libvirt.refuseConnection = null;
        assertEquals(4, run("vm1", "dwcp://beta"));
        assertTrue(err().contains("no domain 'vm1': Domain not found"), err());
        libvirt.add("vm1").active = false;
        assertEquals(4, run("vm1", "dwcp://beta"));
        assertTrue(err().contains("domain 'vm1' is not running"), err());
        assertFalse(libvirt.calls.contains("migrate vm1"));
        assertFalse(
                dwcpd.calls.stream().anyMatch(call -> call.startsWith("announce")),
                "announced only once libvirt agreed: " + dwcpd.calls);
    }

    @Test
    void migrationWithProgressLinesAndSummary() {
        FakeLibvirt.FakeDomain domain = libvirt.add("vm1");
        domain.script.add(stats(1L << 30, 256L << 20, 768L << 20, 1));
        domain.script.add(stats(1L << 30, 768L << 20, 256L << 20, 1));
        domain.script.add(stats(1L << 30, 1100L << 20, 8L << 20, 2));
        dwcpd.samples.add(FakeDwcpd.migration("open", 256L << 20, 128L << 20));
        dwcpd.samples.add(FakeDwcpd.migration("open", 768L << 20, 384L << 20));
        dwcpd.samples.add(FakeDwcpd.migration("open", 1100L << 20, 550L << 20));
        dwcpd.samples.add(FakeDwcpd.migration("completed", 1108L << 20, 554L << 20));
        assertEquals(0, run("vm1", "dwcp://beta", "--parallel", "4", "--bandwidth", "500"), err());
        assertEquals("qemu+ssh://beta/system", domain.destinationUri);
        assertEquals(
                new Libvirt.MigrationParameters(
                        "unix:///run/dwcp/peer/beta.sock", OptionalInt.of(4), OptionalLong.of(500)),
                domain.parameters);
        assertEquals(
                MigrateCommand.LIVE
                        | MigrateCommand.PEER2PEER
                        | MigrateCommand.PERSIST_DEST
                        | MigrateCommand.UNDEFINE_SOURCE
                        | MigrateCommand.PARALLEL,
                domain.flags);
        assertEquals(
                List.of("status", "announce vm1 beta", "release m1"),
                dwcpd.calls,
                "done with the migration: dwcpd lets go of the VM lock");
        String[] lines = out().split("\n");
        assertEquals(
                "Migrating vm1 to beta (qemu+ssh://beta/system) through unix:///run/dwcp/peer/beta.sock", lines[0]);
        assertTrue(
                lines[1].startsWith(
                        "[0:01] vm1 -> beta: 25% of 1.0 GiB, 256.0 MiB sent, wire 128.0 MiB (ratio 2.00), -- B/s, iteration 1, dirty 10.0 MiB/s"),
                lines[1]);
        assertTrue(
                lines[2].startsWith(
                        "[0:01] vm1 -> beta: 75% of 1.0 GiB, 768.0 MiB sent, wire 384.0 MiB (ratio 2.00), 64.0 MiB/s, iteration 1, dirty 10.0 MiB/s, ETA 0:05"),
                lines[2]);
        String summary = lines[lines.length - 1];
        assertTrue(
                summary.matches(
                        "Migrated vm1 to beta in [0-9.]+ s: guest data 1\\.1 GiB, on the wire 554\\.0 MiB \\(ratio 2\\.00\\), .* average, 2 iterations\\."),
                summary);
        assertEquals("", err());
    }

    @Test
    void terminalGetsOneRedrawnBar() {
        terminal = true;
        FakeLibvirt.FakeDomain domain = libvirt.add("vm1");
        domain.script.add(stats(1L << 30, 512L << 20, 512L << 20, 1));
        domain.script.add(stats(1L << 30, 1L << 30, 0, 2));
        dwcpd.samples.add(FakeDwcpd.migration("open", 512L << 20, 256L << 20));
        assertEquals(0, run("vm1", "dwcp://beta"), err());
        String output = out();
        assertTrue(
                output.startsWith(
                        "\rvm1 -> beta [##########----------]  50% 512.0 MiB wire 256.0 MiB x2.00 -- B/s iter 1 dirty 10.0 MiB/s ETA --:--\033[K"),
                output);
        assertTrue(output.contains("\n" + "Migrated vm1 to beta in "), output);
    }

    @Test
    void failedMigrationExitsWithFiveAndSaysWhy() {
        FakeLibvirt.FakeDomain domain = libvirt.add("vm1");
        domain.ending = FakeLibvirt.Ending.FAIL;
        domain.script.add(stats(1L << 30, 1L << 20, 1L << 30, 1));
        dwcpd.samples.add(FakeDwcpd.migration("failed", 1L << 20, 1L << 19));
        assertEquals(5, run("vm1", "dwcp://beta", "--progress", "none"));
        assertEquals("", out());
        assertEquals(
                "release m1", dwcpd.calls.get(dwcpd.calls.size() - 1), "a failed migration lets go of the VM lock too");
        assertEquals(
                "dwcp migrate: migration of 'vm1' to qemu+ssh://beta/system: operation failed: migration out job: unexpectedly failed\n"
                        + "dwcp migrate: dwcpd: digest mismatch on channel 0\n"
                        + "dwcp migrate: vm1 keeps running on this host\n",
                err());
    }

    @Test
    void ctrlCAbortsTheJobAndExitsWith130() {
        FakeLibvirt.FakeDomain domain = libvirt.add("vm1");
        domain.ending = FakeLibvirt.Ending.NEVER;
        for (int i = 0; i < 1000; i++) {
            domain.script.add(stats(1L << 30, i << 20, 1L << 30, 1));
        }
        domain.onSecondPoll = () -> interruptHandler.get().run();
        assertEquals(130, run("vm1", "dwcp://beta"));
        assertTrue(libvirt.calls.contains("abortJob vm1"), libvirt.calls.toString());
        assertEquals(
                "dwcp migrate: interrupted: aborting the migration job of vm1 (Ctrl-C again: stop waiting)\n"
                        + "dwcp migrate: migration of vm1 aborted; it keeps running on this host\n",
                err());
        assertTrue(libvirt.calls.indexOf("abortJob vm1") > libvirt.calls.indexOf("migrate vm1"));
    }

    @Test
    void timeoutAbortsTheJobAndExitsWithFive() {
        FakeLibvirt.FakeDomain domain = libvirt.add("vm1");
        domain.ending = FakeLibvirt.Ending.NEVER;
        for (int i = 0; i < 100_000; i++) {
            domain.script.add(stats(1L << 30, 1L << 20, 1L << 30, 1));
        }
        long start = System.nanoTime();
        assertEquals(5, run("vm1", "dwcp://beta", "--timeout", "1", "--progress", "none"));
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(millis >= 1000 && millis < 10_000, millis + " ms");
        assertTrue(libvirt.calls.contains("abortJob vm1"));
        assertEquals(
                "dwcp migrate: not finished after 1 s: aborting the migration job of vm1\n"
                        + "dwcp migrate: migration of vm1 did not finish within 1 s and was aborted; it keeps running on this host\n",
                err());
    }
}
