package io.dwcp.testbed.wan;

/** Where an IPv4 packet's TCP headers and payload are: what the emulator's corruption needs to know. */
final class Ipv4Tcp {
    private Ipv4Tcp() {}

    /** The length of the IPv4 header of {@code packet}. */
    static int ipHeaderLength(byte[] packet) {
        return (packet[0] & 0x0f) * 4;
    }

    /**
     * The offset of the TCP payload in {@code packet}, whose first {@code available} bytes are
     * known; -1 when it is not IPv4 TCP or its IP and TCP headers' fixed parts are not all known.
     */
    static int payloadOffset(byte[] packet, int available) {
        if (available < 20 || (packet[0] & 0xf0) != 0x40 || packet[9] != 6) {
            return -1;
        }
        int ipHeader = ipHeaderLength(packet);
        if (available < ipHeader + 20) {
            return -1;
        }
        return ipHeader + ((packet[ipHeader + 12] & 0xf0) >> 4) * 4;
    }
}
