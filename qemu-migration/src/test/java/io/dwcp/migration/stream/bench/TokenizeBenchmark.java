package io.dwcp.migration.stream.bench;

import com.github.luben.zstd.ZstdInputStream;
import io.dwcp.migration.stream.MigrationStreamTokenizer;
import io.dwcp.migration.stream.MigrationStreamWriter;
import io.dwcp.migration.stream.Token;
import io.dwcp.migration.stream.TokenizerOptions;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Collection;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Tokenize + write of a real capture, one thread (one core): the input is fed in 64 KiB pieces, as
 * a socket read would deliver it, and every token is written back into an output array.
 *
 * <pre>
 * mvn -B -q -pl qemu-migration test-compile dependency:build-classpath -Dmdep.outputFile=target/test-classpath.txt -Dmdep.includeScope=test
 * java -cp qemu-migration/target/test-classes:qemu-migration/target/classes:$(cat qemu-migration/target/test-classpath.txt) \
 *     io.dwcp.migration.stream.bench.TokenizeBenchmark
 * </pre>
 * prints JMH's table and GB/s per fixture. {@code qemu-7.2-multifd/channel-0} is a main channel of
 * almost nothing but 9-byte zero-page records: it measures the cost per token rather than per byte.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class TokenizeBenchmark {
    private static final int PIECE = 64 << 10;

    @Param({
        "qemu-10.0-precopy/channel-0",
        "qemu-10.0-multifd/channel-1",
        "qemu-7.2-xbzrle/channel-0",
        "qemu-10.0-multifd-zstd/channel-1",
        "qemu-7.2-multifd/channel-0"
    })
    public String channel;

    private byte[] input;
    private byte[] output;
    private int written;
    private MigrationStreamWriter writer;

    @Setup(Level.Trial)
    public void load() throws IOException {
        try (InputStream in = TokenizeBenchmark.class.getResourceAsStream("/fixtures/" + channel + ".bin.zst")) {
            if (in == null) {
                throw new IllegalStateException("no fixture " + channel);
            }
            input = new ZstdInputStream(in).readAllBytes();
        }
        output = new byte[input.length];
        writer = new MigrationStreamWriter(this::put);
    }

    private void put(byte[] bytes, int offset, int length) {
        System.arraycopy(bytes, offset, output, written, length);
        written += length;
    }

    @Benchmark
    public int tokenizeAndWrite() throws IOException {
        written = 0;
        MigrationStreamTokenizer t = new MigrationStreamTokenizer(TokenizerOptions.lenient());
        for (int at = 0; at < input.length; at += PIECE) {
            t.feed(input, at, Math.min(PIECE, input.length - at));
            for (Token k = t.next(); k != null; k = t.next()) {
                writer.write(k);
            }
        }
        t.endOfInput();
        for (Token k = t.next(); k != null; k = t.next()) {
            writer.write(k);
        }
        return written;
    }

    @Benchmark
    public long tokenizeOnly() {
        MigrationStreamTokenizer t = new MigrationStreamTokenizer(TokenizerOptions.lenient());
        long pages = 0;
        for (int at = 0; at < input.length; at += PIECE) {
            t.feed(input, at, Math.min(PIECE, input.length - at));
            for (Token k = t.next(); k != null; k = t.next()) {
                pages += k.length();
            }
        }
        t.endOfInput();
        while (t.next() != null) {
            pages++;
        }
        return pages;
    }

    /** Checks the round trip once, runs JMH, prints GB/s. */
    public static void main(String[] args) throws Exception {
        TokenizeBenchmark check = new TokenizeBenchmark();
        String[] channels = {
            "qemu-10.0-precopy/channel-0",
            "qemu-10.0-multifd/channel-1",
            "qemu-7.2-xbzrle/channel-0",
            "qemu-10.0-multifd-zstd/channel-1",
            "qemu-7.2-multifd/channel-0"
        };
        long[] sizes = new long[channels.length];
        for (int i = 0; i < channels.length; i++) {
            check.channel = channels[i];
            check.load();
            check.tokenizeAndWrite();
            if (!Arrays.equals(check.input, check.output)) {
                throw new AssertionError("round trip differs for " + channels[i]);
            }
            sizes[i] = check.input.length;
        }
        OptionsBuilder options = new OptionsBuilder();
        options.include(TokenizeBenchmark.class.getName() + "." + (args.length > 0 ? args[0] : ""));
        Collection<RunResult> results = new Runner(options.build()).run();
        for (RunResult r : results) {
            String channel = r.getParams().getParam("channel");
            long size = sizes[Arrays.asList(channels).indexOf(channel)];
            double millis = r.getPrimaryResult().getScore();
            System.out.printf(
                    "%-18s %-36s %9d bytes  %8.3f ms  %6.2f GB/s%n",
                    r.getParams().getBenchmark().replaceAll(".*\\.", ""), channel, size, millis, size / millis / 1e6);
        }
    }
}
