package io.dwcp.hde;

import static java.util.Objects.requireNonNull;

import io.dwcp.codec.CodecException;
import io.dwcp.codec.StreamCodec;
import io.dwcp.codec.StreamDecoder;
import io.dwcp.codec.StreamEncoder;
import io.dwcp.migration.stream.MigrationStreamTokenizer;
import io.dwcp.migration.stream.StreamStatistics;
import io.dwcp.migration.stream.Token;
import io.dwcp.migration.stream.TokenType;
import io.dwcp.migration.stream.TokenizerOptions;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HDE in the tunnel, for one session: one {@link HdeEncoder} per QEMU connection at the source,
 * one {@link HdeDecoder} per connection at the destination (each connection is decoded in its own
 * order, so the caches of each pair stay in step).
 *
 * <p><b>Source.</b> QEMU's bytes go through the lenient {@link MigrationStreamTokenizer}: whole RAM
 * pages (main channel and multifd packets) become HDE page records, every other token a RAW
 * record; frames are zstd-compressed as the link tier says (raw at tier 1). At tier 1 with {@code
 * hde.tier1-pages raw} pages are RAW records too, and the session's baseline recording stops. The tokenizer holds
 * back up to {@link MigrationStreamTokenizer#MAX_CARRY} bytes it cannot tokenize yet; {@link
 * StreamEncoder#flush} sends those as RAW (read through {@link MigrationStreamTokenizer#pending},
 * the codec keeps no copy), and the part of a later token that was already sent is
 * sent again only as its remaining bytes (RAW), so the tokenizer's parsing is untouched and every
 * byte goes exactly once. If the tokenizer ever throws, the rest of the stream goes as RAW.
 *
 * <p><b>Destination.</b> Frames are decoded into the exact bytes QEMU wrote; anything wrong (CRC,
 * sequence, unknown reference, hash mismatch) throws {@link CodecException}, which fails the
 * session before the bytes since the last verified checkpoint reach QEMU.
 */
public final class HdeStreamCodec implements StreamCodec {
    private static final Logger log = LoggerFactory.getLogger(HdeStreamCodec.class);
    private static final int SCRATCH = 64 * 1024;
    /**
     * Capacity of a decoded output buffer: a frame's records go into buffers of this size (one
     * record larger gets a buffer of its own), each handed on when the next record does not fit.
     * Growing one buffer instead copied all that it held at every doubling, and past the
     * allocator's chunk size (4 MiB) took fresh memory from the system for every frame that
     * decoded into more (a zstd frame of a database's pages does), whose page faults cost the
     * destination's lane more than the copies.
     */
    static final int DECODED_CHUNK = 1 << 20;

    private final HdeConfig config;
    /** {@code hde.tier1-pages raw}: read once, asked per page. */
    private final boolean tier1PagesRaw;

    private final HdeStats stats;
    private final String context;
    private List<BaselineAnnouncement> destinationBaselines;
    private final List<? extends Baseline> heldBaselines;
    private final SessionRecording recording;
    private final Supplier<LinkTier> tier;
    /** Where the encoders train their zstd dictionaries: the daemon's codec threads, not the lane. */
    private final Executor training;

    private final List<Encoder> encoders = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final List<Decoder> decoders = new java.util.concurrent.CopyOnWriteArrayList<>();

