package io.dwcp.testbed.net;

import static java.util.Objects.requireNonNull;

import io.dwcp.testbed.sys.Command;
import io.dwcp.testbed.sys.Owners;
import io.dwcp.testbed.sys.TrackedProcess;
import io.dwcp.testbed.wan.LinkProfile;
import io.dwcp.testbed.wan.WanEmulatorMain;
import io.dwcp.testbed.wan.WanStats;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;
import java.util.regex.Pattern;

/**
 * Two hosts, A and B, as network namespaces, joined either by a plain veth pair (both directions
 * {@link LinkProfile#direct()}: the local scenario) or through a router namespace where a
 * user-space WAN emulator delays, drops and rate-limits each direction:
 * <pre>
 *  A (10.231.1.2) eth0 ══ va ─┐ router ┌─ vb ══ eth0 B (10.231.2.2)
 *                             │  ip rule iif va → table 100: default dev tab ─▶ emulator A→B
 *                             │  ip rule iif vb → table 101: default dev tba ─▶ emulator B→A
 * </pre>
 * A packet from A enters the router on {@code va}; policy routing sends it into the TUN device
 * {@code tab}; the emulator ({@link WanEmulatorMain}, its own JVM, recorded as a
 * {@link TrackedProcess}) reads it, holds it as the profile says and writes it back into
 * {@code tab}; arriving there, it is routed by the main table out of {@code vb} to B. A direction
 * whose profile is direct has no rule and is forwarded by the kernel at once.
 *
 * <p>The hosts are configured as a stock KVM host is (written explicitly, since a new namespace
 * on this kernel copies the root namespace's values):
 * <ul>
 *   <li>{@code net.ipv4.tcp_congestion_control=cubic} (the stock default of Debian, Ubuntu, RHEL;
 *       this machine's root namespace says bbr). A namespace other than the root one may only pick
 *       an algorithm of the root's {@code net.ipv4.tcp_allowed_congestion_control}: cubic is added
 *       to that list when missing (the one change made outside our namespaces; it only lets
 *       unprivileged sockets choose cubic too);</li>
 *   <li>{@code net.ipv4.tcp_rmem=4096 131072 6291456} and {@code net.ipv4.tcp_wmem=4096 16384 4194304},
 *       the kernel's defaults (the root namespace here has a 32 MiB rmem maximum);</li>
 *   <li>{@code net.core.rmem_max} and {@code wmem_max} are not per namespace (read-only there):
 *       the hosts see the machine's, 4 MiB here (the kernel's default is 212992); they only cap
 *       explicit {@code SO_RCVBUF}/{@code SO_SNDBUF};</li>
 *   <li>IPv6 off (no router solicitations or DAD traffic on the links), MTU 1500, and TCP
 *       segmentation offload off on eth0 (generic segmentation stays on), so that the interface
 *       counters count 1500-byte packets as a real NIC's wire would, see {@link #bytesAtoB()}.</li>
 * </ul>
 *
 * <p>Namespaces are named {@code dwcpt-<owner pid>-<n>-<name>-a|b|r}. {@link #close()} removes
 * them and stops the emulator; a JVM shutdown hook closes what is still open, and
 * {@link #cleanupLeftovers()} removes what a dead owner left (a killed test JVM). The emulator
 * also ends by itself when its stdin, a pipe from the owner, closes.
 */
public final class TwoHostNetwork implements AutoCloseable {
    public static final String PREFIX = "dwcpt-";
    public static final String ADDRESS_A = "10.231.1.2";
    public static final String ADDRESS_B = "10.231.2.2";
    static final String ROUTER_A = "10.231.1.1";
    static final String ROUTER_B = "10.231.2.1";
    static final String SUBNET_A = "10.231.1.0/24";
    static final String SUBNET_B = "10.231.2.0/24";
    /**
     * The system property giving the emulator threads' SCHED_FIFO priority (default 10; 0 = normal
     * priority): the emulated WAN keeps its timing while QEMU guests load the CPUs.
     */
    public static final String WAN_REALTIME_PROPERTY = "dwcp.testbed.wanRealtimePriority";

    private static final Logger LOG = Logger.getLogger(TwoHostNetwork.class.getName());
    /** The emulator's stderr: {@code java.io.tmpdir/dwcp-wan-<owner pid>-<name>-*.log}, removed by close(). */
    private static final String LOG_PREFIX = "dwcp-wan-";

