/**
 * Who this host is: its name ({@code node.name}, the one name rule every host, peer and
 * certificate name follows), where it keeps its sockets and state, and the owner and mode of the
 * unix sockets it creates. Every layer that names a host or creates a socket reads it; it depends
 * on {@code io.dwcp.config} only.
 *
 * <ul>
 * <li>{@link io.dwcp.node.NodeConfig} ({@code node.*}) and the name rule
 * ({@link io.dwcp.node.NodeConfig#isName}, {@link io.dwcp.node.NodeConfig#checkName}).</li>
 * <li>{@link io.dwcp.node.SocketPermissions}: the group and mode of a unix socket file, checked
 * while the daemon is configured and applied when a socket is bound.</li>
 * </ul>
 *
 * <h2>Threads</h2>
 * {@link io.dwcp.node.NodeConfig} is set while the daemon is configured and read-only after, from
 * any thread. {@link io.dwcp.node.SocketPermissions} is immutable; applying it does file I/O on
 * the caller's thread (the daemon's start, never an event loop).
 */
package io.dwcp.node;
