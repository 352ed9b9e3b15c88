package io.dwcp.config;

import java.net.InetSocketAddress;

import static java.util.Objects.requireNonNull;

/** {@code host:port} (IPv6 as {@code [::1]:7470}). */
public record HostAndPort(String host, int port)
{
    public HostAndPort
    {
        requireNonNull(host, "host is null");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
    }

    public static HostAndPort valueOf(String text)
    {
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
        }
        catch (NumberFormatException e) {
            throw new IllegalArgumentException("not host:port: " + text);
        }
        return new HostAndPort(host, port);
    }

    public InetSocketAddress toSocketAddress()
    {
        return new InetSocketAddress(host, port);
    }

    @Override
    public String toString()
    {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
