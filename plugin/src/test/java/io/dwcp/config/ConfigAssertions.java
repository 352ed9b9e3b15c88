package io.dwcp.config;

import static org.junit.jupiter.api.Assertions.fail;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * Checks of configuration classes bound by {@link ConfigurationBinder}, after Airlift's
 * {@code ConfigAssertions}: a test of the defaults names the default of every key, and a test of
 * the explicit mapping sets every key to a value other than its default, so that a key added
 * without a test, or a setter that silently does nothing, fails.
 *
 * <p>The keys are those of the class's {@link Config} setters; a key's value is read through the
 * getter {@link ConfigurationBinder#describe} reads for its default ({@code getX} or {@code isX} of
 * the setter {@code setX}).
 */
public final class ConfigAssertions {
    private ConfigAssertions() {}

    /** The keys of the class's {@link Config} setters, sorted. */
    public static SortedSet<String> keys(Class<?> type) {
        return new TreeSet<>(setters(type).keySet());
    }

    /**
     * Binds the properties onto the class and checks the mapping: the properties set every key of
     * the class and nothing else ({@link ConfigurationBinder#checkAllUsed}), and every key's value
     * as bound differs from its default. Then runs the checks (the expected bound values) on the
     * bound instance and returns it.
     */
    public static <T> T assertFullMapping(Map<String, String> properties, Class<T> type, Consumer<? super T> checks) {
        SortedSet<String> missing = keys(type);
        missing.removeAll(properties.keySet());
        if (!missing.isEmpty()) {
            fail("the properties do not set every key of " + type.getSimpleName() + ": missing " + missing);
        }
        ConfigurationBinder binder = new ConfigurationBinder(properties);
        T bound;
        try {
            bound = binder.bind(type);
            binder.checkAllUsed();
        } catch (ConfigurationException e) {
            throw new AssertionError(type.getSimpleName() + " does not bind the properties: " + e.getMessage(), e);
        }
        T defaults = newInstance(type);
        List<String> unchanged = new ArrayList<>();
        for (Map.Entry<String, Method> entry : setters(type).entrySet()) {
            String key = entry.getKey();
            Method getter = getter(type, key, entry.getValue());
            Object defaultValue = invoke(getter, defaults);
            Object boundValue = invoke(getter, bound);
            if (Objects.equals(defaultValue, boundValue)) {
                unchanged.add(key + "=" + properties.get(key) + " (default " + defaultValue + ")");
            }
        }
        if (!unchanged.isEmpty()) {
            fail("keys of " + type.getSimpleName() + " whose bound value equals the default, so the mapping is not "
                    + "tested (or the setter does nothing): " + unchanged);
        }
        checks.accept(bound);
        return bound;
    }

    /** Starts a check of every key's default: {@code expectedDefaults(X.class).expect(key, value)...verify()}. */
    public static <T> ExpectedDefaults<T> expectedDefaults(Class<T> type) {
        return new ExpectedDefaults<>(type);
    }

    /** The expected default of every key of a configuration class. */
    public static final class ExpectedDefaults<T> {
        private final Class<T> type;
        private final Map<String, Object> expected = new LinkedHashMap<>();

        private ExpectedDefaults(Class<T> type) {
            this.type = type;
        }

        /** The key's expected default (null: unset). */
        public ExpectedDefaults<T> expect(String key, Object value) {
            if (expected.containsKey(key)) {
                throw new IllegalArgumentException("expected twice: " + key);
            }
            expected.put(key, value);
            return this;
        }

        /**
         * Fails unless the expected keys are exactly the class's keys and a new instance has each
         * expected value; returns that instance.
         */
        public T verify() {
            SortedMap<String, Method> setters = setters(type);
            SortedSet<String> missing = new TreeSet<>(setters.keySet());
            missing.removeAll(expected.keySet());
            SortedSet<String> unknown = new TreeSet<>(expected.keySet());
            unknown.removeAll(setters.keySet());
            if (!missing.isEmpty() || !unknown.isEmpty()) {
                fail("the expected defaults of " + type.getSimpleName()
                        + " must name every key and only those: missing " + missing + ", not keys of the class "
                        + unknown);
            }
            T defaults = newInstance(type);
            List<String> wrong = new ArrayList<>();
            for (Map.Entry<String, Method> entry : setters.entrySet()) {
                String key = entry.getKey();
                Object actual = invoke(getter(type, key, entry.getValue()), defaults);
                if (!Objects.equals(expected.get(key), actual)) {
                    wrong.add(key + ": expected " + expected.get(key) + " but was " + actual);
                }
            }
            if (!wrong.isEmpty()) {
                fail("defaults of " + type.getSimpleName() + " differ: " + wrong);
            }
            return defaults;
        }
    }

    private static SortedMap<String, Method> setters(Class<?> type) {
        SortedMap<String, Method> setters = new TreeMap<>();
        for (Method method : type.getMethods()) {
            Config config = method.getAnnotation(Config.class);
            if (config != null && setters.put(config.value(), method) != null) {
                throw new IllegalStateException(type.getSimpleName() + " declares " + config.value() + " twice");
            }
        }
        return setters;
    }

    private static Method getter(Class<?> type, String key, Method setter) {
        Method getter = ConfigurationBinder.getter(type, setter);
        if (getter == null) {
            fail(type.getSimpleName() + " has no getter for " + key + " (get or is + " + setter.getName() + " without"
                    + " set): its value cannot be checked");
        }
        return getter;
    }

    private static <T> T newInstance(Class<T> type) {
        try {
            return type.getConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("configuration class needs a public no-argument constructor: " + type, e);
        }
    }

    private static Object invoke(Method getter, Object instance) {
        try {
            return getter.invoke(instance);
        } catch (InvocationTargetException e) {
            throw new IllegalStateException(getter + " failed", e.getCause());
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }
}
