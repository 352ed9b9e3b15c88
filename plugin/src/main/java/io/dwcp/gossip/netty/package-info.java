/**
 * The Netty glue of gossip: {@link io.dwcp.gossip.netty.TlsGossipTransport} (mutual TLS, length
 * framing, peer identity from the certificate).
 *
 * <h2>Threads</h2>
 * The transport's event loop ({@code dwcp-gossip-io}; epoll where available, else NIO) owns the channels and the per-connection
 * handler state (the peer's name from the handshake); the map of outgoing connections is
 * concurrent (any thread may send). Decoded messages are handed to the node's executor: no
 * gossip state is touched on the event loop.
 */
package io.dwcp.gossip.netty;
