package io.dwcp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code dwcp baselines} and {@code dwcp baselines remove} against a hand-written dwcpd: listing, JSON, removal, exit codes. */
class BaselinesCommandTest {
    private static final long NOW = 1_800_000_000_000L;
    private static final long HOUR = 3_600_000L;

    private final FakeDwcpd dwcpd = new FakeDwcpd();
    private final List<Path> sockets = new ArrayList<>();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... arguments) {
        BaselinesCommand.Environment environment = new BaselinesCommand.Environment(
                socket -> {
                    sockets.add(socket);
                    return dwcpd;
                },
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8),
                () -> NOW);
        CommandLine commandLine = new CommandLine(new BaselinesCommand(environment));
        commandLine.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
        commandLine.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
        return commandLine.execute(arguments);
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void listsTheBaselinesOldestFirst() {
        dwcpd.baselines = new Dwcpd.Baselines(
                "/var/lib/dwcp/baselines",
                16L << 30,
                7 * 86400,
                3L * (1 << 30) + 5000,
                List.of(
                        new Dwcpd.Baseline(
                                "c-5f0c1a",
                                Optional.of("web1"),
                                Optional.of("c7a5fdbd-cdaf-9455-926a-d65c16db1809"),
                                786432,
                                3L << 30,
                                NOW - 75 * HOUR,
                                75 * HOUR,
                                OptionalLong.of(NOW - 2 * HOUR - 5 * 60_000),
                                false),
                        new Dwcpd.Baseline(
                                "c-77aa",
                                Optional.of("db-2"),
                                Optional.empty(),
                                1,
                                4136,
                                NOW - 90_000,
                                90_000,
                                OptionalLong.of(NOW - 1000),
                                true),
                        new Dwcpd.Baseline(
                                "c-9e",
                                Optional.empty(),
                                Optional.empty(),
                                0,
                                24,
                                NOW - 5000,
                                5000,
                                OptionalLong.empty(),
                                false)),
                "{}");
        assertEquals(0, run("--control-socket", "/tmp/dwcp-test.sock"));
        assertEquals("""
                VM    UUID                                  BASELINE  AGE        SIZE   PAGES  LAST USED
                web1  c7a5fdbd-cdaf-9455-926a-d65c16db1809  c-5f0c1a  3d 3h   3.0 GiB  786432  2h 5m ago
                db-2  -                                     c-77aa    1m 30s  4.0 KiB       1  in use
                -     -                                     c-9e      5s         24 B       0  never
                3 baselines, 3.0 GiB of 16.0 GiB (hde.baseline-size-limit); removed when older than 7d (hde.baseline-max-age).
                """, out());
        assertEquals("", err());
        assertEquals(List.of(Path.of("/tmp/dwcp-test.sock")), sockets);
        assertEquals(List.of("baselines"), dwcpd.calls);
    }

    @Test
    void noBaselinesAndNoAgeLimit() {
        dwcpd.baselines = new Dwcpd.Baselines("/var/lib/dwcp/baselines", 1L << 30, 0, 0, List.of(), "{}");
        assertEquals(0, run("--control-socket", "/tmp/dwcp-test.sock"));
        assertEquals("""
                No baselines in /var/lib/dwcp/baselines.
                0 baselines, 0 B of 1.0 GiB (hde.baseline-size-limit); no age limit (hde.baseline-max-age).
                """, out());
    }

    @Test
    void jsonIsDwcpdsAnswer() {
        dwcpd.baselines =
                new Dwcpd.Baselines("/d", 1, 0, 0, List.of(), "{\"directory\":\"/d\",\"baselines\":[],\"commits\":[]}");
        assertEquals(0, run("--json", "--control-socket", "/tmp/dwcp-test.sock"));
        assertEquals("{\"directory\":\"/d\",\"baselines\":[],\"commits\":[]}\n", out());
    }

    @Test
    void dwcpdDown() {
        dwcpd.down = "no control socket /run/dwcp/control.sock (is dwcpd running? systemctl status dwcpd)";
        assertEquals(3, run("--control-socket", "/run/dwcp/control.sock"));
        assertEquals(
                "dwcp baselines: no control socket /run/dwcp/control.sock (is dwcpd running? systemctl status dwcpd)\n",
                err());
        assertEquals(3, run("remove", "web1", "--control-socket", "/run/dwcp/control.sock"));
        assertTrue(
                err().endsWith(
                                "dwcp baselines remove: no control socket /run/dwcp/control.sock (is dwcpd running? systemctl status dwcpd)\n"),
                err());
    }

    @Test
    void removesAVmsBaselines() {
        dwcpd.removal = new Dwcpd.Removal(Dwcpd.Removal.Outcome.REMOVED, List.of("c-5f0c1a", "c-77aa"), "");
        assertEquals(0, run("remove", "web1", "--control-socket", "/tmp/a.sock"));
        assertEquals("Removed 2 baselines of web1: c-5f0c1a, c-77aa\n", out());
        // the socket given to 'dwcp baselines' itself
        assertEquals(0, run("--control-socket", "/tmp/b.sock", "remove", "web1"));
        assertEquals(List.of(Path.of("/tmp/a.sock"), Path.of("/tmp/b.sock")), sockets);
        assertEquals(List.of("remove web1", "remove web1"), dwcpd.calls);
    }

    @Test
    void refusedRemovalsSayWhy() {
        dwcpd.removal = new Dwcpd.Removal(
                Dwcpd.Removal.Outcome.IN_USE,
                List.of(),
                "baseline c-77aa of 'db-2' in use by a migration: nothing removed, try again once it ended");
        assertEquals(4, run("remove", "db-2", "--control-socket", "/tmp/a.sock"));
        assertEquals(
                "dwcp baselines remove: baseline c-77aa of 'db-2' in use by a migration: nothing removed, try again once it ended\n",
                err());
        err.reset();
        dwcpd.removal = new Dwcpd.Removal(
                Dwcpd.Removal.Outcome.NO_SUCH_BASELINE,
                List.of(),
                "no baseline of 'nope' (neither its id nor its VM's domain name or UUID)");
        assertEquals(1, run("remove", "nope", "--control-socket", "/tmp/a.sock"));
        assertEquals(
                "dwcp baselines remove: no baseline of 'nope' (neither its id nor its VM's domain name or UUID)\n",
                err());
        assertEquals("", out());
    }

    @Test
    void usageErrors() {
        assertEquals(2, run("remove"));
        assertTrue(err().contains("Missing required parameter: 'VM'"), err());
        err.reset();
        assertEquals(2, run("--config", "/nonexistent/dwcp.properties"));
        assertTrue(err().startsWith("dwcp baselines: "), err());
        assertEquals(List.of(), dwcpd.calls);
    }

    @Test
    void ages() {
        assertEquals("0s", BaselinesCommand.age(-5));
        assertEquals("59s", BaselinesCommand.age(59_999));
        assertEquals("1m", BaselinesCommand.age(60_000));
        assertEquals("59m 59s", BaselinesCommand.age(3_599_000));
        assertEquals("1h", BaselinesCommand.age(HOUR));
        assertEquals("23h 59m", BaselinesCommand.age(24 * HOUR - 1));
        assertEquals("7d", BaselinesCommand.age(7 * 24 * HOUR));
        assertEquals("400d 1h", BaselinesCommand.age(400 * 24 * HOUR + HOUR));
    }
}
