package io.dwcp.testbed.wan;

import com.sun.jna.Pointer;

/** Whether a packet (at a native address) contains a byte pattern anywhere, headers included. */
final class PacketScan {
    private PacketScan() {}

    static boolean contains(long address, int length, byte[] pattern) {
        return indexOf(new Pointer(address).getByteArray(0, length), pattern) >= 0;
    }

    static int indexOf(byte[] packet, byte[] pattern) {
        if (pattern.length == 0) {
            return 0;
        }
        outer:
        for (int i = 0; i + pattern.length <= packet.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (packet[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
