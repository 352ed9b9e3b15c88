package io.dwcp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.itp.Destination;
import io.dwcp.itp.OrderConstraint;
import io.dwcp.itp.Vm;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** What {@code dwcp evacuate} gathers before it plans: destinations, name checks, dirty rates, links and their notes. */
class EvacuationInputsTest {
    private static final long GIB = 1L << 30;

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final AtomicLong clock = new AtomicLong();
    private final EvacuationInputs inputs = new EvacuationInputs(
            new PrintStream(bytes, true, StandardCharsets.UTF_8), Duration.ofMillis(10), 2, 100, clock::get);
    private final Dwcpd.Peer beta = new Dwcpd.Peer("beta", "192.0.2.20:7470", "/run/dwcp/peer/beta.sock");
    private final Dwcpd.Peer gamma = new Dwcpd.Peer("gamma", "192.0.2.30:7470", "/run/dwcp/peer/gamma.sock");
    private final Dwcpd.Status status = new Dwcpd.Status("alpha", List.of(beta, gamma));

    private String out() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static Dwcpd.Region region(List<Dwcpd.Host> hosts, List<Dwcpd.Link> links) {
        return new Dwcpd.Region("eu", "alpha", "alpha", 10, true, 3, hosts, 10, links, 10, List.of());
    }

    @Test
    void destinationsAreEveryPeerOrThoseNamedOnce() throws Exception {
        assertEquals(List.of(beta, gamma), EvacuationInputs.destinations(status, null));
        assertEquals(List.of(beta, gamma), EvacuationInputs.destinations(status, List.of()));
        assertEquals(List.of(gamma, beta), EvacuationInputs.destinations(status, List.of("gamma", "beta", "gamma")));
    }

    @Test
    void destinationsThatCannotBeAreAborts() {
        EvacuateCommand.Abort none = assertThrows(
                EvacuateCommand.Abort.class,
                () -> EvacuationInputs.destinations(new Dwcpd.Status("alpha", List.of()), null));
        assertEquals(ExitCode.DWCPD_UNAVAILABLE, none.code);
        assertEquals(
                "dwcpd alpha has no peers to evacuate to; add peer.NAME.address to its configuration",
                none.getMessage());
        EvacuateCommand.Abort unknown = assertThrows(
                EvacuateCommand.Abort.class, () -> EvacuationInputs.destinations(status, List.of("omega")));
        assertEquals(ExitCode.DWCPD_UNAVAILABLE, unknown.code);
        assertTrue(unknown.getMessage().startsWith("--to omega: "), unknown.getMessage());
    }

    @Test
    void groupAndAfterNamesAreChecked() throws Exception {
        List<String> domains = List.of("app", "db", "web1", "web2");
        EvacuationInputs.checkNames(domains, List.of("web1,web2"), List.of("app:db"));
        assertEquals(
                "--group needs two or more VMs, comma-separated: web1",
                assertThrows(
                                EvacuateCommand.UsageException.class,
                                () -> EvacuationInputs.checkNames(domains, List.of("web1"), List.of()))
                        .getMessage());
        assertEquals(
                "--group: 'web1' is in two groups",
                assertThrows(
                                EvacuateCommand.UsageException.class,
                                () -> EvacuationInputs.checkNames(domains, List.of("web1,web2", "web1,app"), List.of()))
                        .getMessage());
        assertEquals(
                "--group web1,vm9: 'vm9' is not a running domain here (running: app, db, web1, web2)",
                assertThrows(
                                EvacuateCommand.UsageException.class,
                                () -> EvacuationInputs.checkNames(domains, List.of("web1,vm9"), List.of()))
                        .getMessage());
        for (String bad : List.of("app", "app:", ":db", "a:b:c")) {
            assertEquals(
                    "--after must be VM:EARLIER: '" + bad + "'",
                    assertThrows(
                                    EvacuateCommand.UsageException.class,
                                    () -> EvacuationInputs.checkNames(domains, List.of(), List.of(bad)))
                            .getMessage());
        }
        assertEquals(
                "--after app:vm9: 'vm9' is not a running domain here (running: app, db, web1, web2)",
                assertThrows(
                                EvacuateCommand.UsageException.class,
                                () -> EvacuationInputs.checkNames(domains, List.of(), List.of("app:vm9")))
                        .getMessage());
    }

