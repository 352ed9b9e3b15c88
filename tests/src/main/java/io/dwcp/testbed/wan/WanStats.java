package io.dwcp.testbed.wan;

import static java.util.Objects.requireNonNull;

/**
 * Counters of the WAN emulator since it started, per direction. A direction that is not emulated
 * (its profile is {@link LinkProfile#direct()}) reads all zero, with {@code emulated} false.
 */
public record WanStats(Direction aToB, Direction bToA) {
    public static final WanStats NOT_EMULATED = new WanStats(Direction.NOT_EMULATED, Direction.NOT_EMULATED);

    public WanStats {
        requireNonNull(aToB, "aToB is null");
        requireNonNull(bToA, "bToA is null");
    }

    /**
     * @param packetsIn        packets the emulator read from the direction's TUN device
     * @param packetsOut       packets it wrote back (delivered onwards)
     * @param droppedByLoss    packets dropped by the random loss
     * @param droppedByQueue   packets dropped because the drop-tail queue (or the emulator's own
     *                         buffer, which should never happen) was full
     * @param bytesIn          IP bytes read
     * @param bytesOut         IP bytes written back
     */
    public record Direction(
            boolean emulated,
            long packetsIn,
            long packetsOut,
            long droppedByLoss,
            long droppedByQueue,
            long bytesIn,
            long bytesOut) {
        public static final Direction NOT_EMULATED = new Direction(false, 0, 0, 0, 0, 0, 0);

        /** Packets read but not yet delivered nor dropped: in the emulated queue or delay line. */
        public long packetsInFlight() {
            return packetsIn - packetsOut - droppedByLoss - droppedByQueue;
        }

        String toLine() {
            return packetsIn + " " + packetsOut + " " + droppedByLoss + " " + droppedByQueue + " " + bytesIn + " "
                    + bytesOut;
        }

        static Direction parse(String[] fields, int from) {
            return new Direction(
                    true,
                    Long.parseLong(fields[from]),
                    Long.parseLong(fields[from + 1]),
                    Long.parseLong(fields[from + 2]),
                    Long.parseLong(fields[from + 3]),
                    Long.parseLong(fields[from + 4]),
                    Long.parseLong(fields[from + 5]));
        }
    }
}
