package io.dwcp.session;

import static java.util.Objects.requireNonNull;

import io.dwcp.amst.AmstOpen;
import io.dwcp.node.NodeConfig;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.EventExecutor;
import jakarta.inject.Inject;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where source QEMUs connect: per peer, the unix socket {@code <run-dir>/peer/<peer>.sock} and,
 * if configured, a TCP port on {@code tunnel.qemu-listen-host}; per announced migration, its own
 * socket {@code <run-dir>/peer/<peer>/<migration-id>.sock} ({@link #openMigration}). Connections
 * are assigned to sessions in accept order on the listener's own event loop (before they are
 * registered), so the destination replays them in the same order.
 *
 * <p>On a per-peer listener, every connection accepted while its session is joinable joins it, so
 * two migrations to one peer started together through it merge into one session: concurrent
 * migrations need a socket each. On a migration's own listener the connections form exactly one
 * session (main channel, then multifd channels) and later ones are refused.
 *
 * <p>At start it also prepares {@code <run-dir>/peer/<peer>/} for every peer and
 * {@code <run-dir>/peer/<node.name>/}, where a destination QEMU binds an announced migration's
 * incoming socket, with the mode and group of {@link NodeConfig#peerSocketPermissions()}.
 */
public final class QemuListeners implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(QemuListeners.class);

    private final SessionManager manager;
    private final PeersConfig peers;
    private final NodeConfig node;
    private final TunnelConfig tunnel;
    private final EventLoopGroup group;
    private final List<Channel> listeners = new ArrayList<>();
    private final List<Path> socketFiles = new ArrayList<>();
    private final Set<MigrationListener> migrations = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    @Inject
    public QemuListeners(
            SessionManager manager, PeersConfig peers, NodeConfig node, TunnelConfig tunnel, EventLoopGroup group) {
        this.tunnel = requireNonNull(tunnel, "tunnel is null");
        this.group = requireNonNull(group, "group is null");
        this.manager = requireNonNull(manager, "manager is null");
        this.peers = requireNonNull(peers, "peers is null");
        this.node = requireNonNull(node, "node is null");
    }

    public void start() throws InterruptedException {
        Path folder = node.getRunDirectory().resolve("peer");
        prepareDirectory(folder);
        // where destination QEMUs bind the incoming sockets of announced migrations (also on a host
        // with no configured peer: hosts of its region migrate to it); left as it is
        // otherwise: a QEMU may wait there for its migration while this dwcpd restarts
        prepareDirectory(folder.resolve(node.getName()));
        for (PeerConfig peer : peers.all()) {
            if (!peer.name().equals(node.getName())) {
                prepareDirectory(folder.resolve(peer.name()));
                removeStaleSockets(folder.resolve(peer.name()));
            }
        }
        for (PeerConfig peer : peers.all()) {
            Path socket = node.peerSocket(peer.name());
            try {
                Files.createDirectories(socket.getParent());
                Files.deleteIfExists(socket);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot prepare " + socket, e);
            }
            listeners.add(bootstrap(peer, Target.unix(peer.name()))
                    .bind(new DomainSocketAddress(socket.toFile()))
                    .sync()
                    .channel());
            socketFiles.add(socket);
            try {
                node.peerSocketPermissions().apply(socket);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot set the mode of " + socket, e);
            }
            log.info("QEMU migrations to {}: unix:{} ({})", peer.name(), socket, node.peerSocketPermissions());
            if (peer.qemuPort().isPresent()) {
                int port = peer.qemuPort().getAsInt();
                listeners.add(bootstrap(peer, Target.tcp(port))
                        .option(ChannelOption.SO_REUSEADDR, true)
                        .bind(new InetSocketAddress(tunnel.getQemuListenHost(), port))
                        .sync()
                        .channel());
                log.info("QEMU migrations to {}: tcp:{}:{}", peer.name(), tunnel.getQemuListenHost(), port);
            }
        }
    }

    private void prepareDirectory(Path folder) {
        try {
            Files.createDirectories(folder);
            node.peerSocketPermissions().applyToDirectory(folder);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + folder, e);
        }
    }

    /** Migration sockets a dwcpd that did not stop cleanly left behind (nobody listens on them). */
    private static void removeStaleSockets(Path folder) {
        try (DirectoryStream<Path> sockets = Files.newDirectoryStream(folder, "*.sock")) {
            for (Path socket : sockets) {
                Files.deleteIfExists(socket);
                log.info("removed {}, left by an earlier dwcpd", socket);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clean " + folder, e);
        }
    }

    /**
     * Opens the socket of one announced migration to the peer, {@code <run-dir>/peer/<peer>/<migrationId>.sock};
     * its connections form one session whose OPEN names the target {@code <peer>/<migrationId>} and
     * the migration's VM, {@code vm} (its domain name, at most {@value AmstOpen#MAX_VM_LENGTH} bytes
     * without NUL or newline).
     * Blocks until bound: call it off event loops. The caller closes the listener (at the latest,
     * {@link #close} does).
     *
     * @throws IllegalArgumentException if the migration id breaks the name rule, or the VM name the OPEN limits
     * @throws IOException if the socket cannot be bound or given its mode
     */
    public MigrationListener openMigration(PeerConfig peer, String migrationId, String vm)
            throws IOException, InterruptedException {
        Target target = Target.migration(peer.name(), migrationId);
        AmstOpen.checkVm(vm); // checked here, not when its session starts
        Path socket = node.peerSocket(target.value());
        if (closed) {
            throw new IOException("dwcpd is stopping: no new migration socket " + socket);
        }
        if (!Files.isDirectory(socket.getParent())) {
            // a peer that is not configured (a host of the region): its folder is prepared now, as start() does the
            // configured peers'
            try {
                prepareDirectory(socket.getParent());
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
        }
        Files.deleteIfExists(socket);
        MigrationListener listener = new MigrationListener(migrationId, vm, socket, migrations::remove);
        ChannelFuture bound = bootstrap(peer, target, listener)
                .bind(new DomainSocketAddress(socket.toFile()))
                .await();
        if (!bound.isSuccess()) {
            Files.deleteIfExists(socket);
            throw new IOException(
                    "cannot listen on " + socket + ": " + bound.cause().getMessage(), bound.cause());
        }
        listener.bound(bound.channel());
        migrations.add(listener);
        try {
            node.peerSocketPermissions().apply(socket);
            if (closed) {
                throw new IOException("dwcpd is stopping: no new migration socket " + socket);
            }
        } catch (IOException e) {
            listener.close();
            throw e;
        }
        log.info(
                "[migration={}] QEMU migration to {}: unix:{} ({})",
                migrationId,
                peer.name(),
                socket,
                node.peerSocketPermissions());
        // while libvirt prepares the destination, streams to it get through TCP and TLS
        manager.keepSpareStreams(peer);
        return listener;
    }

    private ServerBootstrap bootstrap(PeerConfig peer, Target target) {
        return bootstrap(peer, target, null);
    }

    private ServerBootstrap bootstrap(PeerConfig peer, Target target, MigrationListener migration) {
        return new ServerBootstrap()
                .group(group)
                .channel(
                        target.kind() == Target.Kind.UNIX
                                ? EpollServerDomainSocketChannel.class
                                : EpollServerSocketChannel.class)
                .handler(new AcceptOrder(peer, target, migration))
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.RECVBUF_ALLOCATOR, SessionManager.QEMU_READS)
                .childHandler(Channels.NO_OP);
    }

    @Override
    public void close() {
        closed = true;
        for (MigrationListener migration : List.copyOf(migrations)) {
            migration.close();
        }
        for (Channel listener : listeners) {
            listener.close().syncUninterruptibly();
        }
        listeners.clear();
        for (Path socket : socketFiles) {
            try {
                Files.deleteIfExists(socket);
            } catch (IOException e) {
                log.warn("cannot remove {}: {}", socket, e.toString());
            }
        }
        socketFiles.clear();
    }

    /** Runs on the listener's event loop, once per accepted connection, in accept order. */
    private final class AcceptOrder extends ChannelInboundHandlerAdapter {
        private final PeerConfig peer;
        private final Target target;
        // null on a per-peer listener
        private final MigrationListener migration;
        // the session QEMU's connections join while it takes them; let go once it ended (it holds its codecs' buffers,
        // its windows and its reorder buffer until then)
        private Session current;
        // a migration's listener whose one session ended
        private boolean ended;
        // a migration's listener whose one session was refused (tunnel.max-sessions)
        private boolean spent;

        private AcceptOrder(PeerConfig peer, Target target, MigrationListener migration) {
            this.peer = peer;
            this.target = target;
            this.migration = migration;
        }

        @Override
        public void channelRead(ChannelHandlerContext context, Object message) {
            Channel child = (Channel) message;
            if (migration != null && (spent || ended || current != null && !current.isJoinable())) {
                // one migration, one session: its main channel ended (or was refused), so this connection belongs to no
                // migration
                log.warn(
                        "[migration={}] refused QEMU connection on {}: the migration's session {} (announce a new migration)",
                        migration.migrationId(),
                        migration.socket(),
                        spent
                                ? "was refused"
                                : current != null && current.state() == Session.State.OPEN
                                        ? "no longer takes connections"
                                        : "ended");
                child.unsafe().closeForcibly();
                return;
            }
            if (current == null || !current.isJoinable()) {
                Optional<Session> session =
                        manager.newSourceSession(peer, target, migration == null ? "" : migration.vm());
                if (session.isEmpty()) {
                    log.error(
                            "refused QEMU connection for {}: tunnel.max-sessions ({}) sessions are open",
                            peer.name(),
                            tunnel.getMaxSessions());
                    child.unsafe().closeForcibly();
                    // a migration's later connections (multifd) must not start a session of their own without its main
                    // channel
                    spent = migration != null;
                    return;
                }
                Session started = session.get();
                current = started;
                EventExecutor listenerLoop = context.executor();
                started.whenEnded(() -> listenerLoop.execute(() -> {
                    if (current == started) {
                        current = null;
                        ended = migration != null;
                    }
                }));
            }
            Session session = current;
            QemuChannel qemu = session.newChannel(session.reserveChannelIndex());
            child.pipeline().addLast("qemu", new QemuChannelHandler(session, qemu));
            session.run(() -> session.addSourceChannel(qemu, child));
            context.fireChannelRead(child);
        }
    }
}
