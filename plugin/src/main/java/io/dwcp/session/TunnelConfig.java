package io.dwcp.session;

import io.dwcp.config.Config;
import io.dwcp.config.ConfigurationException;
import io.dwcp.config.DataSize;
import io.dwcp.config.HostAndPort;
import java.time.Duration;

/** The tunnel endpoint and how dwcpd talks to QEMU. */
public class TunnelConfig {
    private HostAndPort listen = new HostAndPort("0.0.0.0", 7470);
    private String qemuListenHost = "127.0.0.1";
    private String incomingQemuHost = "127.0.0.1";
    private int incomingPortOffset;
    private Duration qemuConnectTimeout = Duration.ofSeconds(10);
    private Duration handshakeTimeout = Duration.ofSeconds(10);
    private Duration reconnectTimeout = Duration.ofSeconds(30);
    private Duration keepaliveInterval = Duration.ofSeconds(1);
    private Duration idleTimeout = Duration.ofSeconds(15);
    private int maxSessions = 16;
    private int maxPendingConnections = 64;
    private int spareStreams = 8;
    private DataSize sparePrime = DataSize.ofMiB(2);
    private Duration sparePrimeMinRtt = Duration.ofMillis(200);
    private Duration spareLinger = Duration.ofMinutes(10);
    private int maxSpareConnections = 64;
    private int ioThreads;
    private int codecThreads;
    private boolean tokenizeSource = true;

    public HostAndPort getListen() {
        return listen;
    }

    @Config(value = "tunnel.listen", description = "address of the tunnel port (peers' dwcpd connect here)")
    public TunnelConfig setListen(HostAndPort listen) {
        this.listen = listen;
        return this;
    }

    public String getQemuListenHost() {
        return qemuListenHost;
    }

    @Config(value = "tunnel.qemu-listen-host", description = "address of the per-peer TCP ports QEMU connects to")
    public TunnelConfig setQemuListenHost(String qemuListenHost) {
        if (!HostAndPort.isHost(qemuListenHost)) {
            throw ConfigurationException.invalidValue("tunnel.qemu-listen-host", qemuListenHost, HostAndPort.HOST_RULE);
        }
        this.qemuListenHost = qemuListenHost;
        return this;
    }

    public String getIncomingQemuHost() {
        return incomingQemuHost;
    }

    @Config(value = "tunnel.incoming-qemu-host", description = "at the destination, where QEMU -incoming tcp listens")
    public TunnelConfig setIncomingQemuHost(String incomingQemuHost) {
        if (!HostAndPort.isHost(incomingQemuHost)) {
            throw ConfigurationException.invalidValue(
                    "tunnel.incoming-qemu-host", incomingQemuHost, HostAndPort.HOST_RULE);
        }
        this.incomingQemuHost = incomingQemuHost;
        return this;
    }

    public int getIncomingPortOffset() {
        return incomingPortOffset;
    }

    @Config(
            value = "tunnel.incoming-port-offset",
            description = "added to the source's QEMU port at the destination (tests on one host)")
    public TunnelConfig setIncomingPortOffset(int incomingPortOffset) {
        this.incomingPortOffset = incomingPortOffset;
        return this;
    }

    public Duration getQemuConnectTimeout() {
        return qemuConnectTimeout;
    }

    @Config(
            value = "tunnel.qemu-connect-timeout",
            description = "how long the destination retries QEMU's incoming socket")
    public TunnelConfig setQemuConnectTimeout(Duration qemuConnectTimeout) {
        this.qemuConnectTimeout = qemuConnectTimeout;
        return this;
    }

    public Duration getHandshakeTimeout() {
        return handshakeTimeout;
    }

    @Config(value = "tunnel.handshake-timeout", description = "TLS handshake + HELLO must complete within this")
    public TunnelConfig setHandshakeTimeout(Duration handshakeTimeout) {
        this.handshakeTimeout = handshakeTimeout;
        return this;
    }

    public Duration getReconnectTimeout() {
        return reconnectTimeout;
    }

    @Config(value = "tunnel.reconnect-timeout", description = "a session without any stream for this long fails")
    public TunnelConfig setReconnectTimeout(Duration reconnectTimeout) {
        this.reconnectTimeout = reconnectTimeout;
        return this;
    }

    public Duration getKeepaliveInterval() {
        return keepaliveInterval;
    }

    @Config(value = "tunnel.keepalive-interval", description = "PING and ACK refresh period on each stream")
    public TunnelConfig setKeepaliveInterval(Duration keepaliveInterval) {
        this.keepaliveInterval = keepaliveInterval;
        return this;
    }

    public Duration getIdleTimeout() {
        return idleTimeout;
    }

    @Config(value = "tunnel.idle-timeout", description = "a stream that received nothing for this long is failed")
    public TunnelConfig setIdleTimeout(Duration idleTimeout) {
        this.idleTimeout = idleTimeout;
        return this;
    }

