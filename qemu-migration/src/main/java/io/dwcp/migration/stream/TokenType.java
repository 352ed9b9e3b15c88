package io.dwcp.migration.stream;

/**
 * What a {@link Token} is. Every token carries its raw bytes; writing the raw bytes of all tokens
 * in order gives back the input exactly.
 */
public enum TokenType {
    // ---- main channel ----
    /** {@code be32 0x5145564d ("QEVM"), be32 version (3)}. */
    FILE_HEADER,
    /** The configuration section ({@code 0x07, be32 len, machine name}) or one of its subsections. */
    CONFIGURATION,
    /** {@code 0x01, be32 section id, u8 len, idstr, be32 instance id, be32 version id}. */
    SECTION_START,
    /** {@code 0x02, be32 section id}. */
    SECTION_PART,
    /** {@code 0x03, be32 section id}. */
    SECTION_END,
    /** {@code 0x04}, then as {@link #SECTION_START}. */
    SECTION_FULL,
    /** {@code 0x7e, be32 section id}. */
    SECTION_FOOTER,
    /** Content of a section the tokenizer does not parse (device state): opaque bytes. */
    SECTION_DATA,
    /** {@code 0x08, be16 command, be16 len, len bytes}. */
    COMMAND,
    /** {@code 0x00}: the end of the device state. */
    EOF,
    /** {@code 0x06, be32 len}; the JSON follows as {@link #VM_DESCRIPTION_DATA}. */
    VM_DESCRIPTION,
    /** A piece of the VM description JSON. */
    VM_DESCRIPTION_DATA,
    /** RAM setup record {@code be64 total | MEM_SIZE}; the block list follows as {@link #RAM_BLOCK}. */
    RAM_MEM_SIZE,
    /** One entry of the RAM setup block list: {@code u8 len, idstr, be64 used length}. */
    RAM_BLOCK,
    /**
     * A whole RAM page: on the main channel {@code be64 offset|PAGE[|CONTINUE], [u8 len, idstr], 4096
     * bytes}; on a multifd channel just the 4096 bytes (its offset comes from the packet header).
     */
    RAM_PAGE,
    /** {@code be64 offset|ZERO[|CONTINUE], [u8 len, idstr], u8 fill}. */
    ZERO_PAGE,
    /** {@code be64 offset|XBZRLE[|CONTINUE], [u8 len, idstr], u8 0x01, be16 len, len bytes}. */
    XBZRLE_PAGE,
    /** {@code be64 offset|COMPRESS_PAGE[|CONTINUE], [u8 len, idstr], be32 len, len bytes} (zlib, QEMU &lt; 9.1). */
    COMPRESSED_PAGE,
    /** {@code be64 MULTIFD_FLUSH} (QEMU 8.0+). */
    RAM_MULTIFD_FLUSH,
    /** {@code be64 EOS}: the end of a RAM section's records. */
    RAM_EOS,
    // ---- multifd channels ----
    /** The 64-byte multifd channel init packet. */
    MULTIFD_INIT,
    /** A multifd RAM packet header (fixed size; its page data follows as {@link #RAM_PAGE}s). */
    MULTIFD_PACKET,
    /** A piece of a compressed multifd packet's payload (zlib, zstd, ...): opaque. */
    MULTIFD_COMPRESSED_DATA,
    /** A multifd device state packet header (QEMU 10.0+); its data follows as {@link #MULTIFD_DEVICE_STATE_DATA}. */
    MULTIFD_DEVICE_STATE,
    /** A piece of a multifd device state packet's data. */
    MULTIFD_DEVICE_STATE_DATA,
    // ---- anything ----
    /** Bytes the tokenizer does not understand, passed through unchanged. */
    LITERAL
}
