package io.dwcp.hooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The hook script {@code 50-dwcp} run as libvirtd runs it (clean environment, four arguments, the
 * domain XML on stdin), under dash (Debian's /bin/sh) and bash (RHEL's), against a hand-written
 * fake dwcpd.
 */
class HookScriptTest {
    static final Path SCRIPT = Path.of(System.getProperty("dwcp.hook.script", "src/main/sh/50-dwcp"))
            .toAbsolutePath();
    static final String UUID = "c7a5fdbd-cdaf-9455-926a-d65c16db1809";
    /** The first lines of a domain XML as libvirt passes it on migrate begin (trimmed). */
    static final String DOMAIN_XML = """
            <domain type='kvm'>
              <name>vm1</name>
              <uuid>%s</uuid>
              <metadata>
                <app:info xmlns:app='http://example.org/app'><uuid>00000000-0000-0000-0000-000000000000</uuid></app:info>
              </metadata>
              <memory unit='KiB'>262144</memory>
              <os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type><kernel>/boot/vmlinuz</kernel></os>
            </domain>
            """.formatted(UUID);
    /** The hook must be done well within a second, whatever dwcpd does. */
    static final long TIME_LIMIT_MILLIS = 1000;

    @TempDir
    Path dir;

    record Run(int exitCode, String stdout, String stderr, long millis) {}

