/**
 * Configuration: the {@link io.dwcp.config.Config} annotation on each concern's setters, the
 * {@link io.dwcp.config.ConfigurationBinder} that maps a properties file
 * ({@link io.dwcp.config.ConfigurationFile}) onto them and refuses an unknown key or a malformed value
 * with a {@link io.dwcp.config.ConfigurationException} naming both, and the value types a key may take
 * ({@link io.dwcp.config.DataSize}, {@link io.dwcp.config.HostAndPort}); {@link io.dwcp.config.Printable}
 * quotes outside text in messages.
 *
 * <h2>Threads</h2>
 * Binding runs once, on the thread that starts the daemon or the command, before anything else
 * exists; the config objects are read-only afterwards, and the value types are immutable.
 */
package io.dwcp.config;
