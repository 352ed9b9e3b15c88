package io.dwcp.migration.stream;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * One token of a migration stream: a view of its raw bytes plus what they mean.
 *
 * <p>A token is a cursor, not a value: the tokenizer reuses one instance, and its bytes live in the
 * caller's input array or in the tokenizer's small carry buffer. Both are valid only until the next
 * call to {@link MigrationStreamTokenizer#next()} or {@link MigrationStreamTokenizer#feed}. Use the
 * bytes (write them, hash them, encode them) before asking for the next token, or {@link #copy()}.
 *
 * <p>Raw bytes are {@code array()[offset() .. offset() + length())}; for page tokens the page
 * content is the tail {@code [contentOffset() .. contentOffset() + contentLength())} and the part
 * before it is the record header.
 */
public final class Token {
    TokenType type;
    byte[] array;
    int offset;
    int length;
    long streamOffset;
    int contentOffset;
    int contentLength;
    String blockName;
    long pageOffset;
    int ramFlags;
    int sectionId = -1;
    String sectionName;
    int instanceId;
    int versionId;
    int command;
    int multifdFlags;
    int pagesAllocated;
    int normalPages;
    int zeroPages;
    int nextPacketSize;
    long packetNumber;
    long[] packetOffsets;
    long declaredLength;
    private boolean detailed;

    Token() {}

    void set(TokenType type, byte[] array, int offset, int length, long streamOffset) {
        this.type = type;
        this.array = array;
        this.offset = offset;
        this.length = length;
        this.streamOffset = streamOffset;
        this.contentOffset = offset + length;
        this.contentLength = 0;
        this.blockName = null;
        this.pageOffset = 0;
        this.ramFlags = 0;
        this.sectionId = -1;
        this.sectionName = null;
        if (detailed) {
            // fields only section, command and multifd tokens set (see detailed())
            detailed = false;
            this.instanceId = 0;
            this.versionId = 0;
            this.command = 0;
            this.multifdFlags = 0;
            this.pagesAllocated = 0;
            this.normalPages = 0;
            this.zeroPages = 0;
            this.nextPacketSize = 0;
            this.packetNumber = 0;
            this.packetOffsets = null;
            this.declaredLength = 0;
        }
    }

    /** Marks that this token sets fields beyond the page ones, so that the next {@link #set} clears them. */
    Token detailed() {
        detailed = true;
        return this;
    }

    public TokenType type() {
        return type;
    }

    /** The array holding this token's raw bytes (not a copy; do not modify). */
    public byte[] array() {
        return array;
    }

    /** Where the raw bytes start in {@link #array()}. */
    public int offset() {
        return offset;
    }

    /** How many raw bytes. */
    public int length() {
        return length;
    }

    /** The offset of the first raw byte in the channel. */
    public long streamOffset() {
        return streamOffset;
    }

    /** A read-only buffer over the raw bytes (no copy). */
    public ByteBuffer bytes() {
        return ByteBuffer.wrap(array, offset, length).slice().asReadOnlyBuffer();
    }

    /** Where the payload starts: page content, XBZRLE or compressed data; {@code offset()+length()} if none. */
    public int contentOffset() {
        return contentOffset;
    }

    /** Payload length: 4096 for {@link TokenType#RAM_PAGE}, the encoded length for XBZRLE/compressed pages. */
    public int contentLength() {
        return contentLength;
    }

    /** Length of the record header before the content (0 for multifd pages). */
    public int headerLength() {
        return contentOffset - offset;
    }

    /** A read-only buffer over the content (no copy). */
    public ByteBuffer content() {
        return ByteBuffer.wrap(array, contentOffset, contentLength).slice().asReadOnlyBuffer();
    }

    /**
     * The RAM block of a page token or of a {@link TokenType#RAM_BLOCK} / {@link TokenType#MULTIFD_PACKET};
     * {@code null} when a record says CONTINUE but no block was named before (a stream joined midway).
     */
    public String blockName() {
        return blockName;
    }

    /** The page's offset in its RAM block (page tokens), the block's used length ({@code RAM_BLOCK}), or the total RAM size ({@code RAM_MEM_SIZE}). */
    public long pageOffset() {
        return pageOffset;
    }

    /** The low 12 bits of a RAM record's be64 (RAM_SAVE_FLAG_*); 0 for multifd pages. */
    public int ramFlags() {
        return ramFlags;
    }

    /** The section id of section headers and footers, and of section data and RAM records; -1 if none. */
    public int sectionId() {
        return sectionId;
    }

    /** The idstr of the section ({@code "ram"}, {@code "cpu"}, ...), when the section's start was seen. */
    public String sectionName() {
        return sectionName;
    }

    public int instanceId() {
        return instanceId;
    }

    public int versionId() {
        return versionId;
    }

    /** The command number of a {@link TokenType#COMMAND} (MIG_CMD_*). */
    public int command() {
        return command;
    }

    /** The flags of a multifd packet (SYNC bit 0, compression bits 1..5, device state bit 6). */
    public int multifdFlags() {
        return multifdFlags;
    }

    public int pagesAllocated() {
        return pagesAllocated;
    }

    /** Pages with data in this multifd packet. */
    public int normalPages() {
        return normalPages;
    }

    /** Pages this multifd packet declares zero (QEMU 9.0+; always 0 before). */
    public int zeroPages() {
        return zeroPages;
    }

    /** The packet's next_packet_size field as sent (stale in pure SYNC packets). */
    public int nextPacketSize() {
        return nextPacketSize;
    }

    public long packetNumber() {
        return packetNumber;
    }

    /**
     * The i-th page offset of a multifd packet: normal pages first ({@code i < normalPages()}), then
     * zero pages.
     */
    public long packetOffset(int i) {
        if (i < 0 || i >= normalPages + zeroPages) {
            throw new IndexOutOfBoundsException("page " + i + " of " + (normalPages + zeroPages));
        }
        return packetOffsets[i];
    }

    /** The declared length of what follows: the VM description JSON, a command's data, a packet's payload. */
    public long declaredLength() {
        return declaredLength;
    }

    /** An independent copy (raw bytes and fields), valid forever. */
    public Token copy() {
        Token t = new Token();
        t.type = type;
        t.array = Arrays.copyOfRange(array, offset, offset + length);
        t.offset = 0;
        t.length = length;
        t.streamOffset = streamOffset;
        t.contentOffset = contentOffset - offset;
        t.contentLength = contentLength;
        t.blockName = blockName;
        t.pageOffset = pageOffset;
        t.ramFlags = ramFlags;
        t.sectionId = sectionId;
        t.sectionName = sectionName;
        t.instanceId = instanceId;
        t.versionId = versionId;
        t.command = command;
        t.multifdFlags = multifdFlags;
        t.pagesAllocated = pagesAllocated;
        t.normalPages = normalPages;
        t.zeroPages = zeroPages;
        t.nextPacketSize = nextPacketSize;
        t.packetNumber = packetNumber;
        t.packetOffsets = packetOffsets == null ? null : packetOffsets.clone();
        t.declaredLength = declaredLength;
        return t;
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder()
                .append(type)
                .append('@')
                .append(streamOffset)
                .append('+')
                .append(length);
        switch (type) {
            case RAM_PAGE, ZERO_PAGE, XBZRLE_PAGE, COMPRESSED_PAGE ->
                s.append(' ').append(blockName).append(':').append(Bytes.hex(pageOffset, 8));
            case SECTION_START, SECTION_FULL, SECTION_PART, SECTION_END, SECTION_FOOTER ->
                s.append(" id=").append(sectionId).append(' ').append(sectionName);
            case MULTIFD_PACKET ->
                s.append(" flags=")
                        .append(multifdFlags)
                        .append(" normal=")
                        .append(normalPages)
                        .append(" zero=")
                        .append(zeroPages)
                        .append(" block=")
                        .append(blockName);
            default -> {}
        }
        return s.toString();
    }
}
