package io.dwcp.session;

import static io.dwcp.session.TestBed.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.amst.AmstHello;
import io.dwcp.amst.AmstOpen;
import io.dwcp.amst.Frame;
import io.dwcp.amst.FrameEncoder;
import io.dwcp.amst.FrameType;
import io.dwcp.daemon.DwcpDaemon;
import io.dwcp.tls.CertificateAuthority;
import io.dwcp.tls.TlsConfig;
import io.dwcp.tls.TlsContexts;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Who may talk to the tunnel port: only peers with a certificate of the CA whose name is
 * configured; junk, oversized frames and silent peers are refused with bounded memory, and the
 * daemon keeps serving migrations meanwhile.
 */
class TunnelSecurityTest {
    private static TestBed bed;
    private static EventLoopGroup clientGroup;

    @BeforeAll
    static void start() throws IOException {
        bed = new TestBed(Map.of(
                "tunnel.handshake-timeout",
                "1s",
                "tunnel.reconnect-timeout",
                "2s",
                "amst.adapt-interval",
                "0s",
                "amst.initial-streams",
                "2"));
        clientGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }

    @AfterAll
    static void stop() throws IOException {
        clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        bed.close();
    }

    private int betaPort() {
        return bed.beta.tunnelServer().localAddress().getPort();
    }

    @Test
    void certificateOfAnotherCaIsRefused() throws Exception {
        long before = bed.beta.tunnelStats().refusedCount("tls");
        // "alpha" again, but signed by a CA beta does not trust
        var rogueDirectory = bed.directory.resolve("rogue");
        CertificateAuthority rogue = CertificateAuthority.create(rogueDirectory, "rogue CA", Duration.ofDays(1));
        rogue.issue(
                "alpha", rogueDirectory.resolve("alpha.pem"), rogueDirectory.resolve("alpha.key"), Duration.ofDays(1));
        Map<String, String> properties = new HashMap<>(bed.properties(
                "alpha",
                Map.of("tunnel.reconnect-timeout", "2s", "amst.adapt-interval", "0s", "amst.initial-streams", "1")));
        properties.put("node.run-dir", bed.directory.resolve("rogue-run").toString());
        properties.put("tls.ca-file", rogueDirectory.resolve("ca.pem").toString());
        properties.put("tls.cert-file", rogueDirectory.resolve("alpha.pem").toString());
        properties.put("tls.key-file", rogueDirectory.resolve("alpha.key").toString());
        properties.put("peer.beta.address", "127.0.0.1:" + betaPort());
        try (DwcpDaemon intruder = DwcpDaemon.create(properties)) {
            intruder.start();
            try (SocketChannel qemu = SocketChannel.open(
                    java.net.UnixDomainSocketAddress.of(bed.directory.resolve("rogue-run/peer/beta.sock")))) {
                qemu.write(java.nio.ByteBuffer.wrap(new byte[4096]));
                // no stream can be opened: the session fails and QEMU's connection is closed
                assertEquals(-1, readOrEof(qemu));
            }
            await(
                    "beta to refuse the TLS handshake",
                    Duration.ofSeconds(10),
                    () -> bed.beta.tunnelStats().refusedCount("tls") > before);
            assertEquals(1, intruder.tunnelStats().sessionsFailed.sum());
            assertTrue(bed.beta.sessions().sessions().isEmpty(), "no session at beta");
        }
    }

    @Test
    void certificateOfAnUnknownPeerIsRefused() throws Exception {
        long before = bed.beta.tunnelStats().refusedCount("unknown-peer");
        CertificateAuthority.load(bed.tls)
                .issue("mallory", bed.tls.resolve("mallory.pem"), bed.tls.resolve("mallory.key"), Duration.ofDays(1));
        TlsContexts mallory = new TlsContexts(new TlsConfig()
                .setCaFile(bed.tls.resolve("ca.pem"))
                .setCertificateFile(bed.tls.resolve("mallory.pem"))
                .setKeyFile(bed.tls.resolve("mallory.key")));
        Channel channel = connectTls(mallory, null);
        assertTrue(channel.closeFuture().await(10, TimeUnit.SECONDS), "beta closed the connection");
        await(
                "beta to refuse mallory",
                Duration.ofSeconds(10),
                () -> bed.beta.tunnelStats().refusedCount("unknown-peer") > before);
    }

