package io.dwcp.testbed.guest;

/**
 * What the guest's workload does: fill {@code memoryMiB} of memory with a mix of text, binary,
 * structured and zero pages, then rewrite pages of a hot set ({@code hotPercent} of them) at
 * {@code pagesPerSecond}. All content derives from {@code seed}. Reaches the guest through the
 * kernel command line ({@link GuestImage#kernelCommandLine}).
 *
 * <p>The guest needs about {@code memoryMiB + 200} MiB of RAM (kernel, page cache, tables).
 */
public record WorkloadSpec(int memoryMiB, int pagesPerSecond, int hotPercent, long seed) {
    public static final int PAGE_SIZE = 4096;

    public WorkloadSpec {
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

    public WorkloadSpec withMemoryMiB(int memoryMiB) {
        return new WorkloadSpec(memoryMiB, pagesPerSecond, hotPercent, seed);
    }

    public WorkloadSpec withPagesPerSecond(int pagesPerSecond) {
        return new WorkloadSpec(memoryMiB, pagesPerSecond, hotPercent, seed);
    }

    public WorkloadSpec withSeed(long seed) {
        return new WorkloadSpec(memoryMiB, pagesPerSecond, hotPercent, seed);
    }

    /** Pages the workload fills. */
    public long pages() {
        return (long) memoryMiB * (1 << 20) / PAGE_SIZE;
    }

    /** The workload's parameters, as they appear on the kernel command line. */
    public String kernelParameters() {
        return "dwcp.mem=" + memoryMiB + " dwcp.rate=" + pagesPerSecond + " dwcp.hot=" + hotPercent
                + " dwcp.seed=" + seed;
    }
}
