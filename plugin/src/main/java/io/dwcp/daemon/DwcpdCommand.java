package io.dwcp.daemon;

import io.dwcp.config.ConfigurationBinder;
import io.dwcp.config.ConfigurationException;
import io.dwcp.tls.CertificateAuthority;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** The {@code dwcpd} command line. */
@Command(name = "dwcpd", mixinStandardHelpOptions = true, version = "dwcpd 0.1.0",
        description = {
                "DWCP daemon: carries QEMU live migrations through an encrypted, adaptive multi-stream tunnel.",
                "Source role: QEMU migrates to unix:<run-dir>/peer/<peer>.sock (or tcp:127.0.0.1:<peer.<peer>.qemu-port>).",
                "Destination role: the tunnel port; connects to QEMU -incoming on the same socket name or port.",
                "Configuration: a properties file, then --set overrides; 'dwcpd --help-config' lists the keys."},
        subcommands = {DwcpdCommand.TlsCa.class, DwcpdCommand.TlsHost.class},
        exitCodeOnInvalidInput = 2)
public final class DwcpdCommand
        implements Callable<Integer>
{
    static final Path DEFAULT_CONFIG = Path.of("/etc/dwcp/dwcpd.properties");

    @Option(names = {"-c", "--config"}, description = "configuration file (default: ${DEFAULT-VALUE}; optional when absent)", defaultValue = "/etc/dwcp/dwcpd.properties")
    Path configFile;

    @Option(names = {"-s", "--set"}, description = "key=value, overrides the file (repeatable), e.g. --set node.run-dir=/run/dwcp-a")
    List<String> overrides = List.of();

    @Option(names = "--help-config", description = "list every configuration key with its default and exit")
    boolean helpConfig;

    @Spec
    CommandSpec spec;

    public static void main(String[] args)
    {
        System.exit(commandLine().execute(args));
    }

    /**
     * The command line as {@link #main} runs it. A configuration error, also one a subcommand
     * meets, is one line on stderr ({@code dwcpd: key=value: rule}) and exit status 2.
     */
    public static CommandLine commandLine()
    {
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
    public Integer call()
            throws Exception
    {
        if (helpConfig) {
            PrintWriter out = spec.commandLine().getOut();
            out.println("Configuration keys (file " + DEFAULT_CONFIG + ", or --config; --set key=value overrides):");
            for (Class<?> type : DaemonConfiguration.CONFIG_CLASSES) {
                ConfigurationBinder.describe(type).forEach(out::println);
            }
            out.printf("  %-34s %-16s %s%n", "peer.<name>.address", "(none)", "host:port of that peer's tunnel port (one entry per peer)");
            out.printf("  %-34s %-16s %s%n", "peer.<name>.qemu-port", "(none)", "loopback TCP port QEMU uses for migrations to that peer");
            out.flush();
            return 0;
        }
        PrintWriter err = spec.commandLine().getErr();
        DwcpDaemon daemon;
        try {
            daemon = DwcpDaemon.create(loadProperties(configFile, !configFile.equals(DEFAULT_CONFIG), overrides));
        }
        catch (ConfigurationException e) {
            err.println("dwcpd: " + e.getMessage());
            err.flush();
            return 2;
        }
        catch (com.google.inject.CreationException e) {
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
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            daemon.close();
            stopped.countDown();
        }, "dwcpd-shutdown"));
        try {
            daemon.start();
        }
        catch (RuntimeException e) {
            err.println("dwcpd: cannot start: " + e.getMessage());
            err.flush();
            return 1;
        }
        stopped.await();
        return 0;
    }

    /** The file's properties (if it exists, or must) with the key=value overrides on top. */
    public static Map<String, String> loadProperties(Path file, boolean required, List<String> overrides)
    {
        Map<String, String> properties = new LinkedHashMap<>();
        if (Files.exists(file)) {
            Properties loaded = new Properties();
            try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                loaded.load(reader);
            }
            catch (IOException e) {
                throw new ConfigurationException("cannot read " + file + ": " + e.getMessage(), e);
            }
            loaded.stringPropertyNames().forEach(key -> properties.put(key, loaded.getProperty(key)));
        }
        else if (required) {
            throw new ConfigurationException("configuration file not found: " + file);
        }
        for (String override : overrides) {
            int equals = override.indexOf('=');
            if (equals <= 0) {
                throw new ConfigurationException("--set expects key=value: " + override);
            }
            properties.put(override.substring(0, equals).trim(), override.substring(equals + 1));
        }
        return properties;
    }

    @Command(name = "tls-ca", mixinStandardHelpOptions = true, description = "Create a CA (ca.pem, ca.key) for the dwcpd hosts of a site.")
    static final class TlsCa
            implements Callable<Integer>
    {
        @Option(names = "--dir", description = "where to write ca.pem and ca.key (default: ${DEFAULT-VALUE})", defaultValue = "/etc/dwcp/tls")
        Path directory;

        @Option(names = "--name", description = "CA name (default: ${DEFAULT-VALUE})", defaultValue = "DWCP CA")
        String name;

        @Option(names = "--days", defaultValue = "3650", description = "validity in days (default: ${DEFAULT-VALUE})")
        int days;

        @Override
        public Integer call()
        {
            CertificateAuthority.create(directory, name, Duration.ofDays(days));
            System.out.println("wrote " + directory.resolve("ca.pem") + " and " + directory.resolve("ca.key") + " (keep ca.key off the hosts)");
            return 0;
        }
    }

    @Command(name = "tls-host", mixinStandardHelpOptions = true, description = "Issue a host certificate (CN = node.name) signed by the CA.")
    static final class TlsHost
            implements Callable<Integer>
    {
        @Option(names = "--ca-dir", description = "directory with ca.pem and ca.key (default: ${DEFAULT-VALUE})", defaultValue = "/etc/dwcp/tls")
        Path caDirectory;

        @Option(names = "--name", required = true, description = "the host's node.name")
        String name;

        @Option(names = "--out", description = "output directory for host.pem and host.key (default: the CA directory)")
        Path out;

        @Option(names = "--days", defaultValue = "825", description = "validity in days (default: ${DEFAULT-VALUE})")
        int days;

        @Override
        public Integer call()
        {
            NodeConfig.checkName(name, "--name");
            Path directory = out == null ? caDirectory : out;
            CertificateAuthority.load(caDirectory).issue(name, directory.resolve("host.pem"), directory.resolve("host.key"), Duration.ofDays(days));
            System.out.println("wrote " + directory.resolve("host.pem") + " and " + directory.resolve("host.key") + " for " + name);
            return 0;
        }
    }
}
