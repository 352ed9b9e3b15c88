package io.dwcp.testbed.dwcp;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dwcp.testbed.net.Host;
import io.dwcp.testbed.sys.CloseAtDeadline;
import io.dwcp.testbed.sys.Command;
import io.dwcp.testbed.sys.TrackedProcess;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.function.Function;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One dwcpd, the real daemon from the plugin module's build, running as its own JVM inside a test
 * bed host's network namespace with a folder of its own: configuration, run-dir (the QEMU-facing
 * sockets {@code run/peer/<peer>.sock}), state-dir, TLS files and log. Started as a
 * {@link TrackedProcess}, so a crashed test run's daemons are ended by the next run.
 *
 * <p>The plugin's build is found through the system property {@value #HOME_PROPERTY} (a folder with
 * {@code classes/} and {@code lib/}, i.e. {@code plugin/target}), else {@code plugin/target} above
 * the working directory.
 */
public final class Dwcpd implements AutoCloseable {
    public static final String HOME_PROPERTY = "dwcp.plugin.home";
    /** The tunnel port every test bed daemon listens on (each host has its own addresses). */
    public static final int TUNNEL_PORT = 7470;
    /** The metrics port, on the host's own loopback. */
    public static final int METRICS_PORT = 9470;

    private static final String MAIN_CLASS = "io.dwcp.daemon.DwcpdCommand";
    private static final String CLI_MAIN_CLASS = "io.dwcp.cli.DwcpCommand";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    /** A control request's whole exchange, answer included (the daemon bounds only the time to send the request). */
    private static final Duration CONTROL_TIMEOUT = Duration.ofSeconds(60);

