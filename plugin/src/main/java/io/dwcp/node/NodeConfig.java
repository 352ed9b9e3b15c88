package io.dwcp.node;

import io.dwcp.config.Config;
import io.dwcp.config.ConfigurationException;
import java.nio.file.Path;
import java.util.regex.Pattern;

/** Who this dwcpd is and where it keeps its sockets and state (one set per network namespace). */
public class NodeConfig {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");

    private String name;
    private Path runDirectory = Path.of("/run/dwcp");
    private Path stateDirectory = Path.of("/var/lib/dwcp");
    private String socketGroup = "kvm";
    private String socketMode = "0660";

    public String getName() {
        return name;
    }

    @Config(value = "node.name", description = "this host's name; its TLS certificate's CN must be the same (required)")
    public NodeConfig setName(String name) {
        if (!isName(name)) {
            throw ConfigurationException.invalidValue("node.name", name, NAME_RULE);
        }
        this.name = name;
        return this;
    }

    public Path getRunDirectory() {
        return runDirectory;
    }

    @Config(value = "node.run-dir", description = "QEMU-facing sockets live in <run-dir>/peer/<peer>.sock")
    public NodeConfig setRunDirectory(Path runDirectory) {
        this.runDirectory = runDirectory;
        return this;
    }

    public Path getStateDirectory() {
        return stateDirectory;
    }

    @Config(value = "node.state-dir", description = "persistent state (created if missing)")
    public NodeConfig setStateDirectory(Path stateDirectory) {
        this.stateDirectory = stateDirectory;
        return this;
    }

    public String getSocketGroup() {
        return socketGroup;
    }

    @Config(
            value = "node.socket-group",
            description =
                    "group of <run-dir>/peer/*.sock, so QEMU run by libvirt can connect (Debian: kvm; empty: dwcpd's own group)")
    public NodeConfig setSocketGroup(String socketGroup) {
        this.socketGroup = SocketPermissions.checkGroup(socketGroup, "node.socket-group");
        return this;
    }

    public String getSocketMode() {
        return socketMode;
    }

    @Config(
            value = "node.socket-mode",
            description = "octal mode of <run-dir>/peer/*.sock (connecting needs write permission)")
    public NodeConfig setSocketMode(String socketMode) {
        SocketPermissions.parseMode(socketMode, "node.socket-mode");
        this.socketMode = socketMode;
        return this;
    }

    /** Owner group and mode of the QEMU-facing sockets. */
    public SocketPermissions peerSocketPermissions() {
        return new SocketPermissions(socketMode, socketGroup, "node.socket-mode", "node.socket-group");
    }

    public Path peerSocket(String peer) {
        return runDirectory.resolve("peer").resolve(peer + ".sock");
    }

    public void validate() {
        if (name == null) {
            throw new ConfigurationException("node.name is required");
        }
    }

    /** What {@link #isName} accepts, for error messages. */
    public static final String NAME_RULE =
            "expected 1-63 characters of [A-Za-z0-9._-], starting with a letter or digit";

    /** A node name: this host's {@code node.name}, a peer's name, a certificate's CN. */
    public static boolean isName(String name) {
        return name != null && NAME.matcher(name).matches();
    }

    public static void checkName(String name, String what) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new ConfigurationException(what
                    + " must be 1-63 characters of [A-Za-z0-9._-], starting with a letter or digit: '" + name + "'");
        }
    }
}
