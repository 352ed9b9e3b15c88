package io.dwcp.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * What can be checked of vagrant/ without boxes or vagrant: the Vagrantfile's Ruby syntax and
 * what it configures (evaluated with a stand-in for Vagrant, vagrant/test/vagrantfile-check.rb),
 * that provision.sh accepts the arguments it passes, and the scripts' syntax and shellcheck.
 */
class VagrantTestBedTest {
    static final Path VAGRANT = PackageScriptsTest.MODULE.resolve("../vagrant").normalize();
    static final Path RUBY = Path.of("/usr/bin/ruby");

    @Test
    void vagrantfileIsValidRuby() throws Exception {
        assumeTrue(Files.isExecutable(RUBY), "ruby is not installed (tests/setup/install-deps.sh installs it)");
        PackageScriptsTest.Run check = PackageScriptsTest.run(
                List.of(RUBY.toString(), "-c", VAGRANT.resolve("Vagrantfile").toString()));
        assertEquals(0, check.exitCode(), check.output());
        assertEquals("Syntax OK\n", check.output());
    }

    @Test
    void twoRegionsOfTwoNestedKvmHostsWhoseProvisioningArgumentsAreAccepted() throws Exception {
        assumeTrue(Files.isExecutable(RUBY), "ruby is not installed (tests/setup/install-deps.sh installs it)");
        PackageScriptsTest.Run evaluated = PackageScriptsTest.run(List.of(
                RUBY.toString(),
                VAGRANT.resolve("test/vagrantfile-check.rb").toString(),
                VAGRANT.resolve("Vagrantfile").toString()));
        assertEquals(0, evaluated.exitCode(), evaluated.output());
        Map<String, Map<String, String>> machines = new LinkedHashMap<>();
        for (String line : evaluated.output().split("\n")) {
            String[] fields = line.split(" ", 2);
            Map<String, String> values = new LinkedHashMap<>();
            for (String part : fields[1].split(" (?=[a-z]+=)")) {
                values.put(part.substring(0, part.indexOf('=')), part.substring(part.indexOf('=') + 1));
            }
            machines.put(fields[0], values);
        }
        assertEquals("debian/bookworm64", machines.remove("common").get("box"));
        assertEquals(List.of("r1h1", "r1h2", "r2h1", "r2h2"), new ArrayList<>(machines.keySet()));
        Set<String> addresses = new HashSet<>();
        for (var machine : machines.entrySet()) {
            String name = machine.getKey();
            Map<String, String> values = machine.getValue();
            assertEquals(name, values.get("hostname"));
            assertEquals("provision.sh", values.get("provision"));
            List<String> networks = Arrays.asList(values.get("networks").split(","));
            assertEquals(2, networks.size(), name + ": " + networks);
            assertTrue(networks.get(0).endsWith("@dwcp-region" + name.charAt(1)), name + ": " + networks);
            assertTrue(networks.get(1).endsWith("@dwcp-wan"), name + ": " + networks);
            networks.forEach(network -> assertTrue(
                    addresses.add(network.substring(0, network.indexOf('@'))), "address used twice: " + network));
            // every other host is a peer; those of the other region by their wan address
            String arguments = values.get("args");
            for (String other : machines.keySet()) {
                if (!other.equals(name)) {
                    assertTrue(
                            arguments.contains(
                                    other + "=10.10." + (other.charAt(1) == name.charAt(1) ? other.charAt(1) : "0")),
                            name + " does not reach " + other + " as expected: " + arguments);
                }
            }
            List<String> argv = new ArrayList<>(
                    List.of("/bin/bash", VAGRANT.resolve("provision.sh").toString(), "--check-arguments"));
            argv.addAll(Arrays.asList(arguments.split(" ")));
            PackageScriptsTest.Run accepted = PackageScriptsTest.run(argv);
            assertEquals(0, accepted.exitCode(), name + ": " + accepted.output());
        }
        String vagrantfile = Files.readString(VAGRANT.resolve("Vagrantfile"));
        assertTrue(vagrantfile.contains("libvirt.nested = true"), "nested virtualization");
        assertTrue(vagrantfile.contains("libvirt.cpu_mode = \"host-passthrough\""), "the host CPU, with vmx/svm");
    }

    @Test
    void scriptsParseAndPassShellcheck() throws Exception {
        List<Path> scripts = List.of(
                VAGRANT.resolve("provision.sh"), VAGRANT.resolve("migration-test.sh"), VAGRANT.resolve("make-ca.sh"));
        for (Path script : scripts) {
            assertTrue(Files.isExecutable(script), script + " must be executable");
            PackageScriptsTest.Run syntax = PackageScriptsTest.run(List.of("/bin/bash", "-n", script.toString()));
            assertEquals(0, syntax.exitCode(), script + ": " + syntax.output());
        }
        assumeTrue(
                Files.isExecutable(Path.of("/usr/bin/shellcheck")),
                "shellcheck is not installed (tests/setup/install-deps.sh installs it)");
        List<String> argv = new ArrayList<>(List.of("/usr/bin/shellcheck", "--severity=style"));
        scripts.forEach(script -> argv.add(script.toString()));
        PackageScriptsTest.Run check = PackageScriptsTest.run(argv);
        assertEquals(0, check.exitCode(), check.output());
    }

    @Test
    void provisionAndMigrationTestAnswerHelp() throws Exception {
        for (String script : List.of("provision.sh", "migration-test.sh")) {
            PackageScriptsTest.Run help = PackageScriptsTest.run(
                    List.of("/bin/bash", VAGRANT.resolve(script).toString(), "--help"));
            assertEquals(0, help.exitCode(), script + ": " + help.output());
            assertTrue(
                    help.output().contains("migration-test.sh") || help.output().contains("Usage: provision.sh"),
                    help.output());
        }
    }
}
