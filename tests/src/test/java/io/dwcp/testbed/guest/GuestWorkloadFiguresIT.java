package io.dwcp.testbed.guest;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.testbed.qemu.QemuBinary;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Measures the full-size guest under TCG: boot to READY, verification time, achieved dirty rate,
 * for the light and heavy workloads in both QEMU versions. About two minutes; not part of the
 * default run (tests/pom.xml excludes *FiguresIT): run it with {@code -Dit.test=GuestWorkloadFiguresIT}.
 * Prints a table.
 */
class GuestWorkloadFiguresIT {
    @Test
    void measure(@TempDir Path dir) throws Exception {
        GuestImage image = GuestImage.build();
        List<String> rows = new ArrayList<>();
        rows.add(String.format(
                "%-5s %-6s %9s %9s %9s %9s %9s %9s",
                "qemu", "spec", "ready_s", "fill_ms", "verify_ms", "verify_s", "target/s", "rate/s"));
        int run = 0;
        for (QemuBinary qemu : QemuBinary.values()) {
            for (String name : List.of("light", "heavy")) {
                WorkloadSpec spec = name.equals("light") ? WorkloadSpec.light() : WorkloadSpec.heavy();
                Path runDir = Files.createDirectories(dir.resolve("run" + run++));
                try (GuestImageIT.BootedGuest guest = GuestImageIT.BootedGuest.boot(qemu, image, spec, runDir)) {
                    GuestConsole console = guest.console();
                    GuestConsole.Ready ready = console.awaitReady(Duration.ofSeconds(120));
                    double readySeconds = (System.nanoTime() - guest.startNanos()) / 1e9;
                    long from = console.lineCount();
                    String stats = console.awaitLine(
                            from,
                            l -> GuestConsole.workloadLine(l).startsWith("STATS "),
                            "STATS",
                            Duration.ofSeconds(30));
                    long start = System.nanoTime();
                    Verdict verdict = console.requestVerdict(Duration.ofSeconds(120));
                    double verifySeconds = (System.nanoTime() - start) / 1e9;
                    assertTrue(verdict.intact(), verdict.detail());
                    rows.add(String.format(
                            "%-5s %-6s %9.1f %9d %9d %9.1f %9d %9d",
                            qemu.label(),
                            name,
                            readySeconds,
                            ready.fillMillis(),
                            GuestConsole.field(GuestConsole.MARKER + verdict.detail(), "verify_ms")
                                    .orElse(-1),
                            verifySeconds,
                            spec.pagesPerSecond(),
                            GuestConsole.field(stats, "rate").orElse(-1)));
                    System.out.println(rows.get(rows.size() - 1) + "   " + stats.strip());
                }
            }
        }
        System.out.println(String.join("\n", rows));
    }
}
