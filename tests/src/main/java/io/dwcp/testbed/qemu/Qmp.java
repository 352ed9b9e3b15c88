package io.dwcp.testbed.qemu;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dwcp.testbed.sys.CloseAtDeadline;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A QMP client over QEMU's unix monitor socket: the greeting, {@code qmp_capabilities}, then
 * commands matched to their replies by {@code id}. Asynchronous events are queued for
 * {@link #nextEvent}. One reader thread per connection; commands may be sent from any thread.
 */
public final class Qmp implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** How long one connection waits for QEMU's greeting before it is closed and another is tried. */
    static final Duration GREETING_WAIT = Duration.ofSeconds(5);

    private final String name;
    private final SocketChannel channel;
    /** Read by the handshake, then only by the reader thread. */
    private final BufferedReader input;

    private final Map<String, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final BlockingQueue<JsonNode> events = new LinkedBlockingQueue<>();
    private final AtomicLong ids = new AtomicLong();
    private final Thread reader;
    private volatile IOException failure;

    private Qmp(String name, SocketChannel channel) {
        this.name = name;
        this.channel = channel;
        this.input =
                new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
        this.reader = new Thread(this::readLoop, "qmp-" + name);
        this.reader.setDaemon(true);
    }

    /**
     * Connects to {@code socket}, waiting up to {@code timeout} for QEMU to create it, and negotiates
     * capabilities. QEMU serves one QMP client at a time, so a connection whose greeting does not
     * come within {@link #GREETING_WAIT} is closed, never left open, and a new one is tried until the
     * timeout: a connection left waiting would keep every later one from being served.
     */
    public static Qmp connect(String name, Path socket, Duration timeout) {
        return connect(name, socket, timeout, GREETING_WAIT);
    }

    static Qmp connect(String name, Path socket, Duration timeout, Duration greetingWait) {
        requireNonNull(socket, "socket is null");
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        int attempts = 0;
        while (System.nanoTime() < deadline) {
            SocketChannel channel = null;
            try {
                channel = SocketChannel.open(StandardProtocolFamily.UNIX);
                // without blocking: a monitor that accepts nobody leaves its backlog full, and a
                // blocking connect would then wait for ever (a full backlog is an error here, retried)
                channel.configureBlocking(false);
                if (!channel.connect(UnixDomainSocketAddress.of(socket))) {
                    throw new IOException("connection to " + socket + " pending");
                }
                channel.configureBlocking(true);
                attempts++;
                Qmp qmp = new Qmp(name, channel);
                long left = Math.max(1, deadline - System.nanoTime());
                qmp.handshake(Duration.ofNanos(Math.min(left, greetingWait.toNanos())));
                return qmp;
            } catch (IOException | QmpException e) {
                if (channel != null) {
                    CloseAtDeadline.closeQuietly(channel);
                }
                last = e;
                sleep(50);
            }
        }
        throw new QmpException(name + ": no QMP monitor at " + socket + " after " + timeout.toSeconds() + " s ("
                + attempts + " connections answered no greeting and capabilities)"
                + (last == null ? "" : ": " + last.getMessage()));
    }

    private void handshake(Duration timeout) throws IOException {
        // a QEMU that accepted but never greets: the channel is closed at the deadline, which ends the read
        String greeting;
        CloseAtDeadline deadline = CloseAtDeadline.after(timeout, channel);
        try {
            greeting = input.readLine();
        } finally {
            deadline.close();
        }
        if (greeting == null || !greeting.contains("\"QMP\"")) {
            throw new IOException("not a QMP greeting: " + greeting);
        }
        reader.start();
        execute("qmp_capabilities", null, timeout);
    }

    private void readLoop() {
        try {
            for (String line; (line = input.readLine()) != null; ) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode message = JSON.readTree(line);
                JsonNode id = message.get("id");
                if (id != null) {
                    CompletableFuture<JsonNode> future = pending.remove(id.asText());
                    if (future != null) {
                        future.complete(message);
                    }
                } else if (message.has("event")) {
                    events.add(message);
                }
            }
            failure = new IOException("QMP connection closed by QEMU");
        } catch (IOException e) {
            failure = e;
        }
        IOException cause = failure;
        pending.values().forEach(f -> f.completeExceptionally(cause));
        pending.clear();
    }

    /** Runs a command and returns its {@code return} value; a QMP error becomes a {@link QmpException}. */
    public JsonNode execute(String command, Map<String, ?> arguments, Duration timeout) {
        ObjectNode request = JSON.createObjectNode();
        request.put("execute", command);
        if (arguments != null && !arguments.isEmpty()) {
            request.set("arguments", JSON.valueToTree(arguments));
        }
        String id = Long.toString(ids.incrementAndGet());
        request.put("id", id);
        CompletableFuture<JsonNode> reply = new CompletableFuture<>();
        pending.put(id, reply);
        if (failure != null) {
            pending.remove(id);
            throw new QmpException(name + ": QMP connection lost before '" + command + "': " + failure.getMessage());
        }
        try {
            byte[] bytes = (JSON.writeValueAsString(request) + "\n").getBytes(StandardCharsets.UTF_8);
            synchronized (channel) {
                ByteBuffer buffer = ByteBuffer.wrap(bytes);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
            }
            JsonNode message = reply.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            JsonNode error = message.get("error");
            if (error != null) {
                throw new QmpException(name + ": '" + command + "' failed: "
                        + error.path("class").asText() + ": "
                        + error.path("desc").asText());
            }
            return message.path("return");
        } catch (IOException e) {
            throw new UncheckedIOException(name + ": cannot send '" + command + "'", e);
        } catch (TimeoutException e) {
            pending.remove(id);
            throw new QmpException(name + ": no reply to '" + command + "' within " + timeout.toSeconds() + " s");
        } catch (ExecutionException e) {
            throw new QmpException(
                    name + ": '" + command + "' lost: " + e.getCause().getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QmpException(name + ": interrupted waiting for '" + command + "'");
        }
    }

    public JsonNode execute(String command, Map<String, ?> arguments) {
        return execute(command, arguments, Duration.ofSeconds(30));
    }

    public JsonNode execute(String command) {
        return execute(command, null);
    }

    /** The next asynchronous event, or null after {@code timeout}. */
    public JsonNode nextEvent(Duration timeout) throws InterruptedException {
        return events.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    public boolean isConnected() {
        return failure == null && channel.isOpen();
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // already gone with its QEMU
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QmpException("interrupted while connecting to QMP");
        }
    }
}
