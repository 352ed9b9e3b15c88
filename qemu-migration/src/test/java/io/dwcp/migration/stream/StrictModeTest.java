package io.dwcp.migration.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Strict mode: each malformation, built field by field, gives a {@link MalformedStreamException}
 * naming the exact offset, expectation and finding, however the input is split; lenient mode
 * passes the same bytes through unchanged.
 */
class StrictModeTest {
    private static final int PAGE = 4096;

    /** File header and configuration: 8 + 18 bytes. */
    private static Wire header() {
        return new Wire().ascii("QEVM").be32(3).u8(0x07).be32(13).ascii("pc-i440fx-7.2");
    }

    /** ... then START "ram" id 2 with one 4 KiB block and EOS, footer, and PART: records from offset 84. */
    private static Wire inRamPart() {
        return header().u8(0x01)
                .be32(2)
                .name("ram")
                .be32(0)
                .be32(4) // 26: START id 2 "ram" (17 bytes)
                .be64(0x1000 | 0x04)
                .name("pc.ram")
                .be64(0x1000) // 43: MEM_SIZE 4 KiB; 51: block pc.ram 4 KiB
                .be64(0x10)
                .u8(0x7e)
                .be32(2) // 66: EOS; 74: footer
                .u8(0x02)
                .be32(2); // 79: PART id 2; records from 84
    }

    @Test
    void badMagic() {
        assertMalformed(
                new Wire().ascii("QEVX").be32(3).toBytes(),
                0,
                "QEVM (0x5145564d) or multifd magic 0x11223344",
                "0x51455658");
    }

    @Test
    void badFileVersion() {
        assertMalformed(new Wire().ascii("QEVM").be32(2).toBytes(), 4, "file version 3", "0x00000002");
    }

    @Test
    void unknownSectionType() {
        assertMalformed(header().u8(0x09).toBytes(), 26, "a section type (0x00-0x08 or 0x7e)", "0x09");
    }

    @Test
    void configurationAfterASection() {
        assertMalformed(
                inRamPart()
                        .be64(0x10)
                        .u8(0x7e)
                        .be32(2)
                        .u8(0x07)
                        .be32(1)
                        .ascii("x")
                        .toBytes(),
                97,
                "a section type",
                "0x07");
    }

    @Test
    void unknownConfigurationSubsection() {
        assertMalformed(
                header().u8(0x05).name("configuration/foo").be32(1).be32(0).toBytes(),
                28,
                "a known configuration subsection",
                "\"configuration/foo\"");
    }

    @Test
    void idstrNotPrintable() {
        assertMalformed(
                header().u8(0x01).be32(1).u8(3).ascii("r\0m").be32(0).be32(4).toBytes(),
                31,
                "a printable section idstr",
                "bytes 0372006d");
    }

    @Test
    void partOfASectionNeverStarted() {
        assertMalformed(header().u8(0x02).be32(9).toBytes(), 27, "the id of a started section", "9");
    }

    @Test
    void footerOfAnotherSection() {
        assertMalformed(
                inRamPart().be64(0x10).u8(0x7e).be32(3).toBytes(), 93, "footer of section 2", "footer of section 3");
    }

    @Test
    void unknownRamFlags() {
        assertMalformed(
                inRamPart().be64(0x1000 | 0x80).toBytes(),
                90,
                "RAM record flags (ZERO, MEM_SIZE, PAGE, EOS, XBZRLE, COMPRESS_PAGE, MULTIFD_FLUSH)",
                "0x0080");
    }

    @Test
    void continueBeforeAnyBlock() {
        assertMalformed(
                inRamPart().be64(0x08 | 0x20).fill(PAGE, 0).toBytes(),
                84,
                "a RAM block name before the first CONTINUE record",
                "flags 0x0028");
    }

    @Test
    void ramBlockNameNotPrintable() {
        assertMalformed(
                inRamPart().be64(0x08).u8(2).u8(0x01).u8(0x02).fill(PAGE, 0).toBytes(),
                92,
                "a printable RAM block name",
                "bytes 020102");
    }

    @Test
    void xbzrleEncodingFlag() {
        assertMalformed(
                inRamPart().be64(0x40).name("pc.ram").u8(2).be16(3).fill(3, 0).toBytes(),
                99,
                "XBZRLE encoding flag 0x01",
                "0x02");
    }

    @Test
    void xbzrleTooLong() {
        assertMalformed(
                inRamPart().be64(0x40).name("pc.ram").u8(1).be16(4097).toBytes(),
                100,
                "an XBZRLE length <= 4096",
                "4097");
    }

    @Test
    void compressedPageTooLong() {
        assertMalformed(
                inRamPart().be64(0x100).name("pc.ram").be32(5000).toBytes(),
                99,
                "a compressed page length <= 4110",
                "5000");
    }

    @Test
    void blockListLongerThanTheRam() {
        assertMalformed(
                header().u8(0x01)
                        .be32(2)
                        .name("ram")
                        .be32(0)
                        .be32(4)
                        .be64(0x1000 | 0x04)
                        .name("pc.ram")
                        .be64(0x2000)
                        .toBytes(),
                58,
                "a block length <= 4096 (the rest of the RAM size)",
                "8192");
    }

    @Test
    void commandZero() {
        assertMalformed(header().u8(0x08).be16(0).be16(0).toBytes(), 27, "a command 1..31", "0");
    }

