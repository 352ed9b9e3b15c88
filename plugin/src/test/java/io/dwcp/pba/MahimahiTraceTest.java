package io.dwcp.pba;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.InputStreamReader;
import java.io.LineNumberReader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class MahimahiTraceTest {
    private static final Duration BUCKET = Duration.ofMillis(100);

    @Test
    void countsPacketsPerBucket() throws IOException {
        String trace = """
                0
                0
                99
                250
                250
                250
                """;
        // bucket 0: 3 packets, bucket 1: none, bucket 2: 3 packets; 12,000 bit each over 0.1 s
        GoodputSeries series = MahimahiTrace.read(new StringReader(trace), BUCKET);
        assertArrayEquals(new double[] {360_000, 0, 360_000}, series.toArray());
        assertEquals(Duration.ofMillis(300), series.duration());
    }

    @Test
    void rejectsWhatIsNotATime() {
        TraceFormatException e = assertThrows(
                TraceFormatException.class, () -> MahimahiTrace.read(new StringReader("1\n2\nx3\n"), BUCKET));
        assertEquals("line 3: expected a time in ms, found 'x3'", e.getMessage());
    }

    @Test
    void rejectsTimeGoingBack() {
        TraceFormatException e = assertThrows(
                TraceFormatException.class, () -> MahimahiTrace.read(new StringReader("5\n7\n6\n"), BUCKET));
        assertEquals("line 3: time 6 ms is before the previous 7 ms", e.getMessage());
    }

    @Test
    void rejectsAnEmptyTrace() {
        TraceFormatException e =
                assertThrows(TraceFormatException.class, () -> MahimahiTrace.read(new StringReader("\n"), BUCKET));
        assertEquals("empty trace: no delivery opportunity", e.getMessage());
    }

    @Test
    void bundledTraceKeepsEveryPacket() throws IOException {
        // Count lines and the last time independently of the reader.
        int packets = 0;
        long last = 0;
        try (LineNumberReader lines = new LineNumberReader(new InputStreamReader(
                BundledTraces.class.getResourceAsStream("traces/Verizon-LTE-short.down"), StandardCharsets.US_ASCII))) {
            for (String line; (line = lines.readLine()) != null; ) {
                packets++;
                last = Long.parseLong(line.strip());
            }
        }
        GoodputSeries series = BundledTraces.raw("Verizon-LTE-short.down", BUCKET);
        assertEquals(last / 100 + 1, series.size());
        assertEquals(packets * 12_000.0, series.mean() * series.size() * 0.1, 1e-3);
    }
}
