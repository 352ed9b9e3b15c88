package io.dwcp.pba;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

class GoodputPredictorTest {
    private static final long STEP = 100_000_000L;
    private static final Duration ONE_STEP = Duration.ofMillis(100);

    @Test
    void unknownBeforeAnyObservationAndExactOnAConstantLink() {
        for (GoodputPredictors.Spec spec : GoodputPredictors.all()) {
            GoodputPredictor predictor = spec.create();
            assertFalse(predictor.predict(Duration.ofSeconds(1)).known(), spec.name());
            for (int i = 1; i <= 200; i++) {
                predictor.observe(i * STEP, 80e6);
            }
            for (Duration horizon : new Duration[] {ONE_STEP, Duration.ofSeconds(1), Duration.ofSeconds(10)}) {
                Prediction prediction = predictor.predict(horizon);
                // the learned one solves a degenerate regression here: exact to 100 parts per million
                assertEquals(80e6, prediction.bitsPerSecond(), 8000, spec.name() + " at " + horizon);
                assertEquals(
                        0,
                        prediction.upperBitsPerSecond() - prediction.lowerBitsPerSecond(),
                        8000,
                        spec.name() + " band");
            }
        }
    }

    @Test
    void ewmaWeighsTimeNotSamples() {
        // a step from 0 to 100 Mbit/s, observed for 2 s (one time constant): 1 - 1/e of the way
        for (long step : new long[] {10_000_000L, 100_000_000L, 500_000_000L}) {
            EwmaPredictor ewma = new EwmaPredictor(Duration.ofSeconds(2));
            ewma.observe(0, 0);
            for (long t = step; t <= 2_000_000_000L; t += step) {
                ewma.observe(t, 100e6);
            }
            assertEquals(
                    100e6 * (1 - Math.exp(-1)),
                    ewma.predict(Duration.ofSeconds(1)).bitsPerSecond(),
                    1e3,
                    "step " + step);
        }
    }

    @Test
    void slidingMeanForgetsWhatIsOlderThanItsWindow() {
        SlidingMeanPredictor mean = new SlidingMeanPredictor(Duration.ofSeconds(2));
        for (int second = 1; second <= 4; second++) {
            mean.observe(second * 1_000_000_000L, second);
        }
        assertEquals(3.5, mean.predict(Duration.ofSeconds(1)).bitsPerSecond(), 1e-9);
    }

    @Test
    void holtFollowsARampThatLevelPredictorsLagBehind() {
        GoodputPredictor holt = GoodputPredictors.holt().create();
        GoodputPredictor ewma = GoodputPredictors.ewma().create();
        // 1 Mbit/s more every second for 60 s
        int samples = 600;
        for (int i = 1; i <= samples; i++) {
            double value = 1e6 * i * 0.1;
            holt.observe(i * STEP, value);
            ewma.observe(i * STEP, value);
        }
        double last = 1e6 * samples * 0.1;
        double truthIn1s = last + 0.5e6; // mean over the next second
        double holtError = Math.abs(holt.predict(Duration.ofSeconds(1)).bitsPerSecond() - truthIn1s);
        double ewmaError = Math.abs(ewma.predict(Duration.ofSeconds(1)).bitsPerSecond() - truthIn1s);
        // the damped trend (2 s) recovers part of the lag, not all of it
        assertTrue(holtError < 0.8 * ewmaError, "holt " + holtError + " ewma " + ewmaError);
    }

    @Test
    void autoregressiveLearnsAnOscillatingLink() {
        long seed = System.nanoTime();
        System.out.println("autoregressiveLearnsAnOscillatingLink seed=" + seed);
        Random random = new Random(seed);
        // AR(2) around 100 Mbit/s: y - m = 1.5 (y1 - m) - 0.8 (y2 - m) + e, e ~ N(0, 1 Mbit/s), a damped oscillation
        double mean = 100e6;
        double y1 = mean;
        double y2 = mean;
        GoodputPredictor learned = GoodputPredictors.autoregressive().create();
        GoodputPredictor ewma = GoodputPredictors.ewma().create();
        double learnedError = 0;
        double ewmaError = 0;
        int scored = 0;
        for (int i = 1; i <= 3000; i++) {
            double expected = mean + 1.5 * (y1 - mean) - 0.8 * (y2 - mean);
            if (i > 2000) {
                learnedError += Math.abs(learned.predict(ONE_STEP).bitsPerSecond() - expected);
                ewmaError += Math.abs(ewma.predict(ONE_STEP).bitsPerSecond() - expected);
                scored++;
            }
            double y = expected + 1e6 * random.nextGaussian();
            learned.observe(i * STEP, y);
            ewma.observe(i * STEP, y);
            y2 = y1;
            y1 = y;
        }
        // the learned one tracks the conditional mean to a fraction of the noise; smoothing cannot
        assertTrue(learnedError / scored < 0.3e6, "seed " + seed + ": learned " + learnedError / scored);
        assertTrue(ewmaError / scored > 1e6, "seed " + seed + ": ewma " + ewmaError / scored);
    }

    @Test
    void bandHoldsAboutFourInFiveOfTheMeasurementsOnANoisyLink() {
        long seed = System.nanoTime();
        System.out.println("bandHolds seed=" + seed);
        Random random = new Random(seed);
        for (GoodputPredictors.Spec spec : GoodputPredictors.all()) {
            GoodputPredictor predictor = spec.create();
            int inside = 0;
            int scored = 0;
            for (int i = 1; i <= 5000; i++) {
                double y = 100e6 + 10e6 * random.nextGaussian();
                if (i > 500) {
                    inside += predictor.predict(ONE_STEP).contains(y) ? 1 : 0;
                    scored++;
                }
                predictor.observe(i * STEP, y);
            }
            double coverage = (double) inside / scored;
            assertTrue(coverage > 0.70 && coverage < 0.90, "seed " + seed + ": " + spec.name() + " " + coverage);
        }
    }
}
