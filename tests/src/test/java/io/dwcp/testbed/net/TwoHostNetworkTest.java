package io.dwcp.testbed.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TwoHostNetworkTest {
    private static final String PROC_NET_DEV = """
            Inter-|   Receive                                                |  Transmit
             face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
                lo:    2048      16    0    0    0     0          0         0     2048      16    0    0    0     0       0          0
              eth0: 918273645  701234    0    3    0     0          0         0 12345678901  8765432    0    0    0     0       0          0
             eth10:       7       1    0    0    0     0          0         0       99       1    0    0    0     0       0          0
            """;

    @Test
    void readsTheTransmittedBytesOfTheNamedDevice() {
        assertEquals(12_345_678_901L, TwoHostNetwork.transmittedBytes(PROC_NET_DEV, "eth0"));
        assertEquals(99L, TwoHostNetwork.transmittedBytes(PROC_NET_DEV, "eth10"));
        assertEquals(2048L, TwoHostNetwork.transmittedBytes(PROC_NET_DEV, "lo"));
    }

    @Test
    void aMissingDeviceIsAnErrorNotZero() {
        IllegalStateException e =
                assertThrows(IllegalStateException.class, () -> TwoHostNetwork.transmittedBytes(PROC_NET_DEV, "eth1"));
        assertTrue(e.getMessage().contains("no device eth1"), e.getMessage());
    }

    @Test
    void aTruncatedLineIsAnError() {
        assertThrows(
                IllegalStateException.class,
                () -> TwoHostNetwork.transmittedBytes("  eth0: 1 2 3 4 5 6 7 8 9\n", "eth0"));
    }

    @Test
    void readsThisMachinesLoopbackCounter() throws Exception {
        String text = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/thread-self/net/dev"));
        assertTrue(TwoHostNetwork.transmittedBytes(text, "lo") >= 0);
    }
}
