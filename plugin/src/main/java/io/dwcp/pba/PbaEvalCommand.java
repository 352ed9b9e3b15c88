package io.dwcp.pba;

import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code dwcp pba-eval [--scale X] [--bucket-ms N] [--horizons 1,10] TRACE...}: scores every
 * predictor on each trace (a mahimahi trace, or a {@code .csv} of the daemon's measurements in the
 * {@link GoodputCsv} format) and prints one table. Ready for the {@code dwcp} command to register;
 * also runnable alone through {@link #main}, from a clone:
 * <pre>
 *   mvn -B -ntp -q -pl plugin -am package -DskipTests
 *   java -cp 'plugin/target/classes:plugin/target/lib/*' io.dwcp.pba.PbaEvalCommand \
 *       plugin/src/test/resources/io/dwcp/pba/traces/*.down
 * </pre>
 */
@Command(
        name = "pba-eval",
        mixinStandardHelpOptions = true,
        description = {
            "Score the bandwidth predictors (PBA) on link traces: MAE, MAPE, share within +-20%%, band coverage.",
            "TRACE: a mahimahi trace (one ms timestamp per 1500-byte delivery opportunity), or FILE.csv",
            "with the header time_ms,bits_per_second (measurements recorded by dwcpd).",
            "Exit status: 0 fine, 2 usage error or unreadable trace."
        })
public final class PbaEvalCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "TRACE", description = "trace files")
    List<Path> traces;

    @Option(
            names = "--scale",
            defaultValue = "30",
            description = "multiply mahimahi rates by this (a cellular link as a WAN path; default ${DEFAULT-VALUE})")
    double scale;

    @Option(
            names = "--bucket-ms",
            defaultValue = "100",
            description = "measurement interval in ms (default ${DEFAULT-VALUE})")
    int bucketMillis;

    @Option(
            names = "--horizons",
            split = ",",
            defaultValue = "1,10",
            description = "horizons in seconds (default ${DEFAULT-VALUE})")
    List<Integer> horizonSeconds;

    @Option(
            names = "--warm-up",
            defaultValue = "10",
            description = "seconds observed before scoring (default ${DEFAULT-VALUE})")
    int warmUpSeconds;

    private final PrintStream out;

    public PbaEvalCommand() {
        this(System.out);
    }

    PbaEvalCommand(PrintStream out) {
        this.out = out;
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new PbaEvalCommand()).execute(args));
    }

    @Override
    public Integer call() {
        if (bucketMillis <= 0
                || !(scale > 0)
                || warmUpSeconds < 0
                || horizonSeconds.stream().anyMatch(h -> h <= 0)) {
            System.err.println("pba-eval: need --bucket-ms > 0, --scale > 0, --warm-up >= 0 and horizons > 0");
            return 2;
        }
        Duration bucket = Duration.ofMillis(bucketMillis);
        List<Duration> horizons =
                horizonSeconds.stream().map(Duration::ofSeconds).toList();
        PredictorEvaluation evaluation = new PredictorEvaluation(Duration.ofSeconds(warmUpSeconds));
        List<PredictorEvaluation.Score> scores = new ArrayList<>();
        for (Path trace : traces) {
            GoodputSeries series;
            try {
                series = load(trace, bucket, scale);
            } catch (IOException | TraceFormatException e) {
                System.err.println("pba-eval: " + trace + ": " + e.getMessage());
                return 2;
            }
            out.printf(
                    Locale.ROOT,
                    "%s: %.0f s, mean %.1f Mbit/s%n",
                    trace.getFileName(),
                    series.duration().toMillis() / 1000.0,
                    series.mean() / 1e6);
            scores.addAll(
                    evaluation.evaluate(trace.getFileName().toString(), series, GoodputPredictors.all(), horizons));
        }
        out.println();
        out.print(table(scores));
        out.println();
        PredictorEvaluation.meanRelativeErrors(scores)
                .forEach((name, error) -> out.printf(
                        Locale.ROOT, "%-10s mean MAE / trace mean over traces and horizons: %.3f%n", name, error));
        out.println("best: " + PredictorEvaluation.best(scores) + "; links use: "
                + GoodputPredictors.forLinks().name());
        return 0;
    }

    /** A {@code .csv} file as {@link GoodputCsv} (not scaled), anything else as a mahimahi trace times {@code scale}. */
    static GoodputSeries load(Path trace, Duration bucket, double scale) throws IOException {
        try (Reader reader = Files.newBufferedReader(trace, StandardCharsets.US_ASCII)) {
            if (trace.getFileName().toString().endsWith(".csv")) {
                return GoodputCsv.read(reader, bucket);
            }
            return MahimahiTrace.read(reader, bucket).scaled(scale);
        }
    }

    /** A Markdown table: trace, predictor, horizon, predictions, MAE (Mbit/s), MAPE, within +-20%, band. */
    public static String table(List<PredictorEvaluation.Score> scores) {
        StringBuilder table = new StringBuilder();
        table.append("| trace | predictor | horizon | n | MAE Mbit/s | MAPE | within ±20% | in band |\n");
        table.append("|---|---|---|---|---|---|---|---|\n");
        for (PredictorEvaluation.Score score : scores) {
            table.append(String.format(
                    Locale.ROOT,
                    "| %s | %s | %d s | %d | %.1f | %.1f%% | %.1f%% | %.1f%% |%n",
                    score.trace(),
                    score.predictor(),
                    score.horizon().toSeconds(),
                    score.predictions(),
                    score.meanAbsoluteError() / 1e6,
                    100 * score.meanAbsolutePercentageError(),
                    100 * score.within20(),
                    100 * score.bandCoverage()));
        }
        return table.toString();
    }
}
