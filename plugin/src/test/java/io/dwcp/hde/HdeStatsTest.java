package io.dwcp.hde;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class HdeStatsTest {
    @Test
    void describesOnlyTheLevelsThatWereUsed() {
        HdeStats daemon = new HdeStats();
        HdeStats session = new HdeStats(daemon);
        for (int i = 0; i < 3; i++) {
            session.page(PageLevel.ZERO, 4104, 9);
        }
        session.page(PageLevel.PAGE, 4104, 4100);
        session.page(PageLevel.PAGE, 4104, 4100);
        session.raw(1 << 20, (1 << 20) + 8);
        session.frameEncoded(1, 3 << 20, 1 << 20, 10);
        session.frameEncoded(HdeStats.NO_COMPRESSION, 1 << 19, (1 << 19) + 30, 5);

        assertEquals(
                "pages zero 3 (0.0 MiB), page 2 (0.0 MiB); raw 1.0 -> 1.0 MiB;"
                        + " frames none: 1, 0.5 -> 0.5 MiB, zstd 1: 1, 3.0 -> 1.0 MiB",
                session.describe());
        assertEquals(session.describe(), daemon.describe(), "the daemon counts what its session counted");
    }

    @Test
    void describesASessionThatEncodedNothing() {
        assertEquals("pages none; raw 0.0 -> 0.0 MiB; frames none", new HdeStats().describe());
    }
}
