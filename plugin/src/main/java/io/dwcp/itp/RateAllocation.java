package io.dwcp.itp;

import java.util.Arrays;
import java.util.Comparator;

/**
 * How concurrent migrations share the links (max-min fairness, as competing TCP flows roughly do).
 * Migration {@code i} goes to destination {@code d(i)}; {@code n_d} migrations share the link to
 * {@code d} of capacity {@code C_d}, each limited to {@code p_d}; all share the uplink {@code U}.
 * Each first gets its link share {@code c_i = min(p_d, C_d / n_d)}; then the uplink is filled
 * from the smallest {@code c_i} up, each taking {@code r_i = min(c_i, U_left / m_left)}. A link's
 * migrations all have the same {@code c_i}, so no link is exceeded; what one migration cannot use
 * of the uplink goes to the others.
 */
public final class RateAllocation {
    private RateAllocation() {}

    /**
     * @param linkShare per migration, {@code min(p_d, C_d / n_d)} of its link
     * @return per migration, its rate in bytes/s
     */
    public static double[] allocate(double[] linkShare, double uplinkBytesPerSecond) {
        Integer[] order = new Integer[linkShare.length];
        Arrays.setAll(order, i -> i);
        Arrays.sort(order, Comparator.comparingDouble(i -> linkShare[i]));
        double[] rates = new double[linkShare.length];
        double left = Math.max(0, uplinkBytesPerSecond);
        int remaining = linkShare.length;
        for (int i : order) {
            rates[i] = Math.min(linkShare[i], left / remaining);
            left -= rates[i];
            remaining--;
        }
        return rates;
    }
}
