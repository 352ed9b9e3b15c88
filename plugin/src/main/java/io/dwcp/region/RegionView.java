package io.dwcp.region;

import io.dwcp.region.Records.BaselineRecord;
import io.dwcp.region.Records.HostRecord;
import io.dwcp.region.Records.LinkRecord;
import io.dwcp.region.Records.RemoteRecord;
import java.time.Duration;
import java.util.List;

/**
 * The region's metadata as decisions read it (where a migration goes, who a host is): every read
 * is within {@code region.staleness-bound}: it answers from the last read while that is younger,
 * else refreshes from ZooKeeper, and refuses with {@link StaleMetadataException} (what, how old,
 * why) when it cannot. Reads block on ZooKeeper: never call them on an event loop.
 */
public interface RegionView {
    /** This host's region. */
    String region();

    /** This host's name in the region. */
    String host();

    Duration stalenessBound();

    Stamped<List<HostRecord>> hosts() throws StaleMetadataException;

    Stamped<List<LinkRecord>> links() throws StaleMetadataException;

    /** The hosts of the region that hold a baseline of the VM. */
    Stamped<List<BaselineRecord>> baselines(String vm) throws StaleMetadataException;

    /** The migrations recorded in the region (running, completed, failed). */
    Stamped<List<Records.MigrationRecord>> migrations() throws StaleMetadataException;

    /** The other regions, as this region's leader stored what gossip brought of them. */
    Stamped<List<RemoteRecord>> remoteRegions() throws StaleMetadataException;
}