    @Test
    void aPeerPresentingAnotherNameIsRefusedByTheSource() throws Exception {
        // alpha believes beta is at this address, but "gamma" answers there
        CertificateAuthority.load(bed.tls)
                .issue("gamma", bed.tls.resolve("gamma.pem"), bed.tls.resolve("gamma.key"), Duration.ofDays(1));
        Map<String, String> gammaProperties = new HashMap<>(bed.properties("gamma", Map.of()));
        gammaProperties.put("peer.alpha.address", "127.0.0.1:1");
        try (DwcpDaemon gamma = DwcpDaemon.create(gammaProperties)) {
            gamma.start();
            Map<String, String> alphaProperties = new HashMap<>(bed.properties(
                    "alpha",
                    Map.of(
                            "tunnel.reconnect-timeout",
                            "2s",
                            "amst.initial-streams",
                            "1",
                            "amst.adapt-interval",
                            "0s")));
            alphaProperties.put(
                    "node.run-dir", bed.directory.resolve("alpha2-run").toString());
            alphaProperties.put(
                    "peer.beta.address",
                    "127.0.0.1:" + gamma.tunnelServer().localAddress().getPort());
            try (DwcpDaemon alpha = DwcpDaemon.create(alphaProperties)) {
                alpha.start();
                try (SocketChannel qemu = SocketChannel.open(
                        java.net.UnixDomainSocketAddress.of(bed.directory.resolve("alpha2-run/peer/beta.sock")))) {
                    qemu.write(java.nio.ByteBuffer.wrap(new byte[4096]));
                    assertEquals(-1, readOrEof(qemu));
                }
                assertTrue(alpha.tunnelStats().refusedCount("wrong-peer") >= 1);
                assertTrue(gamma.sessions().sessions().isEmpty());
            }
        }
    }

    @Test
    void randomBytesAreRefused() throws Exception {
        long before = bed.beta.tunnelStats().refusedCount("tls");
        byte[] junk = new byte[64 * 1024];
        new Random(42).nextBytes(junk);
        try (Socket socket = new Socket("127.0.0.1", betaPort())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            try {
                out.write(junk);
            } catch (IOException closedEarly) {
                // refused while we were still writing
            }
            assertEof(socket.getInputStream());
        }
        await(
                "the junk to be refused",
                Duration.ofSeconds(10),
                () -> bed.beta.tunnelStats().refusedCount("tls") > before);
    }

    @Test
    void silentPeerIsDroppedAfterTheHandshakeTimeout() throws Exception {
        long before = bed.beta.tunnelStats().refusedCount("tls");
        try (Socket socket = new Socket("127.0.0.1", betaPort())) {
            socket.setSoTimeout(10_000);
            long start = System.nanoTime();
            assertEof(socket.getInputStream());
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(millis >= 800 && millis < 8000, "closed after " + millis + " ms, handshake timeout is 1 s");
        }
        await(
                "the silent peer to be refused",
                Duration.ofSeconds(10),
                () -> bed.beta.tunnelStats().refusedCount("tls") > before);
    }

    @Test
    void oversizedFrameFromAnAuthenticatedPeerIsRefused() throws Exception {
        long before = bed.beta.tunnelStats().refusedCount("protocol");
        TlsContexts alpha = new TlsContexts(new TlsConfig()
                .setCaFile(bed.tls.resolve("ca.pem"))
                .setCertificateFile(bed.tls.resolve("alpha.pem"))
                .setKeyFile(bed.tls.resolve("alpha.key")));
        // a frame header announcing 2 GiB: refused on its Length field, nothing is buffered
        Channel channel = connectTls(alpha, new byte[] {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff, 1, 2, 3, 4});
        assertTrue(channel.closeFuture().await(10, TimeUnit.SECONDS), "beta closed the connection");
        await(
                "the frame to be refused",
                Duration.ofSeconds(10),
                () -> bed.beta.tunnelStats().refusedCount("protocol") > before);
    }

