package io.dwcp.control;

import io.dwcp.daemon.NodeConfig;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static java.util.Objects.requireNonNull;

/**
 * Serves {@link ControlApi} as HTTP/1.1 on the unix socket {@code control.socket}
 * ({@code <node.run-dir>/control.sock}). One request per connection (every answer closes it).
 * A bad client cannot hold the daemon: request line ≤ 4 KiB, headers ≤ 8 KiB, body ≤
 * {@code control.max-request-size} (else 414, 431, 413), the whole exchange within
 * {@code control.request-timeout}, at most {@code control.max-connections} at once (more are
 * closed without an answer).
 *
 * <p>Threads: requests are read and answered on the channel's event loop; requests whose answer
 * reads the disk ({@link ControlApi#blocks}: the baselines) are computed on one thread of this
 * server's own ({@code dwcp-control-io}, ended by {@link #close}), and the answer written back
 * from the event loop.
 */
public final class ControlServer
        implements Closeable
{
    private static final Logger log = LoggerFactory.getLogger(ControlServer.class);
    static final int MAX_INITIAL_LINE = 4096;
    static final int MAX_HEADERS = 8192;

    private final ControlConfig config;
    private final NodeConfig node;
    private final EventLoopGroup group;
    private final ControlApi api;
    private final AtomicInteger connections = new AtomicInteger();
    private final ExecutorService blockingRequests = Executors.newSingleThreadExecutor(runnable -> {
        Thread thread = new Thread(runnable, "dwcp-control-io");
        thread.setDaemon(true);
        return thread;
    });
    private Channel listener;
    private Path socket;

    @Inject
    public ControlServer(ControlConfig config, NodeConfig node, EventLoopGroup group, ControlApi api)
    {
        this.config = requireNonNull(config, "config is null");
        this.node = requireNonNull(node, "node is null");
        this.group = requireNonNull(group, "group is null");
        this.api = requireNonNull(api, "api is null");
    }

    public void start()
            throws IOException, InterruptedException
    {
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
                .childHandler(new ChannelInitializer<Channel>()
                {
                    @Override
                    protected void initChannel(Channel channel)
                    {
                        if (connections.incrementAndGet() > config.getMaxConnections()) {
                            connections.decrementAndGet();
                            log.debug("control connection refused: {} open (control.max-connections)", config.getMaxConnections());
                            channel.close();
                            return;
                        }
                        channel.closeFuture().addListener(closed -> connections.decrementAndGet());
                        // the whole exchange has a deadline: a slow or silent client is cut off
                        channel.eventLoop().schedule(() -> {
                            if (channel.isOpen()) {
                                log.debug("control connection closed: no complete request within {}", config.getRequestTimeout());
                                channel.close();
                            }
                        }, config.getRequestTimeout().toMillis(), TimeUnit.MILLISECONDS);
                        channel.pipeline().addLast("http", new HttpServerCodec(MAX_INITIAL_LINE, MAX_HEADERS, 8192));
                        channel.pipeline().addLast("aggregator", new HttpObjectAggregator(config.getMaxRequestSize().toIntBytes()));
                        channel.pipeline().addLast("api", new RequestHandler());
                    }
                })
                .bind(new DomainSocketAddress(path.toFile())).sync().channel();
        socket = path;
        config.socketPermissions().apply(path);
        log.info("control socket unix:{} ({})", path, config.socketPermissions());
    }

    /** The socket's path, once started. */
    public Path socket()
    {
        return socket;
    }

    @Override
    public void close()
    {
        blockingRequests.shutdownNow();
        if (listener != null) {
            listener.close().syncUninterruptibly();
            listener = null;
        }
        if (socket != null) {
            try {
                Files.deleteIfExists(socket);
            }
            catch (IOException e) {
                log.warn("cannot remove {}: {}", socket, e.toString());
            }
        }
    }

    private final class RequestHandler
            extends SimpleChannelInboundHandler<FullHttpRequest>
    {
        @Override
        protected void channelRead0(ChannelHandlerContext context, FullHttpRequest request)
        {
            ControlApi.Response response;
            if (request.decoderResult().isFailure()) {
                Throwable cause = request.decoderResult().cause();
                int status = cause instanceof TooLongHttpLineException ? 414 : cause instanceof TooLongHttpHeaderException ? 431 : 400;
                response = ControlApi.Response.text(status, "malformed HTTP request: " + cause.getMessage());
            }
            else if (ControlApi.blocks(request.uri())) {
                String method = request.method().name();
                String uri = request.uri();
                String contentType = request.headers().get(HttpHeaderNames.CONTENT_TYPE);
                String body = request.content().toString(StandardCharsets.UTF_8);
                try {
                    blockingRequests.execute(() -> {
                        ControlApi.Response answer = api.handle(method, uri, contentType, body);
                        context.executor().execute(() -> answer(context, method, uri, answer));
                    });
                }
                catch (RejectedExecutionException e) {
                    answer(context, method, uri, ControlApi.Response.text(503, "dwcpd is stopping"));
                }
                return;
            }
            else {
                response = api.handle(request.method().name(), request.uri(), request.headers().get(HttpHeaderNames.CONTENT_TYPE),
                        request.content().toString(StandardCharsets.UTF_8));
            }
            answer(context, request.method().name(), request.uri(), response);
        }

        private void answer(ChannelHandlerContext context, String method, String uri, ControlApi.Response response)
        {
            log.debug("control {} {} -> {}", method, uri, response.status());
            byte[] body = response.bodyBytes();
            FullHttpResponse answer = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(response.status()), Unpooled.wrappedBuffer(body));
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
        public void exceptionCaught(ChannelHandlerContext context, Throwable cause)
        {
            log.debug("control connection failed: {}", cause.toString());
            context.close();
        }
    }
}