    /**
     * @param destinationBaselines source side: what the destination announced (pages referenced by hash)
     * @param heldBaselines destination side: the baselines this host announced
     * @param recording the session's baseline recording, or {@code null}
     * @param tier the link tier now (asked when an encoder starts and at each {@link #adjust})
     * @param training runs dictionary training (CPU-heavy, once per stream) off the session's lane
     */
    HdeStreamCodec(
            HdeConfig config,
            HdeStats stats,
            String context,
            List<BaselineAnnouncement> destinationBaselines,
            List<? extends Baseline> heldBaselines,
            SessionRecording recording,
            Supplier<LinkTier> tier,
            Executor training) {
        this.config = requireNonNull(config, "config is null");
        this.tier1PagesRaw = config.isTier1PagesRaw();
        this.training = requireNonNull(training, "training is null");
        this.stats = requireNonNull(stats, "stats is null");
        this.context = requireNonNull(context, "context is null");
        this.destinationBaselines = List.copyOf(requireNonNull(destinationBaselines, "destinationBaselines is null"));
        this.heldBaselines = List.copyOf(requireNonNull(heldBaselines, "heldBaselines is null"));
        this.recording = recording;
        this.tier = requireNonNull(tier, "tier is null");
    }

    private volatile BaselineVersions versions = BaselineVersions.NONE;

    /** Source side: this host's earlier versions of the pages; applies to the encoders that have not started yet. */
    void baselineVersions(BaselineVersions versions) {
        this.versions = requireNonNull(versions, "versions is null");
    }

    private volatile SessionCaches caches = SessionCaches.UNBOUNDED;

    /**
     * The cache pages the session's connections may hold together (what both ends reserved of their
     * {@code hde.cache-budget}); applies to the encoders that have not started yet and the decoders
     * not made yet.
     */
    void sessionCaches(SessionCaches caches) {
        this.caches = requireNonNull(caches, "caches is null");
    }

    /** Source side: what the destination announced; applies to the encoders that have not started yet. */
    void destinationBaselines(List<BaselineAnnouncement> baselines) {
        this.destinationBaselines = List.copyOf(baselines);
    }

    @Override
    public StreamEncoder newEncoder(int channel) {
        Encoder encoder = new Encoder(channel);
        encoders.add(encoder);
        return encoder;
    }

    @Override
    public StreamDecoder newDecoder(int channel) {
        Decoder decoder = new Decoder(channel);
        decoders.add(decoder);
        return decoder;
    }

    /**
     * Applies the link's tier and rate to every encoder (on the thread that drives them), knowing
     * how long the session has held QEMU back so far because this codec's lane was behind ({@code
     * codecHeldNanos}, cumulative; -1 unknown). Where that took more than {@link #CODEC_HELD} of the
     * last {@link #SUPPLY_WINDOW_NANOS}, QEMU supplied the stream only as fast as the encoder took
     * it: a level "keeping up" with that supply would be keeping up with itself, so the level
     * controller is not told the supply, as on a saturated host.
     */
    void adjust(double linkBytesPerSecond, long codecHeldNanos) {
        LinkTier now = tier.get();
        long nanos = System.nanoTime();
        boolean cpuSaturated = hostCpu.busyShare(nanos) >= CPU_SATURATED;
        boolean encoderLimited = encoderLimited(codecHeld, nanos, codecHeldNanos);
        for (Encoder encoder : encoders) {
            encoder.adjust(now, linkBytesPerSecond, cpuSaturated || encoderLimited);
        }
    }

    /**
     * The share of {@link #SUPPLY_WINDOW_NANOS} beyond which the codec lane's holding QEMU back
     * makes QEMU's supply the encoder's own speed (see {@link #adjust(double, long)}).
     */
    static final double CODEC_HELD = 0.1;

    /** The session's cumulative codec-held time over {@link #SUPPLY_WINDOW_NANOS}. */
    private final CounterWindow codecHeld = new CounterWindow(SUPPLY_WINDOW_NANOS);

    /**
     * Adds the reading {@code heldNanos} (cumulative codec-held time, -1 unknown) taken at {@code
     * nanos} to {@code window}: whether the codec lane held QEMU back more than {@link #CODEC_HELD}
     * of the time since the window's oldest reading (false for the first reading, or unknown).
     */
    static boolean encoderLimited(CounterWindow window, long nanos, long heldNanos) {
        if (heldNanos < 0) {
            return false;
        }
        long[] since = window.add(nanos, heldNanos);
        return nanos > since[0] && (heldNanos - since[1]) > CODEC_HELD * (nanos - since[0]);
    }

