package io.dwcp.hde;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.luben.zstd.ZstdInputStream;
import io.dwcp.config.DataSize;
import io.dwcp.migration.stream.ByteSink;
import io.dwcp.migration.stream.MigrationStreamWriter;
import io.dwcp.migration.stream.MigrationStreams;
import io.dwcp.migration.stream.TokenizerOptions;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The golden QEMU captures of qemu-migration (7.2 and 10.0: precopy, multifd, xbzrle,
 * multifd-zstd): each channel tokenized, its pages and other bytes encoded, the frames decoded
 * (fed in random pieces) and the stream rebuilt with MigrationStreamWriter: byte for byte the
 * capture. Prints the compression per fixture and tier.
 */
public class HdeFixtureTest {
    private static final List<String> REPORT = new ArrayList<>();

    /** The qemu-migration module's golden captures, found above the working directory. */
    public static Path fixturesRoot() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("qemu-migration/src/test/resources/fixtures");
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("qemu-migration/src/test/resources/fixtures not found above "
                + Path.of("").toAbsolutePath());
    }

    static Stream<Path> fixtures() throws IOException {
        try (Stream<Path> dirs = Files.list(fixturesRoot())) {
            return dirs.filter(Files::isDirectory).sorted().toList().stream();
        }
    }

    /** The capture's QEMU connections (channel 0 first), decompressed. */
    public static List<byte[]> channels(Path fixture) {
        List<byte[]> channels = new ArrayList<>();
        for (int i = 0; Files.exists(fixture.resolve("channel-" + i + ".bin.zst")); i++) {
            try (InputStream in =
                    new ZstdInputStream(Files.newInputStream(fixture.resolve("channel-" + i + ".bin.zst")))) {
                channels.add(in.readAllBytes());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return channels;
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void roundTrip(Path fixture) throws IOException {
        List<byte[]> channels = channels(fixture);
        assertTrue(!channels.isEmpty(), "no channels in " + fixture);
        long zstdFileBytes = 0;
        for (int i = 0; i < channels.size(); i++) {
            zstdFileBytes += Files.size(fixture.resolve("channel-" + i + ".bin.zst"));
        }
        long streamBytes = channels.stream().mapToLong(c -> c.length).sum();
        long zstd3 = 0;
        long zstd3Chunks = 0;
        for (byte[] channel : channels) {
            zstd3 += com.github.luben.zstd.Zstd.compress(channel, 3).length;
            for (int at = 0; at < channel.length; at += 256 << 10) {
                zstd3Chunks += com.github.luben.zstd.Zstd.compress(
                                java.util.Arrays.copyOfRange(channel, at, Math.min(channel.length, at + (256 << 10))),
                                3)
                        .length;
            }
        }
        StringBuilder line = new StringBuilder(String.format(
                "%-24s %9d bytes; zstd: stored file %5.1f%%, -3 whole %5.1f%%, -3 per 256KiB %5.1f%%; HDE:",
                fixture.getFileName(),
                streamBytes,
                100.0 * zstdFileBytes / streamBytes,
                100.0 * zstd3 / streamBytes,
                100.0 * zstd3Chunks / streamBytes));
        for (LinkTier tier : LinkTier.values()) {
            HdeStats stats = new HdeStats();
            long frameBytes = 0;
            for (byte[] channel : channels) {
                frameBytes += roundTripChannel(
                        channel, new HdeConfig().setTier(tier.number()), stats, new Random(channel.length));
            }
            line.append(String.format(" tier %d %5.1f%%", tier.number(), 100.0 * frameBytes / streamBytes));
            if (tier == LinkTier.WAN) {
                line.append(String.format(
                        " [pages zero %d ref %d delta %d page %d]",
                        stats.pages(PageLevel.ZERO),
                        stats.pages(PageLevel.REFERENCE),
                        stats.pages(PageLevel.DELTA),
                        stats.pages(PageLevel.PAGE)));
            }
        }
        REPORT.add(line.toString());
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void roundTripWithTinyCachesAndFrames(Path fixture) throws IOException {
        HdeConfig config = new HdeConfig()
                .setDeltaCacheSize(DataSize.ofKiB(40))
                .setHashCacheSize(DataSize.ofKiB(12))
                .setFrameSize(DataSize.ofKiB(8))
                .setDictionarySample(DataSize.ofKiB(512));
        for (byte[] channel : channels(fixture)) {
            roundTripChannel(channel, config, new HdeStats(), new Random(7));
        }
    }

    /** Encodes a channel, decodes the frames fed in random pieces, checks the rebuilt bytes; returns the frame bytes. */
    private static long roundTripChannel(byte[] channel, HdeConfig config, HdeStats stats, Random random)
            throws IOException {
        ByteArrayOutputStream frames = new ByteArrayOutputStream();
        try (HdeEncoder encoder = new HdeEncoder(config, stats, frame -> frames.write(frame, 0, frame.length))) {
            MigrationStreams.tokenize(
                    new ByteArrayInputStream(channel), TokenizerOptions.lenient(), 1 << 16, encoder::token);
            encoder.flush();
        }
        byte[] encoded = frames.toByteArray();
        ByteArrayOutputStream rebuilt = new ByteArrayOutputStream();
        MigrationStreamWriter writer = new MigrationStreamWriter(ByteSink.of(rebuilt));
        try (HdeDecoder decoder = new HdeDecoder(config, stats, HdeDecoder.toWriter(writer))) {
            for (int at = 0; at < encoded.length; ) {
                int piece = Math.min(encoded.length - at, 1 + random.nextInt(random.nextBoolean() ? 64 : 300_000));
                decoder.feed(encoded, at, piece);
                at += piece;
            }
            decoder.endOfInput();
        }
        assertEquals(channel.length, writer.bytesWritten());
        assertArrayEquals(channel, rebuilt.toByteArray(), "rebuilt channel differs");
        return encoded.length;
    }

    @AfterAll
    static void printReport() {
        System.out.println(
                "HDE on the golden captures (frame bytes / stream bytes; tier 1 raw frames, tier 2 zstd 1, tier 3 zstd 3, dictionary):");
        REPORT.forEach(System.out::println);
    }
}
