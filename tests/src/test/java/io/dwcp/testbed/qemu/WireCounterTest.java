package io.dwcp.testbed.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Where a migration's wire count starts: at {@code migrate}, or at its announcement. */
class WireCounterTest {
    @Test
    void aPlainCounterStartsWhereItIsReadFirst() {
        AtomicLong forward = new AtomicLong(100);
        AtomicLong reverse = new AtomicLong(10);
        MigrationRun.WireCounter wire = MigrationRun.WireCounter.of(forward::get, reverse::get);
        forward.addAndGet(50);
        reverse.addAndGet(5);
        assertEquals(150, wire.forwardOrigin());
        assertEquals(15, wire.reverseOrigin());
        assertEquals(150, wire.forwardBytes());
    }

    @Test
    void aCounterSinceAnAnnouncementKeepsWhatWasSentBeforeTheMigrateCommand() {
        AtomicLong forward = new AtomicLong(100);
        AtomicLong reverse = new AtomicLong(10);
        MigrationRun.WireCounter wire = MigrationRun.WireCounter.since(forward::get, reverse::get);
        // padding of the spare streams after the announcement, before QEMU's migrate
        forward.addAndGet(50);
        reverse.addAndGet(5);
        assertEquals(100, wire.forwardOrigin());
        assertEquals(10, wire.reverseOrigin());
        forward.addAndGet(1000);
        assertEquals(1150, wire.forwardBytes());
        assertEquals(15, wire.reverseBytes());
    }
}
