package io.dwcp.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class DwcpCommandTest {
    private static int run(StringWriter out, String... args) {
        CommandLine commandLine = new CommandLine(new DwcpCommand());
        commandLine.setOut(new PrintWriter(out));
        commandLine.setErr(new PrintWriter(out));
        return commandLine.execute(args);
    }

    @Test
    void versionAndHelpAnswer() {
        StringWriter version = new StringWriter();
        assertEquals(0, run(version, "--version"));
        assertEquals("dwcp 0.1.0", version.toString().strip());

        StringWriter help = new StringWriter();
        assertEquals(0, run(help, "--help"));
        assertTrue(help.toString().contains("stream"), help.toString());
    }

    @Test
    void unknownOptionIsAUsageError() {
        assertEquals(2, run(new StringWriter(), "--no-such-option"));
    }

    @Test
    void streamCopyRoundTripsAStreamByteForByte(@TempDir Path dir) throws Exception {
        // A minimal main channel: QEVM magic, version 3, then the EOF marker.
        byte[] stream = {'Q', 'E', 'V', 'M', 0, 0, 0, 3, 0x00};
        Path in = Files.write(dir.resolve("in.bin"), stream);
        Path out = dir.resolve("out.bin");
        assertEquals(0, run(new StringWriter(), "stream", "copy", in.toString(), out.toString()));
        assertArrayEquals(stream, Files.readAllBytes(out));
    }

    @Test
    void streamWithoutArgumentsIsAUsageError() {
        assertEquals(2, run(new StringWriter(), "stream"));
    }
}
