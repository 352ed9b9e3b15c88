/**
 * Gossip between regions: region leaders exchange their regions' summaries by push-pull
 * anti-entropy, so each region learns the others' hosts, leaders and catalogues, concurrent
 * updates are merged and none is lost, and a region cut off keeps working on what it has.
 *
 * <h2>Pieces</h2>
 * <ul>
 * <li>{@link io.dwcp.gossip.Crdt}: the values, {@link io.dwcp.gossip.LwwRegister} and
 * {@link io.dwcp.gossip.OrSet} (merges are joins: commutative, associative, idempotent; an OR-set
 * also serves as a multi-value register, {@code GossipNode.assign}, where concurrent writes are
 * kept side by side and detected instead of one silently winning);
 * {@link io.dwcp.gossip.VectorClock} and {@link io.dwcp.gossip.Dot} for what each node holds.</li>
 * <li>{@link io.dwcp.gossip.GossipNode}: one replica of the map and the protocol of
 * {@link io.dwcp.gossip.GossipMessage}; wire format {@link io.dwcp.gossip.GossipCodec}.</li>
 * <li>{@link io.dwcp.gossip.GossipTransport}: what the node sends through. Mutual TLS over
 * TCP in {@link io.dwcp.gossip.netty}; in-process with simulated time in {@link io.dwcp.gossip.sim}.
 * The node does not know which.</li>
 * <li>{@link io.dwcp.gossip.GossipConfig} ({@code gossip.*}), {@link io.dwcp.gossip.GossipStats}.</li>
 * </ul>
 *
 * <h2>Threads</h2>
 * A {@link io.dwcp.gossip.GossipNode} and all its state (map, clock, logs, peers, listeners) belong
 * to one thread: in dwcpd the single-threaded gossip executor owned by
 * {@link io.dwcp.region.ControlPlane} (rounds are scheduled on it, the TLS transport hands every
 * decoded message over to it), in the simulation the thread running the simulated network.
 * The CRDT values, clocks and messages are immutable and may be shared freely.
 * {@link io.dwcp.gossip.GossipStats} is thread-safe (transports count from event loops).
 */
package io.dwcp.gossip;
