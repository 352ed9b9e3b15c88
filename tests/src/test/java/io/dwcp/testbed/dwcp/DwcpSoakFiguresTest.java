package io.dwcp.testbed.dwcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The arithmetic and parsing {@link DwcpSoakIT} judges the daemons' memory by. */
class DwcpSoakFiguresTest {
    @Test
    void leastSquaresGivesTheMeanAndTheSlope() {
        double[] flat = DwcpSoakIT.leastSquares(11, List.of(100L, 120L, 80L, 100L));
        assertEquals(100, flat[0], 1e-9);
        assertEquals(-4, flat[1], 1e-9); // (-0.5 * 20 + 0.5 * -20) / (2.25 + 0.25 + 0.25 + 2.25)
        // residuals -6, 18, -18, 6 about the line: sqrt(720 / (4 - 2) / 5)
        assertEquals(Math.sqrt(72), flat[2], 1e-9);
        double[] rising = DwcpSoakIT.leastSquares(11, List.of(1000L, 1002L, 1004L, 1006L, 1008L));
        assertEquals(1004, rising[0], 1e-9);
        assertEquals(2, rising[1], 1e-9);
        assertEquals(0, rising[2], 1e-9);
        assertEquals(0, DwcpSoakIT.leastSquares(11, List.of(5L))[1]);
    }

    @Test
    void heapResidentCountsOnlyTheMappingsInsideTheHeapsRange() {
        String heapInfo = " garbage-first heap   total 65536K, used 33000K [0x00000000d0000000, 0x0000000100000000)\n"
                + "  region size 1024K, 5 young (5120K), 0 survivors (0K)\n";
        String smaps = String.join(
                "\n",
                "00400000-00401000 r-xp 00000000 08:01 123 /usr/bin/java",
                "Size:                  4 kB",
                "Rss:                   4 kB",
                "d0000000-d4000000 rw-p 00000000 00:00 0 ",
                "Size:              65536 kB",
                "Rss:               63000 kB",
                "d4000000-100000000 ---p 00000000 00:00 0 ",
                "Size:             720896 kB",
                "Rss:                   0 kB",
                "100000000-100100000 rw-p 00000000 00:00 0 ",
                "Size:               1024 kB",
                "Rss:                1024 kB",
                "7f0000000000-7f0000100000 rw-p 00000000 00:00 0 ",
                "Rss:                 512 kB");
        assertEquals(63000, DwcpSoakIT.heapResidentKiB(heapInfo, smaps));
        assertThrows(AssertionError.class, () -> DwcpSoakIT.heapResidentKiB("no heap here", smaps));
    }
}
