package io.dwcp.daemon;

import io.dwcp.config.ConfigurationBinder;
import io.dwcp.control.ControlConfig;
import io.dwcp.config.ConfigurationException;
import io.dwcp.metrics.MetricsConfig;
import io.dwcp.tls.CertificateAuthority;
import io.dwcp.tls.TlsConfig;
import io.dwcp.transport.AmstConfig;
import io.dwcp.tunnel.TunnelConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
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

    public static void main(String[] args)
    {
        System.exit(new CommandLine(new DwcpdCommand()).execute(args));
    }

    @Override
    public Integer call()
            throws Exception
    {
        if (helpConfig) {
            System.out.println("Configuration keys (file " + DEFAULT_CONFIG + ", or --config; --set key=value overrides):");
            for (Class<?> type : List.of(NodeConfig.class, TunnelConfig.class, AmstConfig.class, TlsConfig.class, MetricsConfig.class,
                    ControlConfig.class, io.dwcp.codec.CodecConfig.class, io.dwcp.hde.HdeConfig.class, io.dwcp.region.RegionConfig.class,
                    io.dwcp.gossip.GossipConfig.class)) {
                ConfigurationBinder.describe(type).forEach(System.out::println);
            }
            System.out.printf("  %-34s %-16s %s%n", "peer.<name>.address", "(none)", "host:port of that peer's tunnel port (one entry per peer)");
            System.out.printf("  %-34s %-16s %s%n", "peer.<name>.qemu-port", "(none)", "loopback TCP port QEMU uses for migrations to that peer");
            System.out.printf("  %-34s %-16s %s%n", "gossip.peer.<name>", "(none)", "host:port of another region's host to gossip with (name = its certificate's CN)");
            return 0;
        }
        Map<String, String> properties;
        try {
            properties = loadProperties(configFile, !configFile.equals(DEFAULT_CONFIG), overrides);
        }
        catch (ConfigurationException e) {
            System.err.println("dwcpd: " + e.getMessage());
            return 2;
        }
        DwcpDaemon daemon;
        try {
            daemon = DwcpDaemon.create(properties);
        }
        catch (com.google.inject.CreationException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            for (var message : e.getErrorMessages()) {
                if (message.getCause() != null) {
                    cause = message.getCause();
                    break;
                }
            }
            System.err.println("dwcpd: " + cause.getMessage());
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
            System.err.println("dwcpd: cannot start: " + e.getMessage());
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
