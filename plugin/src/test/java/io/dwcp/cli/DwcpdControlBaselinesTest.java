package io.dwcp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** dwcp's side of {@code GET /v1/regions/REGION/baselines}: the golden answer parsed, and the VMs split into requests. */
class DwcpdControlBaselinesTest {
    /** The same text as io.dwcp.control.HeldBaselinesAnswerTest.GOLDEN (what ControlApi renders). */
    private static final String GOLDEN = "{\"region\":\"eu\",\"host\":\"alpha\",\"baselines\":["
            + "{\"vm\":\"db\",\"host\":\"beta\",\"sizeBytes\":3221225472,\"createdAtMillis\":9400000,\"ageMillis\":600000},"
            + "{\"vm\":\"db\",\"host\":\"gamma\",\"sizeBytes\":1073741824,\"createdAtMillis\":6400000,\"ageMillis\":3600000}"
            + "],\"baselinesAgeMillis\":250,\"stalenessBoundMillis\":5000}";

    @Test
    void theGoldenAnswerIsParsed() throws Exception {
        Dwcpd.RegionBaselines parsed = DwcpdControl.regionBaselines(new ObjectMapper().readTree(GOLDEN));
        assertEquals(
                new Dwcpd.RegionBaselines(
                        "eu",
                        "alpha",
                        List.of(
                                new Dwcpd.HeldBaseline("db", "beta", 3L << 30, 9_400_000, 600_000),
                                new Dwcpd.HeldBaseline("db", "gamma", 1L << 30, 6_400_000, 3_600_000)),
                        250,
                        5000),
                parsed);
    }

    @Test
    void manyVmsAreAskedInRequestsThatFitTheRequestLine() {
        assertEquals(List.of("vm=db&vm=web+1&vm=%C3%A9t%C3%A9"), DwcpdControl.queries(List.of("db", "web 1", "été")));
        List<String> vms = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            vms.add(String.format("vm-%03d-%s", i, "x".repeat(40)));
        }
        List<String> queries = DwcpdControl.queries(vms);
        assertTrue(queries.size() > 1, queries.toString());
        List<String> again = new ArrayList<>();
        for (String query : queries) {
            assertTrue(query.length() <= DwcpdControl.MAX_QUERY_LENGTH, query.length() + "");
            assertTrue(query.split("&").length <= 256, query);
            for (String field : query.split("&")) {
                again.add(field.substring("vm=".length()));
            }
        }
        assertEquals(vms, again, "every VM once, in order");
        List<String> small = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            small.add("v" + i);
        }
        assertEquals(256, DwcpdControl.queries(small).get(0).split("&").length, "at most 256 a request");
    }
}
