package io.dwcp.tunnel;

import io.dwcp.config.HostAndPort;

import java.util.OptionalInt;

import static java.util.Objects.requireNonNull;

/**
 * One peer dwcpd: its name (the CN of its certificate), the address of its tunnel port, and the
 * optional loopback TCP port on which this host accepts QEMU migrations to it.
 */
public record PeerConfig(String name, HostAndPort address, OptionalInt qemuPort)
{
    public PeerConfig
    {
        requireNonNull(name, "name is null");
        requireNonNull(address, "address is null");
        requireNonNull(qemuPort, "qemuPort is null");
    }
}
