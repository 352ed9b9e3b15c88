package io.dwcp.testbed.net;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.LongAdder;

/**
 * Bulk TCP from one host to another over {@code streams} connections, as fast as TCP goes (an
 * iperf of our own: the sender writes a 1 MiB buffer again and again, the receiver counts). Socket
 * buffers are left to the kernel's autotuning, as QEMU leaves them. Runs inside this JVM: the
 * sockets are made by threads in the hosts' namespaces.
 */
public final class TcpBulkTransfer implements AutoCloseable {
    private static final int CHUNK = 1 << 20;

    private final ServerSocketChannel server;
    private final List<SocketChannel> channels = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final LongAdder received = new LongAdder();
    private volatile boolean closed;
    private boolean random;

    private TcpBulkTransfer(ServerSocketChannel server) {
        this.server = server;
    }

    /** Connects {@code streams} connections from {@code sender} to {@code receiver}:{@code port} and starts sending. */
    public static TcpBulkTransfer start(Host sender, Host receiver, int port, int streams) {
        return start(sender, receiver, port, streams, 0);
    }

    /**
     * As {@link #start(Host, Host, int, int)}, the sending and receiving threads at SCHED_FIFO
     * {@code realtimePriority} (best effort; 0 = normal): for measuring the emulated link rather
     * than how much CPU the endpoints get on a busy machine.
     */
    public static TcpBulkTransfer start(Host sender, Host receiver, int port, int streams, int realtimePriority) {
        requireNonNull(sender, "sender is null");
        requireNonNull(receiver, "receiver is null");
        if (streams < 1) {
            throw new IllegalArgumentException("streams must be positive: " + streams);
        }
        ServerSocketChannel server = receiver.call(() -> {
            ServerSocketChannel channel = ServerSocketChannel.open();
            channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            channel.bind(new InetSocketAddress(receiver.address(), port), streams);
            return channel;
        });
        TcpBulkTransfer transfer = new TcpBulkTransfer(server);
        try {
            for (int i = 0; i < streams; i++) {
                SocketChannel outgoing =
                        sender.call(() -> SocketChannel.open(new InetSocketAddress(receiver.address(), port)));
                transfer.channels.add(outgoing);
                SocketChannel incoming = server.accept();
                transfer.channels.add(incoming);
                transfer.thread("bulk-receive-" + i, realtimePriority, () -> transfer.receive(incoming));
                transfer.thread("bulk-send-" + i, realtimePriority, () -> transfer.send(outgoing));
            }
        } catch (IOException | RuntimeException e) {
            transfer.close();
            throw e instanceof IOException io
                    ? new UncheckedIOException("cannot connect the bulk streams", io)
                    : (RuntimeException) e;
        }
        return transfer;
    }

    /**
     * One bulk stream between two unix sockets: this JVM listens on {@code listenPath} and sends into
     * {@code connectPath}, with something in between that connects {@code connectPath} to
     * {@code listenPath} (a dwcpd tunnel: the source daemon's peer socket and the path the
     * destination daemon connects to). The payload is random (incompressible).
     */
    public static TcpBulkTransfer overUnixSockets(Path listenPath, Path connectPath, Duration acceptTimeout) {
        requireNonNull(listenPath, "listenPath is null");
        requireNonNull(connectPath, "connectPath is null");
        ServerSocketChannel server;
        try {
            Files.deleteIfExists(listenPath);
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(listenPath), 1);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + listenPath, e);
        }
        TcpBulkTransfer transfer = new TcpBulkTransfer(server);
        transfer.random = true;
        try {
            SocketChannel outgoing = SocketChannel.open(UnixDomainSocketAddress.of(connectPath));
            transfer.channels.add(outgoing);
            transfer.thread("bulk-send", 0, () -> transfer.send(outgoing));
            server.configureBlocking(false);
            long deadline = System.nanoTime() + acceptTimeout.toNanos();
            SocketChannel incoming;
            while ((incoming = server.accept()) == null) {
                if (System.nanoTime() > deadline) {
                    throw new IOException(
                            "nothing connected to " + listenPath + " within " + acceptTimeout.toSeconds() + " s");
                }
                Thread.sleep(20);
            }
            incoming.configureBlocking(true);
            transfer.channels.add(incoming);
            SocketChannel accepted = incoming;
            transfer.thread("bulk-receive", 0, () -> transfer.receive(accepted));
            return transfer;
        } catch (IOException | InterruptedException | RuntimeException e) {
            transfer.close();
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw e instanceof RuntimeException r
                    ? r
                    : new UncheckedIOException(new IOException(
                            "bulk transfer " + connectPath + " -> " + listenPath + ": " + e.getMessage(), e));
        }
    }

    /** Payload bytes received so far, all streams. */
    public long receivedBytes() {
        return received.sum();
    }

    /** Waits {@code warmUp}, then returns the goodput (payload bit/s) over the next {@code window}. */
    public double measureGoodput(Duration warmUp, Duration window) throws InterruptedException {
        Thread.sleep(warmUp.toMillis());
        long startBytes = receivedBytes();
        long start = System.nanoTime();
        Thread.sleep(window.toMillis());
        long bytes = receivedBytes() - startBytes;
        long elapsed = System.nanoTime() - start;
        return bytes * 8e9 / elapsed;
    }

    private void thread(String name, int realtimePriority, Runnable body) {
        Thread thread = new Thread(
                () -> {
                    if (realtimePriority > 0) {
                        LinuxCalls.setThisThreadRealtime(realtimePriority);
                    }
                    body.run();
                },
                name);
        thread.setDaemon(true);
        thread.start();
        threads.add(thread);
    }

    private void send(SocketChannel channel) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(CHUNK);
        if (random) {
            byte[] bytes = new byte[CHUNK];
            new Random(1).nextBytes(bytes);
            buffer.put(bytes);
        }
        try {
            while (!closed) {
                buffer.clear();
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
            }
        } catch (IOException e) {
            // closed under us: the transfer ends
        }
    }

    private void receive(SocketChannel channel) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(CHUNK);
        try {
            for (int n; (n = channel.read(buffer.clear())) >= 0; ) {
                received.add(n);
            }
        } catch (IOException e) {
            // closed under us: the transfer ends
        }
    }

    @Override
    public void close() {
        closed = true;
        for (SocketChannel channel : channels) {
            try {
                channel.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
        for (Thread thread : threads) {
            try {
                thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
