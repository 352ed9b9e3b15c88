package io.dwcp.hde;

/** The tier of the link a stream crosses: chooses how hard HDE compresses (see {@link HdeConfig}). */
public enum LinkTier {
    /** Same site (&lt; 2 ms RTT): raw frames, CPU is the scarce resource. */
    LOCAL(1),
    /** Metro or region: a fast zstd level. */
    REGIONAL(2),
    /** Wide-area: the strongest zstd level the CPU keeps up with at the link's rate. */
    WAN(3);

    private final int number;

    LinkTier(int number) {
        this.number = number;
    }

    public int number() {
        return number;
    }

    public static LinkTier ofNumber(int number) {
        for (LinkTier tier : values()) {
            if (tier.number == number) {
                return tier;
            }
        }
        throw new IllegalArgumentException("tier must be 1, 2 or 3: " + number);
    }
}
