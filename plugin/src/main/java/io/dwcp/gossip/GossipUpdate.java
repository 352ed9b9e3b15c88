package io.dwcp.gossip;

import static java.util.Objects.requireNonNull;

/** One update as it travels: the origin's dot, the key of the gossiped map, and the delta to merge into it. */
public record GossipUpdate(Dot dot, String key, Crdt delta) {
    public GossipUpdate {
        requireNonNull(dot, "dot is null");
        requireNonNull(key, "key is null");
        requireNonNull(delta, "delta is null");
    }
}
