package io.dwcp.testbed.guest;

/**
 * What the guest's workload does. The synthetic program fills {@code memoryMiB} of memory with a
 * mix of text, binary, structured and zero pages, then rewrites pages of a hot set
 * ({@code hotPercent} of them) at {@code pagesPerSecond}. The SQLite program builds a database of
 * {@code memoryMiB} in the guest's page cache and runs {@code pagesPerSecond} transfers a second
 * against it ({@code hotPercent} is unused). All content derives from {@code seed}. Reaches the
 * guest through the kernel command line ({@link GuestImage#kernelCommandLine}).
 *
 * <p>The guest needs about {@code memoryMiB + 200} MiB of RAM (kernel, page cache, tables).
 */
public record WorkloadSpec(int memoryMiB, int pagesPerSecond, int hotPercent, long seed, Program program) {
    public static final int PAGE_SIZE = 4096;

    /** Which program the guest runs. */
    public enum Program {
        /** {@code tests/src/main/c/workload.c}: page classes of a server's heap, a paced hot set. */
        SYNTHETIC,
        /** {@code tests/src/main/c/appload.c}: a SQLite database of real text under transfers. */
        SQLITE
    }

    public WorkloadSpec(int memoryMiB, int pagesPerSecond, int hotPercent, long seed) {
        this(memoryMiB, pagesPerSecond, hotPercent, seed, Program.SYNTHETIC);
    }

    public WorkloadSpec {
        if (program == null) {
            throw new IllegalArgumentException("program is null");
        }
        if (memoryMiB < 1 || memoryMiB > 1 << 20) {
            throw new IllegalArgumentException("memoryMiB must be 1..1048576, not " + memoryMiB);
        }
        if (pagesPerSecond < 0) {
            throw new IllegalArgumentException("pagesPerSecond must be >= 0, not " + pagesPerSecond);
        }
        if (hotPercent < 0 || hotPercent > 100) {
            throw new IllegalArgumentException("hotPercent must be 0..100, not " + hotPercent);
        }
        if (seed < 0) {
            throw new IllegalArgumentException("seed must be >= 0, not " + seed);
        }
    }

    /** 512 MiB written, 5000 pages/s (about 20 MB/s) over a 10 % hot set. */
    public static WorkloadSpec light() {
        return new WorkloadSpec(512, 5_000, 10, 1);
    }

    /** 512 MiB written, 40000 pages/s (about 160 MB/s) over a 25 % hot set. */
    public static WorkloadSpec heavy() {
        return new WorkloadSpec(512, 40_000, 25, 1);
    }

    /**
     * A server's database: SQLite (Debian's library) with 256 MiB of accounts whose profiles are
     * real English text, in the page cache, under 300 transfers a second (two UPDATEs and two
     * INSERTs each, WAL journal); checked by SQLite's quick_check and sums the program keeps.
     */
    public static WorkloadSpec app() {
        return new WorkloadSpec(256, 300, 0, 1, Program.SQLITE);
    }

    public WorkloadSpec withMemoryMiB(int memoryMiB) {
        return new WorkloadSpec(memoryMiB, pagesPerSecond, hotPercent, seed, program);
    }

    public WorkloadSpec withPagesPerSecond(int pagesPerSecond) {
        return new WorkloadSpec(memoryMiB, pagesPerSecond, hotPercent, seed, program);
    }

    public WorkloadSpec withSeed(long seed) {
        return new WorkloadSpec(memoryMiB, pagesPerSecond, hotPercent, seed, program);
    }

    /** Pages the workload fills. */
    public long pages() {
        return (long) memoryMiB * (1 << 20) / PAGE_SIZE;
    }

    /** The workload's parameters, as they appear on the kernel command line. */
    public String kernelParameters() {
        return (program == Program.SQLITE ? "dwcp.program=sqlite " : "") + "dwcp.mem=" + memoryMiB + " dwcp.rate="
                + pagesPerSecond + " dwcp.hot=" + hotPercent + " dwcp.seed=" + seed;
    }
}
