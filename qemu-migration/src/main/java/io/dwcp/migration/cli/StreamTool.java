package io.dwcp.migration.cli;

import io.dwcp.migration.stream.BlockStatistics;
import io.dwcp.migration.stream.ByteSink;
import io.dwcp.migration.stream.MalformedStreamException;
import io.dwcp.migration.stream.MigrationStreamWriter;
import io.dwcp.migration.stream.MigrationStreams;
import io.dwcp.migration.stream.StreamStatistics;
import io.dwcp.migration.stream.TokenizerOptions;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code dwcp-stream}: look at captured QEMU migration channels.
 *
 * <pre>
 * dwcp-stream inspect [--json] [--strict] FILE...   summary of each channel, and a round-trip check
 * dwcp-stream copy [--strict] IN OUT                tokenize IN and write the tokens back to OUT
 * </pre>
 * Exit status: 0 fine, 1 a malformed stream (with --strict) or a round trip that differs, 2 usage or I/O error.
 */
public final class StreamTool {
    private final PrintStream out;
    private final PrintStream err;

    StreamTool(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the tool on the standard streams and returns its exit status (for embedding commands, e.g. {@code dwcp stream}). */
    public static int execute(String... args) {
        return new StreamTool(System.out, System.err).run(args);
    }

    int run(String[] args) {
        if (args.length == 0) {
            return usage();
        }
        boolean json = false;
        boolean strict = false;
        List<String> files = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--json" -> json = true;
                case "--strict" -> strict = true;
                default -> {
                    if (args[i].startsWith("--")) {
                        err.println("dwcp-stream: unknown option " + args[i]);
                        return usage();
                    }
                    files.add(args[i]);
                }
            }
        }
        TokenizerOptions options = strict ? TokenizerOptions.strict() : TokenizerOptions.lenient();
        try {
            return switch (args[0]) {
                case "inspect" -> files.isEmpty() ? usage() : inspect(files, options, json);
                case "copy" ->
                    files.size() != 2 ? usage() : copy(Path.of(files.get(0)), Path.of(files.get(1)), options);
                default -> usage();
            };
        } catch (MalformedStreamException e) {
            err.println("dwcp-stream: " + e.getMessage());
            return 1;
        } catch (NoSuchFileException e) {
            err.println("dwcp-stream: no such file: " + e.getFile());
            return 2;
        } catch (IOException e) {
            err.println("dwcp-stream: " + e);
            return 2;
        }
    }

    private int usage() {
        err.println("usage: dwcp-stream inspect [--json] [--strict] FILE...");
        err.println("       dwcp-stream copy [--strict] IN OUT");
        return 2;
    }

    private int copy(Path in, Path outFile, TokenizerOptions options) throws IOException {
        StreamStatistics statistics;
        try (InputStream input = Files.newInputStream(in);
                OutputStream output = new BufferedOutputStream(Files.newOutputStream(outFile), 1 << 16)) {
            statistics = MigrationStreams.copy(input, ByteSink.of(output), options);
        }
        long written = Files.size(outFile);
        err.printf(
                "%s -> %s: %d bytes, %s channel, %d pages, %d zero pages, %d literal bytes%n",
                in,
                outFile,
                written,
                statistics.channelKind(),
                statistics.pages(),
                statistics.zeroPages(),
                statistics.literalBytes());
        return written == Files.size(in) ? 0 : 1;
    }

    private int inspect(List<String> files, TokenizerOptions options, boolean json) throws IOException {
        boolean allExact = true;
        List<String> objects = new ArrayList<>();
        long pages = 0;
        long zeroPages = 0;
        long bytes = 0;
        for (String file : files) {
            Path path = Path.of(file);
            MessageDigest inputDigest = sha256();
            MessageDigest outputDigest = sha256();
            StreamStatistics s;
            try (InputStream raw = Files.newInputStream(path)) {
                InputStream in = new java.security.DigestInputStream(raw, inputDigest);
                MigrationStreamWriter writer = new MigrationStreamWriter(outputDigest::update);
                s = MigrationStreams.tokenize(in, options, 1 << 16, writer::write);
            }
            boolean exact = MessageDigest.isEqual(inputDigest.digest(), outputDigest.digest());
            allExact &= exact;
            pages += s.pages() + s.xbzrlePages() + s.compressedPages();
            zeroPages += s.zeroPages();
            bytes += s.bytes();
            if (json) {
                String body = s.toJson();
                objects.add("{\"file\":\"" + escape(file) + "\",\"roundTrip\":" + exact + "," + body.substring(1));
            } else {
                out.printf(
                        "%s: %s channel, %d bytes, round trip %s%n",
                        file, s.channelKind(), s.bytes(), exact ? "exact" : "DIFFERS");
                out.printf(
                        "  pages %d, zero pages %d, xbzrle pages %d, compressed pages %d%n",
                        s.pages(), s.zeroPages(), s.xbzrlePages(), s.compressedPages());
                out.printf(
                        "  sections %d, commands %d, device data %d bytes, literal %d bytes%n",
                        s.sections(), s.commands(), s.sectionDataBytes(), s.literalBytes());
                if (s.multifdPackets() > 0) {
                    out.printf(
                            "  multifd packets %d (sync %d, device state %d), compressed payload %d bytes%n",
                            s.multifdPackets(),
                            s.multifdSyncPackets(),
                            s.multifdDeviceStatePackets(),
                            s.multifdCompressedBytes());
                }
                for (Map.Entry<String, BlockStatistics> e : s.blocks().entrySet()) {
                    BlockStatistics b = e.getValue();
                    if (b.pages() + b.zeroPages() + b.xbzrlePages() + b.compressedPages() == 0) {
                        continue;
                    }
                    out.printf(
                            "  block %-24s pages %d, zero %d, xbzrle %d, compressed %d%n",
                            e.getKey(), b.pages(), b.zeroPages(), b.xbzrlePages(), b.compressedPages());
                }
            }
        }
        if (json) {
            out.println("{\"channels\":[" + String.join(",", objects) + "],\"bytes\":" + bytes + ",\"pages\":" + pages
                    + ",\"zeroPages\":" + zeroPages + ",\"roundTrip\":" + allExact + "}");
        } else if (files.size() > 1) {
            out.printf(
                    "total: %d channels, %d bytes, %d pages with data, %d zero pages, round trip %s%n",
                    files.size(), bytes, pages, zeroPages, allExact ? "exact" : "DIFFERS");
        }
        return allExact ? 0 : 1;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}