    void close() {
        encoders.forEach(Encoder::close);
        decoders.forEach(Decoder::close);
    }

    /** The span over which QEMU's supply and the host's CPU are measured for the level controller. */
    static final long SUPPLY_WINDOW_NANOS = 4_000_000_000L;

    /**
     * The host's CPUs busier than this over {@link #SUPPLY_WINDOW_NANOS}: the encoder's CPU is
     * not free, and the level controller is not told QEMU's supply (see {@link Encoder#adjust}).
     */
    static final double CPU_SATURATED = 0.9;

    private final HostCpu hostCpu = new HostCpu(HostCpu.PROC_STAT, SUPPLY_WINDOW_NANOS);

    private final class Encoder implements StreamEncoder {
        private final int channel;
        private final MigrationStreamTokenizer tokenizer = new MigrationStreamTokenizer(TokenizerOptions.lenient());
        private final byte[] scratch = new byte[SCRATCH];
        private final LevelController controller = new LevelController(config);
        private long fed;
        /** {@link #fed} over the last {@link #SUPPLY_WINDOW_NANOS}: the rate QEMU supplied the stream at. */
        private final CounterWindow supplied = new CounterWindow(SUPPLY_WINDOW_NANOS);
        /** Every byte below this stream offset was given to the HDE encoder. */
        private long sent;
        /** Where the first SECTION_END began (QEMU's switch-over), -1 before. */
        private long switchover = -1;

        private long frameBytes;
        private HdeEncoder encoder;
        private Consumer<ByteBuf> out;
        private boolean tokenizerFailed;
        private boolean closed;

        private Encoder(int channel) {
            this.channel = channel;
        }

        private HdeEncoder encoder() {
            if (encoder == null) {
                int[] entries = caches.take(
                        HdeFrame.connectionCacheEntries(config.deltaCacheEntries(), channel),
                        HdeFrame.connectionCacheEntries(config.hashCacheEntries(), channel));
                encoder = HdeEncoder.writingTo(
                        config, stats, destinationBaselines, sink, training, entries[0], entries[1]);
                encoder.useBaselineVersions(versions);
                encoder.setTier(tier.get());
            }
            return encoder;
        }

        /**
         * A frame in the encoder's buffers: copied once, into a pooled direct buffer (what TLS reads
         * from), whole or as its header and the body it carries as it is.
         */
        private final HdeEncoder.FrameSink sink = new HdeEncoder.FrameSink() {
            @Override
            public void frame(byte[] frame, int length) {
                frameBytes += length;
                out.accept(ByteBufAllocator.DEFAULT.directBuffer(length, length).writeBytes(frame, 0, length));
            }

            @Override
            public void frame(byte[] header, byte[] payload, int payloadLength) {
                int length = header.length + payloadLength;
                frameBytes += length;
                out.accept(ByteBufAllocator.DEFAULT
                        .directBuffer(length, length)
                        .writeBytes(header)
                        .writeBytes(payload, 0, payloadLength));
            }
        };

        @Override
        public void encode(ByteBuf raw, Consumer<ByteBuf> out) {
            this.out = out;
            try {
                HdeEncoder hde = encoder();
                int index = raw.readerIndex();
                int end = raw.writerIndex();
                while (index < end) {
                    int length = Math.min(SCRATCH, end - index);
                    raw.getBytes(index, scratch, 0, length);
                    index += length;
                    fed += length;
                    if (tokenizerFailed) {
                        hde.raw(scratch, 0, length);
                        sent = fed;
                        continue;
                    }
                    try {
                        tokenizer.feed(scratch, 0, length);
                        for (Token token = tokenizer.next(); token != null; token = tokenizer.next()) {
                            token(hde, token);
                        }
                    } catch (RuntimeException e) {
                        if (e instanceof CodecException) {
                            throw e;
                        }
                        tokenizerFailed = true;
                        log.warn(
                                "{} QEMU connection {}: the migration stream tokenizer failed at stream offset {}, sending the rest without page encoding: {}",
                                context,
                                channel,
                                tokenizer.position(),
                                e.toString());
                        sendPending(hde);
                    }
                }
            } finally {
                raw.release();
                this.out = null;
            }
        }

