package io.dwcp.testbed.net;

import com.sun.jna.Native;
import com.sun.jna.Platform;

/**
 * The few libc calls the test bed needs that Java does not offer (setns, ioctl on TUN and on
 * sockets, ppoll, prctl), as JNA <em>direct</em> mappings: no per-call allocation or reflection,
 * which matters for {@link #read}/{@link #write} on the emulator's hot path.
 *
 * <p>Pointers are passed as {@code long} native addresses (x86-64 and aarch64 pass both in the same
 * integer registers), so callers keep their buffers in JNA {@code Memory} and hand out addresses.
 * Failures are reported as a negative return value only: errno is not read, callers check what
 * they can (a failed open or ioctl is named with its arguments).
 */
public final class LinuxCalls {
    public static final int O_RDWR = 0x2;
    public static final int O_RDONLY = 0x0;
    public static final int O_NONBLOCK = 0x800;
    public static final int O_CLOEXEC = 0x80000;
    public static final int CLONE_NEWNET = 0x40000000;
    public static final int AF_INET = 2;
    public static final int SOCK_DGRAM = 2;
    public static final long TUNSETIFF = 0x400454caL;
    public static final long SIOCETHTOOL = 0x8946L;
    public static final short IFF_TUN = 0x0001;
    public static final short IFF_NO_PI = 0x1000;
    public static final short POLLIN = 0x1;
    public static final short POLLERR = 0x8;
    public static final short POLLHUP = 0x10;
    public static final short POLLNVAL = 0x20;
    public static final int PR_SET_TIMERSLACK = 29;
    public static final int IFNAMSIZ = 16;
    public static final int SCHED_OTHER = 0;
    public static final int SCHED_FIFO = 1;

    static {
        if (!Platform.isLinux()) {
            throw new UnsupportedOperationException("the test bed needs Linux (network namespaces, TUN)");
        }
        Native.register(LinuxCalls.class, Platform.C_LIBRARY_NAME);
    }

    private LinuxCalls() {}

    public static native int open(String path, int flags);

    public static native int close(int fd);

    public static native long read(int fd, long buffer, long count);

    public static native long write(int fd, long buffer, long count);

    public static native int ioctl(int fd, long request, long argument);

    public static native int setns(int fd, int nstype);

    public static native int socket(int domain, int type, int protocol);

    /** {@code ppoll(fds, nfds, timeout, sigmask)}; timeout and sigmask may be 0 (NULL). */
    public static native int ppoll(long fds, long nfds, long timeout, long sigmask);

    public static native int prctl(int option, long arg2, long arg3, long arg4, long arg5);

    /** {@code sched_setscheduler(pid, policy, &param)}; pid 0 is the calling thread. */
    public static native int sched_setscheduler(int pid, int policy, long param);

    /**
     * Gives the calling thread real-time priority {@code priority} (SCHED_FIFO), or back the normal
     * policy when {@code priority} is 0. Returns false when the kernel refused.
     */
    public static boolean setThisThreadRealtime(int priority) {
        try (com.sun.jna.Memory param = new com.sun.jna.Memory(4)) {
            param.setInt(0, priority);
            return sched_setscheduler(
                            0, priority > 0 ? SCHED_FIFO : SCHED_OTHER, com.sun.jna.Pointer.nativeValue(param))
                    == 0;
        }
    }
}
