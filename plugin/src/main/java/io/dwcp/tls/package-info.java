/**
 * Mutual TLS of the tunnel streams and of gossip between regions: {@link io.dwcp.tls.TlsConfig} (the
 * host's key, certificate and CA, the provider), {@link io.dwcp.tls.TlsContexts} (the client and server
 * contexts built from them, BoringSSL where available, the JDK's engine otherwise; the peer's name and
 * certificate fingerprint read from a handshake), and {@link io.dwcp.tls.CertificateAuthority} (a CA
 * and host certificates for tests and the demo).
 *
 * <h2>Threads</h2>
 * The contexts are built once while the daemon starts and are immutable and thread-safe after: every
 * stream's event loop creates its own handler from them. {@link io.dwcp.tls.CertificateAuthority} is
 * used by one thread at a time (a test or a command).
 */
package io.dwcp.tls;