        private void token(HdeEncoder hde, Token token) {
            if (switchover < 0 && token.type() == TokenType.SECTION_END) {
                // QEMU writes the end of its iterable sections (RAM's last dirty pages first) only
                // once it has stopped the guest for the switch-over
                switchover = token.streamOffset();
            }
            long start = token.streamOffset();
            long end = start + token.length();
            if (end <= sent) {
                return;
            }
            if (start < sent) {
                // its first bytes went as RAW at a flush: the rest goes as RAW too
                int skip = (int) (sent - start);
                hde.raw(token.array(), token.offset() + skip, token.length() - skip);
                sent = end;
                return;
            }
            PageHash hash = null;
            boolean page = token.type() == TokenType.RAM_PAGE && token.contentLength() == HdeFrame.PAGE_SIZE;
            if (page && tier1PagesRaw && hde.tier() == LinkTier.LOCAL) {
                // tier 1: the page as QEMU wrote it, in a RAW record, neither hashed nor cached at
                // either end (both ends' caches stay alike: neither sees the page)
                hde.raw(token.array(), token.offset(), token.length());
                if (recording != null) {
                    recording.stop("tier 1, where pages pass as they are (hde.tier1-pages raw)");
                }
                sent = end;
                return;
            }
            if (page) {
                hash = hde.page(
                        token.blockName(),
                        token.pageOffset(),
                        token.array(),
                        token.offset(),
                        token.headerLength(),
                        token.array(),
                        token.contentOffset());
            } else {
                hde.raw(token.array(), token.offset(), token.length());
            }
            if (recording != null) {
                // a page was hashed once, by the encoder
                recording.token(token, hash);
            }
            sent = end;
        }

        /**
         * The bytes fed that were not sent yet, as RAW: what the tokenizer holds back (at a flush), or
         * everything it had not returned in a token (after it failed). Bytes sent here are not sent
         * again: a later token that starts before {@link #sent} goes on from there as RAW.
         */
        private void sendPending(HdeEncoder hde) {
            if (sent < fed) {
                tokenizer.pending(Math.max(sent, tokenizer.position()), hde::raw);
                sent = fed;
            }
        }

        @Override
        public void flush(Consumer<ByteBuf> out) {
            this.out = out;
            try {
                HdeEncoder hde = encoder();
                // held back by the tokenizer: decodable now, re-parsed later without being sent twice
                sendPending(hde);
                hde.flush();
            } finally {
                this.out = null;
            }
        }

        /** {@code supplyUnknown}: the host's CPUs are saturated or the encoder itself limited QEMU's supply. */
        void adjust(LinkTier now, double linkBytesPerSecond, boolean supplyUnknown) {
            if (encoder == null || closed) {
                return;
            }
            encoder.setTier(now);
            // what QEMU supplied over the last few seconds (the buffers before the encoder absorb a
            // burst): a level that keeps up with it does not limit the migration
            long nanos = System.nanoTime();
            long[] since = supplied.add(nanos, fed);
            double supply = nanos > since[0] ? (fed - since[1]) * 1e9 / (nanos - since[0]) : Double.NaN;
            // the first call only starts the supply's measurement: the level stays until it is known
            if (linkBytesPerSecond > 0 && !Double.isNaN(supply)) {
                // a level that keeps up with QEMU's supply leaves it unlimited only if the encoder's
                // CPU is free and the encoder did not set that supply; where every core is busy it
                // comes out of QEMU's and the tunnel's, and where the codec lane held QEMU back QEMU
                // supplied only as fast as the encoder took it: then the link alone decides
                controller.adjust(encoder, stats, linkBytesPerSecond, supplyUnknown ? Double.NaN : supply);
            }
        }

