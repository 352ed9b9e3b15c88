package io.dwcp.amst;

import io.netty.channel.Channel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.unix.IntegerUnixChannelOption;
import io.netty.channel.unix.RawUnixChannelOption;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Congestion control, pacing and send queue of tunnel sockets, set with setsockopt on the epoll
 * channel's fd: {@code TCP_CONGESTION} (IPPROTO_TCP 6, option 13), {@code SO_MAX_PACING_RATE}
 * (SOL_SOCKET 1, option 47) and {@code TCP_NOTSENT_LOWAT} (IPPROTO_TCP 6, option 25). BBR paces on
 * its own (kernel TCP pacing); the rate cap is for operators who must leave room on a shared link.
 * The low-water mark bounds the bytes the kernel holds unsent per stream: past it the socket is
 * not writable, so the sender puts the next frames on another stream instead of behind a queue
 * that a slow stream drains late.
 */
public final class SocketTuning {
    private static final Logger log = LoggerFactory.getLogger(SocketTuning.class);
    private static final int IPPROTO_TCP = 6;
    private static final int TCP_CONGESTION = 13;
    private static final int SOL_SOCKET = 1;
    private static final int SO_MAX_PACING_RATE = 47;
    private static final int TCP_CA_NAME_MAX = 16;
    private static final int TCP_NOTSENT_LOWAT = 25;

    public static final RawUnixChannelOption CONGESTION_CONTROL =
            new RawUnixChannelOption("TCP_CONGESTION", IPPROTO_TCP, TCP_CONGESTION, TCP_CA_NAME_MAX);
    public static final IntegerUnixChannelOption MAX_PACING_RATE =
            new IntegerUnixChannelOption("SO_MAX_PACING_RATE", SOL_SOCKET, SO_MAX_PACING_RATE);
    public static final IntegerUnixChannelOption NOTSENT_LOWAT =
            new IntegerUnixChannelOption("TCP_NOTSENT_LOWAT", IPPROTO_TCP, TCP_NOTSENT_LOWAT);

    private final String congestionControl;
    private final long maxPacingRate;
    private final int notsentLowat;
    private final AtomicBoolean warned = new AtomicBoolean();

    public SocketTuning(String congestionControl, long maxPacingRate) {
        this(congestionControl, maxPacingRate, 0);
    }

    /** @param notsentLowat TCP_NOTSENT_LOWAT in bytes; 0 keeps the kernel's default */
    public SocketTuning(String congestionControl, long maxPacingRate, int notsentLowat) {
        this.congestionControl = congestionControl == null ? "" : congestionControl.trim();
        this.maxPacingRate = maxPacingRate;
        this.notsentLowat = notsentLowat;
    }

    /** Applies the settings to a connected (or accepted) TCP channel; failures are logged once. */
    public void apply(Channel channel) {
        if (!(channel instanceof EpollSocketChannel socket)) {
            return;
        }
        try {
            if (!congestionControl.isEmpty()) {
                // the option has a fixed length: the name, NUL-padded to TCP_CA_NAME_MAX
                ByteBuffer name = ByteBuffer.allocateDirect(TCP_CA_NAME_MAX);
                byte[] bytes = congestionControl.getBytes(StandardCharsets.US_ASCII);
                name.put(bytes, 0, Math.min(bytes.length, TCP_CA_NAME_MAX - 1));
                name.position(TCP_CA_NAME_MAX).flip();
                socket.config().setOption(CONGESTION_CONTROL, name);
            }
            if (maxPacingRate > 0) {
                socket.config().setOption(MAX_PACING_RATE, (int) Math.min(Integer.MAX_VALUE, maxPacingRate));
            }
            if (notsentLowat > 0) {
                socket.config().setOption(NOTSENT_LOWAT, notsentLowat);
            }
        } catch (RuntimeException e) {
            if (warned.compareAndSet(false, true)) {
                log.warn(
                        "cannot set congestion control '{}' / pacing / TCP_NOTSENT_LOWAT on tunnel sockets, using the system default: {}",
                        congestionControl,
                        e.toString());
            }
        }
    }

    // getsockopt(IPPROTO_TCP, TCP_CC_INFO): for BBR a struct tcp_bbr_info (bw_lo, bw_hi, min_rtt,
    // pacing_gain, cwnd_gain: u32 each, gains in units of 1/256); other algorithms fill less or nothing
    private static final int TCP_CC_INFO = 26;
    private static final int BBR_INFO_LENGTH = 20;
    private static final int BBR_PACING_GAIN_OFFSET = 12;
    private static final RawUnixChannelOption CC_INFO_RAW =
            new RawUnixChannelOption("TCP_CC_INFO", IPPROTO_TCP, TCP_CC_INFO, BBR_INFO_LENGTH);
    /** BBR's pacing gain in its startup, 2/ln 2 in units of 1/256 (Linux's bbr_high_gain). */
    static final int BBR_STARTUP_PACING_GAIN = 256 * 2885 / 1000 + 1;

    /**
     * Whether BBR on this socket has left its startup (it found the path full and paces at the
     * path's rate since): empty when the socket does not run BBR or the kernel does not say.
     */
    public static Optional<Boolean> bbrPastStartup(Channel channel) {
        if (!(channel instanceof EpollSocketChannel socket) || !socket.isOpen()) {
            return Optional.empty();
        }
        try {
            ByteBuffer info = socket.config().getOption(CC_INFO_RAW);
            if (info == null || info.remaining() < BBR_INFO_LENGTH || !"bbr".equals(congestionControl(channel))) {
                return Optional.empty();
            }
            info.order(ByteOrder.nativeOrder());
            int gain = info.getInt(info.position() + BBR_PACING_GAIN_OFFSET);
            return Optional.of(gain < BBR_STARTUP_PACING_GAIN - 8);
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The congestion control algorithm of a socket as the kernel reports it, or "unknown". */
    public static String congestionControl(Channel channel) {
        if (!(channel instanceof EpollSocketChannel socket) || !socket.isOpen()) {
            return "unknown";
        }
        try {
            ByteBuffer value = socket.config()
                    .getOption(
                            new RawUnixChannelOption("TCP_CONGESTION", IPPROTO_TCP, TCP_CONGESTION, TCP_CA_NAME_MAX));
            if (value == null) {
                return "unknown";
            }
            byte[] bytes = new byte[value.remaining()];
            value.get(bytes);
            int end = 0;
            while (end < bytes.length && bytes[end] != 0) {
                end++;
            }
            return new String(bytes, 0, end, StandardCharsets.US_ASCII);
        } catch (RuntimeException e) {
            return "unknown";
        }
    }
}