    /** A frame that passes the CRC but breaks its payload's grammar fails the session, with the reader's message, and the peer is told. */
    @Test
    void malformedControlPayloadFailsTheSessionWithAClearMessage() throws Exception {
        TlsContexts alpha = new TlsContexts(new TlsConfig()
                .setCaFile(bed.tls.resolve("ca.pem"))
                .setCertificateFile(bed.tls.resolve("alpha.pem"))
                .setKeyFile(bed.tls.resolve("alpha.key")));
        long failedBefore = bed.beta.tunnelStats().sessionsFailed.sum();
        // a valid HELLO, then the 16-byte ACK of an older draft (no Delivered field)
        ByteBuf wire = Unpooled.buffer();
        write(wire, Frame.control(FrameType.HELLO, new AmstHello(0x7e57_0001L, 0, 64 << 20).encode()));
        write(wire, Frame.control(FrameType.ACK, Unpooled.buffer().writeLong(0).writeLong(0)));
        Channel channel = connectTls(alpha, ByteBufUtil.getBytes(wire));
        wire.release();
        assertTrue(channel.closeFuture().await(10, TimeUnit.SECONDS), "beta closed the stream");
        await(
                "the session to fail",
                Duration.ofSeconds(10),
                () -> bed.beta.tunnelStats().sessionsFailed.sum() > failedBefore);
        String failure = bed.beta.sessions().lastFailure();
        assertTrue(
                failure.endsWith(
                        "protocol error from the peer: malformed ACK frame: payload length: expected 24 + 12 x (0..1024) bytes, found 16 bytes"),
                failure);
    }

    /** An OPEN whose unix target would leave its folder, or names another host, fails the session with the reason and beta closes the stream. */
    @Test
    void anOpenNamingASocketOutsideThePeerFolderFailsTheSession() throws Exception {
        TlsContexts alpha = new TlsContexts(new TlsConfig()
                .setCaFile(bed.tls.resolve("ca.pem"))
                .setCertificateFile(bed.tls.resolve("alpha.pem"))
                .setKeyFile(bed.tls.resolve("alpha.key")));
        for (String target : new String[] {"beta/../../control", "beta/x/y", "alpha/0123456789abcdef"}) {
            long failedBefore = bed.beta.tunnelStats().sessionsFailed.sum();
            ByteBuf wire = Unpooled.buffer();
            write(
                    wire,
                    Frame.control(FrameType.HELLO, new AmstHello(0x7e57_0003L + failedBefore, 0, 64 << 20).encode()));
            write(
                    wire,
                    new Frame(
                            FrameType.OPEN,
                            0,
                            0,
                            new AmstOpen(AmstOpen.TargetKind.UNIX_SOCKET, target, new byte[] {0}).encode()));
            Channel channel = connectTls(alpha, ByteBufUtil.getBytes(wire));
            wire.release();
            assertTrue(channel.closeFuture().await(10, TimeUnit.SECONDS), "beta closed the stream");
            await(
                    "the session to fail",
                    Duration.ofSeconds(10),
                    () -> bed.beta.tunnelStats().sessionsFailed.sum() > failedBefore);
            String failure = bed.beta.sessions().lastFailure();
            String reason = target.startsWith("alpha/")
                    ? "names the migration socket of host 'alpha', but this host is 'beta'"
                    : "is neither NAME nor NAME/MIGRATION-ID, each 1-63 characters of [A-Za-z0-9._-], starting with a letter or digit";
            assertTrue(failure.endsWith("bad OPEN: unix target '" + target + "' " + reason), failure);
        }
    }

    @Test
    void malformedHelloIsRefused() throws Exception {
        // stream index 300: beyond the 256 streams a session may have
        assertFirstFrameRefused(Frame.control(
                FrameType.HELLO,
                Unpooled.buffer().writeLong(0x7e57_0002L).writeInt(300).writeLong(64 << 20)));
    }

