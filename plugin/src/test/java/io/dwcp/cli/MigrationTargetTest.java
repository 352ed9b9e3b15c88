package io.dwcp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class MigrationTargetTest {
    @Test
    void aPlusInAnOptionStaysAPlus() {
        MigrationTarget target = MigrationTarget.parse("dwcp://b?dest-uri=qemu+tcp://10.0.0.2/system");
        assertEquals(Optional.of("qemu+tcp://10.0.0.2/system"), target.destinationUri());
    }

    @Test
    void hostOnly() {
        assertEquals(
                new MigrationTarget(
                        "dest1",
                        OptionalInt.empty(),
                        Optional.empty(),
                        OptionalInt.empty(),
                        OptionalLong.empty(),
                        Optional.empty()),
                MigrationTarget.parse("dwcp://dest1"));
        assertEquals(MigrationTarget.parse("dwcp://dest1"), MigrationTarget.parse("dwcp://dest1/"));
    }

    @Test
    void portAndOptions() {
        MigrationTarget target = MigrationTarget.parse(
                "dwcp://dest.example.org:7470?peer=dest1&parallel=4&bandwidth=250&dest-uri=qemu%2Bssh%3A%2F%2Froot%40dest%2Fsystem");
        assertEquals("dest.example.org", target.host());
        assertEquals(OptionalInt.of(7470), target.port());
        assertEquals(Optional.of("dest1"), target.peer());
        assertEquals(OptionalInt.of(4), target.parallel());
        assertEquals(OptionalLong.of(250), target.bandwidthMiB());
        assertEquals(Optional.of("qemu+ssh://root@dest/system"), target.destinationUri());
    }

    @Test
    void ipv6() {
        MigrationTarget target = MigrationTarget.parse("dwcp://[2001:db8::7]:7470");
        assertEquals("2001:db8::7", target.host());
        assertEquals("[2001:db8::7]", target.uriHost());
        assertEquals(OptionalInt.of(7470), target.port());
    }

    @Test
    void malformed() {
        assertError("expected dwcp://HOST[:PORT][?OPTIONS], not 'qemu+ssh://dest/system'", "qemu+ssh://dest/system");
        assertError("expected dwcp://HOST[:PORT][?OPTIONS], not 'dest1'", "dest1");
        assertError("no destination host in 'dwcp:///x' (dwcp://HOST[:PORT])", "dwcp:///x");
        assertError(
                "no user in a dwcp URI (the destination libvirt URI carries it: dest-uri or --dest-uri): 'dwcp://root@dest'",
                "dwcp://root@dest");
        assertError("no path in a dwcp URI: '/system'", "dwcp://dest/system");
        assertError("no fragment in a dwcp URI: '#x'", "dwcp://dest#x");
        assertError(
                "unknown option 'compress' in the dwcp URI (peer, parallel, bandwidth, dest-uri)",
                "dwcp://dest?compress=zstd");
        assertError("option 'parallel' is given twice in the dwcp URI", "dwcp://dest?parallel=2&parallel=3");
        assertError("dwcp URI options are KEY=VALUE joined by '&': 'parallel'", "dwcp://dest?parallel");
        assertError("parallel must be 1 to 255 connections: 'many'", "dwcp://dest?parallel=many");
        assertError("parallel must be 1 to 255 connections: '256'", "dwcp://dest?parallel=256");
        assertError("bandwidth must be a whole number of MiB/s, at least 1: '0'", "dwcp://dest?bandwidth=0");
        assertError(
                "peer must be a dwcpd node name ([A-Za-z0-9._-], 1-63 characters): '../x'", "dwcp://dest?peer=../x");
    }

    private static void assertError(String message, String uri) {
        assertEquals(
                message,
                assertThrows(IllegalArgumentException.class, () -> MigrationTarget.parse(uri))
                        .getMessage());
    }
}
