package io.dwcp.hde;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.config.DataSize;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two migrations of one VM: the first records a baseline at the source (host A); the VM runs on B,
 * changes a tenth of its memory, and migrates back to A, which announces the baseline. The second
 * migration sends references for what A still holds and must be far smaller.
 */
class BaselineMigrationTest {
    private static final int PAGES = 4096; // a 16 MiB guest

    @TempDir
    Path directory;

    @Test
    void secondMigrationUsesTheBaseline() throws IOException {
        HdeConfig config = new HdeConfig().setBaselineDirectory(directory).setBaselineSizeLimit(DataSize.ofMiB(64));
        WorkloadPages workload = new WorkloadPages(42);
        byte[][] memory = new byte[PAGES][];
        for (int p = 0; p < PAGES; p++) {
            memory[p] = workload.page(p);
        }
        BaselineStore hostA = new BaselineStore(config);

        // A -> B: no baseline; A records what it sends
        long firstBytes;
        try (Loopback first = new Loopback(config);
                BaselineRecorder recorder = hostA.record("vm-42")) {
            for (int p = 0; p < PAGES; p++) {
                first.page("pc.ram", p * 4096L, new byte[0], memory[p]);
                recorder.page("pc.ram", p * 4096L, memory[p], 0);
            }
            first.encoder.flush();
            assertArrayEquals(first.original.toByteArray(), first.decoded.toByteArray());
            firstBytes = first.frameBytes;
            recorder.commit();
        }

        // on B: 10 % of the pages get a record written, 2 % are replaced by new content
        Random random = new Random(42);
        for (int i = 0; i < PAGES / 10; i++) {
            int p = random.nextInt(PAGES);
            workload.write(p, i + 1, memory[p], 0);
        }
        for (int i = 0; i < PAGES / 50; i++) {
            memory[random.nextInt(PAGES)] = workload.page(PAGES + i);
        }

        // B -> A: A announces the baseline, B's encoder references it, A's decoder reads it
        // and with deltas: B's own copy of that memory (here the same file) says what each page was
        long secondBytes;
        long withoutBaselineBytes;
        long withDeltasBytes;
        HdeStats secondStats;
        HdeStats deltaStats;
        try (StoredBaseline baseline = hostA.open("vm-42");
                Loopback second = new Loopback(config, List.of(baseline.announcement()), List.of(baseline), false);
                Loopback withDeltas = new Loopback(config, List.of(baseline.announcement()), List.of(baseline), false);
                Loopback control = new Loopback(config)) {
            withDeltas.encoder.useBaselineVersions(new RecordedVersions(List.of(baseline)));
            for (int p = 0; p < PAGES; p++) {
                second.page("pc.ram", p * 4096L, new byte[0], memory[p]);
                withDeltas.page("pc.ram", p * 4096L, new byte[0], memory[p]);
                control.page("pc.ram", p * 4096L, new byte[0], memory[p]);
            }
            second.encoder.flush();
            withDeltas.encoder.flush();
            control.encoder.flush();
            assertArrayEquals(second.original.toByteArray(), second.decoded.toByteArray());
            assertArrayEquals(withDeltas.original.toByteArray(), withDeltas.decoded.toByteArray());
            secondBytes = second.frameBytes;
            withDeltasBytes = withDeltas.frameBytes;
            withoutBaselineBytes = control.frameBytes;
            secondStats = second.stats;
            deltaStats = withDeltas.stats;
        }
        System.out.printf(
                "baseline migration, %d pages (%d MiB): first %d bytes, second without baseline %d, with baseline %d (%.1f%% of first; %d references)%n",
                PAGES,
                PAGES * 4096L >> 20,
                firstBytes,
                withoutBaselineBytes,
                secondBytes,
                100.0 * secondBytes / firstBytes,
                secondStats.pages(PageLevel.REFERENCE));
        assertTrue(
                secondBytes * 5 < firstBytes,
                "with a baseline: " + secondBytes + " bytes, first migration: " + firstBytes);
        System.out.printf(
                "with deltas against the baseline's versions: %d bytes (%.1f%% of first; %d references, %d deltas, %d whole pages)%n",
                withDeltasBytes,
                100.0 * withDeltasBytes / firstBytes,
                deltaStats.pages(PageLevel.REFERENCE),
                deltaStats.pages(PageLevel.BASELINE_DELTA),
                deltaStats.pages(PageLevel.PAGE));
        // most pages that got a record written go as deltas (not those the baseline held as zero,
        // nor the replaced ones)
        long baselineDeltas = deltaStats.pages(PageLevel.BASELINE_DELTA) + deltaStats.pages(PageLevel.BASELINE_ZSTD);
        assertTrue(baselineDeltas > PAGES / 20, "deltas: " + baselineDeltas);
        assertTrue(
                deltaStats.pages(PageLevel.PAGE) < baselineDeltas,
                "whole pages: " + deltaStats.pages(PageLevel.PAGE) + ", deltas: " + baselineDeltas);
        assertEquals(
                0,
                secondStats.pages(PageLevel.BASELINE_DELTA) + secondStats.pages(PageLevel.BASELINE_ZSTD),
                "no deltas without the source's own versions");
        assertTrue(
                withDeltasBytes * 3 < secondBytes,
                "with deltas: " + withDeltasBytes + " bytes, references alone: " + secondBytes);
    }

