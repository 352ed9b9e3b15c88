package io.dwcp.hde;

/**
 * The HDE wire format: what {@link HdeEncoder} writes and {@link HdeDecoder} reads, one stream per
 * encoder/decoder pair (one QEMU channel), frames back to back. All integers are big-endian
 * unless named varint (unsigned LEB128, shortest form, see {@link Varint}).
 *
 * <h2>Frame</h2>
 * <pre>
 * frame          = header payload
 * header         =                                        ; 28 bytes
 *   be32  magic             0x48444531 "HDE1"
 *   u8    type              1 START | 2 DICTIONARY | 3 PAGES
 *   u8    codec             0 NONE | 1 ZSTD | 2 ZSTD_DICTIONARY (the last DICTIONARY frame's)
 *                           | 3 ZSTD_STREAM (the next part of the stream's zstd context, below)
 *   i8    level             zstd level the payload was compressed at (0 with NONE; informational)
 *   u8    flags             bit 0 NEW_CONTEXT: only with ZSTD_STREAM; other bits 0 (reserved)
 *   be32  sequence          0, 1, 2, ... per stream: a lost, repeated or reordered frame is an error
 *   be32  records           number of records in the body (PAGES), 0 otherwise
 *   be32  bodyLength        the body's length once decompressed (&lt;= {@link #MAX_BODY_LENGTH})
 *   be32  payloadLength     the bytes that follow the header (&lt;= {@link #MAX_PAYLOAD_LENGTH})
 *   be32  crc               CRC-32C of header bytes [0, 24) and of the payload
 * payload        = body                                   ; codec NONE
 *                | zstd-frame(body)                       ; codec ZSTD, ZSTD_DICTIONARY
 *                | zstd-flushed(body)                     ; codec ZSTD_STREAM
 * </pre>
 *
 * <h2>Streamed frames</h2>
 * A ZSTD_STREAM payload is what one zstd context (no dictionary, window at most {@code 2^zstdWindowLog}
 * bytes as the START frame says) writes for the body with end directive FLUSH: the zstd frame it
 * belongs to never ends, so its matches reach back into the bodies of earlier frames. The frame
 * with flag NEW_CONTEXT starts a context (a new zstd frame); a ZSTD_STREAM frame without it
 * continues the context of the PAGES frame right before it, which must be a ZSTD_STREAM frame.
 * So a context's frames decode only all of them, in order: with the sequence numbers and the CRC,
 * a lost, reordered or corrupt frame is an error at that frame, and the decoder refuses every
 * later one. The encoder starts a new context when the level changes (zstd applies a level only
 * to a new frame) and after a body that went as NONE (zstd could not shrink it, or tier 1).
 * DICTIONARY frames do not touch the context.
 *
 * <h2>Bodies</h2>
 * <pre>
 * START body     = be32 formatVersion (7)
 *                  be32 deltaCacheEntries  be32 hashCacheEntries   ; at most this QEMU connection's share
 *                                     ; ({@link #connectionCacheEntries}) of the decoder's own caches
 *                  u16 baselineCount  baselineCount * ( u16 idLength  id[idLength] (UTF-8) )
 *                  u8 zstdWindowLog   ; 0: no ZSTD_STREAM frames; else 20..30, the largest window
 *                                     ; they use (a destination refuses more than its hde.zstd-window)
 *                  ; the first frame of every stream (sequence 0), and only there
 * DICTIONARY body= be32 dictionaryNumber (1, 2, ...)  zstd-dictionary   ; always codec NONE
 * PAGES body     = records * record                       ; exactly {@code records} of them, nothing after
 * record         = 0x01 RAW    varint length  bytes[length]                ; non-page bytes, in stream order
 *                | 0x02 ZERO   page                                        ; level 1: 4096 zero bytes
 *                | 0x03 REF    page  name                                  ; level 2: content the decoder holds
 *                | 0x04 DELTA  page  varint length  xor-delta[length]      ; level 3: see {@link XorDelta}
 *                | 0x05 PAGE   page  content[4096]                         ; level 4
 *                | 0x06 BLOCK  varint blockId  varint nameLength  name[nameLength] (UTF-8)
 *                | 0x07 BASE_DELTA  page  name  varint length  xor-delta[length]
 *                                                          ; level 3 against an earlier version the decoder holds
 *                | 0x08 BASE_ZSTD   page  name  varint length  zstd-frame[length]
 *                                                          ; the same, as one zstd frame (at most
 *                                                          ; {@link #MAX_BASE_ZSTD_LENGTH} bytes) of the page
 *                                                          ; compressed with that version as its dictionary
 *                                                          ; (raw content): content moved within the page
 * page           = varint blockId  varint offset  varint headerLength  header[headerLength]
 * name           = 0x00 hash[16]                           ; content by its hash
 *                | varint n (n &gt;= 1)                         ; the hash at index n - 1 of the START frame's
 *                                                          ; baselines' hashes: each baseline's announced
 *                                                          ; hashes in ascending order, the baselines in order
 * </pre>
 * A {@code name} is how a record says which content it means; the decoder turns an index into the
 * hash it names and goes on as for a hash. An index names exactly one hash of a list both ends hold
 * (the destination announced it), so 3 or 4 bytes say what 16 would (most references of a migration
 * against a baseline are such), and an index past the list's end is an error.
 * {@code header} is the page record's header as QEMU wrote it ({@code be64 offset|flags} and the
 * block name, or nothing for multifd pages), so the decoder rebuilds the exact record. {@code
 * blockId}s are numbered 0, 1, ... by BLOCK records in order of first use (at most {@link
 * #MAX_BLOCKS}); a page names a defined one. {@code hash} is a {@link PageHash}. The decoder hands out, in order, each RAW record's bytes
 * and each page's header followed by its 4096 bytes.
 *
 * <h2>Cache rules</h2>
 * Both ends keep a previous-version cache (page key to content, {@code deltaCacheEntries}) and a
 * content-hash cache (hash to content, {@code hashCacheEntries}; the encoder keeps only the
 * hashes), both {@link LruCache}s, and apply, for every page record in order:
 * <pre>
 * ZERO     remove key from the previous-version cache
 * REF h    (h: the name's hash) resolve h: the hash cache, else the START frame's baselines in order (unknown: error);
 *          the content's hash must be h (else: error)
 * DELTA    previous = the previous-version cache's entry of key (absent: error); content = previous XOR delta
 * BASE_DELTA  base = resolve h as for REF; content = base XOR delta (the source's earlier version of the
 *          page at this address, from a baseline it recorded, that the decoder holds by content)
 * BASE_ZSTD   base = resolve h as for REF; content = the zstd frame decompressed with base as its
 *          dictionary, which must give exactly 4096 bytes (else: error)
 * PAGE     content as sent
 * then, for REF, DELTA, PAGE, BASE_DELTA and BASE_ZSTD: previous-version cache put(key, content), hash cache put(hash(content))
 * </pre>
 * Lookups never change recency; only puts do. So after the same records both ends hold the same
 * keys in the same order, and the encoder references only what the decoder holds.
 */
