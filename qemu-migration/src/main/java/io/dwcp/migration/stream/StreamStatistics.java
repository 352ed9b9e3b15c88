package io.dwcp.migration.stream;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** What one channel carried, counted by its {@link MigrationStreamTokenizer}. */
public final class StreamStatistics {
    ChannelKind channelKind = ChannelKind.UNKNOWN;
    long bytes;
    long pages;
    long zeroPages;
    long xbzrlePages;
    long compressedPages;
    long literalBytes;
    long sectionDataBytes;
    long sections;
    long commands;
    long multifdPackets;
    long multifdSyncPackets;
    long multifdCompressedBytes;
    long multifdDeviceStatePackets;
    final long[] tokenCounts = new long[TokenType.values().length];
    final Map<String, BlockStatistics> blocks = new LinkedHashMap<>();

    BlockStatistics block(String name) {
        return blocks.computeIfAbsent(name == null ? "?" : name, n -> new BlockStatistics());
    }

    public ChannelKind channelKind() {
        return channelKind;
    }

    /** Bytes tokenized. */
    public long bytes() {
        return bytes;
    }

    /** Whole 4 KiB pages, main channel and multifd. */
    public long pages() {
        return pages;
    }

    /** Zero pages: main channel ZERO records plus multifd zero pages (QEMU 9.0+). */
    public long zeroPages() {
        return zeroPages;
    }

    public long xbzrlePages() {
        return xbzrlePages;
    }

    public long compressedPages() {
        return compressedPages;
    }

    /** Bytes not understood, passed through as {@link TokenType#LITERAL}. Zero on a well-formed stream. */
    public long literalBytes() {
        return literalBytes;
    }

    /** Opaque content of device sections ({@link TokenType#SECTION_DATA}). */
    public long sectionDataBytes() {
        return sectionDataBytes;
    }

    /** Section headers (start, part, end, full). */
    public long sections() {
        return sections;
    }

    public long commands() {
        return commands;
    }

    public long multifdPackets() {
        return multifdPackets;
    }

    public long multifdSyncPackets() {
        return multifdSyncPackets;
    }

    public long multifdCompressedBytes() {
        return multifdCompressedBytes;
    }

    public long multifdDeviceStatePackets() {
        return multifdDeviceStatePackets;
    }

    /** How many tokens of a type. */
    public long tokens(TokenType type) {
        return tokenCounts[type.ordinal()];
    }

    /** Per RAM block counts, in order of first appearance ({@code "?"}: pages whose block was never named). */
    public Map<String, BlockStatistics> blocks() {
        return Collections.unmodifiableMap(blocks);
    }

    /** The counts as one JSON object. */
    public String toJson() {
        StringBuilder s = new StringBuilder("{");
        s.append("\"channel\":\"").append(channelKind).append('"');
        field(s, "bytes", bytes);
        field(s, "pages", pages);
        field(s, "zeroPages", zeroPages);
        field(s, "xbzrlePages", xbzrlePages);
        field(s, "compressedPages", compressedPages);
        field(s, "literalBytes", literalBytes);
        field(s, "sectionDataBytes", sectionDataBytes);
        field(s, "sections", sections);
        field(s, "commands", commands);
        field(s, "multifdPackets", multifdPackets);
        field(s, "multifdSyncPackets", multifdSyncPackets);
        field(s, "multifdCompressedBytes", multifdCompressedBytes);
        field(s, "multifdDeviceStatePackets", multifdDeviceStatePackets);
        s.append(",\"blocks\":{");
        boolean first = true;
        for (Map.Entry<String, BlockStatistics> e : blocks.entrySet()) {
            if (!first) {
                s.append(',');
            }
            first = false;
            BlockStatistics b = e.getValue();
            s.append('"')
                    .append(jsonEscape(e.getKey()))
                    .append("\":{\"pages\":")
                    .append(b.pages)
                    .append(",\"zeroPages\":")
                    .append(b.zeroPages)
                    .append(",\"xbzrlePages\":")
                    .append(b.xbzrlePages)
                    .append(",\"compressedPages\":")
                    .append(b.compressedPages)
                    .append('}');
        }
        s.append("},\"tokens\":{");
        first = true;
        for (TokenType type : TokenType.values()) {
            if (tokenCounts[type.ordinal()] == 0) {
                continue;
            }
            if (!first) {
                s.append(',');
            }
            first = false;
            s.append('"').append(type).append("\":").append(tokenCounts[type.ordinal()]);
        }
        return s.append("}}").toString();
    }

    private static void field(StringBuilder s, String name, long value) {
        s.append(",\"").append(name).append("\":").append(value);
    }

    static String jsonEscape(String s) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    @Override
    public String toString() {
        return toJson();
    }
}
