package io.dwcp.region;

import static java.util.Objects.requireNonNull;

/** A VM already being migrated: names who holds its lock. */
public final class VmLockedException extends Exception {
    private final VmLock.Holder holder;

    public VmLockedException(String vm, VmLock.Holder holder) {
        super("VM '" + vm + "' is already being migrated by host " + holder.host() + " (migration " + holder.migration()
                + ", since " + java.time.Instant.ofEpochMilli(holder.sinceMillis())
                + "): one migration per VM at a time");
        this.holder = requireNonNull(holder, "holder is null");
    }

    public VmLock.Holder holder() {
        return holder;
    }
}
