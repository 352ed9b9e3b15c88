/**
 * The composition root: {@code dwcpd}'s command line ({@link io.dwcp.daemon.DwcpdCommand}), the
 * configuration of every concern bound and checked in one place
 * ({@link io.dwcp.daemon.DaemonConfiguration}, {@link io.dwcp.daemon.ConfigModule}), and
 * {@link io.dwcp.daemon.DwcpDaemon}, which builds the injector from each package's module and
 * starts and closes the parts in order; {@code RegionPublishing} connects the data path (sessions,
 * baseline store) to the region's metadata, the one place that knows both. It depends on every package; no package depends on it.
 *
 * <h2>Threads</h2>
 * <ul>
 * <li>{@link io.dwcp.daemon.DwcpDaemon}: {@code start} and {@code close} on the caller's thread
 * (the command's main thread, or its shutdown hook); its state is an atomic reference, so a
 * second {@code close} does nothing.</li>
 * <li>The configuration classes are set before the injector exists and read-only after.</li>
 * </ul>
 */
package io.dwcp.daemon;
