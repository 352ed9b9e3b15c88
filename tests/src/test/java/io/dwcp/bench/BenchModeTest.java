package io.dwcp.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.testbed.qemu.NativeMode;
import org.junit.jupiter.api.Test;

class BenchModeTest {
    @Test
    void resumeModes() {
        BenchMode dwcp = BenchMode.parse("dwcp-resume");
        assertEquals(BenchMode.Kind.TUNNEL, dwcp.kind());
        assertEquals(BenchMode.HDE, dwcp.dwcpSettings());
        assertEquals(NativeMode.PRECOPY, dwcp.nativeMode());
        assertTrue(dwcp.resume());
        assertFalse(dwcp.roundTrip());

        BenchMode precopy = BenchMode.parse("precopy-resume");
        assertEquals(BenchMode.Kind.NATIVE, precopy.kind());
        assertEquals(NativeMode.PRECOPY, precopy.nativeMode());
        assertEquals(BenchMode.STOCK_CONGESTION_CONTROL, precopy.congestionControl());
        assertTrue(precopy.resume());

        assertFalse(BenchMode.parse("dwcp").resume());
        assertFalse(BenchMode.parse("dwcp-back").resume());
        assertTrue(BenchMode.parse("dwcp-back").roundTrip());
        assertTrue(BenchMode.ORDER.indexOf("precopy-resume") < BenchMode.ORDER.indexOf("dwcp-resume"));
        BenchMode zstd = BenchMode.parse("multifd-zstd-resume");
        assertEquals(NativeMode.MULTIFD_ZSTD, zstd.nativeMode());
        assertTrue(zstd.resume());
        assertThrows(IllegalArgumentException.class, () -> BenchMode.parse("amst-resume"));
        assertThrows(IllegalArgumentException.class, () -> BenchMode.parse("dwcp-back-resume"));
    }

    @Test
    void hdeWithoutBaselines() {
        BenchMode mode = BenchMode.parse("dwcp-nobaselines");
        assertEquals(BenchMode.Kind.TUNNEL, mode.kind());
        assertEquals(NativeMode.PRECOPY, mode.nativeMode());
        assertEquals("hde", mode.dwcpSettings().get("codec.mode"));
        assertEquals("none", mode.dwcpSettings().get("hde.baseline-record"));
        assertEquals("0", mode.dwcpSettings().get("hde.baseline-announce-limit"));
        assertFalse(mode.roundTrip());
        assertTrue(BenchMode.ORDER.indexOf("dwcp") < BenchMode.ORDER.indexOf("dwcp-nobaselines"));
        BenchMode warm = BenchMode.parse("dwcp-nobaselines-warm");
        assertTrue(warm.warm());
        assertEquals("none", warm.dwcpSettings().get("hde.baseline-record"));
    }

    @Test
    void warmVariantsOnlyThroughTheDaemons() {
        BenchMode warm = BenchMode.parse("dwcp-warm");
        assertTrue(warm.warm());
        assertEquals("0", warm.dwcpSettings().get("hde.baseline-announce-limit"));
        assertThrows(IllegalArgumentException.class, () -> BenchMode.parse("precopy-warm"));
    }
}
