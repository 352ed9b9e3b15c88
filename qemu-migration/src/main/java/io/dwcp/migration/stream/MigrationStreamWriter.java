package io.dwcp.migration.stream;

import static java.util.Objects.requireNonNull;

import java.io.IOException;

/**
 * Turns tokens back into the bytes of the channel.
 *
 * <p>Writing every token of a {@link MigrationStreamTokenizer}, in order, reproduces its input byte
 * for byte. A consumer that replaces page content (a tunnel sending a page by reference) rebuilds
 * the same bytes with {@link #writeRecord}: the record header it received, then the page content.
 */
public final class MigrationStreamWriter {
    private final ByteSink sink;
    private long bytesWritten;

    public MigrationStreamWriter(ByteSink sink) {
        this.sink = requireNonNull(sink, "sink is null");
    }

    /** Writes a token's raw bytes. */
    public void write(Token token) throws IOException {
        sink.write(token.array(), token.offset(), token.length());
        bytesWritten += token.length();
    }

    /**
     * Writes a record from its parts: {@code header} (e.g. a RAM page's {@code be64 offset|flags}
     * and block name; empty for a multifd page) followed by {@code content} (e.g. the 4096 bytes).
     */
    public void writeRecord(
            byte[] header, int headerOffset, int headerLength, byte[] content, int contentOffset, int contentLength)
            throws IOException {
        if (headerLength > 0) {
            sink.write(header, headerOffset, headerLength);
        }
        if (contentLength > 0) {
            sink.write(content, contentOffset, contentLength);
        }
        bytesWritten += headerLength + contentLength;
    }

    /** Writes bytes as they are. */
    public void writeRaw(byte[] bytes, int offset, int length) throws IOException {
        sink.write(bytes, offset, length);
        bytesWritten += length;
    }

    public long bytesWritten() {
        return bytesWritten;
    }
}
