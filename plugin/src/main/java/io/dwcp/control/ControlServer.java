package io.dwcp.control;

import static java.util.Objects.requireNonNull;

import io.dwcp.node.NodeConfig;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import jakarta.inject.Inject;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@link ControlApi} as HTTP/1.1 on the unix socket {@code control.socket}
 * ({@code <node.run-dir>/control.sock}). One request per connection (every answer closes it).
 * A bad client cannot hold the daemon: request line ≤ 4 KiB, headers ≤ 8 KiB, body ≤
 * {@code control.max-request-size} (else 414, 431, 413), the whole exchange within
 * {@code control.request-timeout}, at most {@code control.max-connections} at once (more are
 * closed without an answer). Requests are answered one at a time on the thread
 * {@code dwcp-control-api}, owned by the server: {@link ControlApi} may block on ZooKeeper (a VM
 * lock), which an event loop must never do. The same thread lets go of the VM locks of ended
 * migrations every second.
 */
public final class ControlServer implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(ControlServer.class);
    static final int MAX_INITIAL_LINE = 4096;
    static final int MAX_HEADERS = 8192;

    private final ControlConfig config;
    private final NodeConfig node;
    private final EventLoopGroup group;
    private final ControlApi api;
    private final AtomicInteger connections = new AtomicInteger();
    private final ScheduledExecutorService requests = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "dwcp-control-api");
        thread.setDaemon(true);
        return thread;
    });
    private Channel listener;
    private Path socket;

    @Inject
    public ControlServer(ControlConfig config, NodeConfig node, EventLoopGroup group, ControlApi api) {
        this.config = requireNonNull(config, "config is null");
        this.node = requireNonNull(node, "node is null");
        this.group = requireNonNull(group, "group is null");
        this.api = requireNonNull(api, "api is null");
    }

    public void start() throws IOException, InterruptedException {
        if (!config.isEnabled()) {
            return;
        }
        Path path = config.socketIn(node.getRunDirectory());
        Files.createDirectories(path.toAbsolutePath().getParent());
        // a socket file left by a daemon that did not stop cleanly; a live one would be replaced too,
        // so only one dwcpd may use a run directory (the peer sockets rely on that already)
        Files.deleteIfExists(path);
        listener = new ServerBootstrap()
                .group(group)
                .channel(EpollServerDomainSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel channel) {
                        if (connections.incrementAndGet() > config.getMaxConnections()) {
                            connections.decrementAndGet();
                            log.debug(
                                    "control connection refused: {} open (control.max-connections)",
                                    config.getMaxConnections());
                            channel.close();
                            return;
                        }
                        channel.closeFuture().addListener(closed -> connections.decrementAndGet());
                        // the whole exchange has a deadline: a slow or silent client is cut off
                        channel.eventLoop()
                                .schedule(
                                        () -> {
                                            if (channel.isOpen()) {
                                                log.debug(
                                                        "control connection closed: no complete request within {}",
                                                        config.getRequestTimeout());
                                                channel.close();
                                            }
                                        },
                                        config.getRequestTimeout().toMillis(),
                                        TimeUnit.MILLISECONDS);
                        channel.pipeline().addLast("http", new HttpServerCodec(MAX_INITIAL_LINE, MAX_HEADERS, 8192));
                        channel.pipeline()
                                .addLast(
                                        "aggregator",
                                        new HttpObjectAggregator(
                                                config.getMaxRequestSize().toIntBytes()));
                        channel.pipeline().addLast("api", new RequestHandler());
                    }
                })
                .bind(new DomainSocketAddress(path.toFile()))
                .sync()
                .channel();
        socket = path;
        config.socketPermissions().apply(path);
        requests.scheduleWithFixedDelay(api::releaseLocks, 1, 1, TimeUnit.SECONDS);
        log.info("control socket unix:{} ({})", path, config.socketPermissions());
    }

    /** The socket's path, once started. */
    public Path socket() {
        return socket;
    }

    /** Stops listening, then lets the request being answered finish (a ZooKeeper call is bounded by its timeouts). */
    @Override
    public void close() {
        if (listener != null) {
            listener.close().syncUninterruptibly();
            listener = null;
        }
        requests.shutdown();
        try {
            if (!requests.awaitTermination(10, TimeUnit.SECONDS)) {
                log.warn("a control request is still being answered after 10 s");
                requests.shutdownNow();
            }
        } catch (InterruptedException e) {
            requests.shutdownNow();
            Thread.currentThread().interrupt();
        }
        if (socket != null) {
            try {
                Files.deleteIfExists(socket);
            } catch (IOException e) {
                log.warn("cannot remove {}: {}", socket, e.toString());
            }
        }
    }

    private final class RequestHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext context, FullHttpRequest request) {
            if (request.decoderResult().isFailure()) {
                Throwable cause = request.decoderResult().cause();
                int status = cause instanceof TooLongHttpLineException
                        ? 414
                        : cause instanceof TooLongHttpHeaderException ? 431 : 400;
                answer(
                        context,
                        request.method().name(),
                        request.uri(),
                        ControlApi.Response.text(status, "malformed HTTP request: " + cause.getMessage()));
                return;
            }
            // copied here: the request is released when this method returns
            String method = request.method().name();
            String uri = request.uri();
            String contentType = request.headers().get(HttpHeaderNames.CONTENT_TYPE);
            String body = request.content().toString(StandardCharsets.UTF_8);
            try {
                requests.execute(() -> {
                    ControlApi.Response response;
                    try {
                        response = api.handle(method, uri, contentType, body);
                    } catch (RuntimeException e) {
                        log.warn("control {} {} failed", method, uri, e);
                        response = ControlApi.Response.text(500, "dwcpd failed to answer: " + e);
                    }
                    answer(context, method, uri, response);
                });
            } catch (RejectedExecutionException e) {
                // the server is closing
                context.close();
            }
        }

        /** On any thread: Netty hands the write to the channel's event loop. */
        private void answer(ChannelHandlerContext context, String method, String uri, ControlApi.Response response) {
            log.debug("control {} {} -> {}", method, uri, response.status());
            byte[] body = response.bodyBytes();
            FullHttpResponse answer = new DefaultFullHttpResponse(
                    HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(response.status()), Unpooled.wrappedBuffer(body));
            if (body.length > 0) {
                answer.headers().set(HttpHeaderNames.CONTENT_TYPE, response.contentType());
            }
            answer.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
            answer.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            for (Map.Entry<String, String> header : response.headers().entrySet()) {
                answer.headers().set(header.getKey(), header.getValue());
            }
            context.writeAndFlush(answer).addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
            log.debug("control connection failed: {}", cause.toString());
            context.close();
        }
    }
}
