package io.dwcp.metrics;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.TreeMap;

/**
 * A scrape in Prometheus text format (0.0.4), read as a scraper would: {@code # HELP} and
 * {@code # TYPE} per family, and each sample by its name and label set, whatever the order of the
 * labels, the float formatting ({@code 3.0}, {@code 1.0E7}) or the order of the families. For
 * tests; it refuses a line it cannot read, so a malformed exposition fails the test.
 */
public final class ScrapedMetrics {
    private final Map<String, String> help = new LinkedHashMap<>();
    private final Map<String, String> types = new LinkedHashMap<>();
    // "name{a=\"x\",b=\"y\"}" with the labels sorted by name
    private final Map<String, Double> samples = new LinkedHashMap<>();

    private ScrapedMetrics() {}

    public static ScrapedMetrics parse(String text) {
        ScrapedMetrics scrape = new ScrapedMetrics();
        for (String line : text.split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("# HELP ")) {
                String[] parts = line.substring("# HELP ".length()).split(" ", 2);
                scrape.help.put(parts[0], parts.length > 1 ? parts[1] : "");
            } else if (line.startsWith("# TYPE ")) {
                String[] parts = line.substring("# TYPE ".length()).split(" ");
                if (parts.length != 2) {
                    throw new IllegalArgumentException("malformed TYPE line: " + line);
                }
                scrape.types.put(parts[0], parts[1]);
            } else if (line.startsWith("#")) {
                continue;
            } else {
                scrape.sample(line);
            }
        }
        return scrape;
    }

    private void sample(String line) {
        int brace = line.indexOf('{');
        int space = line.lastIndexOf(' ');
        if (space < 0) {
            throw new IllegalArgumentException("malformed sample: " + line);
        }
        String name;
        Map<String, String> labels = new TreeMap<>();
        if (brace >= 0 && brace < space) {
            name = line.substring(0, brace);
            int close = line.lastIndexOf('}');
            if (close < brace || close > space) {
                throw new IllegalArgumentException("malformed labels: " + line);
            }
            String body = line.substring(brace + 1, close);
            int position = 0;
            while (position < body.length()) {
                int equals = body.indexOf("=\"", position);
                if (equals < 0) {
                    throw new IllegalArgumentException("malformed labels: " + line);
                }
                String label = body.substring(position, equals);
                StringBuilder value = new StringBuilder();
                int i = equals + 2;
                while (i < body.length() && body.charAt(i) != '"') {
                    if (body.charAt(i) == '\\' && i + 1 < body.length()) {
                        i++;
                    }
                    value.append(body.charAt(i));
                    i++;
                }
                if (i >= body.length()) {
                    throw new IllegalArgumentException("unterminated label value: " + line);
                }
                labels.put(label, value.toString());
                position = i + 1;
                if (position < body.length() && body.charAt(position) == ',') {
                    position++;
                }
            }
        } else {
            name = line.substring(0, space);
        }
        String key = key(name, labels);
        if (samples.put(key, Double.parseDouble(line.substring(space + 1))) != null) {
            throw new IllegalArgumentException("sample twice: " + key);
        }
    }

    private static String key(String name, Map<String, String> sortedLabels) {
        StringBuilder key = new StringBuilder(name);
        if (!sortedLabels.isEmpty()) {
            key.append('{');
            sortedLabels.forEach((label, value) ->
                    key.append(label).append("=\"").append(value).append("\","));
            key.setLength(key.length() - 1);
            key.append('}');
        }
        return key.toString();
    }

    /** The value of the sample with exactly these labels ({@code name, value} pairs), if scraped. */
    public OptionalDouble value(String name, String... labelPairs) {
        if (labelPairs.length % 2 != 0) {
            throw new IllegalArgumentException("label names and values come in pairs");
        }
        Map<String, String> labels = new TreeMap<>();
        for (int i = 0; i < labelPairs.length; i += 2) {
            labels.put(labelPairs[i], labelPairs[i + 1]);
        }
        Double value = samples.get(key(name, labels));
        return value == null ? OptionalDouble.empty() : OptionalDouble.of(value);
    }

    /** Like {@link #value}, but the sample must be there. */
    public double require(String name, String... labelPairs) {
        OptionalDouble value = value(name, labelPairs);
        if (value.isEmpty()) {
            throw new AssertionError("no sample " + name + " " + String.join(",", labelPairs) + " in:\n" + this);
        }
        return value.getAsDouble();
    }

    /** The family's {@code # TYPE} (counter, gauge, histogram), or null. */
    public String type(String family) {
        return types.get(family);
    }

    /** The family's {@code # HELP} text, or null. */
    public String help(String family) {
        return help.get(family);
    }

    /** Every sample, as {@code name{labels sorted by name}}. */
    public Set<String> samples() {
        return samples.keySet();
    }

    /** How many samples of this name were scraped (every label set). */
    public long count(String name) {
        return samples.keySet().stream()
                .filter(key -> key.equals(name) || key.startsWith(name + "{"))
                .count();
    }

    @Override
    public String toString() {
        StringBuilder out = new StringBuilder();
        samples.forEach(
                (key, value) -> out.append(key).append(' ').append(value).append('\n'));
        return out.toString();
    }
}
