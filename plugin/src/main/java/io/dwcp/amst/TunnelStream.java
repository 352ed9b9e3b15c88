package io.dwcp.amst;

import static java.util.Objects.requireNonNull;

import io.netty.channel.Channel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.epoll.EpollTcpInfo;
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
