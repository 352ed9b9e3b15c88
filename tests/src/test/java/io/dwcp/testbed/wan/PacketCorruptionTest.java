package io.dwcp.testbed.wan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class PacketCorruptionTest {
    @Test
    void flipsOnePayloadBitAndKeepsTheTcpChecksumValid() {
        Random random = new Random(7);
        for (int trial = 0; trial < 500; trial++) {
            int payload = PacketCorruption.MIN_PAYLOAD + random.nextInt(1400);
            byte[] packet = tcpPacket(payload, random);
            assertEquals(0, tcpChecksum(packet), "the test packet must start valid");
            byte[] before = packet.clone();

            int at = PacketCorruption.corrupt(packet);

            assertTrue(at >= 40, "changed byte " + at + " is not in the payload");
            int differingBits = 0;
            for (int i = 0; i < packet.length; i++) {
                if (i != 36 && i != 37) { // the checksum field
                    differingBits += Integer.bitCount((packet[i] ^ before[i]) & 0xff);
                }
            }
            assertEquals(1, differingBits, "exactly one payload bit flipped");
            assertEquals(0, tcpChecksum(packet), "TCP checksum after the corruption (payload " + payload + ")");
        }
    }

    @Test
    void leavesNonTcpAndShortSegmentsAlone() {
        Random random = new Random(8);
        byte[] ack = tcpPacket(0, random);
        assertEquals(-1, PacketCorruption.corrupt(ack.clone()));
        byte[] udp = tcpPacket(200, random);
        udp[9] = 17;
        assertEquals(-1, PacketCorruption.corrupt(udp));
        byte[] shortPayload = tcpPacket(PacketCorruption.MIN_PAYLOAD - 1, random);
        assertEquals(-1, PacketCorruption.corrupt(shortPayload));
    }

    /** An IPv4 packet (20-byte header) with a 20-byte TCP header and a valid TCP checksum. */
    private static byte[] tcpPacket(int payload, Random random) {
        byte[] packet = new byte[40 + payload];
        random.nextBytes(packet);
        packet[0] = 0x45;
        packet[2] = (byte) (packet.length >> 8);
        packet[3] = (byte) packet.length;
        packet[9] = 6;
        packet[32] = 0x50; // data offset 5 words
        packet[36] = 0;
        packet[37] = 0;
        int checksum = ~ones(packet) & 0xffff;
        packet[36] = (byte) (checksum >> 8);
        packet[37] = (byte) checksum;
        return packet;
    }

    /** 0 when the TCP checksum (pseudo-header included) is valid. */
    private static int tcpChecksum(byte[] packet) {
        return ~ones(packet) & 0xffff;
    }

    private static int ones(byte[] packet) {
        long sum = 0;
        for (int i = 12; i < 20; i += 2) { // source and destination addresses
            sum += ((packet[i] & 0xff) << 8) | (packet[i + 1] & 0xff);
        }
        int tcpLength = packet.length - 20;
        sum += 6 + tcpLength;
        for (int i = 20; i < packet.length; i += 2) {
            int high = packet[i] & 0xff;
            int low = i + 1 < packet.length ? packet[i + 1] & 0xff : 0;
            sum += (high << 8) | low;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int) sum;
    }
}
