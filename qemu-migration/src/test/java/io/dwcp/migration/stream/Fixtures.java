package io.dwcp.migration.stream;

import com.github.luben.zstd.ZstdInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** The golden captures under src/test/resources/fixtures: {@code qemu-<version>-<scenario>/channel-N.bin.zst}. */
final class Fixtures {
    private Fixtures() {}

    static Path root() {
        URL url = Fixtures.class.getResource("/fixtures");
        if (url == null) {
            throw new IllegalStateException("no fixtures on the test class path");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Fixture directories, sorted. */
    static List<Path> all() {
        try (Stream<Path> dirs = Files.list(root())) {
            return dirs.filter(Files::isDirectory).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The channel files of a fixture in accept order. */
    static List<Path> channels(Path fixture) {
        List<Path> channels = new ArrayList<>();
        for (int i = 0; Files.exists(fixture.resolve("channel-" + i + ".bin.zst")); i++) {
            channels.add(fixture.resolve("channel-" + i + ".bin.zst"));
        }
        return channels;
    }

    static byte[] read(Path compressed) {
        try (InputStream in = new ZstdInputStream(Files.newInputStream(compressed))) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Properties expected(Path fixture) {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(fixture.resolve("expected.properties"))) {
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }

    /** A number from the source QEMU's final query-migrate answer, e.g. {@code "normal"}; -1 if absent. */
    static long qemuCounter(Path fixture, String name) {
        try {
            String json = Files.readString(fixture.resolve("query-migrate.json"));
            Matcher m =
                    Pattern.compile("\"" + Pattern.quote(name) + "\": (\\d+)").matcher(json);
            return m.find() ? Long.parseLong(m.group(1)) : -1;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Tokenizes a whole channel (fed in one piece) and returns its statistics. */
    static StreamStatistics statistics(byte[] channel, TokenizerOptions options) {
        MigrationStreamTokenizer t = new MigrationStreamTokenizer(options);
        t.feed(channel, 0, channel.length);
        t.endOfInput();
        while (t.next() != null) {
            // counting only
        }
        return t.statistics();
    }

    /** The counts an expectation file holds for one channel, in a fixed order. */
    static List<String[]> counts(int channel, StreamStatistics s) {
        String c = "channel." + channel + ".";
        List<String[]> counts = new ArrayList<>();
        counts.add(new String[] {c + "kind", s.channelKind().name()});
        counts.add(new String[] {c + "bytes", Long.toString(s.bytes())});
        counts.add(new String[] {c + "pages", Long.toString(s.pages())});
        counts.add(new String[] {c + "zeroPages", Long.toString(s.zeroPages())});
        counts.add(new String[] {c + "xbzrlePages", Long.toString(s.xbzrlePages())});
        counts.add(new String[] {c + "compressedPages", Long.toString(s.compressedPages())});
        counts.add(new String[] {c + "literalBytes", Long.toString(s.literalBytes())});
        counts.add(new String[] {c + "sectionDataBytes", Long.toString(s.sectionDataBytes())});
        counts.add(new String[] {c + "sections", Long.toString(s.sections())});
        counts.add(new String[] {c + "commands", Long.toString(s.commands())});
        counts.add(new String[] {c + "multifdPackets", Long.toString(s.multifdPackets())});
        counts.add(new String[] {c + "multifdSyncPackets", Long.toString(s.multifdSyncPackets())});
        counts.add(new String[] {c + "multifdCompressedBytes", Long.toString(s.multifdCompressedBytes())});
        s.blocks().forEach((name, b) -> {
            if (b.pages() + b.zeroPages() + b.xbzrlePages() + b.compressedPages() > 0) {
                counts.add(new String[] {
                    c + "block." + name,
                    b.pages() + "/" + b.zeroPages() + "/" + b.xbzrlePages() + "/" + b.compressedPages()
                });
            }
        });
        return counts;
    }
}
