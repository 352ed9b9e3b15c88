package io.dwcp.itp;

/**
 * The true capacity of the links and the uplink over simulated time, piecewise constant: it may
 * change only at {@link #nextChange}.
 */
public interface Capacity {
    double linkBytesPerSecond(String destination, double seconds);

    double uplinkBytesPerSecond(double seconds);

    /** The first time after {@code seconds} at which a capacity may change ({@code +inf}: never). */
    double nextChange(double seconds);

    /** The rates in {@code evacuation}, for ever (what the planner assumes). */
    static Capacity constant(Evacuation evacuation) {
        return new Capacity() {
            @Override
            public double linkBytesPerSecond(String destination, double seconds) {
                return evacuation.link(destination).bytesPerSecond();
            }

            @Override
            public double uplinkBytesPerSecond(double seconds) {
                return evacuation.uplinkBytesPerSecond();
            }

            @Override
            public double nextChange(double seconds) {
                return Double.POSITIVE_INFINITY;
            }
        };
    }
}