    private static final Logger LOG = Logger.getLogger(Dwcpd.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Host host;
    private final String name;
    private final Path dir;
    private final Path runDirectory;
    private final int metricsPort;
    private final TrackedProcess process;

    private Dwcpd(Host host, String name, Path dir, Path runDirectory, int metricsPort, TrackedProcess process) {
        this.host = host;
        this.name = name;
        this.dir = dir;
        this.runDirectory = runDirectory;
        this.metricsPort = metricsPort;
        this.process = process;
    }

    /**
     * Where a daemon runs: how its process is started and where its run-dir is, as the daemon sees
     * it ({@code node.run-dir}) and as the test JVM sees it.
     */
    public record Placement(
            Function<ProcessBuilder, TrackedProcess> starter, String runDirectory, Path runDirectoryOutside) {
        public Placement {
            requireNonNull(starter, "starter is null");
            requireNonNull(runDirectory, "runDirectory is null");
            requireNonNull(runDirectoryOutside, "runDirectoryOutside is null");
        }

        /** In {@code host}'s network namespace, sharing the test JVM's mount namespace, run-dir {@code dir/run}. */
        public static Placement inNetworkNamespace(Host host, Path dir) {
            Path run = dir.resolve("run");
            return new Placement(host::startTracked, run.toString(), run);
        }
    }

    /** A site's CA: one per test, in {@code dir}; every daemon's certificate is issued by it. */
    public static Path createCa(Path dir) {
        run(List.of("tls-ca", "--dir", dir.toString(), "--days", "2"));
        return dir;
    }

    /** Issues a host certificate for {@code name} into {@code out} (host.pem, host.key). */
    public static void issueHostCertificate(Path caDir, String name, Path out) {
        run(List.of("tls-host", "--ca-dir", caDir.toString(), "--name", name, "--out", out.toString(), "--days", "2"));
    }

    /**
     * Starts a dwcpd named {@code name} on {@code host}, with its certificate issued by the CA in
     * {@code caDir}, knowing {@code peers} (name → tunnel address host:port); {@code settings} adds
     * or overrides configuration keys (several daemons in one host's namespace each need their own
     * {@code tunnel.listen}, {@code gossip.listen} and {@code metrics.listen}; each has its own folder,
     * hence run-dir, control socket and state-dir). Returns once the daemon says it has started.
     */
    public static Dwcpd start(
            Host host, String name, Path dir, Path caDir, Map<String, String> peers, Map<String, String> settings) {
        requireNonNull(dir, "dir is null");
        return start(host, Placement.inNetworkNamespace(host, dir), name, dir, caDir, peers, settings);
    }

    /**
     * Like {@link #start(Host, String, Path, Path, Map, Map)}, started and with its run-dir as
     * {@code placement} says (e.g. inside a libvirt host's mount namespace, run-dir /run/dwcp, where
     * that host's QEMU and libvirt hook look for it). {@code host} is the network namespace the
     * process ends up in (for {@link #metrics()}).
     */
    public static Dwcpd start(
            Host host,
            Placement placement,
            String name,
            Path dir,
            Path caDir,
            Map<String, String> peers,
            Map<String, String> settings) {
        requireNonNull(host, "host is null");
        requireNonNull(placement, "placement is null");
        requireNonNull(name, "name is null");
        try {
            Files.createDirectories(dir.resolve("tls"));
            Files.createDirectories(placement.runDirectoryOutside());
            Files.createDirectories(dir.resolve("state"));
            Files.deleteIfExists(dir.resolve("dwcpd.log"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + dir, e);
        }
        Path tls = dir.resolve("tls");
        if (!Files.exists(tls.resolve("host.pem"))) {
            issueHostCertificate(caDir, name, tls);
        }
        Map<String, String> config = new LinkedHashMap<>();
        config.put("node.name", name);
        config.put("node.run-dir", placement.runDirectory());
        config.put("node.state-dir", dir.resolve("state").toString());
        config.put("tunnel.listen", "0.0.0.0:" + TUNNEL_PORT);
        config.put("metrics.listen", "127.0.0.1:" + METRICS_PORT);
        config.put("tls.ca-file", caDir.resolve("ca.pem").toString());
        config.put("tls.cert-file", tls.resolve("host.pem").toString());
        config.put("tls.key-file", tls.resolve("host.key").toString());
        peers.forEach((peer, address) -> config.put("peer." + peer + ".address", address));
        config.putAll(settings);
        StringBuilder text = new StringBuilder("# written by the test bed\n");
        config.forEach(
                (key, value) -> text.append(key).append(" = ").append(value).append('\n'));
        Path file = dir.resolve("dwcpd.properties");
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
        // as /etc/default/dwcpd: a small initial heap that G1 shrinks back to what is live after a
        // collection (and collects an idle daemon), and the C library's freed memory goes back to the
        // host, so a daemon between migrations holds little
        List<String> jvm = new ArrayList<>(List.of(
                "-Xms64m",
                "-Xmx768m",
                "-XX:MaxDirectMemorySize=1g",
                // C2 only for what is hot ten times over (see /etc/default/dwcpd)
                "-XX:Tier4InvocationThreshold=50000",
                "-XX:Tier4MinInvocationThreshold=6000",
                "-XX:Tier4CompileThreshold=150000",
                "-XX:Tier4BackEdgeThreshold=400000",
                // and C2 inlines less: its time is mostly register allocation of large inlined methods
                "-XX:FreqInlineSize=150",
                "-XX:InlineSmallCode=1000",
                "-XX:+UseG1GC",
                "-XX:MinHeapFreeRatio=10",
                "-XX:MaxHeapFreeRatio=30",
                "-XX:G1PeriodicGCInterval=30000",
                "-XX:TrimNativeHeapInterval=10000",
                // a daemon out of heap exits (its sessions fail, their source VMs run on) rather than run on without
                // the thread that died
                "-XX:+ExitOnOutOfMemoryError",
                // Netty's direct buffers without the JDK's zeroing and Cleaner
                "-Dio.netty.tryReflectionSetAccessible=true",
                // Netty's pooled allocator: its direct memory stays level from one migration to the next
                "-Dio.netty.allocator.type=pooled",
                "--add-opens=java.base/java.nio=ALL-UNNAMED",
                "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED"));
        jvm.addAll(extraJvmOptions(name, dir));
        List<String> argv = javaCommand(jvm.toArray(String[]::new));
        argv.addAll(List.of("--config", file.toString()));
        Path log = dir.resolve("dwcpd.log");
        ProcessBuilder builder =
                new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(log.toFile());
        // as the packaged systemd unit starts it (packaging/src/common/systemd/dwcpd.service)
        builder.environment().put("MALLOC_ARENA_MAX", "2");
        TrackedProcess process = placement.starter().apply(builder);
        String metricsListen = config.get("metrics.listen");
        int metricsPort = Integer.parseInt(metricsListen.substring(metricsListen.lastIndexOf(':') + 1));
        Dwcpd daemon = new Dwcpd(host, name, dir, placement.runDirectoryOutside(), metricsPort, process);
        try {
            daemon.awaitLog("dwcpd " + name + " started", START_TIMEOUT);
        } catch (RuntimeException e) {
            daemon.close();
            throw e;
        }
        LOG.fine(() -> "dwcpd " + name + " started on " + host + ", pid " + process.pid());
        return daemon;
    }

    public String name() {
        return name;
    }

    public Host host() {
        return host;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** The folder that holds the daemon's configuration, sockets, state and log. */
    public Path dir() {
        return dir;
    }

    /** The unix socket a source QEMU on this host connects to for migrations to {@code peer} (as the test JVM sees it). */
    public Path peerSocket(String peer) {
        return runDirectory.resolve("peer").resolve(peer + ".sock");
    }

    /** The control socket (the libvirt hook's and dwcp migrate's), as the test JVM sees it. */
    public Path controlSocket() {
        return runDirectory.resolve("control.sock");
    }

    /**
     * GETs {@code path} from the daemon's control socket (protocol 1, {@code io.dwcp.control.ControlApi})
     * and returns the body of its 200 answer.
     */
    public String control(String path) {
        ControlAnswer answer = control("GET", path, null);
        if (answer.status() != 200) {
            throw new IllegalStateException(this + ": GET " + path + " answered " + answer.status() + " "
                    + answer.body().strip());
        }
        return answer.body();
    }

    /** A control socket answer: its status code and body. */
    public record ControlAnswer(int status, String body) {}

    /**
     * One request on the daemon's control socket: {@code method} on {@code path}, with {@code form}
     * (an {@code application/x-www-form-urlencoded} body, already encoded) unless null.
     */
    public ControlAnswer control(String method, String path, String form) {
        StringBuilder request = new StringBuilder(method)
                .append(' ')
                .append(path)
                .append(" HTTP/1.1\r\nHost: dwcpd\r\nConnection: close\r\n");
        byte[] body = form == null ? new byte[0] : form.getBytes(StandardCharsets.UTF_8);
        if (form != null) {
            request.append("Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ")
                    .append(body.length)
                    .append("\r\n");
        }
        request.append("\r\n");
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
                CloseAtDeadline deadline = CloseAtDeadline.after(CONTROL_TIMEOUT, channel)) {
            String response;
            try {
                channel.connect(UnixDomainSocketAddress.of(controlSocket()));
                channel.write(ByteBuffer.wrap(request.toString().getBytes(StandardCharsets.US_ASCII)));
                channel.write(ByteBuffer.wrap(body));
                response = new String(Channels.newInputStream(channel).readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                if (deadline.expired()) {
                    throw new IllegalStateException(
                            this + ": " + method + " " + path + " on " + controlSocket()
                                    + " not answered within " + CONTROL_TIMEOUT.toSeconds() + " s (daemon "
                                    + (process.isAlive() ? "still runs" : "exited") + ")\n" + tail(log()),
                            e);
                }
                throw e;
            }
            int end = response.indexOf("\r\n\r\n");
            Matcher status = Pattern.compile("^HTTP/1\\.1 (\\d{3})").matcher(response);
            if (end < 0 || !status.find()) {
                throw new IllegalStateException(
                        this + ": " + method + " " + path + " answered no HTTP response: " + response.strip());
            }
            return new ControlAnswer(Integer.parseInt(status.group(1)), response.substring(end + 4));
        } catch (IOException e) {
            throw new UncheckedIOException(this + ": " + method + " " + path + " on " + controlSocket(), e);
        }
    }

    /** An outgoing migration announced on the control socket, as {@code dwcp migrate} does. */
    public record Announced(String id, String domain, String peer, Path socket) {}

    /**
     * Announces the migration of {@code domain} to {@code peer} ({@code POST /v1/migrations}, what
     * {@code dwcp migrate} does before it starts libvirt's migration): the daemon opens a socket for
     * it alone, returned with its id; the source QEMU migrates to {@code unix:<socket>}.
     */
    public Announced announceMigration(String domain, String peer) {
        ControlAnswer answer = control(
                "POST", "/v1/migrations", "protocol=1&domain=" + urlEncode(domain) + "&peer=" + urlEncode(peer));
        if (answer.status() != 201) {
            throw new IllegalStateException(this + ": announcing the migration of " + domain + " answered "
                    + answer.status() + " " + answer.body().strip());
        }
        try {
            JsonNode migration = JSON.readTree(answer.body());
            String id = migration.path("id").asText();
            Path socket = migrationSocket(peer, id);
            // the daemon names it as it sees its run-dir (the same folder seen from another mount namespace, with
            // libvirt)
            if (!migration.path("socket").asText().endsWith("/peer/" + peer + "/" + id + ".sock")) {
                throw new IllegalStateException(this + ": migration " + id + " has the socket "
                        + migration.path("socket").asText() + ", expected <run-dir>/peer/" + peer + "/" + id + ".sock");
            }
            return new Announced(id, domain, peer, socket);
        } catch (IOException e) {
            throw new UncheckedIOException(this + ": POST /v1/migrations answered malformed JSON: " + answer.body(), e);
        }
    }

    /** {@code GET /v1/migrations/ID}: the announced migration, with its session once it started. */
    public JsonNode migration(String id) {
        try {
            return JSON.readTree(control("/v1/migrations/" + id));
        } catch (IOException e) {
            throw new UncheckedIOException(this + ": GET /v1/migrations/" + id + " answered malformed JSON", e);
        }
    }

    /**
     * The socket of one announced migration to {@code peer}, {@code <run-dir>/peer/<peer>/<id>.sock}
     * (as the test JVM sees it): where the source QEMU connects on the source host, and where the
     * destination QEMU listens on the destination host (with {@code peer} the destination's own name).
     */
    public Path migrationSocket(String peer, String id) {
        return runDirectory.resolve("peer").resolve(peer).resolve(id + ".sock");
    }

    private static String urlEncode(String text) {
        return java.net.URLEncoder.encode(text, StandardCharsets.UTF_8);
    }

    /** How the baseline of one session ended at this daemon, as {@code GET /v1/baselines} lists it. */
    public record BaselineCommit(
            String session, String role, String state, String baseline, long pages, long bytes, String reason) {
        public boolean committed() {
            return state.equals("committed");
        }
    }

    /**
     * Waits until the daemon lists at least {@code atLeast} baseline commits and none of them is
     * still recording or being written (the states dwcpd publishes, no guessing how long a commit
     * takes), and returns them, oldest first. Fails if the daemon exits or the timeout passes.
     */
    public List<BaselineCommit> awaitBaselineCommits(int atLeast, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<BaselineCommit> commits = new ArrayList<>();
            try {
                for (JsonNode commit : JSON.readTree(control("/v1/baselines")).path("commits")) {
                    commits.add(new BaselineCommit(
                            commit.path("session").asText(),
                            commit.path("role").asText(),
                            commit.path("state").asText(),
                            commit.path("baseline").asText(null),
                            commit.path("pages").asLong(),
                            commit.path("bytes").asLong(),
                            commit.path("reason").asText(null)));
                }
            } catch (IOException e) {
                throw new UncheckedIOException(this + ": GET /v1/baselines answered malformed JSON", e);
            }
            boolean settled = commits.size() >= atLeast
                    && commits.stream()
                            .noneMatch(c ->
                                    c.state().equals("recording") || c.state().equals("committing"));
            if (settled) {
                return commits;
            }
            if (!process.isAlive()) {
                throw new IllegalStateException(
                        this + " exited while baselines were being written: " + commits + "\n" + tail(log()));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(this + ": baseline commits not done within " + timeout.toSeconds()
                        + " s: " + commits + "\n" + tail(log()));
            }
            sleep(100);
        }
    }

    /** The daemon's log so far (stdout and stderr). */
    public String log() {
        try {
            Path file = dir.resolve("dwcpd.log");
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits until the log holds {@code text}; fails at once if the daemon exits. */
    public void awaitLog(String text, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!log().contains(text)) {
            if (!process.isAlive()) {
                throw new IllegalStateException("dwcpd " + name + " exited ("
                        + process.process().exitValue() + ") before logging '" + text + "':\n" + tail(log()));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("dwcpd " + name + " did not log '" + text + "' within "
                        + timeout.toSeconds() + " s:\n" + tail(log()));
            }
            sleep(50);
        }
    }

    /** The Prometheus text the daemon serves on its host's loopback (its {@code metrics.listen} port). */
    public String metrics() {
        return host.call(() -> httpGet(metricsPort, "/metrics"));
    }

    /**
     * The sum of a metric's samples whose labels contain {@code labelFilter} (empty: all), or empty
     * when the daemon serves no such sample.
     */
    public OptionalDouble metric(String metricName, String labelFilter) {
        return metric(metrics(), metricName, labelFilter);
    }

    /**
     * The sum of the samples of one metric in a Prometheus text whose labels contain {@code
     * labelFilter} (empty: all), or empty when there is no such sample.
     */
    public static OptionalDouble metric(String metricsText, String metricName, String labelFilter) {
        Pattern line = Pattern.compile("^" + Pattern.quote(metricName) + "(\\{[^}]*})?\\s+(\\S+)$", Pattern.MULTILINE);
        Matcher matcher = line.matcher(metricsText);
        double sum = 0;
        boolean found = false;
        while (matcher.find()) {
            String labels = matcher.group(1) == null ? "" : matcher.group(1);
            if (labels.contains(labelFilter)) {
                sum += Double.parseDouble(matcher.group(2));
                found = true;
            }
        }
        return found ? OptionalDouble.of(sum) : OptionalDouble.empty();
    }

    /** Kills the daemon at once (SIGKILL), as a crash would. */
    public void kill() {
        process.process().destroyForcibly();
        try {
            process.process().waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        process.stop(Duration.ofSeconds(10));
    }

    @Override
    public String toString() {
        return "dwcpd " + name + " on " + host.name() + " (pid " + process.pid() + ")";
    }

    /** The plugin build's {@code classes/} and {@code lib/} folder. */
    public static Path pluginHome() {
        String property = System.getProperty(HOME_PROPERTY);
        if (property != null && !property.isBlank()) {
            return requireBuilt(Path.of(property));
        }
        for (Path at = Path.of("").toAbsolutePath(); at != null; at = at.getParent()) {
            Path candidate = at.resolve("plugin").resolve("target");
            if (Files.isDirectory(candidate.resolve("classes"))) {
                return requireBuilt(candidate);
            }
        }
        throw new IllegalStateException("the plugin build was not found: set -D" + HOME_PROPERTY
                + "=<repo>/plugin/target (build it with: mvn -B -pl plugin -am package -DskipTests)");
    }

    private static Path requireBuilt(Path home) {
        if (!Files.isDirectory(
                        home.resolve("classes").resolve("io").resolve("dwcp").resolve("daemon"))
                || !Files.isDirectory(home.resolve("lib"))) {
            throw new IllegalStateException(home + " has no classes/ or lib/ of the plugin: build it with "
                    + "mvn -B -pl plugin -am package -DskipTests");
        }
        return home;
    }

    /** The command line of the dwcp CLI ({@code plugin/bin/dwcp}'s main class) from the plugin's build, with {@code arguments}. */
    public static List<String> cliCommand(List<String> arguments) {
        List<String> argv = javaCommandOf(
                CLI_MAIN_CLASS, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
        argv.addAll(arguments);
        return argv;
    }

    /** The system property with extra JVM options for every daemon (whitespace-separated), e.g. a Flight Recorder. */
    public static final String JVM_OPTIONS_PROPERTY = "dwcp.dwcpd.jvm-options";

    /**
     * Extra JVM options from {@link #JVM_OPTIONS_PROPERTY}; {@code {name}} and {@code {dir}} in them
     * become the daemon's name and folder (so each daemon writes its own recording).
     */
    static List<String> extraJvmOptions(String name, Path dir) {
        String options = System.getProperty(JVM_OPTIONS_PROPERTY, "").strip();
        if (options.isEmpty()) {
            return List.of();
        }
        List<String> result = new ArrayList<>();
        for (String option : options.split("\\s+")) {
            result.add(option.replace("{name}", name).replace("{dir}", dir.toString()));
        }
        return result;
    }

    private static List<String> javaCommand(String... jvmOptions) {
        return javaCommandOf(MAIN_CLASS, jvmOptions);
    }

    private static List<String> javaCommandOf(String mainClass, String... jvmOptions) {
        Path home = pluginHome();
        List<String> argv = new ArrayList<>();
        argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        argv.addAll(List.of(jvmOptions));
        argv.addAll(List.of(
                "-Dorg.slf4j.simpleLogger.showDateTime=true",
                "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
                "-Dorg.slf4j.simpleLogger.log.io.netty=warn",
                "-cp",
                home.resolve("classes") + ":" + home.resolve("lib") + "/*",
                mainClass));
        return argv;
    }

    private static void run(List<String> arguments) {
        List<String> argv = javaCommand("-Xmx256m");
        argv.addAll(arguments);
        Command.run(Command.DEFAULT_TIMEOUT, argv);
    }

    private static String httpGet(int port, String path) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            String response = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            int body = response.indexOf("\r\n\r\n");
            if (!response.startsWith("HTTP/1.1 200") || body < 0) {
                throw new IOException(
                        "GET " + path + ": " + response.lines().findFirst().orElse("no answer"));
            }
            return response.substring(body + 4);
        }
    }

    private static String tail(String log) {
        return log.length() <= 4000 ? log : "..." + log.substring(log.length() - 4000);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
