package io.dwcp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dwcp.itp.Destination;
import io.dwcp.itp.Evacuation;
import io.dwcp.itp.Link;
import io.dwcp.itp.Plan;
import io.dwcp.itp.SlotScheduler;
import io.dwcp.itp.Vm;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** The lines {@code dwcp evacuate} prints, character for character: the integration test and the bench parse them. */
class EvacuationViewTest {
    private static final String NL = System.lineSeparator();

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final EvacuationView view = new EvacuationView(new PrintStream(bytes, true, StandardCharsets.UTF_8));

    private String out() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static Plan plan(Map<String, Integer> concurrency) {
        return new Plan(List.of(), List.of(), concurrency, Map.of("beta", 12.5e6), 12.5e6, 0);
    }

    private static Evacuation evacuation(String... vms) {
        return new Evacuation(
                java.util.Arrays.stream(vms).map(vm -> Vm.of(vm, 1L << 30, 0)).toList(),
                List.of(new Destination("beta", Long.MAX_VALUE / 4, 4)),
                Map.of("beta", new Link("beta", 12.5e6, Duration.ZERO, 12.5e6)),
                12.5e6,
                List.of(),
                Duration.ofMillis(300));
    }

    @Test
    void progressLinesReadAsTheParsersExpect() {
        view.notStarting("app", "not started: it comes after db (--after), which was not moved");
        view.starting("vm1", "beta", "slot 2/3 to beta", 2);
        view.ended(
                "vm1",
                "beta",
                new MigrationRun.Result(ExitCode.OK, Optional.empty(), Duration.ofMillis(12_340), 10, 5),
                "slot 2/3 to beta",
                1);
        view.ended(
                "vm2",
                "gamma",
                MigrationRun.Result.before(ExitCode.MIGRATION_FAILED, "boom"),
                "slot 1/1 in all (serial)",
                0);
        assertEquals(
                "Not starting app: not started: it comes after db (--after), which was not moved; it keeps running on this host"
                        + NL
                        + "Starting vm1 -> beta (slot 2/3 to beta; 2 running)" + NL
                        + "Ended vm1 -> beta: moved in 12.3 s (slot 2/3 to beta free; 1 running)" + NL
                        + "Ended vm2 -> gamma: failed in 0.0 s, it keeps running on this host"
                        + " (slot 1/1 in all (serial) free; 0 running)" + NL,
                out());
    }

    @Test
    void slotsReadPerPolicy() {
        Plan plan = plan(Map.of("beta", 3));
        assertEquals(
                "slot 2/3 to beta",
                EvacuationView.slot(new SlotScheduler(SlotScheduler.Mode.ITP, OptionalInt.empty()), plan, "beta", 2));
        assertEquals(
                "slot 1/3 to beta, at most 2 in all",
                EvacuationView.slot(new SlotScheduler(SlotScheduler.Mode.ITP, OptionalInt.of(2)), plan, "beta", 1));
        assertEquals(
                "slot 1/1 in all (serial)",
                EvacuationView.slot(
                        new SlotScheduler(SlotScheduler.Mode.SERIAL, OptionalInt.empty()), plan, "beta", 1));
        assertEquals(
                "slot 4 to beta, all at once",
                EvacuationView.slot(
                        new SlotScheduler(SlotScheduler.Mode.ALL_AT_ONCE, OptionalInt.empty()), plan, "beta", 4));
        assertEquals(
                "slot 4 to beta, at most 5 in all",
                EvacuationView.slot(
                        new SlotScheduler(SlotScheduler.Mode.ALL_AT_ONCE, OptionalInt.of(5)), plan, "beta", 4));
    }

    @Test
    void outcomesAndRates() {
        assertEquals("moved", EvacuationView.outcome(MigrationRun.Result.before(ExitCode.OK, "")));
        assertEquals("failed", EvacuationView.outcome(MigrationRun.Result.before(ExitCode.MIGRATION_FAILED, "")));
        assertEquals("interrupted", EvacuationView.outcome(MigrationRun.Result.before(ExitCode.INTERRUPTED, "")));
        assertEquals(
                "refused by dwcpd", EvacuationView.outcome(MigrationRun.Result.before(ExitCode.DWCPD_UNAVAILABLE, "")));
        assertEquals("libvirt error", EvacuationView.outcome(MigrationRun.Result.before(ExitCode.LIBVIRT_ERROR, "")));
        assertEquals("usage error", EvacuationView.outcome(MigrationRun.Result.before(ExitCode.USAGE, "")));
        assertEquals("100.0 Mbit/s", EvacuationView.rate(12.5e6));
        assertEquals("0.1 Mbit/s", EvacuationView.rate(12_500));
    }