    /** PAD is for a spare stream that opens its congestion window: before the spare's PING it is refused. */
    @Test
    void paddingFromAStreamThatIsNoSpareIsRefused() throws Exception {
        assertFirstFrameRefused(Frame.control(FrameType.PAD, Unpooled.wrappedBuffer(new byte[1024])));
    }

    /** alpha's first frame after TLS is {@code frame}: beta closes the connection, counted as a protocol refusal. */
    private void assertFirstFrameRefused(Frame frame) throws Exception {
        long before = bed.beta.tunnelStats().refusedCount("protocol");
        TlsContexts alpha = new TlsContexts(new TlsConfig()
                .setCaFile(bed.tls.resolve("ca.pem"))
                .setCertificateFile(bed.tls.resolve("alpha.pem"))
                .setKeyFile(bed.tls.resolve("alpha.key")));
        FrameType type = frame.type();
        ByteBuf wire = Unpooled.buffer();
        write(wire, frame);
        Channel channel = connectTls(alpha, ByteBufUtil.getBytes(wire));
        wire.release();
        assertTrue(channel.closeFuture().await(10, TimeUnit.SECONDS), "beta closed the connection");
        await(
                "the " + type + " to be refused",
                Duration.ofSeconds(10),
                () -> bed.beta.tunnelStats().refusedCount("protocol") > before);
    }

    private static void write(ByteBuf wire, Frame frame) {
        FrameEncoder.writeHeader(wire, frame);
        wire.writeBytes(frame.payload());
        frame.release();
    }

    @Test
    void daemonKeepsServingWhileRefusingOthers() throws Exception {
        // a silent connection and a junk connection stay open while a migration runs
        try (Socket silent = new Socket("127.0.0.1", betaPort());
                Socket junk = new Socket("127.0.0.1", betaPort())) {
            junk.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x7f, (byte) 0xff});
            bed.transfer(System.nanoTime(), 16 << 20);
            assertTrue(silent.isConnected());
        }
    }

    private Channel connectTls(TlsContexts tls, byte[] afterHandshake) throws InterruptedException {
        return new Bootstrap()
                .group(clientGroup)
                .channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel channel) {
                        SslHandler ssl = tls.client().newHandler(channel.alloc(), "127.0.0.1", betaPort());
                        channel.pipeline().addLast(ssl, new ChannelInboundHandlerAdapter() {
                            @Override
                            public void userEventTriggered(ChannelHandlerContext context, Object event) {
                                if (event instanceof SslHandshakeCompletionEvent completion
                                        && completion.isSuccess()
                                        && afterHandshake != null) {
                                    context.writeAndFlush(Unpooled.wrappedBuffer(afterHandshake));
                                }
                            }

                            @Override
                            public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
                                context.close();
                            }
                        });
                    }
                })
                .connect("127.0.0.1", betaPort())
                .sync()
                .channel();
    }

    private static int readOrEof(SocketChannel channel) {
        try {
            java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate(1024);
            int read;
            do {
                buffer.clear();
                read = channel.read(buffer);
            } while (read > 0);
            return read;
        } catch (IOException reset) {
            return -1;
        }
    }

    private static void assertEof(InputStream in) throws IOException {
        byte[] buffer = new byte[4096];
        try {
            while (true) {
                int read = in.read(buffer);
                if (read < 0) {
                    return;
                }
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the connection was not closed", e);
        } catch (IOException reset) {
            // closed with a reset: refused as well
        }
    }

    /** A host on the JDK's engine and one on BoringSSL (tls.provider) carry a migration between them. */
    @Test
    void boringSslAndJdkPeersInteroperate() throws Exception {
        try (TestBed mixed = new TestBed(
                Map.of("amst.adapt-interval", "0s", "amst.initial-streams", "2"),
                Map.of("tls.provider", "jdk"),
                Map.of("tls.provider", "openssl"),
                true)) {
            mixed.transfer(41, 8 << 20);
            await(
                    "the destination's session completed",
                    Duration.ofSeconds(10),
                    () -> mixed.beta.tunnelStats().sessionsCompleted.sum() == 1);
        }
    }
}
