/**
 * Gossip in simulated time: {@link io.dwcp.gossip.sim.SimulatedNetwork} (the in-process
 * transport: latency, seeded loss, partitions, nodes down) and
 * ScaleSimulation (many hosts in many regions, the real
 * {@link io.dwcp.gossip.GossipNode} and codec for every region leader).
 *
 * <h2>Threads</h2>
 * Single-threaded: the thread that calls {@code SimulatedNetwork.runUntil} owns the network, the
 * nodes it delivers to and the simulation's records; nothing here starts a thread.
 */
package io.dwcp.gossip.sim;
