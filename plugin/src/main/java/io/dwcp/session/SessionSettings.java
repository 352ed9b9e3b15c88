package io.dwcp.session;

import static java.util.Objects.requireNonNull;

import io.dwcp.amst.AmstConfig;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * The daemon-wide settings every {@link Session} reads, given to it at construction.
 *
 * @param nodeName this host's name (a destination accepts only targets that name it)
 * @param stats the daemon's counters, which every session adds to
 * @param codecs the codecs this host offers and accepts
 * @param lanes a new codec lane for each session: an executor that runs its tasks one at a time in
 *     submission order, off the event loops ({@link io.dwcp.codec.CodecThreads#newLane})
 */
record SessionSettings(
        String nodeName,
        TunnelConfig tunnel,
        AmstConfig amst,
        TunnelStats stats,
        CodecSelection codecs,
        Supplier<Executor> lanes) {
    SessionSettings {
        requireNonNull(nodeName, "nodeName is null");
        requireNonNull(tunnel, "tunnel is null");
        requireNonNull(amst, "amst is null");
        requireNonNull(stats, "stats is null");
        requireNonNull(codecs, "codecs is null");
        requireNonNull(lanes, "lanes is null");
    }
}
