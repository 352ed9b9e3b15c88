package io.dwcp.testbed.qemu;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Map;

/**
 * The guest's page dirty rate as QEMU measures it ({@code calc-dirty-rate} in its default
 * page-sampling mode, then {@code query-dirty-rate}): what a migration has to keep up with,
 * whatever program dirties the pages. Available in QEMU 5.2 and later, so in 7.2 and 10.
 */
public final class DirtyRate {
    private static final Duration POLL = Duration.ofMillis(100);

    private DirtyRate() {}

    /**
     * Measures for {@code seconds} (1..60) and returns the rate in MiB/s. Blocks for about that
     * long: the caller's wait before a migration can be this measurement.
     */
    public static long measureMiBPerSecond(Qmp qmp, int seconds) throws InterruptedException {
        requireNonNull(qmp, "qmp is null");
        if (seconds < 1 || seconds > 60) {
            throw new IllegalArgumentException("seconds must be 1..60, not " + seconds);
        }
        qmp.execute("calc-dirty-rate", Map.of("calc-time", seconds));
        long deadline = System.nanoTime() + Duration.ofSeconds(seconds + 10L).toNanos();
        while (true) {
            JsonNode result = qmp.execute("query-dirty-rate");
            String status = result.path("status").asText();
            if (status.equals("measured")) {
                return result.path("dirty-rate").asLong();
            }
            // "unstarted" until QEMU's measuring thread has begun, just after the command
            if (!status.equals("measuring") && !status.equals("unstarted")) {
                throw new QmpException("query-dirty-rate: status '" + status + "' after calc-dirty-rate: " + result);
            }
            if (System.nanoTime() > deadline) {
                throw new QmpException("query-dirty-rate: still measuring " + (seconds + 10) + " s after a " + seconds
                        + " s calc-dirty-rate");
            }
            Thread.sleep(POLL.toMillis());
        }
    }
}
