package io.dwcp.daemon;

import io.dwcp.config.ConfigurationBinder;
import io.dwcp.config.ConfigurationException;
import io.dwcp.config.ConfigurationFile;
import io.dwcp.node.NodeConfig;
import io.dwcp.tls.CertificateAuthority;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** The {@code dwcpd} command line. */
@Command(
        name = "dwcpd",
        mixinStandardHelpOptions = true,
        version = "dwcpd 0.1.0",
        header = "The DWCP daemon: carries QEMU live migrations through an encrypted, adaptive multi-stream tunnel.",
        description = {
            "dwcpd carries QEMU live migrations between KVM hosts through an encrypted, adaptive multi-stream tunnel. "
                    + "One daemon plays both roles.",
            "As the source, it takes QEMU's migration stream on unix:<run-dir>/peer/<peer>.sock "
                    + "(or tcp:127.0.0.1:<peer.<peer>.qemu-port>) and sends it to that peer.",
            "As the destination, it accepts the peer's streams on the tunnel port and connects to QEMU -incoming "
                    + "on the same socket name or port.",
            "The configuration is a properties file, then --set overrides; 'dwcpd --help-config' lists the keys. "
                    + "A bad key or value is reported in one line, with exit status 2."
        },
        subcommands = {DwcpdCommand.TlsCa.class, DwcpdCommand.TlsHost.class},
        exitCodeOnInvalidInput = 2)
public final class DwcpdCommand implements Callable<Integer> {
    static final Path DEFAULT_CONFIG = Path.of("/etc/dwcp/dwcpd.properties");

    @Option(
            names = {"-c", "--config"},
            paramLabel = "FILE",
            description = "The configuration file (default: ${DEFAULT-VALUE}, optional when absent).",
            defaultValue = "/etc/dwcp/dwcpd.properties")
    Path configFile;

    @Option(
            names = {"-s", "--set"},
            paramLabel = "KEY=VALUE",
            description = "Set a key: key=value overrides the file (repeatable), e.g. --set node.run-dir=/run/dwcp-a.")
    List<String> overrides = List.of();

    @Option(names = "--help-config", description = "List every configuration key with its default and exit.")
    boolean helpConfig;

    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /**
     * The command line as {@link #main} runs it. A configuration error, also one a subcommand
     * meets, is one line on stderr ({@code dwcpd: key=value: rule}) and exit status 2.
     */
    public static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new DwcpdCommand());
        commandLine.setExecutionExceptionHandler((exception, command, parseResult) -> {
            if (exception instanceof ConfigurationException) {
                command.getErr().println("dwcpd: " + exception.getMessage());
                command.getErr().flush();
                return 2;
            }
            throw exception;
        });
        return commandLine;
    }

    @Override
    public Integer call() throws Exception {
        if (helpConfig) {
            PrintWriter out = spec.commandLine().getOut();
            out.println("Configuration keys (file " + DEFAULT_CONFIG + ", or --config; --set key=value overrides):");
            for (Class<?> type : DaemonConfiguration.CONFIG_CLASSES) {
                ConfigurationBinder.describe(type).forEach(out::println);
            }
            out.printf(
                    "  %-34s %-16s %s%n",
                    "peer.<name>.address", "(none)", "host:port of that peer's tunnel port (one entry per peer)");
            out.printf(
                    "  %-34s %-16s %s%n",
                    "peer.<name>.qemu-port", "(none)", "loopback TCP port QEMU uses for migrations to that peer");
            out.printf(
                    "  %-34s %-16s %s%n",
                    "gossip.peer.<name>",
                    "(none)",
                    "host:port of another region's host to gossip with (name = its certificate's CN)");
            out.flush();
            return 0;
        }
        PrintWriter err = spec.commandLine().getErr();
        DwcpDaemon daemon;
        try {
            daemon = DwcpDaemon.create(
                    ConfigurationFile.load(configFile, !configFile.equals(DEFAULT_CONFIG), overrides));
        } catch (ConfigurationException e) {
            err.println("dwcpd: " + e.getMessage());
            err.flush();
            return 2;
        } catch (com.google.inject.CreationException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            for (var message : e.getErrorMessages()) {
                if (message.getCause() != null) {
                    cause = message.getCause();
                    break;
                }
            }
            err.println("dwcpd: " + cause.getMessage());
            err.flush();
            return 2;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            daemon.close();
                            stopped.countDown();
                        },
                        "dwcpd-shutdown"));
        try {
            daemon.start();
        } catch (RuntimeException e) {
            err.println("dwcpd: cannot start: " + e.getMessage());
            err.flush();
            return 1;
        }
        stopped.await();
        return 0;
    }

    @Command(
            name = "tls-ca",
            mixinStandardHelpOptions = true,
            version = "dwcpd 0.1.0",
            header = "Create a CA (ca.pem, ca.key) for the dwcpd hosts of a site.",
            description =
                    "Creates a certificate authority (ca.pem, ca.key) for the dwcpd hosts of a site. Keep ca.key off the hosts.")
    static final class TlsCa implements Callable<Integer> {
        @Option(
                names = "--dir",
                paramLabel = "DIR",
                description = "Where to write ca.pem and ca.key (default: ${DEFAULT-VALUE}).",
                defaultValue = "/etc/dwcp/tls")
        Path directory;

        @Option(
                names = "--name",
                paramLabel = "NAME",
                description = "The CA's name (default: ${DEFAULT-VALUE}).",
                defaultValue = "DWCP CA")
        String name;

        @Option(
                names = "--days",
                paramLabel = "DAYS",
                defaultValue = "3650",
                description = "Validity in days (default: ${DEFAULT-VALUE}).")
        int days;

        @Override
        public Integer call() {
            CertificateAuthority.create(directory, name, Duration.ofDays(days));
            System.out.println("wrote " + directory.resolve("ca.pem") + " and " + directory.resolve("ca.key")
                    + " (keep ca.key off the hosts)");
            return 0;
        }
    }

    @Command(
            name = "tls-host",
            mixinStandardHelpOptions = true,
            version = "dwcpd 0.1.0",
            header = "Issue a host certificate (CN = node.name) signed by the CA.",
            description =
                    "Issues a host certificate and key (host.pem, host.key) whose CN is the host's node.name, signed by the site's CA.")
    static final class TlsHost implements Callable<Integer> {
        @Option(
                names = "--ca-dir",
                paramLabel = "DIR",
                description = "The folder with ca.pem and ca.key (default: ${DEFAULT-VALUE}).",
                defaultValue = "/etc/dwcp/tls")
        Path caDirectory;

        @Option(names = "--name", paramLabel = "NAME", required = true, description = "The host's node.name.")
        String name;

        @Option(
                names = "--out",
                paramLabel = "DIR",
                description = "Where to write host.pem and host.key (default: the CA's folder).")
        Path out;

        @Option(
                names = "--days",
                paramLabel = "DAYS",
                defaultValue = "825",
                description = "Validity in days (default: ${DEFAULT-VALUE}).")
        int days;

        @Override
        public Integer call() {
            NodeConfig.checkName(name, "--name");
            Path directory = out == null ? caDirectory : out;
            CertificateAuthority.load(caDirectory)
                    .issue(name, directory.resolve("host.pem"), directory.resolve("host.key"), Duration.ofDays(days));
            System.out.println("wrote " + directory.resolve("host.pem") + " and " + directory.resolve("host.key")
                    + " for " + name);
            return 0;
        }
    }
}
