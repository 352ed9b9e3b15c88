package io.dwcp.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The built DEB and RPM, checked by {@code src/test/sh/package-test.sh}: the DEB installed on (a
 * throw-away overlay of) this machine, its layout, commands, daemon start as the systemd unit
 * would start it, upgrade with a kept configuration, purge; the RPM's layout, configuration files
 * and scripts, installed and erased with rpm. One test per check of the script, so that a failing
 * check names itself.
 */
class PackagesIT {
    static final Path TARGET =
            Path.of(System.getProperty("dwcp.packaging.target", "target")).toAbsolutePath();
    static final Path SCRIPT = PackageScriptsTest.MODULE.resolve("src/test/sh/package-test.sh");

    @TestFactory
    Stream<DynamicTest> packages() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root: namespaces, overlay mounts, chroot");
        Path deb = single(TARGET, "glob:dwcp_*_amd64.deb");
        List<String> argv = new ArrayList<>(List.of("/bin/bash", SCRIPT.toString(), deb.toString()));
        if (!Boolean.getBoolean("dwcp.rpm.disabled")) {
            argv.add(single(TARGET.resolve("rpm/dwcp/RPMS/x86_64"), "glob:dwcp-*.x86_64.rpm")
                    .toString());
        }
        Process process = new ProcessBuilder(argv).redirectErrorStream(true).start();
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(10, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            fail("package-test.sh still running after 10 minutes:\n" + output);
        }
        System.out.println(output);
        int exitCode = process.exitValue();
        List<DynamicTest> tests = new ArrayList<>();
        tests.add(DynamicTest.dynamicTest(
                "package-test.sh ran",
                () -> assertTrue(
                        exitCode == 0 || exitCode == 1,
                        "package-test.sh could not run (exit " + exitCode + "):\n" + output)));
        for (String line : output.split("\n")) {
            if (line.startsWith("ok - ")) {
                tests.add(DynamicTest.dynamicTest(line.substring(5), () -> {}));
            } else if (line.startsWith("not ok - ")) {
                String check = line.substring(9);
                tests.add(DynamicTest.dynamicTest(check.replaceAll(":.*", ""), () -> fail(check)));
            }
        }
        tests.add(DynamicTest.dynamicTest(
                "every check passed", () -> assertEquals(0, exitCode, "see the failed checks")));
        return tests.stream();
    }

    private static Path single(Path folder, String glob) throws IOException {
        var matcher = folder.getFileSystem().getPathMatcher(glob);
        List<Path> found;
        try (Stream<Path> files = Files.list(folder)) {
            found = files.filter(file -> matcher.matches(file.getFileName()))
                    .sorted()
                    .toList();
        }
        if (found.isEmpty()) {
            throw new IllegalStateException(
                    "no " + glob + " in " + folder + ": build the packages first (mvn -pl packaging -am package)");
        }
        return found.get(found.size() - 1);
    }
}
