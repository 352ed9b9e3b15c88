package io.dwcp.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.config.HostAndPort;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/**
 * Spare tunnel streams between two daemons on loopback with real TLS: kept after a session, taken
 * by the next one (byte-exact as ever) and replaced, refused by a destination that holds no more,
 * closed when nobody wanted them for {@code tunnel.spare-linger}, none with
 * {@code tunnel.spare-streams=0}, and primed with padding the peer discards once a migration is
 * announced ({@code tunnel.spare-prime}).
 */
class SpareStreamsTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @Test
    void theNextSessionStartsOnSpareStreamsAndTheyAreReplaced() throws Exception {
        try (TestBed bed = new TestBed(Map.of(
                "amst.adapt-interval",
                "0s",
                "amst.initial-streams",
                "2",
                "tunnel.spare-streams",
                "4",
                "tunnel.spare-prime",
                "0"))) {
            TunnelStats alpha = bed.alpha.tunnelStats();
            TunnelStats beta = bed.beta.tunnelStats();
            assertEquals(0, alpha.spareStreamsReady.get(), "no spare before any session or announcement");
            assertEquals(java.util.Set.of(), bed.alpha.sessions().spareStreamPeers());

            bed.transfer(1, 4 << 20);
            // the first session dialled its own: its start asked for the spares, which came up meanwhile
            assertEquals(java.util.Set.of("beta"), bed.alpha.sessions().spareStreamPeers());
            TestBed.await("4 spares ready at alpha", WAIT, () -> alpha.spareStreamsReady.get() == 4);
            TestBed.await("4 spares held at beta", WAIT, () -> beta.spareStreamsHeld.get() == 4);
            assertEquals(4, bed.alpha.sessions().spareStreamsReady("beta"));
            long opened = beta.streamsOpened.sum();
            long takenBefore = alpha.spareStreamsTaken.sum();

            bed.transfer(2, 4 << 20);
            assertEquals(2, alpha.spareStreamsTaken.sum() - takenBefore, "the second session's 2 streams were spares");
            // a spare became a stream with its HELLO: the destination counted it like any other
            assertTrue(beta.streamsOpened.sum() - opened >= 2, "beta opened " + (beta.streamsOpened.sum() - opened));
            TestBed.await("the 2 taken spares replaced", WAIT, () -> alpha.spareStreamsReady.get() == 4);
            TestBed.await("beta holds the replacements", WAIT, () -> beta.spareStreamsHeld.get() == 4);
            TestBed.await("2 sessions completed", WAIT, () -> alpha.sessionsCompleted.sum() == 2);
            assertEquals(0, alpha.sessionsFailed.sum() + beta.sessionsFailed.sum());
            assertEquals(0, alpha.sparePrimeBytes.sum(), "no padding with tunnel.spare-prime=0");
        }
    }

    @Test
    void anAnnouncedMigrationPrimesTheSparesWithPaddingThePeerDiscards() throws Exception {
        // two PADs of 32 KiB per spare: priming ends on its byte limit, before any round trip limit
        try (TestBed bed = primingBed(Map.of("tunnel.spare-prime-min-rtt", "0s"))) {
            TunnelStats alpha = bed.alpha.tunnelStats();
            TunnelStats beta = bed.beta.tunnelStats();
            long refused = beta.refusedCount("protocol");
            bed.alpha.sessions().keepSpareStreams(beta(bed));
            TestBed.await("2 spares ready", WAIT, () -> alpha.spareStreamsReady.get() == 2);
            TestBed.await("both spares primed", WAIT, () -> alpha.sparePrimeBytes.sum() == 2 * 64 * 1024);
            long received = beta.tunnelBytesReceived.sum();
            assertTrue(received >= 2 * 64 * 1024, "beta read the padding: " + received);
            assertEquals(2, beta.spareStreamsHeld.get(), "beta discarded the padding and holds both spares");
            assertEquals(refused, beta.refusedCount("protocol"));

            // a session takes them: its HELLO comes after the padding, and its bytes are exact
            long takenBefore = alpha.spareStreamsTaken.sum();
            bed.transfer(9, 4 << 20);
            assertEquals(
                    2, alpha.spareStreamsTaken.sum() - takenBefore, "the session's 2 streams were the primed spares");
            TestBed.await("the session completed", WAIT, () -> alpha.sessionsCompleted.sum() == 1);
            assertEquals(0, alpha.sessionsFailed.sum() + beta.sessionsFailed.sum());
            // the 2 replacements may prime too if they came up after the session: the limit, each
            assertTrue(alpha.sparePrimeBytes.sum() <= 4 * 64 * 1024, "padded " + alpha.sparePrimeBytes.sum());
        }
    }

    @Test
    void noPaddingToAPeerCloserThanTheMinimumRoundTrip() throws Exception {
        // loopback is far below the default tunnel.spare-prime-min-rtt (200 ms)
        try (TestBed bed = primingBed(Map.of())) {
            TunnelStats alpha = bed.alpha.tunnelStats();
            bed.alpha.sessions().keepSpareStreams(beta(bed));
            TestBed.await("2 spares ready", WAIT, () -> alpha.spareStreamsReady.get() == 2);
            bed.transfer(10, 2 << 20);
            TestBed.await("the session completed", WAIT, () -> alpha.sessionsCompleted.sum() == 1);
            assertEquals(0, alpha.sparePrimeBytes.sum());
            assertEquals(0, alpha.sessionsFailed.sum());
        }
    }

    /** Two spares that pad 64 KiB each (two PADs) where they prime; {@code more} on top. */
    private static TestBed primingBed(Map<String, String> more) throws java.io.IOException {
        Map<String, String> config = new java.util.HashMap<>(Map.of(
                "amst.adapt-interval", "0s",
                "amst.initial-streams", "2",
                "tunnel.spare-streams", "2",
                "tunnel.spare-prime", "64KiB"));
        config.putAll(more);
        return new TestBed(config);
    }

    /** beta as alpha's configuration names it (TestBed: its tunnel port on loopback). */
    private static PeerConfig beta(TestBed bed) {
        return new PeerConfig(
                "beta",
                new HostAndPort(
                        "127.0.0.1", bed.beta.tunnelServer().localAddress().getPort()),
                OptionalInt.empty());
    }

    @Test
    void aDestinationThatHoldsNoSpareRefusesThemAndSessionsDialTheirOwn() throws Exception {
        try (TestBed bed = new TestBed(
                Map.of("amst.adapt-interval", "0s", "amst.initial-streams", "2", "tunnel.spare-streams", "4"),
                Map.of("tunnel.max-spare-connections", "0"))) {
            bed.transfer(3, 2 << 20);
            TestBed.await(
                    "beta to refuse alpha's spares",
                    WAIT,
                    () -> bed.beta.tunnelStats().refusedCount("too-many-spares") >= 4);
            bed.transfer(4, 2 << 20);
            assertEquals(0, bed.alpha.tunnelStats().spareStreamsTaken.sum());
            assertEquals(0, bed.beta.tunnelStats().spareStreamsHeld.get());
            TestBed.await(
                    "2 sessions completed",
                    WAIT,
                    () -> bed.alpha.tunnelStats().sessionsCompleted.sum() == 2);
            assertEquals(0, bed.alpha.tunnelStats().sessionsFailed.sum());
        }
    }

    @Test
    void sparesNobodyTookCloseAfterTheLinger() throws Exception {
        // PINGs every second (a third of the idle timeout): the linger's end is seen within a second
        try (TestBed bed = new TestBed(
                Map.of(
                        "amst.adapt-interval",
                        "0s",
                        "amst.initial-streams",
                        "2",
                        "tunnel.idle-timeout",
                        "3s",
                        "tunnel.spare-streams",
                        "4"),
                Map.of("tunnel.spare-linger", "2s"),
                Map.of(),
                false)) {
            bed.transfer(5, 2 << 20);
            TestBed.await(
                    "spares ready",
                    WAIT,
                    () -> bed.alpha.tunnelStats().spareStreamsReady.get() == 4);
            TestBed.await(
                    "spares closed after the linger",
                    WAIT,
                    () -> bed.alpha.tunnelStats().spareStreamsReady.get() == 0
                            && bed.beta.tunnelStats().spareStreamsHeld.get() == 0);
            assertEquals(0, bed.alpha.sessions().spareStreamsReady("beta"));
            // the next session dials its own and asks for spares again
            bed.transfer(6, 2 << 20);
            TestBed.await(
                    "spares again",
                    WAIT,
                    () -> bed.alpha.tunnelStats().spareStreamsReady.get() == 4);
        }
    }

    @Test
    void noSparesWhenTurnedOff() throws Exception {
        try (TestBed bed = new TestBed(
                Map.of("amst.adapt-interval", "0s", "amst.initial-streams", "2", "tunnel.spare-streams", "0"))) {
            bed.transfer(7, 2 << 20);
            // a session asks for spares to its peer as it starts: none were asked for
            assertEquals(java.util.Set.of(), bed.alpha.sessions().spareStreamPeers());
            bed.transfer(8, 2 << 20);
            assertEquals(java.util.Set.of(), bed.alpha.sessions().spareStreamPeers());
            assertEquals(0, bed.alpha.tunnelStats().spareStreamsTaken.sum());
            assertEquals(0, bed.alpha.tunnelStats().spareStreamsReady.get());
            assertEquals(0, bed.beta.tunnelStats().spareStreamsHeld.get());
        }
    }
}
