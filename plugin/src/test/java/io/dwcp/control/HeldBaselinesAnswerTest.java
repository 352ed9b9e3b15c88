package io.dwcp.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dwcp.region.DestinationChooser;
import io.dwcp.region.HeldBaselines;
import io.dwcp.region.Records.BaselineRecord;
import io.dwcp.region.Records.HostRecord;
import io.dwcp.region.Records.LinkRecord;
import io.dwcp.region.Records.MigrationRecord;
import io.dwcp.region.Records.RemoteRecord;
import io.dwcp.region.RegionView;
import io.dwcp.region.StaleMetadataException;
import io.dwcp.region.Stamped;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /v1/regions/REGION/baselines}: what {@link HeldBaselines} reads of a hand-written
 * region view, and the answer's JSON, golden (dwcp's side parses the same text in {@code
 * DwcpdControlBaselinesTest}).
 */
class HeldBaselinesAnswerTest {
    /** The golden answer: two VMs asked for, db held at beta and gamma, web nowhere. */
    static final String GOLDEN = "{\"region\":\"eu\",\"host\":\"alpha\",\"baselines\":["
            + "{\"vm\":\"db\",\"host\":\"beta\",\"sizeBytes\":3221225472,\"createdAtMillis\":9400000,\"ageMillis\":600000},"
            + "{\"vm\":\"db\",\"host\":\"gamma\",\"sizeBytes\":1073741824,\"createdAtMillis\":6400000,\"ageMillis\":3600000}"
            + "],\"baselinesAgeMillis\":250,\"stalenessBoundMillis\":5000}";

    private static final long NOW = 10_000_000;

    /** The catalogue: per VM its records, each read {@code age} ms before NOW; the VMs asked, in order. */
    private static final class View implements RegionView {
        final Map<String, List<BaselineRecord>> catalogue;
        final Map<String, Long> ages;
        final List<String> asked = new ArrayList<>();
        boolean stale;

        View(Map<String, List<BaselineRecord>> catalogue, Map<String, Long> ages) {
            this.catalogue = catalogue;
            this.ages = ages;
        }

        @Override
        public String region() {
            return "eu";
        }

        @Override
        public String host() {
            return "alpha";
        }

        @Override
        public Duration stalenessBound() {
            return Duration.ofSeconds(5);
        }

        @Override
        public Stamped<List<BaselineRecord>> baselines(String vm) throws StaleMetadataException {
            asked.add(vm);
            if (stale) {
                throw new StaleMetadataException("baselines of " + vm + " read 9000 ms ago", null);
            }
            return new Stamped<>(catalogue.getOrDefault(vm, List.of()), NOW - ages.getOrDefault(vm, 0L), 0);
        }

        @Override
        public Stamped<List<HostRecord>> hosts() {
            throw new AssertionError("not read for baselines");
        }

        @Override
        public Stamped<List<LinkRecord>> links() {
            throw new AssertionError("not read for baselines");
        }

        @Override
        public Stamped<List<MigrationRecord>> migrations() {
            throw new AssertionError("not read for baselines");
        }

        @Override
        public Stamped<List<RemoteRecord>> remoteRegions() {
            throw new AssertionError("not read for baselines");
        }
    }

    private final View view = new View(
            Map.of(
                    "db",
                    // in the catalogue's (znode) order, not by host
                    List.of(
                            new BaselineRecord("db", "gamma", 1L << 30, NOW - 3_600_000),
                            new BaselineRecord("db", "beta", 3L << 30, NOW - 600_000))),
            Map.of("db", 100L, "web", 250L));

    @Test
    void theCatalogueIsReadPerVmOnceAndRenderedAsTheGoldenAnswer() throws Exception {
        HeldBaselines.Answer answer = HeldBaselines.read(view, "eu", List.of("db", "web", "db"), NOW);
        assertEquals(List.of("db", "web"), view.asked);
        assertEquals(
                List.of(
                        new HeldBaselines.Held("db", "beta", 3L << 30, NOW - 600_000, 600_000),
                        new HeldBaselines.Held("db", "gamma", 1L << 30, NOW - 3_600_000, 3_600_000)),
                answer.baselines());
        assertEquals(250, answer.baselinesAgeMillis(), "the oldest read behind the answer");
        assertEquals(GOLDEN, ControlApi.heldBaselines(answer).toString());
    }

    @Test
    void anotherRegionsBaselinesAreNotKnownHere() {
        DestinationChooser.NoChoiceException refused = assertThrows(
                DestinationChooser.NoChoiceException.class, () -> HeldBaselines.read(view, "us", List.of("db"), NOW));
        assertEquals(409, refused.status());
        assertEquals(
                "the baselines held in region us are not known here: this host is in region eu, and gossip carries no baselines",
                refused.getMessage());
        assertEquals(List.of(), view.asked);
    }

    @Test
    void staleMetadataAndTooManyVmsAreRefused() {
        view.stale = true;
        assertThrows(StaleMetadataException.class, () -> HeldBaselines.read(view, "eu", List.of("db"), NOW));
        List<String> many = new ArrayList<>();
        for (int i = 0; i <= HeldBaselines.MAX_VMS; i++) {
            many.add("vm" + i);
        }
        assertThrows(IllegalArgumentException.class, () -> HeldBaselines.read(view, "eu", many, NOW));
        assertThrows(IllegalArgumentException.class, () -> HeldBaselines.read(view, "eu", List.of(), NOW));
    }
}
