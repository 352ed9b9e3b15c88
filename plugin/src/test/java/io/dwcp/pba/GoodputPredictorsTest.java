package io.dwcp.pba;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class GoodputPredictorsTest {
    /** The learned predictor is used only where it beats the classical ones: re-measured here. */
    @Test
    void linksUseTheBestPredictorOnTheBundledTraces() {
        PredictorEvaluation evaluation = new PredictorEvaluation(Duration.ofSeconds(10));
        List<PredictorEvaluation.Score> scores = new ArrayList<>();
        for (String trace : BundledTraces.NAMES) {
            scores.addAll(evaluation.evaluate(
                    trace,
                    BundledTraces.load(trace),
                    GoodputPredictors.all(),
                    List.of(Duration.ofSeconds(1), Duration.ofSeconds(10))));
        }
        assertEquals(
                PredictorEvaluation.best(scores),
                GoodputPredictors.forLinks().name(),
                "mean relative MAE per predictor: " + PredictorEvaluation.meanRelativeErrors(scores));
    }

    @Test
    void namesAreUniqueAndFound() {
        for (GoodputPredictors.Spec spec : GoodputPredictors.all()) {
            assertEquals(spec.name(), GoodputPredictors.byName(spec.name()).name());
            assertEquals(spec.name(), spec.create().name());
        }
        assertEquals(
                "no predictor 'lstm'; known: [last, mean1s, mean5s, ewma2s, holt, ar10-rls]",
                assertThrows(IllegalArgumentException.class, () -> GoodputPredictors.byName("lstm"))
                        .getMessage());
    }
}
