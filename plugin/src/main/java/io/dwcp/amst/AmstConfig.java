package io.dwcp.amst;

import io.dwcp.config.Config;
import io.dwcp.config.ConfigurationException;
import io.dwcp.config.DataSize;
import java.time.Duration;

/** The adaptive multi-stream transport: window, frames, stream count, congestion control. */
public class AmstConfig {
    private DataSize window = DataSize.ofMiB(64);
    private DataSize maxReceiveWindow = DataSize.ofMiB(256);
    private DataSize maxFramePayload = DataSize.ofKiB(256);
    private DataSize checkpointInterval = DataSize.ofMiB(4);
    /** The streams a session starts with unless {@code amst.initial-streams} says otherwise. */
    public static final int DEFAULT_INITIAL_STREAMS = 8;

    // 0: not set, DEFAULT_INITIAL_STREAMS within [minStreams, maxStreams]
    private int initialStreams;
    private int minStreams = 1;
    private int maxStreams = 256;
    private Duration adaptInterval = Duration.ofSeconds(1);
    private String congestionControl = "bbr";
    private DataSize maxPacingRate = DataSize.ofBytes(0);
    private DataSize streamWriteBuffer = DataSize.ofMiB(1);
    private DataSize notsentLowat = DataSize.ofBytes(0);
    private DataSize rawWindow = DataSize.ofMiB(64);
    private Duration switchoverDrain = Duration.ofMillis(150);
    private int readPacePercent = 125;
    private Duration headResend = Duration.ofMillis(100);
    private Duration checkpointDelay = Duration.ofMillis(5);
    /** A checkpoint's delay bounds how late QEMU's last bytes reach the destination: at most this. */
    static final Duration MAX_CHECKPOINT_DELAY = Duration.ofMillis(100);

    public DataSize getWindow() {
        return window;
    }

    @Config(
            value = "amst.window",
            description =
                    "frame bytes in flight per session and direction, until the peer decoded them (QEMU is paused beyond)")
    public AmstConfig setWindow(DataSize window) {
        this.window = window;
        return this;
    }

    public DataSize getRawWindow() {
        return rawWindow;
    }

    @Config(
            value = "amst.raw-window",
            description =
                    "bytes of QEMU's stream read but not yet delivered to the peer's QEMU, per session and direction (QEMU is paused beyond): bounds what the destination holds and has to catch up on at the switch-over; with several QEMU connections (multifd) each gets its share, at least 2 x amst.checkpoint-interval")
    public AmstConfig setRawWindow(DataSize rawWindow) {
        this.rawWindow = rawWindow;
        return this;
    }

    public Duration getSwitchoverDrain() {
        return switchoverDrain;
    }

    @Config(
            value = "amst.switchover-drain",
            description =
                    "how long QEMU's last bytes may queue behind earlier ones at the switch-over: the raw window follows the measured delivery rate x (2 RTT + this) + amst.checkpoint-interval + 1 MiB, within amst.raw-window (0s = always amst.raw-window)")
    public AmstConfig setSwitchoverDrain(Duration switchoverDrain) {
        this.switchoverDrain = switchoverDrain;
        return this;
    }

    public int getReadPacePercent() {
        return readPacePercent;
    }

    @Config(
            value = "amst.read-pace-percent",
            description =
                    "QEMU's stream is read at most this share of the highest rate the peer's QEMU received it at so far in the session, from the 6th adaptation interval on (see io.dwcp.amst.ReadPacer), so that QEMU's own bandwidth estimate, from which it decides the switch-over, is true; 0 = not paced, else 100..1000")
    public AmstConfig setReadPacePercent(int readPacePercent) {
        this.readPacePercent = readPacePercent;
        return this;
    }

    public Duration getCheckpointDelay() {
        return checkpointDelay;
    }

