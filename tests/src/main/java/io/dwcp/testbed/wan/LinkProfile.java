package io.dwcp.testbed.wan;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the emulated WAN does to the packets of one direction, in the order the emulator applies it:
 * <ol>
 *   <li><b>loss</b>: each packet is dropped with probability {@code lossProbability} (Bernoulli,
 *       from a {@link java.util.SplittableRandom} seeded with {@code seed});</li>
 *   <li><b>queue</b>: a drop-tail FIFO in front of the bottleneck; a packet that would make it
 *       hold more than {@code queueLimitBytes} (or, when a time is given, more bytes than the link
 *       carries in {@code queueLimitTime} at its rate, or mean rate for a trace) is dropped;</li>
 *   <li><b>rate</b>: the bottleneck serializes packets at {@code rateBitsPerSecond} counting IP
 *       bytes (0 = unlimited); with a {@code rateTrace}, it instead follows that mahimahi trace
 *       (see {@link RateTrace}) scaled so that its mean is {@code rateBitsPerSecond};</li>
 *   <li><b>delay</b>: a packet leaves {@code delay} plus a jitter drawn uniformly from
 *       [-jitter, +jitter] after the bottleneck let it go (never less than zero), but never before
 *       the packet ahead of it: no reordering, so jitter raises the delay of a packet that would
 *       overtake its predecessor instead.</li>
 * </ol>
 * Rates count IP packets (what a TUN device sees, like mahimahi); a TCP payload is 1448 of each
 * 1500 bytes (IP, TCP and timestamp option headers), so bulk TCP goodput is 96.5 % of the rate.
 */
