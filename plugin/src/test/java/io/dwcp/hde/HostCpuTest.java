package io.dwcp.hde;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostCpuTest {
    private static final long SECOND = 1_000_000_000L;

    @TempDir
    Path dir;

    @Test
    void idleAndIowaitAreIdleEverythingElseBusy() {
        // user nice system idle iowait irq softirq steal guest guest_nice
        assertArrayEquals(
                new long[] {100 + 5 + 50 + 3 + 2 + 1, 100 + 5 + 50 + 800 + 40 + 3 + 2 + 1},
                HostCpu.parse("cpu  100 5 50 800 40 3 2 1 70 0"));
        assertNull(HostCpu.parse("cpu0 100 5 50 800 40 3 2 1 0 0"));
        assertNull(HostCpu.parse("intr 1 2 3 4 5"));
    }

    @Test
    void theBusyShareOfTheWindow() throws IOException {
        Path stat = dir.resolve("stat");
        HostCpu cpu = new HostCpu(stat, 4 * SECOND);
        write(stat, 0, 0);
        assertTrue(Double.isNaN(cpu.busyShare(0)), "one sample: nothing to compare with");
        write(stat, 95, 100); // 95 of 100 ticks busy
        assertEquals(0.95, cpu.busyShare(SECOND), 1e-9);
        write(stat, 105, 200); // then 10 of 100
        assertEquals(0.525, cpu.busyShare(2 * SECOND), 1e-9);
        write(stat, 125, 400);
        assertEquals(125.0 / 400, cpu.busyShare(3 * SECOND), 1e-9);
        // past the window the oldest sample goes: from second 1 on
        write(stat, 135, 500);
        assertEquals((135.0 - 95) / (500 - 100), cpu.busyShare(5 * SECOND), 1e-9);
    }

    @Test
    void unreadableIsUnknown() {
        HostCpu cpu = new HostCpu(dir.resolve("missing"), 4 * SECOND);
        assertTrue(Double.isNaN(cpu.busyShare(0)));
        assertTrue(Double.isNaN(cpu.busyShare(SECOND)));
    }

    /** A /proc/stat whose cpu line has {@code busy} busy ticks of {@code all}. */
    private static void write(Path stat, long busy, long all) throws IOException {
        Files.writeString(stat, "cpu  " + busy + " 0 0 " + (all - busy) + " 0 0 0 0 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n");
    }
}
