package io.dwcp.daemon;

import static java.util.Objects.requireNonNull;

import io.dwcp.control.MigrationRegistry;
import io.dwcp.hde.BaselineStore;
import io.dwcp.hde.BaselineStoreException;
import io.dwcp.node.NodeConfig;
import io.dwcp.region.Records.BaselineRecord;
import io.dwcp.region.Records.LinkRecord;
import io.dwcp.region.Records.MigrationRecord;
import io.dwcp.region.RegionRecords;
import io.dwcp.session.LinkSampler;
import io.dwcp.session.Session;
import io.dwcp.session.SessionManager;
import jakarta.inject.Inject;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connects the data path to the region's metadata (only with {@code region.name}): the tunnel's
 * source sessions give migration records (when one starts, and its end: outcome, bytes, failure)
 * and link measurements (each session's at its end, and the open ones' every
 * {@code region.link-publish-interval}, measured by a {@link LinkSampler}); the baseline store's
 * changes give this host's entries of the baseline catalogue. The region and the data path know
 * nothing of each other: this class is the one place that knows both.
 *
 * <p>Threads: the session listeners run on the sessions' event loops and only read counters and
 * hand records to {@link RegionRecords} (which never blocks); the baseline listener runs on the
 * thread that changed the store; the link source is polled on the region's publishing thread.
 */
final class RegionPublishing {
    private static final Logger log = LoggerFactory.getLogger(RegionPublishing.class);

    private final NodeConfig node;
    private final SessionManager sessions;
    private final BaselineStore baselines;
    private final MigrationRegistry registry;
    private final Optional<RegionRecords> records;
    private final LinkSampler links = new LinkSampler();

    @Inject
    RegionPublishing(
            NodeConfig node,
            SessionManager sessions,
            BaselineStore baselines,
            MigrationRegistry registry,
            Optional<RegionRecords> records) {
        this.node = requireNonNull(node, "node is null");
        this.sessions = requireNonNull(sessions, "sessions is null");
        this.baselines = requireNonNull(baselines, "baselines is null");
        this.registry = requireNonNull(registry, "registry is null");
        this.records = requireNonNull(records, "records is null");
    }

    /** Registers the listeners and publishes the baselines held now; the control plane must be started. */
    void start() {
        if (records.isEmpty()) {
            return;
        }
        RegionRecords region = records.get();
        // after the registry's own listener (it was built first): the session's VM is known here
        sessions.addSessionListener(session -> {
            if (session.role() == Session.Role.SOURCE) {
                region.migration(record(session, "running", 0));
            }
        });
        sessions.addSessionEndListener(session -> {
            if (session.role() != Session.Role.SOURCE) {
                return;
            }
            long now = System.currentTimeMillis();
            region.migration(record(session, session.state() == Session.State.COMPLETED ? "completed" : "failed", now));
            links.ended(session, now).ifPresent(measured -> region.linkMeasured(link(measured)));
        });
        region.setLinkSource(now ->
                links.sample(sessions.sessions(), now).stream().map(this::link).toList());
        baselines.addListener((domain, newest) -> region.baseline(
                domain,
                newest.map(info -> new BaselineRecord(domain, node.getName(), info.bytes(), info.createdMillis()))));
        try {
            Set<String> domains = new TreeSet<>();
            baselines.entries().forEach(entry -> entry.owner().ifPresent(owner -> domains.add(owner.domain())));
            for (String domain : domains) {
                Optional<BaselineStore.BaselineInfo> newest = baselines.newestOf(domain);
                region.baseline(
                        domain,
                        newest.map(info ->
                                new BaselineRecord(domain, node.getName(), info.bytes(), info.createdMillis())));
            }
        } catch (BaselineStoreException e) {
            log.warn(
                    "[host={}] cannot list the baselines held here for the region's catalogue: {}",
                    node.getName(),
                    e.getMessage());
        }
    }

    private LinkRecord link(LinkSampler.Measurement measured) {
        return new LinkRecord(
                node.getName(),
                measured.peer(),
                measured.rttMicros(),
                measured.goodputBytesPerSecond(),
                measured.lossPpm(),
                measured.measuredAtMillis());
    }

    private MigrationRecord record(Session session, String state, long endedMillis) {
        String id = session.migrationId().orElse(String.format("%016x", session.id()));
        // "" when the migration was not announced through dwcp migrate (virsh straight to the per-peer socket)
        String vm =
                registry.ownerOf(session.id()).map(BaselineStore.Owner::domain).orElse("");
        long updated = endedMillis != 0 ? endedMillis : session.startMillis();
        return new MigrationRecord(
                id,
                vm,
                node.getName(),
                session.peer().name(),
                state,
                session.startMillis(),
                updated,
                endedMillis,
                session.tunnelBytesSent(),
                session.failure().orElse(""));
    }
}