    public int getMaxSessions() {
        return maxSessions;
    }

    @Config(value = "tunnel.max-sessions", description = "concurrent sessions per daemon (both roles)")
    public TunnelConfig setMaxSessions(int maxSessions) {
        this.maxSessions = maxSessions;
        return this;
    }

    public int getMaxPendingConnections() {
        return maxPendingConnections;
    }

    @Config(value = "tunnel.max-pending-connections", description = "tunnel connections still in TLS/HELLO at once")
    public TunnelConfig setMaxPendingConnections(int maxPendingConnections) {
        this.maxPendingConnections = maxPendingConnections;
        return this;
    }

    public int getSpareStreams() {
        return spareStreams;
    }

    @Config(
            value = "tunnel.spare-streams",
            description = "streams kept open, through TLS, to a peer a migration was announced to or a session went to,"
                    + " so that the next session's first streams need no TCP or TLS handshake (0 = none)")
    public TunnelConfig setSpareStreams(int spareStreams) {
        this.spareStreams = spareStreams;
        return this;
    }

    public DataSize getSparePrime() {
        return sparePrime;
    }

    @Config(
            value = "tunnel.spare-prime",
            description = "bytes a spare stream sends at most, as padding the peer discards, to open its TCP congestion"
                    + " window before a session takes it: while no session to that peer runs, until the path queues"
                    + " or loses a packet, BBR leaves its startup, or 20 round trips passed; then it is kept open by a"
                    + " PING every 150 ms (0 = no padding)")
    public TunnelConfig setSparePrime(DataSize sparePrime) {
        this.sparePrime = sparePrime;
        return this;
    }

    public Duration getSparePrimeMinRtt() {
        return sparePrimeMinRtt;
    }

    @Config(
            value = "tunnel.spare-prime-min-rtt",
            description = "spare streams are primed (tunnel.spare-prime) only to a peer whose round trip, the spare's"
                    + " lowest as TCP measured it, is at least this: on shorter paths TCP's slow start costs little"
                    + " and the padding's bytes are not worth it (0s = every path)")
    public TunnelConfig setSparePrimeMinRtt(Duration sparePrimeMinRtt) {
        this.sparePrimeMinRtt = sparePrimeMinRtt;
        return this;
    }

    public Duration getSpareLinger() {
        return spareLinger;
    }

    @Config(
            value = "tunnel.spare-linger",
            description = "how long spare streams to a peer stay open after its last session or announced migration")
    public TunnelConfig setSpareLinger(Duration spareLinger) {
        this.spareLinger = spareLinger;
        return this;
    }

    public int getMaxSpareConnections() {
        return maxSpareConnections;
    }

    @Config(
            value = "tunnel.max-spare-connections",
            description = "peers' spare streams this daemon holds at once (more are refused)")
    public TunnelConfig setMaxSpareConnections(int maxSpareConnections) {
        this.maxSpareConnections = maxSpareConnections;
        return this;
    }

    public int getIoThreads() {
        return ioThreads;
    }

    @Config(value = "tunnel.io-threads", description = "event-loop threads (0 = 2 x cores)")
    public TunnelConfig setIoThreads(int ioThreads) {
        this.ioThreads = ioThreads;
        return this;
    }

    public int getCodecThreads() {
        return codecThreads;
    }

    @Config(
            value = "tunnel.codec-threads",
            description =
                    "threads that encode, decode and check the digests of QEMU's streams, off the event loops (0 = cores)")
    public TunnelConfig setCodecThreads(int codecThreads) {
        this.codecThreads = codecThreads;
        return this;
    }

    public boolean isTokenizeSource() {
        return tokenizeSource;
    }

    @Config(
            value = "tunnel.tokenize-source",
            description = "run the source's QEMU bytes through the migration stream tokenizer (pass-through)")
    public TunnelConfig setTokenizeSource(boolean tokenizeSource) {
        this.tokenizeSource = tokenizeSource;
        return this;
    }

    public void validate() {
        if (maxSessions < 1 || maxPendingConnections < 1 || ioThreads < 0 || codecThreads < 0) {
            throw new ConfigurationException("tunnel.max-sessions and tunnel.max-pending-connections must be >= 1, "
                    + "tunnel.io-threads and tunnel.codec-threads >= 0");
        }
        if (spareStreams < 0 || spareStreams > 64 || maxSpareConnections < 0) {
            throw new ConfigurationException(
                    "tunnel.spare-streams must be 0..64 and tunnel.max-spare-connections >= 0");
        }
        if (sparePrimeMinRtt.isNegative()) {
            throw new ConfigurationException("tunnel.spare-prime-min-rtt must not be negative: " + sparePrimeMinRtt);
        }
        if (spareLinger.isNegative() || spareLinger.isZero()) {
            throw new ConfigurationException("tunnel.spare-linger must be positive");
        }
    }
}
