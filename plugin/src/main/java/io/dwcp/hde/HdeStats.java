package io.dwcp.hde;

import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters and timings of HDE encoders and decoders (thread-safe): one per session, adding
 * everything it counts to the daemon's as well ({@link #HdeStats(HdeStats)}), so that a session's
 * zstd level follows its own figures ({@link LevelController}) and its report is its own. Per page level: pages, bytes in (header + 4096) and bytes out (the
 * record in the uncompressed body). Per compression level ({@link #NO_COMPRESSION} for raw
 * frames): frames, body and frame bytes, stream bytes in and encoder time spent while that level
 * was set (what {@link LevelController} measures speed and ratio from).
 */
public final class HdeStats {
    /** The compression level of raw (tier 1, or incompressible) frames. */
    public static final int NO_COMPRESSION = Integer.MIN_VALUE;

    private static final int MIN_LEVEL = -7;
    private static final int MAX_LEVEL = 22;
    private static final int LEVEL_SLOTS = MAX_LEVEL - MIN_LEVEL + 2;

    private final AtomicLongArray pages = new AtomicLongArray(PageLevel.values().length);
    private final AtomicLongArray pageBytesIn = new AtomicLongArray(PageLevel.values().length);
    private final AtomicLongArray pageBytesOut = new AtomicLongArray(PageLevel.values().length);
    private final LongAdder rawBytesIn = new LongAdder();
    private final LongAdder rawBytesOut = new LongAdder();

    private final AtomicLongArray levelFrames = new AtomicLongArray(LEVEL_SLOTS);
    private final AtomicLongArray levelBodyBytes = new AtomicLongArray(LEVEL_SLOTS);
    private final AtomicLongArray levelFrameBytes = new AtomicLongArray(LEVEL_SLOTS);
    private final AtomicLongArray levelInputBytes = new AtomicLongArray(LEVEL_SLOTS);
    private final AtomicLongArray levelEncodeNanos = new AtomicLongArray(LEVEL_SLOTS);

    private final LongAdder framesEncoded = new LongAdder();
    private final LongAdder frameBytesEncoded = new LongAdder();
    private final LongAdder encodeNanos = new LongAdder();
    private final LongAdder framesDecoded = new LongAdder();
    private final LongAdder frameBytesDecoded = new LongAdder();
    private final LongAdder bytesDecoded = new LongAdder();
    private final LongAdder decodeNanos = new LongAdder();
    private final LongAdder dictionariesTrained = new LongAdder();
    private final LongAdder dictionaryTrainingFailures = new LongAdder();
    private final LongAdder dictionaryTrainingNanos = new LongAdder();
    private final LongAdder baselineReferences = new LongAdder();
    private final HdeStats parent;

    /** Counters of their own (a daemon's). */
    public HdeStats() {
        this.parent = null;
    }

    /** A session's counters: whatever they count is counted by {@code parent} too. */
    public HdeStats(HdeStats parent) {
        this.parent = java.util.Objects.requireNonNull(parent, "parent is null");
    }

    /** One measured compression level, for {@link LevelController}. */
    public record LevelSample(int level, long inputBytes, long frameBytes, long encodeNanos) {
        /** Stream bytes encoded per second of encoder time; 0 if nothing measured. */
        public double inputBytesPerSecond() {
            return encodeNanos == 0 ? 0 : inputBytes * 1e9 / encodeNanos;
        }

        /** Frame bytes per stream byte (lower is better); 1 if nothing measured. */
        public double ratio() {
            return inputBytes == 0 ? 1 : (double) frameBytes / inputBytes;
        }
    }

    static int slot(int level) {
        if (level == NO_COMPRESSION) {
            return 0;
        }
        if (level < MIN_LEVEL || level > MAX_LEVEL) {
            throw new IllegalArgumentException("zstd level out of range: " + level);
        }
        return level - MIN_LEVEL + 1;
    }

    void page(PageLevel level, long bytesIn, long bytesOut) {
        pages.incrementAndGet(level.ordinal());
        pageBytesIn.addAndGet(level.ordinal(), bytesIn);
        pageBytesOut.addAndGet(level.ordinal(), bytesOut);
        if (parent != null) {
            parent.page(level, bytesIn, bytesOut);
        }
    }

    /** A REF record whose content came from a baseline the destination announced (not this migration's cache). */
    void baselineReference() {
        baselineReferences.increment();
        if (parent != null) {
            parent.baselineReference();
        }
    }

    /** Pages sent as references to a baseline the destination held before the migration. */
    public long baselineReferences() {
        return baselineReferences.sum();
    }

    void raw(long bytesIn, long bytesOut) {
        rawBytesIn.add(bytesIn);
        rawBytesOut.add(bytesOut);
        if (parent != null) {
            parent.raw(bytesIn, bytesOut);
        }
    }

    void input(int level, long bytes, long nanos) {
        levelInputBytes.addAndGet(slot(level), bytes);
        levelEncodeNanos.addAndGet(slot(level), nanos);
        encodeNanos.add(nanos);
        if (parent != null) {
            parent.input(level, bytes, nanos);
        }
    }

    void frameEncoded(int level, long bodyBytes, long frameBytes, long nanos) {
        int slot = slot(level);
        levelFrames.incrementAndGet(slot);
        levelBodyBytes.addAndGet(slot, bodyBytes);
        levelFrameBytes.addAndGet(slot, frameBytes);
        levelEncodeNanos.addAndGet(slot, nanos);
        framesEncoded.increment();
        frameBytesEncoded.add(frameBytes);
        encodeNanos.add(nanos);
        if (parent != null) {
            parent.frameEncoded(level, bodyBytes, frameBytes, nanos);
        }
    }

    void controlFrameEncoded(long frameBytes) {
        framesEncoded.increment();
        frameBytesEncoded.add(frameBytes);
        if (parent != null) {
            parent.controlFrameEncoded(frameBytes);
        }
    }

    void frameDecoded(long frameBytes, long outputBytes, long nanos) {
        framesDecoded.increment();
        frameBytesDecoded.add(frameBytes);
        bytesDecoded.add(outputBytes);
        decodeNanos.add(nanos);
        if (parent != null) {
            parent.frameDecoded(frameBytes, outputBytes, nanos);
        }
    }

    void dictionaryTrained(long nanos) {
        dictionariesTrained.increment();
        dictionaryTrainingNanos.add(nanos);
        if (parent != null) {
            parent.dictionaryTrained(nanos);
        }
    }

    void dictionaryTrainingFailed(long nanos) {
        dictionaryTrainingFailures.increment();
        dictionaryTrainingNanos.add(nanos);
        if (parent != null) {
            parent.dictionaryTrainingFailed(nanos);
        }
    }

    public long pages(PageLevel level) {
        return pages.get(level.ordinal());
    }

    public long pageBytesIn(PageLevel level) {
        return pageBytesIn.get(level.ordinal());
    }

    public long pageBytesOut(PageLevel level) {
        return pageBytesOut.get(level.ordinal());
    }

    public long rawBytesIn() {
        return rawBytesIn.sum();
    }

    public long rawBytesOut() {
        return rawBytesOut.sum();
    }

    /** Stream bytes given to encoders (pages with their headers, and raw bytes). */
    public long bytesIn() {
        long sum = rawBytesIn.sum();
        for (PageLevel level : PageLevel.values()) {
            sum += pageBytesIn(level);
        }
        return sum;
    }

    public long framesEncoded() {
        return framesEncoded.sum();
    }

    /** Bytes of all frames written (what the tunnel carries). */
    public long frameBytesEncoded() {
        return frameBytesEncoded.sum();
    }

    public long encodeNanos() {
        return encodeNanos.sum();
    }

    public long framesDecoded() {
        return framesDecoded.sum();
    }

    public long frameBytesDecoded() {
        return frameBytesDecoded.sum();
    }

    /** Stream bytes handed out by decoders. */
    public long bytesDecoded() {
        return bytesDecoded.sum();
    }

    public long decodeNanos() {
        return decodeNanos.sum();
    }

    public long dictionariesTrained() {
        return dictionariesTrained.sum();
    }

    public long dictionaryTrainingFailures() {
        return dictionaryTrainingFailures.sum();
    }

    public long dictionaryTrainingNanos() {
        return dictionaryTrainingNanos.sum();
    }

    public long levelFrames(int level) {
        return levelFrames.get(slot(level));
    }

    public long levelBodyBytes(int level) {
        return levelBodyBytes.get(slot(level));
    }

    public long levelFrameBytes(int level) {
        return levelFrameBytes.get(slot(level));
    }

    public LevelSample levelSample(int level) {
        int slot = slot(level);
        return new LevelSample(level, levelInputBytes.get(slot), levelFrameBytes.get(slot), levelEncodeNanos.get(slot));
    }

    /**
     * What was encoded, for a session's log: pages and record bytes per page level (levels with no
     * page left out), raw bytes, and frames with their body and frame bytes per compression level.
     * For example {@code pages zero 12 (0.0 MiB), page 30 (0.1 MiB); raw 0.2 -> 0.2 MiB; frames
     * zstd 1: 4, 0.3 -> 0.1 MiB}.
     */
    public String describe() {
        StringJoiner pageLevels = new StringJoiner(", ", "pages ", "").setEmptyValue("pages none");
        for (PageLevel level : PageLevel.values()) {
            if (pages(level) != 0) {
                pageLevels.add(level.name().toLowerCase(java.util.Locale.ROOT) + " " + pages(level) + " ("
                        + mebibytes(pageBytesOut(level)) + " MiB)");
            }
        }
        StringJoiner frames = new StringJoiner(", ", "frames ", "").setEmptyValue("frames none");
        for (int level : levelsUsed()) {
            if (levelFrames(level) != 0) {
                frames.add((level == NO_COMPRESSION ? "none" : "zstd " + level) + ": " + levelFrames(level) + ", "
                        + mebibytes(levelBodyBytes(level)) + " -> " + mebibytes(levelFrameBytes(level)) + " MiB");
            }
        }
        return pageLevels + "; raw " + mebibytes(rawBytesIn()) + " -> " + mebibytes(rawBytesOut()) + " MiB; " + frames;
    }

    private static String mebibytes(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f", bytes / (double) (1 << 20));
    }

    /**
     * Every compression level that frames were encoded or stream bytes given at, in slot order:
     * {@link #NO_COMPRESSION} first, then zstd's levels from the lowest.
     */
    public List<Integer> levelsUsed() {
        List<Integer> used = new ArrayList<>();
        for (int slot = 0; slot < LEVEL_SLOTS; slot++) {
            if (levelFrames.get(slot) != 0 || levelInputBytes.get(slot) != 0) {
                used.add(slot == 0 ? NO_COMPRESSION : slot - 1 + MIN_LEVEL);
            }
        }
        return used;
    }
}
