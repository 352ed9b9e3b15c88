package io.dwcp.migration.capture;

import static java.util.Objects.requireNonNull;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A recording tee between a source QEMU and a destination QEMU, both on unix sockets.
 *
 * <p>Each connection the source opens is accepted in turn, connected to the destination before
 * the next one is accepted (QEMU 7.2 takes its first connection as the main channel, so the order
 * must be kept), and its bytes are written to {@code channel-N.bin} (N = accept order) while they
 * are forwarded. Bytes of the return direction are forwarded and recorded in
 * {@code channel-N.return.bin}. The migration therefore completes genuinely at the destination.
 */
final class CaptureProxy implements Closeable {
    private final Path listenSocket;
    private final Path destinationSocket;
    private final Path outputDirectory;
    private final List<Thread> pumps = new ArrayList<>();
    private final List<SocketChannel> sockets = new ArrayList<>();
    private ServerSocketChannel server;
    private Thread acceptor;
    private volatile IOException failure;

    CaptureProxy(Path listenSocket, Path destinationSocket, Path outputDirectory) {
        this.listenSocket = requireNonNull(listenSocket, "listenSocket is null");
        this.destinationSocket = requireNonNull(destinationSocket, "destinationSocket is null");
        this.outputDirectory = requireNonNull(outputDirectory, "outputDirectory is null");
    }

    void start() throws IOException {
        Files.deleteIfExists(listenSocket);
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(listenSocket));
        acceptor = new Thread(this::acceptLoop, "capture-accept");
        acceptor.start();
    }

    private void acceptLoop() {
        try {
            for (int index = 0; ; index++) {
                SocketChannel source = server.accept();
                SocketChannel destination = SocketChannel.open(UnixDomainSocketAddress.of(destinationSocket));
                synchronized (this) {
                    sockets.add(source);
                    sockets.add(destination);
                    Path forward = outputDirectory.resolve("channel-" + index + ".bin");
                    Path back = outputDirectory.resolve("channel-" + index + ".return.bin");
                    pumps.add(startPump("capture-" + index, source, destination, forward));
                    pumps.add(startPump("capture-" + index + "-return", destination, source, back));
                }
            }
        } catch (ClosedChannelException closed) {
            // close() ends the accept loop.
        } catch (IOException e) {
            failure = e;
        }
    }

    private Thread startPump(String name, SocketChannel from, SocketChannel to, Path record) {
        Thread thread = new Thread(
                () -> {
                    try (FileChannel file = FileChannel.open(
                            record,
                            StandardOpenOption.CREATE,
                            StandardOpenOption.TRUNCATE_EXISTING,
                            StandardOpenOption.WRITE)) {
                        ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 18);
                        while (from.read(buffer) >= 0) {
                            buffer.flip();
                            ByteBuffer copy = buffer.duplicate();
                            while (copy.hasRemaining()) {
                                file.write(copy);
                            }
                            while (buffer.hasRemaining()) {
                                to.write(buffer);
                            }
                            buffer.clear();
                        }
                        to.shutdownOutput();
                    } catch (ClosedChannelException closed) {
                        // the other direction or close() ended this connection
                    } catch (IOException e) {
                        if (!"Broken pipe".equals(e.getMessage())
                                && !"Connection reset by peer".equals(e.getMessage())) {
                            failure = e;
                        }
                    }
                },
                name);
        thread.start();
        return thread;
    }

    /** Waits until every connection accepted so far has been closed by both peers. */
    void awaitConnectionsDone(long timeoutMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        List<Thread> snapshot;
        synchronized (this) {
            snapshot = new ArrayList<>(pumps);
        }
        for (Thread pump : snapshot) {
            pump.join(Math.max(1, deadline - System.currentTimeMillis()));
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        try {
            acceptor.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            for (SocketChannel socket : sockets) {
                socket.close();
            }
        }
        Files.deleteIfExists(listenSocket);
        if (failure != null) {
            throw new UncheckedIOException("capture failed", failure);
        }
    }
}
