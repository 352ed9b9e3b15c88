package io.dwcp.config;

/**
 * A configuration file or option that dwcpd cannot use; the message says which key and why, in
 * one line an operator can act on (dwcpd prints it and exits with status 2).
 */
public class ConfigurationException extends RuntimeException {
    public ConfigurationException(String message) {
        super(message);
    }

    public ConfigurationException(String message, Throwable cause) {
        super(message, cause);
    }

    /** A value one key cannot take: {@code key=value: rule}, e.g. {@code amst.window=banana: expected a size such as 64MiB}. */
    public static ConfigurationException invalidValue(String key, String value, String rule) {
        return new ConfigurationException(key + "=" + oneLineValue(value) + ": " + rule);
    }

    /** The value as the operator wrote it, control characters (a line break) shown as {@code ?}: the message stays one line. */
    public static String oneLineValue(String value) {
        return value == null ? "(none)" : value.replaceAll("\\p{Cntrl}", "?");
    }
}
