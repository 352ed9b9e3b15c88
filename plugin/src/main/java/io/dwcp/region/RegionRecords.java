package io.dwcp.region;

import io.dwcp.region.Records.BaselineRecord;
import io.dwcp.region.Records.LinkRecord;
import io.dwcp.region.Records.MigrationRecord;
import java.util.List;
import java.util.Optional;

/**
 * What the data path publishes into its region's metadata: link measurements, the baselines this
 * host holds, its migrations. dwcpd wires the tunnel's sessions and the baseline store to it (the
 * region knows nothing of their internals). Every call returns at once, also on an event loop: the
 * record is handed to the control plane's publishing thread ({@link RegionPublisher}), which
 * writes it to ZooKeeper, link measurements at most once per {@code region.link-publish-interval}
 * per link (the newest wins).
 */
public interface RegionRecords {
    /** A measurement of the link from this host to another. */
    void linkMeasured(LinkRecord link);

    /** A migration this host runs as its source: when it starts, and when it ends. */
    void migration(MigrationRecord migration);

    /** The baseline of the VM this host now holds (its newest), or empty once it holds none. */
    void baseline(String vm, Optional<BaselineRecord> newest);

    /**
     * Measures the links of the migrations open now; polled on the publishing thread once per
     * {@code region.link-publish-interval} (it must not block on I/O).
     */
    void setLinkSource(LinkSource source);

    @FunctionalInterface
    interface LinkSource {
        List<LinkRecord> sample(long nowMillis);
    }
}
