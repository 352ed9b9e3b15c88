package io.dwcp.migration.stream;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * A streaming, lossless tokenizer of one QEMU migration channel (QEMU 7.2 to 10.x, x86, 4 KiB
 * target pages).
 *
 * <h2>Contract</h2>
 * For every byte sequence, the raw bytes of the tokens, in order, are exactly the input: nothing
 * dropped, reordered or invented, whatever the input (well-formed, truncated, unknown, garbage)
 * and wherever it is split into {@link #feed} calls. What the tokenizer does not understand
 * becomes {@link TokenType#LITERAL}. In {@link TokenizerOptions#strict() strict} mode the first
 * such byte throws {@link MalformedStreamException} instead.
 *
 * <h2>Use</h2>
 * <pre>{@code
 * MigrationStreamTokenizer t = new MigrationStreamTokenizer(TokenizerOptions.lenient());
 * while ((n = in.read(buf)) > 0) {
 *     t.feed(buf, 0, n);                  // buf is the caller's; read only until next() returns null
 *     for (Token k; (k = t.next()) != null; ) {
 *         writer.write(k);                // or look at k.type(), k.blockName(), k.content() ...
 *     }
 * }
 * t.endOfInput();
 * for (Token k; (k = t.next()) != null; ) writer.write(k);
 * }</pre>
 * Tokens point into the caller's array whenever they lie wholly in one fed piece (page content is
 * never copied then); an item split across pieces is assembled in a carry buffer of at most
 * {@link #MAX_CARRY} bytes, the whole of the tokenizer's memory besides a 128-entry offset array.
 * One tokenizer reads one channel from one thread; it is not thread-safe.
 *
 * <h2>Main channel grammar</h2>
 * <pre>
 * stream        = be32 0x5145564d ("QEVM")  be32 3
 *                 [ configuration ]  *item
 * configuration = 0x07 be32 len  name[len]  *( 0x05 u8 len idstr[len] be32 version  body )
 *                 ; bodies known by name: configuration/target-page-bits (be32),
 *                 ; configuration/capabilities (be32 n, n * (u8 len, bytes)), configuration/uuid (16 bytes)
 * item          = section | footer | command | 0x00 (EOF) | vmdesc
 * section       = (0x01 START | 0x04 FULL) be32 id  u8 len idstr[len]  be32 instance  be32 version  content
 *               | (0x02 PART  | 0x03 END)  be32 id  content
 * footer        = 0x7e be32 id
 * command       = 0x08 be16 cmd  be16 len  data[len]
 * vmdesc        = 0x06 be32 len  json[len]
 * content       = ram-records                 ; section "ram"
 *               | opaque                      ; any other section: not self-delimiting
 * ram-records   = *record  be64 EOS(0x10)
 * record        = be64 (total | MEM_SIZE 0x04)  *( u8 len idstr[len] be64 used_length [be64 addr] )
 *                 ; until the lengths sum to total; addr only with the x-ignore-shared capability
 *               | be64 MULTIFD_FLUSH(0x200)
 *               | be64 (offset | kind [| CONTINUE 0x20])  [ u8 len idstr[len] ]  payload   ; block named only without CONTINUE
 * payload       = ZERO 0x02: u8 fill | PAGE 0x08: 4096 bytes | XBZRLE 0x40: u8 0x01 be16 n bytes[n] (n &lt;= 4096)
 *               | COMPRESS_PAGE 0x100: be32 n bytes[n] (n &lt;= 4110)
 * </pre>
 * Device sections carry no length (their sizes are only in the VM description at the very end),
 * so their content is {@link TokenType#SECTION_DATA} and the section ends at the first
 * {@code 0x7e <its id>} that is followed by a plausible next item: a START/FULL header with a
 * printable idstr and small ids, a PART/END of a known section, a command, an EOF followed by a
 * VM description (or by the end of the input), or the end of the input. Pages are never looked for
 * inside opaque bytes; only the known structure of the {@code ram} section yields page tokens.
 *
 * <h2>Multifd channel grammar</h2>
 * <pre>
 * channel  = init *packet
 * init     = be32 0x11223344  be32 1  uuid[16]  u8 id  u8[7]  be64[4]             ; 64 bytes
 * packet   = be32 0x11223344  be32 1  be32 flags  rest
 * rest     = ; flags &amp; DEVICE_STATE (0x40), QEMU 10.0+:
 *            idstr[256]  be32 instance  be32 size  data[size]
 *          | ; RAM packet, 7.2 and 9.0+ layouts (7.2 has zeros where 9.0 put zero_pages):
 *            be32 pages_alloc  be32 normal  be32 next_packet_size  be64 packet_num
 *            be32 zero_pages  be32 unused  be64[3] unused  ramblock[256]  be64 offset[128]   ; 1344 bytes in all
 *            data
 * data     = nothing                                  if normal == 0 (next_packet_size is stale in pure SYNC packets)
 *          | normal * 4096 bytes                      if flags &amp; 0x3e == 0 (no compression)
 *          | next_packet_size bytes                   otherwise (zlib/zstd/...: one stream per channel, opaque)
 * </pre>
 * A channel is identified by its first four bytes ({@link ChannelKind}). After a header that does
 * not fit, a lenient tokenizer passes bytes as literals up to the next plausible packet header
 * (magic, version 1, known flags, page counts within the packet, page-aligned offsets, printable
 * block name or idstr).
 */
public final class MigrationStreamTokenizer {
    /** Target page size (x86). */
    public static final int PAGE_SIZE = 4096;
    /** The largest item assembled across pieces: a command with 64 KiB of data. */
    public static final int MAX_CARRY = 5 + 0xffff;

    static final int QEMU_VM_EOF = 0x00;
    static final int QEMU_VM_SECTION_START = 0x01;
    static final int QEMU_VM_SECTION_PART = 0x02;
    static final int QEMU_VM_SECTION_END = 0x03;
    static final int QEMU_VM_SECTION_FULL = 0x04;
    static final int QEMU_VM_SUBSECTION = 0x05;
    static final int QEMU_VM_VMDESCRIPTION = 0x06;
    static final int QEMU_VM_CONFIGURATION = 0x07;
    static final int QEMU_VM_COMMAND = 0x08;
    static final int QEMU_VM_SECTION_FOOTER = 0x7e;
    static final int QEMU_VM_FILE_VERSION = 3;

    static final int RAM_SAVE_FLAG_ZERO = 0x02;
    static final int RAM_SAVE_FLAG_MEM_SIZE = 0x04;
    static final int RAM_SAVE_FLAG_PAGE = 0x08;
    static final int RAM_SAVE_FLAG_EOS = 0x10;
    static final int RAM_SAVE_FLAG_CONTINUE = 0x20;
    static final int RAM_SAVE_FLAG_XBZRLE = 0x40;
    static final int RAM_SAVE_FLAG_COMPRESS_PAGE = 0x100;
    static final int RAM_SAVE_FLAG_MULTIFD_FLUSH = 0x200;
    static final int RAM_FLAGS_MASK = PAGE_SIZE - 1;
    static final int ENCODING_FLAG_XBZRLE = 0x01;
    /** zlib's compressBound(4096): the largest compressed page QEMU accepts. */
    static final int MAX_COMPRESSED_PAGE = 4110;

    static final int MULTIFD_VERSION = 1;
    static final int MULTIFD_INIT_SIZE = 64;
    static final int MULTIFD_FLAG_SYNC = 0x01;
    static final int MULTIFD_FLAG_COMPRESSION_MASK = 0x3e;
    static final int MULTIFD_FLAG_DEVICE_STATE = 0x40;
    /** Header of a RAM packet without its offset array. */
    static final int MULTIFD_PACKET_FIXED = 320;

    static final int MULTIFD_DEVICE_STATE_HEADER = 12 + 256 + 4 + 4;
    static final int MULTIFD_MAX_COMPRESSED = 64 << 20;

    private static final int VALID = -1;
    private static final int INVALID = -2;
    /** A scan found where to resume: dispatch again at the same position. */
    private static final int RESYNCED = -3;

    private static final int MULTIFD_KNOWN_FLAGS = 0x7f;

    private enum State {
        DETECT,
        MAIN_HEADER,
        TOP,
        RAM_RECORD,
        RAM_BLOCK_LIST,
        OPAQUE,
        LOST,
        BODY,
        MULTIFD_INIT,
        MULTIFD_PACKET,
        MULTIFD_PAGES,
        MULTIFD_LOST,
        LITERAL_TO_END
    }

    private final boolean strict;
    private final int pagesPerPacket;
    private final Token token = new Token();
    private final StreamStatistics statistics = new StreamStatistics();

    private byte[] input = new byte[0];
    private int inputPosition;
    private int inputLimit;
    private boolean endOfInput;
    private boolean finished;
    private byte[] carry = new byte[512];
    private int carryPosition;
    private int carryLimit;
    /** Channel offset of the next byte to tokenize. */
    private long streamOffset;
    /** Set by a step that returns 0: bytes needed from its start position. */
    private int need;

    private State state = State.DETECT;
    // main channel
    private final Map<Integer, String> sectionNames = new HashMap<>();
    private int ramSectionId = -1;
    private int currentSectionId = -1;
    private int scanSectionId = -1;
    private boolean configurationAllowed;
    private boolean eofSeen;
    private boolean ignoreShared;
    private long blockListRemaining;
    private String lastBlockName;
    private byte[] lastBlockBytes = new byte[0];
    private BlockStatistics lastBlockStatistics;
    // bodies
    private TokenType bodyType;
    private long bodyRemaining;
    private State bodyNext;
    // multifd
    private final long[] packetOffsets;
    private String packetBlockName;
    private BlockStatistics packetBlockStatistics;
    private int packetPages;
    private int packetPageIndex;
    private final byte[] multifdBlockBytes = new byte[256];
    private int multifdBlockLength = -1;
    private long multifdResyncOffset = -1;

    public MigrationStreamTokenizer(TokenizerOptions options) {
        requireNonNull(options, "options is null");
        this.strict = options.isStrict();
        this.pagesPerPacket = options.pagesPerMultifdPacket();
        this.packetOffsets = new long[pagesPerPacket];
    }

    /** A lenient tokenizer. */
    public MigrationStreamTokenizer() {
        this(TokenizerOptions.lenient());
    }

    /**
     * Hands the next piece of the channel to the tokenizer. The array stays the caller's, but must
     * not change until {@link #next()} has returned {@code null}.
     *
     * @throws IllegalStateException if the previous piece has not been consumed, or after {@link #endOfInput()}
     */
    public void feed(byte[] bytes, int offset, int length) {
        requireNonNull(bytes, "bytes is null");
        if (offset < 0 || length < 0 || offset > bytes.length - length) {
            throw new IndexOutOfBoundsException("offset " + offset + " length " + length + " array " + bytes.length);
        }
        if (endOfInput) {
            throw new IllegalStateException("feed after endOfInput");
        }
        if (inputPosition < inputLimit) {
            throw new IllegalStateException(
                    "feed before the previous piece was consumed (next() must return null first)");
        }
        input = bytes;
        inputPosition = offset;
        inputLimit = offset + length;
    }

    /** Says no more bytes will come: the next calls of {@link #next()} drain what is left. */
    public void endOfInput() {
        endOfInput = true;
    }

    /** True when the end of input was announced and every byte has been returned in a token. */
    public boolean isFinished() {
        return finished;
    }

    public ChannelKind channelKind() {
        return statistics.channelKind;
    }

    /** The counts so far (a live view; read it from the tokenizing thread). */
    public StreamStatistics statistics() {
        return statistics;
    }

    /** The carry buffer's current capacity (never above {@link #MAX_CARRY}): what bounds memory. */
    int carryCapacity() {
        return carry.length;
    }

    /** Bytes returned in tokens so far. */
    public long position() {
        return streamOffset;
    }

    /**
     * Bytes handed in with {@link #feed} and not yet returned in a token: stream offsets
     * [{@link #position()}, {@code position() + pendingLength()}). After {@link #next()} returned
     * {@code null} they are the start of an item the tokenizer holds back until the rest of it
     * arrives (at most {@link #MAX_CARRY} bytes); after {@link #next()} threw, they are everything
     * fed that it had not returned yet.
     */
    public int pendingLength() {
        return (carryLimit - carryPosition) + (inputLimit - inputPosition);
    }

    /**
     * Hands the pending bytes from stream offset {@code from} on to {@code consumer}, in stream
     * order, as at most two slices of the tokenizer's own arrays (valid only during the call; the
     * consumer must not change them). Nothing changes here: the same bytes still come in tokens
     * later. This is how a caller that must send what is held back now (a flush, or giving up
     * tokenizing after a failure) gets those bytes without keeping a copy of its own.
     *
     * @throws IllegalArgumentException if {@code from} is not within [{@link #position()}, {@code position() +
     *     pendingLength()}]
     */
    public void pending(long from, SliceConsumer consumer) {
        requireNonNull(consumer, "consumer is null");
        int carried = carryLimit - carryPosition;
        int unread = inputLimit - inputPosition;
        if (from < streamOffset || from > streamOffset + carried + unread) {
            throw new IllegalArgumentException("offset " + from + " is not within the pending bytes [" + streamOffset
                    + ", " + (streamOffset + carried + unread) + "]");
        }
        int skip = (int) (from - streamOffset);
        if (skip < carried) {
            consumer.accept(carry, carryPosition + skip, carried - skip);
            skip = 0;
        } else {
            skip -= carried;
        }
        if (skip < unread) {
            consumer.accept(input, inputPosition + skip, unread - skip);
        }
    }

    /** Takes a slice of an array: bytes [offset, offset + length) of {@code array}. */
    @FunctionalInterface
    public interface SliceConsumer {
        void accept(byte[] array, int offset, int length);
    }

    /**
     * The next token, or {@code null} when the tokenizer needs the next piece (or, after
     * {@link #endOfInput()}, when all is done). The token is valid until the next call.
     *
     * @throws MalformedStreamException in strict mode, on the first byte that does not fit
     */
    public Token next() {
        while (true) {
            if (carryPosition < carryLimit) {
                int consumed = step(carry, carryPosition, carryLimit, false);
                if (consumed > 0) {
                    carryPosition += consumed;
                    return taken(consumed);
                }
                int missing = need - (carryLimit - carryPosition);
                int available = inputLimit - inputPosition;
                if (available > 0) {
                    appendToCarry(input, inputPosition, Math.min(missing, available));
                    inputPosition += Math.min(missing, available);
                    continue;
                }
                if (!endOfInput) {
                    return null;
                }
                consumed = step(carry, carryPosition, carryLimit, true);
                carryPosition += consumed;
                return taken(consumed);
            }
            if (inputPosition < inputLimit) {
                int consumed = step(input, inputPosition, inputLimit, false);
                if (consumed > 0) {
                    inputPosition += consumed;
                    return taken(consumed);
                }
                appendToCarry(input, inputPosition, inputLimit - inputPosition);
                inputPosition = inputLimit;
                continue;
            }
            if (endOfInput && !finished) {
                finished = true;
                if (strict) {
                    checkComplete();
                }
            }
            return null;
        }
    }

    private Token taken(int consumed) {
        streamOffset += consumed;
        statistics.bytes += consumed;
        statistics.tokenCounts[token.type.ordinal()]++;
        if (carryPosition == carryLimit) {
            carryPosition = 0;
            carryLimit = 0;
        }
        return token;
    }

    private void appendToCarry(byte[] from, int offset, int length) {
        if (carryPosition > 0) {
            System.arraycopy(carry, carryPosition, carry, 0, carryLimit - carryPosition);
            carryLimit -= carryPosition;
            carryPosition = 0;
        }
        if (carryLimit + length > carry.length) {
            int size = Math.min(MAX_CARRY, Math.max(carry.length * 2, carryLimit + length));
            if (carryLimit + length > size) {
                throw new IllegalStateException("carry overflow: " + (carryLimit + length) + " > " + MAX_CARRY);
            }
            carry = Arrays.copyOf(carry, size);
        }
        System.arraycopy(from, offset, carry, carryLimit, length);
        carryLimit += length;
    }

    private void checkComplete() {
        switch (state) {
            case TOP -> {
                if (!eofSeen) {
                    throw new MalformedStreamException(streamOffset, "more sections and QEMU_VM_EOF", "end of input");
                }
            }
            case MULTIFD_PACKET -> {}
            case DETECT -> throw new MalformedStreamException(streamOffset, "a channel magic", "end of input");
            case MAIN_HEADER,
                    RAM_RECORD,
                    RAM_BLOCK_LIST,
                    OPAQUE,
                    LOST,
                    BODY,
                    MULTIFD_INIT,
                    MULTIFD_PAGES,
                    MULTIFD_LOST,
                    LITERAL_TO_END ->
                throw new MalformedStreamException(streamOffset, "the rest of the " + describe(state), "end of input");
        }
    }

    private static String describe(State state) {
        return switch (state) {
            case DETECT -> "channel magic";
            case MAIN_HEADER -> "file header";
            case TOP -> "stream";
            case RAM_RECORD -> "RAM section";
            case RAM_BLOCK_LIST -> "RAM block list";
            case OPAQUE -> "device section";
            case LOST -> "stream";
            case BODY -> "payload";
            case MULTIFD_INIT -> "multifd init packet";
            case MULTIFD_PACKET -> "multifd packet";
            case MULTIFD_PAGES -> "multifd packet pages";
            case MULTIFD_LOST -> "multifd channel";
            case LITERAL_TO_END -> "stream";
        };
    }

    // ------------------------------------------------------------------------------------------
    // One step: tokenize at a[p..lim) (lim > p). Returns bytes consumed (token set), or 0 with
    // need = bytes needed from p. With eof set it never returns 0.

    private int step(byte[] a, int p, int lim, boolean eof) {
        while (true) {
            switch (state) {
                case DETECT -> {
                    if (lim - p < 4) {
                        return needMore(a, p, lim, 4, eof, "a channel magic");
                    }
                    ChannelKind kind = ChannelKind.identify(a, p, 4);
                    statistics.channelKind = kind;
                    switch (kind) {
                        case MAIN -> state = State.MAIN_HEADER;
                        case MULTIFD -> state = State.MULTIFD_INIT;
                        case UNKNOWN -> {
                            if (strict) {
                                throw new MalformedStreamException(
                                        streamOffset,
                                        "QEVM (0x5145564d) or multifd magic 0x11223344",
                                        Bytes.hex(Bytes.be32(a, p) & 0xffffffffL, 4));
                            }
                            state = State.LITERAL_TO_END;
                        }
                    }
                }
                case MAIN_HEADER -> {
                    if (lim - p < 8) {
                        return needMore(a, p, lim, 8, eof, "the file header");
                    }
                    int version = Bytes.be32(a, p + 4);
                    if (version != QEMU_VM_FILE_VERSION) {
                        if (invalid(p, p + 4, "file version 3", Bytes.hex(version & 0xffffffffL, 4), -1)) {
                            continue;
                        }
                    }
                    state = State.TOP;
                    configurationAllowed = true;
                    return emit(TokenType.FILE_HEADER, a, p, 8);
                }
                case TOP -> {
                    int r = top(a, p, lim, eof);
                    if (r != INVALID) {
                        return r;
                    }
                }
                case RAM_RECORD -> {
                    int r = ramRecord(a, p, lim, eof);
                    if (r != INVALID) {
                        return r;
                    }
                }
                case RAM_BLOCK_LIST -> {
                    int r = ramBlock(a, p, lim, eof);
                    if (r != INVALID) {
                        return r;
                    }
                }
                case OPAQUE, LOST -> {
                    return scan(a, p, lim, eof);
                }
                case BODY -> {
                    if (bodyRemaining == 0) {
                        state = bodyNext;
                        continue;
                    }
                    int n = (int) Math.min(bodyRemaining, lim - p);
                    bodyRemaining -= n;
                    TokenType type = bodyType;
                    if (bodyRemaining == 0) {
                        state = bodyNext;
                    }
                    if (type == TokenType.MULTIFD_COMPRESSED_DATA) {
                        statistics.multifdCompressedBytes += n;
                    }
                    return emit(type, a, p, n);
                }
                case MULTIFD_INIT -> {
                    if (lim - p < MULTIFD_INIT_SIZE) {
                        return needMore(a, p, lim, MULTIFD_INIT_SIZE, eof, "the multifd init packet");
                    }
                    int version = Bytes.be32(a, p + 4);
                    if (version != MULTIFD_VERSION) {
                        multifdInvalid(p, p + 4, "multifd version 1", Bytes.hex(version & 0xffffffffL, 4));
                        continue;
                    }
                    state = State.MULTIFD_PACKET;
                    emit(TokenType.MULTIFD_INIT, a, p, MULTIFD_INIT_SIZE);
                    token.instanceId = a[p + 24] & 0xff;
                    return MULTIFD_INIT_SIZE;
                }
                case MULTIFD_PACKET -> {
                    int r = multifdPacket(a, p, lim, eof);
                    if (r != INVALID) {
                        return r;
                    }
                }
                case MULTIFD_PAGES -> {
                    if (lim - p < PAGE_SIZE) {
                        return needMore(a, p, lim, PAGE_SIZE, eof, "a multifd page");
                    }
                    token.set(TokenType.RAM_PAGE, a, p, PAGE_SIZE, streamOffset);
                    token.contentOffset = p;
                    token.contentLength = PAGE_SIZE;
                    token.blockName = packetBlockName;
                    token.pageOffset = packetOffsets[packetPageIndex];
                    token.ramFlags = 0;
                    statistics.pages++;
                    packetBlockStatistics.pages++;
                    if (++packetPageIndex == packetPages) {
                        state = State.MULTIFD_PACKET;
                    }
                    return PAGE_SIZE;
                }
                case MULTIFD_LOST -> {
                    int r = multifdScan(a, p, lim, eof);
                    if (r != RESYNCED) {
                        return r;
                    }
                }
                case LITERAL_TO_END -> {
                    return emitLiteral(a, p, lim - p);
                }
            }
        }
    }

    /** Not enough bytes: wait for more, or at the end of input report (strict) or pass the rest as literal. */
    private int needMore(byte[] a, int p, int lim, int n, boolean eof, String what) {
        if (!eof) {
            need = n;
            return 0;
        }
        if (strict) {
            throw new MalformedStreamException(
                    streamOffset + (lim - p), n + " bytes of " + what, "end of input after " + (lim - p));
        }
        state = State.LITERAL_TO_END;
        return emitLiteral(a, p, lim - p);
    }

    /**
     * Bytes that do not fit the grammar. Strict: throws. Lenient: switches to resynchronization (the
     * bytes from p on are scanned as literals) and returns true so the caller re-dispatches.
     */
    private boolean invalid(int p, int at, String expected, String found, int sectionToScan) {
        if (strict) {
            throw new MalformedStreamException(streamOffset + (at - p), expected, found);
        }
        state = State.LOST;
        scanSectionId = sectionToScan;
        return true;
    }

    private int emit(TokenType type, byte[] a, int p, int length) {
        token.set(type, a, p, length, streamOffset);
        token.detailed(); // rare tokens: let the next one clear every field
        return length;
    }

    private int emitLiteral(byte[] a, int p, int length) {
        statistics.literalBytes += length;
        token.sectionId = -1;
        return emit(TokenType.LITERAL, a, p, length);
    }

    // ------------------------------------------------------------------------------------------
    // Main channel: section level

    private int top(byte[] a, int p, int lim, boolean eof) {
        int type = a[p] & 0xff;
        boolean afterConfiguration = configurationAllowed;
        configurationAllowed = false;
        switch (type) {
            case QEMU_VM_CONFIGURATION -> {
                if (lim - p < 5) {
                    configurationAllowed = afterConfiguration;
                    return needMore(a, p, lim, 5, eof, "the configuration section");
                }
                long length = Bytes.be32(a, p + 1) & 0xffffffffL;
                if (!afterConfiguration || length > 255) {
                    return invalidAt(
                            p,
                            p + (afterConfiguration ? 1 : 0),
                            afterConfiguration ? "a machine name length <= 255" : "a section type",
                            afterConfiguration ? Long.toString(length) : Bytes.hex(type, 1),
                            -1);
                }
                if (lim - p < 5 + length) {
                    configurationAllowed = true;
                    return needMore(a, p, lim, (int) (5 + length), eof, "the configuration section");
                }
                configurationAllowed = true;
                return emit(TokenType.CONFIGURATION, a, p, (int) (5 + length));
            }
            case QEMU_VM_SUBSECTION -> {
                if (!afterConfiguration) {
                    return invalidAt(p, p, "a section type", Bytes.hex(type, 1), -1);
                }
                int r = configurationSubsection(a, p, lim, eof);
                if (r == 0) {
                    configurationAllowed = true;
                } else if (r > 0) {
                    configurationAllowed = true;
                }
                return r;
            }
            case QEMU_VM_SECTION_START, QEMU_VM_SECTION_FULL -> {
                if (lim - p < 6) {
                    return needMore(a, p, lim, 6, eof, "a section header");
                }
                int nameLength = a[p + 5] & 0xff;
                int size = 6 + nameLength + 8;
                if (lim - p < size) {
                    return needMore(a, p, lim, size, eof, "a section header");
                }
                if (nameLength == 0 || !printable(a, p + 6, nameLength)) {
                    return invalidAt(
                            p,
                            p + 5,
                            "a printable section idstr",
                            "bytes " + hexBytes(a, p + 5, Math.min(nameLength + 1, 16)),
                            -1);
                }
                int id = Bytes.be32(a, p + 1);
                String name = new String(a, p + 6, nameLength, StandardCharsets.ISO_8859_1);
                sectionNames.put(id, name);
                currentSectionId = id;
                emit(type == QEMU_VM_SECTION_START ? TokenType.SECTION_START : TokenType.SECTION_FULL, a, p, size);
                token.sectionId = id;
                token.sectionName = name;
                token.instanceId = Bytes.be32(a, p + 6 + nameLength);
                token.versionId = Bytes.be32(a, p + 10 + nameLength);
                statistics.sections++;
                if (name.equals("ram")) {
                    ramSectionId = id;
                    state = State.RAM_RECORD;
                } else {
                    scanSectionId = id;
                    state = State.OPAQUE;
                }
                return size;
            }
            case QEMU_VM_SECTION_PART, QEMU_VM_SECTION_END -> {
                if (lim - p < 5) {
                    return needMore(a, p, lim, 5, eof, "a section header");
                }
                int id = Bytes.be32(a, p + 1);
                String name = sectionNames.get(id);
                if (name == null) {
                    return invalidAt(p, p + 1, "the id of a started section", Integer.toString(id), -1);
                }
                currentSectionId = id;
                emit(type == QEMU_VM_SECTION_PART ? TokenType.SECTION_PART : TokenType.SECTION_END, a, p, 5);
                token.sectionId = id;
                token.sectionName = name;
                statistics.sections++;
                if (id == ramSectionId) {
                    state = State.RAM_RECORD;
                } else {
                    scanSectionId = id;
                    state = State.OPAQUE;
                }
                return 5;
            }
            case QEMU_VM_SECTION_FOOTER -> {
                if (lim - p < 5) {
                    return needMore(a, p, lim, 5, eof, "a section footer");
                }
                int id = Bytes.be32(a, p + 1);
                if (id != currentSectionId) {
                    return invalidAt(p, p + 1, "footer of section " + currentSectionId, "footer of section " + id, -1);
                }
                currentSectionId = -1;
                return footer(a, p, id);
            }
            case QEMU_VM_COMMAND -> {
                if (lim - p < 5) {
                    return needMore(a, p, lim, 5, eof, "a command");
                }
                int command = Bytes.be16(a, p + 1);
                int length = Bytes.be16(a, p + 3);
                if (command == 0 || command >= 32) {
                    return invalidAt(p, p + 1, "a command 1..31", Integer.toString(command), -1);
                }
                if (lim - p < 5 + length) {
                    return needMore(a, p, lim, 5 + length, eof, "a command");
                }
                emit(TokenType.COMMAND, a, p, 5 + length);
                token.command = command;
                token.declaredLength = length;
                statistics.commands++;
                return 5 + length;
            }
            case QEMU_VM_EOF -> {
                eofSeen = true;
                return emit(TokenType.EOF, a, p, 1);
            }
            case QEMU_VM_VMDESCRIPTION -> {
                if (lim - p < 5) {
                    return needMore(a, p, lim, 5, eof, "a VM description header");
                }
                long length = Bytes.be32(a, p + 1) & 0xffffffffL;
                emit(TokenType.VM_DESCRIPTION, a, p, 5);
                token.declaredLength = length;
                body(TokenType.VM_DESCRIPTION_DATA, length, State.TOP);
                return 5;
            }
            default -> {
                return invalidAt(p, p, "a section type (0x00-0x08 or 0x7e)", Bytes.hex(type, 1), -1);
            }
        }
    }

    private int invalidAt(int p, int at, String expected, String found, int sectionToScan) {
        invalid(p, at, expected, found, sectionToScan);
        return INVALID;
    }

    private void body(TokenType type, long length, State next) {
        bodyType = type;
        bodyRemaining = length;
        bodyNext = next;
        state = length == 0 ? next : State.BODY;
    }

    private int footer(byte[] a, int p, int id) {
        emit(TokenType.SECTION_FOOTER, a, p, 5);
        token.sectionId = id;
        token.sectionName = sectionNames.get(id);
        state = State.TOP;
        return 5;
    }

    private int configurationSubsection(byte[] a, int p, int lim, boolean eof) {
        if (lim - p < 2) {
            return needMore(a, p, lim, 2, eof, "a configuration subsection");
        }
        int nameLength = a[p + 1] & 0xff;
        int headerSize = 2 + nameLength + 4;
        if (lim - p < headerSize) {
            return needMore(a, p, lim, headerSize, eof, "a configuration subsection");
        }
        String name = new String(a, p + 2, nameLength, StandardCharsets.ISO_8859_1);
        int size;
        switch (name) {
            case "configuration/target-page-bits" -> size = headerSize + 4;
            case "configuration/uuid" -> size = headerSize + 16;
            case "configuration/capabilities" -> {
                if (lim - p < headerSize + 4) {
                    return needMore(a, p, lim, headerSize + 4, eof, "configuration capabilities");
                }
                long count = Bytes.be32(a, p + headerSize) & 0xffffffffL;
                if (count > 64) {
                    return invalidAt(p, p + headerSize, "at most 64 capabilities", Long.toString(count), -1);
                }
                size = headerSize + 4;
                for (long i = 0; i < count; i++) {
                    if (lim - p < size + 1) {
                        return needMore(a, p, lim, size + 1, eof, "configuration capabilities");
                    }
                    size += 1 + (a[p + size] & 0xff);
                }
            }
            default -> {
                return invalidAt(p, p + 2, "a known configuration subsection", '"' + name + '"', -1);
            }
        }
        if (lim - p < size) {
            return needMore(a, p, lim, size, eof, "a configuration subsection");
        }
        if (name.equals("configuration/capabilities")) {
            for (int at = p + headerSize + 4; at < p + size; at += 1 + (a[at] & 0xff)) {
                String capability = new String(a, at + 1, a[at] & 0xff, StandardCharsets.ISO_8859_1);
                if (capability.equals("x-ignore-shared")) {
                    // each RAM block entry of the setup then carries its memory region's address too
                    ignoreShared = true;
                }
            }
        }
        return emit(TokenType.CONFIGURATION, a, p, size);
    }

    // ------------------------------------------------------------------------------------------
    // Main channel: RAM section records

    private int ramRecord(byte[] a, int p, int lim, boolean eof) {
        if (lim - p < 8) {
            return needMore(a, p, lim, 8, eof, "a RAM record");
        }
        long header = Bytes.be64(a, p);
        int flags = (int) header & RAM_FLAGS_MASK;
        long address = header & ~(long) RAM_FLAGS_MASK;
        int kind = flags & ~RAM_SAVE_FLAG_CONTINUE;
        switch (kind) {
            case RAM_SAVE_FLAG_PAGE, RAM_SAVE_FLAG_ZERO, RAM_SAVE_FLAG_XBZRLE, RAM_SAVE_FLAG_COMPRESS_PAGE -> {
                int q = p + 8;
                String block;
                BlockStatistics blockStatistics;
                boolean named = (flags & RAM_SAVE_FLAG_CONTINUE) == 0;
                int nameLength = 0;
                if (named) {
                    if (lim - q < 1) {
                        return needMore(a, p, lim, 9, eof, "a RAM record");
                    }
                    nameLength = a[q] & 0xff;
                    if (lim - q < 1 + nameLength) {
                        return needMore(a, p, lim, 9 + nameLength, eof, "a RAM block name");
                    }
                    if (nameLength == 0 || !printable(a, q + 1, nameLength)) {
                        return invalidAt(
                                p,
                                q,
                                "a printable RAM block name",
                                "bytes " + hexBytes(a, q, Math.min(1 + nameLength, 16)),
                                ramSectionId);
                    }
                    q += 1 + nameLength;
                } else if (lastBlockName == null && strict) {
                    throw new MalformedStreamException(
                            streamOffset,
                            "a RAM block name before the first CONTINUE record",
                            "flags " + Bytes.hex(flags, 2));
                }
                int size;
                int contentAt;
                int contentLength;
                switch (kind) {
                    case RAM_SAVE_FLAG_PAGE -> {
                        contentAt = q;
                        contentLength = PAGE_SIZE;
                        size = q - p + PAGE_SIZE;
                    }
                    case RAM_SAVE_FLAG_ZERO -> {
                        contentAt = q + 1;
                        contentLength = 0;
                        size = q - p + 1;
                    }
                    case RAM_SAVE_FLAG_XBZRLE -> {
                        if (lim - q < 3) {
                            return needMore(a, p, lim, q - p + 3, eof, "an XBZRLE page header");
                        }
                        if (a[q] != ENCODING_FLAG_XBZRLE) {
                            return invalidAt(
                                    p, q, "XBZRLE encoding flag 0x01", Bytes.hex(a[q] & 0xff, 1), ramSectionId);
                        }
                        contentLength = Bytes.be16(a, q + 1);
                        if (contentLength > PAGE_SIZE) {
                            return invalidAt(
                                    p,
                                    q + 1,
                                    "an XBZRLE length <= 4096",
                                    Integer.toString(contentLength),
                                    ramSectionId);
                        }
                        contentAt = q + 3;
                        size = q - p + 3 + contentLength;
                    }
                    default -> {
                        if (lim - q < 4) {
                            return needMore(a, p, lim, q - p + 4, eof, "a compressed page header");
                        }
                        long length = Bytes.be32(a, q) & 0xffffffffL;
                        if (length > MAX_COMPRESSED_PAGE) {
                            return invalidAt(
                                    p,
                                    q,
                                    "a compressed page length <= " + MAX_COMPRESSED_PAGE,
                                    Long.toString(length),
                                    ramSectionId);
                        }
                        contentLength = (int) length;
                        contentAt = q + 4;
                        size = q - p + 4 + contentLength;
                    }
                }
                if (lim - p < size) {
                    return needMore(a, p, lim, size, eof, "a RAM page");
                }
                if (named) {
                    block = blockName(a, p + 9, nameLength);
                } else {
                    block = lastBlockName;
                }
                blockStatistics = lastBlockStatistics;
                if (blockStatistics == null) {
                    blockStatistics = lastBlockStatistics = statistics.block(block);
                }
                TokenType type;
                switch (kind) {
                    case RAM_SAVE_FLAG_PAGE -> {
                        type = TokenType.RAM_PAGE;
                        statistics.pages++;
                        blockStatistics.pages++;
                    }
                    case RAM_SAVE_FLAG_ZERO -> {
                        type = TokenType.ZERO_PAGE;
                        statistics.zeroPages++;
                        blockStatistics.zeroPages++;
                    }
                    case RAM_SAVE_FLAG_XBZRLE -> {
                        type = TokenType.XBZRLE_PAGE;
                        statistics.xbzrlePages++;
                        blockStatistics.xbzrlePages++;
                    }
                    default -> {
                        type = TokenType.COMPRESSED_PAGE;
                        statistics.compressedPages++;
                        blockStatistics.compressedPages++;
                    }
                }
                token.set(type, a, p, size, streamOffset);
                token.contentOffset = contentAt;
                token.contentLength = contentLength;
                token.blockName = block;
                token.pageOffset = address;
                token.ramFlags = flags;
                token.sectionId = ramSectionId;
                return size;
            }
            case RAM_SAVE_FLAG_EOS -> {
                state = State.TOP;
                emit(TokenType.RAM_EOS, a, p, 8);
                token.ramFlags = flags;
                token.sectionId = ramSectionId;
                return 8;
            }
            case RAM_SAVE_FLAG_MULTIFD_FLUSH -> {
                emit(TokenType.RAM_MULTIFD_FLUSH, a, p, 8);
                token.ramFlags = flags;
                token.sectionId = ramSectionId;
                return 8;
            }
            case RAM_SAVE_FLAG_MEM_SIZE -> {
                blockListRemaining = address;
                if (address > 0) {
                    state = State.RAM_BLOCK_LIST;
                }
                emit(TokenType.RAM_MEM_SIZE, a, p, 8);
                token.pageOffset = address;
                token.ramFlags = flags;
                token.sectionId = ramSectionId;
                return 8;
            }
            default -> {
                return invalidAt(
                        p,
                        p + 6,
                        "RAM record flags (ZERO, MEM_SIZE, PAGE, EOS, XBZRLE, COMPRESS_PAGE, MULTIFD_FLUSH)",
                        Bytes.hex(flags, 2),
                        ramSectionId);
            }
        }
    }

    private int ramBlock(byte[] a, int p, int lim, boolean eof) {
        if (lim - p < 1) {
            return needMore(a, p, lim, 1, eof, "a RAM block entry");
        }
        int nameLength = a[p] & 0xff;
        int size = 1 + nameLength + 8 + (ignoreShared ? 8 : 0);
        if (lim - p < size) {
            return needMore(a, p, lim, size, eof, "a RAM block entry");
        }
        if (nameLength == 0 || !printable(a, p + 1, nameLength)) {
            return invalidAt(
                    p, p, "a printable RAM block name", "bytes " + hexBytes(a, p, Math.min(size, 16)), ramSectionId);
        }
        long used = Bytes.be64(a, p + 1 + nameLength);
        if (used <= 0 || used > blockListRemaining) {
            return invalidAt(
                    p,
                    p + 1 + nameLength,
                    "a block length <= " + blockListRemaining + " (the rest of the RAM size)",
                    Long.toString(used),
                    ramSectionId);
        }
        blockListRemaining -= used;
        if (blockListRemaining == 0) {
            state = State.RAM_RECORD;
        }
        String name = new String(a, p + 1, nameLength, StandardCharsets.ISO_8859_1);
        statistics.block(name);
        emit(TokenType.RAM_BLOCK, a, p, size);
        token.blockName = name;
        token.pageOffset = used;
        token.sectionId = ramSectionId;
        return size;
    }

    private String blockName(byte[] a, int at, int length) {
        if (lastBlockName != null && Arrays.equals(lastBlockBytes, 0, lastBlockBytes.length, a, at, at + length)) {
            return lastBlockName;
        }
        lastBlockBytes = Arrays.copyOfRange(a, at, at + length);
        lastBlockName = new String(lastBlockBytes, StandardCharsets.ISO_8859_1);
        lastBlockStatistics = statistics.block(lastBlockName);
        return lastBlockName;
    }

    // ------------------------------------------------------------------------------------------
    // Main channel: opaque section content and resynchronization

    /**
     * Opaque bytes up to the footer of the section being scanned (any known section when lost),
     * accepted only when a plausible item follows it.
     */
    private int scan(byte[] a, int p, int lim, boolean eof) {
        boolean opaque = state == State.OPAQUE;
        int i = p;
        while (true) {
            while (i < lim && a[i] != (byte) QEMU_VM_SECTION_FOOTER) {
                i++;
            }
            if (i == lim) {
                return scanned(opaque, a, p, lim - p);
            }
            if (lim - i < 5) {
                if (i > p) {
                    return scanned(opaque, a, p, i - p);
                }
                if (!eof) {
                    need = 5;
                    return 0;
                }
                return scanned(opaque, a, p, lim - p);
            }
            int id = Bytes.be32(a, i + 1);
            boolean candidate = scanSectionId >= 0 ? id == scanSectionId : sectionNames.containsKey(id);
            if (candidate) {
                int verdict = validateNext(a, i + 5, lim, eof);
                if (verdict >= 0) {
                    if (i > p) {
                        return scanned(opaque, a, p, i - p);
                    }
                    need = 5 + verdict;
                    return 0;
                }
                if (verdict == VALID) {
                    if (i > p) {
                        return scanned(opaque, a, p, i - p);
                    }
                    currentSectionId = -1;
                    return footer(a, p, id);
                }
            }
            i++;
        }
    }

    private int scanned(boolean opaque, byte[] a, int p, int length) {
        if (opaque) {
            statistics.sectionDataBytes += length;
            emit(TokenType.SECTION_DATA, a, p, length);
            token.sectionId = scanSectionId;
            token.sectionName = sectionNames.get(scanSectionId);
            return length;
        }
        return emitLiteral(a, p, length);
    }

    /** Is a[q..) a plausible item after a footer? VALID, INVALID, or the bytes needed from q. */
    private int validateNext(byte[] a, int q, int lim, boolean eof) {
        int available = lim - q;
        if (available == 0) {
            return eof ? VALID : 1;
        }
        switch (a[q] & 0xff) {
            case QEMU_VM_EOF -> {
                if (available < 2) {
                    return eof ? VALID : 2;
                }
                if (a[q + 1] != QEMU_VM_VMDESCRIPTION) {
                    return INVALID;
                }
                if (available < 7) {
                    return eof ? INVALID : 7;
                }
                long length = Bytes.be32(a, q + 2) & 0xffffffffL;
                return length > 0 && length < (1L << 28) && a[q + 6] == '{' ? VALID : INVALID;
            }
            case QEMU_VM_SECTION_START, QEMU_VM_SECTION_FULL -> {
                if (available < 6) {
                    return eof ? INVALID : 6;
                }
                int id = Bytes.be32(a, q + 1);
                int nameLength = a[q + 5] & 0xff;
                if (id < 0 || id > 0xffff || nameLength == 0) {
                    return INVALID;
                }
                if (available < 6 + nameLength + 8) {
                    return eof ? INVALID : 6 + nameLength + 8;
                }
                int instance = Bytes.be32(a, q + 6 + nameLength);
                int version = Bytes.be32(a, q + 10 + nameLength);
                return printable(a, q + 6, nameLength)
                                && instance >= 0
                                && instance <= 0xffff
                                && version >= 0
                                && version <= 0xffff
                        ? VALID
                        : INVALID;
            }
            case QEMU_VM_SECTION_PART, QEMU_VM_SECTION_END -> {
                if (available < 5) {
                    return eof ? INVALID : 5;
                }
                return sectionNames.containsKey(Bytes.be32(a, q + 1)) ? VALID : INVALID;
            }
            case QEMU_VM_COMMAND -> {
                if (available < 5) {
                    return eof ? INVALID : 5;
                }
                int command = Bytes.be16(a, q + 1);
                return command > 0 && command < 32 ? VALID : INVALID;
            }
            default -> {
                return INVALID;
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Multifd channels

    private int multifdPacket(byte[] a, int p, int lim, boolean eof) {
        if (lim - p < 12) {
            return needMore(a, p, lim, 12, eof, "a multifd packet header");
        }
        int magic = Bytes.be32(a, p);
        if (magic != ChannelKind.MULTIFD_MAGIC) {
            return multifdInvalid(p, p, "multifd magic 0x11223344", Bytes.hex(magic & 0xffffffffL, 4));
        }
        int version = Bytes.be32(a, p + 4);
        if (version != MULTIFD_VERSION) {
            return multifdInvalid(p, p + 4, "multifd version 1", Bytes.hex(version & 0xffffffffL, 4));
        }
        int flags = Bytes.be32(a, p + 8);
        if ((flags & MULTIFD_FLAG_DEVICE_STATE) != 0) {
            if (lim - p < MULTIFD_DEVICE_STATE_HEADER) {
                return needMore(a, p, lim, MULTIFD_DEVICE_STATE_HEADER, eof, "a multifd device state header");
            }
            long size = Bytes.be32(a, p + 272) & 0xffffffffL;
            emit(TokenType.MULTIFD_DEVICE_STATE, a, p, MULTIFD_DEVICE_STATE_HEADER);
            token.multifdFlags = flags;
            token.sectionName = cString(a, p + 12, 256);
            token.instanceId = Bytes.be32(a, p + 268);
            token.declaredLength = size;
            statistics.multifdPackets++;
            statistics.multifdDeviceStatePackets++;
            body(TokenType.MULTIFD_DEVICE_STATE_DATA, size, State.MULTIFD_PACKET);
            return MULTIFD_DEVICE_STATE_HEADER;
        }
        int size = MULTIFD_PACKET_FIXED + 8 * pagesPerPacket;
        if (lim - p < size) {
            return needMore(a, p, lim, size, eof, "a multifd packet header");
        }
        int allocated = Bytes.be32(a, p + 12);
        int normal = Bytes.be32(a, p + 16);
        int nextPacketSize = Bytes.be32(a, p + 20);
        long packetNumber = Bytes.be64(a, p + 24);
        int zero = Bytes.be32(a, p + 32);
        if (allocated < 0 || allocated > pagesPerPacket) {
            return multifdInvalid(p, p + 12, "pages_alloc <= " + pagesPerPacket, Integer.toUnsignedString(allocated));
        }
        if (normal < 0 || zero < 0 || (long) normal + zero > pagesPerPacket) {
            return multifdInvalid(
                    p,
                    p + 16,
                    "normal + zero pages <= " + pagesPerPacket,
                    Integer.toUnsignedString(normal) + " + " + Integer.toUnsignedString(zero));
        }
        boolean compressed = (flags & MULTIFD_FLAG_COMPRESSION_MASK) != 0;
        if (compressed && normal > 0 && (nextPacketSize < 0 || nextPacketSize > MULTIFD_MAX_COMPRESSED)) {
            return multifdInvalid(
                    p,
                    p + 20,
                    "next_packet_size <= " + MULTIFD_MAX_COMPRESSED,
                    Integer.toUnsignedString(nextPacketSize));
        }
        for (int i = 0; i < normal + zero; i++) {
            long offset = Bytes.be64(a, p + MULTIFD_PACKET_FIXED + 8 * i);
            if ((offset & RAM_FLAGS_MASK) != 0) {
                return multifdInvalid(
                        p, p + MULTIFD_PACKET_FIXED + 8 * i, "a page-aligned offset", Bytes.hex(offset, 8));
            }
            packetOffsets[i] = offset;
        }
        packetBlockName = multifdBlockName(a, p + 64);
        packetBlockStatistics = normal + zero > 0 ? statistics.block(packetBlockName) : null;
        emit(TokenType.MULTIFD_PACKET, a, p, size);
        token.multifdFlags = flags;
        token.pagesAllocated = allocated;
        token.normalPages = normal;
        token.zeroPages = zero;
        token.nextPacketSize = nextPacketSize;
        token.packetNumber = packetNumber;
        token.packetOffsets = packetOffsets;
        token.blockName = packetBlockName;
        statistics.multifdPackets++;
        if ((flags & MULTIFD_FLAG_SYNC) != 0) {
            statistics.multifdSyncPackets++;
        }
        if (zero > 0) {
            statistics.zeroPages += zero;
            packetBlockStatistics.zeroPages += zero;
        }
        if (normal > 0) {
            if (compressed) {
                // A compressed packet: its pages are counted, its payload is opaque (one stream per channel).
                statistics.compressedPages += normal;
                packetBlockStatistics.compressedPages += normal;
                token.declaredLength = nextPacketSize;
                body(TokenType.MULTIFD_COMPRESSED_DATA, nextPacketSize, State.MULTIFD_PACKET);
            } else {
                token.declaredLength = (long) normal * PAGE_SIZE;
                packetPages = normal;
                packetPageIndex = 0;
                state = State.MULTIFD_PAGES;
            }
        }
        return size;
    }

    private int multifdInvalid(int p, int at, String expected, String found) {
        if (strict) {
            throw new MalformedStreamException(streamOffset + (at - p), expected, found);
        }
        // Packets are self-delimiting only through their headers: look for the next plausible one.
        state = State.MULTIFD_LOST;
        return INVALID;
    }

    /**
     * Literal bytes up to the next plausible multifd packet header: magic, version 1, known flags,
     * and (RAM packets) page counts within the packet, page-aligned offsets and a printable block
     * name, or (device state) a printable idstr.
     */
    private int multifdScan(byte[] a, int p, int lim, boolean eof) {
        // Never resume twice at the same place.
        int i = streamOffset == multifdResyncOffset ? p + 1 : p;
        while (true) {
            while (i < lim && a[i] != 0x11) {
                i++;
            }
            if (i == lim) {
                return emitLiteral(a, p, lim - p);
            }
            int verdict = plausiblePacket(a, i, lim, eof);
            if (verdict >= 0) {
                if (i > p) {
                    return emitLiteral(a, p, i - p);
                }
                need = verdict;
                return 0;
            }
            if (verdict == VALID) {
                if (i > p) {
                    return emitLiteral(a, p, i - p);
                }
                state = State.MULTIFD_PACKET;
                multifdResyncOffset = streamOffset;
                return RESYNCED;
            }
            i++;
        }
    }

    private int plausiblePacket(byte[] a, int q, int lim, boolean eof) {
        int available = lim - q;
        if (available < 12) {
            return eof ? INVALID : 12;
        }
        if (Bytes.be32(a, q) != ChannelKind.MULTIFD_MAGIC || Bytes.be32(a, q + 4) != MULTIFD_VERSION) {
            return INVALID;
        }
        int flags = Bytes.be32(a, q + 8);
        if ((flags & ~MULTIFD_KNOWN_FLAGS) != 0) {
            return INVALID;
        }
        if ((flags & MULTIFD_FLAG_DEVICE_STATE) != 0) {
            if (available < MULTIFD_DEVICE_STATE_HEADER) {
                return eof ? INVALID : MULTIFD_DEVICE_STATE_HEADER;
            }
            int length = cStringLength(a, q + 12, 256);
            return length > 0 && length < 256 && printable(a, q + 12, length) ? VALID : INVALID;
        }
        int size = MULTIFD_PACKET_FIXED + 8 * pagesPerPacket;
        if (available < size) {
            return eof ? INVALID : size;
        }
        int allocated = Bytes.be32(a, q + 12);
        int normal = Bytes.be32(a, q + 16);
        int nextPacketSize = Bytes.be32(a, q + 20);
        int zero = Bytes.be32(a, q + 32);
        if (allocated < 0
                || allocated > pagesPerPacket
                || normal < 0
                || zero < 0
                || (long) normal + zero > pagesPerPacket) {
            return INVALID;
        }
        if ((flags & MULTIFD_FLAG_COMPRESSION_MASK) != 0
                && normal > 0
                && (nextPacketSize < 0 || nextPacketSize > MULTIFD_MAX_COMPRESSED)) {
            return INVALID;
        }
        for (int i = 0; i < normal + zero; i++) {
            if ((Bytes.be64(a, q + MULTIFD_PACKET_FIXED + 8 * i) & RAM_FLAGS_MASK) != 0) {
                return INVALID;
            }
        }
        int length = cStringLength(a, q + 64, 256);
        return length < 256 && printable(a, q + 64, length) ? VALID : INVALID;
    }

    private static int cStringLength(byte[] a, int at, int max) {
        int length = 0;
        while (length < max && a[at + length] != 0) {
            length++;
        }
        return length;
    }

    private String multifdBlockName(byte[] a, int at) {
        int length = 0;
        while (length < 256 && a[at + length] != 0) {
            length++;
        }
        if (length == multifdBlockLength && Arrays.equals(multifdBlockBytes, 0, length, a, at, at + length)) {
            return packetBlockName;
        }
        System.arraycopy(a, at, multifdBlockBytes, 0, length);
        multifdBlockLength = length;
        return new String(a, at, length, StandardCharsets.ISO_8859_1);
    }

    private static String cString(byte[] a, int at, int max) {
        int length = 0;
        while (length < max && a[at + length] != 0) {
            length++;
        }
        return new String(a, at, length, StandardCharsets.ISO_8859_1);
    }

    private static boolean printable(byte[] a, int at, int length) {
        for (int i = at; i < at + length; i++) {
            int c = a[i] & 0xff;
            if (c < 0x20 || c > 0x7e) {
                return false;
            }
        }
        return true;
    }

    private static String hexBytes(byte[] a, int at, int length) {
        StringBuilder s = new StringBuilder();
        for (int i = at; i < at + length && i < a.length; i++) {
            s.append(String.format("%02x", a[i] & 0xff));
        }
        return s.toString();
    }
}
