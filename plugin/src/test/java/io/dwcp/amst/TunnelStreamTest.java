package io.dwcp.amst;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * What a stream reads from the kernel: its path RTT (the lowest RTT sample of its TCP connection,
 * tcpi_min_rtt) and its busy time, and how much of it the peer's window held it back.
 */
class TunnelStreamTest {
    @Test
    void thePathsLowestRttComesFromTheKernelAndIsAtMostTheSmoothedOne() throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        int bytes = 1 << 20;
        AtomicLong received = new AtomicLong();
        CountDownLatch all = new CountDownLatch(1);
        try {
            Channel server = EpollLoopback.server(group, new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    received.addAndGet(((io.netty.buffer.ByteBuf) msg).readableBytes());
                    ReferenceCountUtil.release(msg);
                    if (received.get() == bytes) {
                        all.countDown();
                    }
                }
            });
            Channel client = EpollLoopback.client(group, server.localAddress());
            // data acknowledged by the peer: RTT samples beyond the handshake's
            client.writeAndFlush(Unpooled.wrappedBuffer(new byte[bytes])).sync();
            assertTrue(all.await(30, TimeUnit.SECONDS), "the peer read " + received.get() + " bytes");
            TunnelStream stream = new TunnelStream(0, client);
            long minRtt = stream.pathMinRttMicros();
            long smoothed = stream.tcpInfo().orElseThrow().rtt();
            assertTrue(minRtt > 0, "tcpi_min_rtt " + minRtt);
            assertTrue(minRtt <= smoothed, "lowest " + minRtt + " us, smoothed " + smoothed + " us");
            client.close().sync();
            assertEquals(0, stream.pathMinRttMicros(), "a closed stream has none");
            server.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
        assertEquals(0, new TunnelStream(1, new EmbeddedChannel()).pathMinRttMicros(), "not a TCP socket");
    }

    @Test
    void aPeerThatDoesNotReadHoldsTheStreamBackByItsWindow() throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            Channel server = EpollLoopback.server(group, new ChannelInboundHandlerAdapter() {
                @Override
                public void handlerAdded(ChannelHandlerContext ctx) {
                    ctx.channel().config().setAutoRead(false); // the receive window fills and stays shut
                }
            });
            Channel client = EpollLoopback.client(group, server.localAddress());
            TunnelStream stream = new TunnelStream(0, client);
            TunnelStream.Busy opening = stream.busySinceLastCall();
            assertTrue(opening.bufferLimitedMicros() == 0, "nothing sent yet, nothing held back: " + opening);
            client.writeAndFlush(Unpooled.wrappedBuffer(new byte[64 << 20]));
            long busy = 0;
            long limited = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (limited < 50_000 && System.nanoTime() < deadline) {
                TunnelStream.Busy reading = stream.busySinceLastCall();
                assertTrue(
                        reading.bufferLimitedMicros() <= reading.busyMicros(),
                        "held back " + reading.bufferLimitedMicros() + " of " + reading.busyMicros() + " us");
                busy += reading.busyMicros();
                limited += reading.bufferLimitedMicros();
                java.util.concurrent.locks.LockSupport.parkNanos(2_000_000);
            }
            assertTrue(limited >= 50_000, "held back by the window " + limited + " us of " + busy + " us busy");
            client.close().sync();
            assertEquals(TunnelStream.Busy.UNKNOWN, stream.busySinceLastCall(), "a closed stream says nothing");
            server.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
        assertEquals(
                TunnelStream.Busy.UNKNOWN,
                new TunnelStream(1, new EmbeddedChannel()).busySinceLastCall(),
                "not a TCP socket");
    }
}
