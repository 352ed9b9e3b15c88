/**
 * The control socket: the protocol ({@link io.dwcp.control.ControlApi}, its grammar in the javadoc),
 * its HTTP/1.1 glue on a unix socket ({@link io.dwcp.control.ControlServer}), and what it was told
 * ({@link io.dwcp.control.MigrationRegistry}); {@link io.dwcp.control.PeerResolver}: who a
 * migration's peer is (configured, else a host of the region). Clients: the libvirt hook and the
 * dwcp CLI.
 *
 * <h2>Threads</h2>
 * <ul>
 * <li>The daemon's event loops read requests and write answers; they never run the protocol.</li>
 * <li>{@code dwcp-control-api} (one thread, owned and ended by {@link io.dwcp.control.ControlServer}):
 * every request's {@link io.dwcp.control.ControlApi#handle}, one at a time (it may block on
 * ZooKeeper to take or let go of a VM lock, opens an announced migration's socket, and the baseline
 * resources read the disk; resolving a peer from the region, choosing a destination and reading the
 * baselines the region's catalogue records read ZooKeeper within the staleness bound), and every second the letting go of the locks and the closing of the
 * sockets of migrations that ended or expired.</li>
 * <li>{@link io.dwcp.control.MigrationRegistry} is guarded by its monitor (also entered by the
 * tunnel's session listener when a source session starts, and by the baseline job thread asking
 * which VM a session carried); it never does I/O under it: the VM locks it lets go of wait for
 * {@code dwcp-control-api} to close them, and so do the migration sockets.</li>
 * </ul>
 */
package io.dwcp.control;
