package io.dwcp.testbed.libvirt;

import static java.util.Objects.requireNonNull;

import io.dwcp.testbed.net.TwoHostNetwork;
import io.dwcp.testbed.wan.LinkProfile;
import java.nio.file.Path;
import java.util.List;

/**
 * Two libvirt hosts, A and B, on a {@link TwoHostNetwork} (A at 10.231.1.2, B at 10.231.2.2, the
 * WAN between them emulated as the link profiles say): what a test needs to migrate a domain with
 * libvirt across an emulated WAN. Closing it closes the hosts, then the network.
 */
public final class LibvirtTestBed implements AutoCloseable {
    private final TwoHostNetwork network;
    private final LibvirtHost hostA;
    private final LibvirtHost hostB;

    private LibvirtTestBed(TwoHostNetwork network, LibvirtHost hostA, LibvirtHost hostB) {
        this.network = network;
        this.hostA = hostA;
        this.hostB = hostB;
    }

    /** Builds the network, then starts libvirt on both hosts. */
    public static LibvirtTestBed create(String name, LinkProfile aToB, LinkProfile bToA) {
        return create(name, aToB, bToA, List.of());
    }

    /** Like {@link #create(String, LinkProfile, LinkProfile)}, with these QEMU hooks installed on both hosts. */
    public static LibvirtTestBed create(String name, LinkProfile aToB, LinkProfile bToA, List<Path> qemuHooks) {
        requireNonNull(name, "name is null");
        TwoHostNetwork network = TwoHostNetwork.create(name, aToB, bToA);
        LibvirtHost a = null;
        try {
            a = LibvirtHost.start(network.hostA(), "a", qemuHooks);
            LibvirtHost b = LibvirtHost.start(network.hostB(), "b", qemuHooks);
            return new LibvirtTestBed(network, a, b);
        } catch (RuntimeException e) {
            try {
                if (a != null) {
                    a.close();
                }
                network.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * Removes what crashed runs left: libvirt hosts first (their daemons keep network namespaces
     * alive), then networks and tracked processes. Returns the number of libvirt hosts cleaned.
     */
    public static int cleanupLeftovers() {
        int hosts = LibvirtHost.cleanupLeftovers();
        TwoHostNetwork.cleanupLeftovers();
        return hosts;
    }

    public TwoHostNetwork network() {
        return network;
    }

    public LibvirtHost hostA() {
        return hostA;
    }

    public LibvirtHost hostB() {
        return hostB;
    }

    @Override
    public void close() {
        RuntimeException failure = null;
        for (AutoCloseable part : new AutoCloseable[] {hostB, hostA, network}) {
            try {
                part.close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = new IllegalStateException("cannot close the libvirt test bed", e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
