package io.dwcp.session;

import java.util.Optional;

/**
 * Peers beyond the configured ones ({@code peers.*}): the hosts of this host's region, with the
 * address and certificate fingerprint their records publish. Asked on event loops: an
 * implementation answers from what it holds, never blocks, and answers empty rather than from
 * data older than its staleness bound.
 */
public interface PeerDirectory {
    PeerDirectory NONE = new PeerDirectory() {
        @Override
        public Optional<PeerConfig> peer(String name) {
            return Optional.empty();
        }

        @Override
        public String describe() {
            return "";
        }
    };

    Optional<PeerConfig> peer(String name);

    /** Said after "not a configured peer" when a name is not found: where else it was looked up, e.g. " nor a host of region R (hosts read 120 ms ago)". */
    String describe();
}
