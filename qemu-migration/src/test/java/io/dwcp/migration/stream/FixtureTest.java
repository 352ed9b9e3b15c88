package io.dwcp.migration.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The golden captures: real migrations of the memfill guest (src/test/guest) on QEMU 7.2 and 10.0,
 * precopy, multifd with 2 channels, XBZRLE, multifd with zstd. For each: strict tokenizing gives
 * the counts of expected.properties, those agree with QEMU's own counters, page tokens hold the
 * content the guest wrote at their offsets, and the round trip is exact however the input is split.
 */
class FixtureTest {
    private static final long MIB = 1 << 20;
    private static final int PAGE = MigrationStreamTokenizer.PAGE_SIZE;

    static List<Path> fixtures() {
        return Fixtures.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void fixture(Path fixture) throws IOException {
        String name = fixture.getFileName().toString();
        Properties expected = Fixtures.expected(fixture);
        List<Path> channels = Fixtures.channels(fixture);
        assertEquals(Integer.parseInt(expected.getProperty("channels")), channels.size(), "channels");
        long pages = 0;
        long compressedPages = 0;
        long zeroPages = 0;
        long xbzrlePages = 0;
        long multifdPackets = 0;
        Random random = new Random(name.hashCode());
        for (int i = 0; i < channels.size(); i++) {
            byte[] channel = Fixtures.read(channels.get(i));
            StreamStatistics whole = Fixtures.statistics(channel, TokenizerOptions.strict());
            Map<String, String> actual = new TreeMap<>();
            for (String[] count : Fixtures.counts(i, whole)) {
                actual.put(count[0], count[1]);
            }
            Map<String, String> wanted = new TreeMap<>();
            for (String key : expected.stringPropertyNames()) {
                if (key.startsWith("channel." + i + ".")) {
                    wanted.put(key, expected.getProperty(key));
                }
            }
            assertEquals(wanted, actual, name + " channel " + i);
            assertEquals(0, whole.literalBytes(), "a real capture has no literal bytes");

            // Byte-exact round trip and the same structural tokens, fed in random pieces.
            for (int round = 0; round < 3; round++) {
                int maxPiece = round == 0 ? 7 : round == 1 ? 5000 : 1 << 20;
                RoundTrip split = roundTrip(channel, random, maxPiece);
                assertArrayEquals(channel, split.output, name + " channel " + i + " pieces <= " + maxPiece);
                assertEquals(
                        actual.toString(), counts(i, split.statistics).toString(), "counts do not depend on the split");
                assertEquals(
                        roundTrip(channel, null, 0).structure, split.structure, "tokens do not depend on the split");
            }
            checkPageContent(channel);
            pages += whole.pages();
            compressedPages += whole.compressedPages();
            zeroPages += whole.zeroPages();
            xbzrlePages += whole.xbzrlePages();
            multifdPackets += whole.multifdPackets();
        }

        // QEMU's own counters, from the source's final query-migrate.
        assertEquals(Fixtures.qemuCounter(fixture, "duplicate"), zeroPages, "zero pages = QEMU duplicate");
        long multifdBytes = Fixtures.qemuCounter(fixture, "multifd-bytes");
        if (name.startsWith("qemu-7.2-") && multifdBytes > 0) {
            // 7.2's "normal" counter lags by a few pages with multifd; its multifd-bytes (pre-compression) is exact.
            assertEquals(
                    multifdBytes,
                    (pages + compressedPages) * PAGE + multifdPackets * 1344,
                    "multifd bytes = QEMU multifd-bytes");
        } else {
            assertEquals(Fixtures.qemuCounter(fixture, "normal"), pages + compressedPages, "pages = QEMU normal");
        }
        if (name.endsWith("-xbzrle")) {
            // QEMU counts every XBZRLE cache hit, including unchanged pages it then skips and overflows.
            long hits = Fixtures.qemuCounter(fixture, "pages") - Fixtures.qemuCounter(fixture, "overflow");
            assertTrue(xbzrlePages > 0 && xbzrlePages <= hits, xbzrlePages + " XBZRLE pages, QEMU counted " + hits);
        }
    }

    private static String counts(int channel, StreamStatistics s) {
        Map<String, String> m = new TreeMap<>();
        for (String[] count : Fixtures.counts(channel, s)) {
            m.put(count[0], count[1]);
        }
        return m.toString();
    }

    /** The memfill guest's layout (see memfill.c): page tokens must hold it at their offsets. */
    private static void checkPageContent(byte[] channel) {
        MigrationStreamTokenizer t = new MigrationStreamTokenizer(TokenizerOptions.strict());
        t.feed(channel, 0, channel.length);
        t.endOfInput();
        int text = 0;
        int repeated = 0;
        for (Token k = t.next(); k != null; k = t.next()) {
            if (k.type() != TokenType.RAM_PAGE || !"pc.ram".equals(k.blockName())) {
                continue;
            }
            assertEquals(PAGE, k.contentLength());
            long at = k.pageOffset();
            byte[] a = k.array();
            int c = k.contentOffset();
            boolean rewritten = (at - 2 * MIB) % (8 * PAGE) == 0; // the guest's dirtying loop rewrites these
            if (at >= 2 * MIB && at < 6 * MIB && !rewritten) {
                String page = new String(a, c, PAGE, StandardCharsets.ISO_8859_1);
                assertTrue(page.contains("quick brown fox"), "text page at " + at);
                text++;
            } else if (at >= 8 * MIB && at < 10 * MIB && !rewritten) {
                byte v = (byte) (0x11 * ((at / PAGE) % 16) + 1);
                for (int i = 0; i < PAGE; i++) {
                    if (a[c + i] != v) {
                        throw new AssertionError("repeated-byte page at " + at + " differs at " + i);
                    }
                }
                repeated++;
            }
        }
        // On multifd the pages are spread over channels; every channel with pages gets some of each.
        if (t.statistics().pages() > 1000) {
            assertTrue(text > 100 && repeated > 100, text + " text pages, " + repeated + " repeated-byte pages");
        }
    }

    record RoundTrip(byte[] output, StreamStatistics statistics, List<String> structure) {}

    /** Tokenizes in random pieces (random == null: one piece) and writes back. */
    static RoundTrip roundTrip(byte[] input, Random random, int maxPiece) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(input.length);
        MigrationStreamWriter writer = new MigrationStreamWriter(ByteSink.of(out));
        MigrationStreamTokenizer t = new MigrationStreamTokenizer(TokenizerOptions.strict());
        List<String> structure = new ArrayList<>();
        int at = 0;
        while (at < input.length) {
            int n = random == null ? input.length : Math.min(input.length - at, 1 + random.nextInt(maxPiece));
            t.feed(input, at, n);
            at += n;
            drain(t, writer, structure);
        }
        t.endOfInput();
        drain(t, writer, structure);
        return new RoundTrip(out.toByteArray(), t.statistics(), structure);
    }

    private static void drain(MigrationStreamTokenizer t, MigrationStreamWriter writer, List<String> structure)
            throws IOException {
        for (Token k = t.next(); k != null; k = t.next()) {
            writer.write(k);
            switch (k.type()) {
                case LITERAL, SECTION_DATA, VM_DESCRIPTION_DATA, MULTIFD_COMPRESSED_DATA, MULTIFD_DEVICE_STATE_DATA -> {
                    // chunked where the pieces end
                }
                default -> structure.add(k.toString());
            }
        }
    }
}
