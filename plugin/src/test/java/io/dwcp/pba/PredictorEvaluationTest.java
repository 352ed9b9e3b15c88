package io.dwcp.pba;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class PredictorEvaluationTest {
    private static final Duration BUCKET = Duration.ofMillis(100);

    @Test
    void aConstantLinkIsPredictedExactly() {
        double[] constant = new double[100];
        Arrays.fill(constant, 50e6);
        List<PredictorEvaluation.Score> scores = new PredictorEvaluation(Duration.ofSeconds(1))
                .evaluate(
                        "flat",
                        new GoodputSeries(BUCKET, constant),
                        List.of(GoodputPredictors.lastValue()),
                        List.of(Duration.ofSeconds(1)));
        PredictorEvaluation.Score score = scores.get(0);
        // predictions at the end of buckets 9..89: the 1 s after bucket 89 is the last one in the series
        assertEquals(81, score.predictions());
        assertEquals(0, score.meanAbsoluteError());
        assertEquals(0, score.meanAbsolutePercentageError());
        assertEquals(1, score.within20());
        assertEquals(1, score.bandCoverage());
    }

    @Test
    void scoresAStepByHand() {
        // 5 s at 100, then 5 s at 200; last value, 1 s ahead: the prediction made at the end of bucket
        // 39 + k (k = 1..10) sees k buckets of 200 in its next second: truth 100 + 10 k, error 10 k
        double[] step = new double[100];
        Arrays.fill(step, 0, 50, 100);
        Arrays.fill(step, 50, 100, 200);
        PredictorEvaluation.Score score = new PredictorEvaluation(Duration.ofSeconds(1))
                .evaluate(
                        "step",
                        new GoodputSeries(BUCKET, step),
                        List.of(GoodputPredictors.lastValue()),
                        List.of(Duration.ofSeconds(1)))
                .get(0);
        assertEquals(81, score.predictions());
        assertEquals(550.0 / 81, score.meanAbsoluteError(), 1e-9);
        double percentages = 0;
        int within = 0;
        for (int k = 1; k <= 10; k++) {
            percentages += 10.0 * k / (100 + 10 * k);
            within += 10 * k <= 0.2 * (100 + 10 * k) ? 1 : 0; // k = 1, 2
        }
        assertEquals(2, within);
        assertEquals(percentages / 81, score.meanAbsolutePercentageError(), 1e-9);
        assertEquals((81 - 10 + 2) / 81.0, score.within20(), 1e-9);
        assertEquals(150, score.seriesMean());
    }

    @Test
    void bestIsTheLowestMeanRelativeError() {
        Duration second = Duration.ofSeconds(1);
        List<PredictorEvaluation.Score> scores = List.of(
                new PredictorEvaluation.Score("a", "x", second, 1, 10, 0, 0, 0, 100), // 0.10
                new PredictorEvaluation.Score("b", "x", second, 1, 30, 0, 0, 0, 100), // 0.30 -> x: 0.20
                new PredictorEvaluation.Score("a", "y", second, 1, 25, 0, 0, 0, 100), // 0.25
                new PredictorEvaluation.Score("b", "y", second, 1, 5, 0, 0, 0, 100)); // 0.05 -> y: 0.15
        assertEquals("y", PredictorEvaluation.best(scores));
        assertEquals(0.20, PredictorEvaluation.meanRelativeErrors(scores).get("x"), 1e-12);
    }
}
