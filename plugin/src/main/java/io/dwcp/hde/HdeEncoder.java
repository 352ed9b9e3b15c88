package io.dwcp.hde;

import static io.dwcp.hde.HdeFrame.HEADER_LENGTH;
import static io.dwcp.hde.HdeFrame.PAGE_SIZE;
import static java.util.Objects.requireNonNull;

import com.github.luben.zstd.EndDirective;
import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDictCompress;
import com.github.luben.zstd.ZstdDictContentType;
import com.github.luben.zstd.ZstdDictTrainer;
import com.github.luben.zstd.ZstdException;
import io.dwcp.migration.stream.Token;
import io.dwcp.migration.stream.TokenType;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The source side of HDE: turns one QEMU channel's pages and other bytes into {@link HdeFrame}s.
 *
 * <p>Give it, in stream order, every {@code RAM_PAGE} token as a page ({@link #page}) and every
 * other byte as raw bytes ({@link #raw}), or simply every token ({@link #token}); call {@link
 * #flush} before each digest checkpoint and at the end of the stream. Each page goes at the
 * cheapest level the destination can decode (see {@link PageLevel}); records are batched into
 * frames of {@code hde.frame-size} bytes, compressed as the tier and level say, and handed to the
 * frame consumer as exact-length arrays. The first frame is START. With {@code hde.zstd-window} set
 * (the default), frames are ZSTD_STREAM frames: one zstd context per encoder, each body compressed
 * with end directive FLUSH, so a frame matches against the bodies before it (see {@link HdeFrame});
 * with it 0, each frame is compressed on its own, and a DICTIONARY frame follows once the first
 * {@code hde.dictionary-sample} bytes of literal pages have been seen and a dictionary trained on
 * them (off the encoding thread); frames after it use it.
 *
 * <p>One thread, in stream order; not thread-safe. The arrays given to {@link #page} and {@link
 * #raw} may be reused once the call returns. {@link #setTier} and {@link #setLevel} may be called
 * between calls (on the same thread) and apply from the next frame.
 */
public final class HdeEncoder implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(HdeEncoder.class);
    private static final byte[] ZERO_PAGE = new byte[PAGE_SIZE];
    /** Largest header of a page record ({@code be64}, u8 length, 255-byte block name, with room to spare). */
    public static final int MAX_PAGE_HEADER = 1024;

    private static final int MAX_PAGE_RECORD = 1
            + 3 * Varint.MAX_LENGTH
            + MAX_PAGE_HEADER
            + 1
            + PageHash.BYTES // the longest content name
            + Varint.MAX_LENGTH
            + Math.max(XorDelta.MAX_LENGTH, HdeFrame.MAX_BASE_ZSTD_LENGTH);
    /**
     * An XOR delta against a baseline's version up to this long goes as it is; beyond, the page is
     * also compressed with that version as a zstd dictionary (content that moved within the page,
     * as a database's page does when a row is rewritten, makes a long XOR delta but a tiny zstd
     * frame).
     */
    static final int BASE_ZSTD_MIN_DELTA = 256;
    /**
     * The largest BASE_ZSTD record sent instead of a whole page: a page of text costs about this
     * much inside a zstd-compressed frame, so a larger record would save nothing.
     */
    static final int BASE_ZSTD_MAX = PAGE_SIZE / 8;
    /** zstd level of BASE_ZSTD records (each page on its own, against a 4 KiB dictionary: level 1 finds the moves). */
    static final int BASE_ZSTD_LEVEL = 1;

    private static final int MAX_BLOCK_NAME = 1024;

    private final HdeStats stats;
    private final FrameSink frames;
    private final List<BaselineAnnouncement> baselines;
    private BaselineVersions versions = BaselineVersions.NONE;
    private boolean versionsFailed;
    private final int frameSize;
    private final int tier2Level;
    private final int tier3InitialLevel;
    private final PageHasher hasher = new PageHasher();
    // pages whose previous version is kept, and the versions at their entries' places
    private final LruCache<PageKey, Void> previousVersions;
    private final PageSlab previousContents;
    private final LruCache<PageHash, Boolean> hashes;
    private final Map<String, Integer> blockIds = new HashMap<>();
    private final CRC32C crc = new CRC32C();
    private final byte[] delta = new byte[XorDelta.MAX_LENGTH];
    /** Compresses a page against a baseline's version (BASE_ZSTD). */
    private final ZstdCompressCtx baseZstd =
            new ZstdCompressCtx().setLevel(BASE_ZSTD_LEVEL).setChecksum(false).setDictID(false);

    private byte[] baseZstdOut = new byte[HdeFrame.MAX_BASE_ZSTD_LENGTH];
    private final ZstdCompressCtx zstd = new ZstdCompressCtx();
    private final Map<Integer, ZstdDictCompress> dictionaryByLevel = new HashMap<>();
    /** log2 of the streamed frames' window, 0: each frame compressed on its own. */
    private final int zstdWindowLog;

    private final boolean zstdLong;
    /** The context of ZSTD_STREAM frames (created at the first), and whether the decoder's is in step with it. */
    private ZstdCompressCtx stream;

    private boolean streamLive;
    private int streamLevel;

    private byte[] body;
    private int bodyLength;
    /**
     * The bytes of the RAW record being gathered, written where they end up: in {@link #body} from
     * {@code bodyLength + rawRoom} on, after room for the record's head (its type and length), which
     * is written when the record ends (and the bytes moved back by what the length's varint did not
     * need: only for records shorter than a frame's worth, see {@link #writePendingRaw}).
     */
    private int pendingRawLength;
    /** Room for a RAW record's head: its type and the varint of the longest length ({@link #frameSize}). */
    private final int rawRoom;
    /** A frame's header, for frames whose payload is the body as it is (codec NONE). */
    private final byte[] header = new byte[HEADER_LENGTH];

    private int records;
    private byte[] compressed = new byte[0];
    private long sequence;
    private boolean started;
    private boolean closed;
    private LinkTier tier;
    private int level;

    private ZstdDictTrainer trainer;
    private final Executor trainingExecutor;
    private CompletableFuture<byte[]> training;
    private final long dictionarySample;
    private final int dictionarySize;
    private long sampledBytes;
    private byte[] dictionary;
    private int dictionaryNumber;
    private ZstdDictCompress loadedDictionary;

    public HdeEncoder(HdeConfig config, HdeStats stats, Consumer<byte[]> frames) {
        this(config, stats, List.of(), frames);
    }

    /**
     * @param baselines what the destination announced it holds; pages with these hashes are sent as
     * references (the decoder must be given the same baselines, in the same order)
     */
    public HdeEncoder(HdeConfig config, HdeStats stats, List<BaselineAnnouncement> baselines, Consumer<byte[]> frames) {
        this(config, stats, baselines, frames, Runnable::run);
    }

    /**
     * @param training runs the dictionary training (some 100 ms to 1 s of CPU, once per stream) off
     * the encoding thread; frames go on without a dictionary until it is done ({@code Runnable::run}
     * trains synchronously, at the frame that completes the sample)
     */
    public HdeEncoder(
            HdeConfig config,
            HdeStats stats,
            List<BaselineAnnouncement> baselines,
            Consumer<byte[]> frames,
            Executor training) {
        this(
                config,
                stats,
                baselines,
                copying(frames),
                training,
                requireNonNull(config, "config is null").deltaCacheEntries(),
                config.hashCacheEntries());
    }

    /**
     * Where frames go without a copy of their own: {@code frame[0, length)} is the encoder's buffer,
     * valid only during the call (the tunnel copies it into a pooled direct buffer at once, so a
     * frame of a megabyte costs no new heap array, no zeroing and no collection).
     */
    @FunctionalInterface
    public interface FrameSink {
        void frame(byte[] frame, int length);

        /**
         * A frame in two pieces, each valid only during the call: its header ({@code header}, all of
         * it) and its payload {@code payload[0, payloadLength)} (a body sent as it is, from the
         * encoder's body buffer: no copy into a frame buffer first). By default joined and passed to
         * {@link #frame(byte[], int)}.
         */
        default void frame(byte[] header, byte[] payload, int payloadLength) {
            byte[] frame = Arrays.copyOf(header, header.length + payloadLength);
            System.arraycopy(payload, 0, frame, header.length, payloadLength);
            frame(frame, frame.length);
        }
    }

    /** An encoder whose frames go to {@code sink} (see {@link FrameSink}); training as in the constructors. */
    public static HdeEncoder writingTo(
            HdeConfig config, HdeStats stats, List<BaselineAnnouncement> baselines, FrameSink sink, Executor training) {
        return writingTo(
                config,
                stats,
                baselines,
                sink,
                training,
                requireNonNull(config, "config is null").deltaCacheEntries(),
                config.hashCacheEntries());
    }

    /**
     * An encoder whose caches hold {@code deltaEntries} and {@code hashEntries} pages (a session's
     * connection: its share, or less when the session's {@link SessionCaches} ran short).
     */
    static HdeEncoder writingTo(
            HdeConfig config,
            HdeStats stats,
            List<BaselineAnnouncement> baselines,
            FrameSink sink,
            Executor training,
            int deltaEntries,
            int hashEntries) {
        return new HdeEncoder(config, stats, baselines, sink, training, deltaEntries, hashEntries);
    }

    private static FrameSink copying(Consumer<byte[]> frames) {
        requireNonNull(frames, "frames is null");
        return (frame, length) -> frames.accept(Arrays.copyOf(frame, length));
    }

    private HdeEncoder(
            HdeConfig config,
            HdeStats stats,
            List<BaselineAnnouncement> baselines,
            FrameSink frames,
            Executor training,
            int deltaEntries,
            int hashEntries) {
        requireNonNull(config, "config is null");
        this.trainingExecutor = requireNonNull(training, "training is null");
        config.validate();
        this.stats = requireNonNull(stats, "stats is null");
        this.frames = requireNonNull(frames, "frames is null");
        this.baselines = List.copyOf(requireNonNull(baselines, "baselines is null"));
        if (this.baselines.size() > HdeFrame.MAX_BASELINES) {
            throw new IllegalArgumentException("at most " + HdeFrame.MAX_BASELINES + " baselines: " + baselines.size());
        }
        this.frameSize = config.getFrameSize().toIntBytes();
        this.tier2Level = config.getTier2Level();
        this.tier3InitialLevel = config.getTier3InitialLevel();
        this.previousVersions = new LruCache<>(deltaEntries, LruCache.PAGE_KEYS);
        this.previousContents = new PageSlab(deltaEntries);
        this.hashes = new LruCache<>(hashEntries, LruCache.PAGE_HASHES);
        this.body = new byte[frameSize + MAX_PAGE_RECORD + MAX_BLOCK_NAME + 32];
        this.rawRoom = 1 + Varint.length(frameSize);
        this.dictionarySize = config.getDictionarySize().toIntBytes();
        this.dictionarySample = config.getDictionarySample().bytes();
        this.zstdWindowLog = config.zstdWindowLog();
        this.zstdLong = config.isZstdLong();
        setTier(config.linkTier());
    }

    /**
     * This host's earlier versions of the VM's pages: a page that is neither referable nor in the
     * previous-version cache goes as a delta against its earlier version when the destination holds
     * that version. Before the first page only.
     */
    public void useBaselineVersions(BaselineVersions versions) {
        if (started) {
            throw new IllegalStateException("baseline versions are given before the first frame");
        }
        this.versions = requireNonNull(versions, "versions is null");
    }

    /** Sets the link tier; the level becomes the tier's default (tier 3: hde.tier3-initial-level). */
    public void setTier(LinkTier tier) {
        requireNonNull(tier, "tier is null");
        if (tier == this.tier) {
            return;
        }
        this.tier = tier;
        this.level = switch (tier) {
            case LOCAL -> 0;
            case REGIONAL -> tier2Level;
            case WAN -> tier3InitialLevel;
        };
    }

    public LinkTier tier() {
        return tier;
    }

    /** Sets the zstd level of the next frames (tiers 2 and 3; tier 1 frames stay raw). */
    public void setLevel(int level) {
        if (level < -7 || level > 22) {
            throw new IllegalArgumentException("zstd level must be between -7 and 22: " + level);
        }
        this.level = level;
    }

    /** The zstd level of the next frames, or {@link HdeStats#NO_COMPRESSION} in tier 1. */
    public int level() {
        return tier == LinkTier.LOCAL ? HdeStats.NO_COMPRESSION : level;
    }

    /** Hands a token on: a whole RAM page as a page, anything else as raw bytes. */
    public void token(Token token) {
        if (token.type() == TokenType.RAM_PAGE && token.contentLength() == PAGE_SIZE) {
            page(
                    token.blockName(),
                    token.pageOffset(),
                    token.array(),
                    token.offset(),
                    token.headerLength(),
                    token.array(),
                    token.contentOffset());
        } else {
            raw(token.array(), token.offset(), token.length());
        }
    }

    /**
     * Encodes one RAM page.
     *
     * @param blockName the RAM block ({@code null}: unknown, e.g. a stream joined midway)
     * @param pageOffset the page's offset in the block
     * @param header the page record's header as QEMU wrote it (empty for multifd pages), at most
     * {@link #MAX_PAGE_HEADER} bytes
     * @param content the page: {@code content[contentOffset .. contentOffset + 4096)}
     * @return the page's content hash, or {@code null} for a zero page (a baseline recording of the
     * same page uses it instead of hashing the page again)
     */
    public PageHash page(
            String blockName,
            long pageOffset,
            byte[] header,
            int headerOffset,
            int headerLength,
            byte[] content,
            int contentOffset) {
        checkOpen();
        if (headerLength < 0 || headerLength > MAX_PAGE_HEADER) {
            throw new IllegalArgumentException(
                    "page header of " + headerLength + " bytes (at most " + MAX_PAGE_HEADER + ")");
        }
        long start = System.nanoTime();
        writePendingRaw();
        int blockId = blockId(blockName == null ? "" : blockName);
        PageKey key = new PageKey(blockId, pageOffset);
        int recordStart = bodyLength;
        PageLevel pageLevel;
        PageHash hash = null;
        if (Arrays.mismatch(content, contentOffset, contentOffset + PAGE_SIZE, ZERO_PAGE, 0, PAGE_SIZE) < 0) {
            pageLevel = PageLevel.ZERO;
            writePageHead(HdeFrame.RECORD_ZERO, key, header, headerOffset, headerLength);
            previousVersions.remove(key);
        } else {
            hash = hasher.hash(content, contentOffset);
            int place = previousVersions.place(key);
            boolean previous = place >= 0;
            int deltaLength = previous
                    ? XorDelta.encode(
                            previousContents.array(place), PageSlab.offset(place), content, contentOffset, delta, 0)
                    : Integer.MAX_VALUE;
            long announced = announcedIndex(hash);
            boolean cached = hashes.contains(hash);
            boolean referable = cached || announced >= 0;
            boolean deltaBeatsReference = previous && deltaLength + Varint.length(deltaLength) <= nameLength(announced);
            if (referable && !deltaBeatsReference) {
                pageLevel = PageLevel.REFERENCE;
                if (!cached) {
                    stats.baselineReference();
                }
                writePageHead(HdeFrame.RECORD_REF, key, header, headerOffset, headerLength);
                writeName(hash, announced);
            } else if (previous && (deltaLength <= PAGE_SIZE / 2 || referable)) {
                // beyond half a page a delta rarely beats the page: the XOR of two unrelated
                // versions compresses worse than either
                pageLevel = PageLevel.DELTA;
                writePageHead(HdeFrame.RECORD_DELTA, key, header, headerOffset, headerLength);
                bodyLength = Varint.write(body, bodyLength, deltaLength);
                System.arraycopy(delta, 0, body, bodyLength, deltaLength);
                bodyLength += deltaLength;
            } else {
                BaselineVersions.Version base = !previous && !referable ? baseVersion(blockName, pageOffset) : null;
                int baseDeltaLength = base == null
                        ? Integer.MAX_VALUE
                        : XorDelta.encode(base.content(), 0, content, contentOffset, delta, 0);
                int baseZstdLength = base == null || baseDeltaLength <= BASE_ZSTD_MIN_DELTA
                        ? -1
                        : compressAgainst(base.content(), content, contentOffset);
                // a zstd record goes as it is (the frame's zstd does not shrink it again), an XOR
                // delta or a page shrinks in the frame: the zstd record must beat that by far
                boolean zstdWins = baseZstdLength > 0
                        && (baseDeltaLength <= PAGE_SIZE / 2
                                ? baseZstdLength * 2 <= baseDeltaLength
                                : baseZstdLength <= BASE_ZSTD_MAX);
                if (zstdWins) {
                    pageLevel = PageLevel.BASELINE_ZSTD;
                    writeBaseRecord(
                            HdeFrame.RECORD_BASE_ZSTD,
                            key,
                            header,
                            headerOffset,
                            headerLength,
                            base.hash(),
                            baseZstdOut,
                            baseZstdLength);
                } else if (baseDeltaLength <= PAGE_SIZE / 2) {
                    pageLevel = PageLevel.BASELINE_DELTA;
                    writeBaseRecord(
                            HdeFrame.RECORD_BASE_DELTA,
                            key,
                            header,
                            headerOffset,
                            headerLength,
                            base.hash(),
                            delta,
                            baseDeltaLength);
                } else {
                    pageLevel = PageLevel.PAGE;
                    writePageHead(HdeFrame.RECORD_PAGE, key, header, headerOffset, headerLength);
                    System.arraycopy(content, contentOffset, body, bodyLength, PAGE_SIZE);
                    bodyLength += PAGE_SIZE;
                    sample(content, contentOffset);
                }
            }
            rememberPreviousVersion(key, content, contentOffset);
            hashes.put(hash, Boolean.TRUE);
        }
        records++;
        stats.page(pageLevel, headerLength + PAGE_SIZE, bodyLength - recordStart);
        stats.input(level(), headerLength + PAGE_SIZE, System.nanoTime() - start);
        if (bodyLength >= frameSize) {
            emitPages();
        }
        return hash;
    }

    /** Encodes bytes that are not a page (section headers, device state, anything else), in order. */
    public void raw(byte[] bytes, int offset, int length) {
        checkOpen();
        java.util.Objects.checkFromIndexSize(offset, length, bytes.length);
        long start = System.nanoTime();
        stats.raw(length, 0);
        int total = length;
        while (length > 0) {
            // consecutive raw bytes (e.g. zero-page records, section headers) share one RAW record;
            // bodyLength < frameSize here (page() and this loop emit a frame that reaches it), so
            // the bytes stay within the body's room past frameSize
            int piece = Math.min(length, Math.max(1, frameSize - bodyLength - pendingRawLength));
            System.arraycopy(bytes, offset, body, bodyLength + rawRoom + pendingRawLength, piece);
            pendingRawLength += piece;
            offset += piece;
            length -= piece;
            if (bodyLength + pendingRawLength >= frameSize) {
                stats.input(level(), 0, System.nanoTime() - start);
                start = System.nanoTime();
                emitPages();
            }
        }
        stats.input(level(), total, System.nanoTime() - start);
    }

    private void writePendingRaw() {
        if (pendingRawLength == 0) {
            return;
        }
        int recordStart = bodyLength;
        int gathered = bodyLength + rawRoom;
        body[bodyLength++] = HdeFrame.RECORD_RAW;
        bodyLength = Varint.write(body, bodyLength, pendingRawLength);
        if (bodyLength != gathered) {
            // a shorter length than the longest: the bytes move back to follow it (shortest varint)
            System.arraycopy(body, gathered, body, bodyLength, pendingRawLength);
        }
        bodyLength += pendingRawLength;
        pendingRawLength = 0;
        records++;
        stats.raw(0, bodyLength - recordStart);
    }

    /** Emits the records given so far (START and DICTIONARY frames first if due). */
    public void flush() {
        checkOpen();
        ensureStarted();
        emitPages();
    }

    /**
     * Uses a dictionary trained elsewhere (e.g. on the VM's image) instead of training one: the
     * DICTIONARY frame is emitted at once and the next frames use it. Only for frames compressed
     * each on its own ({@code hde.zstd-window} 0): streamed frames use no dictionary.
     */
    public void useDictionary(byte[] dictionary) {
        checkOpen();
        requireNonNull(dictionary, "dictionary is null");
        if (zstdWindowLog != 0) {
            throw new IllegalStateException("streamed frames (hde.zstd-window " + (1L << zstdWindowLog)
                    + " bytes) use no dictionary; set hde.zstd-window to 0 for one");
        }
        if (dictionary.length == 0 || dictionary.length > HdeFrame.MAX_DICTIONARY_LENGTH) {
            throw new IllegalArgumentException(
                    "dictionary of " + dictionary.length + " bytes (1.." + HdeFrame.MAX_DICTIONARY_LENGTH + ")");
        }
        trainer = null;
        training = null;
        sampledBytes = Long.MAX_VALUE;
        installDictionary(dictionary.clone());
    }

    /** The dictionary in use, or {@code null}. */
    public byte[] dictionary() {
        return dictionary == null ? null : dictionary.clone();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        zstd.close();
        baseZstd.close();
        if (stream != null) {
            stream.close();
        }
        dictionaryByLevel.values().forEach(ZstdDictCompress::close);
        dictionaryByLevel.clear();
        // the caches hold up to hde.delta-cache-entries pages: let them go with the stream, even
        // while the encoder itself is still referenced (a session kept for its figures)
        previousVersions.clear();
        previousContents.clear();
        hashes.clear();
        // and so do the frame buffers (a frame and a half per encoder, each QEMU connection has one)
        body = new byte[0];
        compressed = new byte[0];
        baseZstdOut = new byte[0];
    }

    // ---- for tests: the caches the decoder must mirror ----

    List<PageKey> previousVersionKeys() {
        return previousVersions.keys();
    }

    List<PageHash> hashKeys() {
        return hashes.keys();
    }

    // ---- records ----

    /** The page's earlier version from this host's baselines, if the decoder holds it too; else null. */
    private BaselineVersions.Version baseVersion(String blockName, long pageOffset) {
        if (versions == BaselineVersions.NONE || versionsFailed) {
            return null;
        }
        try {
            return versions.versionAt(blockName, pageOffset, held -> hashes.contains(held) || inBaselines(held));
        } catch (IOException e) {
            // the page goes whole; so do the rest, rather than failing the same way for each page
            log.warn("earlier page versions unusable for the rest of this stream: {}", e.getMessage());
            versionsFailed = true;
            return null;
        }
    }

    /**
     * The page compressed as one zstd frame with {@code base} as its dictionary, into {@link
     * #baseZstdOut}: its length, or -1 if zstd failed (the page then goes another way).
     */
    private int compressAgainst(byte[] base, byte[] content, int contentOffset) {
        try {
            baseZstd.loadDict(base, ZstdDictContentType.RAW_CONTENT);
            return baseZstd.compressByteArray(baseZstdOut, 0, baseZstdOut.length, content, contentOffset, PAGE_SIZE);
        } catch (ZstdException e) {
            return -1;
        }
    }

    private boolean inBaselines(PageHash hash) {
        return announcedIndex(hash) >= 0;
    }

    /**
     * The hash's index among the announced baselines' hashes (each baseline's in ascending order,
     * the baselines in the START frame's order), or -1: how a record names content the decoder
     * holds in a baseline, in 3 or 4 bytes rather than 16.
     */
    private long announcedIndex(PageHash hash) {
        long first = 0;
        for (BaselineAnnouncement baseline : baselines) {
            int index = baseline.indexOf(hash);
            if (index >= 0) {
                return first + index;
            }
            first += baseline.pages();
        }
        return -1;
    }

    /** Writes a record's content name (see {@link HdeFrame}): the announced index + 1, or 0 and the hash. */
    private void writeName(PageHash hash, long announced) {
        if (announced >= 0) {
            bodyLength = Varint.write(body, bodyLength, announced + 1);
        } else {
            body[bodyLength++] = 0;
            hash.write(body, bodyLength);
            bodyLength += PageHash.BYTES;
        }
    }

    private static int nameLength(long announced) {
        return announced >= 0 ? Varint.length(announced + 1) : 1 + PageHash.BYTES;
    }

    private int blockId(String name) {
        Integer id = blockIds.get(name);
        if (id != null) {
            return id;
        }
        byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
        if (utf8.length > MAX_BLOCK_NAME) {
            throw new IllegalArgumentException(
                    "RAM block name of " + utf8.length + " bytes (at most " + MAX_BLOCK_NAME + ")");
        }
        if (blockIds.size() == HdeFrame.MAX_BLOCKS) {
            throw new IllegalArgumentException("more than " + HdeFrame.MAX_BLOCKS + " RAM blocks in one stream");
        }
        int newId = blockIds.size();
        blockIds.put(name, newId);
        body[bodyLength++] = HdeFrame.RECORD_BLOCK;
        bodyLength = Varint.write(body, bodyLength, newId);
        bodyLength = Varint.write(body, bodyLength, utf8.length);
        System.arraycopy(utf8, 0, body, bodyLength, utf8.length);
        bodyLength += utf8.length;
        records++;
        return newId;
    }

    private void writePageHead(int kind, PageKey key, byte[] header, int headerOffset, int headerLength) {
        body[bodyLength++] = (byte) kind;
        bodyLength = Varint.write(body, bodyLength, key.blockId());
        bodyLength = Varint.write(body, bodyLength, key.offset());
        bodyLength = Varint.write(body, bodyLength, headerLength);
        System.arraycopy(header, headerOffset, body, bodyLength, headerLength);
        bodyLength += headerLength;
    }

    /** A record against a baseline's version: the page's head, the version's hash, {@code data[0, length)} with its length. */
    private void writeBaseRecord(
            int kind,
            PageKey key,
            byte[] header,
            int headerOffset,
            int headerLength,
            PageHash base,
            byte[] data,
            int length) {
        writePageHead(kind, key, header, headerOffset, headerLength);
        writeName(base, announcedIndex(base));
        bodyLength = Varint.write(body, bodyLength, length);
        System.arraycopy(data, 0, body, bodyLength, length);
        bodyLength += length;
    }

    private void rememberPreviousVersion(PageKey key, byte[] content, int contentOffset) {
        if (previousVersions.capacity() == 0) {
            return;
        }
        // the page's own place, or that of the entry evicted for it (the decoder evicts the same one)
        int place = previousVersions.putPlace(key);
        System.arraycopy(content, contentOffset, previousContents.array(place), PageSlab.offset(place), PAGE_SIZE);
    }

    // ---- dictionary ----

    private void sample(byte[] content, int contentOffset) {
        // streamed frames match against the stream itself: a dictionary did not shrink them (HDE
        // bodies of real guests, levels 1 and 3), so none is trained
        if (dictionarySize == 0 || zstdWindowLog != 0 || sampledBytes >= dictionarySample || tier == LinkTier.LOCAL) {
            return;
        }
        if (trainer == null) {
            trainer = new ZstdDictTrainer(Math.toIntExact(dictionarySample), dictionarySize);
        }
        trainer.addSample(Arrays.copyOfRange(content, contentOffset, contentOffset + PAGE_SIZE));
        sampledBytes += PAGE_SIZE;
    }

    /** Starts training once the sample is complete; installs the dictionary once training is done. */
    private void trainDictionaryIfDue() {
        if (trainer != null && sampledBytes >= dictionarySample) {
            ZstdDictTrainer samples = trainer;
            long sampled = sampledBytes;
            trainer = null;
            training = CompletableFuture.supplyAsync(
                    () -> {
                        long start = System.nanoTime();
                        try {
                            byte[] trained = samples.trainSamples();
                            stats.dictionaryTrained(System.nanoTime() - start);
                            log.debug(
                                    "trained a {}-byte zstd dictionary on {} bytes of pages in {} ms",
                                    trained.length,
                                    sampled,
                                    (System.nanoTime() - start) / 1_000_000);
                            return trained;
                        } catch (ZstdException e) {
                            // e.g. incompressible samples: frames go on without a dictionary
                            stats.dictionaryTrainingFailed(System.nanoTime() - start);
                            log.info(
                                    "zstd dictionary training on {} bytes of pages failed ({}); frames are compressed without a dictionary",
                                    sampled,
                                    e.getMessage());
                            return null;
                        }
                    },
                    trainingExecutor);
        }
        if (training != null && training.isDone()) {
            byte[] trained = training.join();
            training = null;
            if (trained != null) {
                installDictionary(trained);
            }
        }
    }

    private void installDictionary(byte[] trained) {
        ensureStarted();
        dictionaryNumber++;
        byte[] frameBody = new byte[4 + trained.length];
        Bytes.putInt(frameBody, 0, dictionaryNumber);
        System.arraycopy(trained, 0, frameBody, 4, trained.length);
        emitControl(HdeFrame.TYPE_DICTIONARY, frameBody);
        dictionary = trained;
        dictionaryByLevel.values().forEach(ZstdDictCompress::close);
        dictionaryByLevel.clear();
        loadedDictionary = null;
    }

    // ---- frames ----

    private void ensureStarted() {
        if (started) {
            return;
        }
        started = true;
        int length = 4 + 4 + 4 + 2 + 1;
        byte[][] ids = new byte[baselines.size()][];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = baselines.get(i).id().getBytes(StandardCharsets.UTF_8);
            length += 2 + ids[i].length;
        }
        byte[] start = new byte[length];
        Bytes.putInt(start, 0, HdeFrame.FORMAT_VERSION);
        Bytes.putInt(start, 4, previousVersions.capacity());
        Bytes.putInt(start, 8, hashes.capacity());
        start[12] = (byte) (ids.length >>> 8);
        start[13] = (byte) ids.length;
        int at = 14;
        for (byte[] id : ids) {
            start[at] = (byte) (id.length >>> 8);
            start[at + 1] = (byte) id.length;
            System.arraycopy(id, 0, start, at + 2, id.length);
            at += 2 + id.length;
        }
        start[at] = (byte) zstdWindowLog;
        emitControl(HdeFrame.TYPE_START, start);
    }

    private void emitControl(int type, byte[] frameBody) {
        byte[] frame = new byte[HEADER_LENGTH + frameBody.length];
        System.arraycopy(frameBody, 0, frame, HEADER_LENGTH, frameBody.length);
        writeHeader(
                frame, frame, HEADER_LENGTH, type, HdeFrame.CODEC_NONE, 0, 0, 0, frameBody.length, frameBody.length);
        stats.controlFrameEncoded(frame.length);
        frames.frame(frame, frame.length);
    }

    private void emitPages() {
        writePendingRaw();
        if (records == 0) {
            return;
        }
        ensureStarted();
        trainDictionaryIfDue();
        long start = System.nanoTime();
        int statsLevel = level();
        // a compressed frame is built in this encoder's own buffer (header, then the payload) and
        // handed on from there: no array per frame
        int bound = (int) Zstd.compressBound(bodyLength);
        if (tier != LinkTier.LOCAL && compressed.length == 0) {
            // room for the longest body this encoder makes, so that it is made once and not again
            // at each frame a little longer than the last
            compressed = new byte[HEADER_LENGTH + (int) Math.max(Zstd.compressBound(body.length), body.length)];
        }
        int frameLength = -1;
        if (tier != LinkTier.LOCAL && zstdWindowLog != 0) {
            frameLength = compressStreamed();
        } else if (tier != LinkTier.LOCAL) {
            int codec = prepareCompressor(level);
            int length = zstd.compressByteArray(compressed, HEADER_LENGTH, bound, body, 0, bodyLength);
            if (length < bodyLength) {
                writeHeader(
                        compressed,
                        compressed,
                        HEADER_LENGTH,
                        HdeFrame.TYPE_PAGES,
                        codec,
                        level,
                        0,
                        records,
                        bodyLength,
                        length);
                frameLength = HEADER_LENGTH + length;
            }
        }
        boolean asItIs = frameLength < 0;
        if (asItIs) {
            // tier 1, or a body zstd could not shrink (random pages): stored as it is, handed on
            // from the body with a header of its own (no copy); the decoder's stream context does
            // not see it, so the next streamed frame starts a new one
            streamLive = false;
            writeHeader(
                    header, body, 0, HdeFrame.TYPE_PAGES, HdeFrame.CODEC_NONE, 0, 0, records, bodyLength, bodyLength);
            frameLength = HEADER_LENGTH + bodyLength;
        }
        stats.frameEncoded(statsLevel, bodyLength, frameLength, System.nanoTime() - start);
        int payloadLength = bodyLength;
        bodyLength = 0;
        records = 0;
        if (asItIs) {
            frames.frame(header, body, payloadLength);
        } else {
            frames.frame(compressed, frameLength);
        }
    }

    /**
     * Compresses the body on the stream's context with end directive FLUSH into {@link #compressed}
     * and writes the header: the frame's length, or -1 when the output would not be shorter than
     * the body (the context has taken the body all the same: it is out of step and starts anew).
     */
    private int compressStreamed() {
        boolean newContext = !streamLive || streamLevel != level;
        if (newContext) {
            // a level applies only from a new zstd frame: a level change starts a new context
            if (stream == null) {
                stream = new ZstdCompressCtx();
            } else {
                stream.reset();
            }
            stream.setLevel(level);
            stream.setWindowLog(zstdWindowLog);
            if (zstdLong) {
                stream.setEnableLongDistanceMatching(Zstd.ParamSwitch.ENABLE);
            }
            streamLevel = level;
        }
        streamLive = false;
        ByteBuffer source = ByteBuffer.wrap(body, 0, bodyLength);
        // room for less than the body: output that reaches the body's length is no gain
        ByteBuffer target = ByteBuffer.wrap(compressed, HEADER_LENGTH, bodyLength - 1);
        while (true) {
            int before = target.position() + source.position();
            if (stream.compressByteBufferStream(target, source, EndDirective.FLUSH)) {
                break;
            }
            if (!target.hasRemaining() || target.position() + source.position() == before) {
                return -1;
            }
        }
        streamLive = true;
        int length = target.position() - HEADER_LENGTH;
        writeHeader(
                compressed,
                compressed,
                HEADER_LENGTH,
                HdeFrame.TYPE_PAGES,
                HdeFrame.CODEC_ZSTD_STREAM,
                level,
                newContext ? HdeFrame.FLAG_NEW_CONTEXT : 0,
                records,
                bodyLength,
                length);
        return HEADER_LENGTH + length;
    }

    private int prepareCompressor(int zstdLevel) {
        if (dictionary == null) {
            zstd.setLevel(zstdLevel);
            return HdeFrame.CODEC_ZSTD;
        }
        // a digested dictionary carries its level's parameters: one per level used
        ZstdDictCompress digested =
                dictionaryByLevel.computeIfAbsent(zstdLevel, l -> new ZstdDictCompress(dictionary, l));
        if (digested != loadedDictionary) {
            zstd.loadDict(digested);
            loadedDictionary = digested;
        }
        zstd.setLevel(zstdLevel);
        return HdeFrame.CODEC_ZSTD_DICTIONARY;
    }

    /** The header into {@code frame[0, HEADER_LENGTH)}, its CRC over the payload {@code payload[payloadOffset, + payloadLength)}. */
    private void writeHeader(
            byte[] frame,
            byte[] payload,
            int payloadOffset,
            int type,
            int codec,
            int zstdLevel,
            int flags,
            int recordCount,
            int bodyBytes,
            int payloadLength) {
        Bytes.putInt(frame, HdeFrame.MAGIC_OFFSET, HdeFrame.MAGIC);
        frame[HdeFrame.TYPE_OFFSET] = (byte) type;
        frame[HdeFrame.CODEC_OFFSET] = (byte) codec;
        frame[HdeFrame.LEVEL_OFFSET] = (byte) (codec == HdeFrame.CODEC_NONE ? 0 : zstdLevel);
        frame[HdeFrame.FLAGS_OFFSET] = (byte) flags;
        Bytes.putInt(frame, HdeFrame.SEQUENCE_OFFSET, (int) sequence++);
        Bytes.putInt(frame, HdeFrame.RECORDS_OFFSET, recordCount);
        Bytes.putInt(frame, HdeFrame.BODY_LENGTH_OFFSET, bodyBytes);
        Bytes.putInt(frame, HdeFrame.PAYLOAD_LENGTH_OFFSET, payloadLength);
        crc.reset();
        crc.update(frame, 0, HdeFrame.CRC_OFFSET);
        crc.update(payload, payloadOffset, payloadLength);
        Bytes.putInt(frame, HdeFrame.CRC_OFFSET, (int) crc.getValue());
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("encoder is closed");
        }
    }
}
