package io.dwcp.hde.bench;

import com.github.luben.zstd.ZstdDictTrainer;
import io.dwcp.config.DataSize;
import io.dwcp.hde.HdeConfig;
import io.dwcp.hde.HdeDecoder;
import io.dwcp.hde.HdeEncoder;
import io.dwcp.hde.HdeStats;
import io.dwcp.hde.LinkTier;
import io.dwcp.hde.WorkloadPages;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * HDE encoder and decoder throughput, one thread (one core), per zstd level, on 8 MiB of guest
 * pages like the test bed's workload (text, binary, structured, zero: about a quarter each).
 *
 * <ul>
 *   <li>{@code pass=first}: a fresh stream (the first pass of a migration): zero pages and literal
 *   pages, zstd with a dictionary trained beforehand on the same mix;</li>
 *   <li>{@code pass=dirty}: the same pages again after every one got a 32..128-byte record written
 *   (the dirty pages of a later pass): XOR deltas. The first pass runs untimed before each
 *   measured one.</li>
 * </ul>
 * Level 0 is tier 1 (raw frames). Stream bytes per second count each page as 4096 bytes.
 *
 * <pre>
 * mvn -B -q -pl plugin -am test-compile
 * mvn -B -q -pl plugin -am dependency:build-classpath -Dmdep.outputFile=target/test-classpath.txt -Dmdep.includeScope=test
 * nice java -cp plugin/target/test-classes:plugin/target/classes:qemu-migration/target/classes:$(cat plugin/target/test-classpath.txt) \
 *     io.dwcp.hde.bench.HdeBenchmark [encode|decode|cpu-only] [level...]
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"})
public class HdeBenchmark {
    static final int PAGES = 2048;
    static final int PAGE_SIZE = 4096;

    /** The pages, the dictionary and the frames of both passes, per level and pass. */
    @State(Scope.Thread)
    public static class Data {
        @Param({"0", "1", "3", "6", "9", "15", "19"})
        public int level;

        @Param({"first", "dirty"})
        public String pass;

        byte[][] firstPass;
        byte[][] dirtyPass;
        byte[] dictionary;
        byte[] firstFrames;
        byte[] dirtyFrames;
        HdeConfig config;

        @Setup(Level.Trial)
        public void setUp() {
            WorkloadPages workload = new WorkloadPages(1);
            firstPass = new byte[PAGES][];
            dirtyPass = new byte[PAGES][];
            for (int p = 0; p < PAGES; p++) {
                firstPass[p] = workload.page(p);
                dirtyPass[p] = firstPass[p].clone();
                workload.write(p, 1, dirtyPass[p], 0);
            }
            ZstdDictTrainer trainer = new ZstdDictTrainer(PAGES * PAGE_SIZE, 64 << 10);
            for (byte[] page : firstPass) {
                trainer.addSample(page);
            }
            dictionary = trainer.trainSamples();
            // frames compressed each on its own, with the dictionary trained on the first pass
            config = new HdeConfig()
                    .setTier(level == 0 ? LinkTier.LOCAL.number() : LinkTier.WAN.number())
                    .setZstdWindow(DataSize.ofBytes(0));
            ByteArrayOutputStream first = new ByteArrayOutputStream();
            ByteArrayOutputStream dirty = new ByteArrayOutputStream();
            ByteArrayOutputStream[] target = {first};
            try (HdeEncoder encoder = newEncoder(frame -> target[0].write(frame, 0, frame.length))) {
                encode(encoder, firstPass);
                target[0] = dirty;
                encode(encoder, dirtyPass);
            }
            firstFrames = first.toByteArray();
            dirtyFrames = dirty.toByteArray();
        }

        HdeEncoder newEncoder(java.util.function.Consumer<byte[]> frames) {
            HdeEncoder encoder = new HdeEncoder(config, new HdeStats(), List.of(), frames, Runnable::run);
            if (level != 0) {
                encoder.useDictionary(dictionary);
                encoder.setLevel(level);
            }
            return encoder;
        }
    }

    /** For the dirty pass: an encoder that has encoded the first pass (untimed). */
    @State(Scope.Thread)
    public static class Encoder {
        HdeEncoder encoder;
        long frameBytes;

        @Setup(Level.Invocation)
        public void setUp(Data data) {
            frameBytes = 0;
            encoder = data.newEncoder(frame -> frameBytes += frame.length);
            if (data.pass.equals("dirty")) {
                encode(encoder, data.firstPass);
            }
        }

        @TearDown(Level.Invocation)
        public void tearDown() {
            encoder.close();
        }
    }

    /** For the dirty pass: a decoder that has decoded the first pass (untimed). */
    @State(Scope.Thread)
    public static class Decoder {
        HdeDecoder decoder;
        final NullSink sink = new NullSink();

        @Setup(Level.Invocation)
        public void setUp(Data data) throws IOException {
            decoder = new HdeDecoder(data.config, new HdeStats(), sink);
            if (data.pass.equals("dirty")) {
                decoder.feed(data.firstFrames, 0, data.firstFrames.length);
            }
        }