public record LinkProfile(
        Duration delay,
        Duration jitter,
        double lossProbability,
        long rateBitsPerSecond,
        long queueLimitBytes,
        Duration queueLimitTime,
        Path rateTrace,
        long seed) {
    private static final LinkProfile DIRECT =
            new LinkProfile(Duration.ZERO, Duration.ZERO, 0, 0, 0, Duration.ZERO, null, 1);

    public LinkProfile {
        requireNonNull(delay, "delay is null");
        requireNonNull(jitter, "jitter is null");
        requireNonNull(queueLimitTime, "queueLimitTime is null");
        if (delay.isNegative() || jitter.isNegative() || queueLimitTime.isNegative()) {
            throw new IllegalArgumentException("delay, jitter and queue time must not be negative");
        }
        if (!(lossProbability >= 0 && lossProbability < 1)) {
            throw new IllegalArgumentException("loss probability must be in [0, 1): " + lossProbability);
        }
        if (rateBitsPerSecond < 0 || queueLimitBytes < 0) {
            throw new IllegalArgumentException("rate and queue limit must not be negative");
        }
        if (queueLimitBytes > 0 && !queueLimitTime.isZero()) {
            throw new IllegalArgumentException("give the queue limit in bytes or in time, not both");
        }
        if (!queueLimitTime.isZero() && rateBitsPerSecond == 0) {
            throw new IllegalArgumentException("a queue limit in time needs a rate");
        }
        if (rateTrace != null && rateBitsPerSecond == 0) {
            throw new IllegalArgumentException("a rate trace needs a target mean rate (rateBitsPerSecond)");
        }
    }

    /** No emulation at all: the hosts are joined by a plain veth (when both directions are direct). */
    public static LinkProfile direct() {
        return DIRECT;
    }

    /** A link with only a one-way delay; add the rest with the {@code with...} methods. */
    public static LinkProfile delay(Duration oneWay) {
        return DIRECT.withDelay(oneWay);
    }

    public boolean isDirect() {
        return delay.isZero()
                && jitter.isZero()
                && lossProbability == 0
                && rateBitsPerSecond == 0
                && queueLimitBytes == 0
                && queueLimitTime.isZero()
                && rateTrace == null;
    }

    public LinkProfile withDelay(Duration value) {
        return new LinkProfile(
                value, jitter, lossProbability, rateBitsPerSecond, queueLimitBytes, queueLimitTime, rateTrace, seed);
    }

    public LinkProfile withJitter(Duration value) {
        return new LinkProfile(
                delay, value, lossProbability, rateBitsPerSecond, queueLimitBytes, queueLimitTime, rateTrace, seed);
    }

    public LinkProfile withLoss(double probability) {
        return new LinkProfile(
                delay, jitter, probability, rateBitsPerSecond, queueLimitBytes, queueLimitTime, rateTrace, seed);
    }

    public LinkProfile withRate(long bitsPerSecond) {
        return new LinkProfile(
                delay, jitter, lossProbability, bitsPerSecond, queueLimitBytes, queueLimitTime, rateTrace, seed);
    }

    public LinkProfile withQueueBytes(long bytes) {
        return new LinkProfile(
                delay, jitter, lossProbability, rateBitsPerSecond, bytes, Duration.ZERO, rateTrace, seed);
    }

    public LinkProfile withQueueTime(Duration time) {
        return new LinkProfile(delay, jitter, lossProbability, rateBitsPerSecond, 0, time, rateTrace, seed);
    }

    /** The rate follows {@code trace} (mahimahi format), scaled to a mean of {@link #rateBitsPerSecond}. */
    public LinkProfile withRateTrace(Path trace) {
        return new LinkProfile(
                delay, jitter, lossProbability, rateBitsPerSecond, queueLimitBytes, queueLimitTime, trace, seed);
    }

    public LinkProfile withSeed(long value) {
        return new LinkProfile(
                delay, jitter, lossProbability, rateBitsPerSecond, queueLimitBytes, queueLimitTime, rateTrace, value);
    }

    /** The drop-tail limit in bytes (0 = unbounded), a time limit converted at the (mean) rate. */
    public long effectiveQueueLimitBytes() {
        if (queueLimitBytes > 0) {
            return queueLimitBytes;
        }
        if (queueLimitTime.isZero()) {
            return 0;
        }
        return Math.max(1500, (long) (queueLimitTime.toNanos() * 1e-9 * rateBitsPerSecond / 8));
    }

    /** One line, {@code key=value;...}, read back by {@link #parse}: how the emulator process gets it. */
    public String toSpec() {
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("delayNs", Long.toString(delay.toNanos()));
        fields.put("jitterNs", Long.toString(jitter.toNanos()));
        fields.put("loss", Double.toString(lossProbability));
        fields.put("rate", Long.toString(rateBitsPerSecond));
        fields.put("queueBytes", Long.toString(queueLimitBytes));
        fields.put("queueNs", Long.toString(queueLimitTime.toNanos()));
        fields.put("trace", rateTrace == null ? "" : rateTrace.toString());
        fields.put("seed", Long.toString(seed));
        StringBuilder spec = new StringBuilder();
        fields.forEach((key, value) -> spec.append(spec.length() == 0 ? "" : ";")
                .append(key)
                .append('=')
                .append(value));
        return spec.toString();
    }

    public static LinkProfile parse(String spec) {
        Map<String, String> fields = new LinkedHashMap<>();
        for (String field : spec.split(";")) {
            int equals = field.indexOf('=');
            if (equals < 0) {
                throw new IllegalArgumentException("bad link profile field '" + field + "' in " + spec);
            }
            fields.put(field.substring(0, equals), field.substring(equals + 1));
        }
        try {
            String trace = fields.getOrDefault("trace", "");
            return new LinkProfile(
                    Duration.ofNanos(Long.parseLong(fields.getOrDefault("delayNs", "0"))),
                    Duration.ofNanos(Long.parseLong(fields.getOrDefault("jitterNs", "0"))),
                    Double.parseDouble(fields.getOrDefault("loss", "0")),
                    Long.parseLong(fields.getOrDefault("rate", "0")),
                    Long.parseLong(fields.getOrDefault("queueBytes", "0")),
                    Duration.ofNanos(Long.parseLong(fields.getOrDefault("queueNs", "0"))),
                    trace.isEmpty() ? null : Path.of(trace),
                    Long.parseLong(fields.getOrDefault("seed", "1")));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad link profile " + spec + ": " + e.getMessage(), e);
        }
    }
}
