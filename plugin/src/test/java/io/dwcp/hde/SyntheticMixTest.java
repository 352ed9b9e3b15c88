package io.dwcp.hde;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.luben.zstd.Zstd;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Compression on the workload-like mix (text, binary, structured, zero: a quarter each), as a
 * migration sees it: a first pass over 16 MiB with the dictionary trained in-band on the first
 * 4 MiB, then a second pass of the dirty pages (a fifth of the pages got a record written, one in
 * fifty got new content). Prints frame bytes per stream byte per tier and level, next to plain zstd
 * of the same bytes in 256 KiB chunks.
 */
class SyntheticMixTest {
    private static final int PAGES = 4096;

    @Test
    void compressionByTierAndLevel() {
        WorkloadPages workload = new WorkloadPages(3);
        byte[][] first = new byte[PAGES][];
        for (int p = 0; p < PAGES; p++) {
            first[p] = workload.page(p);
        }
        Random random = new Random(3);
        byte[][] memory = Arrays.stream(first).map(byte[]::clone).toArray(byte[][]::new);
        boolean[] dirty = new boolean[PAGES];
        for (int i = 0; i < PAGES / 5; i++) {
            int p = random.nextInt(PAGES);
            workload.write(p, i + 1, memory[p], 0);
            dirty[p] = true;
        }
        for (int i = 0; i < PAGES / 50; i++) {
            int p = random.nextInt(PAGES);
            memory[p] = workload.page(PAGES + i);
            dirty[p] = true;
        }
        long firstStream = (long) PAGES * 4096;
        long dirtyPages = 0;
        for (boolean d : dirty) {
            dirtyPages += d ? 1 : 0;
        }
        long zstd1 = chunkedZstd(first, 1);
        long zstd3 = chunkedZstd(first, 3);
        System.out.printf(
                "synthetic mix, %d pages: plain zstd per 256 KiB: level 1 %.1f%%, level 3 %.1f%%%n",
                PAGES, 100.0 * zstd1 / firstStream, 100.0 * zstd3 / firstStream);
        int[][] settings = {{1, 0}, {2, 1}, {3, 1}, {3, 3}, {3, 9}, {3, 19}};
        for (int[] setting : settings) {
            HdeConfig config = new HdeConfig().setTier(setting[0]).setTier3InitialLevel(Math.max(1, setting[1]));
            try (Loopback loop = new Loopback(config)) {
                for (int p = 0; p < PAGES; p++) {
                    loop.page("pc.ram", p * 4096L, new byte[0], first[p]);
                }
                loop.encoder.flush();
                long firstBytes = loop.frameBytes;
                long[] firstLevels = levels(loop.stats);
                for (int p = 0; p < PAGES; p++) {
                    if (dirty[p]) {
                        loop.page("pc.ram", p * 4096L, new byte[0], memory[p]);
                    }
                }
                loop.encoder.flush();
                long secondBytes = loop.frameBytes - firstBytes;
                long[] all = levels(loop.stats);
                assertArrayEquals(loop.original.toByteArray(), loop.decoded.toByteArray());
                System.out.printf(
                        "  tier %d level %-4s first pass %5.1f%% [zero %d page %d], dirty pass (%d pages) %5.1f%% [delta %d page %d ref %d]%s%n",
                        setting[0],
                        setting[0] == 1 ? "raw" : Integer.toString(setting[1]),
                        100.0 * firstBytes / firstStream,
                        firstLevels[0],
                        firstLevels[3],
                        dirtyPages,
                        100.0 * secondBytes / (dirtyPages * 4096),
                        all[2] - firstLevels[2],
                        all[3] - firstLevels[3],
                        all[1] - firstLevels[1],
                        loop.stats.dictionariesTrained() > 0
                                ? String.format(
                                        ", dictionary trained in %d ms",
                                        loop.stats.dictionaryTrainingNanos() / 1_000_000)
                                : "");
                if (setting[0] != 1) {
                    // one zstd stream per encoder (hde.zstd-window): no dictionary is trained for it
                    assertEquals(0, loop.stats.dictionariesTrained());
                    assertTrue(secondBytes < dirtyPages * 4096 / 10, "dirty pass: " + secondBytes);
                }
            }
        }
    }

    private static long[] levels(HdeStats stats) {
        return new long[] {
            stats.pages(PageLevel.ZERO),
            stats.pages(PageLevel.REFERENCE),
            stats.pages(PageLevel.DELTA),
            stats.pages(PageLevel.PAGE)
        };
    }

    private static long chunkedZstd(byte[][] pages, int level) {
        long total = 0;
        int perChunk = 64;
        for (int p = 0; p < pages.length; p += perChunk) {
            byte[] chunk = new byte[perChunk * 4096];
            for (int i = 0; i < perChunk; i++) {
                System.arraycopy(pages[p + i], 0, chunk, i * 4096, 4096);
            }
            total += Zstd.compress(chunk, level).length;
        }
        return total;
    }
}
