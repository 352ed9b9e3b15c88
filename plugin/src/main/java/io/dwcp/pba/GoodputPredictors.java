package io.dwcp.pba;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;

/**
 * The predictors by name, with the parameters the evaluation measured, and the one a link uses.
 */
public final class GoodputPredictors {
    /** A named way to make a fresh predictor. */
    public record Spec(String name, Supplier<GoodputPredictor> factory) {
        public Spec {
            requireNonNull(name, "name is null");
            requireNonNull(factory, "factory is null");
        }

        public GoodputPredictor create() {
            return factory.get();
        }
    }

    private GoodputPredictors() {}

    public static Spec lastValue() {
        return new Spec("last", LastValuePredictor::new);
    }

    /** The goodput of the last second: what a once-a-second measurement would report. */
    public static Spec lastSecond() {
        return new Spec("mean1s", () -> new SlidingMeanPredictor(Duration.ofSeconds(1)));
    }

    public static Spec slidingMean() {
        return new Spec("mean5s", () -> new SlidingMeanPredictor(Duration.ofSeconds(5)));
    }

    public static Spec ewma() {
        return new Spec("ewma2s", () -> new EwmaPredictor(Duration.ofSeconds(2)));
    }

    public static Spec holt() {
        return new Spec(
                "holt", () -> new HoltPredictor(Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(2)));
    }

    /** The learned one: AR(10) over the last ~20 s of 100 ms measurements. */
    public static Spec autoregressive() {
        return new Spec("ar10-rls", () -> new AutoregressivePredictor(10, 0.995));
    }

    /** The classical predictors, the learned one last. */
    public static List<Spec> all() {
        return List.of(lastValue(), lastSecond(), slidingMean(), ewma(), holt(), autoregressive());
    }

    public static List<Spec> classical() {
        return List.of(lastValue(), lastSecond(), slidingMean(), ewma(), holt());
    }

    /**
     * The predictor a link uses: the one with the lowest {@link PredictorEvaluation#best mean
     * relative MAE} over the bundled traces at 1 s and 10 s. The learned one is used only because
     * it wins there (mean MAE / trace mean 0.45 against 0.48 for the best classical one, the mean
     * of the last second); {@code GoodputPredictorsTest} re-measures this choice on every build.
     */
    public static Spec forLinks() {
        return autoregressive();
    }

    public static Spec byName(String name) {
        for (Spec spec : all()) {
            if (spec.name().equals(name)) {
                return spec;
            }
        }
        throw new IllegalArgumentException("no predictor '" + name + "'; known: "
                + all().stream().map(Spec::name).toList());
    }
}