    @Test
    void truncatedPage() {
        assertMalformed(
                inRamPart().be64(0x08).name("pc.ram").fill(100, 0).toBytes(),
                84 + 15 + 100,
                "4111 bytes of a RAM page",
                "end of input after 115");
    }

    @Test
    void noEofAtTheEnd() {
        assertMalformed(
                inRamPart().be64(0x10).u8(0x7e).be32(2).toBytes(), 97, "more sections and QEMU_VM_EOF", "end of input");
    }

    @Test
    void endInsideADeviceSection() {
        assertMalformed(
                header().u8(0x04)
                        .be32(3)
                        .name("cpu")
                        .be32(0)
                        .be32(17)
                        .fill(10, 1)
                        .toBytes(),
                26 + 17 + 10,
                "the rest of the device section",
                "end of input");
    }

    @Test
    void empty() {
        assertMalformed(new byte[0], 0, "a channel magic", "end of input");
    }

    // ---- multifd

    private static Wire multifdInit() {
        return new Wire().be32(0x11223344).be32(1).fill(16, 0).u8(0).fill(7, 0).fill(32, 0);
    }

    /** A RAM packet header (flags, pages_alloc, normal, next_packet_size, zero) with 128 offsets given by {@code first}. */
    private static Wire packet(Wire w, int flags, int allocated, int normal, int nextPacketSize, int zero, long first) {
        return w.be32(0x11223344)
                .be32(1)
                .be32(flags)
                .be32(allocated)
                .be32(normal)
                .be32(nextPacketSize)
                .be64(1)
                .be32(zero)
                .be32(0)
                .fill(24, 0)
                .padded("pc.ram", 256)
                .be64(first)
                .fill(8 * 127, 0);
    }

    @Test
    void multifdInitVersion() {
        assertMalformed(
                new Wire().be32(0x11223344).be32(2).fill(56, 0).toBytes(), 4, "multifd version 1", "0x00000002");
    }

    @Test
    void multifdPacketMagic() {
        assertMalformed(
                multifdInit().be32(0x11223345).be32(1).be32(0).toBytes(), 64, "multifd magic 0x11223344", "0x11223345");
    }

    @Test
    void multifdPagesAllocated() {
        assertMalformed(packet(multifdInit(), 0, 129, 0, 0, 0, 0).toBytes(), 76, "pages_alloc <= 128", "129");
    }

    @Test
    void multifdTooManyPages() {
        assertMalformed(
                packet(multifdInit(), 0, 128, 100, 0, 29, 0).toBytes(), 80, "normal + zero pages <= 128", "100 + 29");
    }

    @Test
    void multifdUnalignedOffset() {
        assertMalformed(
                packet(multifdInit(), 0, 128, 1, PAGE, 0, 0x1001).fill(PAGE, 0).toBytes(),
                384,
                "a page-aligned offset",
                "0x0000000000001001");
    }

    @Test
    void multifdCompressedTooLong() {
        assertMalformed(
                packet(multifdInit(), 4, 128, 1, 0x7fffffff, 0, 0).toBytes(),
                84,
                "next_packet_size <= 67108864",
                "2147483647");
    }

    @Test
    void multifdTruncatedPage() {
        assertMalformed(
                packet(multifdInit(), 0, 128, 1, PAGE, 0, 0).fill(10, 0).toBytes(),
                64 + 1344 + 10,
                "4096 bytes of a multifd page",
                "end of input after 10");
    }

    @Test
    void emptyPayloadsEndCleanly() throws IOException {
        byte[] main = header().u8(0x00).u8(0x06).be32(0).toBytes(); // EOF, empty VM description
        byte[] multifd = packet(multifdInit(), 4, 128, 1, 0, 0, 0) // zstd packet with 0 bytes
                .be32(0x11223344)
                .be32(1)
                .be32(0x40)
                .padded("dev", 256)
                .be32(0)
                .be32(0) // device state, 0 bytes
                .toBytes();
        for (byte[] in : List.of(main, multifd)) {
            assertArrayEquals(
                    in,
                    MigrationStreamTokenizerTest.concat(
                            MigrationStreamTokenizerTest.tokenize(in, TokenizerOptions.strict(), in.length)));
        }
    }

    @Test
    void validStreamsPassStrictMode() throws IOException {
        for (byte[] in :
                List.of(MigrationStreamTokenizerTest.mainChannel(), MigrationStreamTokenizerTest.multifdChannel())) {
            assertArrayEquals(
                    in,
                    MigrationStreamTokenizerTest.concat(
                            MigrationStreamTokenizerTest.tokenize(in, TokenizerOptions.strict(), 3)));
        }
    }

    private static void assertMalformed(byte[] in, long offset, String expected, String found) {
        for (int piece : new int[] {Math.max(1, in.length), 1, 7, 100}) {
            MalformedStreamException e = assertThrows(
                    MalformedStreamException.class,
                    () -> MigrationStreamTokenizerTest.tokenize(in, TokenizerOptions.strict(), piece),
                    "pieces of " + piece);
            assertEquals(expected, e.expected(), "expected");
            assertEquals(found, e.found(), "found");
            assertEquals(offset, e.offset(), "offset");
            assertEquals(
                    "malformed migration stream at offset " + offset + ": expected " + expected + ", found " + found,
                    e.getMessage());
        }
        try {
            assertArrayEquals(
                    in,
                    MigrationStreamTokenizerTest.concat(
                            MigrationStreamTokenizerTest.tokenize(in, TokenizerOptions.lenient(), 5)),
                    "lenient round trip");
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
