package io.dwcp.session;

import static java.util.Objects.requireNonNull;

import io.dwcp.config.HostAndPort;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * One peer dwcpd: its name (the CN of its certificate), the address of its tunnel port, and the
 * optional loopback TCP port on which this host accepts QEMU migrations to it. A peer found in
 * the region's host records also has the fingerprint of its certificate ({@code sha256:HEX},
 * {@link io.dwcp.tls.TlsContexts#fingerprint}): its TLS peer must show that very certificate.
 */
public record PeerConfig(
        String name, HostAndPort address, OptionalInt qemuPort, Optional<String> certificateFingerprint) {
    public PeerConfig {
        requireNonNull(name, "name is null");
        requireNonNull(address, "address is null");
        requireNonNull(qemuPort, "qemuPort is null");
        requireNonNull(certificateFingerprint, "certificateFingerprint is null");
    }

    /** A configured peer: its CA-signed certificate with its name is enough. */
    public PeerConfig(String name, HostAndPort address, OptionalInt qemuPort) {
        this(name, address, qemuPort, Optional.empty());
    }

    /** Whether the certificate with this fingerprint may be this peer's. */
    public boolean acceptsFingerprint(Optional<String> fingerprint) {
        return certificateFingerprint.isEmpty() || certificateFingerprint.equals(fingerprint);
    }
}
