package io.dwcp.migration.stream;

import static io.dwcp.migration.stream.TokenType.COMMAND;
import static io.dwcp.migration.stream.TokenType.CONFIGURATION;
import static io.dwcp.migration.stream.TokenType.EOF;
import static io.dwcp.migration.stream.TokenType.FILE_HEADER;
import static io.dwcp.migration.stream.TokenType.LITERAL;
import static io.dwcp.migration.stream.TokenType.MULTIFD_COMPRESSED_DATA;
import static io.dwcp.migration.stream.TokenType.MULTIFD_DEVICE_STATE;
import static io.dwcp.migration.stream.TokenType.MULTIFD_DEVICE_STATE_DATA;
import static io.dwcp.migration.stream.TokenType.MULTIFD_INIT;
import static io.dwcp.migration.stream.TokenType.MULTIFD_PACKET;
import static io.dwcp.migration.stream.TokenType.RAM_BLOCK;
import static io.dwcp.migration.stream.TokenType.RAM_EOS;
import static io.dwcp.migration.stream.TokenType.RAM_MEM_SIZE;
import static io.dwcp.migration.stream.TokenType.RAM_MULTIFD_FLUSH;
import static io.dwcp.migration.stream.TokenType.RAM_PAGE;
import static io.dwcp.migration.stream.TokenType.SECTION_DATA;
import static io.dwcp.migration.stream.TokenType.SECTION_END;
import static io.dwcp.migration.stream.TokenType.SECTION_FOOTER;
import static io.dwcp.migration.stream.TokenType.SECTION_FULL;
import static io.dwcp.migration.stream.TokenType.SECTION_PART;
import static io.dwcp.migration.stream.TokenType.SECTION_START;
import static io.dwcp.migration.stream.TokenType.VM_DESCRIPTION;
import static io.dwcp.migration.stream.TokenType.VM_DESCRIPTION_DATA;
import static io.dwcp.migration.stream.TokenType.XBZRLE_PAGE;
import static io.dwcp.migration.stream.TokenType.ZERO_PAGE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Golden bytes: hand-built channels, every field commented, and the exact tokens they give. */
class MigrationStreamTokenizerTest {
    static final int PAGE = 4096;

    /** A small main channel with every kind of item; device data holds a footer look-alike. */
    static byte[] mainChannel() {
        byte[] page = new byte[PAGE];
        java.util.Arrays.fill(page, (byte) 0xab);
        return new Wire()
                .ascii("QEVM")
                .be32(3) // file magic, version 3
                .u8(0x07)
                .be32(13)
                .ascii("pc-i440fx-7.2") // configuration: machine name
                .u8(0x01)
                .be32(2)
                .name("ram")
                .be32(0)
                .be32(4) // START id 2 "ram", instance 0, version 4
                .be64(0x2000 | 0x04) // MEM_SIZE: 8 KiB in all
                .name("pc.ram")
                .be64(0x2000) //   block pc.ram, 8 KiB
                .be64(0x10) // EOS
                .u8(0x7e)
                .be32(2) // footer of section 2
                .u8(0x02)
                .be32(2) // PART id 2
                .be64(0x0000 | 0x08)
                .name("pc.ram")
                .bytes(page) // PAGE at 0 in pc.ram, 4096 bytes
                .be64(0x1000 | 0x02 | 0x20)
                .u8(0) // ZERO|CONTINUE at 0x1000, fill 0
                .be64(0x1000 | 0x40 | 0x20)
                .u8(1)
                .be16(3)
                .u8(0x01)
                .u8(0x02)
                .u8(0x03) // XBZRLE|CONTINUE, 3 bytes
                .be64(0x200) // MULTIFD_FLUSH
                .be64(0x10) // EOS
                .u8(0x7e)
                .be32(2) // footer
                .u8(0x08)
                .be16(2)
                .be16(4)
                .be32(1) // command PING (2), 4 bytes
                .u8(0x03)
                .be32(2)
                .be64(0x10)
                .u8(0x7e)
                .be32(2) // END id 2: EOS, footer
                .u8(0x04)
                .be32(3)
                .name("cpu")
                .be32(0)
                .be32(17) // FULL id 3 "cpu", instance 0, version 17
                .u8(0x11)
                .u8(0x7e)
                .be32(3)
                .u8(0xff) //   device data with "7e 00000003" then 0xff: not a footer
                .u8(0x7e)
                .be32(3)
                .u8(0x01)
                .be32(4)
                .u8(0) //   and a footer followed by a START with an empty idstr: not one
                .u8(0x7e)
                .be32(3) // the real footer of section 3
                .u8(0x00) // EOF
                .u8(0x06)
                .be32(8)
                .ascii("{\"a\": 1}") // VM description, 8 bytes of JSON
                .toBytes();
    }

