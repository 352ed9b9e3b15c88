package io.dwcp.testbed.dwcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dwcp.testbed.guest.GuestImage;
import io.dwcp.testbed.guest.WorkloadSpec;
import io.dwcp.testbed.net.TwoHostNetwork;
import io.dwcp.testbed.qemu.GuestPair;
import io.dwcp.testbed.qemu.MigrationResult;
import io.dwcp.testbed.qemu.NativeMode;
import io.dwcp.testbed.qemu.QemuBinary;
import io.dwcp.testbed.sys.Folders;
import io.dwcp.testbed.sys.TrackedProcess;
import io.dwcp.testbed.wan.Scenario;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Four real guests (QEMU 10 and 7.2, precopy and multifd) migrated at once through one pair of
 * dwcpd across the emulated transatlantic WAN (S2), each announced on the source daemon's control
 * socket as {@code dwcp migrate} does, so each is a session of its own through its own migration
 * socket; the destination QEMU of one of them is killed while its migration is in flight. The other
 * three complete with their guests intact at the destination, the one that failed runs on intact at
 * the source, each daemon counts three sessions completed and one failed, and each destination
 * session delivered only to its own migration's destination QEMU. The VMs are also announced at
 * the destination as the libvirt hook does, in the other order: each destination session takes
 * its own VM (which labels the baseline it leaves), not the oldest announcement.
 */
class ConcurrentGuestsIT {
    private static final int GUEST_RAM_MIB = 256;
    private static final Path DIR = TrackedProcess.STATE_DIR.resolve(
            "dwcp-concurrent-" + ProcessHandle.current().pid());
    private static final Scenario SCENARIO = Scenario.S2_TRANSATLANTIC;
    /** The killed guest's destination QEMU dies once this much of its stream left its source QEMU. */
    private static final long KILL_AFTER_BYTES = 16L << 20;

    private static final Duration MIGRATION_LIMIT = Duration.ofMinutes(6);

    /** One of the four guests: which QEMU, which mode, its own workload seed (its own memory content). */
    private record Guest(String name, QemuBinary qemu, NativeMode mode, long seed, boolean killed) {
        WorkloadSpec workload() {
            // small and slow: four TCG guests share two cores with the daemons and the WAN emulator
            return new WorkloadSpec(64, 1000, 10, seed);
        }

        /** The UUID the libvirt hook would announce for it at the destination. */
        String uuid() {
            return String.format("00000000-0000-4000-8000-%012d", seed);
        }
    }

    private static final List<Guest> GUESTS = List.of(
            new Guest("p10", QemuBinary.QEMU_10, NativeMode.PRECOPY, 61, false),
            new Guest("m72", QemuBinary.QEMU_7_2, NativeMode.MULTIFD, 62, false),
            new Guest("p72", QemuBinary.QEMU_7_2, NativeMode.PRECOPY, 63, false),
            new Guest("m10", QemuBinary.QEMU_10, NativeMode.MULTIFD, 64, true));

    private static TwoHostNetwork network;
    private static GuestImage image;

    @BeforeAll
    static void setUp() {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root: network namespaces and QEMU");
        TwoHostNetwork.cleanupLeftovers();
        TrackedProcess.cleanupLeftovers();
        image = GuestImage.build();
        network = TwoHostNetwork.create("dwcpconc", SCENARIO.aToB(), SCENARIO.bToA());
    }

    @AfterAll
    static void tearDown() {
        if (network != null) {
            network.close();
        }
        Folders.deleteTree(DIR);
    }

