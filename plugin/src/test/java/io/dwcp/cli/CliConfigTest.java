package io.dwcp.cli;

import static io.dwcp.config.ConfigAssertions.assertFullMapping;
import static io.dwcp.config.ConfigAssertions.expectedDefaults;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The dwcp command's settings ({@code /etc/dwcp/dwcp.properties}). */
class CliConfigTest {
    @Test
    void defaults() {
        expectedDefaults(CliConfig.class)
                .expect("migrate.connect", "qemu:///system")
                .expect("migrate.dest-uri", "qemu+ssh://{host}/system")
                .expect("control.socket", Path.of("/run/dwcp/control.sock"))
                .expect("node.run-dir", Path.of("/run/dwcp"))
                .verify();
        assertEquals("qemu+ssh://hostB/system", CliConfig.destinationUri("qemu+ssh://{host}/system", "hostB"));
    }

    @Test
    void explicitMapping() {
        assertFullMapping(
                Map.of(
                        "migrate.connect", "qemu+ssh://admin@hostA/system",
                        "migrate.dest-uri", "qemu+tls://{host}.example.org/system",
                        "control.socket", "/run/dwcp-a/control.sock",
                        "node.run-dir", "/run/dwcp-a"),
                CliConfig.class,
                config -> {
                    assertEquals("qemu+ssh://admin@hostA/system", config.getConnect());
                    assertEquals("qemu+tls://{host}.example.org/system", config.getDestinationUri());
                    assertEquals(Path.of("/run/dwcp-a/control.sock"), config.getControlSocket());
                    assertEquals(Path.of("/run/dwcp-a"), config.getRunDirectory());
                });
    }

    @Test
    void aFileIsBoundAndCheckedWithItsName(@TempDir Path folder) throws IOException, CliConfig.Invalid {
        Path file = folder.resolve("dwcp.properties");
        Files.writeString(file, "migrate.connect=qemu:///session\n");
        assertEquals("qemu:///session", CliConfig.load(file).getConnect());

        Files.writeString(file, "migrate.conect=qemu:///session\n");
        assertEquals(
                file + ": unknown configuration keys: [migrate.conect] (migrate.connect, migrate.dest-uri,"
                        + " control.socket, node.run-dir)",
                assertThrows(CliConfig.Invalid.class, () -> CliConfig.load(file))
                        .getMessage());

        Files.writeString(file, "migrate.dest-uri= \n");
        assertEquals(
                file + ": migrate.dest-uri is empty",
                assertThrows(CliConfig.Invalid.class, () -> CliConfig.load(file))
                        .getMessage());

        Path missing = folder.resolve("missing.properties");
        assertEquals(
                missing + ": configuration file not found: " + missing,
                assertThrows(CliConfig.Invalid.class, () -> CliConfig.load(missing))
                        .getMessage());
    }
}
