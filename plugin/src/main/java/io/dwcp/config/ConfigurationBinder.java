package io.dwcp.config;

import static java.util.Objects.requireNonNull;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Maps properties onto configuration classes through their {@link Config} setters. Keys no class
 * claims are reported (a typo must not silently fall back to a default). A value that does not
 * convert to the setter's type, or that the setter refuses, fails as
 * {@code key=value: rule} ({@link ConfigurationException#invalidValue}).
 *
 * <p>Types and their rules: {@code int}, {@code long} (decimal integers), {@code boolean}
 * ({@code true} or {@code false}), {@link Duration} ({@code 500ms}, {@code 10s}, {@code 5m},
 * {@code 2h}, {@code 1d}), {@link DataSize}, {@link HostAndPort}, {@link Path} (absolute: dwcpd
 * runs from any folder), {@link String} (the setter checks it).
 */
public final class ConfigurationBinder {
    private static final Pattern DURATION =
            Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h|d)", Pattern.CASE_INSENSITIVE);

    private final Map<String, String> properties;
    private final Set<String> used = new HashSet<>();

    public ConfigurationBinder(Map<String, String> properties) {
        this.properties = new TreeMap<>(requireNonNull(properties, "properties is null"));
    }

    /** Creates the configuration class with its defaults and applies the matching properties. */
    public <T> T bind(Class<T> type) {
        T instance;
        try {
            instance = type.getConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("configuration class needs a public no-argument constructor: " + type, e);
        }
        for (Method method : type.getMethods()) {
            Config config = method.getAnnotation(Config.class);
            if (config == null) {
                continue;
            }
            String value = properties.get(config.value());
            if (value == null) {
                continue;
            }
            used.add(config.value());
            Class<?> parameterType = method.getParameterTypes()[0];
            Object converted;
            try {
                converted = convert(parameterType, value.trim());
            } catch (RuntimeException e) {
                throw ConfigurationException.invalidValue(config.value(), value, rule(parameterType));
            }
            try {
                method.invoke(instance, converted);
            } catch (InvocationTargetException e) {
                if (e.getCause() instanceof ConfigurationException refused) {
                    throw refused; // names the key already
                }
                throw ConfigurationException.invalidValue(
                        config.value(), value, e.getCause().getMessage());
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);
            }
        }
        return instance;
    }

    /** Properties whose key starts with the prefix (marked as used), keyed by the rest of the key. */
    public Map<String, String> claimPrefix(String prefix) {
        Map<String, String> result = new TreeMap<>();
        for (Map.Entry<String, String> entry : properties.entrySet()) {
            if (entry.getKey().startsWith(prefix)) {
                used.add(entry.getKey());
                result.put(
                        entry.getKey().substring(prefix.length()),
                        entry.getValue().trim());
            }
        }
        return result;
    }

    /** Throws if a property was not claimed by any bound class. */
    public void checkAllUsed() {
        List<String> unused = new ArrayList<>();
        for (String key : properties.keySet()) {
            if (!used.contains(key)) {
                unused.add(key);
            }
        }
        if (!unused.isEmpty()) {
            throw new ConfigurationException("unknown configuration keys: " + unused + " (see dwcpd --help-config)");
        }
    }

    /** Key, default value and description of every {@link Config} setter of the class. */
    public static List<String> describe(Class<?> type) {
        List<String> lines = new ArrayList<>();
        Object defaults;
        try {
            defaults = type.getConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
        for (Method method : type.getMethods()) {
            Config config = method.getAnnotation(Config.class);
            if (config == null) {
                continue;
            }
            String defaultValue = "";
            Method getter = getter(type, method);
            if (getter != null) {
                try {
                    Object value = getter.invoke(defaults);
                    defaultValue = value == null ? "(none)" : formatValue(value);
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            }
            lines.add(String.format("  %-34s %-16s %s", config.value(), defaultValue, config.description()));
        }
        lines.sort(null);
        return lines;
    }

    /**
     * The getter of a {@link Config} setter ({@code setX}): {@code getX}, else {@code isX}; null when
     * the class has neither.
     */
    static Method getter(Class<?> type, Method setter) {
        String property = setter.getName().substring(3);
        for (String prefix : List.of("get", "is")) {
            try {
                return type.getMethod(prefix + property);
            } catch (NoSuchMethodException ignored) {
                // try the next getter name
            }
        }
        return null;
    }

    private static String formatValue(Object value) {
        if (value instanceof Duration duration) {
            return duration.toMillis() % 1000 == 0 ? duration.toSeconds() + "s" : duration.toMillis() + "ms";
        }
        return value.toString();
    }

    /** What a value of the type must look like, for the error message. */
    static String rule(Class<?> type) {
        if (type == int.class || type == Integer.class || type == long.class || type == Long.class) {
            return "expected an integer";
        }
        if (type == boolean.class || type == Boolean.class) {
            return "expected true or false";
        }
        if (type == Duration.class) {
            return "expected a duration such as 500ms, 10s or 5m";
        }
        if (type == DataSize.class) {
            return "expected a size such as 64MiB, 512KiB or 4096B";
        }
        if (type == Path.class) {
            return "expected an absolute path";
        }
        if (type == HostAndPort.class) {
            return "expected host:port such as 127.0.0.1:7470 or [::1]:7470 (port 0 to 65535)";
        }
        return "not a valid " + type.getSimpleName();
    }

    static Object convert(Class<?> type, String value) {
        if (type == String.class) {
            return value;
        }
        if (type == int.class || type == Integer.class) {
            return Integer.parseInt(value);
        }
        if (type == long.class || type == Long.class) {
            return Long.parseLong(value);
        }
        if (type == boolean.class || type == Boolean.class) {
            return switch (value.toLowerCase(Locale.ROOT)) {
                case "true" -> true;
                case "false" -> false;
                default -> throw new IllegalArgumentException("not true or false");
            };
        }
        if (type == Duration.class) {
            return parseDuration(value);
        }
        if (type == DataSize.class) {
            return DataSize.valueOf(value);
        }
        if (type == Path.class) {
            Path path = Path.of(value);
            if (!path.isAbsolute()) {
                throw new IllegalArgumentException("not absolute: " + value);
            }
            return path;
        }
        if (type == HostAndPort.class) {
            return HostAndPort.valueOf(value);
        }
        throw new IllegalStateException("unsupported configuration type " + type);
    }

    public static Duration parseDuration(String value) {
        Matcher matcher = DURATION.matcher(value);
        if (!matcher.matches()) {
            throw new IllegalArgumentException("not a duration (like 500ms, 10s, 5m)");
        }
        double amount = Double.parseDouble(matcher.group(1));
        double millis = switch (matcher.group(2).toLowerCase(Locale.ROOT)) {
            case "ms" -> amount;
            case "s" -> amount * 1000;
            case "m" -> amount * 60_000;
            case "h" -> amount * 3_600_000;
            case "d" -> amount * 86_400_000;
            default -> throw new IllegalArgumentException("unknown unit");
        };
        return Duration.ofMillis(Math.round(millis));
    }
}
