package io.dwcp.migration.stream;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;

/** Whole-channel helpers over {@link MigrationStreamTokenizer} and {@link MigrationStreamWriter}. */
public final class MigrationStreams {
    private MigrationStreams() {}

    /** Receives each token; the token is valid only during the call. */
    @FunctionalInterface
    public interface TokenConsumer {
        void accept(Token token) throws IOException;
    }

    /**
     * Tokenizes a whole channel from {@code in} in pieces of {@code bufferSize} bytes, handing each
     * token to {@code consumer}, and returns the channel's statistics.
     */
    public static StreamStatistics tokenize(
            InputStream in, TokenizerOptions options, int bufferSize, TokenConsumer consumer) throws IOException {
        requireNonNull(in, "in is null");
        requireNonNull(consumer, "consumer is null");
        MigrationStreamTokenizer tokenizer = new MigrationStreamTokenizer(options);
        byte[] buffer = new byte[bufferSize];
        int n;
        while ((n = in.read(buffer)) >= 0) {
            tokenizer.feed(buffer, 0, n);
            for (Token token = tokenizer.next(); token != null; token = tokenizer.next()) {
                consumer.accept(token);
            }
        }
        tokenizer.endOfInput();
        for (Token token = tokenizer.next(); token != null; token = tokenizer.next()) {
            consumer.accept(token);
        }
        return tokenizer.statistics();
    }

    /** Tokenizes {@code in} and writes the tokens back to {@code sink}: the output equals the input. */
    public static StreamStatistics copy(InputStream in, ByteSink sink, TokenizerOptions options) throws IOException {
        MigrationStreamWriter writer = new MigrationStreamWriter(sink);
        return tokenize(in, options, 1 << 16, writer::write);
    }
}
