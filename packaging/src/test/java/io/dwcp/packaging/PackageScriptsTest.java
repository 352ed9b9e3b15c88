package io.dwcp.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The shell parts of the packages: install scripts shared by DEB and RPM, launchers, the package test. */
class PackageScriptsTest {
    static final Path MODULE =
            Path.of(System.getProperty("dwcp.packaging.dir", ".")).toAbsolutePath();
    static final Path SCRIPTS = MODULE.resolve("src/common/scripts");
    static final List<String> POSIX_SCRIPTS = List.of(
            "src/common/scripts/preinst",
            "src/common/scripts/postinst",
            "src/common/scripts/prerm",
            "src/common/scripts/postrm",
            "src/common/bin/dwcp",
            "src/common/bin/dwcpd");

    record Run(int exitCode, String output) {}

    static Run run(List<String> argv) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(argv).redirectErrorStream(true).start();
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(argv + " still running after 30 s");
        }
        return new Run(process.exitValue(), output);
    }

    @Test
    void posixScriptsParseWithDashAndPassShellcheck() throws Exception {
        for (String script : POSIX_SCRIPTS) {
            Path file = MODULE.resolve(script);
            assertTrue(Files.isExecutable(file), file + " must be executable");
            assertTrue(Files.readString(file).startsWith("#!/bin/sh\n"), file + " must be a POSIX sh script");
            Run syntax = run(List.of("/bin/dash", "-n", file.toString()));
            assertEquals(0, syntax.exitCode(), file + ": " + syntax.output());
        }
        assumeTrue(
                Files.isExecutable(Path.of("/usr/bin/shellcheck")),
                "shellcheck is not installed (tests/setup/install-deps.sh installs it)");
        List<String> argv = new ArrayList<>(List.of("/usr/bin/shellcheck", "--shell=sh", "--severity=style"));
        POSIX_SCRIPTS.forEach(script -> argv.add(MODULE.resolve(script).toString()));
        Run check = run(argv);
        assertEquals(0, check.exitCode(), check.output());
    }

    @Test
    void thePackageTestPassesShellcheck() throws Exception {
        Path test = MODULE.resolve("src/test/sh/package-test.sh");
        assertEquals(0, run(List.of("/bin/bash", "-n", test.toString())).exitCode());
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/shellcheck")), "shellcheck is not installed");
        Run check = run(List.of("/usr/bin/shellcheck", "--severity=warning", test.toString()));
        assertEquals(0, check.exitCode(), check.output());
    }

    /** Each script knows every argument dpkg and rpm pass it, and refuses others before acting. */
    @ParameterizedTest
    @ValueSource(strings = {"preinst", "postinst", "prerm", "postrm"})
    void scriptsHandleDebAndRpmArgumentsAndRefuseOthers(String name) throws Exception {
        String text = Files.readString(SCRIPTS.resolve(name));
        List<String> expected = switch (name) {
            case "preinst" -> List.of("install", "upgrade", "abort-upgrade", "1", "2");
            case "postinst" -> List.of("configure", "abort-upgrade", "abort-remove", "abort-deconfigure", "1)", "2)");
            case "prerm" -> List.of("remove", "upgrade", "deconfigure", "failed-upgrade", "0", "1");
            case "postrm" ->
                List.of(
                        "purge",
                        "remove",
                        "upgrade",
                        "failed-upgrade",
                        "abort-install",
                        "abort-upgrade",
                        "disappear",
                        "0",
                        "1");
            default -> throw new IllegalArgumentException(name);
        };
        for (String argument : expected) {
            assertTrue(text.contains(argument), name + " does not handle '" + argument + "'");
        }
        Run unknown = run(List.of("/bin/sh", SCRIPTS.resolve(name).toString(), "bogus-argument"));
        assertEquals(1, unknown.exitCode(), unknown.output());
        assertEquals("dwcp " + name + ": unknown argument 'bogus-argument'\n", unknown.output());
    }

    @Test
    void scriptsNeverStartRestartOrEnableServices() throws IOException {
        for (String name : List.of("preinst", "postinst", "prerm", "postrm")) {
            // the code, without comments, messages (heredocs) and echo lines that tell the administrator what to run
            StringBuilder code = new StringBuilder();
            boolean message = false;
            for (String line : Files.readAllLines(SCRIPTS.resolve(name))) {
                String trimmed = line.strip();
                if (message) {
                    message = !trimmed.equals("MESSAGE");
                    continue;
                }
                if (trimmed.startsWith("cat <<'MESSAGE'")) {
                    message = true;
                    continue;
                }
                if (!trimmed.startsWith("#") && !trimmed.startsWith("echo ")) {
                    code.append(line).append('\n');
                }
            }
            for (String forbidden : List.of(
                    "systemctl restart",
                    "systemctl start",
                    "systemctl enable",
                    "invoke-rc.d",
                    " service ",
                    "try-restart",
                    "reload-or-restart")) {
                assertTrue(!code.toString().contains(forbidden), name + " runs '" + forbidden + "':\n" + code);
            }
        }
    }
}
