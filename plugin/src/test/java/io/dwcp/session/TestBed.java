package io.dwcp.session;

import com.google.inject.Module;
import io.dwcp.FreePorts;
import io.dwcp.daemon.DwcpDaemon;
import io.dwcp.tls.CertificateAuthority;
import java.io.Closeable;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;

/**
 * Two dwcpd in this JVM on loopback with real TLS: "alpha" (source) and "beta" (destination),
 * each with its own run directory, plus helpers for fake QEMU endpoints (plain unix sockets).
 */
final class TestBed implements Closeable {
    final Path directory;
    final Path tls;
    final DwcpDaemon beta;
    final DwcpDaemon alpha;

    TestBed(Map<String, String> extra, Module... alphaOverrides) throws IOException {
        this(extra, Map.of(), alphaOverrides);
    }

    TestBed(Map<String, String> extra, Map<String, String> betaExtra, Module... alphaOverrides) throws IOException {
        this(extra, Map.of(), betaExtra, false, alphaOverrides);
    }

    /** {@code bothWays}: beta knows alpha's tunnel port too, so either can be the source. */
    TestBed(
            Map<String, String> extra,
            Map<String, String> alphaExtra,
            Map<String, String> betaExtra,
            boolean bothWays,
            Module... alphaOverrides)
            throws IOException {
        int alphaPort = bothWays ? FreePorts.pick() : 0;
        directory = Files.createTempDirectory("dwcp-testbed");
        tls = directory.resolve("tls");
        CertificateAuthority ca = certificateAuthority(tls);
        ca.issue("alpha", tls.resolve("alpha.pem"), tls.resolve("alpha.key"), Duration.ofDays(1));
        ca.issue("beta", tls.resolve("beta.pem"), tls.resolve("beta.key"), Duration.ofDays(1));

        Map<String, String> betaProperties = properties("beta", extra);
        betaProperties.put("peer.alpha.address", "127.0.0.1:" + (bothWays ? alphaPort : 1));
        betaProperties.putAll(betaExtra);
        beta = DwcpDaemon.create(betaProperties);
        beta.start();
        int betaPort = beta.tunnelServer().localAddress().getPort();

        Map<String, String> alphaProperties = properties("alpha", extra);
        alphaProperties.put("peer.beta.address", "127.0.0.1:" + betaPort);
        if (bothWays) {
            alphaProperties.put("tunnel.listen", "127.0.0.1:" + alphaPort);
        }
        alphaProperties.putAll(alphaExtra);
        alpha = DwcpDaemon.create(alphaProperties, alphaOverrides);
        alpha.start();
    }

    static CertificateAuthority certificateAuthority(Path directory) {
        return CertificateAuthority.create(directory, "test CA", Duration.ofDays(1));
    }

    Map<String, String> properties(String name, Map<String, String> extra) {
        Map<String, String> properties = new HashMap<>();
        properties.put("node.name", name);
        properties.put("node.run-dir", directory.resolve(name + "-run").toString());
        properties.put("node.state-dir", directory.resolve(name + "-state").toString());
        properties.put("tunnel.listen", "127.0.0.1:0");
        properties.put("tunnel.io-threads", "4");
        properties.put("metrics.listen", "127.0.0.1:0");
        properties.put("tls.ca-file", tls.resolve("ca.pem").toString());
        properties.put("tls.cert-file", tls.resolve(name + ".pem").toString());
        properties.put("tls.key-file", tls.resolve(name + ".key").toString());
        properties.putAll(extra);
        return properties;
    }

    /** Where the source QEMU connects for migrations to beta (alpha's listener). */
    Path sourceSocket() {
        return directory.resolve("alpha-run/peer/beta.sock");
    }

    /** Where the destination QEMU listens (beta connects to it). */
    Path destinationSocket() {
        return directory.resolve("beta-run/peer/beta.sock");
    }

    ServerSocketChannel listenAsDestinationQemu() throws IOException {
        return listenAsDestinationQemu("beta");
    }

    /** The destination QEMU on host {@code to} (its dwcpd connects to {@code <to>-run/peer/<to>.sock}). */
    ServerSocketChannel listenAsDestinationQemu(String to) throws IOException {
        Path socket = directory.resolve(to + "-run/peer/" + to + ".sock");
        Files.createDirectories(socket.getParent());
        Files.deleteIfExists(socket);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        return server;
    }

    /** A source QEMU on host {@code from} migrating to host {@code to}. */
    SocketChannel connectAsSourceQemu(String from, String to) throws IOException {
        return SocketChannel.open(UnixDomainSocketAddress.of(directory.resolve(from + "-run/peer/" + to + ".sock")));
    }

    SocketChannel connectAsSourceQemu() throws IOException {
        return SocketChannel.open(UnixDomainSocketAddress.of(sourceSocket()));
    }

