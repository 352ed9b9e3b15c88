package io.dwcp.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The --evacuate benchmark's shaping: the command's output read, the rows derived, the table, the JSON. */
class BenchEvacuationTest {
    /** What the harness reads: dwcp evacuate's lines, each stamped with the epoch milliseconds it came at. */
    private static final String OUTPUT = String.join(
            "\n",
            "1000000 Evacuating a (3 running domains) to b; policy itp",
            "1002000 Starting vm-1 -> b (slot 1/2 to b; 1 running)",
            "1002050 Starting vm-2 -> b (slot 2/2 to b; 2 running)",
            "1005000 vm-1: 40% 100 MiB ...",
            "1012000 Ended vm-1 -> b: moved in 10.0 s (slot 1/2 to b free; 1 running)",
            "1012100 Not starting vm-3: its earlier VM vm-2 was not moved; it keeps running on this host",
            "1030500 Ended vm-2 -> b: failed in 28.4 s, it keeps running on this host (slot 2/2 to b free; 0 running)",
            "1030600 VM   TO  OUTCOME  TIME  DOWNTIME  REASON",
            "garbage without a stamp");

    @Test
    void timelineReadsStartsEndsOutcomesAndTheMakespan() {
        EvacuationTable.Timeline timeline = EvacuationTable.timeline(OUTPUT);
        assertEquals(28_500, timeline.makespanMs());
        assertEquals("moved", timeline.outcome("vm-1"));
        assertEquals("failed", timeline.outcome("vm-2"));
        assertEquals("not started", timeline.outcome("vm-3"));
        assertEquals("not started", timeline.outcome("vm-unknown"));
        assertEquals(10_000, timeline.timeMs("vm-1"));
        assertEquals(28_400, timeline.timeMs("vm-2"));
        assertEquals(-1, timeline.timeMs("vm-3"));
        assertEquals(0, timeline.startOffsetMs("vm-1"));
        assertEquals(50, timeline.startOffsetMs("vm-2"));
        assertEquals(-1, timeline.startOffsetMs("vm-3"));
        assertEquals(-1, EvacuationTable.timeline("1000 Evacuating a\n").makespanMs());
    }

    @Test
    void theClosingTableHasTheLastWordOnOutcomes() {
        // the closing table as dwcp evacuate prints it (EvacuateCommand.table)
        String format = "%-16s %-10s %-16s %8s %9s  %s";
        String output = String.join(
                "\n",
                "1000 Starting vm-long-name-1 -> b (slot 1/1 in all (serial); 1 running)",
                "61000 Ended vm-long-name-1 -> b: moved in 60.0 s (slot 1/1 in all (serial) free; 0 running)",
                "61001 " + String.format(format, "VM", "TO", "OUTCOME", "TIME", "DOWNTIME", "REASON"),
                "61002 "
                        + String.format(format, "vm-long-name-1", "b", "moved", "60.0 s", "-", "")
                                .stripTrailing(),
                "61003 " + String.format(format, "vm-long-name-2", "-", "refused", "-", "-", "cannot converge"),
                "61004 " + String.format(format, "vm-long-name-3", "-", "not started", "-", "-", "its earlier VM"),
                "61005 (downtime: libvirt does not report it to dwcp)",
                "61006 Moved 1 of 3 domains; the others keep running on this host.");
        EvacuationTable.Timeline timeline = EvacuationTable.timeline(output);
        assertEquals("moved", timeline.outcome("vm-long-name-1"));
        assertEquals("refused", timeline.outcome("vm-long-name-2"));
        assertEquals("not started", timeline.outcome("vm-long-name-3"));
        assertEquals(
                Set.of("vm-long-name-1", "vm-long-name-2", "vm-long-name-3"),
                timeline.outcomes().keySet());
        assertEquals(60_000, timeline.makespanMs());
    }

    @Test
    void downtimeComesFromLibvirtsCompletedJobInfo() {
        String info = String.join(
                "\n",
                "Job type:         Completed",
                "Operation:        Incoming migration",
                "Time elapsed:     23456        ms",
                "Total downtime:   187          ms",
                "Downtime w/o network: 180          ms");
        assertEquals(Optional.of(187L), EvacuationTable.downtimeMs(info));
        assertEquals(Optional.empty(), EvacuationTable.downtimeMs("Job type:         None"));
    }

    @Test
    void rowSumsDowntimeOfMovedVmsAndCountsWhereTheyRun() {
        EvacuationRun run = EvacuationRun.of("S2", "itp", 5, 28_500, 40_000, 3L << 30, "", vms());
        assertEquals(3, run.guests());
        assertEquals(EvacuationRun.RAN, run.status());
        assertEquals(1, run.moved());
        assertEquals(2, run.leftAtSource());
        assertEquals(3, run.intact());
        // only the moved VM's downtime counts; the failed one's figure (none) is not a downtime
        assertEquals(187, run.totalDowntimeMs());
        assertEquals(187, run.worstDowntimeMs());

        EvacuationRun two = EvacuationRun.of(
                "S2",
                "serial",
                0,
                1,
                1,
                0,
                "",
                List.of(
                        vm("x", "moved", 300, "b", true),
                        vm("y", "moved", 120, "b", false),
                        vm("z", "moved", -1, "b", true)));
        assertEquals(420, two.totalDowntimeMs());
        assertEquals(300, two.worstDowntimeMs());
        assertEquals(0, two.leftAtSource());
        assertEquals(2, two.intact());

        EvacuationRun none =
                EvacuationRun.of("S2", "serial", 5, -1, 1, 0, "", List.of(vm("x", "failed", -1, "a", true)));
        assertEquals(-1, none.totalDowntimeMs());
        assertEquals(-1, none.worstDowntimeMs());
    }

