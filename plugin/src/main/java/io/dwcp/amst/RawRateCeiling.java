package io.dwcp.amst;

/**
 * The fastest QEMU's stream can cross the link now, in raw bytes per second: the link's rate times
 * the stream's most recent compression (raw bytes read from QEMU per frame byte the encoding made
 * of them). The raw window and the read pace follow the highest rate at which the peer's QEMU
 * received the stream; when the encoding shrinks pages to small deltas or zero references, that
 * rate runs far above what the link can carry of the pages that follow, if those compress less.
 * QEMU then judges its switch-over on a bandwidth its last pages do not get: on S3 heavy it
 * estimated 1,210 Mbit/s on a 200 Mbit/s link and stayed stopped 5.3 s. Bounding both by this
 * ceiling keeps QEMU's estimate, and the queue its last bytes wait behind, at what the link drains
 * at the compression of the bytes just read, which the bytes still to come are most like.
 *
 * <p>The compression is measured over at least {@link #MIN_RAW_BYTES} read (a quieter interval
 * adds to the next). The link's rate is the highest goodput (frame bytes the peer consumed per
 * second, {@link LinkMonitor}) of the last {@link #LINK_SAMPLES} samples: what the link was seen to
 * carry, as the raw window's own rate is the highest delivery of as many samples, so that the two
 * differ only where the compression changed. (The congestion windows' rate, cwnd x MSS / RTT
 * summed over the streams, ran 3-5 times above the link on S2 and S3 and would bound nothing.)
 * Unknown (0) until both were measured.
 *
 * <p>Not thread-safe: owned by its session's event loop.
 */
public final class RawRateCeiling {
    /** Raw bytes an interval must read before its compression counts: less says little. */
    public static final long MIN_RAW_BYTES = 1 << 20;

    /** Samples the link's rate is the highest of: as many as the raw window's delivery rate. */
    public static final int LINK_SAMPLES = RawWindow.RATE_SAMPLES;

    private final double[] linkRates = new double[LINK_SAMPLES];
    private int nextLink;
    private long baseRaw = -1;
    private long baseWire;
    // raw bytes per frame byte over the last measured stretch; 0: not measured
    private double rawPerWire;

    /**
     * A sample, once per adaptation interval.
     *
     * @param rawRead raw bytes read from QEMU so far (cumulative)
     * @param wireSent frame bytes the encoding handed to the sender so far (cumulative)
     * @param linkBytesPerSecond the goodput of this sample's interval, frame bytes per second; 0 or less: none
     */
    public void sample(long rawRead, long wireSent, double linkBytesPerSecond) {
        linkRates[nextLink] = linkBytesPerSecond > 0 ? linkBytesPerSecond : 0;
        nextLink = (nextLink + 1) % LINK_SAMPLES;
        if (baseRaw < 0) {
            baseRaw = rawRead;
            baseWire = wireSent;
            return;
        }
        long raw = rawRead - baseRaw;
        long wire = wireSent - baseWire;
        if (raw < MIN_RAW_BYTES || wire <= 0) {
            return; // too little to say: the stretch goes on into the next interval
        }
        rawPerWire = (double) raw / wire;
        baseRaw = rawRead;
        baseWire = wireSent;
    }

    /** Raw bytes per frame byte over the last measured stretch; 0 before the first. */
    public double rawPerWire() {
        return rawPerWire;
    }

    /** The ceiling in raw bytes per second; 0 while it is not known (no bound). */
    public double bytesPerSecond() {
        return linkBytesPerSecond() * rawPerWire;
    }

    /** The link's rate: the highest goodput of the last {@link #LINK_SAMPLES} samples, frame bytes per second; 0 before any. */
    public double linkBytesPerSecond() {
        double link = 0;
        for (double rate : linkRates) {
            link = Math.max(link, rate);
        }
        return link;
    }
}
