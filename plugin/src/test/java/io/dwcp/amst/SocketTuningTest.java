package io.dwcp.amst;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** TCP_CONGESTION set through the epoll channel's fd, read back from the kernel. */
class SocketTuningTest {
    @Test
    void setsBbrOnATunnelSocket() throws Exception {
        String available = Files.readString(Path.of("/proc/sys/net/ipv4/tcp_available_congestion_control"));
        assumeTrue(available.contains("bbr") && available.contains("cubic"), "needs bbr and cubic: " + available);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            Channel server = EpollLoopback.server(group, new ChannelInboundHandlerAdapter());
            for (String algorithm : new String[] {"bbr", "cubic"}) {
                SocketTuning tuning = new SocketTuning(algorithm, 0);
                Channel client = EpollLoopback.client(group, server.localAddress());
                tuning.apply(client);
                assertEquals(algorithm, SocketTuning.congestionControl(client));
                new SocketTuning(algorithm, 12_500_000).apply(client);
                assertEquals(12_500_000, client.config().getOption(SocketTuning.MAX_PACING_RATE));
                new SocketTuning(algorithm, 0, 262_144).apply(client);
                assertEquals(262_144, client.config().getOption(SocketTuning.NOTSENT_LOWAT));
                client.close().sync();
            }
            server.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