    @Test
    void measuresEveryDomainAndNotesTheFailures() throws Exception {
        FakeLibvirt libvirt = new FakeLibvirt();
        libvirt.add("db").dirtyBytesPerSecond = 2e6;
        libvirt.add("web").memoryBytes = 2 * GIB;
        libvirt.add("old").dirtyRateFailure = "The command calc-dirty-rate has not been found";
        Map<String, Long> memory = new LinkedHashMap<>();
        Map<String, Double> dirty = new LinkedHashMap<>();
        List<String> notes = new ArrayList<>();
        inputs.measure(libvirt.open("qemu:///system"), List.of("db", "web", "old"), memory, dirty, notes);
        assertEquals(Map.of("db", GIB, "web", 2 * GIB, "old", GIB), memory);
        assertEquals(Map.of("db", 2e6, "web", 0.0, "old", 0.0), dirty);
        assertEquals(
                List.of(
                        "old: dirty rate unknown (QEMU monitor of 'old': The command calc-dirty-rate has not been found); planned as 0"),
                notes);
        assertEquals(
                "Measuring the dirty rate of 2 domains over 2 s (QEMU calc-dirty-rate)" + System.lineSeparator(),
                out());
        assertTrue(libvirt.calls.contains("calc-dirty-rate db 2"), libvirt.calls.toString());
    }

    @Test
    void aMeasurementNotDoneInTimeIsPlannedAsZero() throws Exception {
        FakeLibvirt libvirt = new FakeLibvirt();
        libvirt.add("slow").dirtyBytesPerSecond = 5e6;
        Map<String, Long> memory = new LinkedHashMap<>();
        Map<String, Double> dirty = new LinkedHashMap<>();
        List<String> notes = new ArrayList<>();
        // every look at the clock is 20 s later: past the deadline (2 + 10 s) at the first check
        EvacuationInputs late = new EvacuationInputs(
                new PrintStream(bytes, true, StandardCharsets.UTF_8),
                Duration.ofMillis(10),
                2,
                100,
                () -> clock.addAndGet(20_000_000_000L));
        late.measure(libvirt.open("qemu:///system"), List.of("slow"), memory, dirty, notes);
        assertEquals(Map.of("slow", 0.0), dirty);
        assertEquals(List.of("slow: dirty rate unknown (QEMU's measurement not done after 12 s); planned as 0"), notes);
        assertEquals(
                "Measuring the dirty rate of 1 domain over 2 s (QEMU calc-dirty-rate)" + System.lineSeparator(), out());
    }

    @Test
    void linksWithoutAControlPlaneAreAssumedAtTheLinkRate() {
        List<String> notes = new ArrayList<>();
        EvacuationInputs.Links links = inputs.links(List.of(beta), Optional.empty(), notes);
        assertEquals(12.5e6, links.links().get("beta").bytesPerSecond());
        assertEquals(Duration.ZERO, links.links().get("beta").rtt());
        assertEquals(
                List.of(new Destination("beta", EvacuationInputs.UNKNOWN_FREE_MEMORY, EvacuationInputs.UNKNOWN_SLOTS)),
                links.hosts());
        assertTrue(
                !links.predictors().get("beta").predict(Duration.ofSeconds(60)).known());
        assertEquals(
                List.of(
                        "link to beta: no measurement (no control plane); assumed 100.0 Mbit/s (--link-rate)",
                        "destinations' free memory: not known to dwcpd, not checked (libvirt refuses a VM that does not fit; it stays here)",
                        "uplink: not measured; taken as the sum of the links"),
                notes);
    }

