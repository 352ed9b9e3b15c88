package io.dwcp.cli;

import static java.util.Objects.requireNonNull;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.Closeable;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** HTTP/1.1 requests to dwcpd's control socket (protocol: {@code io.dwcp.control.ControlApi}). */
public final class ControlClient implements Closeable {
    private static final int MAX_ANSWER = 4 << 20;

    /** dwcpd's answer; {@code body} is the UTF-8 text of the answer. */
    public record Reply(int status, String contentType, String body) {}

    /** dwcpd could not be reached, or did not answer in time. */
    public static final class UnavailableException extends Exception {
        public UnavailableException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final Path socket;
    private final Duration timeout;
    private EventLoopGroup group;

    public ControlClient(Path socket, Duration timeout) {
        this.socket = requireNonNull(socket, "socket is null");
        this.timeout = requireNonNull(timeout, "timeout is null");
    }

    public Path socket() {
        return socket;
    }

    public Reply get(String path) throws UnavailableException, InterruptedException {
        return exchange(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path));
    }

    public Reply delete(String path) throws UnavailableException, InterruptedException {
        return exchange(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.DELETE, path));
    }

    public Reply postForm(String path, Map<String, String> form) throws UnavailableException, InterruptedException {
        byte[] body = formEncode(form).getBytes(StandardCharsets.UTF_8);
        FullHttpRequest request =
                new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, path, Unpooled.wrappedBuffer(body));
        request.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_X_WWW_FORM_URLENCODED);
        request.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        return exchange(request);
    }

    static String formEncode(Map<String, String> form) {
        StringJoiner joined = new StringJoiner("&");
        form.forEach((name, value) -> joined.add(URLEncoder.encode(name, StandardCharsets.UTF_8) + "="
                + URLEncoder.encode(value, StandardCharsets.UTF_8)));
        return joined.toString();
    }

    private synchronized EventLoopGroup group() {
        if (group == null) {
            if (!Epoll.isAvailable()) {
                throw new IllegalStateException("the control socket client needs Linux epoll (Netty native transport): "
                        + Epoll.unavailabilityCause());
            }
            group = new MultiThreadIoEventLoopGroup(
                    1, new DefaultThreadFactory("dwcp-control", true), EpollIoHandler.newFactory());
        }
        return group;
    }

    private Reply exchange(FullHttpRequest request) throws UnavailableException, InterruptedException {
        if (!java.nio.file.Files.exists(socket)) {
            request.release();
            throw new UnavailableException("no control socket " + socket, null);
        }
        request.headers().set(HttpHeaderNames.HOST, "dwcpd");
        request.headers().set(HttpHeaderNames.USER_AGENT, "dwcp/0.1.0");
        request.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        CompletableFuture<Reply> reply = new CompletableFuture<>();
        Bootstrap bootstrap = new Bootstrap()
                .group(group())
                .channel(EpollDomainSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel channel) {
                        channel.pipeline().addLast(new HttpClientCodec());
                        channel.pipeline().addLast(new HttpObjectAggregator(MAX_ANSWER));
                        channel.pipeline().addLast(new SimpleChannelInboundHandler<FullHttpResponse>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext context, FullHttpResponse response) {
                                reply.complete(new Reply(
                                        response.status().code(),
                                        response.headers().get(HttpHeaderNames.CONTENT_TYPE, ""),
                                        response.content().toString(StandardCharsets.UTF_8)));
                                context.close();
                            }

                            @Override
                            public void channelInactive(ChannelHandlerContext context) {
                                reply.completeExceptionally(
                                        new IllegalStateException("dwcpd closed the connection without an answer"));
                            }

                            @Override
                            public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
                                reply.completeExceptionally(cause);
                                context.close();
                            }
                        });
                    }
                });
        ChannelFuture connect = bootstrap.connect(new DomainSocketAddress(socket.toFile()));
        connect.addListener((ChannelFuture done) -> {
            if (done.isSuccess()) {
                done.channel().writeAndFlush(request);
            } else {
                request.release();
                reply.completeExceptionally(done.cause());
            }
        });
        try {
            return reply.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw new UnavailableException(
                    "cannot reach dwcpd at unix:" + socket + ": "
                            + (cause.getMessage() == null ? cause.toString() : cause.getMessage()),
                    cause);
        } catch (TimeoutException e) {
            connect.channel().close();
            throw new UnavailableException(
                    "dwcpd at unix:" + socket + " did not answer within " + timeout.toMillis() + " ms", e);
        }
    }

    @Override
    public synchronized void close() {
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            group = null;
        }
    }
}
