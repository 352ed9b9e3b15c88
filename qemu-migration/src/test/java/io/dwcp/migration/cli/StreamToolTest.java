package io.dwcp.migration.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.luben.zstd.ZstdInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StreamToolTest {
    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return new StreamTool(
                        new PrintStream(out, true, StandardCharsets.UTF_8),
                        new PrintStream(err, true, StandardCharsets.UTF_8))
                .run(args);
    }

    private Path fixture(String name) throws IOException {
        Path file = dir.resolve(name.replace('/', '-') + ".bin");
        try (InputStream in =
                new ZstdInputStream(StreamToolTest.class.getResourceAsStream("/fixtures/" + name + ".bin.zst"))) {
            Files.write(file, in.readAllBytes());
        }
        return file;
    }

    @Test
    void inspectSummarizesAMultifdMigration() throws IOException {
        Path main = fixture("qemu-10.0-multifd/channel-0");
        Path one = fixture("qemu-10.0-multifd/channel-1");
        Path two = fixture("qemu-10.0-multifd/channel-2");
        assertEquals(0, run("inspect", "--strict", main.toString(), one.toString(), two.toString()), err.toString());
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains(main + ": MAIN channel, 113190 bytes, round trip exact"), text);
        assertTrue(text.contains(one + ": MULTIFD channel, 11476352 bytes, round trip exact"), text);
        assertTrue(text.contains("pages 2770, zero pages 8015"), text);
        assertTrue(
                text.contains(
                        "total: 3 channels, 22189670 bytes, 5331 pages with data, 13620 zero pages, round trip exact"),
                text);
    }

    @Test
    void inspectJson() throws IOException {
        Path main = fixture("qemu-7.2-precopy/channel-0");
        assertEquals(0, run("inspect", "--json", main.toString()));
        String json = out.toString(StandardCharsets.UTF_8).trim();
        assertTrue(
                json.startsWith("{\"channels\":[{\"file\":\"" + main + "\",\"roundTrip\":true,\"channel\":\"MAIN\""),
                json);
        assertTrue(json.contains("\"pages\":4992,\"zeroPages\":13623"), json);
        assertTrue(json.endsWith("\"pages\":4992,\"zeroPages\":13623,\"roundTrip\":true}"), json);
    }

    @Test
    void copyWritesTheSameBytes() throws IOException {
        Path in = fixture("qemu-7.2-xbzrle/channel-0");
        Path copy = dir.resolve("copy.bin");
        assertEquals(0, run("copy", in.toString(), copy.toString()), err.toString());
        assertArrayEquals(Files.readAllBytes(in), Files.readAllBytes(copy));
    }

    @Test
    void strictReportsAMalformedStream() throws IOException {
        Path bad = dir.resolve("bad.bin");
        Files.write(bad, new byte[] {'Q', 'E', 'V', 'M', 0, 0, 0, 3, 0x09});
        assertEquals(1, run("inspect", "--strict", bad.toString()));
        assertEquals(
                "dwcp-stream: malformed migration stream at offset 8: expected a section type (0x00-0x08 or 0x7e), found 0x09\n",
                err.toString(StandardCharsets.UTF_8));
        out.reset();
        assertEquals(0, run("inspect", bad.toString()));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("literal 1 bytes"));
    }

    @Test
    void usageAndMissingFiles() {
        assertEquals(2, run());
        assertEquals(2, run("frobnicate"));
        assertEquals(2, run("copy", "one"));
        assertEquals(2, run("inspect", dir.resolve("missing").toString()));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("no such file"));
    }
}
