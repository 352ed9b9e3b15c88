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

    /** Announces an outgoing migration of the domain to the peer; returns its id and socket. */
    Migration announce(String domain, String peer)
            throws UnavailableException;

    /** The announced migration's tunnel side, or empty when dwcpd forgot it. */
    Optional<Migration> migration(String id)
            throws UnavailableException;

    @Override
    default void close()
    {
    }

    record Peer(String name, String address, String socket) {}

    record Status(String node, List<Peer> peers) {}

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
