package io.dwcp.testbed.wan;

import com.sun.jna.Pointer;

/**
 * Flips one bit in the payload of an IPv4 TCP segment and fixes the TCP checksum up incrementally
 * (RFC 1624), so that the receiver's TCP accepts the segment: a corruption only the application's
 * own integrity checks can detect.
 */
final class PacketCorruption {
    /** Segments with less payload than this are left alone (pure ACKs, keepalives). */
    static final int MIN_PAYLOAD = 64;

    private PacketCorruption() {}

    /** Corrupts the packet at native address {@code address}; false when it is not a TCP segment with payload. */
    static boolean corruptTcpPayload(long address, int length) {
        byte[] packet = new Pointer(address).getByteArray(0, length);
        int at = corrupt(packet);
        if (at < 0) {
            return false;
        }
        Pointer pointer = new Pointer(address);
        pointer.setByte(at, packet[at]);
        pointer.setByte(checksumOffset(packet), packet[checksumOffset(packet)]);
        pointer.setByte(checksumOffset(packet) + 1, packet[checksumOffset(packet) + 1]);
        return true;
    }

    /**
     * Corrupts {@code packet} in place: flips the lowest bit of the high byte of a 16-bit word in
     * the middle of the TCP payload and updates the checksum. Returns the offset of the changed
     * payload byte, or -1 when the packet is not IPv4 TCP with at least {@link #MIN_PAYLOAD} bytes
     * of payload.
     */
    static int corrupt(byte[] packet) {
        int payload = Ipv4Tcp.payloadOffset(packet, packet.length);
        if (payload < 0 || packet.length - payload < MIN_PAYLOAD) {
            return -1;
        }
        // a word aligned to the TCP segment's start (the checksum sums 16-bit words from there)
        int word = payload + (((packet.length - payload) / 2) & ~1);
        int oldWord = ((packet[word] & 0xff) << 8) | (packet[word + 1] & 0xff);
        int newWord = oldWord ^ 0x0100;
        packet[word] = (byte) (newWord >> 8);
        int checksum = checksumOffset(packet);
        int oldSum = ((packet[checksum] & 0xff) << 8) | (packet[checksum + 1] & 0xff);
        // RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m')
        int sum = (~oldSum & 0xffff) + (~oldWord & 0xffff) + newWord;
        sum = (sum & 0xffff) + (sum >>> 16);
        sum = (sum & 0xffff) + (sum >>> 16);
        int newSum = ~sum & 0xffff;
        packet[checksum] = (byte) (newSum >> 8);
        packet[checksum + 1] = (byte) newSum;
        return word;
    }

    private static int checksumOffset(byte[] packet) {
        return Ipv4Tcp.ipHeaderLength(packet) + 16;
    }
}
