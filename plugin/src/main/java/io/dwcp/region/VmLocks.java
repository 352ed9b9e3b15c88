package io.dwcp.region;

/**
 * Takes a VM's lock for a migration this host runs ({@link VmLock}: one migration per VM in the
 * region at a time). Blocks on ZooKeeper: never call it on an event loop.
 */
public interface VmLocks {
    /** The VM's lock, held for {@code migration} by this host; {@link VmLockedException} names the holder. */
    VmLock lock(String vm, String migration) throws VmLockedException, Exception;
}
