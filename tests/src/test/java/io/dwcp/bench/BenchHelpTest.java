package io.dwcp.bench;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The help text renders whole: a bare '%' in a description makes picocli warn and print it raw. */
class BenchHelpTest {
    @Test
    void helpRendersWithoutFormatWarnings() {
        PrintStream stderr = System.err;
        ByteArrayOutputStream warnings = new ByteArrayOutputStream();
        String usage;
        System.setErr(new PrintStream(warnings, true, StandardCharsets.UTF_8));
        try {
            usage = new CommandLine(new Bench()).getUsageMessage(CommandLine.Help.Ansi.OFF);
        } finally {
            System.setErr(stderr);
        }
        String warned = warnings.toString(StandardCharsets.UTF_8);
        assertFalse(warned.contains("Could not format"), warned);
        assertTrue(usage.contains("80 % of the guest's pages"), usage);
        assertTrue(usage.contains("--scenario"), usage);
        assertTrue(usage.contains("--evacuate"), usage);
        assertTrue(usage.contains("--guests"), usage);
        assertTrue(usage.contains("--policies"), usage);
    }
}