public final class HdeFrame {
    public static final int PAGE_SIZE = 4096;
    public static final int MAGIC = 0x48444531;
    /**
     * 7: the caches a QEMU connection's START frame asks for are at most its share of the host's
     * ({@link #connectionCacheEntries}; version 5 let every connection ask for all of them, version 6 was a
     * layout of the baseline recording, withdrawn); 5: records name content by an index into the announced
     * baselines (version 4 always by hash);
     * 4: BASE_ZSTD records (version 3 had none; version 2 no zstdWindowLog in the START frame and no
     * ZSTD_STREAM frames; version 1 no BASE_DELTA records); both ends must speak the same version.
     */
    public static final int FORMAT_VERSION = 7;

    /**
     * How many QEMU connections after a session's first get a share of the caches, each
     * 1/{@value} of them; connections beyond get none.
     */
    public static final int CONNECTION_CACHE_SHARES = 8;

    /**
     * The cache entries of a session's QEMU connection {@code channel} (0 for the first), out of
     * {@code entries} (the host's {@code hde.delta-cache-size} or {@code hde.hash-cache-size} in
     * pages): all of them for the first connection (the main channel, which carries every page in
     * a precopy migration), 1/{@value #CONNECTION_CACHE_SHARES} for each of the next
     * {@value #CONNECTION_CACHE_SHARES} (multifd channels, among which QEMU spreads the pages, so
     * that a page's versions rarely meet on one channel's cache anyway), none beyond. So a session
     * never holds more than twice the configured caches, whatever number of channels QEMU opens
     * (each connection with the whole caches put a QEMU 10 multifd migration of a heavily dirtying
     * guest, five connections, past a 768 MiB heap at the destination). Both ends compute the
     * same share: the decoder refuses a START frame that asks for more.
     */
    public static int connectionCacheEntries(int entries, int channel) {
        if (entries < 0 || channel < 0) {
            throw new IllegalArgumentException("entries " + entries + ", channel " + channel);
        }
        if (channel == 0) {
            return entries;
        }
        return channel <= CONNECTION_CACHE_SHARES ? entries / CONNECTION_CACHE_SHARES : 0;
    }

