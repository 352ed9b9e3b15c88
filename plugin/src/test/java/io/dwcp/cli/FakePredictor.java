package io.dwcp.cli;

import io.dwcp.pba.GoodputPredictor;
import io.dwcp.pba.Prediction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A hand-written PBA predictor for the evacuation's tests: remembers what it was fed, predicts what it is told. */
final class FakePredictor implements GoodputPredictor {
    /** Each observation: {time in ns, bits/s}. */
    final List<double[]> observed = new ArrayList<>();

    Prediction prediction = Prediction.UNKNOWN;

    @Override
    public void observe(long timeNanos, double bitsPerSecond) {
        observed.add(new double[] {timeNanos, bitsPerSecond});
    }

    @Override
    public Prediction predict(Duration horizon) {
        return prediction;
    }

    @Override
    public String name() {
        return "fake";
    }
}
