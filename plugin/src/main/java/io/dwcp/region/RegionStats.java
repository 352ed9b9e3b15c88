package io.dwcp.region;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** Counters of the region's control plane (thread-safe; names {@code dwcp_region_*}). */
public final class RegionStats {
    private final LongAdder leadershipsAcquired = new LongAdder();
    private final LongAdder leadershipsLost = new LongAdder();
    private final LongAdder leaderWritesAccepted = new LongAdder();
    private final LongAdder leaderWritesRefused = new LongAdder();
    private final LongAdder metadataRefreshes = new LongAdder();
    private final LongAdder staleRefusals = new LongAdder();
    private final LongAdder vmLocksTaken = new LongAdder();
    private final LongAdder vmLocksRefused = new LongAdder();
    private final LongAdder connectionSuspensions = new LongAdder();
    private final LongAdder sessionsLost = new LongAdder();
    private final LongAdder recordsPublished = new LongAdder();
    private final LongAdder recordsPublishFailed = new LongAdder();
    private final LongAdder migrationRecordsPruned = new LongAdder();
    private final AtomicLong lastTermAcquireMillis = new AtomicLong(-1);

    void leadershipAcquired(long acquireMillis) {
        leadershipsAcquired.increment();
        lastTermAcquireMillis.set(acquireMillis);
    }

    void leadershipLost() {
        leadershipsLost.increment();
    }

    void leaderWrite(boolean accepted) {
        (accepted ? leaderWritesAccepted : leaderWritesRefused).increment();
    }

    void metadataRefreshed() {
        metadataRefreshes.increment();
    }

    void staleRefusal() {
        staleRefusals.increment();
    }

    void vmLock(boolean taken) {
        (taken ? vmLocksTaken : vmLocksRefused).increment();
    }

    void suspended() {
        connectionSuspensions.increment();
    }

    void sessionLost() {
        sessionsLost.increment();
    }

    void recordPublished(boolean written) {
        (written ? recordsPublished : recordsPublishFailed).increment();
    }

    void migrationRecordsDeleted(int count) {
        migrationRecordsPruned.add(count);
    }

    /** Migration records the region's leader deleted from ZooKeeper while this host led ({@link MigrationRecordPruner}). */
    public long migrationRecordsPruned() {
        return migrationRecordsPruned.sum();
    }

    /** Links, baselines and migration records the data path published into the region (written to ZooKeeper). */
    public long recordsPublished() {
        return recordsPublished.sum();
    }

    public long recordsPublishFailed() {
        return recordsPublishFailed.sum();
    }

    public long leadershipsAcquired() {
        return leadershipsAcquired.sum();
    }

    public long leadershipsLost() {
        return leadershipsLost.sum();
    }

    public long leaderWritesAccepted() {
        return leaderWritesAccepted.sum();
    }

    public long leaderWritesRefused() {
        return leaderWritesRefused.sum();
    }

    public long metadataRefreshes() {
        return metadataRefreshes.sum();
    }

    public long staleRefusals() {
        return staleRefusals.sum();
    }

    public long vmLocksRefused() {
        return vmLocksRefused.sum();
    }

    public long vmLocksTaken() {
        return vmLocksTaken.sum();
    }

    public long connectionSuspensions() {
        return connectionSuspensions.sum();
    }

    public long sessionsLost() {
        return sessionsLost.sum();
    }

    /** How long the last leadership took to acquire, in seconds; NaN before the first one. */
    public double lastTermAcquireSeconds() {
        long millis = lastTermAcquireMillis.get();
        return millis < 0 ? Double.NaN : millis / 1000.0;
    }
}
