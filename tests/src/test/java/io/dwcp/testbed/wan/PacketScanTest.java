package io.dwcp.testbed.wan;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class PacketScanTest {
    @Test
    void findsAPatternAnywhereAndOnlyWhole() {
        byte[] packet = "....Linux version 6.1".getBytes(StandardCharsets.US_ASCII);
        assertEquals(4, PacketScan.indexOf(packet, "Linux version".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(-1, PacketScan.indexOf(packet, "Linux versions".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(-1, PacketScan.indexOf(new byte[3], new byte[4]));
        assertEquals(0, PacketScan.indexOf(packet, "....".getBytes(StandardCharsets.US_ASCII)));
    }
}
