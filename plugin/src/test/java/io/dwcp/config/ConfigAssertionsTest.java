package io.dwcp.config;

import static io.dwcp.config.ConfigAssertions.assertFullMapping;
import static io.dwcp.config.ConfigAssertions.expectedDefaults;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class ConfigAssertionsTest {
    /** Three keys of three types, one of them boolean (an is-getter) and one unset by default. */
    public static class TinyConfig {
        private int count = 4;
        private Duration timeout = Duration.ofSeconds(10);
        private boolean enabled = true;
        private String label;

        public int getCount() {
            return count;
        }

        @Config("tiny.count")
        public TinyConfig setCount(int count) {
            this.count = count;
            return this;
        }

        public Duration getTimeout() {
            return timeout;
        }

        @Config("tiny.timeout")
        public TinyConfig setTimeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        public boolean isEnabled() {
            return enabled;
        }

        @Config("tiny.enabled")
        public TinyConfig setEnabled(boolean enabled) {
            this.enabled = enabled;
            return this;
        }

        public String getLabel() {
            return label;
        }

        @Config("tiny.label")
        public TinyConfig setLabel(String label) {
            this.label = label;
            return this;
        }
    }

    /** A setter that ignores its value: only a mapping test that compares with the default catches it. */
    public static class IgnoringConfig {
        private int count = 4;

        public int getCount() {
            return count;
        }

        @Config("ignoring.count")
        public IgnoringConfig setCount(int count) {
            return this;
        }
    }

    /** A key without a getter. */
    public static class WriteOnlyConfig {
        @Config("write-only.count")
        public WriteOnlyConfig setCount(int count) {
            return this;
        }
    }

    private static final Map<String, String> FULL = Map.of(
            "tiny.count", "7",
            "tiny.timeout", "500ms",
            "tiny.enabled", "false",
            "tiny.label", "blue");

    @Test
    void keysAreTheConfigSetters() {
        assertEquals(
                List.of("tiny.count", "tiny.enabled", "tiny.label", "tiny.timeout"),
                List.copyOf(ConfigAssertions.keys(TinyConfig.class)));
    }

    @Test
    void fullMappingBindsEveryKeyAndRunsTheChecks() {
        AtomicBoolean checked = new AtomicBoolean();
        TinyConfig config = assertFullMapping(FULL, TinyConfig.class, bound -> {
            assertEquals(7, bound.getCount());
            assertEquals(Duration.ofMillis(500), bound.getTimeout());
            assertEquals(false, bound.isEnabled());
            assertEquals("blue", bound.getLabel());
            checked.set(true);
        });
        assertTrue(checked.get());
        assertEquals(7, config.getCount());
    }

    @Test
    void fullMappingFailsOnAMissingKey() {
        Map<String, String> properties = Map.of("tiny.count", "7", "tiny.enabled", "false");
        AssertionError e =
                assertThrows(AssertionError.class, () -> assertFullMapping(properties, TinyConfig.class, bound -> {}));
        assertEquals(
                "the properties do not set every key of TinyConfig: missing [tiny.label, tiny.timeout]",
                e.getMessage());
    }

    @Test
    void fullMappingFailsOnAKeyMappedToItsDefault() {
        Map<String, String> properties = Map.of(
                "tiny.count", "7",
                "tiny.timeout", "10s",
                "tiny.enabled", "false",
                "tiny.label", "blue");
        AssertionError e =
                assertThrows(AssertionError.class, () -> assertFullMapping(properties, TinyConfig.class, bound -> {}));
        assertEquals(
                "keys of TinyConfig whose bound value equals the default, so the mapping is not tested (or the setter "
                        + "does nothing): [tiny.timeout=10s (default PT10S)]",
                e.getMessage());
    }

    @Test
    void fullMappingFailsOnASetterThatDoesNothing() {
        AssertionError e = assertThrows(
                AssertionError.class,
                () -> assertFullMapping(Map.of("ignoring.count", "9"), IgnoringConfig.class, bound -> {}));
        assertTrue(e.getMessage().endsWith("[ignoring.count=9 (default 4)]"), e.getMessage());
    }

    @Test
    void fullMappingFailsOnAKeyOfNoClass() {
        Map<String, String> properties = new java.util.HashMap<>(FULL);
        properties.put("tiny.colour", "red");
        AssertionError e =
                assertThrows(AssertionError.class, () -> assertFullMapping(properties, TinyConfig.class, bound -> {}));
        assertEquals(
                "TinyConfig does not bind the properties: unknown configuration keys: [tiny.colour] (see dwcpd"
                        + " --help-config)",
                e.getMessage());
    }

    @Test
    void fullMappingFailsOnAValueTheClassRefuses() {
        Map<String, String> properties = new java.util.HashMap<>(FULL);
        properties.put("tiny.count", "many");
        AssertionError e =
                assertThrows(AssertionError.class, () -> assertFullMapping(properties, TinyConfig.class, bound -> {}));
        assertEquals("TinyConfig does not bind the properties: tiny.count=many: expected an integer", e.getMessage());
    }

    @Test
    void fullMappingFailsWhenAChecksFails() {
        assertThrows(
                AssertionError.class,
                () -> assertFullMapping(FULL, TinyConfig.class, bound -> assertEquals(8, bound.getCount())));
    }

    @Test
    void aKeyWithoutAGetterCannotBeChecked() {
        AssertionError e = assertThrows(
                AssertionError.class,
                () -> assertFullMapping(Map.of("write-only.count", "9"), WriteOnlyConfig.class, bound -> {}));
        assertEquals(
                "WriteOnlyConfig has no getter for write-only.count (get or is + setCount without set): its value"
                        + " cannot be checked",
                e.getMessage());
    }

    @Test
    void defaultsNameEveryKey() {
        TinyConfig config = expectedDefaults(TinyConfig.class)
                .expect("tiny.count", 4)
                .expect("tiny.timeout", Duration.ofSeconds(10))
                .expect("tiny.enabled", true)
                .expect("tiny.label", null)
                .verify();
        assertEquals(4, config.getCount());
    }

    @Test
    void defaultsFailOnAMissingOrUnknownKey() {
        AssertionError e = assertThrows(
                AssertionError.class,
                () -> expectedDefaults(TinyConfig.class)
                        .expect("tiny.count", 4)
                        .expect("tiny.timeout", Duration.ofSeconds(10))
                        .expect("tiny.enabled", true)
                        .expect("tiny.colour", "red")
                        .verify());
        assertEquals(
                "the expected defaults of TinyConfig must name every key and only those: missing [tiny.label], not"
                        + " keys of the class [tiny.colour]",
                e.getMessage());
    }

    @Test
    void defaultsFailOnAWrongValue() {
        AssertionError e = assertThrows(
                AssertionError.class,
                () -> expectedDefaults(TinyConfig.class)
                        .expect("tiny.count", 5)
                        .expect("tiny.timeout", Duration.ofSeconds(10))
                        .expect("tiny.enabled", true)
                        .expect("tiny.label", null)
                        .verify());
        assertEquals("defaults of TinyConfig differ: [tiny.count: expected 5 but was 4]", e.getMessage());
    }

    @Test
    void aKeyExpectedTwiceIsAMistake() {
        assertThrows(
                IllegalArgumentException.class,
                () -> expectedDefaults(TinyConfig.class).expect("tiny.count", 4).expect("tiny.count", 5));
    }
}
