/**
 * HDE, hierarchical delta encoding of guest pages: the source sends each RAM page at the cheapest
 * level the destination can decode exactly (zero token, reference by content hash, XOR delta
 * against its previous version, the rest zstd-compressed), batched into frames; a connection's
 * frames are one zstd stream (or, with {@code hde.zstd-window} 0, each compressed on its own with
 * a trained dictionary).
 *
 * <h2>In the tunnel</h2>
 * {@link io.dwcp.hde.HdeSessionCodecs} (the session handshake: cache sizes and zstd window offered, baselines
 * answered, tier from the measured RTT, baseline recording) and {@link io.dwcp.hde.HdeStreamCodec}
 * (the tunnel's {@code StreamCodec}: tokenizer, flushes that send the tokenizer's held-back bytes
 * as RAW, decode errors as {@code CodecException}) do what follows for every QEMU connection. The tunnel
 * finds them only as {@code SessionCodecs}, bound for {@code codec.mode = hde} by
 * {@link io.dwcp.hde.HdeModule}.
 *
 * <h2>Plugging it into the tunnel</h2>
 * One {@link io.dwcp.hde.HdeEncoder} / {@link io.dwcp.hde.HdeDecoder} pair per ordered stream
 * (per QEMU connection), both fed in stream order on one thread.
 * <pre>{@code
 * // source, per QEMU channel
 * // frames are built in the encoder's own buffer: copy [0, length) before returning; dictionary
 * // training runs on the daemon's codec threads (CodecThreads.background), not the encoding thread
 * HdeEncoder encoder = HdeEncoder.writingTo(config, stats, destinationBaselines,
 *         (frame, length) -> send(copyOf(frame, length)), codecThreads.background());
 * for (Token t; (t = tokenizer.next()) != null; ) {
 *     encoder.token(t);                 // RAM_PAGE -> page(block, offset, header, content); anything else -> raw(bytes)
 * }
 * encoder.flush();                      // before each digest checkpoint and at the end
 * controller.adjust(encoder, stats, linkBytesPerSecond);   // periodically, on the same thread
 *
 * // destination, per channel
 * HdeDecoder decoder = new HdeDecoder(config, stats, heldBaselines, HdeDecoder.toWriter(new MigrationStreamWriter(sink)));
 * decoder.feed(bytes, offset, length);  // frames split anywhere; HdeDecodeException on anything wrong
 * decoder.endOfInput();
 * }</pre>
 * The wire format and the cache rules are in {@link io.dwcp.hde.HdeFrame}; baselines (an earlier
 * copy of a VM's memory on the destination) in {@link io.dwcp.hde.BaselineStore} and {@link
 * io.dwcp.hde.BaselineAnnouncement}; configuration keys ({@code hde.*}) in {@link
 * io.dwcp.hde.HdeConfig}; the level choice in {@link io.dwcp.hde.LevelController}.
 *
 * <h2>Threads</h2>
 * Encoders, decoders, a session's {@code SessionRecording} and its {@link
 * io.dwcp.hde.BaselineRecorder} belong to the session's codec lane (one task at a time on the
 * daemon's {@code dwcp-codec} threads, never an event loop; see {@code io.dwcp.session}); so do
 * making a session's codecs (the newest baselines are opened there), the answer, the link's
 * measurements ({@code linkMeasured}) and closing. So do an encoder's and a decoder's zstd
 * contexts, including the one a connection's streamed frames continue: the tunnel reassembles
 * each QEMU connection's frames in order before its decoder sees them, so each context is fed
 * by one thread at a time in the order its peer wrote. An encoder's zstd dictionary training
 * (CPU-heavy, once per stream, only with {@code hde.zstd-window} 0) runs on the same codec
 * threads outside the lane ({@code
 * CodecThreads.background()}); the encoder takes its result, a {@code CompletableFuture}, on the
 * lane at a later frame. Writing a recording as a
 * baseline (the commit), expiring old baselines and saving their last use run on the single
 * {@code hde-baseline-jobs} thread of {@link io.dwcp.hde.BaselineJobs}, which the daemon starts
 * and closes; the recorder is handed over to it at the commit and never touched by the lane
 * again. A recorder's spool batches are written by its store's {@code hde-baseline-spool} thread
 * (one for all recordings, each recording's batches in order; it ends after a minute without
 * work and starts again with the next batch; a recorder's {@code close}, which the commit calls,
 * waits until its own batches are written): the lane
 * hands it full batches and takes free ones back, a few at most in flight, and waits for all to
 * be written before it reads the spool (compaction, the commit); a failed write is reported to
 * the lane at its next batch. {@link io.dwcp.hde.BaselineStore} (its pins, last-use times and files) is thread-safe
 * (one lock); so are the outcomes {@code BaselineJobs} publishes, read by the control socket.
 * {@link io.dwcp.hde.HdeStats} is thread-safe; the callbacks {@link io.dwcp.hde.HdeMetrics}
 * registers read it at each scrape, on the metrics exporter's thread.
 * {@link io.dwcp.hde.BaselineStore.Listener}s are called on the thread that changed the store (the
 * baseline jobs' thread, the control socket's), under the store's lock: they only hand news on.
 * The daemon's {@link io.dwcp.hde.CacheBudget} is thread-safe (one lock): sessions reserve from it
 * and give back on their lanes, the metrics exporter reads it. A session's {@link
 * io.dwcp.hde.SessionCaches} is shared by its connections' encoders or decoders, each on the
 * session's lane, and is thread-safe too.
 */
package io.dwcp.hde;
