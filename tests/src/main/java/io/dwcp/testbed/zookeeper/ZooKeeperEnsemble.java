package io.dwcp.testbed.zookeeper;

import static java.util.Objects.requireNonNull;

import io.dwcp.testbed.dwcp.Dwcpd;
import io.dwcp.testbed.net.Host;
import io.dwcp.testbed.sys.TrackedProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.StringJoiner;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Servers of one ZooKeeper ensemble, each a {@code org.apache.zookeeper.server.quorum.QuorumPeerMain}
 * JVM in its host's network namespace. Folder {@code dir/zk-<id>/} holds {@code zoo.cfg},
 * {@code data/myid}, the data and {@code server.log}. Several servers may share a host: each has
 * its own client, quorum and election ports ({@link #onOneHost}: a whole ensemble in one host's
 * namespace). {@code tickTime=500}, {@code syncLimit=2} (the settings the control plane recommends
 * for its 3 s sessions: followers drop a leader they lost within a second), {@code initLimit=20},
 * no admin server, {@code srvr} allowed. A single member runs standalone (a
 * region's own one-server ZooKeeper). A server killed and started again keeps its folder and catches
 * up from the ensemble's leader.
 */
public final class ZooKeeperEnsemble implements AutoCloseable {
    private static final String MAIN_CLASS = "org.apache.zookeeper.server.quorum.QuorumPeerMain";
    private static final Pattern MODE = Pattern.compile("^Mode: (\\S+)$", Pattern.MULTILINE);

    /** One server: its id (1-255), host and ports. */
    public record Member(int id, Host host, int clientPort, int quorumPort, int electionPort) {
        public Member {
            requireNonNull(host, "host is null");
        }

        /** {@code address:clientPort}. */
        public String clientAddress() {
            return host.address() + ":" + clientPort;
        }
    }

    /**
     * {@code count} servers (ids 1 to count) in {@code host}'s namespace, each on its own ports:
     * client {@code 2181+i}, quorum {@code 2888+i}, election {@code 3888+i} for the i-th (from 0).
     */
    public static List<Member> onOneHost(Host host, int count) {
        requireNonNull(host, "host is null");
        if (count < 1 || count > 9) {
            throw new IllegalArgumentException("count must be 1 to 9: " + count);
        }
        List<Member> members = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            members.add(new Member(i + 1, host, 2181 + i, 2888 + i, 3888 + i));
        }
        return List.copyOf(members);
    }

    private final List<Member> members;
    private final Path dir;
    private final TrackedProcess[] processes;

    private ZooKeeperEnsemble(List<Member> members, Path dir) {
        this.members = List.copyOf(members);
        this.dir = dir;
        this.processes = new TrackedProcess[members.size()];
    }

    /** Writes every server's configuration and starts them all; {@link #awaitQuorum} tells when they serve. */
    public static ZooKeeperEnsemble start(List<Member> members, Path dir) {
        requireNonNull(members, "members is null");
        requireNonNull(dir, "dir is null");
        ZooKeeperEnsemble ensemble = new ZooKeeperEnsemble(members, dir);
        try {
            for (Member member : members) {
                ensemble.start(member);
            }
        } catch (RuntimeException | Error e) {
            ensemble.close();
            throw e;
        }
        return ensemble;
    }

    public List<Member> members() {
        return members;
    }

    /** The connect string of the whole ensemble, {@code host:port,...}. */
    public String connectString() {
        StringJoiner joined = new StringJoiner(",");
        members.forEach(member -> joined.add(member.clientAddress()));
        return joined.toString();
    }

    /** Starts the server {@code member} (again, after {@link #kill}): same folder, same data. */
    public void start(Member member) {
        int index = members.indexOf(member);
        if (index < 0) {
            throw new IllegalArgumentException("not a member of this ensemble: " + member);
        }
        if (processes[index] != null && processes[index].isAlive()) {
            throw new IllegalStateException(
                    "server " + member.id() + " is running (pid " + processes[index].pid() + ")");
        }
        Path home = dir.resolve("zk-" + member.id());
        Path config = home.resolve("zoo.cfg");
        try {
            Files.createDirectories(home.resolve("data"));
            Files.writeString(home.resolve("data").resolve("myid"), member.id() + "\n", StandardCharsets.US_ASCII);
            StringBuilder text = new StringBuilder("# written by the test bed\n")
                    .append("tickTime=500\n")
                    .append("initLimit=20\n")
                    .append("syncLimit=2\n")
                    .append("dataDir=")
                    .append(home.resolve("data"))
                    .append('\n')
                    .append("clientPortAddress=")
                    .append(member.host().address())
                    .append('\n')
                    .append("clientPort=")
                    .append(member.clientPort())
                    .append('\n')
                    .append("admin.enableServer=false\n")
                    .append("4lw.commands.whitelist=srvr\n");
            for (Member other : members) {
                text.append("server.")
                        .append(other.id())
                        .append('=')
                        .append(other.host().address())
                        .append(':')
                        .append(other.quorumPort())
                        .append(':')
                        .append(other.electionPort())
                        .append('\n');
            }
            Files.writeString(config, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + home, e);
        }
        Path home0 = Dwcpd.pluginHome();
        List<String> argv = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-Dzookeeper.jmx.log4j.disable=true",
                "-Dorg.slf4j.simpleLogger.showDateTime=true",
                "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
                "-cp",
                home0.resolve("classes") + ":" + home0.resolve("lib") + "/*",
                MAIN_CLASS,
                config.toString()));
        ProcessBuilder builder = new ProcessBuilder(argv)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(
                        home.resolve("server.log").toFile()));
        processes[index] = member.host().startTracked(builder);
    }

    /** The member whose client port is {@code clientPort} on {@code address}, if any. */
    public Optional<Member> member(String address, int clientPort) {
        return members.stream()
                .filter(member -> member.host().address().equals(address) && member.clientPort() == clientPort)
                .findFirst();
    }

    /** The running server that leads the ensemble now ({@code srvr}: leader, or standalone), if one does. */
    public Optional<Member> leader() {
        return members.stream()
                .filter(member -> pid(member).isPresent())
                .filter(member -> mode(member)
                        .filter(role -> role.equals("leader") || role.equals("standalone"))
                        .isPresent())
                .findFirst();
    }

    /** Each server's state, {@code "1: leader, 2: follower, 3: stopped"}. */
    public String states() {
        StringJoiner states = new StringJoiner(", ");
        for (Member member : members) {
            states.add(member.id() + ": "
                    + (pid(member).isEmpty() ? "stopped" : mode(member).orElse("not serving")));
        }
        return states.toString();
    }

    /** The server's pid, while it runs. */
    public Optional<Long> pid(Member member) {
        TrackedProcess process = processes[members.indexOf(member)];
        return process != null && process.isAlive() ? Optional.of(process.pid()) : Optional.empty();
    }

    /** Kills the server at once (SIGKILL to its pid), as a crash would. */
    public void kill(Member member) {
        TrackedProcess process = processes[members.indexOf(member)];
        if (process != null) {
            process.process().destroyForcibly();
            try {
                process.process().waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            process.stop(Duration.ZERO); // forgets the record
        }
    }

    /**
     * The server's role as its {@code srvr} answer says: {@code leader}, {@code follower},
     * {@code standalone} (a one-server ensemble), or empty
     * when it does not serve (no quorum, not running, not answering within a second).
     */
    public Optional<String> mode(Member member) {
        String answer;
        try {
            answer = member.host().call(() -> {
                try (Socket socket = new Socket()) {
                    socket.connect(new InetSocketAddress(member.host().address(), member.clientPort()), 1000);
                    socket.setSoTimeout(1000);
                    socket.getOutputStream().write("srvr".getBytes(StandardCharsets.US_ASCII));
                    socket.getOutputStream().flush();
                    return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    return "";
                }
            });
        } catch (RuntimeException e) {
            return Optional.empty();
        }
        Matcher matcher = MODE.matcher(answer);
        return matcher.find() ? Optional.of(matcher.group(1)) : Optional.empty();
    }

    /**
     * Waits until every running server serves with one leader among them (a one-server ensemble:
     * until it serves standalone); fails naming each server's state.
     */
    public void awaitQuorum(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<String> states = new ArrayList<>();
            int leaders = 0;
            boolean allServe = true;
            for (Member member : members) {
                if (pid(member).isEmpty()) {
                    states.add(member.id() + ": stopped");
                    continue;
                }
                Optional<String> mode = mode(member);
                states.add(member.id() + ": " + mode.orElse("not serving"));
                allServe &= mode.isPresent();
                // a one-server ensemble runs standalone: it leads itself
                leaders += mode.filter(role -> role.equals("leader") || role.equals("standalone"))
                                .isPresent()
                        ? 1
                        : 0;
            }
            if (allServe && leaders == 1) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the ZooKeeper ensemble did not serve within " + timeout.toSeconds()
                        + " s (" + String.join(", ", states) + "); logs in " + dir);
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
    }

    /** The server's log so far. */
    public String log(Member member) {
        Path file = dir.resolve("zk-" + member.id()).resolve("server.log");
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Stops every server (SIGTERM, then SIGKILL after 5 s), by pid. */
    @Override
    public void close() {
        for (TrackedProcess process : processes) {
            if (process != null) {
                process.stop(Duration.ofSeconds(5));
            }
        }
    }
}
