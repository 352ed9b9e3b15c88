package io.dwcp.cli;

import java.util.Map;
import java.util.OptionalLong;

/**
 * One sample of a domain job's statistics (virDomainGetJobStats). Byte counts are the guest's
 * data as QEMU counts it (before DWCP's encoding); absent fields are empty.
 */
public record JobStats(
        Type type,
        long elapsedMillis,
        long dataTotal,
        long dataProcessed,
        long dataRemaining,
        OptionalLong memoryIteration,
        OptionalLong memoryDirtyRate,
        OptionalLong memoryBytesPerSecond,
        OptionalLong memoryPageSize) {
    /** virDomainJobType. */
    public enum Type {
        NONE,
        BOUNDED,
        UNBOUNDED,
        COMPLETED,
        FAILED,
        CANCELLED;

        static Type of(int code) {
            Type[] types = values();
            if (code < 0 || code >= types.length) {
                throw new IllegalArgumentException("unknown libvirt job type " + code);
            }
            return types[code];
        }
    }

    public static final JobStats NONE = new JobStats(
            Type.NONE,
            0,
            0,
            0,
            0,
            OptionalLong.empty(),
            OptionalLong.empty(),
            OptionalLong.empty(),
            OptionalLong.empty());

    /** From the typed parameters' names and values ("time_elapsed", "data_total", ...). */
    public static JobStats of(int type, Map<String, Long> fields) {
        return new JobStats(
                Type.of(type),
                fields.getOrDefault("time_elapsed", 0L),
                fields.getOrDefault("data_total", 0L),
                fields.getOrDefault("data_processed", 0L),
                fields.getOrDefault("data_remaining", 0L),
                optional(fields, "memory_iteration"),
                optional(fields, "memory_dirty_rate"),
                optional(fields, "memory_bps"),
                optional(fields, "memory_page_size"));
    }

    private static OptionalLong optional(Map<String, Long> fields, String name) {
        Long value = fields.get(name);
        return value == null ? OptionalLong.empty() : OptionalLong.of(value);
    }

    public boolean isActive() {
        return type == Type.BOUNDED || type == Type.UNBOUNDED;
    }

    /** Dirty rate in bytes per second, when libvirt reports pages per second and the page size. */
    public OptionalLong dirtyBytesPerSecond() {
        if (memoryDirtyRate.isEmpty()) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(memoryDirtyRate.getAsLong() * memoryPageSize.orElse(4096));
    }
}
