package io.dwcp.testbed.libvirt;

import static java.util.Objects.requireNonNull;

import io.dwcp.testbed.net.Host;
import io.dwcp.testbed.sys.Command;
import io.dwcp.testbed.sys.CommandException;
import io.dwcp.testbed.sys.Folders;
import io.dwcp.testbed.sys.Owners;
import io.dwcp.testbed.sys.TrackedProcess;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * A libvirt "host" of the test bed: libvirtd and virtlogd of their own inside a {@link Host}'s
 * network namespace, plus a mount and a UTS namespace of their own, so that two of them run side
 * by side on one machine and migrate to each other (FACTS.md: libvirt refuses a destination with
 * its own hostname or host UUID).
 *
 * <pre>
 *  netns of the Host (TwoHostNetwork)
 *   └─ holder: unshare --mount --uts --propagation private --fork --kill-child -- sh -c '...; exec sleep infinity'
 *        private bind mounts  STATE/etc   over /etc/libvirt        (configuration written here, see below)
 *                             STATE/run   over /run/libvirt        (sockets: libvirt-sock, virtlogd-sock, qemu/)
 *                             STATE/lib   over /var/lib/libvirt
 *                             STATE/cache over /var/cache/libvirt  (QEMU capabilities are probed afresh)
 *                             STATE/log   over /var/log/libvirt    (qemu/DOMAIN.log)
 *                             STATE/dwcp  over /run/dwcp           (a dwcpd's run-dir: control.sock, peer/PEER.sock)
 *                             STATE/hosts over /etc/hosts          (the machine's, plus "ADDRESS HOSTNAME")
 *        hostname             dwcpl-OWNERPID-N-NAME
 *   ├─ virtlogd -p STATE/virtlogd.pid   (nsenter into the holder's namespaces)
 *   ├─ libvirtd --listen -p STATE/libvirtd.pid
 *   │    └─ QEMU of each domain (as root, no cgroups, no per-domain namespaces)
 *   └─ what a test starts inside ({@link #startInside(ProcessBuilder)}, {@link #runInside}): a dwcpd, dwcp migrate
 * </pre>
 * STATE is {@code /run/dwcp-testbed/libvirt/OWNERPID-N-NAME}. The configuration is written from
 * scratch, never copied from the machine's /etc/libvirt (whose domains must not appear here):
 * libvirtd.conf with the host's {@code host_uuid}, plain TCP on the host's address (port 16509,
 * {@code auth_tcp="none"}: only reachable inside the test bed's namespaces) and no auth on the
 * unix socket; qemu.conf with QEMU as root, no security driver, no cgroup controllers, no
 * per-domain mount namespaces, and the host's address for incoming migrations
 * ({@code migration_address}, {@code migration_host}: the UTS hostname resolves only inside the
 * host, through the {@code /etc/hosts} bind-mounted there, which adds it with the host's address).
 *
 * <p>Clients connect from the root namespace through {@link #uri()}
 * ({@code qemu+unix:///system?socket=STATE/run/libvirt-sock}); libvirtd of a peer connects over
 * TCP, {@link #tcpUri()}. A path inside the host (a console socket under /run/libvirt) is seen from
 * outside through {@link #outside(String)}.
 *
 * <p>Cleanup: {@link #close()} destroys the domains, stops the daemons, ends every process left in
 * the mount namespace, the holder, removes cgroup {@code machine} folders of its domains (none with
 * this configuration; libvirt leaves them behind when cgroups are on) and the state folder. A JVM
 * shutdown hook closes what is still open, and {@link #cleanupLeftovers()} does the same for hosts
 * whose owner JVM died (it finds their processes by mount namespace, since libvirtd, virtlogd and
 * QEMU have no command line the test bed recorded; a process a test starts inside is found that way
 * when its command line names the state folder). The empty mount points /run/libvirt and /run/dwcp
 * are created in the root namespace when missing and never removed (removing a mount point would detach the
 * mounts of hosts of other JVMs running at the same time).
 */
public final class LibvirtHost implements AutoCloseable {
    public static final Path STATE_ROOT = TrackedProcess.STATE_DIR.resolve("libvirt");
    /** Hostnames and the domain names of {@link #domainName}: {@value}OWNERPID-... */
    public static final String PREFIX = "dwcpl-";

    static final int LIBVIRTD_TCP_PORT = 16509;
    private static final Logger LOG = Logger.getLogger(LibvirtHost.class.getName());
    private static final AtomicInteger SEQUENCE = new AtomicInteger();
    private static final Set<LibvirtHost> OPEN = ConcurrentHashMap.newKeySet();
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration VIRSH_TIMEOUT = Duration.ofSeconds(60);
    private static final List<String> PRIVATE_DIRECTORIES = List.of(
            "etc:/etc/libvirt",
            "run:/run/libvirt",
            "lib:/var/lib/libvirt",
            "cache:/var/cache/libvirt",
            "log:/var/log/libvirt",
            "dwcp:/run/dwcp");
    private static final String RECORD = "host.properties";
    /**
     * The holder's script: $1 = state folder, $2 = hostname, $3 = the host's address. Prints READY
     * and its pid, then sleeps. The host's own /etc/hosts names its hostname: libvirtd resolves its
     * hostname several times per migration (getaddrinfo), and with nothing answering for it each
     * lookup failed only after DNS's 5 s timeout, 15-20 s of every migration's start.
     */
    private static final String HOLDER_SCRIPT = String.join(
            "\n",
            "set -e",
            "for d in " + String.join(" ", PRIVATE_DIRECTORIES) + "; do",
            "  mount --bind \"$1/${d%%:*}\" \"${d#*:}\"",
            "done",
            "{ cat /etc/hosts; printf '%s %s\\n' \"$3\" \"$2\"; } > \"$1/hosts\"",
            "mount --bind \"$1/hosts\" /etc/hosts",
            "hostname \"$2\"",
            "echo \"READY $$\"",
            "exec sleep infinity");

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(LibvirtHost::closeAllOpen, "libvirt-host-cleanup"));
    }

    private final Host host;
    private final List<Path> qemuHooks;
    private final String name;
    private final String hostname;
    private final UUID hostUuid;
    private final Path state;
    private TrackedProcess holder;
    private long insidePid;
    private long mountNamespace;
    private TrackedProcess virtlogd;
    private TrackedProcess libvirtd;
    private boolean closed;

    private LibvirtHost(Host host, String name, List<Path> qemuHooks) {
        this.host = host;
        this.qemuHooks = List.copyOf(qemuHooks);
        this.name = name;
        String id = ProcessHandle.current().pid() + "-" + SEQUENCE.incrementAndGet() + "-" + name;
        this.hostname = PREFIX + id;
        this.hostUuid = UUID.randomUUID();
        this.state = STATE_ROOT.resolve(id);
    }

    /**
     * Starts a libvirt host inside {@code host}'s network namespace and waits until libvirtd
     * answers. {@code name} (a-z, 0-9, at most 12 characters) names it in hostnames and logs.
     */
    public static LibvirtHost start(Host host, String name) {
        return start(host, name, List.of());
    }

    /**
     * Like {@link #start(Host, String)}, with executables installed into the host's
     * {@code /etc/libvirt/hooks/qemu.d/} before libvirtd starts (libvirtd finds hooks only then).
     */
    public static LibvirtHost start(Host host, String name, List<Path> qemuHooks) {
        requireNonNull(host, "host is null");
        requireNonNull(qemuHooks, "qemuHooks is null");
        requireNonNull(name, "name is null");
        if (!name.matches("[a-z0-9]{1,12}")) {
            throw new IllegalArgumentException("name must be 1-12 characters of a-z0-9: " + name);
        }
        Optional<String> unavailable = whyUnavailable();
        if (unavailable.isPresent()) {
            throw new IllegalStateException(unavailable.get());
        }
        LibvirtHost libvirtHost = new LibvirtHost(host, name, qemuHooks);
        OPEN.add(libvirtHost);
        try {
            libvirtHost.startDaemons();
            return libvirtHost;
        } catch (RuntimeException e) {
            try {
                libvirtHost.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** Why libvirt hosts cannot be made here, if they cannot. */
    public static Optional<String> whyUnavailable() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return Optional.of("libvirt hosts need root (namespaces, mounts, libvirtd)");
        }
        for (String program : List.of("/usr/sbin/libvirtd", "/usr/sbin/virtlogd", "/usr/bin/virsh")) {
            if (!Files.isExecutable(Path.of(program))) {
                return Optional.of(program + " is missing: run tests/setup/install-deps.sh as root"
                        + " (libvirt-daemon-system, libvirt-daemon-driver-qemu, libvirt-clients)");
            }
        }
        for (String program : List.of("/usr/bin/unshare", "/usr/bin/nsenter")) {
            if (!Files.isExecutable(Path.of(program))) {
                return Optional.of(program + " is missing (util-linux)");
            }
        }
        return Optional.empty();
    }

    /** The test bed host (network namespace) this libvirt host lives in. */
    public Host host() {
        return host;
    }

    public String name() {
        return name;
    }

    /** The hostname libvirtd sees (its own UTS namespace). */
    public String hostname() {
        return hostname;
    }

    /** libvirtd's {@code host_uuid}. */
    public UUID hostUuid() {
        return hostUuid;
    }

    /** The host's state folder (what its private /etc/libvirt, /run/libvirt, ... are bound from). */
    public Path stateDirectory() {
        return state;
    }

    /** The URI a client in the root namespace uses (the host's unix socket). */
    public String uri() {
        return "qemu+unix:///system?socket=" + state.resolve("run").resolve("libvirt-sock");
    }

    /** The URI another libvirt host uses to reach this one (plain TCP on the host's address). */
    public String tcpUri() {
        return "qemu+tcp://" + host.address() + "/system";
    }

    /** A domain name unique to this JVM: {@value #PREFIX}OWNERPID-{@code base}. */
    public static String domainName(String base) {
        requireNonNull(base, "base is null");
        if (!base.matches("[a-z0-9-]{1,24}")) {
            throw new IllegalArgumentException("base must be 1-24 characters of a-z0-9-: " + base);
        }
        return PREFIX + ProcessHandle.current().pid() + "-" + base;
    }

    /** Where a domain's console socket lives inside a host (same path on every host, private to each). */
    public static String consoleSocketInside(String domain) {
        return "/run/libvirt/qemu/" + domain + ".console.sock";
    }

    /** The path, seen from the root namespace, of {@code insidePath} under one of the host's private folders. */
    public Path outside(String insidePath) {
        for (String mapping : PRIVATE_DIRECTORIES) {
            String inside = mapping.substring(mapping.indexOf(':') + 1);
            if (insidePath.equals(inside) || insidePath.startsWith(inside + "/")) {
                String rest = insidePath.substring(inside.length());
                return Path.of(state.resolve(mapping.substring(0, mapping.indexOf(':'))) + rest);
            }
        }
        throw new IllegalArgumentException(
                insidePath + " is not under a private folder of the host: " + PRIVATE_DIRECTORIES);
    }

    /** Runs virsh against this host; throws a CommandException unless it exits 0. */
    public Command.Result virsh(Duration timeout, String... arguments) {
        return Command.run(timeout, virshCommand(arguments));
    }

    /** Runs virsh against this host with a one-minute limit; returns stdout. */
    public String virsh(String... arguments) {
        return virsh(VIRSH_TIMEOUT, arguments).stdout();
    }

    /** Runs virsh against this host and returns whatever it exited with. */
    public Command.Result virshAllowingFailure(Duration timeout, String... arguments) {
        return Command.runAllowingFailure(timeout, virshCommand(arguments));
    }

    private List<String> virshCommand(String... arguments) {
        List<String> argv = new ArrayList<>(List.of("virsh", "-q", "-c", uri()));
        argv.addAll(List.of(arguments));
        return argv;
    }

    /** Starts a transient domain, paused before the guest runs its first instruction. */
    public void createPaused(LibvirtDomainXml domain) {
        Path file = state.resolve(domain.name() + ".xml");
        try {
            Files.writeString(file, domain.toXml(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
        try {
            virsh("create", "--paused", file.toString());
        } catch (CommandException e) {
            throw new IllegalStateException(
                    "host " + name + " cannot start domain " + domain.name() + ": " + e.getMessage()
                            + "\n--- its QEMU log ---\n" + qemuLog(domain.name()),
                    e);
        }
    }

    /** The domain's state as {@code virsh domstate} says it ("running", "paused", "shut off"), or empty when unknown here. */
    public Optional<String> domainState(String domain) {
        Command.Result result = virshAllowingFailure(VIRSH_TIMEOUT, "domstate", domain);
        return result.exitCode() == 0 ? Optional.of(result.stdout().strip()) : Optional.empty();
    }

    /** The names of the domains this host runs. */
    public List<String> runningDomains() {
        return virsh("list", "--name")
                .lines()
                .map(String::strip)
                .filter(line -> !line.isEmpty())
                .toList();
    }

    /** The end of the QEMU log libvirt keeps for {@code domain} on this host (for failure messages). */
    public String qemuLog(String domain) {
        return tail(outside("/var/log/libvirt/qemu/" + domain + ".log"), 30);
    }

    /** What libvirtd logged of the commands it ran (hook calls among them): "About to run ..." lines. */
    public List<String> commandsRun() {
        Path log = outside("/var/log/libvirt/libvirtd-commands.log");
        try {
            return Files.exists(log)
                    ? Files.readAllLines(log, StandardCharsets.UTF_8).stream()
                            .filter(line -> line.contains("About to run"))
                            .toList()
                    : List.of();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + log, e);
        }
    }

    /** The end of libvirtd's stderr. */
    public String libvirtdLog() {
        return tail(state.resolve("libvirtd.log"), 30);
    }

    // ---- start ----

    private void startDaemons() {
        try {
            for (String mapping : PRIVATE_DIRECTORIES) {
                Files.createDirectories(state.resolve(mapping.substring(0, mapping.indexOf(':'))));
                Path mountPoint = Path.of(mapping.substring(mapping.indexOf(':') + 1));
                if (!Files.isDirectory(mountPoint)) {
                    // only /run/libvirt and /run/dwcp can be missing (runtime folders of packages), see the class
                    // comment
                    Files.createDirectories(mountPoint);
                }
            }
            writeConfiguration();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + state, e);
        }
        startHolder();
        writeRecord();
        virtlogd = startInside(
                "virtlogd",
                List.of(
                        "/usr/sbin/virtlogd",
                        "-p",
                        state.resolve("virtlogd.pid").toString()));
        awaitFile(state.resolve("run").resolve("virtlogd-sock"), virtlogd, "virtlogd");
        libvirtd = startInside(
                "libvirtd",
                List.of(
                        "/usr/sbin/libvirtd",
                        "--listen",
                        "-p",
                        state.resolve("libvirtd.pid").toString()));
        awaitLibvirtd();
        LOG.info("libvirt host " + name + " up: hostname " + hostname + ", host_uuid " + hostUuid + ", "
                + host.address() + ", state " + state);
    }

    private void writeConfiguration() throws IOException {
        Path etc = state.resolve("etc");
        Files.writeString(etc.resolve("libvirtd.conf"), libvirtdConf(hostUuid, host.address()), StandardCharsets.UTF_8);
        Files.writeString(etc.resolve("qemu.conf"), qemuConf(host.address()), StandardCharsets.UTF_8);
        Files.writeString(etc.resolve("virtlogd.conf"), "# dwcp test bed: defaults\n", StandardCharsets.UTF_8);
        Files.writeString(etc.resolve("libvirt.conf"), "# dwcp test bed: defaults\n", StandardCharsets.UTF_8);
        if (!qemuHooks.isEmpty()) {
            Path hooks = Files.createDirectories(etc.resolve("hooks").resolve("qemu.d"));
            for (Path hook : qemuHooks) {
                Path installed = hooks.resolve(hook.getFileName());
                Files.copy(hook, installed);
                installed.toFile().setExecutable(true, false);
            }
        }
    }

    static String libvirtdConf(UUID hostUuid, String address) {
        return String.join(
                "\n",
                "# written by the dwcp test bed (io.dwcp.testbed.libvirt.LibvirtHost)",
                "host_uuid = \"" + hostUuid + "\"",
                "listen_tls = 0",
                "listen_tcp = 1",
                "listen_addr = \"" + address + "\"",
                "tcp_port = \"" + LIBVIRTD_TCP_PORT + "\"",
                "auth_tcp = \"none\"",
                "auth_unix_ro = \"none\"",
                "auth_unix_rw = \"none\"",
                "unix_sock_group = \"root\"",
                // warnings and errors on stderr; every command libvirtd runs (hooks too) in libvirtd-commands.log
                "log_filters = \"1:util.command\"",
                "log_outputs = \"3:stderr 1:file:/var/log/libvirt/libvirtd-commands.log\"",
                "");
    }

    static String qemuConf(String address) {
        return String.join(
                "\n",
                "# written by the dwcp test bed (io.dwcp.testbed.libvirt.LibvirtHost)",
                "user = \"root\"",
                "group = \"root\"",
                "dynamic_ownership = 0",
                "remember_owner = 0",
                "security_driver = \"none\"",
                "namespaces = [ ]",
                "cgroup_controllers = [ ]",
                "migration_address = \"" + address + "\"",
                "migration_host = \"" + address + "\"",
                "");
    }

    private void startHolder() {
        ProcessBuilder builder = new ProcessBuilder(
                        "/usr/bin/unshare",
                        "--mount",
                        "--uts",
                        "--propagation",
                        "private",
                        "--fork",
                        "--kill-child",
                        "--",
                        "/bin/sh",
                        "-c",
                        HOLDER_SCRIPT,
                        "dwcp-libvirt-holder",
                        state.toString(),
                        hostname,
                        host.address())
                .redirectError(state.resolve("holder.log").toFile());
        holder = host.startTracked(builder);
        CompletableFuture<String> first = CompletableFuture.supplyAsync(() -> {
            try {
                BufferedReader lines = new BufferedReader(
                        new InputStreamReader(holder.process().getInputStream(), StandardCharsets.UTF_8));
                String line = lines.readLine();
                return line == null ? "EOF" : line;
            } catch (IOException e) {
                return "EOF (" + e.getMessage() + ")";
            }
        });
        String line;
        try {
            line = first.get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting the namespaces of libvirt host " + name, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException(
                    "the namespaces of libvirt host " + name + " did not come up within 30 s: "
                            + tail(state.resolve("holder.log"), 10),
                    e);
        }
        if (!line.startsWith("READY ")) {
            throw new IllegalStateException("the namespaces of libvirt host " + name + " failed: " + line + "; "
                    + tail(state.resolve("holder.log"), 10));
        }
        insidePid = Long.parseLong(line.substring("READY ".length()).strip());
        mountNamespace = NamespaceProcesses.namespaceInode(insidePid, "mnt")
                .orElseThrow(() -> new IllegalStateException("the holder of libvirt host " + name + " ended at once: "
                        + tail(state.resolve("holder.log"), 10)));
        long rootNamespace = NamespaceProcesses.namespaceInode(
                        ProcessHandle.current().pid(), "mnt")
                .orElse(-1);
        if (mountNamespace == rootNamespace) {
            throw new IllegalStateException(
                    "the holder of libvirt host " + name + " shares this JVM's mount namespace");
        }
    }

    /** What {@link #cleanupLeftovers()} needs to clean this host after its owner died. */
    private void writeRecord() {
        Properties record = new Properties();
        record.setProperty("owner", Long.toString(ProcessHandle.current().pid()));
        record.setProperty("mountNamespace", Long.toString(mountNamespace));
        record.setProperty("holder", Long.toString(holder.pid()));
        record.setProperty("netns", host.netns());
        record.setProperty("hostname", hostname);
        try (var out = Files.newBufferedWriter(state.resolve(RECORD), StandardCharsets.UTF_8)) {
            record.store(out, "dwcp libvirt test bed host");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + state.resolve(RECORD), e);
        }
    }

    /** Starts {@code argv} inside the holder's mount, UTS and network namespaces, its output in STATE/NAME.log. */
    private TrackedProcess startInside(String what, List<String> argv) {
        Path log = state.resolve(what + ".log");
        ProcessBuilder builder =
                new ProcessBuilder(argv).redirectOutput(log.toFile()).redirectErrorStream(true);
        builder.environment().put("LC_ALL", "C");
        return startInside(builder);
    }

    /**
     * Starts {@code builder}'s command inside the host's mount, UTS and network namespaces as a
     * {@link TrackedProcess} (nsenter execs the command: the tracked pid is the command's), with
     * the builder's redirections and environment. It sees the host's private /run/libvirt,
     * /run/dwcp, ...; {@link #close()} ends it with everything else left in the mount namespace.
     */
    public TrackedProcess startInside(ProcessBuilder builder) {
        requireNonNull(builder, "builder is null");
        builder.command(inside(builder.command()));
        return TrackedProcess.start(builder);
    }

    /** Runs {@code argv} inside the host's namespaces (see {@link #startInside(ProcessBuilder)}) and returns whatever it exited with. */
    public Command.Result runInside(Duration timeout, List<String> argv) {
        requireNonNull(argv, "argv is null");
        return Command.runAllowingFailure(timeout, inside(argv));
    }

    private List<String> inside(List<String> argv) {
        if (insidePid == 0) {
            throw new IllegalStateException("libvirt host " + name + " has no namespaces yet");
        }
        List<String> command = new ArrayList<>(
                List.of("/usr/bin/nsenter", "--target", Long.toString(insidePid), "--mount", "--uts", "--net", "--"));
        command.addAll(argv);
        return command;
    }

    private void awaitFile(Path file, TrackedProcess process, String what) {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!Files.exists(file)) {
            if (!process.isAlive()) {
                throw new IllegalStateException(
                        what + " of libvirt host " + name + " exited: " + tail(state.resolve(what + ".log"), 20));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(what + " of libvirt host " + name + " did not create " + file
                        + " within " + START_TIMEOUT.toSeconds() + " s: " + tail(state.resolve(what + ".log"), 20));
            }
            sleep(50);
        }
    }

    private void awaitLibvirtd() {
        awaitFile(state.resolve("run").resolve("libvirt-sock"), libvirtd, "libvirtd");
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            Command.Result result = virshAllowingFailure(VIRSH_TIMEOUT, "hostname");
            if (result.exitCode() == 0) {
                String seen = result.stdout().strip();
                if (!seen.equals(hostname)) {
                    throw new IllegalStateException("libvirtd of host " + name + " says its hostname is " + seen
                            + ", not " + hostname + ": it does not run in the host's UTS namespace");
                }
                return;
            }
            if (!libvirtd.isAlive()) {
                throw new IllegalStateException("libvirtd of libvirt host " + name + " exited: " + libvirtdLog());
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("libvirtd of libvirt host " + name + " does not answer: "
                        + result.stderr() + "\n" + libvirtdLog());
            }
            sleep(100);
        }
    }

    // ---- close ----

    /** Destroys the domains, stops the daemons and the namespaces, removes the state. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (libvirtd != null && libvirtd.isAlive()) {
            try {
                for (String domain : runningDomains()) {
                    virshAllowingFailure(Duration.ofSeconds(30), "destroy", domain);
                }
            } catch (RuntimeException e) {
                LOG.warning("libvirt host " + name
                        + ": cannot list or destroy its domains (ending their QEMU instead): " + e.getMessage());
            }
        }
        if (libvirtd != null) {
            libvirtd.stop(Duration.ofSeconds(10));
        }
        if (virtlogd != null) {
            virtlogd.stop(Duration.ofSeconds(5));
        }
        if (mountNamespace != 0) {
            NamespaceProcesses.kill(NamespaceProcesses.inMountNamespace(mountNamespace, cmdline -> true));
        }
        if (holder != null) {
            holder.stop(Duration.ofSeconds(5));
        }
        removeCgroupFolders(hostname, ProcessHandle.current().pid());
        Folders.deleteTree(state);
        OPEN.remove(this);
    }

    /**
     * Cleans the hosts whose owner JVM died: ends the processes left in their mount namespace
     * (checked by command line too: libvirtd, virtlogd, the holder or a QEMU of a test domain), their
     * cgroup folders and state. Hosts of live JVMs are left alone. Returns the number cleaned.
     */
    public static int cleanupLeftovers() {
        if (!Files.isDirectory(STATE_ROOT)) {
            return 0;
        }
        int cleaned = 0;
        List<Path> folders = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(STATE_ROOT)) {
            entries.forEach(folders::add);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + STATE_ROOT, e);
        }
        for (Path folder : folders) {
            String id = folder.getFileName().toString();
            long owner;
            try {
                owner = Long.parseLong(id.substring(0, Math.max(0, id.indexOf('-'))));
            } catch (NumberFormatException e) {
                continue;
            }
            if (Owners.isAlive(owner)) {
                continue;
            }
            Properties record = new Properties();
            Path recordFile = folder.resolve(RECORD);
            if (Files.isRegularFile(recordFile)) {
                try (var in = Files.newBufferedReader(recordFile, StandardCharsets.UTF_8)) {
                    record.load(in);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read " + recordFile, e);
                }
            }
            String namespace = record.getProperty("mountNamespace");
            if (namespace != null) {
                String stateFolder = folder.toString();
                String domains = "guest=" + PREFIX + owner + "-";
                List<Long> pids = NamespaceProcesses.inMountNamespace(
                        Long.parseLong(namespace),
                        cmdline -> cmdline.contains(stateFolder)
                                || cmdline.contains(domains)
                                || cmdline.startsWith("sleep infinity"));
                NamespaceProcesses.kill(pids);
                if (!pids.isEmpty()) {
                    LOG.info("ended " + pids.size() + " leftover processes of libvirt host " + id + ": " + pids);
                }
            }
            String holder = record.getProperty("holder");
            if (holder != null) {
                long pid = Long.parseLong(holder);
                if (NamespaceProcesses.commandLine(pid).contains(" dwcp-libvirt-holder " + folder + " ")) {
                    NamespaceProcesses.kill(List.of(pid));
                }
            }
            removeCgroupFolders(record.getProperty("hostname", PREFIX + id), owner);
            Folders.deleteTree(folder);
            LOG.info("removed leftover libvirt host " + id);
            cleaned++;
        }
        return cleaned;
    }

    /**
     * Removes the cgroup folders libvirt made for this owner's domains ({@code machine/qemu-N-DOMAIN.libvirt-qemu}
     * under every hierarchy; libvirt never removes the {@code machine} folders themselves).
     */
    static void removeCgroupFolders(String hostname, long owner) {
        Path cgroups = Path.of("/sys/fs/cgroup");
        if (!Files.isDirectory(cgroups)) {
            return;
        }
        String marker = PREFIX + owner + "-";
        List<Path> machineFolders = new ArrayList<>();
        machineFolders.add(cgroups.resolve("machine"));
        try (DirectoryStream<Path> hierarchies = Files.newDirectoryStream(cgroups)) {
            for (Path hierarchy : hierarchies) {
                machineFolders.add(hierarchy.resolve("machine"));
                machineFolders.add(hierarchy.resolve("machine.slice"));
            }
        } catch (IOException e) {
            LOG.warning("cannot list " + cgroups + ": " + e);
            return;
        }
        for (Path machine : machineFolders) {
            if (!Files.isDirectory(machine)) {
                continue;
            }
            try (Stream<Path> children = Files.list(machine)) {
                for (Path child : children.filter(Files::isDirectory).toList()) {
                    String escaped = child.getFileName().toString().replace("\\x2d", "-");
                    if (escaped.contains(marker) || escaped.contains(hostname)) {
                        removeCgroup(child);
                    }
                }
            } catch (IOException e) {
                LOG.warning("cannot list " + machine + ": " + e);
            }
        }
    }

    /** A cgroup folder goes with rmdir, children first (its files are not real files). */
    private static void removeCgroup(Path folder) {
        try (Stream<Path> tree = Files.walk(folder)) {
            for (Path path : tree.filter(Files::isDirectory)
                    .sorted(Comparator.reverseOrder())
                    .toList()) {
                try {
                    Files.delete(path);
                } catch (IOException e) {
                    LOG.warning("cannot remove cgroup " + path + ": " + e);
                }
            }
        } catch (IOException e) {
            LOG.warning("cannot walk cgroup " + folder + ": " + e);
        }
    }

    private static void closeAllOpen() {
        for (LibvirtHost host : List.copyOf(OPEN)) {
            try {
                host.close();
            } catch (RuntimeException e) {
                System.err.println("cannot close libvirt host " + host.name + ": " + e);
            }
        }
    }

    static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
            String text = String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()))
                    .strip();
            return text.isEmpty() ? "(" + file + " is empty)" : text;
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e.getMessage() + ")";
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Override
    public String toString() {
        return "LibvirtHost[" + name + ", " + hostname + ", " + host + "]";
    }
}
