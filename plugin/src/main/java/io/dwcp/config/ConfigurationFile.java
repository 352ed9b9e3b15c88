package io.dwcp.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The properties of a configuration file ({@code dwcpd.properties}, Java properties in UTF-8),
 * read the same way by {@code dwcpd} and the {@code dwcp} commands, with {@code --set key=value}
 * overrides on top.
 */
public final class ConfigurationFile {
    private ConfigurationFile() {}

    /** The file's properties (if it exists, or must) with the key=value overrides on top. */
    public static Map<String, String> load(Path file, boolean required, List<String> overrides) {
        Map<String, String> properties = new LinkedHashMap<>();
        if (Files.exists(file)) {
            Properties loaded = new Properties();
            try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                loaded.load(reader);
            } catch (IOException e) {
                throw new ConfigurationException("cannot read " + file + ": " + e.getMessage(), e);
            }
            loaded.stringPropertyNames().forEach(key -> properties.put(key, loaded.getProperty(key)));
        } else if (required) {
            throw new ConfigurationException("configuration file not found: " + file);
        }
        for (String override : overrides) {
            int equals = override.indexOf('=');
            if (equals <= 0) {
                throw new ConfigurationException("--set expects key=value: " + override);
            }
            properties.put(override.substring(0, equals).trim(), override.substring(equals + 1));
        }
        return properties;
    }
}
