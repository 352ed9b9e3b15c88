package io.dwcp.hde;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * An encoder wired to a decoder in memory: every frame is decoded as soon as it is emitted. Keeps
 * what went in (the original bytes) and what came out, and the frames.
 */
final class Loopback implements Closeable {
    final HdeStats stats = new HdeStats();
    final HdeEncoder encoder;
    final HdeDecoder decoder;
    final ByteArrayOutputStream original = new ByteArrayOutputStream();
    final ByteArrayOutputStream decoded = new ByteArrayOutputStream();
    final List<byte[]> frames = new ArrayList<>();
    long frameBytes;
    private final boolean keepFrames;

    Loopback(HdeConfig config) {
        this(config, List.of(), List.of(), false);
    }

    Loopback(
            HdeConfig config, List<BaselineAnnouncement> announced, List<? extends Baseline> held, boolean keepFrames) {
        this.keepFrames = keepFrames;
        this.decoder = new HdeDecoder(config, stats, held, new HdeDecoder.Sink() {
            @Override
            public void page(byte[] header, int headerOffset, int headerLength, byte[] content, int contentOffset) {
                decoded.write(header, headerOffset, headerLength);
                decoded.write(content, contentOffset, HdeFrame.PAGE_SIZE);
            }

            @Override
            public void raw(byte[] bytes, int offset, int length) {
                decoded.write(bytes, offset, length);
            }
        });
        // dictionary training on the encoding thread: the frames are the same on every run
        this.encoder = new HdeEncoder(
                config,
                stats,
                announced,
                frame -> {
                    frameBytes += frame.length;
                    if (this.keepFrames) {
                        frames.add(frame);
                    }
                    try {
                        decoder.feed(frame, 0, frame.length);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                },
                Runnable::run);
    }

    void page(String block, long offset, byte[] header, byte[] content) {
        original.write(header, 0, header.length);
        original.write(content, 0, content.length);
        encoder.page(block, offset, header, 0, header.length, content, 0);
    }

    void raw(byte[] bytes) {
        original.write(bytes, 0, bytes.length);
        encoder.raw(bytes, 0, bytes.length);
    }

    /** Flushes and checks that both ends hold the same cache entries in the same order. */
    void flushAndCompareCaches() {
        encoder.flush();
        assertEquals(encoder.previousVersionKeys(), decoder.previousVersionKeys(), "previous-version caches differ");
        assertEquals(encoder.hashKeys(), decoder.hashKeys(), "hash caches differ");
    }

    @Override
    public void close() {
        encoder.close();
        decoder.close();
    }
}
