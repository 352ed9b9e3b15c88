package io.dwcp.testbed.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Qmp.connect against a hand-written monitor on a unix socket that, like QEMU's, serves one client
 * at a time: a connection whose greeting does not come is closed and another is tried, and a
 * monitor that never greets ends in an error at the timeout, never in a wait without end.
 */
class QmpConnectTest {
    @TempDir
    Path dir;

    @Test
    void aConnectionThatIsNeverGreetedIsClosedAndTheNextOneIsServed() throws Exception {
        Path socket = dir.resolve("qmp.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            CompletableFuture<Integer> firstClosed = new CompletableFuture<>();
            CompletableFuture<String> capabilities = new CompletableFuture<>();
            Thread monitor = new Thread(
                    () -> {
                        try (SocketChannel first = server.accept()) {
                            // never greeted; the next client is not accepted while this one is open
                            firstClosed.complete(first.read(ByteBuffer.allocate(1)));
                            try (SocketChannel second = server.accept()) {
                                write(second, "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\n");
                                String request = readLine(second);
                                capabilities.complete(request);
                                Matcher id =
                                        Pattern.compile("\"id\":\"([^\"]+)\"").matcher(request);
                                write(second, "{\"return\": {}, \"id\": \"" + (id.find() ? id.group(1) : "") + "\"}\n");
                                // held open until the client closes it
                                second.read(ByteBuffer.allocate(1));
                            }
                        } catch (IOException e) {
                            firstClosed.completeExceptionally(e);
                            capabilities.completeExceptionally(e);
                        }
                    },
                    "fake-qmp");
            monitor.setDaemon(true);
            monitor.start();

            Qmp qmp = Qmp.connect("fake", socket, Duration.ofSeconds(30), Duration.ofMillis(300));
            try {
                assertEquals(-1, firstClosed.get(5, TimeUnit.SECONDS), "the unanswered connection was closed");
                assertTrue(capabilities.get(5, TimeUnit.SECONDS).contains("\"qmp_capabilities\""));
            } finally {
                qmp.close();
            }
        }
    }

    @Test
    void aMonitorThatNeverGreetsIsAnErrorAtTheTimeout() throws Exception {
        Path socket = dir.resolve("silent.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            // a backlog of one, as QEMU's: later connections find it full and are retried, never waited on
            server.bind(UnixDomainSocketAddress.of(socket), 1);
            QmpException failure = assertThrows(
                    QmpException.class,
                    () -> Qmp.connect("silent", socket, Duration.ofSeconds(1), Duration.ofMillis(200)));
            assertTrue(
                    failure.getMessage().startsWith("silent: no QMP monitor at " + socket + " after 1 s ("),
                    failure.getMessage());
        }
        assertTrue(Files.exists(socket));
    }

    private static void write(SocketChannel channel, String text) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    private static String readLine(SocketChannel channel) throws IOException {
        StringBuilder line = new StringBuilder();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (true) {
            one.clear();
            if (channel.read(one) < 0) {
                return line.toString();
            }
            char c = (char) one.get(0);
            if (c == '\n') {
                return line.toString();
            }
            line.append(c);
        }
    }
}