    private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,23})");
    private static final AtomicInteger SEQUENCE = new AtomicInteger();
    private static final Set<TwoHostNetwork> OPEN = ConcurrentHashMap.newKeySet();
    private static final Duration EMULATOR_START_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration EMULATOR_ANSWER_TIMEOUT = Duration.ofSeconds(10);
    /** Packets a TUN device may queue for the emulator (default 500: too few for a 1 ms hiccup at 1 Gbit/s). */
    private static final int TUN_QUEUE_PACKETS = 10_000;
    /** The emulator's buffer assumes this rate for a direction without a rate limit. */
    private static final long UNLIMITED_RATE_ASSUMED = 4_000_000_000L;

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(TwoHostNetwork::closeAllOpen, "two-host-network-cleanup"));
    }

    private final String name;
    private final LinkProfile aToB;
    private final LinkProfile bToA;
    private final Host hostA;
    private final Host hostB;
    private final String routerNetns;
    private final List<String> createdNamespaces = new ArrayList<>();
    private TrackedProcess emulator;
    private Writer emulatorInput;
    private final BlockingQueue<String> emulatorOutput = new LinkedBlockingQueue<>();
    private Path emulatorLog;
    private boolean closed;

    private TwoHostNetwork(String name, LinkProfile aToB, LinkProfile bToA) {
        this.name = name;
        this.aToB = aToB;
        this.bToA = bToA;
        String base = PREFIX + ProcessHandle.current().pid() + "-" + SEQUENCE.incrementAndGet() + "-" + name;
        this.hostA = new Host("a", base + "-a", ADDRESS_A);
        this.hostB = new Host("b", base + "-b", ADDRESS_B);
        this.routerNetns = isEmulated() ? base + "-r" : null;
    }

    /**
     * Creates the two hosts. S0-like plain veth when both profiles are {@link LinkProfile#direct()};
     * otherwise packets A→B and B→A go through the emulator. {@code name} (lowercase letters,
     * digits, dashes) only makes the namespaces recognisable.
     */
    public static TwoHostNetwork create(String name, LinkProfile aToB, LinkProfile bToA) {
        requireNonNull(name, "name is null");
        requireNonNull(aToB, "aToB is null");
        requireNonNull(bToA, "bToA is null");
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("network name must be 1-24 of [a-z0-9-]: " + name);
        }
        whyUnavailable().ifPresent(reason -> {
            throw new IllegalStateException("cannot build a test network: " + reason);
        });
        TwoHostNetwork network = new TwoHostNetwork(name, aToB, bToA);
        OPEN.add(network);
        try {
            network.build();
        } catch (RuntimeException | Error e) {
            try {
                network.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return network;
    }

    /** Empty when this process can build networks (root, ip, /dev/net/tun), else why not. */
    public static Optional<String> whyUnavailable() {
        if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
            return Optional.of("network namespaces need Linux");
        }
        if (!"root".equals(System.getProperty("user.name"))) {
            return Optional.of("network namespaces need root (running as " + System.getProperty("user.name") + ")");
        }
        if (!Files.exists(Path.of("/dev/net/tun"))) {
            return Optional.of("/dev/net/tun is missing (modprobe tun)");
        }
        return Optional.empty();
    }

    public Host hostA() {
        return hostA;
    }

    public Host hostB() {
        return hostB;
    }

    public String name() {
        return name;
    }

    /** True when packets go through the emulator (at least one profile is not direct). */
    public boolean isEmulated() {
        return !(aToB.isDirect() && bToA.isDirect());
    }

    /** The router namespace, empty for a plain veth. */
    public Optional<String> routerNetns() {
        return Optional.ofNullable(routerNetns);
    }

    /**
     * Cuts the link between the hosts (both directions: the router drops every packet it would
     * forward, as a failed WAN would, with no error reaching the hosts) or restores it. Needs an
     * emulated link (a router namespace).
     */
    public synchronized void setCut(boolean cut) {
        String router = routerNetns()
                .orElseThrow(() -> new IllegalStateException(name + ": a direct veth has no router to cut"));
        Command.run(
                Command.DEFAULT_TIMEOUT,
                List.of(
                        "ip",
                        "netns",
                        "exec",
                        router,
                        "iptables",
                        "-w",
                        "5",
                        cut ? "-I" : "-D",
                        "FORWARD",
                        "-j",
                        "DROP"));
    }

    /**
     * Corrupts the next TCP segment with a payload that the emulated link carries from A to B
     * ({@code aToB}) or from B to A: one bit of its payload flipped, its TCP checksum fixed up, so
     * that only the application can notice. Returns at once; {@link #corruptedSegments} tells when
     * it happened.
     */
    public synchronized void corruptNextSegment(boolean aToB) {
        if (emulator == null) {
            throw new IllegalStateException(name + ": a direct veth cannot corrupt packets");
        }
        askEmulator("corrupt " + (aToB ? "ab" : "ba"));
    }

    /**
     * Starts counting the packets the emulated link carries from A to B ({@code aToB}) or back that
     * contain {@code pattern} (a capture, reduced to one question); the count restarts at 0.
     */
    public synchronized void scanFor(boolean aToB, byte[] pattern) {
        if (emulator == null) {
            throw new IllegalStateException(name + ": a direct veth cannot be captured");
        }
        askEmulator(
                "scan " + (aToB ? "ab" : "ba") + " " + java.util.HexFormat.of().formatHex(pattern));
    }

    /** Packets that contained the pattern of {@link #scanFor} since it was called. */
    public synchronized long scanHits(boolean aToB) {
        String[] answer = askEmulator("scanned " + (aToB ? "ab" : "ba")).split(" ");
        return Long.parseLong(answer[answer.length - 1]);
    }

    /** Segments corrupted so far on the link from A to B ({@code aToB}) or from B to A. */
    public synchronized long corruptedSegments(boolean aToB) {
        if (emulator == null) {
            return 0;
        }
        String[] answer = askEmulator("corrupted " + (aToB ? "ab" : "ba")).split(" ");
        return Long.parseLong(answer[answer.length - 1]);
    }

    /** Every namespace this network made. */
    public List<String> namespaces() {
        List<String> all = new ArrayList<>(List.of(hostA.netns(), hostB.netns()));
        if (routerNetns != null) {
            all.add(routerNetns);
        }
        return all;
    }

    /** The emulator's pid, empty for a plain veth or after close. */
    public synchronized Optional<Long> emulatorPid() {
        return emulator == null ? Optional.empty() : Optional.of(emulator.pid());
    }

    /**
     * Bytes that left A's interface since it was made: the kernel's {@code tx_bytes} of A's eth0,
     * Ethernet headers included (14 bytes a packet), every packet counted once at 1500 bytes MTU
     * (TSO is off). Includes packets the emulated WAN later drops.
     */
    public long bytesAtoB() {
        return txBytes(hostA);
    }

    /** Bytes that left B's interface, as {@link #bytesAtoB()}. */
    public long bytesBtoA() {
        return txBytes(hostB);
    }

    /** The emulator's counters per direction; {@link WanStats#NOT_EMULATED} for a plain veth. */
    public synchronized WanStats wanStats() {
        if (closed) {
            throw new IllegalStateException("network " + name + " is closed");
        }
        if (emulator == null) {
            return WanStats.NOT_EMULATED;
        }
        String answer = askEmulator("stats");
        String[] fields = answer.split(" ");
        WanStats.Direction ab = WanStats.Direction.NOT_EMULATED;
        WanStats.Direction ba = WanStats.Direction.NOT_EMULATED;
        for (int i = 1; i + 6 < fields.length; i += 7) {
            WanStats.Direction direction = new WanStats.Direction(
                    true,
                    Long.parseLong(fields[i + 1]),
                    Long.parseLong(fields[i + 2]),
                    Long.parseLong(fields[i + 3]),
                    Long.parseLong(fields[i + 4]),
                    Long.parseLong(fields[i + 5]),
                    Long.parseLong(fields[i + 6]));
            if (fields[i].equals("ab")) {
                ab = direction;
            } else {
                ba = direction;
            }
        }
        return new WanStats(ab, ba);
    }

    /** Stops the emulator and deletes the namespaces. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException failure = null;
        if (emulator != null) {
            try {
                emulatorInput.write("stop\n");
                emulatorInput.close();
            } catch (IOException e) {
                // it may have died already; stop() below ends it in any case
            }
            emulator.stop(Duration.ofSeconds(3));
            emulator = null;
        }
        for (String netns : createdNamespaces) {
            try {
                Netns.delete(netns);
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = new IllegalStateException("cannot delete the namespaces of network " + name, e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (emulatorLog != null) {
            try {
                Files.deleteIfExists(emulatorLog);
            } catch (IOException e) {
                LOG.fine("cannot remove " + emulatorLog + ": " + e);
            }
        }
        OPEN.remove(this);
        if (failure != null) {
            throw failure;
        }
    }

    /**
     * Removes what crashed runs left: namespaces named {@value #PREFIX}{@code <pid>-...} whose
     * owner process is gone (or is no longer a JVM), their emulators' logs, and the processes
     * {@link TrackedProcess} recorded for dead owners. Networks of live test JVMs (several may run
     * at once) are left alone. Returns the number of namespaces removed.
     */
    public static int cleanupLeftovers() {
        int removed = 0;
        if (whyUnavailable().isPresent()) {
            return 0;
        }
        TrackedProcess.cleanupLeftovers();
        for (String netns : Netns.list()) {
            if (netns.startsWith(PREFIX) && !ownerIsAlive(netns.substring(PREFIX.length()))) {
                Netns.delete(netns);
                LOG.info("removed leftover network namespace " + netns);
                removed++;
            }
        }
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        try (var logs = Files.newDirectoryStream(tmp, LOG_PREFIX + "*.log")) {
            for (Path log : logs) {
                if (!ownerIsAlive(log.getFileName().toString().substring(LOG_PREFIX.length()))) {
                    Files.deleteIfExists(log);
                }
            }
        } catch (IOException e) {
            LOG.warning("cannot remove leftover emulator logs in " + tmp + ": " + e);
        }
        return removed;
    }

    /** {@code rest} starts with the owner's pid and a dash. */
    private static boolean ownerIsAlive(String rest) {
        int dash = rest.indexOf('-');
        long pid;
        try {
            pid = Long.parseLong(dash < 0 ? rest : rest.substring(0, dash));
        } catch (NumberFormatException e) {
            return false;
        }
        return Owners.isAlive(pid); // ours are closed by close() or the shutdown hook
    }

    private static void closeAllOpen() {
        for (TwoHostNetwork network : List.copyOf(OPEN)) {
            try {
                network.close();
            } catch (RuntimeException e) {
                System.err.println("cannot close test network " + network.name + ": " + e);
            }
        }
    }

    private void build() {
        allowCubic();
        addNamespace(hostA.netns());
        addNamespace(hostB.netns());
        if (!isEmulated()) {
            ip(
                    "link",
                    "add",
                    "eth0",
                    "netns",
                    hostA.netns(),
                    "type",
                    "veth",
                    "peer",
                    "name",
                    "eth0",
                    "netns",
                    hostB.netns());
            configureHost(hostA, "10.231.1.2/24", List.of("route", "add", SUBNET_B, "dev", "eth0"));
            configureHost(hostB, "10.231.2.2/24", List.of("route", "add", SUBNET_A, "dev", "eth0"));
            return;
        }
        addNamespace(routerNetns);
        ip("link", "add", "eth0", "netns", hostA.netns(), "type", "veth", "peer", "name", "va", "netns", routerNetns);
        ip("link", "add", "eth0", "netns", hostB.netns(), "type", "veth", "peer", "name", "vb", "netns", routerNetns);
        configureHost(hostA, "10.231.1.2/24", List.of("route", "add", "default", "via", ROUTER_A));
        configureHost(hostB, "10.231.2.2/24", List.of("route", "add", "default", "via", ROUTER_B));
        sysctl(
                routerNetns,
                "net.ipv4.ip_forward=1",
                "net.ipv4.conf.all.rp_filter=0",
                "net.ipv4.conf.default.rp_filter=0",
                "net.ipv4.conf.all.send_redirects=0",
                "net.ipv4.conf.default.send_redirects=0",
                "net.ipv6.conf.all.disable_ipv6=1",
                "net.ipv6.conf.default.disable_ipv6=1");
        ipIn(routerNetns, "link", "set", "lo", "up");
        for (String device : List.of("va", "vb")) {
            ipIn(routerNetns, "link", "set", device, "mtu", "1500", "up");
        }
        ipIn(routerNetns, "addr", "add", ROUTER_A + "/24", "dev", "va");
        ipIn(routerNetns, "addr", "add", ROUTER_B + "/24", "dev", "vb");
        List<String> links = new ArrayList<>();
        if (!aToB.isDirect()) {
            links.add(routeThroughTun("ab", "tab", "va", 100, aToB));
        }
        if (!bToA.isDirect()) {
            links.add(routeThroughTun("ba", "tba", "vb", 101, bToA));
        }
        startEmulator(links);
    }

    private String routeThroughTun(String link, String tun, String fromDevice, int table, LinkProfile profile) {
        ipIn(routerNetns, "tuntap", "add", "dev", tun, "mode", "tun");
        ipIn(routerNetns, "link", "set", tun, "mtu", "1500", "txqueuelen", Integer.toString(TUN_QUEUE_PACKETS), "up");
        ipIn(routerNetns, "route", "add", "default", "dev", tun, "table", Integer.toString(table));
        ipIn(
                routerNetns,
                "rule",
                "add",
                "iif",
                fromDevice,
                "lookup",
                Integer.toString(table),
                "pref",
                Integer.toString(table));
        return link + "," + tun + "," + bufferBytes(profile) + "," + profile.toSpec();
    }

    /** Room for every packet the direction can hold: its queue plus what is in flight in the delay line. */
    static long bufferBytes(LinkProfile profile) {
        long rate = profile.rateBitsPerSecond() == 0 ? UNLIMITED_RATE_ASSUMED : profile.rateBitsPerSecond();
        if (profile.rateTrace() != null) {
            rate = Math.max(rate * 4, 1_000_000_000L); // a trace's peaks are well above its mean
        }
        double seconds = (profile.delay().toNanos() + profile.jitter().toNanos()) * 1e-9 + 0.05;
        long inFlight = (long) (rate / 8.0 * seconds);
        long queue = profile.effectiveQueueLimitBytes() == 0 ? inFlight : profile.effectiveQueueLimitBytes();
        // small packets (ACKs) take a whole 16-byte-aligned slot of their own: count with margin
        return Math.min(1L << 30, 2 * (inFlight + queue) + (8L << 20));
    }

    private void startEmulator(List<String> links) {
        List<String> argv = new ArrayList<>();
        argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        argv.addAll(List.of(
                "-Xms32m",
                "-Xmx128m",
                "-XX:+UseSerialGC",
                "-Xss512k",
                "-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"),
                "-cp",
                System.getProperty("java.class.path"),
                WanEmulatorMain.class.getName(),
                "--netns",
                routerNetns,
                "--realtime",
                Integer.toString(Integer.getInteger(WAN_REALTIME_PROPERTY, 10))));
        for (String link : links) {
            argv.add("--link");
            argv.add(link);
        }
        try {
            emulatorLog =
                    Files.createTempFile(LOG_PREFIX + ProcessHandle.current().pid() + "-" + name + "-", ".log");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the emulator's log file", e);
        }
        ProcessBuilder builder =
                new ProcessBuilder(argv).redirectError(ProcessBuilder.Redirect.to(emulatorLog.toFile()));
        emulator = TrackedProcess.start(builder);
        emulatorInput = new OutputStreamWriter(emulator.process().getOutputStream(), StandardCharsets.UTF_8);
        Thread reader = new Thread(
                () -> {
                    try (BufferedReader lines = new BufferedReader(
                            new InputStreamReader(emulator.process().getInputStream(), StandardCharsets.UTF_8))) {
                        for (String line; (line = lines.readLine()) != null; ) {
                            emulatorOutput.add(line);
                        }
                    } catch (IOException e) {
                        // the emulator ended: askEmulator reports it
                    }
                    emulatorOutput.add("EOF");
                },
                "wan-emulator-output-" + name);
        reader.setDaemon(true);
        reader.start();
        String first = nextEmulatorLine(EMULATOR_START_TIMEOUT);
        if (!first.equals("READY")) {
            throw new IllegalStateException(
                    "the WAN emulator of network " + name + " did not start: " + first + "; its stderr: " + readLog());
        }
    }

    private String askEmulator(String command) {
        try {
            emulatorInput.write(command + "\n");
            emulatorInput.flush();
        } catch (IOException e) {
            throw new IllegalStateException("the WAN emulator of network " + name + " is gone: " + readLog(), e);
        }
        String answer = nextEmulatorLine(EMULATOR_ANSWER_TIMEOUT);
        if (answer.startsWith("FAILED") || answer.equals("EOF")) {
            throw new IllegalStateException(
                    "the WAN emulator of network " + name + " failed: " + answer + "; " + readLog());
        }
        return answer;
    }

    private String nextEmulatorLine(Duration timeout) {
        try {
            String line = emulatorOutput.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (line == null) {
                throw new IllegalStateException("the WAN emulator of network " + name + " did not answer within "
                        + timeout.toSeconds() + " s; its stderr: " + readLog());
            }
            return line;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the WAN emulator", e);
        }
    }

    private String readLog() {
        try {
            String text = Files.readString(emulatorLog, StandardCharsets.UTF_8).strip();
            return text.isEmpty() ? "(empty)" : text;
        } catch (IOException e) {
            return "(cannot read " + emulatorLog + ": " + e + ")";
        }
    }

    private void addNamespace(String netns) {
        Netns.add(netns);
        createdNamespaces.add(netns);
    }

    private void configureHost(Host host, String addressWithPrefix, List<String> route) {
        sysctl(
                host.netns(),
                "net.ipv4.tcp_congestion_control=cubic",
                "net.ipv4.tcp_rmem=4096 131072 6291456",
                "net.ipv4.tcp_wmem=4096 16384 4194304",
                "net.ipv6.conf.all.disable_ipv6=1",
                "net.ipv6.conf.default.disable_ipv6=1");
        ipIn(host.netns(), "link", "set", "lo", "up");
        ipIn(host.netns(), "link", "set", Host.INTERFACE, "mtu", "1500", "up");
        ipIn(host.netns(), "addr", "add", addressWithPrefix, "dev", Host.INTERFACE);
        List<String> routeCommand = new ArrayList<>(route);
        ipIn(host.netns(), routeCommand.toArray(String[]::new));
        host.call(() -> {
            InterfaceOffloads.disableTso(Host.INTERFACE);
            return null;
        });
    }

    private static synchronized void allowCubic() {
        Path allowed = Path.of("/proc/sys/net/ipv4/tcp_allowed_congestion_control");
        try {
            String list = Files.readString(allowed, StandardCharsets.US_ASCII).strip();
            if (!List.of(list.split("\\s+")).contains("cubic")) {
                Files.writeString(allowed, list + " cubic", StandardCharsets.US_ASCII);
                LOG.info("added cubic to net.ipv4.tcp_allowed_congestion_control (was: " + list + ")");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot allow cubic in " + allowed + " (hosts must use CUBIC)", e);
        }
    }

    private long txBytes(Host host) {
        // read on a thread inside the host's namespace: /proc/thread-self/net is that thread's
        // namespace. No process is started: the benchmark samples this every 100 ms while it
        // measures the CPU the migration costs, and an 'ip' per sample took about 4 % of the machine.
        String text = host.call(() -> Files.readString(PROC_NET_DEV, StandardCharsets.US_ASCII));
        return transmittedBytes(text, Host.INTERFACE);
    }

    private static final Path PROC_NET_DEV = Path.of("/proc/thread-self/net/dev");

    /**
     * The transmitted bytes of {@code device} in the text of {@code /proc/net/dev} (the kernel's
     * {@code tx_bytes}, as {@code ip -s link} shows it: the ninth figure after the device's colon).
     */
    static long transmittedBytes(String procNetDev, String device) {
        for (String line : procNetDev.split("\n")) {
            int colon = line.indexOf(':');
            if (colon < 0 || !line.substring(0, colon).strip().equals(device)) {
                continue;
            }
            String[] figures = line.substring(colon + 1).strip().split("\\s+");
            if (figures.length < 16) {
                throw new IllegalStateException("too few figures for " + device + " in /proc/net/dev: " + line);
            }
            return Long.parseLong(figures[8]);
        }
        throw new IllegalStateException("no device " + device + " in /proc/net/dev:\n" + procNetDev);
    }

    private static void sysctl(String netns, String... settings) {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", netns, "sysctl", "-q", "-w"));
        argv.addAll(List.of(settings));
        Command.run(Command.DEFAULT_TIMEOUT, argv);
    }

    private static void ip(String... argv) {
        List<String> command = new ArrayList<>(List.of("ip"));
        command.addAll(List.of(argv));
        Command.run(Command.DEFAULT_TIMEOUT, command);
    }

    private static void ipIn(String netns, String... argv) {
        List<String> command = new ArrayList<>(List.of("ip", "-n", netns));
        command.addAll(List.of(argv));
        Command.run(Command.DEFAULT_TIMEOUT, command);
    }

    @Override
    public String toString() {
        return "TwoHostNetwork[" + name + ", A→B " + aToB.toSpec() + ", B→A " + bToA.toSpec() + "]";
    }
}
