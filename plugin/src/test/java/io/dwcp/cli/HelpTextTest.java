package io.dwcp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.daemon.DwcpdCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The help of {@code dwcp} and {@code dwcpd} reads as whole sentences: every command has a
 * one-sentence header (the command lists and the man pages' NAME use it), its description's
 * paragraphs and every option's description end as sentences, not mid-phrase.
 */
class HelpTextTest {
    @Test
    void everyCommandAndOptionIsDescribedInWholeSentences() {
        List<String> problems = new ArrayList<>();
        check(new CommandLine(new DwcpCommand()), problems);
        check(DwcpdCommand.commandLine(), problems);
        assertEquals(List.of(), problems);
    }

    @Test
    void theCommandListShowsWholeHeaders() {
        StringWriter help = new StringWriter();
        CommandLine dwcp = new CommandLine(new DwcpCommand());
        dwcp.setOut(new PrintWriter(help));
        assertEquals(0, dwcp.execute("--help"));
        String text = help.toString().replaceAll("\\s+", " ");
        assertTrue(
                text.contains(" migrate Live-migrate a libvirt domain to another host through the local dwcpd. "),
                text);
        assertTrue(
                text.contains(
                        " evacuate Live-migrate every running domain of this host to other hosts, planned by ITP. "),
                text);
        assertTrue(
                text.contains(" baselines List the baselines the local dwcpd keeps, or remove those of a VM. "), text);
        assertTrue(
                text.contains(
                        " status Show this host's region, its leader, hosts and links as the local dwcpd sees them. "),
                text);
        assertTrue(
                text.contains(" stream Inspect or copy captured QEMU migration channels (QEMU 7.2 to 10.x). "), text);
    }

    @Test
    void migrateHelpTellsOfRegionHostsAndToRegion() {
        StringWriter help = new StringWriter();
        CommandLine dwcp = new CommandLine(new DwcpCommand());
        dwcp.setOut(new PrintWriter(help));
        assertEquals(0, dwcp.execute("migrate", "--help"));
        // picocli may wrap after a dot inside a key (region.staleness-bound): no sentence starts in lower case
        String text = help.toString().replaceAll("\\s+", " ").replaceAll("\\.\\s(?=[a-z])", ".");
        assertTrue(text.contains("Usage: dwcp migrate [-hV] [--dry-run] [--keep-source] [--transient]"), text);
        assertTrue(text.contains(" DOMAIN [TARGET]"), text);
        assertTrue(
                text.contains(
                        " --to-region=REGION Instead of TARGET: let dwcpd choose the host of REGION (this host's region or another one gossip knows) by the baseline it holds of DOMAIN, "
                                + "the measured link and its free capacity; prints each candidate's figures and why the one was chosen. "),
                text);
        assertTrue(
                text.contains(
                        "When dwcpd runs a region (region.name) and HOST is none of its configured peers, dwcpd looks HOST up in the region's host records "),
                text);
        assertTrue(
                text.contains("Every figure is read within region.staleness-bound, or the choice is refused. "), text);
    }

    /** picocli formats help text with String.format: a lone '%' garbles the text (and the man page generator fails on it). */
    private static void formats(String where, String text, List<String> problems) {
        try {
            String.format(text);
        } catch (java.util.IllegalFormatException e) {
            problems.add(where + " is not a valid format string ('%' must be '%%'): " + e + ": " + text);
        }
    }

    private static void check(CommandLine command, List<String> problems) {
        CommandSpec spec = command.getCommandSpec();
        String name = spec.qualifiedName();
        if (spec.mixinStandardHelpOptions() && spec.version().length == 0) {
            problems.add(name + ": --version prints nothing (no version)");
        }
        String[] header = spec.usageMessage().header();
        if (header.length != 1 || !header[0].endsWith(".")) {
            problems.add(name + ": header is not one sentence: " + List.of(header));
        }
        for (String line : spec.usageMessage().description()) {
            formats(name + ": description", line, problems);
            String paragraph = line.replaceAll("(%n)+$", ""); // picocli's line-break format specifier
            // indented lines are examples or tables, blank lines separate paragraphs
            if (!paragraph.isBlank() && !paragraph.startsWith(" ") && !paragraph.endsWith(".")) {
                problems.add(name + ": description does not end a sentence: " + paragraph);
            }
        }
        List<ArgSpec> arguments = new ArrayList<>(spec.options());
        arguments.addAll(spec.positionalParameters());
        for (ArgSpec argument : arguments) {
            String description = String.join(" ", argument.description());
            formats(
                    name + " " + argument.paramLabel() + ": description",
                    description.replace("${DEFAULT-VALUE}", "x"),
                    problems);
            if (description.isBlank() || !description.endsWith(".")) {
                problems.add(
                        name + " " + argument.paramLabel() + ": description is not a sentence: '" + description + "'");
            }
        }
        for (CommandLine subcommand : command.getSubcommands().values()) {
            check(subcommand, problems);
        }
    }
}