    @Test
    void mainChannelTokens() throws IOException {
        byte[] in = mainChannel();
        List<Token> tokens = tokenize(in, TokenizerOptions.strict(), in.length);
        assertEquals(
                List.of(
                        FILE_HEADER,
                        CONFIGURATION,
                        SECTION_START,
                        RAM_MEM_SIZE,
                        RAM_BLOCK,
                        RAM_EOS,
                        SECTION_FOOTER,
                        SECTION_PART,
                        RAM_PAGE,
                        ZERO_PAGE,
                        XBZRLE_PAGE,
                        RAM_MULTIFD_FLUSH,
                        RAM_EOS,
                        SECTION_FOOTER,
                        COMMAND,
                        SECTION_END,
                        RAM_EOS,
                        SECTION_FOOTER,
                        SECTION_FULL,
                        SECTION_DATA,
                        SECTION_FOOTER,
                        EOF,
                        VM_DESCRIPTION,
                        VM_DESCRIPTION_DATA),
                tokens.stream().map(Token::type).toList());
        Token start = tokens.get(2);
        assertEquals(2, start.sectionId());
        assertEquals("ram", start.sectionName());
        assertEquals(4, start.versionId());
        assertEquals(0x2000, tokens.get(3).pageOffset());
        assertEquals("pc.ram", tokens.get(4).blockName());
        Token page = tokens.get(8);
        assertEquals("pc.ram", page.blockName());
        assertEquals(0, page.pageOffset());
        assertEquals(0x08, page.ramFlags());
        assertEquals(15, page.headerLength()); // be64 + u8 6 + "pc.ram"
        assertEquals(PAGE, page.contentLength());
        assertEquals((byte) 0xab, page.array()[page.contentOffset() + PAGE - 1]);
        Token zero = tokens.get(9);
        assertEquals("pc.ram", zero.blockName()); // CONTINUE: the block of the previous record
        assertEquals(0x1000, zero.pageOffset());
        assertEquals(9, zero.length());
        Token xbzrle = tokens.get(10);
        assertEquals(3, xbzrle.contentLength());
        assertEquals(0x01, xbzrle.array()[xbzrle.contentOffset()]);
        assertEquals(2, tokens.get(14).command());
        Token data = tokens.get(19);
        assertEquals(1 + 5 + 1 + 5 + 1 + 4 + 1, data.length()); // both look-alikes stay device data
        assertEquals(3, data.sectionId());
        assertEquals(8, tokens.get(22).declaredLength());
        StreamStatistics s = tokens.isEmpty() ? null : lastStatistics;
        assertEquals(1, s.pages());
        assertEquals(1, s.zeroPages());
        assertEquals(1, s.xbzrlePages());
        assertEquals(0, s.literalBytes());
        assertEquals(4, s.sections()); // start, part, end, full
        assertEquals(ChannelKind.MAIN, s.channelKind());
    }

    @Test
    void pageContentIsNotCopiedWhenItArrivesWhole() {
        byte[] in = mainChannel();
        MigrationStreamTokenizer t = new MigrationStreamTokenizer();
        t.feed(in, 0, in.length);
        for (Token k = t.next(); k != null; k = t.next()) {
            if (k.type() == RAM_PAGE) {
                assertSame(in, k.array());
            }
        }
    }

