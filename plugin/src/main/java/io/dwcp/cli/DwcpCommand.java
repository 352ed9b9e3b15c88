package io.dwcp.cli;

import io.dwcp.migration.cli.StreamTool;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * The operator's {@code dwcp} command: {@code dwcp migrate} (a live migration through the local
 * dwcpd, with progress), {@code dwcp evacuate} (every running domain of this host, planned by ITP), {@code dwcp status} (the region as the local dwcpd sees it), {@code dwcp
 * baselines} (the baselines dwcpd keeps) and {@code dwcp stream} (inspects captured migration streams).
 */
@Command(
        name = "dwcp",
        mixinStandardHelpOptions = true,
        version = "dwcp 0.1.0",
        header = "Migrate KVM virtual machines live across wide-area networks through dwcpd.",
        description = "DWCP makes live migration of KVM virtual machines fast and safe across wide-area networks. "
                + "'dwcp migrate' has libvirt migrate a domain through the local dwcpd; 'dwcp evacuate' moves every running domain "
                + "of this host, in the order, concurrency and destinations ITP plans; 'dwcp status' shows the local dwcpd's region, "
                + "its leader, hosts and links; 'dwcp baselines' lists or removes the copies of VM memory dwcpd keeps for later "
                + "migrations; 'dwcp stream' inspects captured migration streams.",
        subcommands = {
            MigrateCommand.class,
            EvacuateCommand.class,
            StatusCommand.class,
            BaselinesCommand.class,
            DwcpCommand.Stream.class,
            CommandLine.HelpCommand.class
        },
        exitCodeOnInvalidInput = 2,
        usageHelpWidth = 100)
public final class DwcpCommand implements Callable<Integer> {
    public static void main(String[] args) {
        System.exit(new CommandLine(new DwcpCommand()).execute(args));
    }

    @Override
    public Integer call() {
        // No subcommand: show what there is, and say it was a usage error.
        new CommandLine(this).usage(System.err);
        return 2;
    }

    /** {@code dwcp stream inspect|copy ...}: the qemu-migration stream tool. */
    @Command(
            name = "stream",
            header = "Inspect or copy captured QEMU migration channels (QEMU 7.2 to 10.x).",
            description = {
                "Inspects or copies captured QEMU migration channels (QEMU 7.2 to 10.x).",
                "",
                "'dwcp stream inspect [--json] [--strict] FILE...' prints a summary of each channel and checks that "
                        + "writing its tokens back gives the input, byte for byte.",
                "",
                "'dwcp stream copy [--strict] IN OUT' tokenizes IN and writes the tokens to OUT.",
                "",
                "Exit status: 0 fine, 1 malformed (--strict) or a round trip that differs, 2 usage or I/O error."
            })
    static final class Stream implements Callable<Integer> {
        @Parameters(arity = "1..*", paramLabel = "ARGS", description = "inspect or copy, and their arguments.")
        List<String> arguments;

        @CommandLine.Option(
                names = {"-h", "--help"},
                usageHelp = true,
                description = "Show this help message and exit.")
        boolean help;

        @Override
        public Integer call() {
            return StreamTool.execute(arguments.toArray(String[]::new));
        }
    }
}
