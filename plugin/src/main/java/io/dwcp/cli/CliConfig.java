package io.dwcp.cli;

import io.dwcp.config.Config;
import io.dwcp.config.ConfigurationBinder;
import io.dwcp.config.ConfigurationException;
import io.dwcp.config.ConfigurationFile;
import java.nio.file.Path;
import java.util.List;

/** The dwcp command's settings, from {@code /etc/dwcp/dwcp.properties} (optional); options override them. */
public class CliConfig {
    private String connect = "qemu:///system";
    private String destinationUri = "qemu+ssh://{host}/system";
    private Path controlSocket = Path.of("/run/dwcp/control.sock");
    private Path runDirectory = Path.of("/run/dwcp");

    public String getConnect() {
        return connect;
    }

    @Config(value = "migrate.connect", description = "the local libvirt URI (--connect)")
    public CliConfig setConnect(String connect) {
        this.connect = connect;
        return this;
    }

    public String getDestinationUri() {
        return destinationUri;
    }

    @Config(
            value = "migrate.dest-uri",
            description = "the destination libvirt URI; {host} is the dwcp URI's host (--dest-uri)")
    public CliConfig setDestinationUri(String destinationUri) {
        if (destinationUri.isBlank()) {
            throw new ConfigurationException("migrate.dest-uri is empty");
        }
        this.destinationUri = destinationUri;
        return this;
    }

    public Path getControlSocket() {
        return controlSocket;
    }

    @Config(value = "control.socket", description = "the local dwcpd's control socket (--control-socket)")
    public CliConfig setControlSocket(Path controlSocket) {
        this.controlSocket = controlSocket;
        return this;
    }

    public Path getRunDirectory() {
        return runDirectory;
    }

    @Config(
            value = "node.run-dir",
            description = "the local dwcpd's node.run-dir: --dry-run names <run-dir>/peer/<peer>/MIGRATION-ID.sock")
    public CliConfig setRunDirectory(Path runDirectory) {
        this.runDirectory = runDirectory;
        return this;
    }

    /** The destination libvirt URI for the host: the template with {host} replaced. */
    public static String destinationUri(String template, String uriHost) {
        return template.replace("{host}", uriHost);
    }

    /** Where the settings are when {@code --config} is not given (read only when present). */
    static final Path DEFAULT_FILE = Path.of("/etc/dwcp/dwcp.properties");

    /**
     * The settings of {@code --config FILE} (which must exist), or of {@link #DEFAULT_FILE} when present,
     * bound and checked: an unknown key or a bad value is an {@link Invalid} naming the file and the keys
     * the command knows.
     */
    static CliConfig load(Path configFile) throws Invalid {
        Path file = configFile != null ? configFile : DEFAULT_FILE;
        try {
            ConfigurationBinder binder =
                    new ConfigurationBinder(ConfigurationFile.load(file, configFile != null, List.of()));
            CliConfig config = binder.bind(CliConfig.class);
            binder.checkAllUsed();
            return config;
        } catch (ConfigurationException e) {
            throw new Invalid(file + ": "
                    + e.getMessage()
                            .replace(
                                    "(see dwcpd --help-config)",
                                    "(migrate.connect, migrate.dest-uri, control.socket, node.run-dir)"));
        }
    }

    /** The settings file cannot be used; the message says why. */
    static final class Invalid extends Exception {
        Invalid(String message) {
            super(message);
        }
    }
}