    @Test
    void fourGuestsMigrateAtOnceAndOneFailingDisturbsNoneOfTheOthers() throws Exception {
        long testStart = System.nanoTime();
        ExecutorService threads = Executors.newFixedThreadPool(GUESTS.size() + 1);
        Map<Guest, GuestPair> pairs = new LinkedHashMap<>();
        try (DwcpLink link = DwcpLink.start(network, DIR.resolve("link"), Map.of("codec.mode", "passthrough"))) {
            startPairs(threads, pairs);
            long booted = System.nanoTime();

            // each migration announced at the source daemon, as dwcp migrate does: a socket of its own
            Map<Guest, Dwcpd.Announced> announced = new LinkedHashMap<>();
            for (Guest guest : GUESTS) {
                announced.put(guest, link.source().announceMigration(guest.name(), DwcpLink.B));
            }
            assertEquals(
                    GUESTS.size(),
                    announced.values().stream()
                            .map(Dwcpd.Announced::id)
                            .distinct()
                            .count(),
                    "two migrations got the same id: " + announced);
            // the libvirt hook's announcements at the destination, in the other order
            List<Guest> newestFirst = new ArrayList<>(GUESTS);
            Collections.reverse(newestFirst);
            for (Guest guest : newestFirst) {
                Dwcpd.ControlAnswer expected = link.destination()
                        .control(
                                "POST",
                                "/v1/incoming-migrations",
                                "protocol=1&domain=" + guest.name() + "&uuid=" + guest.uuid());
                assertEquals(204, expected.status(), guest + ": " + expected.body());
            }

            long wireBefore = network.bytesAtoB();
            Map<Guest, Future<MigrationResult>> running = new LinkedHashMap<>();
            for (Guest guest : GUESTS) {
                GuestPair pair = pairs.get(guest);
                pair.configure(guest.mode());
                Dwcpd.Announced migration = announced.get(guest);
                // the destination QEMU listens where dwcpd b connects for this migration id
                String listen = "unix:" + link.destination().migrationSocket(DwcpLink.B, migration.id());
                String connect = "unix:" + migration.socket();
                running.put(guest, threads.submit(() -> pair.migrate(listen, connect, MIGRATION_LIMIT, null)));
            }
            Guest victim = GUESTS.stream().filter(Guest::killed).findFirst().orElseThrow();
            Future<Long> kill =
                    threads.submit(() -> killDestinationInFlight(link, announced.get(victim), pairs.get(victim)));

            Map<Guest, MigrationResult> results = new LinkedHashMap<>();
            for (Guest guest : GUESTS) {
                results.put(guest, await(running.get(guest), guest, link));
            }
            long killedAtBytes = await(kill, victim, link);
            long wire = network.bytesAtoB() - wireBefore;

            // the three others: completed, their guests intact where they now run
            for (Guest guest : GUESTS) {
                MigrationResult result = results.get(guest);
                GuestPair pair = pairs.get(guest);
                if (guest.killed()) {
                    assertEquals(
                            MigrationResult.FAILED,
                            result.status(),
                            guest + ": " + result.detail() + "\n" + link.logs());
                    assertTrue(
                            result.guestIntact(),
                            guest + ": the source guest after its failed migration: " + result.detail());
                    assertEquals("running", pair.source().runState(), guest + ": the source must run on");
                } else {
                    assertEquals(
                            MigrationResult.COMPLETED,
                            result.status(),
                            guest + ": " + result.detail() + "\n" + link.logs());
                    assertTrue(result.guestIntact(), guest + ": the destination guest: " + result.detail());
                    assertEquals("running", pair.destination().runState(), guest + " at the destination");
                    assertEquals("postmigrate", pair.source().runState(), guest + " at the source");
                }
            }

            // each end counts its own sessions: three completed, one failed
            for (Dwcpd daemon : List.of(link.source(), link.destination())) {
                awaitSessionsEnded(daemon, GUESTS.size());
                assertEquals(
                        GUESTS.size(),
                        daemon.metric("dwcp_sessions_started_total", "").orElse(0),
                        daemon + " sessions started");
                assertEquals(
                        GUESTS.size() - 1,
                        daemon.metric("dwcp_sessions_completed_total", "").orElse(0),
                        daemon + " sessions completed:\n" + link.logs());
                assertEquals(
                        1,
                        daemon.metric("dwcp_sessions_failed_total", "").orElse(0),
                        daemon + " sessions failed:\n" + link.logs());
            }

            Map<Guest, JsonNode> sessions = new LinkedHashMap<>();
            for (Guest guest : GUESTS) {
                JsonNode migration =
                        link.source().migration(announced.get(guest).id());
                assertEquals(
                        guest.killed() ? "failed" : "completed",
                        migration.path("state").asText(),
                        guest + ": " + migration);
                sessions.put(guest, migration.path("session"));
            }
            assertEachSessionDeliveredToItsOwnDestination(link, announced, sessions);
            // each destination session knows its own VM (what labels the baseline it leaves), not the oldest
            // announcement
            String destinationLog = link.destination().log();
            for (Guest guest : GUESTS) {
                String carries = "[domain=" + guest.name() + " uuid=" + guest.uuid() + " migration="
                        + announced.get(guest).id() + "] [session="
                        + sessions.get(guest).path("id").asText() + " peer=a role=destination] carries it";
                assertTrue(
                        destinationLog.contains(carries),
                        guest + ": dwcpd b never said '" + carries + "':\n" + link.logs());
            }

            // what dwcpd a read from the three completed QEMUs, dwcpd b wrote into QEMUs; of the failed
            // one's stream at most what a read (nothing went to another guest's QEMU on top of its own)
            double written = link.destination()
                    .metric("dwcp_qemu_bytes_written_total", "")
                    .orElse(0);
            long completedRead = 0;
            long allRead = 0;
            for (Guest guest : GUESTS) {
                long read = sessions.get(guest).path("qemuBytesRead").asLong();
                allRead += read;
                completedRead += guest.killed() ? 0 : read;
            }
            assertTrue(
                    written >= completedRead && written <= allRead,
                    "dwcpd b wrote " + (long) written + " bytes into QEMUs; dwcpd a read " + completedRead
                            + " from the completed migrations' QEMUs, " + allRead + " from all");

            for (Guest guest : GUESTS) {
                MigrationResult result = results.get(guest);
                JsonNode session = sessions.get(guest);
                System.out.printf(
                        "concurrent guests, %s QEMU %s %s (migration %s, session %s): %s, %d ms, downtime %d ms,"
                                + " %d bytes read from its QEMU, %d tunnel bytes sent%n",
                        guest.name(),
                        guest.qemu().label(),
                        guest.mode().label(),
                        announced.get(guest).id(),
                        session.path("id").asText(),
                        result.status(),
                        result.completed() ? result.totalMs() : result.elapsedMs(),
                        result.downtimeMs(),
                        session.path("qemuBytesRead").asLong(),
                        session.path("tunnelBytesSent").asLong());
            }
            System.out.printf(
                    "concurrent guests: %s destination killed after %d bytes of its stream; %d bytes A->B on the wire"
                            + " for all four; guests booted in %d s; whole test %d s%n",
                    victim.name(),
                    killedAtBytes,
                    wire,
                    (booted - testStart) / 1_000_000_000L,
                    (System.nanoTime() - testStart) / 1_000_000_000L);

            for (Dwcpd.Announced migration : announced.values()) {
                // what dwcp migrate does when done: the migration is forgotten, its socket closed
                assertEquals(
                        204,
                        link.source()
                                .control("DELETE", "/v1/migrations/" + migration.id(), null)
                                .status());
            }
        } finally {
            threads.shutdownNow();
            for (GuestPair pair : pairs.values()) {
                pair.close();
            }
            threads.awaitTermination(30, TimeUnit.SECONDS);
        }
    }

