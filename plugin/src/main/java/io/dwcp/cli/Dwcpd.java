package io.dwcp.cli;

import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;

/** What {@code dwcp migrate} asks the local dwcpd (its control socket); tests use a fake. */
public interface Dwcpd
        extends AutoCloseable
{
    /** The daemon's node name and peers. */
    Status status()
            throws UnavailableException;

    /**
     * Announces an outgoing migration of the domain to the peer; returns its id and socket. With a
     * control plane dwcpd also takes the VM's lock in the region: refused (naming the holder) while
     * another migration of the VM holds it.
     */
    Migration announce(String domain, String peer)
            throws UnavailableException;

    /**
     * The region's control plane as this dwcpd last saw it ({@code GET /v1/regions}), or empty
     * when the daemon runs none (no {@code region.name}).
     */
    Optional<Region> region()
            throws UnavailableException;

    /** The announced migration's tunnel side, or empty when dwcpd forgot it. */
    Optional<Migration> migration(String id)
            throws UnavailableException;

    /**
     * Tells dwcpd that dwcp migrate is done with the announced migration: it forgets it and lets go
     * of the VM's lock in the region (if it took one).
     */
    void release(String id)
            throws UnavailableException;

    @Override
    default void close()
    {
    }

    record Peer(String name, String address, String socket) {}

    record Status(String node, List<Peer> peers) {}

    /**
     * This host's region: its leader and term, the hosts registered and the link measurements.
     * Ages are milliseconds since dwcpd made sure of the figure; -1 when it never did.
     */
    record Region(String region, String host, String leader, long leaderAgeMillis, boolean thisHostLeads, long term,
            List<Host> hosts, long hostsAgeMillis, List<Link> links, long linksAgeMillis, List<RemoteRegion> regions)
    {
        public Region
        {
            hosts = List.copyOf(hosts);
            links = List.copyOf(links);
            regions = List.copyOf(regions);
        }
    }

    /** A host registered in the region. */
    record Host(String name, String address, int capacity, String dwcpVersion, String certificateFingerprint, long registeredAtMillis) {}

    /** A measurement of the link from one host to another; {@code measuredAtMillis} is the measuring host's clock. */
    record Link(String from, String to, long rttMicros, long goodputBytesPerSecond, int lossPpm, long measuredAtMillis) {}

    /** Another region as gossip last described it to this host. */
    record RemoteRegion(String region, String summary, List<String> hosts, long ageMillis)
    {
        public RemoteRegion
        {
            hosts = List.copyOf(hosts);
        }
    }

    /**
     * An outgoing migration as dwcpd sees it. {@code state}: waiting (no session yet), open,
     * completed, failed; byte counts are those of its session (0 before it starts).
     */
    record Migration(String id, String socket, String state, long qemuBytes, long tunnelBytesSent, int streams,
            OptionalDouble compressionRatio, Optional<String> failure)
    {
        public boolean hasSession()
        {
            return !state.equals("waiting");
        }
    }

    /** dwcpd is not there, does not answer, or refused (the message says which). */
    final class UnavailableException
            extends Exception
    {
        public UnavailableException(String message)
        {
            super(message);
        }

        public UnavailableException(String message, Throwable cause)
        {
            super(message, cause);
        }
    }
}
