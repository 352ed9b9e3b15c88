/**
 * The operator's {@code dwcp} command ({@link io.dwcp.cli.DwcpCommand}): {@code dwcp migrate}
 * ({@link io.dwcp.cli.MigrateCommand}), {@code dwcp status} ({@link io.dwcp.cli.StatusCommand})
 * and {@code dwcp stream}. They reach the local dwcpd through {@link io.dwcp.cli.Dwcpd} (the control
 * socket: {@link io.dwcp.cli.DwcpdControl} over {@link io.dwcp.cli.ControlClient}) and libvirt
 * through {@link io.dwcp.cli.Libvirt}; tests give hand-written fakes of both.
 *
 * <h2>Threads</h2>
 * <ul>
 * <li>The command's main thread does everything but the libvirt migration call, which blocks until
 * the migration ends and runs on {@code dwcp-migrate} (owned by the command, shut down when it
 * returns) while the main thread samples progress and handles Ctrl-C.</li>
 * <li>{@link io.dwcp.cli.ControlClient} owns one Netty event loop ({@code dwcp-control}) for its
 * requests; callers wait for the answer on their own thread, never on it.</li>
 * </ul>
 */
package io.dwcp.cli;
