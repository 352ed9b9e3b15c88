/**
 * The control socket: the libvirt hook and the {@code dwcp} CLI talk to dwcpd over HTTP/1.1 on a
 * unix socket. {@link io.dwcp.control.ControlApi} is the protocol as plain code (its grammar in
 * the javadoc), {@link io.dwcp.control.ControlServer} the Netty glue, {@link
 * io.dwcp.control.MigrationRegistry} what the socket was told.
 *
 * <h2>Threads</h2>
 * Requests are read, answered and written on the daemon's event loops; {@code ControlApi} keeps
 * no state of its own. Requests that read the disk (the baselines, {@link
 * io.dwcp.control.ControlApi#blocks}) are answered on the server's own {@code dwcp-control-io}
 * thread and written back from the channel's loop. {@code MigrationRegistry} is thread-safe (one
 * lock): the socket's requests, the session listener (event loops) and the baseline job thread
 * (asking which VM a session carried) all call it.
 */
package io.dwcp.control;
