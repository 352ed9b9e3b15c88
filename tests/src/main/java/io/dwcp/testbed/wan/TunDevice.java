package io.dwcp.testbed.wan;

import com.sun.jna.Memory;
import io.dwcp.testbed.net.LinuxCalls;
import java.nio.charset.StandardCharsets;

/**
 * An existing TUN device ({@code ip tuntap add mode tun}, made by the harness) opened by this
 * process: {@code IFF_TUN | IFF_NO_PI}, non-blocking, so each read returns one whole IP packet or
 * nothing. The calling thread must be in the device's network namespace.
 */
final class TunDevice implements AutoCloseable {
    private final String name;
    private final int fd;

    private TunDevice(String name, int fd) {
        this.name = name;
        this.fd = fd;
    }

    static TunDevice attach(String name) {
        byte[] nameBytes = name.getBytes(StandardCharsets.US_ASCII);
        if (nameBytes.length >= LinuxCalls.IFNAMSIZ) {
            throw new IllegalArgumentException("interface name too long: " + name);
        }
        int fd = LinuxCalls.open("/dev/net/tun", LinuxCalls.O_RDWR | LinuxCalls.O_NONBLOCK | LinuxCalls.O_CLOEXEC);
        if (fd < 0) {
            throw new IllegalStateException("cannot open /dev/net/tun (is the tun module loaded, are we root?)");
        }
        try (Memory ifreq = new Memory(40)) {
            ifreq.clear();
            ifreq.write(0, nameBytes, 0, nameBytes.length);
            ifreq.setShort(LinuxCalls.IFNAMSIZ, (short) (LinuxCalls.IFF_TUN | LinuxCalls.IFF_NO_PI));
            if (LinuxCalls.ioctl(fd, LinuxCalls.TUNSETIFF, com.sun.jna.Pointer.nativeValue(ifreq)) != 0) {
                LinuxCalls.close(fd);
                throw new IllegalStateException(
                        "TUNSETIFF " + name + " failed (no such TUN device in this namespace, or busy)");
            }
        }
        return new TunDevice(name, fd);
    }

    String name() {
        return name;
    }

    int fd() {
        return fd;
    }

    @Override
    public void close() {
        LinuxCalls.close(fd);
    }
}
