package io.dwcp.itp.sim;

import static java.util.Objects.requireNonNull;

import io.dwcp.itp.Capacity;
import io.dwcp.pba.GoodputSeries;
import java.util.Map;

/**
 * Links whose capacity follows a measured trace: link {@code d} has mean {@code m_d} and, in
 * bucket {@code i} of the simulation, capacity {@code m_d x shape[(i + offset_d) mod n] /
 * mean(shape)} (the trace replayed in a loop, each link from its own offset, so links do not move
 * together). The uplink is constant.
 */
public final class TraceCapacity implements Capacity {
    private final double[] shape;
    private final double bucketSeconds;
    private final Map<String, Double> meanBytesPerSecond;
    private final Map<String, Integer> offsets;
    private final double uplinkBytesPerSecond;

    public TraceCapacity(
            GoodputSeries trace,
            Map<String, Double> meanBytesPerSecond,
            Map<String, Integer> offsets,
            double uplinkBytesPerSecond) {
        requireNonNull(trace, "trace is null");
        double mean = trace.mean();
        if (!(mean > 0)) {
            throw new IllegalArgumentException("trace has no capacity at all");
        }
        this.shape = trace.toArray();
        for (int i = 0; i < shape.length; i++) {
            shape[i] /= mean;
        }
        this.bucketSeconds = trace.bucket().toNanos() / 1e9;
        this.meanBytesPerSecond = Map.copyOf(meanBytesPerSecond);
        this.offsets = Map.copyOf(offsets);
        this.uplinkBytesPerSecond = uplinkBytesPerSecond;
    }

    @Override
    public double linkBytesPerSecond(String destination, double seconds) {
        Double mean = meanBytesPerSecond.get(destination);
        if (mean == null) {
            throw new IllegalArgumentException("no link to " + destination);
        }
        long bucket = (long) Math.floor(seconds / bucketSeconds) + offsets.getOrDefault(destination, 0);
        return mean * shape[(int) Math.floorMod(bucket, (long) shape.length)];
    }

    @Override
    public double uplinkBytesPerSecond(double seconds) {
        return uplinkBytesPerSecond;
    }

    @Override
    public double nextChange(double seconds) {
        return (Math.floor(seconds / bucketSeconds + 1e-9) + 1) * bucketSeconds;
    }
}
