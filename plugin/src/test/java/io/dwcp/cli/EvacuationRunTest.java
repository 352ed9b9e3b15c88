package io.dwcp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.itp.ConcurrencyLearner;
import io.dwcp.itp.Destination;
import io.dwcp.itp.Evacuation;
import io.dwcp.itp.Link;
import io.dwcp.itp.OrderConstraint;
import io.dwcp.itp.Plan;
import io.dwcp.itp.Planner;
import io.dwcp.itp.SlotScheduler;
import io.dwcp.itp.Vm;
import io.dwcp.pba.GoodputPredictor;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The slot-by-slot run of a plan, against the hand-written libvirt and dwcpd: starts, ends, outcomes, exit codes. */
class EvacuationRunTest {
    private static final long GIB = 1L << 30;

    private final FakeLibvirt libvirt = new FakeLibvirt();
    private final FakeDwcpd dwcpd = new FakeDwcpd();
    private final AtomicReference<Runnable> interruptHandler = new AtomicReference<>();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final MigrateCommand.Environment base = new MigrateCommand.Environment(
            libvirt,
            socket -> dwcpd,
            interruptHandler::set,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            false,
            120,
            Duration.ofMillis(10),
            Duration.ofSeconds(10));
    private final Dwcpd.Peer beta = new Dwcpd.Peer("beta", "192.0.2.20:7470", "/run/dwcp/peer/beta.sock");
    private final Map<String, GoodputPredictor> predictors = Map.of("beta", new FakePredictor());
    private Optional<ConcurrencyLearner> learner = Optional.empty();