    @Test
    void jsonHasTheRowsFieldsAndReadsBack() throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        List<EvacuationRun> rows = List.of(
                EvacuationRun.of("S2", "itp", 5, 28_500, 40_000, 3L << 30, "", vms()),
                EvacuationRun.error("S2", "serial", 3, "a guest did not boot"));
        String json = mapper.writeValueAsString(rows);
        JsonNode tree = mapper.readTree(json);
        Set<String> fields = iterable(tree.get(0).fieldNames());
        assertTrue(
                fields.containsAll(Set.of(
                        "scenario",
                        "policy",
                        "guests",
                        "status",
                        "exit_code",
                        "makespan_ms",
                        "command_ms",
                        "total_downtime_ms",
                        "worst_downtime_ms",
                        "moved",
                        "left_at_source",
                        "intact",
                        "wire_bytes",
                        "vms")),
                fields.toString());
        assertTrue(
                iterable(tree.get(0).get("vms").get(0).fieldNames())
                        .containsAll(Set.of(
                                "name",
                                "ram_mib",
                                "workload_mib",
                                "pages_per_s",
                                "outcome",
                                "time_ms",
                                "start_ms",
                                "downtime_ms",
                                "runs_on",
                                "intact")),
                tree.get(0).get("vms").toString());
        assertEquals(28_500, tree.get(0).get("makespan_ms").asLong());
        assertEquals("error", tree.get(1).get("status").asText());
        assertEquals(rows, List.of(mapper.readValue(json, EvacuationRun[].class)));
    }

    @Test
    void tableHasOneRowPerPolicyInOrderThenOnePerVm() {
        List<EvacuationRun> rows = List.of(
                EvacuationRun.of("S2", "all-at-once", 0, 61_000, 75_000, 1L << 30, "", vms()),
                EvacuationRun.error("S2", "serial", 3, "a guest did not boot"),
                EvacuationRun.of("S2", "itp", 5, 28_500, 40_000, 3L << 30, "", vms()));
        String table = EvacuationTable.render(rows);
        List<String> lines = table.lines().toList();
        assertTrue(lines.get(0).startsWith("scen policy"), table);
        assertTrue(lines.get(1).startsWith("S2   itp "), table);
        assertTrue(lines.get(2).startsWith("S2   serial       3      error: a guest did not boot"), table);
        assertTrue(lines.get(3).startsWith("S2   all-at-once "), table);
        // makespan, command time, moved, left, intact, downtime sum/max, wire MiB, exit
        assertTrue(lines.get(1).matches("S2 +itp +3 +28\\.5 +40\\.0 +1/3 +2 +3/3 +187/187 +3072 +5"), lines.get(1));
        assertTrue(table.contains("vm-1"), table);
        long vmRows = lines.stream().filter(l -> l.contains(" vm-")).count();
        assertEquals(6, vmRows, table);
        assertTrue(
                lines.stream().anyMatch(l -> l.matches("S2 +itp +vm-3 +512 +256 2500 +- +- +- +not started +a +yes")),
                table);
    }

    @Test
    void mixHasEverySizeAndDirtyRateAndFitsTheMachine() {
        List<EvacuateBench.GuestSpec> six = EvacuateBench.mix(6);
        assertEquals(6, six.size());
        assertEquals(
                6,
                six.stream()
                        .map(g -> g.ramMiB() + "/" + g.workload().pagesPerSecond())
                        .collect(Collectors.toSet())
                        .size());
        assertEquals(
                2304, six.stream().mapToInt(EvacuateBench.GuestSpec::ramMiB).sum());
        for (EvacuateBench.GuestSpec guest : six) {
            assertEquals(guest.ramMiB() / 2, guest.workload().memoryMiB());
        }
        assertEquals(6, six.stream().map(g -> g.workload().seed()).distinct().count());
    }

    private static List<EvacuationRun.Vm> vms() {
        return List.of(
                new EvacuationRun.Vm("vm-1", 256, 128, 500, "moved", 10_000, 0, 187, "b", true, ""),
                new EvacuationRun.Vm("vm-2", 384, 192, 2500, "failed", 28_400, 50, -1, "a", true, ""),
                new EvacuationRun.Vm("vm-3", 512, 256, 2500, "not started", -1, -1, -1, "a", true, ""));
    }

    private static EvacuationRun.Vm vm(String name, String outcome, long downtime, String runsOn, boolean intact) {
        return new EvacuationRun.Vm(name, 256, 128, 500, outcome, 1000, 0, downtime, runsOn, intact, "");
    }

    private static Set<String> iterable(java.util.Iterator<String> names) {
        Set<String> set = new java.util.HashSet<>();
        names.forEachRemaining(set::add);
        return set;
    }
}