    @Config(
            value = "amst.checkpoint-delay",
            description =
                    "when QEMU's socket is drained or no longer read, the checkpoint that lets the receiver release what it holds waits this long for QEMU's next bytes, and goes with them if they come (but at most 10 delays in all): fewer, larger frames and no page cut at each pause (a cut page goes as raw bytes); 0s = a checkpoint at every pause")
    public AmstConfig setCheckpointDelay(Duration checkpointDelay) {
        this.checkpointDelay = checkpointDelay;
        return this;
    }

    public Duration getHeadResend() {
        return headResend;
    }

    @Config(
            value = "amst.head-resend",
            description =
                    "the frame the receiver waits for is sent again on another stream once it has been out for 3 RTT + this (0s = never)")
    public AmstConfig setHeadResend(Duration headResend) {
        this.headResend = headResend;
        return this;
    }

    public DataSize getMaxReceiveWindow() {
        return maxReceiveWindow;
    }

    @Config(
            value = "amst.max-receive-window",
            description = "largest window a peer may announce (receiver memory bound)")
    public AmstConfig setMaxReceiveWindow(DataSize maxReceiveWindow) {
        this.maxReceiveWindow = maxReceiveWindow;
        return this;
    }

    public DataSize getMaxFramePayload() {
        return maxFramePayload;
    }

    @Config(value = "amst.max-frame-payload", description = "largest frame payload sent and accepted")
    public AmstConfig setMaxFramePayload(DataSize maxFramePayload) {
        this.maxFramePayload = maxFramePayload;
        return this;
    }

    public DataSize getCheckpointInterval() {
        return checkpointInterval;
    }

    @Config(
            value = "amst.checkpoint-interval",
            description = "digest checkpoint at least this often per channel (receiver holds back up to this)")
    public AmstConfig setCheckpointInterval(DataSize checkpointInterval) {
        this.checkpointInterval = checkpointInterval;
        return this;
    }

    /**
     * The streams a session starts with: as set, or {@link #DEFAULT_INITIAL_STREAMS} brought within
     * {@code amst.min-streams} and {@code amst.max-streams} (so that setting only a lower maximum
     * is enough).
     */
    public int getInitialStreams() {
        return initialStreams != 0
                ? initialStreams
                : Math.max(minStreams, Math.min(maxStreams, DEFAULT_INITIAL_STREAMS));
    }

    @Config(value = "amst.initial-streams", description = "TCP streams a session starts with")
    public AmstConfig setInitialStreams(int initialStreams) {
        if (initialStreams < 1) {
            throw new IllegalArgumentException("must be at least 1");
        }
        this.initialStreams = initialStreams;
        return this;
    }

    public int getMinStreams() {
        return minStreams;
    }

    @Config(value = "amst.min-streams", description = "lower bound of the stream count controller")
    public AmstConfig setMinStreams(int minStreams) {
        this.minStreams = minStreams;
        return this;
    }

    public int getMaxStreams() {
        return maxStreams;
    }

    @Config(value = "amst.max-streams", description = "upper bound of the stream count controller (<= 256)")
    public AmstConfig setMaxStreams(int maxStreams) {
        this.maxStreams = maxStreams;
        return this;
    }

    public Duration getAdaptInterval() {
        return adaptInterval;
    }

    @Config(value = "amst.adapt-interval", description = "period of the stream count controller (0s = fixed count)")
    public AmstConfig setAdaptInterval(Duration adaptInterval) {
        this.adaptInterval = adaptInterval;
        return this;
    }

    public String getCongestionControl() {
        return congestionControl;
    }

    @Config(
            value = "amst.congestion-control",
            description = "TCP_CONGESTION of tunnel sockets (empty = system default)")
    public AmstConfig setCongestionControl(String congestionControl) {
        // Linux's TCP_CONGESTION names: at most 15 characters (TCP_CA_NAME_MAX); empty keeps the system's
        if (congestionControl == null || !congestionControl.matches("[a-z0-9_]{0,15}")) {
            throw ConfigurationException.invalidValue(
                    "amst.congestion-control",
                    congestionControl,
                    "expected a TCP congestion control name such as bbr or cubic, or empty for the system's default");
        }
        this.congestionControl = congestionControl;
        return this;
    }

