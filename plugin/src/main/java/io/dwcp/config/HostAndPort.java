package io.dwcp.config;

import static java.util.Objects.requireNonNull;

import java.net.InetSocketAddress;
import java.util.regex.Pattern;

/** {@code host:port} (IPv6 as {@code [::1]:7470}). */
public record HostAndPort(String host, int port) {
    /** What {@link #isHost} accepts, for error messages. */
    public static final String HOST_RULE = "expected an IP address or a host name";
    // names, IPv4, IPv6 (with a %zone): the syntax only; resolving happens when the socket binds
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9._%:-]{1,253}");

    public HostAndPort {
        requireNonNull(host, "host is null");
        if (!isHost(host)) {
            throw new IllegalArgumentException("not a host: " + host);
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
    }

    public static HostAndPort valueOf(String text) {
        String trimmed = text.trim();
        int colon = trimmed.lastIndexOf(':');
        if (colon <= 0 || colon == trimmed.length() - 1) {
            throw new IllegalArgumentException("not host:port: " + text);
        }
        String host = trimmed.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(trimmed.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not host:port: " + text);
        }
        return new HostAndPort(host, port);
    }

    public static boolean isHost(String host) {
        return host != null && HOST.matcher(host).matches();
    }

    public InetSocketAddress toSocketAddress() {
        return new InetSocketAddress(host, port);
    }

    @Override
    public String toString() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
