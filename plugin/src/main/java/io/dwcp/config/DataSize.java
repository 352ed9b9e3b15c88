package io.dwcp.config;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A number of bytes written as {@code 64MiB}, {@code 512KiB}, {@code 1GiB}, {@code 4096B} or {@code 4096}. */
public record DataSize(long bytes) {
    private static final Pattern PATTERN = Pattern.compile("(\\d+)\\s*([KMGT]i?B|B)?", Pattern.CASE_INSENSITIVE);

    public DataSize {
        if (bytes < 0) {
            throw new IllegalArgumentException("size is negative: " + bytes);
        }
    }

    public static DataSize ofBytes(long bytes) {
        return new DataSize(bytes);
    }

    public static DataSize ofKiB(long kib) {
        return new DataSize(kib * 1024);
    }

    public static DataSize ofMiB(long mib) {
        return new DataSize(mib * 1024 * 1024);
    }

    public static DataSize valueOf(String text) {
        Matcher matcher = PATTERN.matcher(text.trim());
        if (!matcher.matches()) {
            throw new IllegalArgumentException("not a size (like 64MiB, 512KiB, 4096B): " + text);
        }
        long value = Long.parseLong(matcher.group(1));
        String unit = matcher.group(2) == null
                ? "B"
                : matcher.group(2).toUpperCase(Locale.ROOT).replace("I", "");
        long multiplier = switch (unit) {
            case "B" -> 1L;
            case "KB" -> 1L << 10;
            case "MB" -> 1L << 20;
            case "GB" -> 1L << 30;
            case "TB" -> 1L << 40;
            default -> throw new IllegalArgumentException("unknown size unit in " + text);
        };
        return new DataSize(Math.multiplyExact(value, multiplier));
    }

    public int toIntBytes() {
        return Math.toIntExact(bytes);
    }

    @Override
    public String toString() {
        if (bytes != 0 && bytes % (1L << 30) == 0) {
            return bytes / (1L << 30) + "GiB";
        }
        if (bytes != 0 && bytes % (1L << 20) == 0) {
            return bytes / (1L << 20) + "MiB";
        }
        if (bytes != 0 && bytes % (1L << 10) == 0) {
            return bytes / (1L << 10) + "KiB";
        }
        return bytes + "B";
    }
}
