package io.dwcp.pba;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class PbaEvalCommandTest {
    @Test
    void scoresEveryPredictorAtEveryHorizonOnADaemonCsv(@TempDir Path directory) throws IOException {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        double[] values = new double[600];
        for (int i = 0; i < values.length; i++) {
            values[i] = 100e6 + 20e6 * random.nextGaussian() * (random.nextBoolean() ? 1 : 0) + 20e6;
        }
        Path csv = directory.resolve("link.csv");
        try (Writer writer = Files.newBufferedWriter(csv)) {
            GoodputCsv.write(new GoodputSeries(Duration.ofMillis(100), values), writer);
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int status = new CommandLine(new PbaEvalCommand(new PrintStream(bytes, true, StandardCharsets.UTF_8)))
                .execute("--horizons", "1,5", csv.toString());
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, "seed " + seed + "\n" + out);
        for (GoodputPredictors.Spec spec : GoodputPredictors.all()) {
            for (int horizon : new int[] {1, 5}) {
                assertTrue(
                        out.contains("| link.csv | " + spec.name() + " | " + horizon + " s | "),
                        spec.name() + " " + horizon + "\n" + out);
            }
        }
        assertTrue(out.contains("links use: " + GoodputPredictors.forLinks().name()), out);
    }

    @Test
    void aMalformedTraceIsAUsageError(@TempDir Path directory) throws IOException {
        Path trace = directory.resolve("bad.down");
        Files.writeString(trace, "1\n2\nthree\n");
        PrintStream err = System.err;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            assertEquals(
                    2,
                    new CommandLine(new PbaEvalCommand(new PrintStream(new ByteArrayOutputStream())))
                            .execute(trace.toString()));
        } finally {
            System.setErr(err);
        }
        assertEquals(
                "pba-eval: " + trace + ": line 3: expected a time in ms, found 'three'",
                bytes.toString(StandardCharsets.UTF_8).strip());
    }
}
