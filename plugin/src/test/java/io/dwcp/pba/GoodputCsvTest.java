package io.dwcp.pba;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class GoodputCsvTest {
    private static final Duration BUCKET = Duration.ofMillis(100);

    @Test
    void resamplesMeasurementsOntoBuckets() throws IOException {
        String csv = """
                # dwcpd link measurements
                time_ms,bits_per_second
                1000,100
                1050,300
                1120,50

                1350,80
                """;
        // relative to the first row: [0,100) -> mean(100,300); [100,200) -> 50; [200,300) empty -> 50; [300,400) -> 80
        GoodputSeries series = GoodputCsv.read(new StringReader(csv), BUCKET);
        assertArrayEquals(new double[] {200, 50, 50, 80}, series.toArray());
    }

    @Test
    void roundTrips() throws IOException {
        GoodputSeries series = new GoodputSeries(BUCKET, new double[] {1e6, 0, 2.5e6, 3.25e8});
        StringWriter out = new StringWriter();
        GoodputCsv.write(series, out);
        assertArrayEquals(
                series.toArray(),
                GoodputCsv.read(new StringReader(out.toString()), BUCKET).toArray());
    }

    @Test
    void requiresTheHeader() {
        TraceFormatException e = assertThrows(
                TraceFormatException.class, () -> GoodputCsv.read(new StringReader("time,bps\n1,2\n"), BUCKET));
        assertEquals("line 1: expected header 'time_ms,bits_per_second', found 'time,bps'", e.getMessage());
    }

    @Test
    void rejectsMalformedRows() {
        assertEquals(
                "line 3: expected 2 fields time_ms,bits_per_second, found '2,3,4'",
                assertThrows(
                                TraceFormatException.class,
                                () -> GoodputCsv.read(new StringReader(GoodputCsv.HEADER + "\n1,2\n2,3,4\n"), BUCKET))
                        .getMessage());
        assertEquals(
                "line 2: not numbers: '1,fast'",
                assertThrows(
                                TraceFormatException.class,
                                () -> GoodputCsv.read(new StringReader(GoodputCsv.HEADER + "\n1,fast\n"), BUCKET))
                        .getMessage());
        assertEquals(
                "line 2: bits_per_second must be finite and >= 0, found -1.0",
                assertThrows(
                                TraceFormatException.class,
                                () -> GoodputCsv.read(new StringReader(GoodputCsv.HEADER + "\n1,-1\n"), BUCKET))
                        .getMessage());
        assertEquals(
                "line 3: time 5 ms is before the previous 9 ms",
                assertThrows(
                                TraceFormatException.class,
                                () -> GoodputCsv.read(new StringReader(GoodputCsv.HEADER + "\n9,1\n5,1\n"), BUCKET))
                        .getMessage());
        assertEquals(
                "no measurement after the header",
                assertThrows(
                                TraceFormatException.class,
                                () -> GoodputCsv.read(new StringReader(GoodputCsv.HEADER + "\n"), BUCKET))
                        .getMessage());
    }
}
