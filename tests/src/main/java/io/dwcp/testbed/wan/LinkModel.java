package io.dwcp.testbed.wan;

import static java.util.Objects.requireNonNull;

import java.util.SplittableRandom;

/**
 * The arithmetic of one emulated direction, apart from any packet I/O: given when a packet of
 * some size arrives, when may it leave, or is it dropped (see {@link LinkProfile} for the order of
 * loss, queue, rate and delay). Deterministic for a given seed and arrival sequence, so it is unit
 * tested with made-up clocks. One thread only.
 */
public final class LinkModel {
    /** {@link #arrive} result: dropped by the random loss. */
    public static final long DROPPED_BY_LOSS = -1;
    /** {@link #arrive} result: dropped because the drop-tail queue was full. */
    public static final long DROPPED_BY_QUEUE = -2;

    private final double lossProbability;
    private final long delayNanos;
    private final long jitterNanos;
    private final long queueLimitBytes;
    /** Nanoseconds per byte at the bottleneck; 0 when unlimited or trace-driven. */
    private final double nanosPerByte;

    private final SplittableRandom random;

    private final long[] traceNanos;
    private final long tracePeriodNanos;
    private final double opportunityBytes;
    private final long origin;

    /** Departures from the bottleneck of the packets still in it, oldest first (ring). */
    private long[] queuedDeparture = new long[1024];

    private int[] queuedBytes = new int[1024];
    private int queueHead;
    private int queueCount;
    private long backlogBytes;

    private double lastDeparture = Double.NEGATIVE_INFINITY;
    private long lastRelease = Long.MIN_VALUE;
    // trace position: opportunity index (across loops) and bytes it has left
    private long opportunity = -1;
    private double opportunityLeft;

    public LinkModel(LinkProfile profile, long originNanos) {
        requireNonNull(profile, "profile is null");
        this.lossProbability = profile.lossProbability();
        this.delayNanos = profile.delay().toNanos();
        this.jitterNanos = profile.jitter().toNanos();
        this.queueLimitBytes = profile.effectiveQueueLimitBytes();
        this.random = new SplittableRandom(profile.seed());
        this.origin = originNanos;
        if (profile.rateTrace() != null) {
            RateTrace trace = RateTrace.load(profile.rateTrace());
            this.traceNanos = new long[trace.opportunityMillis().length];
            for (int i = 0; i < traceNanos.length; i++) {
                traceNanos[i] = trace.opportunityMillis()[i] * 1_000_000L;
            }
            this.tracePeriodNanos = trace.periodMillis() * 1_000_000L;
            this.opportunityBytes =
                    RateTrace.OPPORTUNITY_BYTES * profile.rateBitsPerSecond() / trace.meanBitsPerSecond();
            this.nanosPerByte = 0;
        } else {
            this.traceNanos = null;
            this.tracePeriodNanos = 0;
            this.opportunityBytes = 0;
            this.nanosPerByte = profile.rateBitsPerSecond() == 0 ? 0 : 8e9 / profile.rateBitsPerSecond();
        }
    }

    /**
     * A packet of {@code bytes} arrives at {@code now} (nanoseconds, same clock as the origin).
     * Returns when it leaves the emulated link, never earlier than the previous packet's answer,
     * or {@link #DROPPED_BY_LOSS} / {@link #DROPPED_BY_QUEUE}.
     */
    public long arrive(long now, int bytes) {
        if (lossProbability > 0 && random.nextDouble() < lossProbability) {
            return DROPPED_BY_LOSS;
        }
        while (queueCount > 0 && queuedDeparture[queueHead] <= now) {
            backlogBytes -= queuedBytes[queueHead];
            queueHead = (queueHead + 1) & (queuedDeparture.length - 1);
            queueCount--;
        }
        if (queueLimitBytes > 0 && backlogBytes + bytes > queueLimitBytes) {
            return DROPPED_BY_QUEUE;
        }
        long departure;
        if (traceNanos != null) {
            departure = traceDeparture(now, bytes);
        } else if (nanosPerByte > 0) {
            double start = Math.max(now, lastDeparture);
            lastDeparture = start + bytes * nanosPerByte;
            departure = (long) Math.ceil(lastDeparture);
        } else {
            departure = now;
        }
        if (departure > now) {
            enqueue(departure, bytes);
        }
        long release = departure + delayNanos;
        if (jitterNanos > 0) {
            release = Math.max(departure, release + random.nextLong(-jitterNanos, jitterNanos + 1));
        }
        release = Math.max(release, lastRelease);
        lastRelease = release;
        return release;
    }

    /** Bytes waiting for (or in) the bottleneck after the last arrival. */
    public long backlogBytes() {
        return backlogBytes;
    }

    private long opportunityTime(long index) {
        long loop = index / traceNanos.length;
        return origin + loop * tracePeriodNanos + traceNanos[(int) (index % traceNanos.length)];
    }

    private long traceDeparture(long now, int bytes) {
        if (opportunity < 0 || opportunityTime(opportunity) < now) {
            // The queue ran empty before now: skip the opportunities that found nothing to send.
            opportunity = firstOpportunityAtOrAfter(now);
            opportunityLeft = opportunityBytes;
        }
        double needed = bytes;
        while (needed > opportunityLeft) {
            needed -= opportunityLeft;
            opportunity++;
            opportunityLeft = opportunityBytes;
        }
        opportunityLeft -= needed;
        return opportunityTime(opportunity);
    }

    private long firstOpportunityAtOrAfter(long now) {
        long since = Math.max(0, now - origin);
        long loop = since / tracePeriodNanos;
        long within = since - loop * tracePeriodNanos;
        int low = 0;
        int high = traceNanos.length; // first index with traceNanos[index] >= within
        while (low < high) {
            int middle = (low + high) >>> 1;
            if (traceNanos[middle] < within) {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        long index = loop * traceNanos.length + low; // low == length rolls over into the next loop
        // an opportunity at exactly the period belongs to the loop before
        while (index > 0 && opportunityTime(index - 1) >= now) {
            index--;
        }
        return index;
    }

    private void enqueue(long departure, int bytes) {
        if (queueCount == queuedDeparture.length) {
            long[] departures = new long[queueCount * 2];
            int[] sizes = new int[queueCount * 2];
            for (int i = 0; i < queueCount; i++) {
                int from = (queueHead + i) & (queuedDeparture.length - 1);
                departures[i] = queuedDeparture[from];
                sizes[i] = queuedBytes[from];
            }
            queuedDeparture = departures;
            queuedBytes = sizes;
            queueHead = 0;
        }
        int tail = (queueHead + queueCount) & (queuedDeparture.length - 1);
        queuedDeparture[tail] = departure;
        queuedBytes[tail] = bytes;
        queueCount++;
        backlogBytes += bytes;
    }
}
