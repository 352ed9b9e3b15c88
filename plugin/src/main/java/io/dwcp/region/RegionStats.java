package io.dwcp.region;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** Counters of the region's control plane (thread-safe; names {@code dwcp_region_*}). */
public final class RegionStats
{
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
    private final AtomicLong lastTermAcquireMillis = new AtomicLong(-1);

    void leadershipAcquired(long acquireMillis)
    {
        leadershipsAcquired.increment();
        lastTermAcquireMillis.set(acquireMillis);
    }

    void leadershipLost()
    {
        leadershipsLost.increment();
    }

    void leaderWrite(boolean accepted)
    {
        (accepted ? leaderWritesAccepted : leaderWritesRefused).increment();
    }

    void metadataRefreshed()
    {
        metadataRefreshes.increment();
    }

    void staleRefusal()
    {
        staleRefusals.increment();
    }

    void vmLock(boolean taken)
    {
        (taken ? vmLocksTaken : vmLocksRefused).increment();
    }

    void suspended()
    {
        connectionSuspensions.increment();
    }

    void sessionLost()
    {
        sessionsLost.increment();
    }

    void recordPublished(boolean written)
    {
        (written ? recordsPublished : recordsPublishFailed).increment();
    }

    /** Links, baselines and migration records the data path published into the region (written to ZooKeeper). */
    public long recordsPublished()
    {
        return recordsPublished.sum();
    }

    public long recordsPublishFailed()
    {
        return recordsPublishFailed.sum();
    }

    public long leadershipsAcquired()
    {
        return leadershipsAcquired.sum();
    }

    public long leadershipsLost()
    {
        return leadershipsLost.sum();
    }

    public long leaderWritesAccepted()
    {
        return leaderWritesAccepted.sum();
    }

    public long leaderWritesRefused()
    {
        return leaderWritesRefused.sum();
    }

    public long metadataRefreshes()
    {
        return metadataRefreshes.sum();
    }

    public long staleRefusals()
    {
        return staleRefusals.sum();
    }

    public long vmLocksRefused()
    {
        return vmLocksRefused.sum();
    }

    public void appendPrometheus(StringBuilder out)
    {
        out.append("dwcp_region_leaderships_acquired_total ").append(leadershipsAcquired()).append('\n');
        out.append("dwcp_region_leaderships_lost_total ").append(leadershipsLost()).append('\n');
        out.append("dwcp_region_leader_writes_accepted_total ").append(leaderWritesAccepted()).append('\n');
        out.append("dwcp_region_leader_writes_refused_total ").append(leaderWritesRefused()).append('\n');
        out.append("dwcp_region_metadata_refreshes_total ").append(metadataRefreshes()).append('\n');
        out.append("dwcp_region_stale_refusals_total ").append(staleRefusals()).append('\n');
        out.append("dwcp_region_vm_locks_taken_total ").append(vmLocksTaken.sum()).append('\n');
        out.append("dwcp_region_vm_locks_refused_total ").append(vmLocksRefused()).append('\n');
        out.append("dwcp_region_connection_suspensions_total ").append(connectionSuspensions.sum()).append('\n');
        out.append("dwcp_region_sessions_lost_total ").append(sessionsLost.sum()).append('\n');
        out.append("dwcp_region_records_published_total ").append(recordsPublished()).append('\n');
        out.append("dwcp_region_records_publish_failed_total ").append(recordsPublishFailed()).append('\n');
        out.append("dwcp_region_term_acquire_seconds ").append(lastTermAcquireMillis.get() < 0 ? "NaN" : Double.toString(lastTermAcquireMillis.get() / 1000.0)).append('\n');
    }
}
