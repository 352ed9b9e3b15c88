package io.dwcp.cli;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.regex.Pattern;

/**
 * Where {@code dwcp migrate} sends a domain:
 * <pre>
 * dwcp://HOST[:PORT][?peer=NAME&amp;parallel=N&amp;bandwidth=MIB_PER_S&amp;dest-uri=LIBVIRT_URI]
 * </pre>
 * HOST is the destination host: the name in the default destination libvirt URI, and the dwcpd
 * peer when {@code peer} is not given (a peer named HOST, or else the peer whose tunnel address
 * is HOST[:PORT]). PORT, when given, is the destination dwcpd's tunnel port and narrows that
 * choice. Query values are URL-encoded; each key at most once.
 */
public record MigrationTarget(
        String host,
        OptionalInt port,
        Optional<String> peer,
        OptionalInt parallel,
        OptionalLong bandwidthMiB,
        Optional<String> destinationUri) {
    private static final Pattern PEER = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");

    public MigrationTarget {
        requireNonNull(host, "host is null");
        requireNonNull(port, "port is null");
        requireNonNull(peer, "peer is null");
        requireNonNull(parallel, "parallel is null");
        requireNonNull(bandwidthMiB, "bandwidthMiB is null");
        requireNonNull(destinationUri, "destinationUri is null");
    }

    /** Parses the URI; throws IllegalArgumentException saying what is wrong. */
    public static MigrationTarget parse(String text) {
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a URI: " + e.getMessage());
        }
        if (!"dwcp".equals(uri.getScheme())) {
            throw new IllegalArgumentException("expected dwcp://HOST[:PORT][?OPTIONS], not '" + text + "'");
        }
        if (uri.getRawAuthority() == null || uri.getHost() == null) {
            throw new IllegalArgumentException("no destination host in '" + text + "' (dwcp://HOST[:PORT])");
        }
        if (uri.getUserInfo() != null) {
            throw new IllegalArgumentException(
                    "no user in a dwcp URI (the destination libvirt URI carries it: dest-uri or --dest-uri): '" + text
                            + "'");
        }
        if (!uri.getRawPath().isEmpty() && !uri.getRawPath().equals("/")) {
            throw new IllegalArgumentException("no path in a dwcp URI: '" + uri.getRawPath() + "'");
        }
        if (uri.getRawFragment() != null) {
            throw new IllegalArgumentException("no fragment in a dwcp URI: '#" + uri.getRawFragment() + "'");
        }
        String host = uri.getHost();
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        Map<String, String> query = query(uri.getRawQuery());
        Optional<String> peer = Optional.ofNullable(query.remove("peer"));
        if (peer.isPresent() && !PEER.matcher(peer.get()).matches()) {
            throw new IllegalArgumentException(
                    "peer must be a dwcpd node name ([A-Za-z0-9._-], 1-63 characters): '" + peer.get() + "'");
        }
        OptionalInt parallel = query.containsKey("parallel")
                ? OptionalInt.of(parallel(query.remove("parallel")))
                : OptionalInt.empty();
        OptionalLong bandwidth = query.containsKey("bandwidth")
                ? OptionalLong.of(bandwidth(query.remove("bandwidth")))
                : OptionalLong.empty();
        Optional<String> destinationUri = Optional.ofNullable(query.remove("dest-uri"));
        if (!query.isEmpty()) {
            throw new IllegalArgumentException("unknown option '"
                    + query.keySet().iterator().next() + "' in the dwcp URI (peer, parallel, bandwidth, dest-uri)");
        }
        return new MigrationTarget(
                host,
                uri.getPort() < 0 ? OptionalInt.empty() : OptionalInt.of(uri.getPort()),
                peer,
                parallel,
                bandwidth,
                destinationUri);
    }

    static int parallel(String value) {
        try {
            int connections = Integer.parseInt(value);
            if (connections >= 1 && connections <= 255) {
                return connections;
            }
        } catch (NumberFormatException ignored) {
            // the message below says what is expected
        }
        throw new IllegalArgumentException("parallel must be 1 to 255 connections: '" + value + "'");
    }

    static long bandwidth(String value) {
        try {
            long mib = Long.parseLong(value);
            if (mib >= 1) {
                return mib;
            }
        } catch (NumberFormatException ignored) {
            // the message below says what is expected
        }
        throw new IllegalArgumentException("bandwidth must be a whole number of MiB/s, at least 1: '" + value + "'");
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> query = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return query;
        }
        for (String pair : raw.split("&", -1)) {
            int equals = pair.indexOf('=');
            if (equals <= 0) {
                throw new IllegalArgumentException("dwcp URI options are KEY=VALUE joined by '&': '" + pair + "'");
            }
            String key = percentDecode(pair.substring(0, equals));
            String value = percentDecode(pair.substring(equals + 1));
            if (query.put(key, value) != null) {
                throw new IllegalArgumentException("option '" + key + "' is given twice in the dwcp URI");
            }
        }
        return query;
    }

    /**
     * %XX escapes decoded; a '+' stays a '+' (a URI query is not a form: libvirt URIs such as
     * {@code qemu+ssh://} must survive unescaped).
     */
    private static String percentDecode(String text) {
        return URLDecoder.decode(text.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    /** The HOST as it goes into a URI (IPv6 in brackets). */
    public String uriHost() {
        return host.contains(":") ? "[" + host + "]" : host;
    }
}