    @Test
    void theTableAndTheCount() {
        Map<String, EvacuationView.Outcome> outcomes = new LinkedHashMap<>();
        outcomes.put(
                "db",
                new EvacuationView.Outcome("db", "beta", "moved", Duration.ofMillis(1500), Optional.empty(), true));
        outcomes.put(
                "app",
                new EvacuationView.Outcome(
                        "app", "-", "refused", Duration.ZERO, Optional.of("cannot converge by pre-copy"), false));
        long moved = view.summary(evacuation("db", "app"), outcomes);
        assertEquals(1, moved);
        assertEquals(
                "VM               TO         OUTCOME              TIME  DOWNTIME  REASON" + NL
                        + "db               beta       moved               1.5 s         -" + NL
                        + "app              -          refused                 -         -  cannot converge by pre-copy"
                        + NL
                        + "(downtime: libvirt does not report it to dwcp; 'virsh domjobinfo --completed' on the"
                        + " destination shows it)" + NL
                        + "Moved 1 of 2 domains; the others keep running on this host." + NL,
                out());
    }

    @Test
    void allMovedSaysNoMore() {
        Map<String, EvacuationView.Outcome> outcomes = Map.of(
                "db",
                new EvacuationView.Outcome("db", "beta", "moved", Duration.ofMillis(1500), Optional.empty(), true));
        assertEquals(1, view.summary(evacuation("db"), outcomes));
        assertEquals("Moved 1 of 1 domains.", out().lines().reduce((a, b) -> b).orElseThrow());
    }

    @Test
    void theHeadingNamesThePolicyAndTheNotes() {
        view.plan(
                "alpha",
                1,
                List.of("beta", "gamma"),
                "serial",
                EvacuateCommand.Policy.SERIAL,
                3,
                List.of("uplink: not measured; taken as the sum of the links"),
                plan(Map.of("beta", 1)));
        List<String> lines = out().lines().toList();
        assertEquals(
                "Evacuating alpha (1 running domain) to beta, gamma; policy serial, at most 3 at once", lines.get(0));
        assertEquals("  uplink: not measured; taken as the sum of the links", lines.get(1));
        assertEquals(
                "Policy serial: the planner's destinations and order, one migration at a time; the predicted times above "
                        + "are those of the itp policy",
                lines.get(lines.size() - 1));
    }

    @Test
    void theItpHeadingHasNoPolicyLine() {
        view.plan("alpha", 2, List.of("beta"), "itp", EvacuateCommand.Policy.ITP, null, List.of(), plan(Map.of()));
        List<String> lines = out().lines().toList();
        assertEquals("Evacuating alpha (2 running domains) to beta; policy itp", lines.get(0));
        assertEquals(
                0, lines.stream().filter(line -> line.startsWith("Policy ")).count(), out());
    }

    @Test
    void aReplanSaysWhy() {
        view.replanned(3, List.of("beta 100.0 Mbit/s -> 40.0 Mbit/s"), plan(Map.of()));
        assertEquals(
                "Re-planned the 3 VMs not yet started (running ones go on): predicted link goodput moved "
                        + "(beta 100.0 Mbit/s -> 40.0 Mbit/s)",
                out().lines().findFirst().orElseThrow());
    }

    @Test
    void aChangeOfConcurrencySaysWhy() {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        EvacuationView view =
                new EvacuationView(new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8));
        view.concurrency(new io.dwcp.itp.ConcurrencyLearner.Change(2, 1, 6.2e6, 6e6, true));
        assertEquals(
                "Concurrency: 2 migrations at once processed 49.6 Mbit/s, 1 processed 48.0 Mbit/s: the second gained "
                        + "1.6 Mbit/s, less than 50% of one migration's 48.0 Mbit/s; at most 1 at once from now (this host "
                        + "does not gain from more)"
                        + System.lineSeparator(),
                bytes.toString(java.nio.charset.StandardCharsets.UTF_8));
    }
}
