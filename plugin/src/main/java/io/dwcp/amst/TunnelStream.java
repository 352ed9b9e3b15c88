package io.dwcp.amst;

import static java.util.Objects.requireNonNull;

import io.netty.channel.Channel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.epoll.EpollTcpInfo;
import io.netty.channel.unix.RawUnixChannelOption;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;

/**
 * One TCP (TLS) connection of a session. Its fields are touched on the session's event loop
 * only, except the counters read by the metrics endpoint.
 */
public final class TunnelStream {
    private final int index;
    private final Channel channel;
    private boolean draining;
    private volatile long bytesSent;
    private volatile long framesSent;
    private volatile long rttNanos;
    private volatile double throughput;
    private long lastBytesSent;
    // the kernel's busy and buffer-limited times at the last busySinceLastCall (0 before the first)
    private long lastBusyMicros;
    private long lastLimitedMicros;

    public TunnelStream(int index, Channel channel) {
        this.index = index;
        this.channel = requireNonNull(channel, "channel is null");
    }

    public int index() {
        return index;
    }

    public Channel channel() {
        return channel;
    }

    public boolean isDraining() {
        return draining;
    }

    public void setDraining() {
        draining = true;
    }

    void recordSent(int bytes) {
        bytesSent += bytes;
        framesSent++;
    }

    public long bytesSent() {
        return bytesSent;
    }

    public long framesSent() {
        return framesSent;
    }

    /** Round-trip time measured with PING/PONG (includes queueing in the stream). */
    public long rttNanos() {
        return rttNanos;
    }

    public void recordRtt(long nanos) {
        rttNanos = nanos;
    }

    /** Bytes per second sent during the last measurement interval. */
    public double throughput() {
        return throughput;
    }

    public void measureThroughput(double seconds) {
        long sent = bytesSent;
        throughput = seconds <= 0 ? 0 : (sent - lastBytesSent) / seconds;
        lastBytesSent = sent;
    }

    /**
     * The lowest RTT the kernel measured on this stream's TCP connection since it opened
     * ({@code tcpi_min_rtt} of TCP_INFO), in microseconds; 0 where it is not known (no sample yet,
     * not an epoll socket, a kernel before 4.6). Unlike the smoothed RTT of {@link #tcpInfo}, it is
     * not raised for long by samples the host's own load delayed: on a loopback link the first
     * smoothed RTTs of a migration read 1.3-3.4 ms on a busy host, while the path's is 0.4 ms.
     */
    public long pathMinRttMicros() {
        return pathMinRttMicros(channel);
    }

    /** {@link #pathMinRttMicros()} of any channel (a spare stream's before it is a session's). */
    public static long pathMinRttMicros(Channel channel) {
        ByteBuffer info = rawTcpInfo(channel, TCPI_MIN_RTT_OFFSET + 4);
        if (info == null) {
            return 0;
        }
        long minRtt = Integer.toUnsignedLong(info.getInt(info.position() + TCPI_MIN_RTT_OFFSET));
        // ~0U: no RTT sample yet
        return minRtt == 0xFFFF_FFFFL ? 0 : minRtt;
    }

    /**
     * The socket's struct tcp_info in native order, when it is an open epoll socket and the kernel
     * filled at least {@code length} bytes of it; null otherwise.
     */
    private static ByteBuffer rawTcpInfo(Channel channel, int length) {
        if (!(channel instanceof EpollSocketChannel socket) || !socket.isOpen()) {
            return null;
        }
        try {
            ByteBuffer info = socket.config().getOption(TCP_INFO_RAW);
            return info == null || info.remaining() < length ? null : info.order(ByteOrder.nativeOrder());
        } catch (RuntimeException e) {
            return null;
        }
    }

    // getsockopt(IPPROTO_TCP, TCP_INFO) into a buffer of struct tcp_info's length (Linux 5.x: 232
    // bytes; the kernel fills what it has), and where tcpi_min_rtt lies in it (Linux 4.6 and later)
    private static final int IPPROTO_TCP = 6;
    private static final int TCP_INFO = 11;
    private static final int TCPI_MIN_RTT_OFFSET = 148;
    // tcpi_busy_time, tcpi_rwnd_limited and tcpi_sndbuf_limited: u64 microseconds (Linux 4.10 and later)
    private static final int TCPI_BUSY_TIME_OFFSET = 168;
    private static final int TCPI_RWND_LIMITED_OFFSET = 176;
    private static final int TCPI_SNDBUF_LIMITED_OFFSET = 184;
    private static final RawUnixChannelOption TCP_INFO_RAW =
            new RawUnixChannelOption("DWCP_TCP_INFO", IPPROTO_TCP, TCP_INFO, 256);

    /** The kernel's TCP_INFO of the socket (RTT, retransmissions), when it is an open epoll socket. */
    public Optional<EpollTcpInfo> tcpInfo() {
        return tcpInfo(channel);
    }

    /** {@link #tcpInfo()} of any channel (a spare stream's before it is a session's). */
    public static Optional<EpollTcpInfo> tcpInfo(Channel channel) {
        if (channel instanceof EpollSocketChannel socket && socket.isOpen()) {
            try {
                return Optional.of(socket.tcpInfo());
            } catch (RuntimeException e) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    /**
     * A stream's sending time over an interval, from the kernel: how long it had data in flight or
     * waiting ({@code tcpi_busy_time}), and how much of that the peer's receive window or this
     * socket's send buffer held it back ({@code tcpi_rwnd_limited + tcpi_sndbuf_limited}), the rest
     * being the congestion window's (the network's). Microseconds.
     */
    public record Busy(long busyMicros, long bufferLimitedMicros) {
        /** Nothing known: not an epoll socket, or a kernel before 4.10. */
        public static final Busy UNKNOWN = new Busy(0, 0);
    }

    /**
     * The stream's {@link Busy} time since the previous call, or since its connection opened on the
     * first ({@link Busy#UNKNOWN} where the kernel does not say). Only one caller may use it: the
     * session's link sampling, on the session's event loop.
     */
    public Busy busySinceLastCall() {
        ByteBuffer info = rawTcpInfo(channel, TCPI_SNDBUF_LIMITED_OFFSET + 8);
        if (info == null) {
            return Busy.UNKNOWN;
        }
        int at = info.position();
        long busy = info.getLong(at + TCPI_BUSY_TIME_OFFSET);
        long limited = info.getLong(at + TCPI_RWND_LIMITED_OFFSET) + info.getLong(at + TCPI_SNDBUF_LIMITED_OFFSET);
        long busyDelta = busy - lastBusyMicros;
        long limitedDelta = limited - lastLimitedMicros;
        lastBusyMicros = busy;
        lastLimitedMicros = limited;
        if (busyDelta < 0 || limitedDelta < 0) {
            return Busy.UNKNOWN;
        }
        return new Busy(busyDelta, Math.min(busyDelta, limitedDelta));
    }

    @Override
    public String toString() {
        return "stream " + index;
    }
}
