package io.dwcp.migration.capture;

import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Just enough QMP for the capture tool: one command at a time, events skipped. */
final class Qmp implements Closeable {
    private final SocketChannel socket;
    private final BufferedReader in;
    private final OutputStream out;

    Qmp(Path path) throws IOException {
        socket = SocketChannel.open(UnixDomainSocketAddress.of(path));
        in = new BufferedReader(new InputStreamReader(Channels.newInputStream(socket), StandardCharsets.UTF_8));
        out = Channels.newOutputStream(socket);
        in.readLine(); // greeting
        execute("{\"execute\":\"qmp_capabilities\"}");
    }

    /** Sends a command and returns its response line; an error response throws. */
    String execute(String command) throws IOException {
        out.write((command + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        while (true) {
            String line = in.readLine();
            if (line == null) {
                throw new IOException("QMP closed while waiting for the answer to " + command);
            }
            if (line.startsWith("{\"return\"")) {
                return line;
            }
            if (line.startsWith("{\"error\"")) {
                throw new IOException("QMP error for " + command + ": " + line);
            }
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
