package io.dwcp.pba;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/** The mahimahi traces shipped in this module's test resources (see traces/README.md there). */
public final class BundledTraces {
    public static final List<String> NAMES = List.of(
            "ATT-LTE-driving-2016.down",
            "TMobile-UMTS-driving.down",
            "Verizon-EVDO-driving.down",
            "Verizon-LTE-short.down");
    /** Cellular rates times 30: a WAN path of 15 to 150 Mbit/s on average. */
    public static final double WAN_SCALE = 30;

    public static final Duration BUCKET = Duration.ofMillis(100);

    private BundledTraces() {}

    /** {@code name} as 100 ms buckets, scaled to a WAN path. */
    public static GoodputSeries load(String name) {
        return raw(name, BUCKET).scaled(WAN_SCALE);
    }

    public static GoodputSeries raw(String name, Duration bucket) {
        InputStream stream =
                requireNonNull(BundledTraces.class.getResourceAsStream("traces/" + name), "no bundled trace " + name);
        try (Reader reader = new InputStreamReader(stream, StandardCharsets.US_ASCII)) {
            return MahimahiTrace.read(reader, bucket);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