    /** Boots the four source guests (and their destination QEMUs) side by side; each started pair goes into {@code pairs}. */
    private static void startPairs(ExecutorService threads, Map<Guest, GuestPair> pairs) throws Exception {
        Map<Guest, Future<GuestPair>> starting = new LinkedHashMap<>();
        for (Guest guest : GUESTS) {
            starting.put(
                    guest,
                    threads.submit(() -> GuestPair.start(
                            network,
                            image,
                            guest.qemu(),
                            guest.workload(),
                            GUEST_RAM_MIB,
                            DIR.resolve("vms").resolve(guest.name()))));
        }
        Exception failure = null;
        for (Map.Entry<Guest, Future<GuestPair>> entry : starting.entrySet()) {
            try {
                pairs.put(entry.getKey(), entry.getValue().get(5, TimeUnit.MINUTES));
            } catch (ExecutionException | TimeoutException e) {
                failure = failure == null ? e : failure;
                entry.getValue().cancel(true);
            }
        }
        if (failure != null) {
            throw new AssertionError(
                    "a guest did not start", failure instanceof ExecutionException ? failure.getCause() : failure);
        }
    }

    /**
     * Waits until the victim's session at the source read {@link #KILL_AFTER_BYTES} from its QEMU,
     * then kills its destination QEMU (SIGKILL, by its pid); returns the bytes read by then. Fails if
     * the session ended first: then no fault was injected in flight.
     */
    private static long killDestinationInFlight(DwcpLink link, Dwcpd.Announced migration, GuestPair pair)
            throws InterruptedException {
        long deadline = System.nanoTime() + MIGRATION_LIMIT.toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode state = link.source().migration(migration.id());
            JsonNode session = state.path("session");
            long read = session.path("qemuBytesRead").asLong(0);
            if (!state.path("state").asText().equals("waiting")
                    && !state.path("state").asText().equals("open")) {
                throw new AssertionError(migration.domain() + ": its migration ended ("
                        + state.path("state").asText() + ") after " + read
                        + " bytes, before its destination could be killed in flight");
            }
            if (read >= KILL_AFTER_BYTES) {
                long pid = pair.destination().pid();
                ProcessHandle.of(pid)
                        .orElseThrow(() -> new AssertionError("the destination QEMU " + pid + " is already gone"))
                        .destroyForcibly();
                return read;
            }
            Thread.sleep(50);
        }
        throw new AssertionError(migration.domain() + ": its migration never read " + KILL_AFTER_BYTES + " bytes");
    }

    private static <T> T await(Future<T> future, Guest guest, DwcpLink link) throws InterruptedException {
        try {
            return future.get(MIGRATION_LIMIT.toMinutes() + 2, TimeUnit.MINUTES);
        } catch (ExecutionException e) {
            throw new AssertionError(guest + ": " + e.getCause() + "\n" + link.logs(), e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError(guest + ": no result\n" + link.logs(), e);
        }
    }

    private static void awaitSessionsEnded(Dwcpd daemon, int sessions) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (daemon.metric("dwcp_sessions_completed_total", "").orElse(0)
                        + daemon.metric("dwcp_sessions_failed_total", "").orElse(0)
                < sessions) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(daemon + ": fewer than " + sessions + " sessions ended within 60 s:\n"
                        + daemon.metrics() + "\n" + daemon.log());
            }
            Thread.sleep(100);
        }
    }

    /**
     * The destination daemon's log names, for every session, each QEMU connection it made and where:
     * each migration's session (the id the source gave it) connected only to its own migration's
     * socket, and no other session connected there.
     */
    private static void assertEachSessionDeliveredToItsOwnDestination(
            DwcpLink link, Map<Guest, Dwcpd.Announced> announced, Map<Guest, JsonNode> sessions) {
        Pattern connected = Pattern.compile(
                "\\[session=([0-9a-f]{16}) peer=a role=destination] connected QEMU connection (\\d+) to unix:(\\S+)");
        Map<String, Set<String>> socketsBySession = new LinkedHashMap<>();
        Map<String, Set<String>> sessionsBySocket = new LinkedHashMap<>();
        Matcher matcher = connected.matcher(link.destination().log());
        while (matcher.find()) {
            socketsBySession
                    .computeIfAbsent(matcher.group(1), s -> new TreeSet<>())
                    .add(matcher.group(3));
            sessionsBySocket
                    .computeIfAbsent(matcher.group(3), s -> new TreeSet<>())
                    .add(matcher.group(1));
        }
        List<String> expectedSessions = new ArrayList<>();
        for (Guest guest : GUESTS) {
            String session = sessions.get(guest).path("id").asText();
            String socket = link.destination()
                    .migrationSocket(DwcpLink.B, announced.get(guest).id())
                    .toString();
            expectedSessions.add(session);
            assertEquals(
                    Set.of(socket),
                    socketsBySession.get(session),
                    guest + ": session " + session + " connected to other QEMUs than its own migration's:\n"
                            + link.logs());
            assertEquals(
                    Set.of(session), sessionsBySocket.get(socket), guest + ": sessions that connected to " + socket);
            // multifd: the main channel and its four channels, all at that one socket
            int connections = (int)
                    Pattern.compile("\\[session=" + session + " peer=a role=destination] connected QEMU connection")
                            .matcher(link.destination().log())
                            .results()
                            .count();
            if (!guest.killed()) {
                assertEquals(
                        guest.mode() == NativeMode.MULTIFD ? 1 + NativeMode.MULTIFD_CHANNELS : 1,
                        connections,
                        guest + ": QEMU connections of session " + session);
            }
        }
        assertEquals(
                new TreeSet<>(expectedSessions),
                new TreeSet<>(socketsBySession.keySet()),
                "the destination sessions that connected to a QEMU");
    }
}
