package io.dwcp.migration.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Seeded random and mutation tests of the invariant: for every input, split anywhere, the tokens'
 * bytes are the input; a lenient tokenizer never throws, a strict one throws nothing but
 * {@link MalformedStreamException}; the carry buffer stays within {@link MigrationStreamTokenizer#MAX_CARRY}.
 *
 * <p>Inputs: generated well-formed channels, slices of the real captures, random bytes; then 0 to 3
 * mutations (truncate, flip, overwrite, insert, delete, duplicate, splice, footer look-alikes).
 * Cases per run: {@code 110,000 × dwcp.fuzz.scale} (1 by default, 20 with {@code -Plong}). Replay a
 * failure with {@code -Ddwcp.fuzz.seed=<the seed printed>}.
 */
class RoundTripFuzzTest {
    private static final long SEED = Long.getLong("dwcp.fuzz.seed", 0x5eed_d3cbL);
    private static final int SCALE = Integer.getInteger("dwcp.fuzz.scale", 1);
    private static final List<byte[]> CORPUS = new ArrayList<>();

    @BeforeAll
    static void corpus() {
        CORPUS.add(MigrationStreamTokenizerTest.mainChannel());
        CORPUS.add(MigrationStreamTokenizerTest.multifdChannel());
        for (Path fixture : Fixtures.all()) {
            for (Path channel : Fixtures.channels(fixture)) {
                byte[] b = Fixtures.read(channel);
                CORPUS.add(Arrays.copyOf(b, Math.min(b.length, 16 << 10)));
                if (b.length > 16 << 10 && Fixtures.channels(fixture).indexOf(channel) > 0) {
                    continue; // a multifd channel's tail is mid-packet: its head says more
                }
                CORPUS.add(Arrays.copyOfRange(
                        b, Math.max(0, b.length - (14 << 10)), b.length)); // device sections, EOF, vmdesc
            }
        }
    }

    @Test
    void generatedChannelsAreWellFormed() {
        Random random = new Random(SEED);
        StreamGenerator generator = new StreamGenerator(random);
        for (int i = 0; i < 10_000; i++) {
            byte[] in = i % 2 == 0 ? generator.mainChannel() : generator.multifdChannel();
            StreamStatistics s = Fixtures.statistics(in, TokenizerOptions.strict());
            String c = "case " + i;
            assertEquals(0, s.literalBytes(), c);
            assertEquals(in.length, s.bytes(), c);
            assertEquals(generator.pages, s.pages(), c);
            assertEquals(generator.zeroPages, s.zeroPages(), c);
            assertEquals(generator.xbzrlePages, s.xbzrlePages(), c);
            assertEquals(generator.compressedPages, s.compressedPages(), c);
        }
    }

    @Test
    void mutatedGeneratedChannels() {
        run(50_000 * SCALE, SEED, Source.GENERATED);
    }

    @Test
    void mutatedCaptureSlices() {
        run(40_000 * SCALE, SEED + 1, Source.CAPTURE);
    }

    @Test
    void randomBytes() {
        run(20_000 * SCALE, SEED + 2, Source.RANDOM);
    }

    @Test
    void memoryStaysBoundedOnAHugeGarbageStream() {
        Random random = new Random(SEED + 3);
        for (byte[] prefix : List.of("QEVM".getBytes(), new byte[] {0x11, 0x22, 0x33, 0x44}, new byte[0])) {
            MigrationStreamTokenizer t = new MigrationStreamTokenizer();
            byte[] piece = new byte[1 << 16];
            long bytes = 0;
            t.feed(prefix, 0, prefix.length);
            while (t.next() != null) {
                bytes += 0;
            }
            for (int i = 0; i < 1024; i++) { // 64 MiB
                StreamGenerator g = new StreamGenerator(random);
                System.arraycopy(g.content(piece.length), 0, piece, 0, piece.length);
                t.feed(piece, 0, piece.length);
                for (Token k = t.next(); k != null; k = t.next()) {
                    bytes += k.length();
                }
            }
            t.endOfInput();
            for (Token k = t.next(); k != null; k = t.next()) {
                bytes += k.length();
            }
            assertEquals(prefix.length + 1024L * piece.length, t.position());
            assertTrue(t.carryCapacity() <= MigrationStreamTokenizer.MAX_CARRY);
        }
    }

    enum Source {
        GENERATED,
        CAPTURE,
        RANDOM
    }

    private static void run(int cases, long seed, Source source) {
        System.out.printf(
                "%s: %d cases, seed %d (replay: -Ddwcp.fuzz.seed=%d)%n", source, cases, seed, seed - source.ordinal());
        Random random = new Random(seed);
        StreamGenerator generator = new StreamGenerator(random);
        long bytes = 0;
        for (int i = 0; i < cases; i++) {
            long caseSeed = random.nextLong();
            Random r = new Random(caseSeed);
            generator = new StreamGenerator(r);
            byte[] in = switch (source) {
                case GENERATED -> r.nextBoolean() ? generator.mainChannel() : generator.multifdChannel();
                case CAPTURE -> CORPUS.get(r.nextInt(CORPUS.size()));
                case RANDOM -> random(r, generator);
            };
            for (int m = r.nextInt(4); m > 0; m--) {
                in = mutate(in, r, generator);
            }
            bytes += in.length;
            try {
                check(in, r, TokenizerOptions.lenient());
                if (i % 2 == 0) {
                    try {
                        check(in, r, TokenizerOptions.strict());
                    } catch (MalformedStreamException expected) {
                        assertTrue(expected.offset() >= 0 && expected.offset() <= in.length, expected.getMessage());
                    }
                }
            } catch (RuntimeException | AssertionError e) {
                throw new AssertionError(
                        source + " case " + i + " (case seed " + caseSeed + ", " + in.length + " bytes) failed", e);
            }
        }
        System.out.printf("%s: %d cases, %d bytes, all round trips exact%n", source, cases, bytes);
    }

    private static byte[] random(Random r, StreamGenerator g) {
        byte[] body = g.content(r.nextInt(3000));
        return switch (r.nextInt(3)) {
            case 0 -> body;
            case 1 -> concat("QEVM\0\0\0\3".getBytes(), body);
            default -> concat(new byte[] {0x11, 0x22, 0x33, 0x44, 0, 0, 0, 1}, body);
        };
    }

    /** Tokenizes in random pieces, checking every token against the input as it comes. */
    private static void check(byte[] in, Random r, TokenizerOptions options) {
        MigrationStreamTokenizer t = new MigrationStreamTokenizer(options);
        int maxPiece = switch (r.nextInt(4)) {
            case 0 -> 1 + r.nextInt(8);
            case 1 -> 1 + r.nextInt(100);
            case 2 -> 1 + r.nextInt(6000);
            default -> in.length + 1;
        };
        int at = 0;
        long out = 0;
        while (at < in.length) {
            int n = Math.min(in.length - at, 1 + r.nextInt(maxPiece));
            t.feed(in, at, n);
            at += n;
            out = drain(t, in, out);
        }
        t.endOfInput();
        out = drain(t, in, out);
        assertEquals(in.length, out, "bytes out");
        assertTrue(t.isFinished());
        assertTrue(t.carryCapacity() <= MigrationStreamTokenizer.MAX_CARRY, "carry " + t.carryCapacity());
        StreamStatistics s = t.statistics();
        assertEquals(in.length, s.bytes());
        assertTrue(s.literalBytes() <= in.length);
    }

    private static long drain(MigrationStreamTokenizer t, byte[] in, long out) {
        for (Token k = t.next(); k != null; k = t.next()) {
            assertTrue(k.length() > 0, "empty token " + k);
            assertEquals(out, k.streamOffset(), "token offset");
            if (!Arrays.equals(k.array(), k.offset(), k.offset() + k.length(), in, (int) out, (int) out + k.length())) {
                throw new AssertionError("token " + k + " does not hold the input's bytes at " + out);
            }
            if (k.contentLength() > 0) {
                assertTrue(k.contentOffset() >= k.offset()
                        && k.contentOffset() + k.contentLength() <= k.offset() + k.length());
            }
            out += k.length();
        }
        return out;
    }

    private static byte[] mutate(byte[] in, Random r, StreamGenerator g) {
        int n = in.length;
        int at = n == 0 ? 0 : r.nextInt(n + 1);
        return switch (r.nextInt(8)) {
            case 0 -> Arrays.copyOf(in, at); // truncate
            case 1 -> { // flip a bit
                byte[] b = in.clone();
                if (n > 0) {
                    b[r.nextInt(n)] ^= (byte) (1 << r.nextInt(8));
                }
                yield b;
            }
            case 2 -> { // overwrite a few bytes
                byte[] b = in.clone();
                for (int i = r.nextInt(8); i > 0 && n > 0; i--) {
                    b[r.nextInt(n)] = (byte) r.nextInt(256);
                }
                yield b;
            }
            case 3 -> concat(Arrays.copyOf(in, at), g.content(r.nextInt(64)), Arrays.copyOfRange(in, at, n)); // insert
            case 4 -> { // delete a range
                int end = Math.min(n, at + r.nextInt(64));
                yield concat(Arrays.copyOf(in, at), Arrays.copyOfRange(in, end, n));
            }
            case 5 -> { // duplicate a range
                int end = Math.min(n, at + r.nextInt(5000));
                yield concat(Arrays.copyOf(in, end), Arrays.copyOfRange(in, at, n));
            }
            case 6 -> { // splice with another channel
                byte[] other = CORPUS.isEmpty() ? g.mainChannel() : CORPUS.get(r.nextInt(CORPUS.size()));
                int from = r.nextInt(other.length + 1);
                yield concat(
                        Arrays.copyOf(in, at),
                        Arrays.copyOfRange(other, from, Math.min(other.length, from + r.nextInt(8000))));
            }
            default -> { // a footer look-alike and a plausible header
                Wire w = new Wire().u8(0x7e).be32(r.nextInt(6));
                switch (r.nextInt(4)) {
                    case 0 -> w.u8(0x00).u8(0x06).be32(r.nextInt(100)).ascii("{");
                    case 1 -> w.u8(0x04).be32(r.nextInt(9)).name("cpu").be32(0).be32(1);
                    case 2 -> w.u8(0x02).be32(r.nextInt(4)).be64(0x08 | 0x20);
                    default -> w.u8(0x08).be16(2).be16(4);
                }
                yield concat(Arrays.copyOf(in, at), w.toBytes(), Arrays.copyOfRange(in, at, n));
            }
        };
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
