package io.dwcp.testbed.libvirt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dwcp.testbed.dwcp.Dwcpd;
import io.dwcp.testbed.guest.GuestConsole;
import io.dwcp.testbed.guest.GuestImage;
import io.dwcp.testbed.guest.Verdict;
import io.dwcp.testbed.guest.WorkloadSpec;
import io.dwcp.testbed.qemu.Accelerator;
import io.dwcp.testbed.qemu.QemuBinary;
import io.dwcp.testbed.sys.Command;
import io.dwcp.testbed.sys.Folders;
import io.dwcp.testbed.sys.TrackedProcess;
import io.dwcp.testbed.wan.Scenario;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.URLEncoder;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * libvirt migrating through DWCP: two libvirt hosts across the emulated S2 link (140 ms RTT,
 * 500 Mbit/s, 0.05 % loss), each with a dwcpd inside its own network and mount namespaces
 * (run-dir /run/dwcp, private to the host) and DWCP's hook in {@code /etc/libvirt/hooks/qemu.d/}.
 * libvirt passes one unix path to both QEMUs: the source QEMU connects to
 * {@code /run/dwcp/peer/b.sock} on A (dwcpd a listens there), the destination QEMU listens on the
 * same path on B (dwcpd b connects to it).
 * <ol>
 *   <li>plain {@code virsh migrate --live --p2p ... --migrateuri unix:///run/dwcp/peer/b.sock};</li>
 *   <li>{@code dwcp migrate DOMAIN dwcp://b?dest-uri=...} run on A;</li>
 *   <li>{@code dwcp evacuate --to b} run on A with two guests running there: the dry-run plan, then both
 *   moved, at once as planned, each intact at B;</li>
 *   <li>{@code dwcp migrate} with dwcpd b killed: a clear failure, the domain runs on at A intact.</li>
 *   <li>The control plane: the daemons started again as two regions, {@code eu} (A, whose dwcpd runs
 *   the region's embedded ZooKeeper, and a second eu host a2 in A's network namespace) and {@code
 *   us} (B), each knowing the other only by gossip (no configured peers); {@code dwcp migrate
 *   --to-region us} on A chooses b from the host records gossip brought, the tunnel dials it and
 *   each side accepts the other from those records, the guest arrives intact; while it migrates,
 *   a2's announcement of the same domain is refused by the VM's lock in region eu, naming host a.</li>
 * </ol>
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LibvirtDwcpMigrationIT {
    private static final int GUEST_RAM_MIB = 256;
    /** As {@link LibvirtMigrationIT}: 128 MiB written, then 2 MB/s rewritten, so TCG guests converge on 2 cores. */
    private static final WorkloadSpec WORKLOAD = new WorkloadSpec(128, 500, 10, 42);

    private static final Duration MIGRATION_LIMIT = Duration.ofMinutes(4);
    private static final QemuBinary QEMU = QemuBinary.QEMU_7_2;
    private static final Scenario SCENARIO = Scenario.S2_TRANSATLANTIC;
    private static final String RUN_DIR = "/run/dwcp";
    private static final Path DIR = TrackedProcess.STATE_DIR.resolve(
            "libvirt-dwcp-it-" + ProcessHandle.current().pid());

    private static LibvirtTestBed bed;
    private static GuestImage image;
    private static Dwcpd dwcpdA;
    private static Dwcpd dwcpdB;
    /** The second host of region eu (test 5), in A's network namespace. */
    private static Dwcpd dwcpdA2;

    @BeforeAll
    static void setUp() {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root: namespaces, mounts, libvirtd");
        Optional<String> unavailable = LibvirtHost.whyUnavailable();
        if (unavailable.isPresent()) {
            throw new IllegalStateException(unavailable.get());
        }
        LibvirtTestBed.cleanupLeftovers();
        TrackedProcess.cleanupLeftovers();
        QEMU.requireInstalled();
        image = GuestImage.build();
        Path hook = Path.of(System.getProperty("dwcp.hook.script", "../libvirt-hooks/src/main/sh/50-dwcp"))
                .toAbsolutePath();
        if (!Files.isExecutable(hook)) {
            throw new IllegalStateException("the libvirt hook is not at " + hook + " (set -Ddwcp.hook.script)");
        }
        bed = LibvirtTestBed.create("lvdwcpit", SCENARIO.aToB(), SCENARIO.bToA(), List.of(hook));
        Folders.deleteTree(DIR);
        Path ca = Dwcpd.createCa(DIR.resolve("ca"));
        dwcpdA = startDwcpd(bed.hostA(), bed.hostB(), ca);
        dwcpdB = startDwcpd(bed.hostB(), bed.hostA(), ca);
    }

    /**
     * A dwcpd inside {@code host}'s namespaces, its files under the host's state folder (so the
     * host's cleanup finds a daemon a crashed run left), node name = the host's name.
     */
    private static Dwcpd startDwcpd(LibvirtHost host, LibvirtHost peer, Path ca) {
        Dwcpd.Placement inside = new Dwcpd.Placement(host::startInside, RUN_DIR, host.outside(RUN_DIR));
        return Dwcpd.start(
                host.host(),
                inside,
                host.name(),
                host.stateDirectory().resolve("dwcpd"),
                ca,
                Map.of(peer.name(), peer.host().address() + ":" + Dwcpd.TUNNEL_PORT),
                // a peer that is down fails the session after 10 s instead of 30 s: the test stays short
                Map.of("tunnel.reconnect-timeout", "10s"));
    }

    @AfterAll
    static void tearDown() {
        try {
            for (Dwcpd daemon : new Dwcpd[] {dwcpdA2, dwcpdB, dwcpdA}) {
                if (daemon != null) {
                    daemon.close();
                }
            }
            if (bed != null) {
                bed.close();
            }
        } finally {
            Folders.deleteTree(DIR);
        }
    }

    @Test
    @Order(1)
    void virshMigrateThroughThePeerSocketGoesThroughTheTunnel() throws Exception {
        LibvirtHost a = bed.hostA();
        LibvirtHost b = bed.hostB();
        String domain = LibvirtHost.domainName("virsh");
        try (Guest guest = Guest.start(a, domain)) {
            double sessionsBefore =
                    dwcpdB.metric("dwcp_sessions_completed_total", "").orElse(0);
            double deliveredBefore =
                    dwcpdB.metric("dwcp_qemu_bytes_written_total", "").orElse(0);
            long wireBefore = bed.network().bytesAtoB();
            long start = System.nanoTime();
            Command.Result migrate = a.virshAllowingFailure(
                    MIGRATION_LIMIT,
                    "migrate",
                    "--live",
                    "--p2p",
                    "--auto-converge",
                    domain,
                    b.tcpUri(),
                    "--migrateuri",
                    "unix://" + RUN_DIR + "/peer/" + b.name() + ".sock");
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(0, migrate.exitCode(), "virsh migrate failed: " + migrate.stderr() + diagnostics(domain));
            long wire = bed.network().bytesAtoB() - wireBefore;

            assertEquals(Optional.of("running"), b.domainState(domain));
            assertFalse(a.runningDomains().contains(domain), "the domain still runs on A: " + a.runningDomains());
            // the tunnel carried it: dwcpd b completed a session and wrote the guest's memory into B's QEMU
            awaitMetric(dwcpdB, "dwcp_sessions_completed_total", sessionsBefore + 1);
            double delivered =
                    dwcpdB.metric("dwcp_qemu_bytes_written_total", "").orElse(0) - deliveredBefore;
            assertTrue(
                    delivered > (double) (WORKLOAD.memoryMiB() << 20),
                    "dwcpd b delivered only " + delivered + " bytes");
            assertTrue(wire > 0, "nothing crossed the emulated link");
            // the hook ran on B and told dwcpd b to expect the domain
            String hookCall = "hooks/qemu.d/50-dwcp " + domain + " migrate begin -";
            assertTrue(
                    b.commandsRun().stream().anyMatch(line -> line.contains(hookCall)),
                    "B's libvirtd did not run the hook (" + hookCall + "): " + b.commandsRun());
            assertTrue(
                    dwcpdB.log().contains("[domain=" + domain + " uuid="),
                    "dwcpd b was not told to expect " + domain + ":\n" + tail(dwcpdB.log()));
            String status = get(dwcpdB.controlSocket(), "/v1/status");
            assertTrue(
                    status.startsWith("HTTP/1.1 200") && status.contains("\"node\":\"b\""),
                    "GET /v1/status at B: " + status);

            guest.verifyAt(b);
            System.out.printf(
                    "virsh migrate through dwcp, %s: %d ms, %d bytes A->B on the wire, %.0f bytes into B's QEMU%n",
                    domain, millis, wire, delivered);
        }
    }

    @Test
    @Order(2)
    void dwcpMigrateMovesTheDomainAndReportsProgress() throws Exception {
        LibvirtHost a = bed.hostA();
        LibvirtHost b = bed.hostB();
        String domain = LibvirtHost.domainName("cli");
        try (Guest guest = Guest.start(a, domain)) {
            double sessionsBefore =
                    dwcpdB.metric("dwcp_sessions_completed_total", "").orElse(0);
            long wireBefore = bed.network().bytesAtoB();
            long start = System.nanoTime();
            Command.Result migrate = dwcpMigrate(a, b, domain);
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(
                    0,
                    migrate.exitCode(),
                    "dwcp migrate failed (" + migrate.exitCode() + "):\n" + migrate.stdout() + "\n" + migrate.stderr()
                            + diagnostics(domain));
            long wire = bed.network().bytesAtoB() - wireBefore;

            assertTrue(
                    migrate.stdout().contains("Migrating " + domain + " to b "), "no start line:\n" + migrate.stdout());
            assertTrue(
                    migrate.stdout().contains("Migrated " + domain + " to b in "), "no summary:\n" + migrate.stdout());
            assertEquals(Optional.of("running"), b.domainState(domain));
            assertFalse(a.runningDomains().contains(domain), "the domain still runs on A: " + a.runningDomains());
            awaitMetric(dwcpdB, "dwcp_sessions_completed_total", sessionsBefore + 1);
            guest.verifyAt(b);
            System.out.printf(
                    "dwcp migrate, %s: %d ms (CLI JVM included), %d bytes A->B on the wire%n%s%n",
                    domain, millis, wire, migrate.stdout().strip());
        }
    }

    @Test
    @Order(3)
    void dwcpEvacuateMovesEveryRunningDomainAsPlanned() throws Exception {
        LibvirtHost a = bed.hostA();
        LibvirtHost b = bed.hostB();
        String first = LibvirtHost.domainName("evac1");
        String second = LibvirtHost.domainName("evac2");
        try (Guest one = Guest.start(a, first);
                Guest two = Guest.start(a, second)) {
            assertEquals(
                    List.of(first, second).stream().sorted().toList(),
                    a.runningDomains().stream().sorted().toList(),
                    "A runs exactly the two test domains");
            Command.Result plan = dwcpEvacuate(a, b, "--dry-run");
            assertEquals(0, plan.exitCode(), "dwcp evacuate --dry-run:\n" + plan.stdout() + "\n" + plan.stderr());
            assertTrue(
                    plan.stdout().contains("Evacuation plan: 2 VMs to move, 0 refused; predicted makespan "),
                    plan.stdout());
            assertTrue(
                    plan.stdout()
                            .contains(
                                    "link to b: no measurement (no control plane); assumed 500.0 Mbit/s (--link-rate)"),
                    plan.stdout());
            assertEquals(2, a.runningDomains().size(), "--dry-run moved something: " + a.runningDomains());

            long wireBefore = bed.network().bytesAtoB();
            long start = System.nanoTime();
            // the plan's slots from the start: this test is about them (the concurrency learner would start the second
            // guest only once the first one's rate was measured over 10 s, and these migrations take about that long)
            Command.Result evacuate = dwcpEvacuate(a, b, "--fixed-concurrency");
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(
                    0,
                    evacuate.exitCode(),
                    "dwcp evacuate failed (" + evacuate.exitCode() + "):\n" + evacuate.stdout() + "\n"
                            + evacuate.stderr() + diagnostics(first) + diagnostics(second));
            long wire = bed.network().bytesAtoB() - wireBefore;
            // the plan gives the one link two slots: both start at once, each in its own slot, each through its own
            // dwcpd socket, before either ended
            List<String> lines = evacuate.stdout().lines().toList();
            int firstStarted = lineStarting(lines, "Starting " + first + " -> b (slot ");
            int secondStarted = lineStarting(lines, "Starting " + second + " -> b (slot ");
            int firstEnded = lineStarting(lines, "Ended " + first + " -> b: moved in ");
            int secondEnded = lineStarting(lines, "Ended " + second + " -> b: moved in ");
            assertTrue(
                    firstStarted >= 0 && secondStarted >= 0 && firstEnded >= 0 && secondEnded >= 0,
                    "no start and end line of each:\n" + evacuate.stdout());
            assertTrue(
                    Math.max(firstStarted, secondStarted) < Math.min(firstEnded, secondEnded),
                    "not both running at once:\n" + evacuate.stdout());
            assertEquals(
                    List.of("slot 1/2 to b", "slot 2/2 to b"),
                    List.of(
                                    lines.get(Math.min(firstStarted, secondStarted)),
                                    lines.get(Math.max(firstStarted, secondStarted)))
                            .stream()
                            .map(line -> line.substring(line.indexOf("(") + 1, line.indexOf(";")))
                            .toList(),
                    "the link's two slots:\n" + evacuate.stdout());
            assertTrue(evacuate.stdout().contains("Moved 2 of 2 domains."), evacuate.stdout());
            for (String domain : List.of(first, second)) {
                assertTrue(
                        evacuate.stdout().contains("Migrated " + domain + " to b in "),
                        "no summary of " + domain + ":\n" + evacuate.stdout());
                assertEquals(Optional.of("running"), b.domainState(domain), domain + " at B");
            }
            assertEquals(List.of(), a.runningDomains(), "domains still running on A");
            one.verifyAt(b);
            two.verifyAt(b);
            System.out.printf(
                    "dwcp evacuate, %s and %s: %d ms (CLI JVM and dirty-rate measurement included), %d bytes A->B on the wire%n%s%n",
                    first, second, millis, wire, evacuate.stdout().strip());
        }
    }

    @Test
    @Order(4)
    void dwcpMigrateFailsClearlyWhenTheDestinationDaemonIsDownAndTheDomainRunsOn() throws Exception {
        LibvirtHost a = bed.hostA();
        LibvirtHost b = bed.hostB();
        String domain = LibvirtHost.domainName("down");
        try (Guest guest = Guest.start(a, domain)) {
            dwcpdB.kill();

            Command.Result migrate = dwcpMigrate(a, b, domain);

            // 5: the migration started and failed (documented in dwcp migrate --help); dwcpd a says why
            assertEquals(5, migrate.exitCode(), "dwcp migrate:\n" + migrate.stdout() + "\n" + migrate.stderr());
            assertTrue(
                    migrate.stderr().contains("dwcp migrate: dwcpd: no tunnel stream to peer " + b.name() + " for 10s"),
                    "no word of the unreachable peer: " + migrate.stderr());
            assertTrue(
                    migrate.stderr().contains("dwcp migrate: " + domain + " keeps running on this host"),
                    migrate.stderr());
            assertEquals(Optional.of("running"), a.domainState(domain), "the domain at A after the failed migration");
            assertFalse(b.runningDomains().contains(domain), "the domain runs on B too: " + b.runningDomains());
            assertTrue(dwcpdA.isAlive(), "dwcpd a must survive its peer's death");
            guest.verifyAtSource();
            System.out.printf(
                    "dwcp migrate with dwcpd b down: exit %d%n%s%n",
                    migrate.exitCode(), migrate.stderr().strip());
        }
    }

    @Test
    @Order(5)
    void dwcpMigrateToRegionChoosesAHostOfTheOtherRegionFromGossipAndTheVmLockHoldsInTheRegion() throws Exception {
        LibvirtHost a = bed.hostA();
        LibvirtHost b = bed.hostB();
        // the pair of test 4 (b killed there) goes; the same hosts come back as two regions, no peers configured
        dwcpdA.close();
        dwcpdB.close();
        dwcpdA = startRegionDaemon(a, b, "eu", "us");
        dwcpdB = startRegionDaemon(b, a, "us", "eu");
        Map<String, String> second = new java.util.LinkedHashMap<>();
        second.put("region.name", "eu");
        // a's embedded ZooKeeper, in the same network namespace
        second.put("region.zookeeper.connect", "127.0.0.1:2181");
        second.put("region.advertised-address", a.host().address() + ":" + (Dwcpd.TUNNEL_PORT + 10));
        second.put("tunnel.listen", "0.0.0.0:" + (Dwcpd.TUNNEL_PORT + 10));
        second.put("metrics.listen", "127.0.0.1:" + (Dwcpd.METRICS_PORT + 10));
        second.put("gossip.listen", "127.0.0.1:" + (Dwcpd.TUNNEL_PORT + 11));
        dwcpdA2 = Dwcpd.start(a.host(), "a2", DIR.resolve("a2"), DIR.resolve("ca"), Map.of(), second);
        // a leads eu and has heard of us and its host b by gossip
        awaitRegions(
                dwcpdA, regions -> regions.path("thisHostLeads").asBoolean() && hasRemoteHost(regions, "us", b.name()));
        awaitRegions(dwcpdB, regions -> hasRemoteHost(regions, "eu", a.name()));
        awaitRegions(dwcpdA2, regions -> regions.path("hosts").size() == 2 && hasRemoteHost(regions, "us", b.name()));

        String domain = LibvirtHost.domainName("region");
        java.util.concurrent.ExecutorService background = java.util.concurrent.Executors.newSingleThreadExecutor();
        try (Guest guest = Guest.start(a, domain)) {
            long start = System.nanoTime();
            java.util.concurrent.Future<Command.Result> migration = background.submit(() -> a.runInside(
                    MIGRATION_LIMIT,
                    Dwcpd.cliCommand(migrateArguments(domain, "--to-region", "us", "--dest-uri", b.tcpUri()))));
            // once a announced it, the domain's lock is held in region eu: a2, another host of eu, is refused
            awaitAnnounced(dwcpdA, domain, migration);
            Dwcpd.ControlAnswer refused = dwcpdA2.control(
                    "POST",
                    "/v1/migrations",
                    "protocol=1&domain=" + URLEncoder.encode(domain, StandardCharsets.UTF_8) + "&peer=" + b.name());
            assertEquals(409, refused.status(), "a2 announcing " + domain + " during a's migration: " + refused);
            assertTrue(
                    refused.body().startsWith("VM '" + domain + "' is already being migrated by host a (migration "),
                    refused.body());

            Command.Result migrate =
                    migration.get(MIGRATION_LIMIT.toSeconds() + 30, java.util.concurrent.TimeUnit.SECONDS);
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(
                    0,
                    migrate.exitCode(),
                    "dwcp migrate --to-region us failed (" + migrate.exitCode() + "):\n" + migrate.stdout() + "\n"
                            + migrate.stderr() + diagnostics(domain));
            String out = migrate.stdout();
            assertTrue(out.contains("Hosts of region us for " + domain + " (read "), out);
            assertTrue(
                    out.contains("  b (" + b.host().address() + ":" + Dwcpd.TUNNEL_PORT
                            + "): no baseline; link not measured; 4 of 4 slots free  <- chosen"),
                    out);
            assertTrue(
                    out.contains(
                            "Chose b: no host has a measured link: the most free slots (region us is not this host's"),
                    out);
            assertTrue(out.contains("Migrated " + domain + " to b in "), out);
            assertEquals(Optional.of("running"), b.domainState(domain));
            assertFalse(a.runningDomains().contains(domain), "the domain still runs on A: " + a.runningDomains());
            awaitMetric(dwcpdB, "dwcp_sessions_completed_total", 1);
            guest.verifyAt(b);
            // dwcp migrate let go of the lock at its end: a2 may announce the domain now (and forgets it at once)
            Dwcpd.Announced after = awaitAnnouncedBy(dwcpdA2, domain, b.name());
            assertEquals(
                    204,
                    dwcpdA2.control("DELETE", "/v1/migrations/" + after.id(), null)
                            .status());
            System.out.printf(
                    "dwcp migrate --to-region us, %s: %d ms (CLI JVM included); a2 refused with: %s%n%s%n",
                    domain, millis, refused.body().strip(), out.strip());
        } finally {
            background.shutdownNow();
            background.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    /**
     * A host's dwcpd as the only host of {@code region}, with an embedded ZooKeeper, gossiping with
     * {@code peer}'s dwcpd (region {@code other}); no configured tunnel peers.
     */
    private static Dwcpd startRegionDaemon(LibvirtHost host, LibvirtHost peer, String region, String other) {
        Dwcpd.Placement inside = new Dwcpd.Placement(host::startInside, RUN_DIR, host.outside(RUN_DIR));
        Map<String, String> settings = new java.util.LinkedHashMap<>();
        settings.put("tunnel.reconnect-timeout", "10s");
        settings.put("region.name", region);
        settings.put("region.zookeeper.embedded", "true");
        settings.put("region.advertised-address", host.host().address() + ":" + Dwcpd.TUNNEL_PORT);
        settings.put("gossip.listen", "0.0.0.0:" + (Dwcpd.TUNNEL_PORT + 1));
        settings.put("gossip.peer." + peer.name(), peer.host().address() + ":" + (Dwcpd.TUNNEL_PORT + 1));
        return Dwcpd.start(
                host.host(),
                inside,
                host.name(),
                host.stateDirectory().resolve("dwcpd"),
                DIR.resolve("ca"),
                Map.of(),
                settings);
    }

    private static boolean hasRemoteHost(com.fasterxml.jackson.databind.JsonNode regions, String region, String host) {
        for (com.fasterxml.jackson.databind.JsonNode remote : regions.path("regions")) {
            if (remote.path("region").asText().equals(region)) {
                for (com.fasterxml.jackson.databind.JsonNode name : remote.path("hosts")) {
                    if (name.asText().equals(host)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** Polls {@code GET /v1/regions} until the condition holds (30 s). */
    private static void awaitRegions(
            Dwcpd daemon, java.util.function.Predicate<com.fasterxml.jackson.databind.JsonNode> condition)
            throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            Dwcpd.ControlAnswer answer = daemon.control("GET", "/v1/regions", null);
            last = answer.body();
            if (answer.status() == 200 && condition.test(json.readTree(answer.body()))) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError(
                daemon + ": GET /v1/regions never showed what was awaited: " + last + "\n" + tail(daemon.log()));
    }

    /** Polls {@code GET /v1/migrations} until the domain's migration is announced (while the command runs). */
    private static void awaitAnnounced(Dwcpd daemon, String domain, java.util.concurrent.Future<Command.Result> command)
            throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!daemon.control("/v1/migrations").contains("\"domain\":\"" + domain + "\"")) {
            if (command.isDone()) {
                Command.Result result = command.get();
                throw new AssertionError("dwcp migrate ended (" + result.exitCode() + ") before " + daemon
                        + " listed its migration:\n" + result.stdout() + "\n" + result.stderr());
            }
            assertTrue(System.nanoTime() < deadline, daemon + " never listed the migration of " + domain);
            Thread.sleep(50);
        }
    }

    /** Announces the domain's migration on {@code daemon} once the lock lets it (20 s). */
    private static Dwcpd.Announced awaitAnnouncedBy(Dwcpd daemon, String domain, String peer) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            try {
                return daemon.announceMigration(domain, peer);
            } catch (IllegalStateException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(200);
            }
        }
    }

    /** The index of the first line that starts with {@code prefix}, -1 if none. */
    private static int lineStarting(List<String> lines, String prefix) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith(prefix)) {
                return i;
            }
        }
        return -1;
    }

    /** {@code dwcp migrate} run inside A's namespaces, as an operator on A would. */
    private static Command.Result dwcpMigrate(LibvirtHost a, LibvirtHost b, String domain) {
        // the query is form-encoded: a literal '+' (qemu+tcp) would read as a space
        String target = "dwcp://" + b.name() + "?dest-uri=" + URLEncoder.encode(b.tcpUri(), StandardCharsets.UTF_8);
        return a.runInside(MIGRATION_LIMIT, Dwcpd.cliCommand(migrateArguments(domain, target)));
    }

    /** {@code dwcp migrate DOMAIN WHERE...} with A's libvirt and dwcpd, progress in lines, within the limit. */
    private static List<String> migrateArguments(String domain, String... where) {
        List<String> arguments = new ArrayList<>(List.of("migrate", domain));
        arguments.addAll(List.of(where));
        arguments.addAll(List.of(
                "--connect",
                "qemu:///system",
                "--control-socket",
                RUN_DIR + "/control.sock",
                "--progress",
                "lines",
                "--timeout",
                Long.toString(MIGRATION_LIMIT.toSeconds() - 30)));
        return arguments;
    }

    /** {@code dwcp evacuate --to b} run inside A's namespaces; the link assumed at S2's 500 Mbit/s (no control plane here). */
    private static Command.Result dwcpEvacuate(LibvirtHost a, LibvirtHost b, String... more) {
        List<String> arguments = new ArrayList<>(List.of(
                "evacuate",
                "--to",
                b.name(),
                "--dest-uri",
                b.tcpUri(),
                "--connect",
                "qemu:///system",
                "--control-socket",
                RUN_DIR + "/control.sock",
                "--link-rate",
                "500",
                "--progress",
                "lines",
                "--timeout",
                Long.toString(MIGRATION_LIMIT.toSeconds() - 30)));
        arguments.addAll(List.of(more));
        return a.runInside(MIGRATION_LIMIT.plusMinutes(1), Dwcpd.cliCommand(arguments));
    }

    private static String diagnostics(String domain) {
        return "\n--- A's QEMU log ---\n" + bed.hostA().qemuLog(domain) + "\n--- B's QEMU log ---\n"
                + bed.hostB().qemuLog(domain)
                + "\n--- B's libvirtd ---\n" + bed.hostB().libvirtdLog()
                + "\n--- dwcpd a ---\n" + tail(dwcpdA.log()) + "\n--- dwcpd b ---\n" + tail(dwcpdB.log());
    }

    /** A test domain started on a host with its workload running, checked intact before it moves. */
    private static final class Guest implements AutoCloseable {
        private final LibvirtHost source;
        private final String domain;
        private final GuestConsole console;
        private final Verdict before;

        private Guest(LibvirtHost source, String domain, GuestConsole console, Verdict before) {
            this.source = source;
            this.domain = domain;
            this.console = console;
            this.before = before;
        }

        static Guest start(LibvirtHost host, String domain) throws IOException {
            String consolePath = LibvirtHost.consoleSocketInside(domain);
            host.createPaused(new LibvirtDomainXml(
                    domain,
                    QEMU,
                    Accelerator.detect(),
                    GUEST_RAM_MIB,
                    image.kernel(),
                    image.initrd(),
                    image.kernelCommandLine(WORKLOAD, QEMU.needsTcgDirtyBitmapWorkaround()),
                    consolePath));
            GuestConsole console = null;
            try {
                console = attach(host.name() + ":" + domain, host.outside(consolePath));
                host.virsh("resume", domain);
                console.awaitReady(Duration.ofMinutes(3));
                Verdict before = console.requestVerdict(Duration.ofMinutes(2));
                assertTrue(before.intact(), "guest before the migration: " + before.detail());
                return new Guest(host, domain, console, before);
            } catch (IOException | RuntimeException | Error e) {
                if (console != null) {
                    console.close();
                }
                destroyEverywhere(domain);
                throw e;
            }
        }

        /** The guest runs at {@code destination}, intact, and its workload went on writing there. */
        void verifyAt(LibvirtHost destination) throws IOException {
            try (GuestConsole there = attach(
                    destination.name() + ":" + domain, destination.outside(LibvirtHost.consoleSocketInside(domain)))) {
                Verdict after = there.requestVerdict(Duration.ofMinutes(2));
                assertTrue(
                        after.intact(), "guest at " + destination.name() + " after the migration: " + after.detail());
                assertTrue(
                        after.writes() > before.writes(),
                        "the workload did not go on writing: " + before.writes() + " then " + after.writes());
            }
        }

        /** The guest still runs at the source, intact. */
        void verifyAtSource() {
            Verdict after = console.requestVerdict(Duration.ofMinutes(2));
            assertTrue(after.intact(), "guest at " + source.name() + " after the failed migration: " + after.detail());
            assertTrue(
                    after.writes() > before.writes(),
                    "the workload did not go on writing: " + before.writes() + " then " + after.writes());
        }

        @Override
        public void close() {
            console.close();
            destroyEverywhere(domain);
        }

        private static void destroyEverywhere(String domain) {
            for (LibvirtHost host : List.of(bed.hostA(), bed.hostB())) {
                if (host.domainState(domain).isPresent()) {
                    host.virshAllowingFailure(Duration.ofSeconds(30), "destroy", domain);
                    host.virshAllowingFailure(Duration.ofSeconds(30), "undefine", domain);
                }
            }
        }
    }

    private static GuestConsole attach(String name, Path socket) throws IOException {
        if (!Files.exists(socket)) {
            throw new IllegalStateException("no console socket " + socket);
        }
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket));
        return GuestConsole.attach(name, channel);
    }

    /** One HTTP/1.1 GET over a unix socket; the whole answer (status line, headers, body). */
    private static String get(Path socket, String path) throws IOException {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            channel.write(ByteBuffer.wrap(("GET " + path + " HTTP/1.1\r\nHost: dwcpd\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII)));
            List<byte[]> parts = new ArrayList<>();
            ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
            while (channel.read(buffer) >= 0) {
                buffer.flip();
                byte[] part = new byte[buffer.remaining()];
                buffer.get(part);
                parts.add(part);
                buffer.clear();
            }
            StringBuilder answer = new StringBuilder();
            parts.forEach(part -> answer.append(new String(part, StandardCharsets.UTF_8)));
            return answer.toString();
        }
    }

    private static void awaitMetric(Dwcpd daemon, String metric, double atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        double value;
        while ((value = daemon.metric(metric, "").orElse(0)) < atLeast) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(daemon + ": " + metric + " = " + value + ", expected at least " + atLeast
                        + "\n" + tail(daemon.log()));
            }
            Thread.sleep(100);
        }
    }

    private static String tail(String log) {
        return log.length() <= 6000 ? log : "..." + log.substring(log.length() - 6000);
    }
}
