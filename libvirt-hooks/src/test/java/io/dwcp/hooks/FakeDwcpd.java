package io.dwcp.hooks;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.URLDecoder;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A hand-written stand-in for dwcpd's control endpoint: accepts HTTP/1.1 requests on a unix socket
 * or a loopback TCP port, records each one and answers with a fixed status. Just enough HTTP for
 * one request per connection (what the hook sends); anything else fails the test loudly.
 */
final class FakeDwcpd implements AutoCloseable {
    /** One request as the fake saw it. Header names are lower case. */
    record Request(String method, String target, String version, Map<String, String> headers, String body) {
        /** The body's form fields, decoded (application/x-www-form-urlencoded). */
        Map<String, String> form() {
            Map<String, String> fields = new LinkedHashMap<>();
            if (body.isEmpty()) {
                return fields;
            }
            for (String pair : body.split("&")) {
                int equals = pair.indexOf('=');
                String name = equals < 0 ? pair : pair.substring(0, equals);
                String value = equals < 0 ? "" : pair.substring(equals + 1);
                if (fields.put(
                                URLDecoder.decode(name, StandardCharsets.UTF_8),
                                URLDecoder.decode(value, StandardCharsets.UTF_8))
                        != null) {
                    throw new IllegalStateException("field " + name + " twice in " + body);
                }
            }
            return fields;
        }
    }

    private final ServerSocketChannel server;
    private final Path socketPath;
    private final int status;
    private final String responseBody;
    private final boolean answer;
    private final BlockingQueue<Request> requests = new LinkedBlockingQueue<>();
    private final BlockingQueue<Throwable> failures = new LinkedBlockingQueue<>();
    private final Thread acceptor;

    private FakeDwcpd(ServerSocketChannel server, Path socketPath, int status, String responseBody, boolean answer) {
        this.server = server;
        this.socketPath = socketPath;
        this.status = status;
        this.responseBody = requireNonNull(responseBody, "responseBody is null");
        this.answer = answer;
        this.acceptor = new Thread(this::acceptLoop, "fake-dwcpd");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Listens on the unix socket {@code path} and answers {@code status} with {@code body}. */
    static FakeDwcpd onUnixSocket(Path path, int status, String body) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        return new FakeDwcpd(server, path, status, body, true);
    }

    /** Listens on 127.0.0.1, any free port. */
    static FakeDwcpd onLoopbackTcp(int status, String body) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.INET);
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        return new FakeDwcpd(server, null, status, body, true);
    }

    /** Accepts connections on the unix socket {@code path}, reads the request, and never answers (a hung dwcpd). */
    static FakeDwcpd silentOnUnixSocket(Path path) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        return new FakeDwcpd(server, path, 0, "", false);
    }

    int port() {
        try {
            return ((InetSocketAddress) server.getLocalAddress()).getPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The next request received, waiting up to {@code millis}; null if none came. */
    Request nextRequest(long millis) throws InterruptedException {
        return requests.poll(millis, TimeUnit.MILLISECONDS);
    }

    /** Requests received so far and not taken. */
    List<Request> pending() {
        return List.copyOf(requests);
    }

    /** Throws what went wrong on the fake's side (a malformed request), if anything did. */
    void assertNoFailure() {
        Throwable failure = failures.peek();
        if (failure != null) {
            throw new AssertionError("the fake dwcpd failed: " + failure, failure);
        }
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            try (SocketChannel client = server.accept()) {
                Request request = read(client);
                requests.add(request);
                if (!answer) {
                    // hold the connection until the hook gives up
                    client.read(ByteBuffer.allocate(1));
                    continue;
                }
                byte[] body = responseBody.getBytes(StandardCharsets.UTF_8);
                String head = "HTTP/1.1 " + status + " " + reason(status) + "\r\n"
                        + "Content-Type: text/plain; charset=utf-8\r\n"
                        + "Content-Length: " + body.length + "\r\n"
                        + "Connection: close\r\n\r\n";
                ByteBuffer out = ByteBuffer.allocate(head.length() + body.length);
                out.put(head.getBytes(StandardCharsets.US_ASCII)).put(body).flip();
                while (out.hasRemaining()) {
                    client.write(out);
                }
            } catch (IOException e) {
                if (server.isOpen()) {
                    failures.add(e);
                }
            } catch (RuntimeException e) {
                failures.add(e);
            }
        }
    }

    /** Reads the head up to the blank line, then exactly Content-Length bytes of body. */
    private static Request read(SocketChannel client) throws IOException {
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        ByteBuffer chunk = ByteBuffer.allocate(4096);
        int headEnd;
        while ((headEnd = indexOf(received.toByteArray(), "\r\n\r\n".getBytes(StandardCharsets.US_ASCII))) < 0) {
            chunk.clear();
            if (client.read(chunk) < 0) {
                throw new IllegalStateException("connection closed before the end of the request head: " + received);
            }
            received.write(chunk.array(), 0, chunk.position());
        }
        byte[] all = received.toByteArray();
        String[] lines = new String(all, 0, headEnd, StandardCharsets.ISO_8859_1).split("\r\n");
        String[] requestLine = lines[0].split(" ");
        if (requestLine.length != 3) {
            throw new IllegalStateException("malformed request line: " + lines[0]);
        }
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon <= 0) {
                throw new IllegalStateException("malformed header line: " + lines[i]);
            }
            headers.put(
                    lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT),
                    lines[i].substring(colon + 1).strip());
        }
        int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(all, headEnd + 4, all.length - headEnd - 4);
        while (body.size() < length) {
            chunk.clear();
            if (client.read(chunk) < 0) {
                throw new IllegalStateException(
                        "connection closed after " + body.size() + " of " + length + " body bytes");
            }
            body.write(chunk.array(), 0, chunk.position());
        }
        if (body.size() != length) {
            throw new IllegalStateException("body of " + body.size() + " bytes, Content-Length " + length);
        }
        return new Request(
                requestLine[0], requestLine[1], requestLine[2], headers, body.toString(StandardCharsets.UTF_8));
    }

    private static int indexOf(byte[] data, byte[] pattern) {
        outer:
        for (int i = 0; i + pattern.length <= data.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (data[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 204 -> "No Content";
            case 409 -> "Conflict";
            case 503 -> "Service Unavailable";
            default -> "Status";
        };
    }

    /** Stops listening but leaves the socket file behind, as a crashed daemon does. */
    void closeKeepingSocketFile() throws IOException {
        server.close();
        try {
            acceptor.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        try {
            acceptor.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (socketPath != null) {
            Files.deleteIfExists(socketPath);
        }
    }
}