    @Test
    void theControlPlanesMeasurementAndCapacityAreUsed() {
        List<String> notes = new ArrayList<>();
        Dwcpd.Region region = region(
                List.of(new Dwcpd.Host("beta", "192.0.2.20:7470", 4, "0.1.0", "ab", 1)),
                List.of(
                        new Dwcpd.Link("alpha", "beta", 20_000, 50_000_000, 0, 1),
                        new Dwcpd.Link("beta", "gamma", 1_000, 1, 0, 1)));
        EvacuationInputs.Links links = inputs.links(List.of(beta, gamma), Optional.of(region), notes);
        assertEquals(50e6, links.links().get("beta").bytesPerSecond());
        assertEquals(Duration.ofMillis(20), links.links().get("beta").rtt());
        assertEquals(4, links.hosts().get(0).slots());
        assertEquals(EvacuationInputs.UNKNOWN_SLOTS, links.hosts().get(1).slots());
        assertEquals(12.5e6, links.links().get("gamma").bytesPerSecond());
        assertEquals(
                400e6,
                links.predictors().get("beta").predict(Duration.ofSeconds(60)).bitsPerSecond(),
                1);
        assertEquals("link to beta: 400.0 Mbit/s measured by the control plane (RTT 20.0 ms)", notes.get(0));
        assertEquals(
                "link to gamma: no measurement (the control plane has none for it); assumed 100.0 Mbit/s (--link-rate)",
                notes.get(1));
    }

    @Test
    void withoutTheCatalogueTheVmsArePlannedWithoutBaselinesAndTheNoteSaysWhy() {
        FakeDwcpd dwcpd = new FakeDwcpd();
        List<String> notes = new ArrayList<>();
        assertEquals(Optional.empty(), EvacuationInputs.catalogue(dwcpd, Optional.empty(), List.of("db"), notes));
        assertEquals(List.of(), dwcpd.calls, "no control plane: not asked");
        assertEquals(
                List.of("baselines held at the destinations: not known without a control plane; planned without"),
                notes);
        notes.clear();
        Dwcpd.Region region = region(List.of(), List.of());
        assertEquals(Optional.empty(), EvacuationInputs.catalogue(dwcpd, Optional.of(region), List.of("db"), notes));
        assertEquals(List.of("regionBaselines eu db"), dwcpd.calls);
        assertEquals(
                List.of("baselines held at the destinations: the region's catalogue is not available (dwcpd at "
                        + "unix:/run/dwcp/control.sock answered 404 to GET /v1/regions/eu/baselines: dwcpd alpha runs no "
                        + "control plane (set region.name): it knows no region's baselines); planned without"),
                notes);
        List<Vm> vms = List.of(Vm.of("db", 4 * GIB, 1e6));
        assertEquals(vms, EvacuationInputs.withBaselines(vms, List.of(beta, gamma), Optional.empty(), notes));
    }

