package io.dwcp.testbed.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Where a migration's wire count starts: at {@code migrate}, or at its announcement. */
class WireCounterTest {
    private final AtomicLong forward = new AtomicLong(100);
    private final AtomicLong reverse = new AtomicLong(10);

    @Test
    void aPlainCounterStartsAtMigrateAndACounterSinceAnAnnouncementKeepsWhatWasSentBefore() {
        MigrationRun.WireCounter plain = MigrationRun.WireCounter.of(forward::get, reverse::get);
        MigrationRun.WireCounter announced = MigrationRun.WireCounter.since(forward::get, reverse::get);
        // padding of the spare streams after the announcement, before QEMU's migrate
        forward.addAndGet(50);
        reverse.addAndGet(5);
        assertEquals(150, plain.forwardOrigin());
        assertEquals(15, plain.reverseOrigin());
        assertEquals(100, announced.forwardOrigin());
        assertEquals(10, announced.reverseOrigin());
        forward.addAndGet(1000);
        assertEquals(1150, announced.forwardBytes());
        assertEquals(1150, plain.forwardBytes());
        assertEquals(15, announced.reverseBytes());
    }
}
