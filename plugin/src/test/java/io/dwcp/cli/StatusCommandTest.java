package io.dwcp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code dwcp status} against a hand-written dwcpd: with and without a control plane, text and JSON, dwcpd down. */
class StatusCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long NOW = 1_800_000_000_000L;

    private final FakeDwcpd dwcpd = new FakeDwcpd();
    private final List<Path> sockets = new ArrayList<>();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private Path directory;
    private Path config;

    @BeforeEach
    void setUp() throws IOException {
        directory = Files.createTempDirectory("dwcp-status");
        config = directory.resolve("dwcp.properties");
        Files.writeString(config, "control.socket=/run/dwcp-test/control.sock\n");
    }

    @AfterEach
    void tearDown() throws IOException {
        Files.deleteIfExists(config);
        Files.deleteIfExists(directory);
    }

    private int run(String... arguments) {
        StatusCommand.Environment environment = new StatusCommand.Environment(
                socket -> {
                    sockets.add(socket);
                    return dwcpd;
                },
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8),
                () -> NOW);
        CommandLine commandLine = new CommandLine(new StatusCommand(environment));
        commandLine.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
        commandLine.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
        List<String> all = new ArrayList<>(List.of("--config", config.toString()));
        all.addAll(List.of(arguments));
        return commandLine.execute(all.toArray(String[]::new));
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    private static Dwcpd.Region region() {
        return new Dwcpd.Region(
                "lab",
                "alpha",
                "beta",
                420,
                false,
                7,
                List.of(
                        new Dwcpd.Host("alpha", "192.0.2.10:7470", 8, "0.1.0", "sha256:aa11", NOW - 60_000),
                        new Dwcpd.Host("beta", "192.0.2.20:7470", 16, "0.1.0", "sha256:bb22", NOW - 90_000)),
                1_250,
                List.of(new Dwcpd.Link("alpha", "beta", 71_500, 62_500_000, 250, NOW - 3_000)),
                1_250,
                List.of(new Dwcpd.RemoteRegion(
                        "far", "{\"leader\":\"gamma\",\"term\":2}", List.of("gamma", "delta"), 4_000)));
    }

    @Test
    void withoutAControlPlaneOneLineThenTheStaticPeers() {
        assertEquals(0, run());
        assertEquals("""
                dwcpd alpha runs no control plane (region.name is not set): it migrates to its static peers only
                Static peers (1):
                  NAME  ADDRESS          SOCKET
                  beta  192.0.2.20:7470  /run/dwcp/peer/beta.sock
                """, out());
        assertEquals("", err());
        assertEquals(List.of(Path.of("/run/dwcp-test/control.sock")), sockets, "control.socket from the settings file");
    }

    @Test
    void theRegionWithTheAgeOfEachFigure() {
        dwcpd.region = Optional.of(region());
        assertEquals(0, run("--control-socket", "/tmp/other.sock"));
        assertEquals("""
                Region lab, host alpha
                Leader:  beta, term 7 (read 420 ms ago)

                Hosts (2, read 1.3 s ago):
                  NAME    ADDRESS          CAPACITY  VERSION  FINGERPRINT
                  alpha   192.0.2.10:7470  8         0.1.0    sha256:aa11
                  beta *  192.0.2.20:7470  16        0.1.0    sha256:bb22

                Links (1, read 1.3 s ago):
                  FROM   TO    RTT      GOODPUT       LOSS     MEASURED
                  alpha  beta  71.5 ms  500.0 Mbit/s  0.025 %  3.0 s ago

                Other regions (gossip):
                  REGION  HOSTS        SUMMARY                      AGE
                  far     gamma,delta  {"leader":"gamma","term":2}  4.0 s ago

                Static peers (1):
                  NAME  ADDRESS          SOCKET
                  beta  192.0.2.20:7470  /run/dwcp/peer/beta.sock
                """, out());
        assertEquals(List.of(Path.of("/tmp/other.sock")), sockets, "--control-socket overrides the settings file");
    }

    @Test
    void aLeadingHostWithNothingReadYet() {
        dwcpd.peers = List.of();
        dwcpd.region = Optional.of(
                new Dwcpd.Region("lab", "alpha", "alpha", 5, true, 1, List.of(), -1, List.of(), -1, List.of()));
        assertEquals(0, run());
        assertEquals("""
                Region lab, host alpha
                Leader:  alpha (this host), term 1 (read 5 ms ago)

                Hosts (0, never read):
                  none

                Links (0, never read):
                  none measured
                """, out());
    }

    @Test
    void nobodyLeads() {
        dwcpd.peers = List.of();
        dwcpd.region = Optional.of(
                new Dwcpd.Region("lab", "alpha", "", 150_000, false, 3, List.of(), 150_000, List.of(), -1, List.of()));
        assertEquals(0, run());
        assertTrue(
                out().startsWith(
                                "Region lab, host alpha\nLeader:  none known (read 2 min ago)\n\nHosts (0, read 2 min ago):\n"),
                out());
    }

    @Test
    void jsonWithoutAControlPlane() throws IOException {
        assertEquals(0, run("--json"));
        JsonNode status = JSON.readTree(out());
        assertEquals("alpha", status.path("node").asText());
        assertEquals(
                "192.0.2.20:7470", status.path("peers").path(0).path("address").asText());
        assertTrue(status.has("region") && status.path("region").isNull(), out());
    }

    @Test
    void jsonWithTheRegion() throws IOException {
        dwcpd.region = Optional.of(region());
        assertEquals(0, run("--json"));
        JsonNode region = JSON.readTree(out()).path("region");
        assertEquals("lab", region.path("region").asText());
        assertEquals("beta", region.path("leader").asText());
        assertEquals(7, region.path("term").asLong());
        assertEquals(420, region.path("leaderAgeMillis").asLong());
        assertEquals(false, region.path("thisHostLeads").asBoolean(true));
        assertEquals(1_250, region.path("hostsAgeMillis").asLong());
        assertEquals(
                "sha256:bb22",
                region.path("hosts").path(1).path("certificateFingerprint").asText());
        assertEquals(16, region.path("hosts").path(1).path("capacity").asInt());
        assertEquals(71_500, region.path("links").path(0).path("rttMicros").asLong());
        assertEquals(
                List.of("gamma", "delta"),
                List.of(
                        region.path("regions").path(0).path("hosts").path(0).asText(),
                        region.path("regions").path(0).path("hosts").path(1).asText()));
    }

    @Test
    void dwcpdDownIsExitThree() {
        dwcpd.down = "no control socket /run/dwcp-test/control.sock (is dwcpd running? systemctl status dwcpd)";
        assertEquals(3, run());
        assertEquals(
                "dwcp status: no control socket /run/dwcp-test/control.sock (is dwcpd running? systemctl status dwcpd)\n",
                err());
        assertEquals("", out());
    }

    @Test
    void aBrokenSettingsFileIsAUsageError() throws IOException {
        Files.writeString(config, "control.sockett=/x\n");
        assertEquals(2, run());
        assertTrue(err().startsWith("dwcp status: " + config + ": "), err());
        assertTrue(err().contains("control.sockett"), err());
        assertEquals(List.of(), sockets, "dwcpd not asked");
    }

    @Test
    void agesAreWrittenForPeople() {
        assertEquals("never read", StatusCommand.age(-1));
        assertEquals("read 0 ms ago", StatusCommand.age(0));
        assertEquals("read 119.9 s ago", StatusCommand.age(119_900));
        assertEquals("2 min ago", StatusCommand.ago(120_000));
        assertEquals("2 h ago", StatusCommand.ago(7_200_000));
        assertEquals("in the future (clocks differ)", StatusCommand.ago(-5));
    }
}
