package io.dwcp;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A free TCP port for a test that must name it before something listens on it (peers configured
 * with each other's addresses). Where the listener can take port 0 itself and say what it bound,
 * tests do that instead.
 *
 * <p>The port is picked below the kernel's ephemeral range ({@code net.ipv4.ip_local_port_range}):
 * a port the kernel handed out for port 0 and took back can be handed out again at once, to
 * another listener or to an outgoing connection of the same test, before the test binds it. Below
 * the range only another explicit choice can take it.
 */
public final class FreePorts {
    private static final Path EPHEMERAL_RANGE = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
    private static final int SPAN = 10_000;

    private FreePorts() {}

    /** A port nothing listens on now, on any address. */
    public static int pick() {
        int first = ephemeralStart() - SPAN;
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = first + random.nextInt(SPAN);
            try (ServerSocket socket = new ServerSocket()) {
                socket.bind(new InetSocketAddress(port));
                return port;
            } catch (IOException taken) {
                // in use: another one
            }
        }
        throw new IllegalStateException("no free port in " + first + "-" + (first + SPAN - 1) + " after 200 attempts");
    }

    private static int ephemeralStart() {
        try {
            String[] range = Files.readString(EPHEMERAL_RANGE, StandardCharsets.US_ASCII)
                    .trim()
                    .split("\\s+");
            return Math.max(SPAN + 1024, Integer.parseInt(range[0]));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + EPHEMERAL_RANGE, e);
        }
    }
}
