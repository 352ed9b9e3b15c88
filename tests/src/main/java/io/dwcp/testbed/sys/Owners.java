package io.dwcp.testbed.sys;

/**
 * Who owns what the test bed leaves on the machine: namespaces, libvirt hosts and tracked
 * processes carry the pid of the JVM that made them, and are leftovers only once it is gone.
 */
public final class Owners {
    private Owners() {}

    /** Whether {@code pid} is this JVM or another live JVM (so what it owns is still in use). */
    public static boolean isAlive(long pid) {
        if (pid == ProcessHandle.current().pid()) {
            return true;
        }
        return ProcessHandle.of(pid)
                .map(handle -> handle.isAlive()
                        && handle.info().command().map(c -> c.endsWith("java")).orElse(true))
                .orElse(false);
    }
}
