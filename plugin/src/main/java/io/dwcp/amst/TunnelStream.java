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

    /** The kernel's TCP_INFO of the socket (RTT, retransmissions), when it is an open epoll socket. */
    /**
     * The lowest RTT the kernel measured on this stream's TCP connection since it opened
     * ({@code tcpi_min_rtt} of TCP_INFO), in microseconds; 0 where it is not known (no sample yet,
     * not an epoll socket, a kernel before 4.6). Unlike the smoothed RTT of {@link #tcpInfo}, it is
     * not raised for long by samples the host's own load delayed: on a loopback link the first
     * smoothed RTTs of a migration read 1.3-3.4 ms on a busy host, while the path's is 0.4 ms.
     */
    public long pathMinRttMicros() {
        if (!(channel instanceof EpollSocketChannel socket) || !socket.isOpen()) {
            return 0;
        }
        try {
            ByteBuffer info = socket.config().getOption(TCP_INFO_RAW);
            if (info == null || info.remaining() < TCPI_MIN_RTT_OFFSET + 4) {
                return 0;
            }
            long minRtt = Integer.toUnsignedLong(
                    info.order(ByteOrder.nativeOrder()).getInt(info.position() + TCPI_MIN_RTT_OFFSET));
            // ~0U: no RTT sample yet
            return minRtt == 0xFFFF_FFFFL ? 0 : minRtt;
        } catch (RuntimeException e) {
            return 0;
        }
    }

    // getsockopt(IPPROTO_TCP, TCP_INFO) into a buffer of struct tcp_info's length (Linux 5.x: 232
    // bytes; the kernel fills what it has), and where tcpi_min_rtt lies in it (Linux 4.6 and later)
    private static final int IPPROTO_TCP = 6;
    private static final int TCP_INFO = 11;
    private static final int TCPI_MIN_RTT_OFFSET = 148;
    private static final RawUnixChannelOption TCP_INFO_RAW =
            new RawUnixChannelOption("DWCP_TCP_INFO", IPPROTO_TCP, TCP_INFO, 256);

    public Optional<EpollTcpInfo> tcpInfo() {
        if (channel instanceof EpollSocketChannel socket && socket.isOpen()) {
            try {
                return Optional.of(socket.tcpInfo());
            } catch (RuntimeException e) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return "stream " + index;
    }
}
