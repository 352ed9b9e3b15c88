package io.dwcp.cli;

import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/** What {@code dwcp migrate} and {@code dwcp baselines} ask the local dwcpd (its control socket); tests use a fake. */
public interface Dwcpd extends AutoCloseable {
    /** The daemon's node name and peers. */
    Status status() throws UnavailableException;

    /**
     * Announces an outgoing migration of the domain to the peer; returns its id and socket. With a
     * control plane dwcpd also takes the VM's lock in the region: refused (naming the holder) while
     * another migration of the VM holds it.
     */
    Migration announce(String domain, String peer) throws UnavailableException;

    /**
     * The region's control plane as this dwcpd last saw it ({@code GET /v1/regions}), or empty
     * when the daemon runs none (no {@code region.name}).
     */
    Optional<Region> region() throws UnavailableException;

    /**
     * Where the domain would go in the region ({@code GET /v1/regions/REGION/destinations}): the
     * candidates best first with their figures, the one chosen (empty when every host is full);
     * refused (no control plane, no such region, another region, stale metadata) with dwcpd's reason.
     */
    Destinations destinations(String region, String domain) throws UnavailableException;

    /**
     * The baselines the hosts of this host's region hold of the VMs, as the region's catalogue
     * records them ({@code GET /v1/regions/REGION/baselines?vm=...}, asked in as many requests as
     * the VMs need); refused (no control plane, another region, stale metadata) with dwcpd's reason.
     */
    RegionBaselines regionBaselines(String region, List<String> vms) throws UnavailableException;

    /** The announced migration's tunnel side, or empty when dwcpd forgot it. */
    Optional<Migration> migration(String id) throws UnavailableException;

    /** The baselines dwcpd keeps. */
    Baselines baselines() throws UnavailableException;

    /** Removes every baseline of the VM (a domain name, a UUID or a baseline id); none when one is in use. */
    Removal removeBaselines(String vm) throws UnavailableException;

    /**
     * Tells dwcpd that dwcp migrate is done with the announced migration: it forgets it and lets go
     * of the VM's lock in the region (if it took one).
     */
    void release(String id) throws UnavailableException;

    @Override
    default void close() {}

    /** A baseline: the VM it came from when dwcpd knows it, its size, age and last use. */
    record Baseline(
            String id,
            Optional<String> domain,
            Optional<String> uuid,
            int pages,
            long bytes,
            long createdAtMillis,
            long ageMillis,
            OptionalLong lastUsedAtMillis,
            boolean inUse) {}

    /** dwcpd's baselines, its limits ({@code maxAgeSeconds} 0: none), and its answer as it came ({@code json}). */
    record Baselines(
            String directory,
            long sizeLimitBytes,
            long maxAgeSeconds,
            long usedBytes,
            List<Baseline> baselines,
            String json) {}

    /** How a removal ended: {@code removed} the ids; {@code message} dwcpd's reason when nothing was removed. */
    record Removal(Outcome outcome, List<String> removed, String message) {
        public enum Outcome {
            REMOVED,
            NO_SUCH_BASELINE,
            IN_USE
        }
    }

    record Peer(String name, String address, String socket) {}

    record Status(String node, List<Peer> peers) {}

    /**
     * This host's region: its leader and term, the hosts registered and the link measurements.
     * Ages are milliseconds since dwcpd made sure of the figure; -1 when it never did.
     */
    record Region(
            String region,
            String host,
            String leader,
            long leaderAgeMillis,
            boolean thisHostLeads,
            long term,
            List<Host> hosts,
            long hostsAgeMillis,
            List<Link> links,
            long linksAgeMillis,
            List<RemoteRegion> regions) {
        public Region {
            hosts = List.copyOf(hosts);
            links = List.copyOf(links);
            regions = List.copyOf(regions);
        }
    }

    /** dwcpd's choice of a host in a region; ages in milliseconds since it made sure of each kind of figure. */
    record Destinations(
            String region,
            String domain,
            Optional<String> chosen,
            String reason,
            List<Destination> candidates,
            long hostsAgeMillis,
            long linksAgeMillis,
            long baselinesAgeMillis,
            long migrationsAgeMillis,
            long stalenessBoundMillis) {
        public Destinations {
            candidates = List.copyOf(candidates);
        }
    }

    /** A baseline of {@code vm} that {@code host} holds, by the region's catalogue: its size, when taken, its age. */
    record HeldBaseline(String vm, String host, long sizeBytes, long createdAtMillis, long ageMillis) {}

    /**
     * The region's catalogue of the baselines held of some VMs; {@code baselinesAgeMillis}: since
     * dwcpd made sure of the oldest figure behind it.
     */
    record RegionBaselines(
            String region,
            String host,
            List<HeldBaseline> baselines,
            long baselinesAgeMillis,
            long stalenessBoundMillis) {
        public RegionBaselines {
            baselines = List.copyOf(baselines);
        }
    }

    /** A candidate host: its tunnel address, whether it is full, and its figures in one line. */
    record Destination(String host, String address, boolean full, String figures) {}

    /** A host registered in the region. */
    record Host(
            String name,
            String address,
            int capacity,
            String dwcpVersion,
            String certificateFingerprint,
            long registeredAtMillis) {}

    /** A measurement of the link from one host to another; {@code measuredAtMillis} is the measuring host's clock. */
    record Link(
            String from, String to, long rttMicros, long goodputBytesPerSecond, int lossPpm, long measuredAtMillis) {}

    /** Another region as gossip last described it to this host. */
    record RemoteRegion(String region, String summary, List<String> hosts, long ageMillis) {
        public RemoteRegion {
            hosts = List.copyOf(hosts);
        }
    }

    /**
     * An outgoing migration as dwcpd sees it. {@code state}: waiting (no session yet), open,
     * completed, failed; byte counts are those of its session (0 before it starts).
     */
    record Migration(
            String id,
            String socket,
            String state,
            long qemuBytes,
            long tunnelBytesSent,
            int streams,
            OptionalDouble compressionRatio,
            Optional<String> failure,
            Reuse reuse) {
        public Migration(
                String id,
                String socket,
                String state,
                long qemuBytes,
                long tunnelBytesSent,
                int streams,
                OptionalDouble compressionRatio,
                Optional<String> failure) {
            this(id, socket, state, qemuBytes, tunnelBytesSent, streams, compressionRatio, failure, Reuse.NONE);
        }

        public boolean hasSession() {
            return !state.equals("waiting");
        }
    }

    /**
     * What a migration reused of the destination's baselines (an earlier migration of this VM, a
     * failed attempt, another VM of the same image): pages it held, pages sent as references to
     * them and as deltas against them.
     */
    record Reuse(long baselinePages, long referencedPages, long deltaPages) {
        public static final Reuse NONE = new Reuse(0, 0, 0);
    }

    /** dwcpd is not there, does not answer, or refused (the message says which). */
    final class UnavailableException extends Exception {
        public UnavailableException(String message) {
            super(message);
        }

        public UnavailableException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