    /** A multifd channel of QEMU 10.0: init, a RAM packet with 2 pages and 1 zero page, a SYNC with a stale size, zstd, device state. */
    static byte[] multifdChannel() {
        Wire w = new Wire()
                .be32(0x11223344)
                .be32(1) // init: magic, version 1
                .fill(16, 0x5a) //   uuid
                .u8(1)
                .fill(7, 0)
                .fill(32, 0); //   channel id 1, unused
        w.be32(0x11223344)
                .be32(1)
                .be32(0) // packet: magic, version, flags 0 (no compression)
                .be32(128)
                .be32(2)
                .be32(2 * PAGE) //   pages_alloc 128, normal 2, next_packet_size 8192
                .be64(7) //   packet_num 7
                .be32(1)
                .be32(0)
                .fill(24, 0) //   zero_pages 1, unused
                .padded("pc.ram", 256) //   ramblock
                .be64(0x3000)
                .be64(0x5000)
                .be64(0x4000) //   offsets: normal 0x3000 0x5000, zero 0x4000
                .fill(8 * 125, 0) //   rest of the 128 offsets
                .fill(PAGE, 0x33)
                .fill(PAGE, 0x55); //   the two pages
        w.be32(0x11223344)
                .be32(1)
                .be32(1) // packet: flags SYNC
                .be32(0)
                .be32(0)
                .be32(2 * PAGE) //   no pages, stale next_packet_size 8192: no data follows
                .be64(8)
                .fill(32, 0)
                .fill(256, 0)
                .fill(8 * 128, 0);
        w.be32(0x11223344)
                .be32(1)
                .be32(4) // packet: flags ZSTD (2 << 1)
                .be32(128)
                .be32(1)
                .be32(5) //   1 page, 5 compressed bytes
                .be64(9)
                .fill(32, 0)
                .padded("pc.ram", 256)
                .be64(0x6000)
                .fill(8 * 127, 0)
                .fill(5, 0xcc); //   the zstd payload
        w.be32(0x11223344)
                .be32(1)
                .be32(0x40) // packet: flags DEVICE_STATE (32 << 1)
                .padded("0000:00:05.0/vfio", 256) //   idstr
                .be32(0)
                .be32(3) //   instance 0, 3 bytes
                .u8(1)
                .u8(2)
                .u8(3);
        return w.toBytes();
    }

    @Test
    void multifdChannelTokens() throws IOException {
        byte[] in = multifdChannel();
        List<Token> tokens = tokenize(in, TokenizerOptions.strict(), in.length);
        assertEquals(
                List.of(
                        MULTIFD_INIT,
                        MULTIFD_PACKET,
                        RAM_PAGE,
                        RAM_PAGE,
                        MULTIFD_PACKET,
                        MULTIFD_PACKET,
                        MULTIFD_COMPRESSED_DATA,
                        MULTIFD_DEVICE_STATE,
                        MULTIFD_DEVICE_STATE_DATA),
                tokens.stream().map(Token::type).toList());
        assertEquals(1, tokens.get(0).instanceId());
        Token packet = tokens.get(1);
        assertEquals(1344, packet.length());
        assertEquals(2, packet.normalPages());
        assertEquals(1, packet.zeroPages());
        assertEquals(0x4000, packet.packetOffset(2));
        assertEquals(7, packet.packetNumber());
        Token second = tokens.get(3);
        assertEquals("pc.ram", second.blockName());
        assertEquals(0x5000, second.pageOffset());
        assertEquals(0, second.headerLength());
        assertEquals(0x55, second.array()[second.contentOffset()]);
        assertEquals(2 * PAGE, tokens.get(4).nextPacketSize()); // stale, and ignored
        assertEquals(1344, tokens.get(4).length());
        assertEquals(5, tokens.get(6).length());
        assertEquals("0000:00:05.0/vfio", tokens.get(7).sectionName());
        assertEquals(276, tokens.get(7).length());
        StreamStatistics s = lastStatistics;
        assertEquals(2, s.pages());
        assertEquals(1, s.zeroPages());
        assertEquals(1, s.compressedPages());
        assertEquals(4, s.multifdPackets());
        assertEquals(1, s.multifdSyncPackets());
        assertEquals(1, s.multifdDeviceStatePackets());
        assertEquals(ChannelKind.MULTIFD, s.channelKind());
    }

    @Test
    void everySplitGivesTheSameTokensAndBytes() throws IOException {
        for (byte[] in : List.of(mainChannel(), multifdChannel())) {
            List<String> whole = structure(tokenize(in, TokenizerOptions.strict(), in.length));
            for (int piece = 1; piece <= 97; piece += 3) {
                List<Token> tokens = tokenize(in, TokenizerOptions.strict(), piece);
                assertEquals(whole, structure(tokens), "pieces of " + piece);
                assertArrayEquals(in, concat(tokens));
            }
            // every single split point
            for (int split = 0; split <= in.length; split += 1 + split / 64) {
                MigrationStreamTokenizer t = new MigrationStreamTokenizer(TokenizerOptions.strict());
                List<Token> tokens = new ArrayList<>();
                t.feed(in, 0, split);
                drain(t, tokens);
                t.feed(in, split, in.length - split);
                t.endOfInput();
                drain(t, tokens);
                assertEquals(whole, structure(tokens), "split at " + split);
                assertArrayEquals(in, concat(tokens));
            }
        }
    }

