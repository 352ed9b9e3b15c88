package io.dwcp.session;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import org.junit.jupiter.api.Test;

/** Which QEMU connections may end before their whole stream reached QEMU, and what else fails a session. */
class QemuEndPolicyTest {
    private final QemuEndPolicy source = new QemuEndPolicy(Session.Role.SOURCE, "[source]");
    private final QemuEndPolicy destination = new QemuEndPolicy(Session.Role.DESTINATION, "[destination]");

    @Test
    void onlyADestinationsMultifdConnectionMayEndEarly() {
        assertTrue(destination.mayEndEarly(1));
        assertTrue(destination.mayEndEarly(7));
        assertFalse(destination.mayEndEarly(0), "the main channel decides the migration's outcome");
        assertFalse(source.mayEndEarly(0));
        assertFalse(source.mayEndEarly(1));
    }

    @Test
    void aResetFailsTheSessionUnlessTheConnectionMayEndEarly() {
        IOException reset = new IOException("Connection reset by peer");
        assertEquals(
                "QEMU connection 0 failed: Connection reset by peer",
                assertThrows(SessionFailure.class, () -> destination.reset(0, reset))
                        .getMessage());
        assertEquals(
                "QEMU connection 2 failed: Connection reset by peer",
                assertThrows(SessionFailure.class, () -> source.reset(2, reset)).getMessage());
        assertDoesNotThrow(() -> destination.reset(2, reset), "the rest of a multifd stream is dropped");
    }

    @Test
    void aFailedWriteFailsOnlyADestinationsMainChannel() {
        IOException broken = new IOException("Broken pipe");
        assertEquals(
                "destination QEMU connection 0 failed: java.io.IOException: Broken pipe",
                assertThrows(SessionFailure.class, () -> destination.writeFailed(0, broken))
                        .getMessage());
        assertDoesNotThrow(() -> destination.writeFailed(3, broken));
        assertDoesNotThrow(() -> source.writeFailed(0, broken), "what the source QEMU no longer reads is dropped");
    }

    @Test
    void aTailNeverReadIsOnlyReported() {
        assertDoesNotThrow(() -> destination.completedWithout(1, 4096));
        assertDoesNotThrow(() -> destination.completedWithout(0, 0));
    }
}
