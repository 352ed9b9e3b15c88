/**
 * The test bed's network: hosts as network namespaces joined by veth pairs, directly or through a
 * router namespace and the user-space WAN emulator ({@link io.dwcp.testbed.wan}).
 *
 * <ul>
 *   <li>{@link io.dwcp.testbed.net.TwoHostNetwork}: hosts A and B, one {@link io.dwcp.testbed.wan.LinkProfile} per direction;</li>
 *   <li>{@link io.dwcp.testbed.net.Host}: run commands or Java code (sockets) inside a host;</li>
 *   <li>{@link io.dwcp.testbed.net.TcpBulkTransfer}, {@link io.dwcp.testbed.net.UdpProbe}: traffic for fidelity tests and capacity runs.</li>
 * </ul>
 * Everything needs root. Addresses are fixed (10.231.1.2 for A, 10.231.2.2 for B): every network
 * lives in namespaces of its own, so several can exist at once.
 */
package io.dwcp.testbed.net;