    /**
     * One migration of a single connection, {@code bytes} of the seeded stream, through the two
     * daemons; returns once the destination read all of it (verified) and both sides closed.
     */
    void transfer(long seed, long bytes) throws Exception {
        java.util.concurrent.ExecutorService executor = java.util.concurrent.Executors.newCachedThreadPool();
        try (ServerSocketChannel destination = listenAsDestinationQemu()) {
            java.util.concurrent.Future<Long> received = executor.submit(() -> {
                try (SocketChannel channel = destination.accept()) {
                    return readAndVerify(channel, seed, bytes, true);
                }
            });
            try (SocketChannel source = connectAsSourceQemu()) {
                writeStream(source, seed, bytes);
            }
            if (received.get(120, java.util.concurrent.TimeUnit.SECONDS) != bytes) {
                throw new AssertionError("destination received fewer bytes than sent");
            }
        } finally {
            executor.shutdownNow();
        }
    }

    @Override
    public void close() throws IOException {
        alpha.close();
        beta.close();
        deleteRecursively(directory);
    }

    static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (var walk = Files.walk(path)) {
            List<Path> all = new ArrayList<>(walk.toList());
            java.util.Collections.reverse(all);
            for (Path each : all) {
                Files.deleteIfExists(each);
            }
        }
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    /** A deterministic pseudo-random byte stream: the same seed gives the same bytes. */
    static final class PseudoRandomStream {
        private final SplittableRandom random;
        private long word;
        private int left;

        PseudoRandomStream(long seed) {
            random = new SplittableRandom(seed);
        }

        /** Fills the buffer with the next bytes; the bytes do not depend on how the stream is cut into buffers. */
        void fill(ByteBuffer buffer) {
            while (buffer.hasRemaining()) {
                if (left == 0) {
                    if (buffer.remaining() >= 8) {
                        buffer.putLong(random.nextLong());
                        continue;
                    }
                    word = random.nextLong();
                    left = 8;
                }
                // the same byte order as putLong: most significant byte first
                buffer.put((byte) (word >>> 56));
                word <<= 8;
                left--;
            }
        }
    }

    /** Writes {@code length} bytes of the seeded stream. */
    static void writeStream(SocketChannel channel, long seed, long length) throws IOException {
        try {
            writeStream(channel, seed, length, length, () -> null);
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** {@link #writeStream(SocketChannel, long, long)}, calling {@code atPause} once {@code pauseAt} bytes are written. */
    static void writeStream(
            SocketChannel channel, long seed, long length, long pauseAt, java.util.concurrent.Callable<?> atPause)
            throws Exception {
        PseudoRandomStream stream = new PseudoRandomStream(seed);
        ByteBuffer buffer = ByteBuffer.allocateDirect(256 * 1024);
        long left = length;
        boolean paused = pauseAt >= length;
        while (left > 0) {
            long written = length - left;
            if (!paused && written == pauseAt) {
                atPause.call();
                paused = true;
            }
            buffer.clear();
            buffer.limit((int) Math.min(buffer.capacity(), paused ? left : pauseAt - written));
            stream.fill(buffer);
            buffer.flip();
            while (buffer.hasRemaining()) {
                left -= channel.write(buffer);
            }
        }
    }

    /**
     * Reads {@code length} bytes and compares them with the seeded stream (throws naming the first
     * differing offset); then, if {@code thenEof}, expects the end of the stream. Returns the number
     * of bytes read (less than {@code length} if the stream ended early).
     */
    static long readAndVerify(SocketChannel channel, long seed, long length, boolean thenEof) throws IOException {
        PseudoRandomStream stream = new PseudoRandomStream(seed);
        ByteBuffer buffer = ByteBuffer.allocateDirect(256 * 1024);
        ByteBuffer expected = ByteBuffer.allocateDirect(256 * 1024);
        long offset = 0;
        while (offset < length) {
            buffer.clear();
            buffer.limit((int) Math.min(buffer.capacity(), length - offset));
            int read = channel.read(buffer);
            if (read < 0) {
                return offset;
            }
            buffer.flip();
            expected.clear();
            expected.limit(read);
            stream.fill(expected);
            expected.flip();
            if (!buffer.equals(expected)) {
                for (int i = 0; i < read; i++) {
                    if (buffer.get(i) != expected.get(i)) {
                        throw new AssertionError("stream " + seed + " differs at offset " + (offset + i));
                    }
                }
            }
            offset += read;
        }
        if (thenEof) {
            buffer.clear();
            int read = channel.read(buffer);
            if (read >= 0) {
                throw new AssertionError("stream " + seed + ": expected the end after " + length + " bytes, found "
                        + read + " more bytes");
            }
        }
        return offset;
    }
}
