package io.dwcp.migration.stream;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;

/** Where a {@link MigrationStreamWriter} puts bytes. */
@FunctionalInterface
public interface ByteSink {
    void write(byte[] bytes, int offset, int length) throws IOException;

    static ByteSink of(OutputStream out) {
        requireNonNull(out, "out is null");
        return out::write;
    }

    static ByteSink of(WritableByteChannel channel) {
        requireNonNull(channel, "channel is null");
        return (bytes, offset, length) -> {
            ByteBuffer buffer = ByteBuffer.wrap(bytes, offset, length);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        };
    }
}