    @Test
    void pendingBytesAreTheFedBytesNotYetInATokenAtEverySplit() throws IOException {
        for (byte[] in : List.of(mainChannel(), multifdChannel())) {
            for (int piece = 1; piece <= 4200; piece += piece < 16 ? 1 : 61) {
                MigrationStreamTokenizer t = new MigrationStreamTokenizer(TokenizerOptions.strict());
                List<Token> tokens = new ArrayList<>();
                int fed = 0;
                while (fed < in.length) {
                    int length = Math.min(piece, in.length - fed);
                    t.feed(in, fed, length);
                    fed += length;
                    drain(t, tokens);
                    assertEquals(fed, t.position() + t.pendingLength(), "pieces of " + piece + " at " + fed);
                    assertTrue(t.pendingLength() <= MigrationStreamTokenizer.MAX_CARRY);
                    // from every offset within the pending bytes: exactly the input's bytes up to what was fed
                    for (long from = t.position(); from <= fed; from += 1 + (fed - from) / 3) {
                        assertArrayEquals(
                                Arrays.copyOfRange(in, (int) from, fed),
                                pending(t, from),
                                "pieces of " + piece + " at " + fed + " from " + from);
                    }
                }
                t.endOfInput();
                drain(t, tokens);
                assertEquals(0, t.pendingLength());
                assertArrayEquals(in, concat(tokens), "pieces of " + piece);
            }
        }
    }

    @Test
    void pendingBytesReadNothingAndRefuseOffsetsOutside() {
        byte[] in = mainChannel();
        MigrationStreamTokenizer t = new MigrationStreamTokenizer(TokenizerOptions.strict());
        List<Token> tokens = new ArrayList<>();
        t.feed(in, 0, 10);
        drain(t, tokens);
        long position = t.position();
        int pending = t.pendingLength();
        assertTrue(pending > 0, "a 10-byte piece leaves bytes held back");
        assertArrayEquals(pending(t, position), pending(t, position), "reading them twice gives the same bytes");
        assertEquals(position, t.position());
        assertEquals(pending, t.pendingLength());
        assertThrows(IllegalArgumentException.class, () -> t.pending(position - 1, (a, o, l) -> {}));
        assertThrows(IllegalArgumentException.class, () -> t.pending(position + pending + 1, (a, o, l) -> {}));
        assertEquals(0, pending(t, position + pending).length);
    }

    @Test
    void multifdResynchronizesAtTheNextPlausiblePacket() throws IOException {
        byte[] good = multifdChannel();
        byte[] in = new Wire()
                .bytes(java.util.Arrays.copyOf(good, 64)) // init
                .be32(0x11223344)
                .be32(1)
                .be32(0)
                .be32(999) // a packet claiming 999 pages allocated
                .fill(100, 0x11) // and bytes that start like a magic
                .bytes(java.util.Arrays.copyOfRange(good, 64, good.length)) // then the real packets
                .toBytes();
        for (int piece : new int[] {in.length, 1, 13, 1000}) {
            List<Token> tokens = tokenize(in, TokenizerOptions.lenient(), piece);
            assertArrayEquals(in, concat(tokens));
            assertEquals(
                    List.of(
                            MULTIFD_INIT,
                            MULTIFD_PACKET,
                            RAM_PAGE,
                            RAM_PAGE,
                            MULTIFD_PACKET,
                            MULTIFD_PACKET,
                            MULTIFD_DEVICE_STATE),
                    tokens.stream()
                            .map(Token::type)
                            .filter(t -> t != LITERAL && t != MULTIFD_COMPRESSED_DATA && t != MULTIFD_DEVICE_STATE_DATA)
                            .toList(),
                    "pieces of " + piece);
            assertEquals(116, lastStatistics.literalBytes());
            assertEquals(2, lastStatistics.pages());
        }
    }

    @Test
    void ignoreSharedBlockEntriesCarryAnAddress() throws IOException {
        byte[] in = new Wire()
                .ascii("QEVM")
                .be32(3)
                .u8(0x07)
                .be32(4)
                .ascii("pc-q") // configuration
                .u8(0x05)
                .name("configuration/capabilities")
                .be32(1) // subsection, version 1
                .be32(1)
                .name("x-ignore-shared") //   1 capability
                .u8(0x01)
                .be32(1)
                .name("ram")
                .be32(0)
                .be32(4) // START ram
                .be64(0x1000 | 0x04)
                .name("pc.ram")
                .be64(0x1000)
                .be64(0xfe000000L) // block: length, address
                .be64(0x10)
                .u8(0x7e)
                .be32(1) // EOS, footer
                .u8(0x03)
                .be32(1)
                .be64(0x08)
                .name("pc.ram")
                .fill(PAGE, 7)
                .be64(0x10)
                .u8(0x7e)
                .be32(1)
                .u8(0x00)
                .toBytes();
        List<Token> tokens = tokenize(in, TokenizerOptions.strict(), 17);
        assertArrayEquals(in, concat(tokens));
        assertEquals(
                List.of(
                        FILE_HEADER,
                        CONFIGURATION,
                        CONFIGURATION,
                        SECTION_START,
                        RAM_MEM_SIZE,
                        RAM_BLOCK,
                        RAM_EOS,
                        SECTION_FOOTER,
                        SECTION_END,
                        RAM_PAGE,
                        RAM_EOS,
                        SECTION_FOOTER,
                        EOF),
                tokens.stream().map(Token::type).toList());
        assertEquals(23, tokens.get(5).length());
    }

