package io.dwcp.testbed.wan;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class FreshTcpDataTest {
    private static final int PAYLOAD = 1400;

    @Test
    void freshDataOfAWarmConnectionOnlyNeverARetransmission() {
        FreshTcpData fresh = new FreshTcpData(64 * 1024);
        int sequence = 1000;
        // the connection's first 64 KiB: not yet
        while (sequence - 1000 < 64 * 1024) {
            assertFalse(fresh.observe(segment(40000, 7470, sequence), 40, 40 + PAYLOAD), "at " + sequence);
            sequence += PAYLOAD;
        }
        // a tail-loss probe: the last segment again
        assertFalse(fresh.observe(segment(40000, 7470, sequence - PAYLOAD), 40, 40 + PAYLOAD), "a retransmission");
        // new data
        assertTrue(fresh.observe(segment(40000, 7470, sequence), 40, 40 + PAYLOAD));
        // another connection has carried nothing yet
        assertFalse(fresh.observe(segment(40001, 7470, sequence), 40, 40 + PAYLOAD), "another connection");
        // a pure ACK of the first one
        assertFalse(fresh.observe(segment(40000, 7470, sequence + PAYLOAD), 40, 40), "no payload");
    }

    @Test
    void sequenceNumbersWrap() {
        FreshTcpData fresh = new FreshTcpData(4 * PAYLOAD);
        int sequence = -3 * PAYLOAD; // crosses 2^32 on the way
        for (int i = 0; i < 5; i++) {
            fresh.observe(segment(40000, 7470, sequence), 40, 40 + PAYLOAD);
            sequence += PAYLOAD;
        }
        assertTrue(sequence > 0, "the test must cross the wrap");
        assertTrue(fresh.observe(segment(40000, 7470, sequence), 40, 40 + PAYLOAD), "fresh past the wrap");
        assertFalse(fresh.observe(segment(40000, 7470, sequence - 2 * PAYLOAD), 40, 40 + PAYLOAD), "old past the wrap");
    }

    @Test
    void notTcpIsNeverFresh() {
        FreshTcpData fresh = new FreshTcpData(0);
        byte[] udp = segment(40000, 7470, 0);
        udp[9] = 17;
        assertFalse(fresh.observe(udp, 40, 40 + PAYLOAD));
        assertFalse(fresh.observe(new byte[10], 10, 10));
    }

    /** The first 40 bytes of an IPv4 TCP segment from 10.0.0.1:{@code from} to 10.0.0.2:{@code to}. */
    private static byte[] segment(int from, int to, int sequence) {
        byte[] header = new byte[40];
        header[0] = 0x45;
        header[9] = 6;
        header[12] = 10;
        header[15] = 1;
        header[16] = 10;
        header[19] = 2;
        header[20] = (byte) (from >> 8);
        header[21] = (byte) from;
        header[22] = (byte) (to >> 8);
        header[23] = (byte) to;
        header[24] = (byte) (sequence >>> 24);
        header[25] = (byte) (sequence >>> 16);
        header[26] = (byte) (sequence >>> 8);
        header[27] = (byte) sequence;
        header[32] = 0x50;
        return header;
    }
}
