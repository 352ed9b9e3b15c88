package io.dwcp.pba;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Replays a {@link GoodputSeries} into predictors and scores their predictions.
 *
 * <p>At the end of each bucket {@code t} (after the warm-up), every predictor has observed buckets
 * {@code 0..t} (one observation per bucket, at its end) and predicts each horizon {@code h}. The
 * truth is the mean goodput over the {@link GoodputPredictor#WINDOW} that ends at {@code t + h}.
 * With {@code e = |predicted - truth|}:
 * <ul>
 * <li>MAE = mean of {@code e} (bit/s);</li>
 * <li>MAPE = mean of {@code e / truth}, over predictions whose truth is at least {@link
 * #MAPE_FLOOR} of the series' mean (in an outage the relative error has no meaning);</li>
 * <li>within20 = share of predictions with {@code e <= 0.2 truth};</li>
 * <li>band = share of truths inside the prediction's band (meant to be about 80%).</li>
 * </ul>
 */
public final class PredictorEvaluation {
    static final double MAPE_FLOOR = 0.05;

    /** One predictor at one horizon on one series. */
    public record Score(
            String trace,
            String predictor,
            Duration horizon,
            int predictions,
            double meanAbsoluteError,
            double meanAbsolutePercentageError,
            double within20,
            double bandCoverage,
            double seriesMean) {
        /** MAE as a share of the series' mean goodput, comparable across traces. */
        public double relativeMeanAbsoluteError() {
            return meanAbsoluteError / seriesMean;
        }
    }

    /**
     * The predictor with the lowest mean {@link Score#relativeMeanAbsoluteError} over all the
     * traces and horizons in {@code scores} (each trace and horizon weighs the same).
     */
    public static String best(List<Score> scores) {
        return meanRelativeErrors(scores).entrySet().stream()
                .min(Map.Entry.comparingByValue())
                .orElseThrow(() -> new IllegalArgumentException("no score"))
                .getKey();
    }

    /** Per predictor, the mean relative MAE over the traces and horizons in {@code scores}, in first-seen order. */
    public static Map<String, Double> meanRelativeErrors(List<Score> scores) {
        Map<String, double[]> sums = new LinkedHashMap<>();
        for (Score score : scores) {
            double[] sum = sums.computeIfAbsent(score.predictor(), name -> new double[2]);
            sum[0] += score.relativeMeanAbsoluteError();
            sum[1]++;
        }
        Map<String, Double> means = new LinkedHashMap<>();
        sums.forEach((name, sum) -> means.put(name, sum[0] / sum[1]));
        return means;
    }

    private final Duration warmUp;

    public PredictorEvaluation(Duration warmUp) {
        this.warmUp = requireNonNull(warmUp, "warmUp is null");
    }

    public List<Score> evaluate(
            String trace, GoodputSeries series, List<GoodputPredictors.Spec> specs, List<Duration> horizons) {
        int window = series.buckets(GoodputPredictor.WINDOW);
        long bucketNanos = series.bucket().toNanos();
        int first = series.buckets(warmUp) - 1;
        double floor = MAPE_FLOOR * series.mean();
        List<Score> scores = new ArrayList<>();
        for (GoodputPredictors.Spec spec : specs) {
            Accumulator[] accumulators = new Accumulator[horizons.size()];
            for (int i = 0; i < accumulators.length; i++) {
                accumulators[i] = new Accumulator();
            }
            GoodputPredictor predictor = spec.create();
            for (int t = 0; t < series.size(); t++) {
                predictor.observe((t + 1) * bucketNanos, series.bitsPerSecond(t));
                if (t < first) {
                    continue;
                }
                for (int h = 0; h < horizons.size(); h++) {
                    int end = t + 1 + series.buckets(horizons.get(h));
                    if (end > series.size()) {
                        continue;
                    }
                    double truth = series.mean(Math.max(0, end - window), end);
                    accumulators[h].add(predictor.predict(horizons.get(h)), truth, floor);
                }
            }
            for (int h = 0; h < horizons.size(); h++) {
                scores.add(accumulators[h].score(trace, spec.name(), horizons.get(h), series.mean()));
            }
        }
        return scores;
    }

    private static final class Accumulator {
        private int count;
        private double absoluteErrors;
        private int percentageCount;
        private double percentageErrors;
        private int within20;
        private int inBand;

        void add(Prediction prediction, double truth, double floor) {
            if (!prediction.known()) {
                return;
            }
            double error = Math.abs(prediction.bitsPerSecond() - truth);
            count++;
            absoluteErrors += error;
            if (truth >= floor && truth > 0) {
                percentageCount++;
                percentageErrors += error / truth;
            }
            if (error <= 0.2 * truth) {
                within20++;
            }
            if (prediction.contains(truth)) {
                inBand++;
            }
        }

        Score score(String trace, String predictor, Duration horizon, double seriesMean) {
            return new Score(
                    trace,
                    predictor,
                    horizon,
                    count,
                    count == 0 ? Double.NaN : absoluteErrors / count,
                    percentageCount == 0 ? Double.NaN : percentageErrors / percentageCount,
                    count == 0 ? Double.NaN : (double) within20 / count,
                    count == 0 ? Double.NaN : (double) inBand / count,
                    seriesMean);
        }
    }
}
