/**
 * The libvirt test bed: two libvirt hosts as namespaces on one machine (FACTS.md).
 *
 * <ul>
 *   <li>{@link io.dwcp.testbed.libvirt.LibvirtHost}: libvirtd and virtlogd of their own in a
 *       {@link io.dwcp.testbed.net.Host}'s network namespace plus private mount and UTS
 *       namespaces (own /etc/libvirt, /run/libvirt, /var/lib/libvirt, /var/cache/libvirt,
 *       /var/log/libvirt, hostname and host_uuid);</li>
 *   <li>{@link io.dwcp.testbed.libvirt.LibvirtTestBed}: hosts A and B on a
 *       {@link io.dwcp.testbed.net.TwoHostNetwork};</li>
 *   <li>{@link io.dwcp.testbed.libvirt.LibvirtDomainXml}: the direct-kernel-boot domain of the test
 *       guest, its console on a unix socket for {@link io.dwcp.testbed.guest.GuestConsole}.</li>
 * </ul>
 * Needs root and libvirt (tests/setup/install-deps.sh installs it without starting any daemon).
 */
package io.dwcp.testbed.libvirt;