        void close() {
            closed = true;
            if (encoder != null) {
                encoder.close();
            }
        }

        @Override
        public long switchoverOffset() {
            return switchover;
        }

        @Override
        public String summary() {
            StreamStatistics statistics = tokenizer.statistics();
            return String.format(
                    "kind %s, %d bytes in %d HDE frame bytes (%.1f%%), %d pages (%d zero), %d sections, %d multifd packets, %d literal bytes%s",
                    tokenizer.channelKind(),
                    fed,
                    frameBytes,
                    fed == 0 ? 0.0 : 100.0 * frameBytes / fed,
                    statistics.pages(),
                    statistics.zeroPages(),
                    statistics.sections(),
                    statistics.multifdPackets(),
                    statistics.literalBytes(),
                    tokenizerFailed ? " (tokenizer failed: partial)" : "");
        }
    }

    private final class Decoder implements StreamDecoder, HdeDecoder.Sink {
        private final int channel;
        private final HdeDecoder decoder;
        private final byte[] scratch = new byte[SCRATCH];
        private ByteBuf decoded;
        // where decode() hands its output (set while it runs)
        private Consumer<ByteBuf> out;

        private Decoder(int channel) {
            this.channel = channel;
            this.decoder = new HdeDecoder(config, stats, heldBaselines, this, channel, caches);
        }

        @Override
        public void decode(ByteBuf encoded, Consumer<ByteBuf> out) {
            this.out = out;
            try {
                int index = encoded.readerIndex();
                int end = encoded.writerIndex();
                while (index < end) {
                    int length = Math.min(SCRATCH, end - index);
                    encoded.getBytes(index, scratch, 0, length);
                    index += length;
                    decoder.feed(scratch, 0, length);
                }
            } catch (IOException | RuntimeException e) {
                if (decoded != null) {
                    decoded.release();
                    decoded = null;
                }
                throw new CodecException(
                        "HDE decoding of QEMU connection " + channel + " failed: " + e.getMessage(), e);
            } finally {
                encoded.release();
                this.out = null;
            }
            if (decoded != null) {
                out.accept(decoded);
                decoded = null;
            }
        }

        /** The output buffer with room for {@code bytes} more: the current one, or a new one once it is full (that one is handed on). */
        private ByteBuf output(int bytes) {
            if (decoded != null && decoded.writableBytes() < bytes) {
                out.accept(decoded);
                decoded = null;
            }
            if (decoded == null) {
                // direct and pooled: it is written to QEMU's socket as it is (a heap buffer would be
                // copied there, and a new one zeroed for every frame)
                decoded = ByteBufAllocator.DEFAULT.directBuffer(Math.max(bytes, DECODED_CHUNK));
            }
            return decoded;
        }

        @Override
        public void page(
                String blockName,
                long pageOffset,
                PageHash hash,
                byte[] header,
                int headerOffset,
                int headerLength,
                byte[] content,
                int contentOffset) {
            output(headerLength + HdeFrame.PAGE_SIZE)
                    .writeBytes(header, headerOffset, headerLength)
                    .writeBytes(content, contentOffset, HdeFrame.PAGE_SIZE);
            if (recording != null) {
                recording.page(blockName, pageOffset, content, contentOffset, hash);
            }
        }

        @Override
        public void page(byte[] header, int headerOffset, int headerLength, byte[] content, int contentOffset) {
            page(null, -1, null, header, headerOffset, headerLength, content, contentOffset);
        }

        @Override
        public void raw(byte[] bytes, int offset, int length) {
            output(length).writeBytes(bytes, offset, length);
        }

        void close() {
            decoder.close();
        }
    }
}