    /** What all of a session's connections hold at most together: {@link #connectionCacheEntries} summed over them. */
    public static int sessionCacheEntries(int entries) {
        return (int) Math.min(
                Integer.MAX_VALUE,
                (long) connectionCacheEntries(entries, 0)
                        + (long) CONNECTION_CACHE_SHARES * connectionCacheEntries(entries, 1));
    }

    /** {@link #connectionCacheEntries}'s share for QEMU connection {@code channel} in words, before "hde.…-size": "" for the first. */
    static String connectionCacheShare(int channel) {
        if (channel == 0) {
            return "";
        }
        return "QEMU connection " + channel + ": "
                + (channel <= CONNECTION_CACHE_SHARES ? "1/" + CONNECTION_CACHE_SHARES + " of " : "none of ");
    }

    static final int MAGIC_OFFSET = 0;
    static final int MAGIC_LENGTH = 4;
    static final int TYPE_OFFSET = MAGIC_OFFSET + MAGIC_LENGTH;
    static final int TYPE_LENGTH = 1;
    static final int CODEC_OFFSET = TYPE_OFFSET + TYPE_LENGTH;
    static final int CODEC_LENGTH = 1;
    static final int LEVEL_OFFSET = CODEC_OFFSET + CODEC_LENGTH;
    static final int LEVEL_LENGTH = 1;
    static final int FLAGS_OFFSET = LEVEL_OFFSET + LEVEL_LENGTH;
    static final int FLAGS_LENGTH = 1;
    static final int SEQUENCE_OFFSET = FLAGS_OFFSET + FLAGS_LENGTH;
    static final int SEQUENCE_LENGTH = 4;
    static final int RECORDS_OFFSET = SEQUENCE_OFFSET + SEQUENCE_LENGTH;
    static final int RECORDS_LENGTH = 4;
    static final int BODY_LENGTH_OFFSET = RECORDS_OFFSET + RECORDS_LENGTH;
    static final int BODY_LENGTH_LENGTH = 4;
    static final int PAYLOAD_LENGTH_OFFSET = BODY_LENGTH_OFFSET + BODY_LENGTH_LENGTH;
    static final int PAYLOAD_LENGTH_LENGTH = 4;
    static final int CRC_OFFSET = PAYLOAD_LENGTH_OFFSET + PAYLOAD_LENGTH_LENGTH;
    static final int CRC_LENGTH = 4;
    public static final int HEADER_LENGTH = CRC_OFFSET + CRC_LENGTH;

    /** The largest body a decoder accepts (an encoder's frame size is at most 4 MiB plus one record). */
    public static final int MAX_BODY_LENGTH = 8 << 20;
    /** The largest payload: zstd's bound for the largest body. */
    public static final int MAX_PAYLOAD_LENGTH = MAX_BODY_LENGTH + (MAX_BODY_LENGTH >> 7) + 1024;
    /** The largest dictionary a decoder accepts. */
    public static final int MAX_DICTIONARY_LENGTH = 1 << 20;

    public static final int MAX_BASELINES = 16;
    /** RAM blocks per stream (QEMU has a few dozen): bounds the decoder's block table. */
    public static final int MAX_BLOCKS = 4096;
    /** The smallest and largest window of ZSTD_STREAM frames: 1 MiB and 1 GiB. */
    public static final int MIN_ZSTD_WINDOW_LOG = 20;

    public static final int MAX_ZSTD_WINDOW_LOG = 30;

    static final int TYPE_START = 1;
    static final int TYPE_DICTIONARY = 2;
    static final int TYPE_PAGES = 3;

    static final int CODEC_NONE = 0;
    static final int CODEC_ZSTD = 1;
    static final int CODEC_ZSTD_DICTIONARY = 2;
    static final int CODEC_ZSTD_STREAM = 3;

    static final int FLAG_NEW_CONTEXT = 0x01;

    static final int RECORD_RAW = 0x01;
    static final int RECORD_ZERO = 0x02;
    static final int RECORD_REF = 0x03;
    static final int RECORD_DELTA = 0x04;
    static final int RECORD_PAGE = 0x05;
    static final int RECORD_BLOCK = 0x06;
    static final int RECORD_BASE_DELTA = 0x07;
    static final int RECORD_BASE_ZSTD = 0x08;

    /** The largest zstd frame of a BASE_ZSTD record: zstd's bound for one page. */
    public static final int MAX_BASE_ZSTD_LENGTH = PAGE_SIZE + (PAGE_SIZE >> 7) + 64;

    private HdeFrame() {}

    static String typeName(int type) {
        return switch (type) {
            case TYPE_START -> "START";
            case TYPE_DICTIONARY -> "DICTIONARY";
            case TYPE_PAGES -> "PAGES";
            default -> "unknown type " + type;
        };
    }
}
