package io.dwcp.tunnel;

import io.dwcp.node.NodeConfig;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import jakarta.inject.Inject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * Where source QEMUs connect: per peer, the unix socket {@code <run-dir>/peer/<peer>.sock} and,
 * if configured, a TCP port on {@code tunnel.qemu-listen-host}. Connections are assigned to
 * sessions in accept order on the listener's own event loop (before they are registered), so
 * the destination replays them in the same order.
 */
public final class QemuListeners
        implements Closeable
{
    private static final Logger log = LoggerFactory.getLogger(QemuListeners.class);

    private final SessionManager manager;
    private final PeersConfig peers;
    private final NodeConfig node;
    private final List<Channel> listeners = new ArrayList<>();
    private final List<Path> socketFiles = new ArrayList<>();

    @Inject
    public QemuListeners(SessionManager manager, PeersConfig peers, NodeConfig node)
    {
        this.manager = requireNonNull(manager, "manager is null");
        this.peers = requireNonNull(peers, "peers is null");
        this.node = requireNonNull(node, "node is null");
    }

    public void start()
            throws InterruptedException
    {
        if (!peers.all().isEmpty()) {
            Path folder = node.getRunDirectory().resolve("peer");
            try {
                Files.createDirectories(folder);
                node.peerSocketPermissions().applyToDirectory(folder);
            }
            catch (IOException e) {
                throw new UncheckedIOException("cannot prepare " + folder, e);
            }
        }
        for (PeerConfig peer : peers.all()) {
            Path socket = node.peerSocket(peer.name());
            try {
                Files.createDirectories(socket.getParent());
                Files.deleteIfExists(socket);
            }
            catch (IOException e) {
                throw new UncheckedIOException("cannot prepare " + socket, e);
            }
            listeners.add(bootstrap(peer, Target.unix(peer.name()))
                    .bind(new DomainSocketAddress(socket.toFile())).sync().channel());
            socketFiles.add(socket);
            try {
                node.peerSocketPermissions().apply(socket);
            }
            catch (IOException e) {
                throw new UncheckedIOException("cannot set the mode of " + socket, e);
            }
            log.info("QEMU migrations to {}: unix:{} ({})", peer.name(), socket, node.peerSocketPermissions());
            if (peer.qemuPort().isPresent()) {
                int port = peer.qemuPort().getAsInt();
                listeners.add(bootstrap(peer, Target.tcp(port))
                        .option(ChannelOption.SO_REUSEADDR, true)
                        .bind(new InetSocketAddress(manager.tunnel().getQemuListenHost(), port)).sync().channel());
                log.info("QEMU migrations to {}: tcp:{}:{}", peer.name(), manager.tunnel().getQemuListenHost(), port);
            }
        }
    }

    private ServerBootstrap bootstrap(PeerConfig peer, Target target)
    {
        return new ServerBootstrap()
                .group(manager.group())
                .channel(target.kind() == Target.Kind.UNIX ? EpollServerDomainSocketChannel.class : EpollServerSocketChannel.class)
                .handler(new AcceptOrder(peer, target))
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.RECVBUF_ALLOCATOR, SessionManager.QEMU_READS)
                .childHandler(Channels.NO_OP);
    }

    @Override
    public void close()
    {
        for (Channel listener : listeners) {
            listener.close().syncUninterruptibly();
        }
        listeners.clear();
        for (Path socket : socketFiles) {
            try {
                Files.deleteIfExists(socket);
            }
            catch (IOException e) {
                log.warn("cannot remove {}: {}", socket, e.toString());
            }
        }
        socketFiles.clear();
    }

    /** Runs on the listener's event loop, once per accepted connection, in accept order. */
    private final class AcceptOrder
            extends ChannelInboundHandlerAdapter
    {
        private final PeerConfig peer;
        private final Target target;
        private Session current;

        private AcceptOrder(PeerConfig peer, Target target)
        {
            this.peer = peer;
            this.target = target;
        }

        @Override
        public void channelRead(ChannelHandlerContext context, Object message)
        {
            Channel child = (Channel) message;
            if (current == null || !current.isJoinable()) {
                Optional<Session> session = manager.newSourceSession(peer, target);
                if (session.isEmpty()) {
                    log.error("refused QEMU connection for {}: tunnel.max-sessions ({}) sessions are open", peer.name(), manager.tunnel().getMaxSessions());
                    child.unsafe().closeForcibly();
                    return;
                }
                current = session.get();
            }
            Session session = current;
            QemuChannel qemu = session.newChannel(session.reserveChannelIndex());
            child.pipeline().addLast("qemu", new QemuChannelHandler(session, qemu));
            session.run(() -> session.addSourceChannel(qemu, child));
            context.fireChannelRead(child);
        }
    }
}