    EvacuationRunTest() {
        dwcpd.migrationPerDomain = true;
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    /** A running domain whose migration lasts {@code polls} progress samples. */
    private FakeLibvirt.FakeDomain domain(String name, long memory, double dirtyBytesPerSecond, int polls) {
        return libvirt.addMigrating(name, memory, dirtyBytesPerSecond, polls);
    }

    private static Evacuation evacuation(List<Vm> vms, List<OrderConstraint> orders) {
        return new Evacuation(
                vms,
                List.of(new Destination("beta", Long.MAX_VALUE / 4, 1 << 20)),
                Map.of("beta", new Link("beta", 12.5e6, Duration.ZERO, 12.5e6)),
                12.5e6,
                orders,
                Duration.ofMillis(300));
    }

    private EvacuationRun run(SlotScheduler.Mode mode, OptionalLong timeout) {
        EvacuationView view = new EvacuationView(base.out());
        return new EvacuationRun(
                base,
                dwcpd,
                new SlotScheduler(mode, OptionalInt.empty()),
                new LinkMeters(predictors, System::nanoTime),
                new Replanner(
                        new Planner(),
                        new SlotScheduler(mode, OptionalInt.empty()),
                        dwcpd,
                        view,
                        predictors,
                        System::nanoTime),
                view,
                new EvacuationRun.Settings(
                        "qemu:///system", "qemu+tls://{host}/system", timeout, MigrateCommand.Progress.NONE),
                learner,
                System::nanoTime);
    }

    private ExitCode run(Evacuation evacuation, SlotScheduler.Mode mode) {
        Plan plan = new Planner().plan(evacuation);
        return run(mode, OptionalLong.empty()).run(plan, evacuation, List.of(beta));
    }

    @Test
    void serialRunsEachVmInTheOneSlotAndEndsWithTheTable() {
        domain("vm1", GIB, 0, 2);
        domain("vm2", GIB, 0, 2);
        Evacuation evacuation = evacuation(List.of(Vm.of("vm1", GIB, 0), Vm.of("vm2", GIB, 0)), List.of());
        assertEquals(ExitCode.OK, run(evacuation, SlotScheduler.Mode.SERIAL), out());
        List<String> progress = out().lines()
                .filter(line -> line.startsWith("Starting ") || line.startsWith("Ended "))
                .toList();
        assertEquals(4, progress.size(), out());
        assertTrue(progress.get(0).matches("Starting vm[12] -> beta \\(slot 1/1 in all \\(serial\\); 1 running\\)"));
        assertTrue(
                progress.get(1)
                        .matches(
                                "Ended vm[12] -> beta: moved in [0-9.]+ s \\(slot 1/1 in all \\(serial\\) free; 0 running\\)"),
                progress.get(1));
        assertEquals(1, libvirt.maxRunning.get());
        assertTrue(out().lines().anyMatch(line -> line.matches("vm1 +beta +moved +[0-9.]+ s +-")), out());
        assertTrue(out().endsWith("Moved 2 of 2 domains." + System.lineSeparator()), out());
        assertTrue(dwcpd.calls.contains("release m-vm1"), dwcpd.calls.toString());
    }

    @Test
    void allAtOnceStartsEveryVmInItsOwnSlot() {
        domain("vm1", GIB, 0, 3);
        domain("vm2", GIB, 0, 3);
        domain("vm3", GIB, 0, 3);
        Evacuation evacuation =
                evacuation(List.of(Vm.of("vm1", GIB, 0), Vm.of("vm2", GIB, 0), Vm.of("vm3", GIB, 0)), List.of());
        assertEquals(ExitCode.OK, run(evacuation, SlotScheduler.Mode.ALL_AT_ONCE), out());
        List<String> starts =
                out().lines().filter(line -> line.startsWith("Starting ")).toList();
        assertEquals(3, starts.size(), out());
        for (int i = 0; i < 3; i++) {
            assertTrue(
                    starts.get(i).endsWith("(slot " + (i + 1) + " to beta, all at once; " + (i + 1) + " running)"),
                    starts.toString());
        }
    }

    @Test
    void withTheLearnerItpRunsOneMigrationUntilItsRateIsMeasured() {
        for (String name : List.of("vm1", "vm2", "vm3")) {
            domain(name, GIB, 0, 4);
        }
        Evacuation evacuation =
                evacuation(List.of(Vm.of("vm1", GIB, 0), Vm.of("vm2", GIB, 0), Vm.of("vm3", GIB, 0)), List.of());
        Plan plan = new Planner().plan(evacuation);
        assertTrue(plan.concurrency().get("beta") >= 2, "the plan's slots: " + plan.concurrency());
        // migrations of a few 10 ms polls: never measured over the learner's 10 s, so never more than one at once
        learner = Optional.of(new ConcurrencyLearner());
        assertEquals(
                ExitCode.OK, run(SlotScheduler.Mode.ITP, OptionalLong.empty()).run(plan, evacuation, List.of(beta)));
        assertEquals(1, libvirt.maxRunning.get(), out());
        assertEquals(3, out().lines().filter(line -> line.startsWith("Ended ")).count(), out());
        assertTrue(out().lines().noneMatch(line -> line.startsWith("Concurrency: ")), out());
        assertTrue(out().contains("Moved 3 of 3 domains."), out());
    }

    @Test
    void aRefusedVmAndOneAfterAFailedVmAreNotMoved() {
        domain("db", GIB, 0, 2).ending = FakeLibvirt.Ending.FAIL;
        domain("app", GIB / 2, 0, 2);
        domain("hot", GIB, 200e6, 2);
        Evacuation evacuation = evacuation(
                List.of(Vm.of("db", GIB, 0), Vm.of("app", GIB / 2, 0), Vm.of("hot", GIB, 200e6)),
                List.of(new OrderConstraint("db", "app")));
        assertEquals(ExitCode.MIGRATION_FAILED, run(evacuation, SlotScheduler.Mode.ITP), out());
        assertFalse(libvirt.calls.contains("migrate app"), libvirt.calls.toString());
        assertFalse(libvirt.calls.contains("migrate hot"), libvirt.calls.toString());
        assertTrue(
                out().contains("Not starting app: not started: it comes after db (--after), which was not moved; "
                        + "it keeps running on this host"),
                out());
        assertTrue(
                out().lines().anyMatch(line -> line.matches("hot +- +refused +- +- +cannot converge by pre-copy.*")));
        assertTrue(out().lines().anyMatch(line -> line.matches("db +beta +failed +[0-9.]+ s +- +migration of 'db'.*")));
        assertTrue(out().contains("Moved 0 of 3 domains; the others keep running on this host."), out());
    }

    @Test
    void aCtrlCAbortsTheRunningMigrationAndStartsNoMore() {
        domain("vm1", GIB, 0, 50).onSecondPoll = () -> interruptHandler.get().run();
        domain("vm2", GIB / 2, 0, 2);
        Evacuation evacuation = evacuation(List.of(Vm.of("vm1", GIB, 0), Vm.of("vm2", GIB / 2, 0)), List.of());
        assertEquals(ExitCode.INTERRUPTED, run(evacuation, SlotScheduler.Mode.SERIAL), out());
        assertTrue(libvirt.calls.contains("abortJob vm1"), libvirt.calls.toString());
        assertFalse(libvirt.calls.contains("migrate vm2"), libvirt.calls.toString());
        assertTrue(
                out().lines()
                        .anyMatch(line ->
                                line.matches("vm2 +- +not started +- +- +interrupted \\(Ctrl-C\\) before it started")),
                out());
    }

    @Test
    void eachMigrationIsAskedAsDwcpMigrateAsksIt() {
        Evacuation evacuation = evacuation(List.of(Vm.of("vm1", GIB, 0)), List.of());
        Plan.Step step = new Planner().plan(evacuation).step("vm1");
        MigrationRun.Request request =
                run(SlotScheduler.Mode.ITP, OptionalLong.of(90)).request(step, beta);
        assertEquals(
                new MigrationRun.Request(
                        "vm1",
                        "beta",
                        "qemu:///system",
                        "qemu+tls://192.0.2.20/system",
                        MigrateCommand.LIVE
                                | MigrateCommand.PEER2PEER
                                | MigrateCommand.PERSIST_DEST
                                | MigrateCommand.UNDEFINE_SOURCE,
                        OptionalInt.empty(),
                        OptionalLong.empty(),
                        OptionalLong.of(90)),
                request);
    }
}
