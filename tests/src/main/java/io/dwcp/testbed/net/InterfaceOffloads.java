package io.dwcp.testbed.net;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.nio.charset.StandardCharsets;

/**
 * Turns TCP segmentation offload off on an interface (what {@code ethtool -K DEV tso off} does,
 * through the legacy {@code ETHTOOL_STSO} ioctl; ethtool itself is not installed here). Generic
 * segmentation stays on, so the stack still hands 64 KiB buffers to the device layer, which splits
 * them just before the driver: the interface's counters then count real 1500-byte packets with
 * their headers, as a physical NIC's wire does.
 */
final class InterfaceOffloads {
    private static final int ETHTOOL_STSO = 0x1f;

    private InterfaceOffloads() {}

    /** Call on a thread inside the interface's namespace. */
    static void disableTso(String interfaceName) {
        byte[] name = interfaceName.getBytes(StandardCharsets.US_ASCII);
        int socket = LinuxCalls.socket(LinuxCalls.AF_INET, LinuxCalls.SOCK_DGRAM, 0);
        if (socket < 0) {
            throw new IllegalStateException("cannot open a socket to configure " + interfaceName);
        }
        try (Memory value = new Memory(8);
                Memory ifreq = new Memory(40)) {
            value.setInt(0, ETHTOOL_STSO);
            value.setInt(4, 0);
            ifreq.clear();
            ifreq.write(0, name, 0, name.length);
            ifreq.setLong(LinuxCalls.IFNAMSIZ, Pointer.nativeValue(value));
            if (LinuxCalls.ioctl(socket, LinuxCalls.SIOCETHTOOL, Pointer.nativeValue(ifreq)) != 0) {
                throw new IllegalStateException("cannot turn TSO off on " + interfaceName);
            }
        } finally {
            LinuxCalls.close(socket);
        }
    }
}
