package io.dwcp.hde;

import static io.dwcp.hde.HdeFrame.HEADER_LENGTH;
import static io.dwcp.hde.HdeFrame.PAGE_SIZE;
import static java.util.Objects.requireNonNull;

import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdDictContentType;
import com.github.luben.zstd.ZstdDictDecompress;
import com.github.luben.zstd.ZstdException;
import io.dwcp.migration.stream.MigrationStreamWriter;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The destination side of HDE: reads the {@link HdeFrame}s of one stream and hands out, in order,
 * each page's record header and exact 4096 bytes, and every other byte, so that {@link
 * MigrationStreamWriter} rebuilds the bytes QEMU wrote ({@link #toWriter}).
 *
 * <p>Input may be split anywhere: {@link #feed} keeps a partial frame until the rest arrives (a
 * whole header first, then a whole payload). Anything wrong — a corrupt frame, a lost or
 * reordered one, a reference to a page it does not hold, a page whose content does not match its
 * hash — throws {@link HdeDecodeException}; the decoder then refuses further input. Lengths are
 * checked against their limits and against the bytes present before anything is sized from them:
 * the decoder holds at most one maximum-size frame of input, and a compressed body's buffer grows
 * with what the payload really decompresses to ({@code HdeFuzzTest} holds it to that). One thread;
 * not thread-safe.
 */
public final class HdeDecoder implements Closeable {
    private static final byte[] ZERO_PAGE = new byte[PAGE_SIZE];

    /** Where decoded bytes go, in stream order. Arrays are valid only during the call and must not be modified. */
    public interface Sink {
        /**
         * A page: its record header (possibly empty) then its 4096 bytes
         * {@code content[contentOffset .. contentOffset + 4096)}.
         */
        void page(byte[] header, int headerOffset, int headerLength, byte[] content, int contentOffset)
                throws IOException;

        /**
         * A page with its RAM block's name ("" when the source did not know it) and offset and its
         * content hash ({@code null} for a zero page), which the decoder verified or computed: by
         * default {@link #page(byte[], int, int, byte[], int)}.
         */
        default void page(
                String blockName,
                long pageOffset,
                PageHash hash,
                byte[] header,
                int headerOffset,
                int headerLength,
                byte[] content,
                int contentOffset)
                throws IOException {
            page(header, headerOffset, headerLength, content, contentOffset);
        }

        void raw(byte[] bytes, int offset, int length) throws IOException;
    }

    /** A sink that rebuilds the stream with {@link MigrationStreamWriter#writeRecord} and {@link MigrationStreamWriter#writeRaw}. */
    public static Sink toWriter(MigrationStreamWriter writer) {
        requireNonNull(writer, "writer is null");
        return new Sink() {
            @Override
            public void page(byte[] header, int headerOffset, int headerLength, byte[] content, int contentOffset)
                    throws IOException {
                writer.writeRecord(header, headerOffset, headerLength, content, contentOffset, PAGE_SIZE);
            }

            @Override
            public void raw(byte[] bytes, int offset, int length) throws IOException {
                writer.writeRaw(bytes, offset, length);
            }
        };
    }

    private final HdeStats stats;
    private final Sink sink;
    private final List<Baseline> offeredBaselines;
    private final int channel;
    private final SessionCaches session;
    private final int maxDeltaCacheEntries;
    private final int maxHashCacheEntries;
    private final int maxZstdWindowLog;
    private final PageHasher hasher = new PageHasher();
    private final CRC32C crc = new CRC32C();
    private final ZstdDecompressCtx zstd = new ZstdDecompressCtx();
    private final ZstdDecompressCtx zstdWithDictionary = new ZstdDecompressCtx();
    /** The context of ZSTD_STREAM frames (created at the first), and whether the next may continue it. */
    private ZstdDecompressCtx stream;
    /** Decompresses BASE_ZSTD records, each with its base as the dictionary. */
    private final ZstdDecompressCtx baseZstd = new ZstdDecompressCtx();

    private boolean streamLive;
    /** What the START frame allowed: 0, no ZSTD_STREAM frames. */
    private int zstdWindowLog;

    private final List<String> blocks = new ArrayList<>();
    private final List<Baseline> baselines = new ArrayList<>();

    private LruCache<PageKey, HeldPage> previousVersions;
    private LruCache<PageHash, HeldPage> hashes;
    /**
     * The contents of the pages the caches hold, and of the page being decoded: each cache's
     * capacity and one more place (see {@link PageSlab}, and {@link HeldPage} for the places' use).
     */
    private PageSlab contents;
    /** Places no page holds any more, then those never used (from {@link #unusedPlace}). */
    private int[] freePlaces;

    private int freePlaceCount;
    private int unusedPlace;
    /** A page from a baseline given to zstd as its dictionary (it takes an array of the page alone). */
    private final byte[] zstdBase = new byte[PAGE_SIZE];

    private ZstdDictDecompress dictionary;
    private int dictionaryNumber;

    private byte[] input = new byte[64 << 10];
    private int inputStart;
    private int inputEnd;
    /** Stream offset of input[inputStart]. */
    private long streamOffset;

    private long sequence;
    /** Decompressed bodies: grows with what payloads really decompress to, never past {@link HdeFrame#MAX_BODY_LENGTH}. */
    private byte[] body = new byte[0];

    private static final int INITIAL_BODY_CAPACITY = 64 << 10;
    private Exception failure;
    private boolean closed;

    /**
     * @param config this host's limits: a START frame asking for larger caches is refused
     * @param baselines the baselines this host announced; a START frame names those the stream uses
     */
    public HdeDecoder(HdeConfig config, HdeStats stats, List<? extends Baseline> baselines, Sink sink) {
        this(config, stats, baselines, sink, 0);
    }

    /**
     * The decoder of a session's QEMU connection {@code channel} (0 for the first): a START frame
     * asking for more than that connection's share of this host's caches ({@link
     * HdeFrame#connectionCacheEntries}) is refused, so a session holds at most twice them.
     */
    public HdeDecoder(HdeConfig config, HdeStats stats, List<? extends Baseline> baselines, Sink sink, int channel) {
        this(config, stats, baselines, sink, channel, SessionCaches.UNBOUNDED);
    }

    /**
     * As {@link #HdeDecoder(HdeConfig, HdeStats, List, Sink, int)}, and the START frame's caches
     * are taken from {@code session}'s (refused when more than is left of them).
     */
    public HdeDecoder(
            HdeConfig config,
            HdeStats stats,
            List<? extends Baseline> baselines,
            Sink sink,
            int channel,
            SessionCaches session) {
        requireNonNull(config, "config is null");
        this.session = requireNonNull(session, "session is null");
        this.stats = requireNonNull(stats, "stats is null");
        this.sink = requireNonNull(sink, "sink is null");
        this.offeredBaselines = List.copyOf(requireNonNull(baselines, "baselines is null"));
        this.channel = channel;
        this.maxDeltaCacheEntries = HdeFrame.connectionCacheEntries(config.deltaCacheEntries(), channel);
        this.maxHashCacheEntries = HdeFrame.connectionCacheEntries(config.hashCacheEntries(), channel);
        this.maxZstdWindowLog = config.zstdWindowLog();
    }

    public HdeDecoder(HdeConfig config, HdeStats stats, Sink sink) {
        this(config, stats, List.of(), sink);
    }

    /** Decodes the whole frames in what has arrived so far; keeps the rest for the next call. */
    public void feed(byte[] bytes, int offset, int length) throws IOException {
        checkUsable();
        java.util.Objects.checkFromIndexSize(offset, length, bytes.length);
        append(bytes, offset, length);
        try {
            while (decodeNextFrame()) {
                // next frame
            }
        } catch (IOException | RuntimeException e) {
            failure = e;
            throw e;
        }
    }

    /** The stream has ended: a partial frame left over is an error. */
    public void endOfInput() throws HdeDecodeException {
        checkUsable();
        if (inputEnd > inputStart) {
            HdeDecodeException e = error(
                    -1,
                    "frame",
                    "a whole frame before the end of the stream",
                    (inputEnd - inputStart) + " bytes of a partial frame");
            failure = e;
            throw e;
        }
    }

    /** Frames decoded so far. */
    public long frames() {
        return sequence;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        zstd.close();
        zstdWithDictionary.close();
        baseZstd.close();
        if (stream != null) {
            stream.close();
        }
        if (dictionary != null) {
            dictionary.close();
        }
        // the caches hold pages: let them go with the stream (see HdeEncoder#close)
        if (previousVersions != null) {
            previousVersions.clear();
        }
        if (hashes != null) {
            hashes.clear();
        }
        if (contents != null) {
            contents.clear();
        }
    }

    // ---- for tests: the caches the encoder mirrors ----

    List<PageKey> previousVersionKeys() {
        return previousVersions == null ? List.of() : previousVersions.keys();
    }

    List<PageHash> hashKeys() {
        return hashes == null ? List.of() : hashes.keys();
    }

    private void checkUsable() {
        if (closed) {
            throw new IllegalStateException("decoder is closed");
        }
        if (failure != null) {
            throw new IllegalStateException("decoder failed earlier: " + failure.getMessage(), failure);
        }
    }

    private void append(byte[] bytes, int offset, int length) {
        if (input.length - inputEnd < length) {
            int pending = inputEnd - inputStart;
            if (input.length - pending < length) {
                input = Arrays.copyOfRange(
                        input, inputStart, inputStart + Math.max(input.length * 2, pending + length));
            } else {
                System.arraycopy(input, inputStart, input, 0, pending);
            }
            inputStart = 0;
            inputEnd = pending;
        }
        System.arraycopy(bytes, offset, input, inputEnd, length);
        inputEnd += length;
    }

    // ---- frames ----

    private boolean decodeNextFrame() throws IOException {
        int available = inputEnd - inputStart;
        if (available < HEADER_LENGTH) {
            return false;
        }
        int h = inputStart;
        int magic = Bytes.getInt(input, h + HdeFrame.MAGIC_OFFSET);
        if (magic != HdeFrame.MAGIC) {
            throw error(-1, "magic", hex(HdeFrame.MAGIC), hex(magic));
        }
        int type = input[h + HdeFrame.TYPE_OFFSET] & 0xff;
        if (type != HdeFrame.TYPE_START && type != HdeFrame.TYPE_DICTIONARY && type != HdeFrame.TYPE_PAGES) {
            throw error(-1, "type", "START (1), DICTIONARY (2) or PAGES (3)", Integer.toString(type));
        }
        int codec = input[h + HdeFrame.CODEC_OFFSET] & 0xff;
        if (codec > HdeFrame.CODEC_ZSTD_STREAM || (type != HdeFrame.TYPE_PAGES && codec != HdeFrame.CODEC_NONE)) {
            throw error(
                    -1,
                    "codec",
                    type == HdeFrame.TYPE_PAGES
                            ? "NONE (0), ZSTD (1), ZSTD_DICTIONARY (2) or ZSTD_STREAM (3)"
                            : "NONE (0) for " + HdeFrame.typeName(type),
                    Integer.toString(codec));
        }
        int flags = input[h + HdeFrame.FLAGS_OFFSET] & 0xff;
        if (codec == HdeFrame.CODEC_ZSTD_STREAM ? (flags & ~HdeFrame.FLAG_NEW_CONTEXT) != 0 : flags != 0) {
            throw error(
                    -1,
                    "flags",
                    codec == HdeFrame.CODEC_ZSTD_STREAM ? "0 or 1 (NEW_CONTEXT) for ZSTD_STREAM" : "0",
                    Integer.toString(flags));
        }
        int frameSequence = Bytes.getInt(input, h + HdeFrame.SEQUENCE_OFFSET);
        if (frameSequence != (int) sequence) {
            throw error(-1, "sequence", Long.toString(sequence), Integer.toUnsignedString(frameSequence));
        }
        int records = Bytes.getInt(input, h + HdeFrame.RECORDS_OFFSET);
        int bodyLength = Bytes.getInt(input, h + HdeFrame.BODY_LENGTH_OFFSET);
        if (bodyLength < 0 || bodyLength > HdeFrame.MAX_BODY_LENGTH) {
            throw error(-1, "bodyLength", "at most " + HdeFrame.MAX_BODY_LENGTH, Integer.toUnsignedString(bodyLength));
        }
        if (records < 0 || records > bodyLength || (type != HdeFrame.TYPE_PAGES && records != 0)) {
            throw error(
                    -1,
                    "records",
                    type == HdeFrame.TYPE_PAGES
                            ? "at most bodyLength (" + bodyLength + ")"
                            : "0 for " + HdeFrame.typeName(type),
                    Integer.toUnsignedString(records));
        }
        int payloadLength = Bytes.getInt(input, h + HdeFrame.PAYLOAD_LENGTH_OFFSET);
        if (payloadLength < 0 || payloadLength > HdeFrame.MAX_PAYLOAD_LENGTH) {
            throw error(
                    -1,
                    "payloadLength",
                    "at most " + HdeFrame.MAX_PAYLOAD_LENGTH,
                    Integer.toUnsignedString(payloadLength));
        }
        if (codec == HdeFrame.CODEC_NONE && payloadLength != bodyLength) {
            throw error(
                    -1,
                    "payloadLength",
                    "bodyLength (" + bodyLength + ") for codec NONE",
                    Integer.toString(payloadLength));
        }
        if (available < HEADER_LENGTH + payloadLength) {
            return false;
        }
        long start = System.nanoTime();
        int payload = h + HEADER_LENGTH;
        crc.reset();
        crc.update(input, h, HdeFrame.CRC_OFFSET);
        crc.update(input, payload, payloadLength);
        int expectedCrc = (int) crc.getValue();
        int foundCrc = Bytes.getInt(input, h + HdeFrame.CRC_OFFSET);
        if (foundCrc != expectedCrc) {
            throw error(-1, "crc", hex(expectedCrc), hex(foundCrc));
        }
        if (sequence == 0 && type != HdeFrame.TYPE_START) {
            throw error(-1, "type", "START (the first frame of a stream)", HdeFrame.typeName(type));
        }
        if (sequence != 0 && type == HdeFrame.TYPE_START) {
            throw error(-1, "type", "DICTIONARY or PAGES (START only as the first frame)", "START");
        }
        long output = 0;
        switch (type) {
            case HdeFrame.TYPE_START -> readStart(input, payload, payloadLength);
            case HdeFrame.TYPE_DICTIONARY -> readDictionary(input, payload, payloadLength);
            default -> output = readPages(codec, flags, records, payload, payloadLength, bodyLength);
        }
        int frameLength = HEADER_LENGTH + payloadLength;
        inputStart += frameLength;
        streamOffset += frameLength;
        sequence++;
        stats.frameDecoded(frameLength, output, System.nanoTime() - start);
        return true;
    }

    private void readStart(byte[] bytes, int at, int length) throws HdeDecodeException {
        int end = at + length;
        if (length < 15) {
            throw error(0, "START body", "at least 15 bytes", length + " bytes");
        }
        int version = Bytes.getInt(bytes, at);
        if (version != HdeFrame.FORMAT_VERSION) {
            throw error(0, "formatVersion", Integer.toString(HdeFrame.FORMAT_VERSION), Integer.toString(version));
        }
        int deltaEntries = Bytes.getInt(bytes, at + 4);
        if (deltaEntries < 0 || deltaEntries > maxDeltaCacheEntries) {
            throw error(
                    4,
                    "deltaCacheEntries",
                    "at most " + maxDeltaCacheEntries + " (" + HdeFrame.connectionCacheShare(channel)
                            + "hde.delta-cache-size of this host)",
                    Integer.toUnsignedString(deltaEntries));
        }
        int hashEntries = Bytes.getInt(bytes, at + 8);
        if (hashEntries < 0 || hashEntries > maxHashCacheEntries) {
            throw error(
                    8,
                    "hashCacheEntries",
                    "at most " + maxHashCacheEntries + " (" + HdeFrame.connectionCacheShare(channel)
                            + "hde.hash-cache-size of this host)",
                    Integer.toUnsignedString(hashEntries));
        }
        if (!session.admit(deltaEntries, hashEntries)) {
            throw error(
                    4,
                    "deltaCacheEntries and hashCacheEntries",
                    "at most what is left of the session's caches: " + session.left(),
                    Integer.toUnsignedString(deltaEntries) + " and " + Integer.toUnsignedString(hashEntries));
        }
        int count = ((bytes[at + 12] & 0xff) << 8) | (bytes[at + 13] & 0xff);
        if (count > HdeFrame.MAX_BASELINES) {
            throw error(12, "baselineCount", "at most " + HdeFrame.MAX_BASELINES, Integer.toString(count));
        }
        int p = at + 14;
        for (int i = 0; i < count; i++) {
            if (p + 2 > end || p + 2 + (((bytes[p] & 0xff) << 8) | (bytes[p + 1] & 0xff)) > end) {
                throw error(p - at, "baseline id " + i, "a length-prefixed id within the body", "the body's end");
            }
            int idLength = ((bytes[p] & 0xff) << 8) | (bytes[p + 1] & 0xff);
            String id = new String(bytes, p + 2, idLength, StandardCharsets.UTF_8);
            Baseline baseline = offeredBaselines.stream()
                    .filter(b -> b.id().equals(id))
                    .findFirst()
                    .orElseThrow(() -> error(
                            0,
                            "baseline",
                            "one of "
                                    + offeredBaselines.stream()
                                            .map(Baseline::id)
                                            .toList() + " (the baselines this host announced)",
                            id));
            baselines.add(baseline);
            p += 2 + idLength;
        }
        if (p + 1 > end) {
            throw error(p - at, "zstdWindowLog", "a byte within the body", "the body's end");
        }
        int windowLog = bytes[p] & 0xff;
        if (windowLog != 0 && windowLog < HdeFrame.MIN_ZSTD_WINDOW_LOG) {
            throw error(
                    p - at,
                    "zstdWindowLog",
                    "0 or " + HdeFrame.MIN_ZSTD_WINDOW_LOG + ".." + HdeFrame.MAX_ZSTD_WINDOW_LOG,
                    Integer.toString(windowLog));
        }
        if (windowLog > maxZstdWindowLog) {
            throw error(
                    p - at,
                    "zstdWindowLog",
                    "at most " + maxZstdWindowLog + " (hde.zstd-window of this host: "
                            + (maxZstdWindowLog == 0 ? "0" : (1L << maxZstdWindowLog) + " bytes") + ")",
                    Integer.toString(windowLog));
        }
        p++;
        if (p != end) {
            throw error(p - at, "START body", "its end", (end - p) + " more bytes");
        }
        zstdWindowLog = windowLog;
        previousVersions = new LruCache<>(deltaEntries, LruCache.PAGE_KEYS, this::release);
        hashes = new LruCache<>(hashEntries, LruCache.PAGE_HASHES, this::release);
        // every page held is held by an entry of a cache, so the entries and the page being decoded
        // never need more places than this
        contents = new PageSlab(deltaEntries + hashEntries + 1);
        freePlaces = new int[64];
        freePlaceCount = 0;
        unusedPlace = 0;
    }

    private void readDictionary(byte[] bytes, int at, int length) throws HdeDecodeException {
        if (length < 5 || length - 4 > HdeFrame.MAX_DICTIONARY_LENGTH) {
            throw error(
                    0,
                    "DICTIONARY body",
                    "a number and 1 to " + HdeFrame.MAX_DICTIONARY_LENGTH + " bytes of dictionary",
                    length + " bytes");
        }
        int number = Bytes.getInt(bytes, at);
        if (number != dictionaryNumber + 1) {
            throw error(
                    0, "dictionaryNumber", Integer.toString(dictionaryNumber + 1), Integer.toUnsignedString(number));
        }
        ZstdDictDecompress loaded;
        try {
            loaded = new ZstdDictDecompress(Arrays.copyOfRange(bytes, at + 4, at + length));
            zstdWithDictionary.loadDict(loaded);
        } catch (ZstdException e) {
            throw error(4, "dictionary", "a zstd dictionary", e.getMessage());
        }
        if (dictionary != null) {
            dictionary.close();
        }
        dictionary = loaded;
        dictionaryNumber = number;
    }

    private long readPages(int codec, int flags, int records, int payload, int payloadLength, int bodyLength)
            throws IOException {
        byte[] bytes;
        int at;
        if (codec != HdeFrame.CODEC_ZSTD_STREAM) {
            // a streamed frame after this one starts a new context: this body is not in the encoder's
            streamLive = false;
        }
        if (codec == HdeFrame.CODEC_NONE) {
            bytes = input;
            at = payload;
        } else if (codec == HdeFrame.CODEC_ZSTD_STREAM) {
            decompressStreamed(flags, payload, payloadLength, bodyLength);
            bytes = body;
            at = 0;
        } else {
            if (codec == HdeFrame.CODEC_ZSTD_DICTIONARY && dictionary == null) {
                throw error(-1, "codec", "ZSTD or NONE (no DICTIONARY frame came before)", "ZSTD_DICTIONARY");
            }
            ZstdDecompressCtx context = codec == HdeFrame.CODEC_ZSTD ? zstd : zstdWithDictionary;
            decompress(context, payload, payloadLength, bodyLength);
            bytes = body;
            at = 0;
        }
        return readRecords(bytes, at, at + bodyLength, records);
    }

    /**
     * Decompresses the payload's one zstd frame into {@link #body}, which grows with the output
     * (doubling, up to bodyLength) instead of being sized from the header's bodyLength: a frame
     * claiming a large body costs memory only as far as its payload really decompresses.
     */
    private void decompress(ZstdDecompressCtx context, int payload, int payloadLength, int bodyLength)
            throws HdeDecodeException {
        ByteBuffer source = ByteBuffer.wrap(input, payload, payloadLength);
        int produced = 0;
        try {
            while (true) {
                ByteBuffer target = bodyTarget(produced, bodyLength);
                int consumedBefore = source.position();
                boolean frameEnded = context.decompressByteBufferStream(target, source);
                boolean progressed = target.position() != produced || source.position() != consumedBefore;
                produced = target.position();
                if (frameEnded) {
                    break;
                }
                // zstd makes progress whenever it can: none means the frame wants more room or more input
                if (!progressed) {
                    throw produced == bodyLength
                            ? error(
                                    -1,
                                    "payload",
                                    "a zstd frame of bodyLength (" + bodyLength + ") bytes",
                                    "a zstd frame of more bytes")
                            : error(
                                    -1,
                                    "payload",
                                    "a whole zstd frame",
                                    "a zstd frame cut short after " + produced + " bytes");
                }
            }
        } catch (ZstdException e) {
            throw error(-1, "payload", "a zstd frame of " + bodyLength + " bytes", "zstd error: " + e.getMessage());
        }
        if (produced != bodyLength) {
            throw error(-1, "payload", "a zstd frame of bodyLength (" + bodyLength + ") bytes", produced + " bytes");
        }
        if (source.hasRemaining()) {
            throw error(-1, "payload", "one zstd frame", source.remaining() + " bytes after the zstd frame");
        }
    }

    /**
     * Decompresses the payload of a ZSTD_STREAM frame into {@link #body} on the stream's context: a
     * new one with flag NEW_CONTEXT, else the one the previous PAGES frame left. The payload must
     * give exactly bodyLength bytes and be consumed whole, without ending its zstd frame. Any error
     * leaves the context unusable (the decoder fails).
     */
    private void decompressStreamed(int flags, int payload, int payloadLength, int bodyLength)
            throws HdeDecodeException {
        if (zstdWindowLog == 0) {
            throw error(-1, "codec", "no ZSTD_STREAM (the START frame's zstdWindowLog is 0)", "ZSTD_STREAM");
        }
        boolean newContext = (flags & HdeFrame.FLAG_NEW_CONTEXT) != 0;
        if (!newContext && !streamLive) {
            throw error(
                    -1,
                    "flags",
                    "NEW_CONTEXT (the PAGES frame before was not a ZSTD_STREAM frame: no context to continue)",
                    Integer.toString(flags));
        }
        streamLive = false;
        try {
            if (newContext) {
                if (stream == null) {
                    stream = new ZstdDecompressCtx();
                } else {
                    stream.reset();
                }
                // a zstd frame asking for a larger window than START announced is refused by zstd
                stream.setLongMax(zstdWindowLog);
            }
        } catch (ZstdException e) {
            throw error(-1, "payload", "a zstd context", "zstd error: " + e.getMessage());
        }
        ByteBuffer source = ByteBuffer.wrap(input, payload, payloadLength);
        int produced = 0;
        try {
            while (source.hasRemaining() || produced < bodyLength) {
                ByteBuffer target = bodyTarget(produced, bodyLength);
                int consumedBefore = source.position();
                boolean frameEnded = stream.decompressByteBufferStream(target, source);
                boolean progressed = target.position() != produced || source.position() != consumedBefore;
                produced = target.position();
                if (frameEnded) {
                    throw error(
                            -1,
                            "payload",
                            "part of a zstd frame that goes on (ZSTD_STREAM)",
                            "the end of a zstd frame after " + produced + " bytes");
                }
                if (!progressed) {
                    throw produced == bodyLength
                            ? error(
                                    -1,
                                    "payload",
                                    "bodyLength (" + bodyLength + ") bytes of the zstd stream",
                                    "more bytes (" + source.remaining() + " bytes of payload left)")
                            : error(
                                    -1,
                                    "payload",
                                    "bodyLength (" + bodyLength + ") bytes of the zstd stream",
                                    "the payload's end after " + produced + " bytes");
                }
            }
        } catch (ZstdException e) {
            throw error(
                    -1,
                    "payload",
                    bodyLength + " bytes of a zstd stream with a window of at most 2^" + zstdWindowLog + " bytes",
                    "zstd error: " + e.getMessage());
        }
        streamLive = true;
    }

    private long readRecords(byte[] bytes, int bodyStart, int end, int records) throws IOException {
        long output = 0;
        int at = bodyStart;
        for (int r = 0; r < records; r++) {
            int recordStart = at;
            if (at >= end) {
                throw error(at - bodyStart, "records", records + " records", r + " records before the body's end");
            }
            int kind = bytes[at++] & 0xff;
            switch (kind) {
                case HdeFrame.RECORD_RAW -> {
                    long length = Varint.read(bytes, at, end);
                    // not at + length > end: a length near 2^63 would overflow the sum
                    if (length < 0 || length > end - at - Varint.length(length)) {
                        throw error(
                                recordStart - bodyStart,
                                "RAW length",
                                "a varint length within the body",
                                describeVarint(length));
                    }
                    at += Varint.length(length);
                    sink.raw(bytes, at, (int) length);
                    at += (int) length;
                    output += length;
                }
                case HdeFrame.RECORD_BLOCK -> at = readBlock(bytes, bodyStart, recordStart, at, end);
                case HdeFrame.RECORD_ZERO,
                        HdeFrame.RECORD_REF,
                        HdeFrame.RECORD_DELTA,
                        HdeFrame.RECORD_PAGE,
                        HdeFrame.RECORD_BASE_DELTA,
                        HdeFrame.RECORD_BASE_ZSTD -> {
                    at = readPage(kind, bytes, bodyStart, recordStart, at, end);
                    output += pageOutput;
                }
                default ->
                    throw error(
                            recordStart - bodyStart,
                            "record kind",
                            "RAW, ZERO, REF, DELTA, PAGE, BLOCK, BASE_DELTA or BASE_ZSTD (1..8)",
                            Integer.toString(kind));
            }
        }
        if (at != end) {
            throw error(at - bodyStart, "body", "its end after " + records + " records", (end - at) + " more bytes");
        }
        return output;
    }

    private int readBlock(byte[] bytes, int bodyStart, int recordStart, int at, int end) throws HdeDecodeException {
        long id = Varint.read(bytes, at, end);
        if (blocks.size() == HdeFrame.MAX_BLOCKS) {
            throw error(
                    recordStart - bodyStart,
                    "BLOCK id",
                    "at most " + HdeFrame.MAX_BLOCKS + " blocks per stream",
                    describeVarint(id));
        }
        if (id != blocks.size()) {
            throw error(
                    recordStart - bodyStart,
                    "BLOCK id",
                    Integer.toString(blocks.size()) + " (the next block number)",
                    describeVarint(id));
        }
        at += Varint.length(id);
        long length = Varint.read(bytes, at, end);
        if (length < 0 || length > 1024 || at + Varint.length(length) + length > end) {
            throw error(
                    recordStart - bodyStart,
                    "BLOCK name length",
                    "at most 1024, within the body",
                    describeVarint(length));
        }
        at += Varint.length(length);
        blocks.add(new String(bytes, at, (int) length, StandardCharsets.UTF_8));
        return at + (int) length;
    }

    /** Bytes the last {@link #readPage} handed out (header + 4096). */
    private long pageOutput;

    private int readPage(int kind, byte[] bytes, int bodyStart, int recordStart, int at, int end) throws IOException {
        int offsetInBody = recordStart - bodyStart;
        long blockId = Varint.read(bytes, at, end);
        if (blockId < 0 || blockId >= blocks.size()) {
            throw error(
                    offsetInBody,
                    "blockId",
                    "a defined block (0.." + (blocks.size() - 1) + ")",
                    describeVarint(blockId));
        }
        at += Varint.length(blockId);
        long pageOffset = Varint.read(bytes, at, end);
        if (pageOffset < 0) {
            throw error(offsetInBody, "page offset", "a varint within the body", describeVarint(pageOffset));
        }
        at += Varint.length(pageOffset);
        long headerLength = Varint.read(bytes, at, end);
        if (headerLength < 0
                || headerLength > HdeEncoder.MAX_PAGE_HEADER
                || at + Varint.length(headerLength) + headerLength > end) {
            throw error(
                    offsetInBody,
                    "header length",
                    "at most " + HdeEncoder.MAX_PAGE_HEADER + ", within the body",
                    describeVarint(headerLength));
        }
        at += Varint.length(headerLength);
        int header = at;
        at += (int) headerLength;
        PageKey key = new PageKey((int) blockId, pageOffset);
        // the page's content: a place of the slab, or the zero page (each kind of record that carries
        // one decodes it into decodedPlace)
        PageHash hash = null;
        switch (kind) {
            case HdeFrame.RECORD_ZERO -> {
                previousVersions.remove(key);
                decodedPlace = -1;
            }
            case HdeFrame.RECORD_REF -> {
                at = readName("REF", bytes, at, end, offsetInBody);
                hash = namedHash;
                decodeReference(hash, key, offsetInBody);
            }
            case HdeFrame.RECORD_DELTA -> at = decodeDelta(key, bytes, bodyStart, at, end, offsetInBody);
            case HdeFrame.RECORD_BASE_DELTA -> at = decodeBaseDelta(key, bytes, bodyStart, at, end, offsetInBody);
            case HdeFrame.RECORD_BASE_ZSTD -> at = decodeBaseZstd(key, bytes, at, end, offsetInBody);
            default -> {
                if (at + PAGE_SIZE > end) {
                    throw error(offsetInBody, "PAGE content", "4096 bytes within the body", (end - at) + " bytes");
                }
                decodedPlace = newPlace();
                System.arraycopy(bytes, at, contents.array(decodedPlace), PageSlab.offset(decodedPlace), PAGE_SIZE);
                at += PAGE_SIZE;
            }
        }
        HeldPage held = null;
        if (kind != HdeFrame.RECORD_ZERO) {
            if (hash == null) {
                hash = hasher.hash(contents.array(decodedPlace), PageSlab.offset(decodedPlace));
            }
            held = keep(key, hash);
        }
        int place = decodedPlace;
        sink.page(
                blocks.get(key.blockId()),
                pageOffset,
                hash,
                bytes,
                header,
                (int) headerLength,
                place < 0 ? ZERO_PAGE : contents.array(place),
                place < 0 ? 0 : PageSlab.offset(place));
        if (held != null && held.references == 0) {
            freePlace(held.place); // no cache holds it (both are of capacity 0)
        }
        pageOutput = headerLength + PAGE_SIZE;
        return at;
    }

    /** The place of the page {@link #readPage} decodes, or -1 for the zero page. */
    private int decodedPlace;

    private void decodeReference(PageHash hash, PageKey key, int offsetInBody) throws IOException {
        HeldPage held = resolve(hash, key, offsetInBody);
        if (held != null) {
            decodedPlace = held.place;
        } else {
            decodedPlace = newPlace();
            System.arraycopy(
                    resolvedArray,
                    resolvedOffset,
                    contents.array(decodedPlace),
                    PageSlab.offset(decodedPlace),
                    PAGE_SIZE);
        }
    }

    private int decodeDelta(PageKey key, byte[] bytes, int bodyStart, int at, int end, int offsetInBody)
            throws IOException {
        long length = Varint.read(bytes, at, end);
        if (length < 0 || length > XorDelta.MAX_LENGTH || at + Varint.length(length) + length > end) {
            throw error(
                    offsetInBody,
                    "DELTA length",
                    "at most " + XorDelta.MAX_LENGTH + ", within the body",
                    describeVarint(length));
        }
        at += Varint.length(length);
        HeldPage previous = previousVersions.peek(key);
        if (previous == null) {
            throw error(
                    offsetInBody,
                    "DELTA previous version",
                    "a previous version of " + describe(key) + " in the cache",
                    "none (never sent, sent as zero, or evicted)");
        }
        int place = newPlace();
        int bad = XorDelta.apply(
                contents.array(previous.place),
                PageSlab.offset(previous.place),
                bytes,
                at,
                (int) length,
                contents.array(place),
                PageSlab.offset(place));
        if (bad >= 0) {
            freePlace(place);
            throw error(bad - bodyStart, "DELTA run", "runs within the page and the delta", "a run past the end");
        }
        decodedPlace = place;
        return at + (int) length;
    }

    private int decodeBaseDelta(PageKey key, byte[] bytes, int bodyStart, int at, int end, int offsetInBody)
            throws IOException {
        at = readBaseRecord(HdeFrame.RECORD_BASE_DELTA, bytes, at, end, offsetInBody);
        int length = baseDataLength;
        resolve(namedHash, key, offsetInBody);
        int place = newPlace();
        int bad = XorDelta.apply(
                resolvedArray, resolvedOffset, bytes, at, length, contents.array(place), PageSlab.offset(place));
        if (bad >= 0) {
            freePlace(place);
            throw error(bad - bodyStart, "BASE_DELTA run", "runs within the page and the delta", "a run past the end");
        }
        decodedPlace = place;
        return at + length;
    }

    private int decodeBaseZstd(PageKey key, byte[] bytes, int at, int end, int offsetInBody) throws IOException {
        at = readBaseRecord(HdeFrame.RECORD_BASE_ZSTD, bytes, at, end, offsetInBody);
        int length = baseDataLength;
        resolve(namedHash, key, offsetInBody);
        byte[] base = resolvedArray;
        if (resolvedOffset != 0 || base.length != PAGE_SIZE) {
            // zstd takes a dictionary as a whole array
            System.arraycopy(resolvedArray, resolvedOffset, zstdBase, 0, PAGE_SIZE);
            base = zstdBase;
        }
        int place = newPlace();
        int decompressed;
        try {
            baseZstd.loadDict(base, ZstdDictContentType.RAW_CONTENT);
            decompressed = baseZstd.decompressByteArray(
                    contents.array(place), PageSlab.offset(place), PAGE_SIZE, bytes, at, length);
        } catch (ZstdException e) {
            freePlace(place);
            throw error(
                    offsetInBody,
                    "BASE_ZSTD frame",
                    "a zstd frame of 4096 bytes against the base",
                    "zstd error: " + e.getMessage());
        }
        if (decompressed != PAGE_SIZE) {
            freePlace(place);
            throw error(
                    offsetInBody,
                    "BASE_ZSTD frame",
                    "a zstd frame of 4096 bytes against the base",
                    decompressed + " bytes");
        }
        decodedPlace = place;
        return at + length;
    }

    /**
     * Puts the decoded page ({@link #decodedPlace}) in both caches under its key and its content
     * hash; a page whose content the hash cache holds already gives its place back and takes that
     * one. Returns its entry.
     */
    private HeldPage keep(PageKey key, PageHash hash) {
        int place = decodedPlace;
        HeldPage held = hashes.peek(hash);
        if (held == null) {
            held = new HeldPage(place);
        } else if (held.place != place) {
            freePlace(place); // the same bytes are held already: share that place
            decodedPlace = held.place;
        }
        hold(previousVersions, key, held);
        hold(hashes, hash, held);
        return held;
    }

    /** What {@link #resolve} found: the page's array and offset. */
    private byte[] resolvedArray;

    private int resolvedOffset;

    /**
     * Finds the page named {@code hash} in the hash cache or a baseline, into {@link #resolvedArray}
     * and {@link #resolvedOffset}, and checks that its content hashes to it. Returns its cache entry
     * if the hash cache holds it, {@code null} if a baseline does.
     */
    private HeldPage resolve(PageHash hash, PageKey key, int offsetInBody) throws IOException {
        HeldPage held = hashes.peek(hash);
        byte[] content = null;
        int offset = 0;
        String source = "the hash cache";
        if (held != null) {
            content = contents.array(held.place);
            offset = PageSlab.offset(held.place);
        } else {
            for (Baseline baseline : baselines) {
                content = baseline.read(hash);
                if (content != null) {
                    source = "baseline " + baseline.id();
                    break;
                }
            }
        }
        if (content == null) {
            throw error(
                    offsetInBody,
                    "REF hash",
                    "a page this decoder holds (for " + describe(key) + ")",
                    "unknown hash " + hash + " (not in the hash cache"
                            + (baselines.isEmpty()
                                    ? ""
                                    : " nor in "
                                            + baselines.stream()
                                                    .map(Baseline::id)
                                                    .toList()) + ")");
        }
        PageHash actual = hasher.hash(content, offset);
        if (!actual.equals(hash)) {
            throw error(
                    offsetInBody,
                    "REF content",
                    "content hashing to " + hash + " (for " + describe(key) + ")",
                    "content hashing to " + actual + " in " + source);
        }
        resolvedArray = content;
        resolvedOffset = offset;
        return held;
    }

    /**
     * Where a decompressing body continues at {@code produced}: the body buffer, doubled first if
     * it is full and the frame announces more. It doubles past this frame's {@code bodyLength}
     * (never past {@link HdeFrame#MAX_BODY_LENGTH}): grown to the length of each frame, it grew
     * again at almost every frame a little longer than the last, a copy of a MiB each time.
     */
    private ByteBuffer bodyTarget(int produced, int bodyLength) {
        if (produced == body.length && body.length < bodyLength) {
            body = Arrays.copyOf(
                    body, Math.min(HdeFrame.MAX_BODY_LENGTH, Math.max(2 * body.length, INITIAL_BODY_CAPACITY)));
        }
        return ByteBuffer.wrap(body, produced, Math.min(body.length, bodyLength) - produced);
    }

    // ---- page places: each held once however many cache entries name it, reused once none does ----

    /**
     * A page's place in {@link #contents}, with how many entries of both caches refer to it. Places
     * are shared (a page whose content the hash cache holds takes that place), and the sink gets a
     * page only for the duration of its call, so a place no entry refers to is free for the next
     * page.
     */
    private static final class HeldPage {
        final int place;
        int references;

        HeldPage(int place) {
            this.place = place;
        }
    }

    private <K> void hold(LruCache<K, HeldPage> cache, K key, HeldPage page) {
        if (cache.capacity() > 0) {
            page.references++; // before put(): replacing an entry by the same page must not free it
            cache.put(key, page);
        }
    }

    private void release(HeldPage page) {
        if (--page.references == 0) {
            freePlace(page.place);
        }
    }

    /** A place for the page being decoded: one freed, or one never used. */
    private int newPlace() {
        if (freePlaceCount > 0) {
            return freePlaces[--freePlaceCount];
        }
        // within the slab's capacity: every place in use but this one is held by a cache entry
        return unusedPlace++;
    }

    private void freePlace(int place) {
        if (freePlaceCount == freePlaces.length) {
            freePlaces = Arrays.copyOf(freePlaces, freePlaces.length * 2);
        }
        freePlaces[freePlaceCount++] = place;
    }

    /** The length of a BASE_DELTA or BASE_ZSTD record's data: set by {@link #readBaseRecord}. */
    private int baseDataLength;

    /**
     * Reads the version's name and the data's length of a record against a baseline's version
     * ({@code kind} BASE_DELTA or BASE_ZSTD) into {@link #namedHash} and {@link #baseDataLength};
     * returns where the data starts.
     */
    private int readBaseRecord(int recordKind, byte[] bytes, int at, int end, long offsetInBody)
            throws HdeDecodeException {
        boolean zstdFrame = recordKind == HdeFrame.RECORD_BASE_ZSTD;
        String kind = zstdFrame ? "BASE_ZSTD" : "BASE_DELTA";
        long minLength = zstdFrame ? 1 : 0;
        long maxLength = zstdFrame ? HdeFrame.MAX_BASE_ZSTD_LENGTH : XorDelta.MAX_LENGTH;
        String expectedLength = (zstdFrame ? "1.." + maxLength : "at most " + maxLength) + ", within the body";
        at = readName(kind, bytes, at, end, offsetInBody);
        long length = Varint.read(bytes, at, end);
        if (length < minLength || length > maxLength || at + Varint.length(length) + length > end) {
            throw error(offsetInBody, kind + " length", expectedLength, describeVarint(length));
        }
        baseDataLength = (int) length;
        return at + Varint.length(length);
    }

    /** The hash a record's name stands for: set by {@link #readName}. */
    private PageHash namedHash;

    /**
     * Reads a record's content name ({@code kind} REF, BASE_DELTA or BASE_ZSTD) into {@link
     * #namedHash}: a hash as written, or the one at an index into the START frame's baselines'
     * announced hashes. Returns where the record goes on.
     */
    private int readName(String kind, byte[] bytes, int at, int end, long offsetInBody) throws HdeDecodeException {
        long name = Varint.read(bytes, at, end);
        if (name < 0) {
            throw error(offsetInBody, kind + " name", "a varint within the body", describeVarint(name));
        }
        at += Varint.length(name);
        if (name == 0) {
            if (at + PageHash.BYTES > end) {
                throw error(offsetInBody, kind + " hash", "16 bytes within the body", (end - at) + " bytes");
            }
            namedHash = PageHash.read(bytes, at);
            return at + PageHash.BYTES;
        }
        long index = name - 1;
        for (Baseline baseline : baselines) {
            BaselineAnnouncement announced = baseline.announcement();
            if (index < announced.pages()) {
                namedHash = announced.hash((int) index);
                return at;
            }
            index -= announced.pages();
        }
        throw error(
                offsetInBody,
                kind + " name",
                "0 and a hash, or 1.." + (name - 1 - index) + " (an index into the announced hashes of "
                        + baselines.stream().map(Baseline::id).toList() + ")",
                Long.toString(name));
    }

    private String describe(PageKey key) {
        return "block '" + blocks.get(key.blockId()) + "' offset 0x" + Long.toHexString(key.offset());
    }

    private static String describeVarint(long value) {
        return value < 0 ? "a malformed or truncated varint" : Long.toString(value);
    }

    private static String hex(int value) {
        return "0x" + String.format("%08x", value);
    }

    private HdeDecodeException error(long bodyOffset, String field, String expected, String found) {
        return new HdeDecodeException(streamOffset, sequence, bodyOffset, field, expected, found);
    }
}