    @Test
    void theCataloguesBaselinesAtTheDestinationsBecomeTheVmsSharesHeld() {
        FakeDwcpd dwcpd = new FakeDwcpd();
        dwcpd.regionBaselines = new Dwcpd.RegionBaselines(
                "eu",
                "alpha",
                List.of(
                        // 3 GiB of a 4 GiB VM, 10 min old, dirtying 1 MiB/s: 75% x exp(-600 / 4096)
                        new Dwcpd.HeldBaseline("db", "beta", 3 * GIB, 1, 600_000),
                        // larger than the VM (its file holds hashes and addresses too): all of it, fresh
                        new Dwcpd.HeldBaseline("web", "gamma", 2 * GIB, 1, 0),
                        // not a destination of this evacuation
                        new Dwcpd.HeldBaseline("db", "delta", 4 * GIB, 1, 0),
                        // this host's own
                        new Dwcpd.HeldBaseline("web", "alpha", GIB, 1, 0)),
                120,
                5000);
        List<String> notes = new ArrayList<>();
        Optional<Dwcpd.RegionBaselines> catalogue = EvacuationInputs.catalogue(
                dwcpd, Optional.of(region(List.of(), List.of())), List.of("db", "web", "idle"), notes);
        assertEquals(List.of("regionBaselines eu db,web,idle"), dwcpd.calls);
        assertEquals(List.of(), notes);
        List<Vm> vms = EvacuationInputs.withBaselines(
                List.of(Vm.of("db", 4 * GIB, 1 << 20), Vm.of("web", GIB, 5e6), Vm.of("idle", GIB, 0)),
                List.of(beta, gamma),
                catalogue,
                notes);
        double db = 0.75 * Math.exp(-600.0 / 4096);
        assertEquals(List.of(new Vm.Baseline("beta", db)), vms.get(0).baselines());
        assertEquals(4 * GIB * (1 - db), vms.get(0).firstRoundBytes("beta"), 1);
        assertEquals(4 * GIB, vms.get(0).firstRoundBytes("gamma"), 1e-6);
        assertEquals(List.of(new Vm.Baseline("gamma", 1.0)), vms.get(1).baselines());
        assertEquals(List.of(), vms.get(2).baselines());
        assertEquals(
                List.of(
                        "baseline of db on beta: 3.0 GiB, taken 10m00s ago; planned as 65% of its memory held there "
                                + "(its size 75% of the VM's memory, 86% of that unchanged at its dirty rate)",
                        "baseline of web on gamma: 2.0 GiB, taken 0s ago; planned as 100% of its memory held there "
                                + "(its size 100% of the VM's memory, 100% of that unchanged at its dirty rate)"),
                notes);
        notes.clear();
        dwcpd.regionBaselines = new Dwcpd.RegionBaselines("eu", "alpha", List.of(), 120, 5000);
        List<Vm> none = List.of(Vm.of("db", 4 * GIB, 0));
        assertEquals(
                none,
                EvacuationInputs.withBaselines(
                        none,
                        List.of(beta),
                        EvacuationInputs.catalogue(
                                dwcpd, Optional.of(region(List.of(), List.of())), List.of("db"), notes),
                        notes));
        assertEquals(
                List.of(
                        "baselines held at the destinations: none of these VMs (region eu's catalogue, read 120 ms ago)"),
                notes);
    }

    @Test
    void anOldBaselineOfABusyGuestCountsForLittle() {
        assertEquals(1.0, EvacuationInputs.unchanged(3_600_000, GIB, 0), 1e-12);
        assertEquals(Math.exp(-1), EvacuationInputs.unchanged(1024_000, GIB, 1 << 20), 1e-12);
        assertTrue(EvacuationInputs.unchanged(86_400_000, GIB, 1 << 20) < 1e-30);
        assertEquals(0.5, EvacuationInputs.coverage(GIB / 2, GIB), 1e-12);
        assertEquals(1.0, EvacuationInputs.coverage(2 * GIB, GIB), 1e-12);
    }

    @Test
    void vmsCarryTheirGroupAndOrdersTheirEarlierVm() {
        List<Vm> vms = EvacuationInputs.vms(
                List.of("app", "web1", "web2"),
                Map.of("app", GIB, "web1", GIB / 2, "web2", GIB / 4),
                Map.of("app", 1e6, "web1", 0.0, "web2", 0.0),
                List.of("web1,web2"));
        assertEquals(List.of("app", "web1", "web2"), vms.stream().map(Vm::id).toList());
        assertEquals(Vm.of("app", GIB, 1e6), vms.get(0));
        assertEquals(Vm.of("web1", GIB / 2, 0).inGroup("g1(web1,web2)"), vms.get(1));
        assertEquals(Vm.of("web2", GIB / 4, 0).inGroup("g1(web1,web2)"), vms.get(2));
        assertEquals(List.of(new OrderConstraint("db", "app")), EvacuationInputs.orders(List.of("app:db")));
    }
}