    public DataSize getMaxPacingRate() {
        return maxPacingRate;
    }

    @Config(value = "amst.max-pacing-rate", description = "SO_MAX_PACING_RATE per stream in bytes/s (0 = unlimited)")
    public AmstConfig setMaxPacingRate(DataSize maxPacingRate) {
        this.maxPacingRate = maxPacingRate;
        return this;
    }

    public DataSize getStreamWriteBuffer() {
        return streamWriteBuffer;
    }

    @Config(value = "amst.stream-write-buffer", description = "queued bytes per stream before it counts as full")
    public AmstConfig setStreamWriteBuffer(DataSize streamWriteBuffer) {
        this.streamWriteBuffer = streamWriteBuffer;
        return this;
    }

    public DataSize getNotsentLowat() {
        return notsentLowat;
    }

    @Config(
            value = "amst.notsent-lowat",
            description =
                    "TCP_NOTSENT_LOWAT of tunnel sockets: unsent bytes the kernel queues per stream before it counts as full, so frames do not wait behind a deep send queue on a slow stream (0 = the kernel's default, unbounded)")
    public AmstConfig setNotsentLowat(DataSize notsentLowat) {
        if (notsentLowat.bytes() > Integer.MAX_VALUE) {
            throw ConfigurationException.invalidValue(
                    "amst.notsent-lowat", notsentLowat.toString(), "expected at most 2GiB");
        }
        this.notsentLowat = notsentLowat;
        return this;
    }

    public void validate() {
        if (rawWindow.bytes() < 2 * checkpointInterval.bytes()) {
            throw new ConfigurationException(
                    "amst.raw-window must be at least 2 x amst.checkpoint-interval: " + rawWindow);
        }
        if (minStreams < 1
                || maxStreams > 256
                || minStreams > maxStreams
                || getInitialStreams() < minStreams
                || getInitialStreams() > maxStreams) {
            throw new ConfigurationException(
                    "need 1 <= amst.min-streams <= amst.initial-streams <= amst.max-streams <= 256, got " + minStreams
                            + ", " + getInitialStreams() + ", " + maxStreams);
        }
        if (maxFramePayload.bytes() < 1024 || maxFramePayload.bytes() > FrameCodec.MAX_PAYLOAD_LIMIT) {
            throw new ConfigurationException(
                    "amst.max-frame-payload must be between 1KiB and 16MiB: " + maxFramePayload);
        }
        if (window.bytes() < 4 * maxFramePayload.bytes()) {
            throw new ConfigurationException("amst.window must be at least 4 x amst.max-frame-payload: " + window);
        }
        if (checkpointInterval.bytes() < 1 || checkpointInterval.bytes() > window.bytes() / 4) {
            throw new ConfigurationException("amst.checkpoint-interval must be between 1B and amst.window / 4 ("
                    + window.bytes() / 4 + "B), or the held-back tail could fill the window: " + checkpointInterval);
        }
        if (checkpointDelay.isNegative() || checkpointDelay.compareTo(MAX_CHECKPOINT_DELAY) > 0) {
            throw new ConfigurationException("amst.checkpoint-delay must be between 0s and "
                    + MAX_CHECKPOINT_DELAY.toMillis() + "ms: " + checkpointDelay);
        }
        if (headResend.isNegative()) {
            throw new ConfigurationException("amst.head-resend must not be negative: " + headResend);
        }
        if (readPacePercent != 0 && (readPacePercent < 100 || readPacePercent > 1000)) {
            throw new ConfigurationException(
                    "amst.read-pace-percent must be 0 (not paced) or between 100 and 1000: " + readPacePercent);
        }
        if (switchoverDrain.isNegative()) {
            throw new ConfigurationException("amst.switchover-drain must not be negative: " + switchoverDrain);
        }
        if (maxReceiveWindow.bytes() < window.bytes()) {
            throw new ConfigurationException("amst.max-receive-window must be at least amst.window");
        }
    }
}
