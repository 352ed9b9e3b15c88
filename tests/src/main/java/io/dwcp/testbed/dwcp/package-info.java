/**
 * dwcpd in the test bed: {@link io.dwcp.testbed.dwcp.Dwcpd} starts a real daemon (a separate JVM, in a
 * host's network namespace) and reads its log, metrics and control socket; {@link io.dwcp.testbed.dwcp.DwcpLink}
 * is the pair of daemons across the two hosts with their certificates.
 *
 * <h2>Threads</h2>
 * Used by the test's thread; the daemons are processes the test started and ends by their pid.
 */
package io.dwcp.testbed.dwcp;
