package io.dwcp.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigurationFileTest {
    @TempDir
    Path directory;

    @Test
    void theFileInUtf8WithTheOverridesOnTop() throws IOException {
        Path file = directory.resolve("dwcpd.properties");
        Files.writeString(
                file,
                "# a comment\nnode.name=alpha\ncontrol.socket = /run/dwcp/control.sock\nnote=Zürich\n",
                StandardCharsets.UTF_8);
        assertEquals(
                Map.of(
                        "node.name",
                        "beta",
                        "control.socket",
                        "/run/dwcp/control.sock",
                        "note",
                        "Zürich",
                        "tunnel.listen",
                        "0.0.0.0:9471=x"),
                ConfigurationFile.load(file, true, List.of("node.name=beta", " tunnel.listen =0.0.0.0:9471=x")));
    }

    @Test
    void aMissingFileIsAnErrorOnlyWhenRequired() {
        Path missing = directory.resolve("missing.properties");
        assertEquals(Map.of("node.name", "alpha"), ConfigurationFile.load(missing, false, List.of("node.name=alpha")));
        assertEquals(
                "configuration file not found: " + missing,
                assertThrows(ConfigurationException.class, () -> ConfigurationFile.load(missing, true, List.of()))
                        .getMessage());
    }

    @Test
    void anOverrideWithoutAKeyIsRefused() {
        Path missing = directory.resolve("missing.properties");
        assertEquals(
                "--set expects key=value: =alpha",
                assertThrows(
                                ConfigurationException.class,
                                () -> ConfigurationFile.load(missing, false, List.of("=alpha")))
                        .getMessage());
        assertEquals(
                "--set expects key=value: node.name",
                assertThrows(
                                ConfigurationException.class,
                                () -> ConfigurationFile.load(missing, false, List.of("node.name")))
                        .getMessage());
    }
}