        @TearDown(Level.Invocation)
        public void tearDown() {
            decoder.close();
        }
    }

    static void encode(HdeEncoder encoder, byte[][] pages) {
        byte[] header = new byte[8];
        for (int p = 0; p < pages.length; p++) {
            long offset = (long) p * PAGE_SIZE;
            for (int i = 0; i < 8; i++) {
                header[i] = (byte) ((offset | 0x28) >>> (56 - 8 * i));
            }
            encoder.page("pc.ram", offset, header, 0, header.length, pages[p], 0);
        }
        encoder.flush();
    }

    @Benchmark
    public long encode(Data data, Encoder state) {
        encode(state.encoder, data.pass.equals("dirty") ? data.dirtyPass : data.firstPass);
        return state.frameBytes;
    }

    @Benchmark
    public long decode(Data data, Decoder state) throws IOException {
        byte[] frames = data.pass.equals("dirty") ? data.dirtyFrames : data.firstFrames;
        state.decoder.feed(frames, 0, frames.length);
        return state.decoder.frames() + state.sink.bytes;
    }

    static final class NullSink implements HdeDecoder.Sink {
        long bytes;

        @Override
        public void page(byte[] header, int headerOffset, int headerLength, byte[] content, int contentOffset) {
            bytes += headerLength + 4096;
        }

        @Override
        public void raw(byte[] bytes, int offset, int length) {
            this.bytes += length;
        }
    }

    /**
     * Runs JMH (unless the first argument is {@code cpu-only}), then measures the same operations by
     * thread CPU time: on a busy machine wall-clock figures mostly measure the other processes,
     * CPU-time figures estimate what one core does. Arguments: {@code [encode|decode|cpu-only] [level...]}.
     */
    public static void main(String[] args) throws Exception {
        boolean jmh = args.length == 0 || !args[0].equals("cpu-only");
        String[] levels = args.length > 1
                ? Arrays.copyOfRange(args, 1, args.length)
                : new String[] {"0", "1", "3", "6", "9", "15", "19"};
        long stream = (long) PAGES * PAGE_SIZE;
        Map<String, Double> wallMillis = new TreeMap<>();
        if (jmh) {
            OptionsBuilder options = new OptionsBuilder();
            options.include(HdeBenchmark.class.getName() + "." + (args.length > 0 ? args[0] : ""));
            options.param("level", levels);
            Collection<RunResult> results = new Runner(options.build()).run();
            for (RunResult r : results) {
                wallMillis.put(
                        r.getParams().getBenchmark().replaceAll(".*\\.", "") + "/"
                                + r.getParams().getParam("pass") + "/"
                                + r.getParams().getParam("level"),
                        r.getPrimaryResult().getScore());
            }
        }
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        System.out.printf(
                "%n%-7s %-6s %5s %12s %14s %12s %14s%n",
                "bench", "pass", "level", "wall MB/s", "CPU MB/s/core", "CPU ms/op", "frames/stream");
        for (String bench : new String[] {"encode", "decode"}) {
            if (args.length > 0 && !args[0].equals(bench) && !args[0].equals("cpu-only")) {
                continue;
            }
            for (String pass : new String[] {"first", "dirty"}) {
                for (String levelText : levels) {
                    Data data = new Data();
                    data.level = Integer.parseInt(levelText);
                    data.pass = pass;
                    data.setUp();
                    HdeBenchmark b = new HdeBenchmark();
                    long cpu = 0;
                    int ops = 0;
                    for (int round = 0; cpu < 3_000_000_000L || round < 4; round++) {
                        long used;
                        if (bench.equals("encode")) {
                            Encoder state = new Encoder();
                            state.setUp(data);
                            long start = threads.getCurrentThreadCpuTime();
                            b.encode(data, state);
                            used = threads.getCurrentThreadCpuTime() - start;
                            state.tearDown();
                        } else {
                            Decoder state = new Decoder();
                            state.setUp(data);
                            long start = threads.getCurrentThreadCpuTime();
                            b.decode(data, state);
                            used = threads.getCurrentThreadCpuTime() - start;
                            state.tearDown();
                        }
                        if (round >= 2) { // the first rounds warm the JIT
                            cpu += used;
                            ops++;
                        }
                    }
                    double cpuMillis = cpu / 1e6 / ops;
                    Double wall = wallMillis.get(bench + "/" + pass + "/" + levelText);
                    long frames = pass.equals("dirty") ? data.dirtyFrames.length : data.firstFrames.length;
                    System.out.printf(
                            "%-7s %-6s %5s %12s %14.1f %12.2f %13.1f%%%n",
                            bench,
                            pass,
                            data.level == 0 ? "raw" : levelText,
                            wall == null ? "-" : String.format("%.1f", stream / wall / 1e3),
                            stream / cpuMillis / 1e3,
                            cpuMillis,
                            100.0 * frames / stream);
                }
            }
        }
    }
}
