package io.dwcp.hde;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dwcp.metrics.MetricsConfig;
import io.dwcp.metrics.MetricsServer;
import io.dwcp.metrics.ScrapedMetrics;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** HDE's figures as a scraper reads them, from a known state of a daemon's {@link HdeStats} fed through a session's. */
class HdeMetricsTest {
    private static ScrapedMetrics scrape(HdeStats stats) {
        return ScrapedMetrics.parse(new MetricsServer(
                        new MetricsConfig(), Set.of(new HdeMetrics(stats, new CacheBudget(1L << 30))))
                .render());
    }

    @Test
    void nothingEncodedYet() {
        ScrapedMetrics scrape = scrape(new HdeStats());
        for (PageLevel level : PageLevel.values()) {
            String label = level.name().toLowerCase(java.util.Locale.ROOT);
            assertEquals(0, scrape.require("dwcp_hde_pages_total", "level", label));
            assertEquals(0, scrape.require("dwcp_hde_page_bytes_in_total", "level", label));
            assertEquals(0, scrape.require("dwcp_hde_page_bytes_out_total", "level", label));
        }
        assertEquals(0, scrape.require("dwcp_hde_ratio"));
        // per zstd level: only the levels used so far
        assertEquals(0, scrape.count("dwcp_hde_frames_total"));
        assertEquals(0, scrape.count("dwcp_hde_level_encode_seconds_total"));
    }

    @Test
    void countersPerPageLevelAndPerZstdLevel() {
        HdeStats daemon = new HdeStats();
        HdeStats session = new HdeStats(daemon);
        session.page(PageLevel.ZERO, 4104, 9);
        session.page(PageLevel.ZERO, 4104, 9);
        session.page(PageLevel.PAGE, 4104, 4100);
        session.page(PageLevel.BASELINE_DELTA, 4104, 300);
        session.baselineReference();
        session.raw(100, 105);
        session.input(3, 12_412, 2_000_000);
        session.frameEncoded(3, 4523, 2000, 500_000);
        session.frameEncoded(HdeStats.NO_COMPRESSION, 105, 120, 0);
        session.controlFrameEncoded(20);
        session.frameDecoded(2000, 12_412, 1_500_000_000);
        session.dictionaryTrained(250_000_000);
        session.dictionaryTrainingFailed(50_000_000);

        ScrapedMetrics scrape = scrape(daemon);
        assertEquals(2, scrape.require("dwcp_hde_pages_total", "level", "zero"));
        assertEquals(1, scrape.require("dwcp_hde_pages_total", "level", "page"));
        assertEquals(1, scrape.require("dwcp_hde_pages_total", "level", "baseline_delta"));
        assertEquals(0, scrape.require("dwcp_hde_pages_total", "level", "reference"));
        assertEquals(0, scrape.require("dwcp_hde_pages_total", "level", "delta"));
        assertEquals(8208, scrape.require("dwcp_hde_page_bytes_in_total", "level", "zero"));
        assertEquals(300, scrape.require("dwcp_hde_page_bytes_out_total", "level", "baseline_delta"));
        assertEquals(1, scrape.require("dwcp_hde_baseline_references_total"));
        assertEquals(100, scrape.require("dwcp_hde_raw_bytes_in_total"));
        assertEquals(105, scrape.require("dwcp_hde_raw_bytes_out_total"));

        assertEquals(1, scrape.require("dwcp_hde_frames_total", "zstd_level", "3"));
        assertEquals(1, scrape.require("dwcp_hde_frames_total", "zstd_level", "none"));
        assertEquals(2, scrape.count("dwcp_hde_frames_total"));
        assertEquals(4523, scrape.require("dwcp_hde_body_bytes_total", "zstd_level", "3"));
        assertEquals(2000, scrape.require("dwcp_hde_frame_bytes_total", "zstd_level", "3"));
        assertEquals(120, scrape.require("dwcp_hde_frame_bytes_total", "zstd_level", "none"));
        assertEquals(12_412, scrape.require("dwcp_hde_input_bytes_total", "zstd_level", "3"));
        assertEquals(0.0025, scrape.require("dwcp_hde_level_encode_seconds_total", "zstd_level", "3"), 1e-12);
        assertEquals(0, scrape.require("dwcp_hde_level_encode_seconds_total", "zstd_level", "none"));

        assertEquals(0.0025, scrape.require("dwcp_hde_encode_seconds_total"), 1e-12);
        assertEquals(1.5, scrape.require("dwcp_hde_decode_seconds_total"));
        assertEquals(1, scrape.require("dwcp_hde_frames_decoded_total"));
        assertEquals(12_412, scrape.require("dwcp_hde_bytes_decoded_total"));
        assertEquals(1, scrape.require("dwcp_hde_dictionaries_trained_total"));
        assertEquals(1, scrape.require("dwcp_hde_dictionary_training_failures_total"));
        // frame bytes (2000 + 120 + 20) per stream byte in (4 pages of 4104 + 100 raw)
        assertEquals(2140.0 / (4 * 4104 + 100), scrape.require("dwcp_hde_ratio"), 1e-12);

        assertEquals("counter", scrape.type("dwcp_hde_pages_total"));
        assertEquals("counter", scrape.type("dwcp_hde_level_encode_seconds_total"));
        assertEquals("gauge", scrape.type("dwcp_hde_ratio"));
    }
}
