package io.dwcp.gossip;

/**
 * How a {@link GossipNode} reaches its peers: best effort, never blocking the caller. A message
 * may be lost (the next round repairs that); a transport delivers what it receives to the node's
 * {@link Receiver} on the node's own thread. Implementations: {@link io.dwcp.gossip.netty.TlsGossipTransport}
 * (mutual TLS over TCP) and {@link io.dwcp.gossip.sim.SimulatedNetwork} (in-process, simulated time).
 */
public interface GossipTransport {
    /** Sends the message to the named peer, or drops it (unknown or unreachable peer). */
    void send(String peer, GossipMessage message);

    /** What the transport calls with each message received. */
    @FunctionalInterface
    interface Receiver {
        void receive(GossipMessage message);
    }
}