    @Test
    void unknownChannelIsLiteral() throws IOException {
        byte[] in = new Wire().ascii("GET / HTTP/1.0\r\n").toBytes();
        List<Token> tokens = tokenize(in, TokenizerOptions.lenient(), 5);
        assertTrue(tokens.stream().allMatch(t -> t.type() == LITERAL));
        assertArrayEquals(in, concat(tokens));
        assertEquals(ChannelKind.UNKNOWN, lastStatistics.channelKind());
        assertEquals(in.length, lastStatistics.literalBytes());
    }

    @Test
    void emptyAndTinyInputs() throws IOException {
        for (int n = 0; n < 4; n++) {
            byte[] in = java.util.Arrays.copyOf("QEVM".getBytes(), n);
            assertArrayEquals(in, concat(tokenize(in, TokenizerOptions.lenient(), 1)));
        }
    }

    @Test
    void feedBeforeConsumingIsRefused() {
        MigrationStreamTokenizer t = new MigrationStreamTokenizer();
        t.feed(new byte[10], 0, 10);
        assertThrows(IllegalStateException.class, () -> t.feed(new byte[1], 0, 1));
        while (t.next() != null) {
            // drain
        }
        t.endOfInput();
        assertThrows(IllegalStateException.class, () -> t.feed(new byte[1], 0, 1));
        assertNull(t.next());
        assertTrue(t.isFinished());
    }

    @Test
    void writerRebuildsAPageFromItsParts() throws IOException {
        byte[] in = mainChannel();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        MigrationStreamWriter writer = new MigrationStreamWriter(ByteSink.of(out));
        MigrationStreamTokenizer t = new MigrationStreamTokenizer();
        t.feed(in, 0, in.length);
        t.endOfInput();
        for (Token k = t.next(); k != null; k = t.next()) {
            if (k.type() == RAM_PAGE) {
                // as a tunnel's far end would: the header it was sent, the content it resolved
                byte[] header = java.util.Arrays.copyOfRange(k.array(), k.offset(), k.contentOffset());
                byte[] content = copyContent(k);
                writer.writeRecord(header, 0, header.length, content, 0, content.length);
            } else {
                writer.write(k);
            }
        }
        assertArrayEquals(in, out.toByteArray());
        assertEquals(in.length, writer.bytesWritten());
    }

    private static byte[] copyContent(Token k) {
        byte[] b = new byte[k.contentLength()];
        k.content().get(b);
        return b;
    }

    // ---- helpers

    static StreamStatistics lastStatistics;

    static List<Token> tokenize(byte[] in, TokenizerOptions options, int piece) {
        MigrationStreamTokenizer t = new MigrationStreamTokenizer(options);
        List<Token> tokens = new ArrayList<>();
        for (int at = 0; at < in.length; at += piece) {
            t.feed(in, at, Math.min(piece, in.length - at));
            drain(t, tokens);
        }
        t.endOfInput();
        drain(t, tokens);
        lastStatistics = t.statistics();
        return tokens;
    }

    static byte[] pending(MigrationStreamTokenizer t, long from) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        t.pending(from, out::write);
        return out.toByteArray();
    }

    static void drain(MigrationStreamTokenizer t, List<Token> tokens) {
        for (Token k = t.next(); k != null; k = t.next()) {
            tokens.add(k.copy());
        }
    }

    static byte[] concat(List<Token> tokens) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        MigrationStreamWriter writer = new MigrationStreamWriter(ByteSink.of(out));
        for (Token k : tokens) {
            writer.write(k);
        }
        return out.toByteArray();
    }

    static List<String> structure(List<Token> tokens) {
        List<String> s = new ArrayList<>();
        for (Token k : tokens) {
            switch (k.type()) {
                case LITERAL,
                        SECTION_DATA,
                        VM_DESCRIPTION_DATA,
                        MULTIFD_COMPRESSED_DATA,
                        MULTIFD_DEVICE_STATE_DATA -> {}
                default -> s.add(k.toString());
            }
        }
        return s;
    }
}