    /**
     * A page whose content moved within it (a database page whose row was rewritten elsewhere in the
     * page) makes an XOR delta of most of the page: it goes as a zstd frame against the baseline's
     * version (BASE_ZSTD), a small change still as an XOR delta, and new content whole.
     */
    @Test
    void movedContentGoesAsZstdAgainstTheBaselinesVersion() throws IOException {
        HdeConfig config = new HdeConfig().setBaselineDirectory(directory).setBaselineSizeLimit(DataSize.ofMiB(64));
        int pages = 256;
        Random random = new Random(7);
        byte[][] memory = new byte[pages][];
        BaselineStore hostA = new BaselineStore(config);
        try (BaselineRecorder recorder = hostA.record("vm-7")) {
            for (int p = 0; p < pages; p++) {
                // random bytes: nothing but the baseline's version can shrink them
                memory[p] = new byte[4096];
                random.nextBytes(memory[p]);
                recorder.page("pc.ram", p * 4096L, memory[p], 0);
            }
            recorder.commit();
        }
        byte[][] now = new byte[pages][];
        for (int p = 0; p < pages; p++) {
            now[p] = memory[p].clone();
            switch (p % 4) {
                case 0 -> {
                    // 40 new bytes at 300: everything after moves by 40
                    byte[] inserted = new byte[40];
                    random.nextBytes(inserted);
                    System.arraycopy(memory[p], 300, now[p], 340, 4096 - 340);
                    System.arraycopy(inserted, 0, now[p], 300, 40);
                }
                case 1 -> now[p][1000] ^= 1; // a counter: an XOR delta of one word
                case 2 -> random.nextBytes(now[p]); // new content
                default -> {} // unchanged: a reference
            }
        }
        try (StoredBaseline baseline = hostA.open("vm-7");
                Loopback back = new Loopback(config, List.of(baseline.announcement()), List.of(baseline), false)) {
            back.encoder.useBaselineVersions(new RecordedVersions(List.of(baseline)));
            for (int p = 0; p < pages; p++) {
                back.page("pc.ram", p * 4096L, new byte[0], now[p]);
            }
            back.encoder.flush();
            assertArrayEquals(back.original.toByteArray(), back.decoded.toByteArray());
            assertEquals(pages / 4, back.stats.pages(PageLevel.BASELINE_ZSTD), "moved content");
            assertEquals(pages / 4, back.stats.pages(PageLevel.BASELINE_DELTA), "one changed word");
            assertEquals(pages / 4, back.stats.pages(PageLevel.PAGE), "new content");
            assertEquals(pages / 4, back.stats.pages(PageLevel.REFERENCE), "unchanged");
            // the version's index and a zstd frame of the 40 new bytes and two matches, not a page
            long perMovedPage = back.stats.pageBytesOut(PageLevel.BASELINE_ZSTD) / (pages / 4);
            assertTrue(perMovedPage < 128, "a moved page's record: " + perMovedPage + " bytes");
            // kind, block, offset (up to 3 bytes), header length and an index of up to 2 bytes into
            // the 256 announced hashes: at most 8 bytes, where the hash alone is 16
            long references = back.stats.pageBytesOut(PageLevel.REFERENCE);
            assertTrue(references <= pages / 4 * 8, "references: " + references + " bytes");
        }
    }
}