    static Stream<String> shells() {
        return Stream.of("/bin/dash", "/bin/bash").filter(shell -> Files.isExecutable(Path.of(shell)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shells")
    void migrateBeginTellsDwcpdTheDomainAndUuidOverTheUnixSocket(String shell) throws Exception {
        Path socket = dir.resolve("control.sock");
        try (FakeDwcpd dwcpd = FakeDwcpd.onUnixSocket(socket, 204, "")) {
            Path config = config("endpoint=unix:" + socket, "syslog=no");
            Run run = hook(shell, config, DOMAIN_XML, "vm1", "migrate", "begin", "-");

            assertEquals(0, run.exitCode(), run.stderr());
            assertEquals("", run.stdout(), "stdout is the domain XML for libvirt: must stay empty");
            assertEquals("", run.stderr());
            FakeDwcpd.Request request = dwcpd.nextRequest(2000);
            assertNotNull(request, "no request reached the fake dwcpd");
            dwcpd.assertNoFailure();
            assertEquals("POST", request.method());
            assertEquals("/v1/incoming-migrations", request.target());
            assertEquals("HTTP/1.1", request.version());
            assertEquals("application/x-www-form-urlencoded", request.headers().get("content-type"));
            assertTrue(
                    request.headers().get("user-agent").startsWith("dwcp-libvirt-hook/"),
                    request.headers().toString());
            assertEquals(Map.of("protocol", "1", "domain", "vm1", "uuid", UUID), request.form());
            assertTrue(run.millis() < TIME_LIMIT_MILLIS, "took " + run.millis() + " ms");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shells")
    void domainNamesWithAnyCharacterArriveUnchanged(String shell) throws Exception {
        Path socket = dir.resolve("control.sock");
        String name = "web 01 & db=\"x\" 'q' $HOME `id` \\ ü/%2F+";
        try (FakeDwcpd dwcpd = FakeDwcpd.onUnixSocket(socket, 200, "ok")) {
            Run run = hook(
                    shell, config("endpoint=unix:" + socket, "syslog=no"), DOMAIN_XML, name, "migrate", "begin", "-");

            assertEquals(0, run.exitCode(), run.stderr());
            assertEquals("", run.stdout());
            FakeDwcpd.Request request = dwcpd.nextRequest(2000);
            assertNotNull(request);
            assertEquals(name, request.form().get("domain"));
            assertEquals(UUID, request.form().get("uuid"));
        }
    }

    @Test
    void loopbackHttpEndpoint() throws Exception {
        try (FakeDwcpd dwcpd = FakeDwcpd.onLoopbackTcp(202, "")) {
            Run run = hook(
                    "/bin/sh",
                    config("endpoint=http://127.0.0.1:" + dwcpd.port(), "syslog=no"),
                    DOMAIN_XML,
                    "vm1",
                    "migrate",
                    "begin",
                    "-");

            assertEquals(0, run.exitCode(), run.stderr());
            assertEquals("", run.stdout());
            assertEquals("", run.stderr());
            FakeDwcpd.Request request = dwcpd.nextRequest(2000);
            assertNotNull(request);
            assertEquals("/v1/incoming-migrations", request.target());
            assertEquals(Map.of("protocol", "1", "domain", "vm1", "uuid", UUID), request.form());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shells")
    void nothingListeningLetsThePlainMigrationProceedWithANoteOnStderr(String shell) throws Exception {
        Path socket = dir.resolve("absent.sock");
        Run run =
                hook(shell, config("endpoint=unix:" + socket, "syslog=no"), DOMAIN_XML, "vm1", "migrate", "begin", "-");

        assertEquals(0, run.exitCode());
        assertEquals("", run.stdout());
        assertEquals(
                "dwcp-hook: dwcpd is not running (no control socket " + socket
                        + "); the migration of 'vm1' proceeds without telling dwcpd\n",
                run.stderr());
        assertTrue(run.millis() < TIME_LIMIT_MILLIS, "took " + run.millis() + " ms");
    }

    @Test
    void nothingListeningOnTheDefaultEndpoint() throws Exception {
        assumeTrue(!Files.exists(Path.of("/run/dwcp/control.sock")), "a dwcpd runs on this machine");
        // no configuration file: every default
        Run run = hook("/bin/sh", dir.resolve("no-such.conf"), DOMAIN_XML, "vm1", "migrate", "begin", "-");

        assertEquals(0, run.exitCode());
        assertEquals("", run.stdout());
        assertTrue(
                run.stderr().startsWith("dwcp-hook: dwcpd is not running (no control socket /run/dwcp/control.sock)"),
                run.stderr());
    }

    @Test
    void aStaleSocketWithoutDaemonIsReportedAndTheMigrationProceeds() throws Exception {
        Path socket = dir.resolve("stale.sock");
        FakeDwcpd.onUnixSocket(socket, 204, "").closeKeepingSocketFile();
        Run run = hook(
                "/bin/sh", config("endpoint=unix:" + socket, "syslog=no"), DOMAIN_XML, "vm1", "migrate", "begin", "-");

        assertEquals(0, run.exitCode());
        assertEquals("", run.stdout());
        assertTrue(
                run.stderr()
                        .startsWith("dwcp-hook: dwcpd did not answer at unix:" + socket + " within 0.8s (curl exit 7"),
                run.stderr());
        assertTrue(run.stderr().endsWith("; the migration of 'vm1' proceeds without telling dwcpd\n"), run.stderr());
    }

    @Test
    void aHungDwcpdIsCutAtTheTimeout() throws Exception {
        Path socket = dir.resolve("control.sock");
        try (FakeDwcpd dwcpd = FakeDwcpd.silentOnUnixSocket(socket)) {
            Run run = hook(
                    "/bin/sh",
                    config("endpoint=unix:" + socket, "timeout=0.3", "syslog=no"),
                    DOMAIN_XML,
                    "vm1",
                    "migrate",
                    "begin",
                    "-");

            assertEquals(0, run.exitCode());
            assertEquals("", run.stdout());
            assertTrue(
                    run.stderr()
                            .startsWith(
                                    "dwcp-hook: dwcpd did not answer at unix:" + socket + " within 0.3s (curl exit 28"),
                    run.stderr());
            assertTrue(run.millis() >= 300 && run.millis() < 800, "took " + run.millis() + " ms");
            assertNotNull(dwcpd.nextRequest(1000), "the request was sent before the daemon hung");
        }
    }

    @Test
    void aRefusalIsReportedAndTheMigrationProceeds() throws Exception {
        Path socket = dir.resolve("control.sock");
        try (FakeDwcpd dwcpd = FakeDwcpd.onUnixSocket(socket, 503, "tunnel to the source is down\n")) {
            Run run = hook(
                    "/bin/sh",
                    config("endpoint=unix:" + socket, "syslog=no"),
                    DOMAIN_XML,
                    "vm1",
                    "migrate",
                    "begin",
                    "-");

            assertEquals(0, run.exitCode());
            assertEquals("", run.stdout());
            assertEquals(
                    "dwcp-hook: dwcpd at unix:" + socket + " answered HTTP 503: tunnel to the source is down"
                            + "; the migration of 'vm1' proceeds without telling dwcpd\n",
                    run.stderr());
            assertNotNull(dwcpd.nextRequest(1000));
        }
    }

    @Test
    void onFailureRefuseCancelsTheIncomingMigration() throws Exception {
        Path socket = dir.resolve("control.sock");
        try (FakeDwcpd dwcpd = FakeDwcpd.onUnixSocket(socket, 409, "domain vm1 already expected")) {
            Run run = hook(
                    "/bin/sh",
                    config("endpoint=unix:" + socket, "on-failure=refuse", "syslog=no"),
                    DOMAIN_XML,
                    "vm1",
                    "migrate",
                    "begin",
                    "-");

            assertEquals(1, run.exitCode());
            assertEquals("", run.stdout());
            assertEquals(
                    "dwcp-hook: dwcpd at unix:" + socket + " answered HTTP 409: domain vm1 already expected"
                            + "; refusing the incoming migration of 'vm1' (on-failure=refuse)\n",
                    run.stderr());
        }
        Run down = hook(
                "/bin/sh",
                config("endpoint=unix:" + dir.resolve("absent.sock"), "on-failure=refuse", "syslog=no"),
                DOMAIN_XML,
                "vm1",
                "migrate",
                "begin",
                "-");
        assertEquals(1, down.exitCode());
        assertEquals("", down.stdout());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shells")
    void everyOtherOperationDoesNothing(String shell) throws Exception {
        Path socket = dir.resolve("control.sock");
        try (FakeDwcpd dwcpd = FakeDwcpd.onUnixSocket(socket, 204, "")) {
            Path config = config("endpoint=unix:" + socket, "syslog=no");
            for (List<String> arguments : List.of(
                    List.of("vm1", "prepare", "begin", "-"),
                    List.of("vm1", "start", "begin", "-"),
                    List.of("vm1", "started", "begin", "-"),
                    List.of("vm1", "stopped", "end", "-"),
                    List.of("vm1", "release", "end", "migrated"),
                    List.of("vm1", "restore", "begin", "-"),
                    List.of("vm1", "reconnect", "begin", "-"),
                    List.of("vm1", "attach", "begin", "-"),
                    List.of("vm1", "migrate", "end", "-"),
                    List.of("migrate", "begin", "x", "-"))) {
                Run run = hook(shell, config, DOMAIN_XML, arguments.toArray(String[]::new));
                assertEquals(0, run.exitCode(), arguments + ": " + run.stderr());
                assertEquals("", run.stdout(), arguments.toString());
                assertEquals("", run.stderr(), arguments.toString());
            }
            assertNull(dwcpd.nextRequest(200), "a request for an operation that is not migrate begin");
        }
    }

    @Test
    void disabledDoesNothing() throws Exception {
        Path socket = dir.resolve("control.sock");
        try (FakeDwcpd dwcpd = FakeDwcpd.onUnixSocket(socket, 204, "")) {
            Run run = hook(
                    "/bin/sh",
                    config("endpoint=unix:" + socket, "enabled=no"),
                    DOMAIN_XML,
                    "vm1",
                    "migrate",
                    "begin",
                    "-");
            assertEquals(0, run.exitCode());
            assertEquals("", run.stdout());
            assertEquals("", run.stderr());
            assertNull(dwcpd.nextRequest(200));
        }
    }

    @Test
    void aDomainXmlWithoutUuidIsReportedAndNotSent() throws Exception {
        Path socket = dir.resolve("control.sock");
        try (FakeDwcpd dwcpd = FakeDwcpd.onUnixSocket(socket, 204, "")) {
            Path config = config("endpoint=unix:" + socket, "syslog=no");
            Run missing = hook("/bin/sh", config, "<domain><name>vm1</name></domain>", "vm1", "migrate", "begin", "-");
            assertEquals(0, missing.exitCode());
            assertEquals("", missing.stdout());
            assertEquals(
                    "dwcp-hook: no valid <uuid> in the domain XML on stdin (found '')"
                            + "; the migration of 'vm1' proceeds without telling dwcpd\n",
                    missing.stderr());

            Run malformed = hook(
                    "/bin/sh",
                    config,
                    "<domain><uuid>12345678-zzzz-9455-926a-d65c16db1809</uuid></domain>",
                    "vm1",
                    "migrate",
                    "begin",
                    "-");
            assertEquals(0, malformed.exitCode());
            assertTrue(
                    malformed
                            .stderr()
                            .startsWith("dwcp-hook: no valid <uuid> in the domain XML on stdin (found '12345678-zzzz"),
                    malformed.stderr());
            assertNull(dwcpd.nextRequest(200));
        }
    }

    @Test
    void badConfigurationLinesAreReportedAndTheDefaultsKept() throws Exception {
        Path socket = dir.resolve("control.sock");
        try (FakeDwcpd dwcpd = FakeDwcpd.onUnixSocket(socket, 204, "")) {
            Path config = config(
                    "# comment",
                    "",
                    "  endpoint = unix:" + socket + "  ",
                    "timeout=5",
                    "colour=blue",
                    "on-failure=maybe",
                    "just words",
                    "syslog=no");
            Run run = hook("/bin/sh", config, DOMAIN_XML, "vm1", "migrate", "begin", "-");

            assertEquals(0, run.exitCode(), run.stderr());
            assertEquals("", run.stdout());
            assertEquals(
                    String.join(
                                    "\n",
                                    "dwcp-hook: " + config
                                            + ":4: timeout must be 0.1 to 0.9 (seconds), not '5': using 0.8",
                                    "dwcp-hook: " + config + ":5: unknown key 'colour', ignored",
                                    "dwcp-hook: " + config
                                            + ":6: on-failure must be proceed or refuse, not 'maybe': using proceed",
                                    "dwcp-hook: " + config + ":7: not KEY=VALUE, ignored: just words")
                            + "\n",
                    run.stderr());
            assertNotNull(dwcpd.nextRequest(2000), "the trimmed endpoint was not used");
        }
    }

    @Test
    void helpAndVersionAndMisuse() throws Exception {
        Path config = dir.resolve("none.conf");
        Run help = hook("/bin/sh", config, "", "--help");
        assertEquals(0, help.exitCode());
        assertTrue(help.stdout().startsWith("Usage: 50-dwcp GUEST OPERATION SUB-OPERATION EXTRA"), help.stdout());
        assertTrue(help.stdout().contains("endpoint=unix:/run/dwcp/control.sock"), help.stdout());

        Run version = hook("/bin/sh", config, "", "--version");
        assertEquals(0, version.exitCode());
        assertTrue(version.stdout().matches("50-dwcp \\(DWCP libvirt hook\\) \\S+, protocol 1\n"), version.stdout());

        Run none = hook("/bin/sh", config, "");
        assertEquals(2, none.exitCode());
        assertEquals("", none.stdout());
        assertTrue(none.stderr().startsWith("Usage: "), none.stderr());

        Run one = hook("/bin/sh", config, "", "vm1");
        assertEquals(2, one.exitCode());
        assertEquals("", one.stdout());

        // a domain literally named --help, as libvirt would call for it: four arguments, no help text
        Run named = hook("/bin/sh", config, DOMAIN_XML, "--help", "start", "begin", "-");
        assertEquals(0, named.exitCode());
        assertEquals("", named.stdout());
    }

    @Test
    void passesShellcheckAsPosixSh() throws Exception {
        assumeTrue(
                Files.isExecutable(Path.of("/usr/bin/shellcheck")),
                "shellcheck is not installed (tests/setup/install-deps.sh installs it)");
        Run run = run(List.of("/usr/bin/shellcheck", "--shell=sh", "--severity=style", SCRIPT.toString()), null, "");
        assertEquals(0, run.exitCode(), run.stdout() + run.stderr());
    }

    @Test
    void isExecutableWithAPosixShebang() throws IOException {
        assertTrue(Files.isExecutable(SCRIPT), SCRIPT + " must be executable (libvirt runs it directly)");
        assertTrue(Files.readString(SCRIPT).startsWith("#!/bin/sh\n"));
    }

    // ---- running the hook ----

    private Path config(String... lines) throws IOException {
        Path file = Files.createTempFile(dir, "hook", ".conf");
        Files.writeString(file, String.join("\n", lines) + "\n");
        return file;
    }

    /** Runs the hook as libvirtd does: a clean environment (LC_ALL=C, a fixed PATH), XML on stdin. */
    static Run hook(String shell, Path config, String stdin, String... arguments) throws Exception {
        List<String> argv = new ArrayList<>(List.of(shell, SCRIPT.toString()));
        argv.addAll(List.of(arguments));
        return run(argv, config, stdin);
    }

    static Run run(List<String> argv, Path config, String stdin) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(argv);
        Map<String, String> environment = builder.environment();
        environment.clear();
        environment.put("LC_ALL", "C");
        environment.put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        environment.put("HOME", "/root");
        if (config != null) {
            environment.put("DWCP_HOOK_CONFIG", config.toString());
        }
        long start = System.nanoTime();
        Process process = builder.start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Thread outReader = drain(process.getInputStream(), out);
        Thread errReader = drain(process.getErrorStream(), err);
        try (OutputStream in = process.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            // the hook may exit before reading everything: what it printed tells
        }
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(argv + " still running after 10 s");
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        outReader.join();
        errReader.join();
        return new Run(
                process.exitValue(),
                out.toString(StandardCharsets.UTF_8),
                err.toString(StandardCharsets.UTF_8),
                millis);
    }

    private static Thread drain(InputStream in, ByteArrayOutputStream into) {
        Thread thread = new Thread(() -> {
            try (in) {
                in.transferTo(into);
            } catch (IOException e) {
                // the process ended
            }
        });
        thread.start();
        return thread;
    }
}
