package io.dwcp.control;

import io.dwcp.config.Config;
import io.dwcp.config.ConfigurationException;
import io.dwcp.config.DataSize;
import io.dwcp.node.SocketPermissions;
import java.nio.file.Path;
import java.time.Duration;

/** dwcpd's control socket: HTTP/1.1 on a unix socket, for the libvirt hook and the dwcp CLI. */
public class ControlConfig {
    private boolean enabled = true;
    private Path socket;
    private String socketMode = "0660";
    private String socketGroup = "";
    private DataSize maxRequestSize = DataSize.ofKiB(16);
    private Duration requestTimeout = Duration.ofSeconds(5);
    private int maxConnections = 32;
    private Duration expectationTimeout = Duration.ofMinutes(30);
    private int maxRecords = 1024;

    public boolean isEnabled() {
        return enabled;
    }

    @Config(
            value = "control.enabled",
            description = "serve the control socket (the libvirt hook and dwcp migrate need it)")
    public ControlConfig setEnabled(boolean enabled) {
        this.enabled = enabled;
        return this;
    }

    /** The socket, or null for {@code <node.run-dir>/control.sock}. */
    public Path getSocket() {
        return socket;
    }

    public Path socketIn(Path runDirectory) {
        return socket != null ? socket : runDirectory.resolve("control.sock");
    }

    @Config(value = "control.socket", description = "control socket path (default: <node.run-dir>/control.sock)")
    public ControlConfig setSocket(Path socket) {
        this.socket = socket;
        return this;
    }

    public String getSocketMode() {
        return socketMode;
    }

    @Config(
            value = "control.socket-mode",
            description = "octal mode of the control socket (the hook runs as root; dwcp users need group write)")
    public ControlConfig setSocketMode(String socketMode) {
        SocketPermissions.parseMode(socketMode, "control.socket-mode");
        this.socketMode = socketMode;
        return this;
    }

    public String getSocketGroup() {
        return socketGroup;
    }

    @Config(
            value = "control.socket-group",
            description = "group of the control socket, e.g. the administrators' (empty: dwcpd's own group)")
    public ControlConfig setSocketGroup(String socketGroup) {
        this.socketGroup = SocketPermissions.checkGroup(socketGroup, "control.socket-group");
        return this;
    }

    public DataSize getMaxRequestSize() {
        return maxRequestSize;
    }

    @Config(value = "control.max-request-size", description = "largest request body; larger requests get 413")
    public ControlConfig setMaxRequestSize(DataSize maxRequestSize) {
        this.maxRequestSize = maxRequestSize;
        return this;
    }

    public Duration getRequestTimeout() {
        return requestTimeout;
    }

    @Config(value = "control.request-timeout", description = "a client must send its whole request within this")
    public ControlConfig setRequestTimeout(Duration requestTimeout) {
        this.requestTimeout = requestTimeout;
        return this;
    }

    public int getMaxConnections() {
        return maxConnections;
    }

    @Config(
            value = "control.max-connections",
            description = "open control connections at once; more are closed at once")
    public ControlConfig setMaxConnections(int maxConnections) {
        this.maxConnections = maxConnections;
        return this;
    }

    public Duration getExpectationTimeout() {
        return expectationTimeout;
    }

    @Config(
            value = "control.expectation-timeout",
            description = "an expected incoming migration or an announced outgoing one is forgotten after this")
    public ControlConfig setExpectationTimeout(Duration expectationTimeout) {
        this.expectationTimeout = expectationTimeout;
        return this;
    }

    public int getMaxRecords() {
        return maxRecords;
    }

    @Config(
            value = "control.max-records",
            description = "incoming expectations and outgoing migrations kept at once; more get 503")
    public ControlConfig setMaxRecords(int maxRecords) {
        this.maxRecords = maxRecords;
        return this;
    }

    public SocketPermissions socketPermissions() {
        return new SocketPermissions(socketMode, socketGroup, "control.socket-mode", "control.socket-group");
    }

    public void validate() {
        if (maxRequestSize.bytes() < 1024 || maxRequestSize.bytes() > (1 << 20)) {
            throw new ConfigurationException("control.max-request-size must be 1KiB to 1MiB: " + maxRequestSize);
        }
        if (requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new ConfigurationException("control.request-timeout must be positive: " + requestTimeout);
        }
        if (maxConnections < 1) {
            throw new ConfigurationException("control.max-connections must be at least 1: " + maxConnections);
        }
        if (expectationTimeout.toSeconds() < 1) {
            throw new ConfigurationException("control.expectation-timeout must be at least 1s: " + expectationTimeout);
        }
        if (maxRecords < 1) {
            throw new ConfigurationException("control.max-records must be at least 1: " + maxRecords);
        }
    }
}
