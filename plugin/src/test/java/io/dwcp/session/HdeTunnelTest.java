package io.dwcp.session;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.inject.Module;
import io.dwcp.cli.ControlClient;
import io.dwcp.codec.CodecMode;
import io.dwcp.codec.DestinationCodec;
import io.dwcp.codec.IdentityStreamCodec;
import io.dwcp.codec.LinkMeasurement;
import io.dwcp.codec.PassthroughSessionCodecs;
import io.dwcp.codec.SessionCodecs;
import io.dwcp.codec.SourceCodec;
import io.dwcp.codec.StreamDecoder;
import io.dwcp.codec.StreamEncoder;
import io.dwcp.hde.BaselineJobs;
import io.dwcp.hde.BaselineStore;
import io.dwcp.hde.CacheBudget;
import io.dwcp.hde.HdeConfig;
import io.dwcp.hde.HdeFixtureTest;
import io.dwcp.hde.HdeSessionCodecs;
import io.dwcp.hde.HdeStats;
import io.dwcp.metrics.ScrapedMetrics;
import io.dwcp.migration.stream.MigrationStreamTokenizer;
import io.dwcp.migration.stream.Token;
import io.dwcp.migration.stream.TokenType;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * HDE through two real daemons (TLS on loopback, fake QEMU endpoints replaying the golden
 * captures): byte-exact delivery of every capture (multifd ones over several connections of one
 * session) with fewer tunnel bytes than passthrough; corrupt frames fail the session without
 * releasing unverified bytes; baselines make a second migration cheaper, also back to the first
 * host (A to B to A); codec settings that differ are followed or refused.
 */
class HdeTunnelTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    // these tests compare the tunnel bytes of migrations: no head-of-line re-sends, which a loaded
    // machine triggers on loopback and which count the same frames twice (FrameSenderTest tests them)
    private static final Map<String, String> COMMON = Map.of(
            "amst.head-resend", "0s",
            "amst.adapt-interval", "0s",
            "amst.initial-streams", "2",
            "amst.checkpoint-interval", "1MiB",
            "hde.tier", "3",
            "hde.baseline-record", "none");

    @Test
    void everyCaptureIsByteExactAndCheaperThanPassthrough() throws Exception {
        Map<String, long[]> bytes = new LinkedHashMap<>();
        for (String mode : List.of("passthrough", "hde")) {
            try (TestBed bed = new TestBed(with(COMMON, "codec.mode", mode))) {
                for (Path fixture : fixtures()) {
                    List<byte[]> channels = channels(fixture);
                    long before = bed.alpha.tunnelStats().tunnelBytesSent.sum();
                    migrate(bed, "alpha", "beta", channels);
                    awaitIdle(bed, Duration.ofSeconds(30));
                    long sent = bed.alpha.tunnelStats().tunnelBytesSent.sum() - before;
                    long raw = channels.stream().mapToLong(c -> c.length).sum();
                    bytes.computeIfAbsent(fixture.getFileName().toString(), k -> new long[] {raw, 0, 0})[
                            mode.equals("hde") ? 2 : 1] = sent;
                }
                assertEquals(
                        0,
                        bed.alpha.tunnelStats().sessionsFailed.sum(),
                        bed.alpha.sessions().lastFailure());
                assertEquals(
                        0,
                        bed.beta.tunnelStats().sessionsFailed.sum(),
                        bed.beta.sessions().lastFailure());
                // every capture's switch-over seen by HDE's tokenizer (the pass-through encoder parses nothing)
                assertEquals(
                        mode.equals("hde") ? (double) fixtures().size() : 0.0,
                        ScrapedMetrics.parse(bed.alpha.metrics().render()).require("dwcp_switchover_seconds_count"),
                        mode);
                if (mode.equals("hde")) {
                    ScrapedMetrics metrics =
                            ScrapedMetrics.parse(bed.alpha.metrics().render());
                    assertTrue(
                            metrics.value("dwcp_hde_pages_total", "level", "zero")
                                    .isPresent(),
                            metrics.toString());
                    assertTrue(metrics.require("dwcp_hde_pages_total", "level", "page") > 0, metrics.toString());
                    double ratio = metrics.require("dwcp_hde_ratio");
                    assertTrue(ratio > 0 && ratio < 1, metrics.toString());
                }
            }
        }
        for (Map.Entry<String, long[]> entry : bytes.entrySet()) {
            long[] b = entry.getValue();
            System.out.printf(
                    "%-24s QEMU %9d  passthrough %9d  hde %9d tunnel bytes (%.1f%% of QEMU's)%n",
                    entry.getKey(), b[0], b[1], b[2], 100.0 * b[2] / b[0]);
            assertTrue(b[2] < b[1], entry.getKey() + ": hde " + b[2] + " tunnel bytes, passthrough " + b[1]);
        }
    }

    @Test
    void aCorruptFrameFailsTheSessionWithoutReleasingUnverifiedBytes() throws Exception {
        byte[] stream = channels(fixture("qemu-7.2-precopy")).get(0);
        Path baselines = Files.createTempDirectory("dwcp-baselines");
        HdeConfig config =
                new HdeConfig().setTier(3).setBaselineDirectory(baselines).setBaselineRecord("none");
        BaselineStore store = new BaselineStore(config);
        try (BaselineJobs jobs = new BaselineJobs(config, store)) {
            // the 4th frame of the source's HDE stream has a byte flipped after its CRC was computed
            HdeSessionCodecs hde =
                    new HdeSessionCodecs(config, new HdeStats(), store, jobs, new CacheBudget(1L << 30), Runnable::run);
            Module corrupting = binder -> binder.bind(CodecSelection.class)
                    .toInstance(new CodecSelection(
                            CodecMode.HDE,
                            Map.of(
                                    CodecMode.PASSTHROUGH,
                                    new PassthroughSessionCodecs(new IdentityStreamCodec()),
                                    CodecMode.HDE,
                                    new CorruptingSessionCodecs(hde, 3, false))));
            assertSessionFails(stream, corrupting, "HDE decoding of QEMU connection 0 failed: ");
            // a frame whose CRC was recomputed: HDE decodes a wrong page; the end-to-end digest catches it
            config.setTier(1);
            Module wrongPage = binder -> binder.bind(CodecSelection.class)
                    .toInstance(new CodecSelection(
                            CodecMode.HDE,
                            Map.of(
                                    CodecMode.PASSTHROUGH,
                                    new PassthroughSessionCodecs(new IdentityStreamCodec()),
                                    CodecMode.HDE,
                                    new CorruptingSessionCodecs(hde, 3, true))));
            assertSessionFails(stream, wrongPage, "end-to-end digest mismatch on channel 0");
        } finally {
            TestBed.deleteRecursively(baselines);
        }
    }

    private static void assertSessionFails(byte[] stream, Module alphaOverride, String reason) throws Exception {
        ExecutorService executor = Executors.newCachedThreadPool();
        try (TestBed bed = new TestBed(COMMON, Map.of(), alphaOverride);
                var destination = bed.listenAsDestinationQemu()) {
            Future<byte[]> received = executor.submit(() -> {
                try (var channel = destination.accept()) {
                    return readAll(channel);
                }
            });
            try (var source = bed.connectAsSourceQemu()) {
                source.write(ByteBuffer.wrap(stream));
                // like a source QEMU that keeps running: the tunnel closes the connection, the migration failed
                source.shutdownOutput();
                assertClosed(source);
            }
            byte[] delivered = received.get(60, TimeUnit.SECONDS);
            assertTrue(
                    delivered.length < stream.length,
                    "the destination QEMU must not get the whole stream: " + delivered.length);
            assertArrayEquals(
                    Arrays.copyOf(stream, delivered.length),
                    delivered,
                    "what reached the destination QEMU is a verified prefix");
            TestBed.await(
                    "both sessions to fail",
                    Duration.ofSeconds(30),
                    () -> bed.alpha.tunnelStats().sessionsFailed.sum() == 1
                            && bed.beta.tunnelStats().sessionsFailed.sum() == 1);
            String failure = bed.beta.sessions().lastFailure();
            assertNotNull(failure);
            assertTrue(failure.contains(reason), failure);
            assertTrue(
                    bed.alpha.sessions().lastFailure().contains("peer aborted the session: "),
                    bed.alpha.sessions().lastFailure());
            assertEquals(0, bed.beta.tunnelStats().sessionsCompleted.sum());
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void baselinesMakeTheNextMigrationCheaperAlsoBackToTheFirstHost() throws Exception {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        byte[] first = channels(fixture("qemu-7.2-precopy")).get(0);
        // the VM ran on: 10 % of its non-zero pages changed
        byte[] second = dirtyPages(first, 0.10, new Random(seed));
        Map<String, String> properties = with(with(COMMON, "hde.baseline-record", "both"), "codec.mode", "hde");
        try (TestBed bed = new TestBed(properties, Map.of(), Map.of(), true)) {
            long toBeta = sent(bed, bed.alpha, () -> migrate(bed, "alpha", "beta", List.of(first)));
            // both ends stored the memory: alpha what it sent, beta what it verified
            awaitBaselines(bed, "alpha");
            awaitBaselines(bed, "beta");
            long backToAlpha = sent(bed, bed.beta, () -> migrate(bed, "beta", "alpha", List.of(second)));
            long againToBeta = sent(bed, bed.alpha, () -> migrate(bed, "alpha", "beta", List.of(second)));
            System.out.printf(
                    "A->B %d tunnel bytes, then B->A %d (%.1f%%), A->B %d (%.1f%%)%n",
                    toBeta, backToAlpha, 100.0 * backToAlpha / toBeta, againToBeta, 100.0 * againToBeta / toBeta);
            assertTrue(
                    backToAlpha < toBeta * 0.7,
                    "B->A against alpha's baseline: " + backToAlpha + " tunnel bytes, A->B without: " + toBeta);
            assertTrue(
                    againToBeta < toBeta * 0.7,
                    "A->B against beta's baseline: " + againToBeta + " tunnel bytes, the first A->B: " + toBeta);
            ScrapedMetrics metrics = ScrapedMetrics.parse(bed.beta.metrics().render());
            assertTrue(metrics.require("dwcp_hde_pages_total", "level", "reference") > 0, metrics.toString());
            assertEquals(
                    0,
                    bed.alpha.tunnelStats().sessionsFailed.sum(),
                    bed.alpha.sessions().lastFailure());
            assertEquals(
                    0,
                    bed.beta.tunnelStats().sessionsFailed.sum(),
                    bed.beta.sessions().lastFailure());
        }
    }

    /**
     * Two announced migrations at once, their VMs announced at the destination by the hook in the
     * other order: each destination session's baseline is labelled with its own VM (the one its
     * OPEN names), not with the oldest announcement.
     */
    @Test
    void concurrentMigrationsEachLabelTheirBaselineWithTheirOwnVm() throws Exception {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        byte[] vmA = channels(fixture("qemu-7.2-precopy")).get(0);
        byte[] vmB = dirtyPages(vmA, 0.10, new Random(seed));
        String uuidA = "aaaaaaaa-0000-4000-8000-00000000000a";
        String uuidB = "bbbbbbbb-0000-4000-8000-00000000000b";
        Map<String, String> properties = with(with(COMMON, "hde.baseline-record", "destination"), "codec.mode", "hde");
        ExecutorService executor = Executors.newCachedThreadPool();
        try (TestBed bed = new TestBed(properties);
                ControlClient alpha = new ControlClient(bed.alpha.control().socket(), Duration.ofSeconds(10));
                ControlClient beta = new ControlClient(bed.beta.control().socket(), Duration.ofSeconds(10))) {
            // the hook at beta: vm-b first, so it is the oldest announcement
            for (Map.Entry<String, String> vm : List.of(Map.entry("vm-b", uuidB), Map.entry("vm-a", uuidA))) {
                ControlClient.Reply reply = beta.postForm(
                        "/v1/incoming-migrations",
                        Map.of("protocol", "1", "domain", vm.getKey(), "uuid", vm.getValue()));
                assertEquals(204, reply.status(), reply.body());
            }
            // dwcp migrate at alpha: vm-a, then vm-b
            String idA = announce(alpha, "vm-a");
            String idB = announce(alpha, "vm-b");
            try (ServerSocketChannel destinationA = bindDestination(bed, idA);
                    ServerSocketChannel destinationB = bindDestination(bed, idB)) {
                java.util.concurrent.CountDownLatch aConnected = new java.util.concurrent.CountDownLatch(1);
                Future<byte[]> receivedA = executor.submit(() -> {
                    try (var channel = destinationA.accept()) {
                        aConnected.countDown();
                        return readAll(channel);
                    }
                });
                Future<byte[]> receivedB = executor.submit(() -> {
                    try (var channel = destinationB.accept()) {
                        return readAll(channel);
                    }
                });
                // vm-a's session opens at beta first (it connected to vm-a's destination), then vm-b's runs, then
                // vm-a's ends
                try (var sourceA = java.nio.channels.SocketChannel.open(java.net.UnixDomainSocketAddress.of(
                        bed.directory.resolve("alpha-run/peer/beta/" + idA + ".sock")))) {
                    ByteBuffer first = ByteBuffer.wrap(vmA, 0, vmA.length / 2);
                    while (first.hasRemaining()) {
                        sourceA.write(first);
                    }
                    assertTrue(aConnected.await(60, TimeUnit.SECONDS), "vm-a's destination was never connected");
                    try (var sourceB = java.nio.channels.SocketChannel.open(java.net.UnixDomainSocketAddress.of(
                            bed.directory.resolve("alpha-run/peer/beta/" + idB + ".sock")))) {
                        writeAndAwaitClose(sourceB, ByteBuffer.wrap(vmB));
                    }
                    writeAndAwaitClose(sourceA, ByteBuffer.wrap(vmA, vmA.length / 2, vmA.length - vmA.length / 2));
                }
                assertArrayEquals(vmA, receivedA.get(120, TimeUnit.SECONDS), "vm-a at its destination");
                assertArrayEquals(vmB, receivedB.get(120, TimeUnit.SECONDS), "vm-b at its destination");
            }
            String sessionA = awaitSession(alpha, idA);
            String sessionB = awaitSession(alpha, idB);
            Map<String, JsonNode> bySession = awaitDestinationBaselines(beta, 2);
            assertVm(bySession.get(sessionA), "vm-a", uuidA, bySession);
            assertVm(bySession.get(sessionB), "vm-b", uuidB, bySession);
        } finally {
            executor.shutdownNow();
        }
    }

    private static String announce(ControlClient control, String domain) throws Exception {
        ControlClient.Reply reply =
                control.postForm("/v1/migrations", Map.of("protocol", "1", "domain", domain, "peer", "beta"));
        assertEquals(201, reply.status(), reply.body());
        return JSON.readTree(reply.body()).get("id").asText();
    }

    /** The destination QEMU of an announced migration: it listens where beta connects for that migration. */
    private static ServerSocketChannel bindDestination(TestBed bed, String id) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX);
        server.bind(java.net.UnixDomainSocketAddress.of(bed.directory.resolve("beta-run/peer/beta/" + id + ".sock")));
        return server;
    }

    /** Writes the rest of the stream, ends it, and waits until dwcpd closes the connection (the migration completed). */
    private static void writeAndAwaitClose(java.nio.channels.SocketChannel source, ByteBuffer bytes)
            throws IOException {
        while (bytes.hasRemaining()) {
            source.write(bytes);
        }
        source.shutdownOutput();
        assertClosed(source);
    }

    private static String awaitSession(ControlClient control, String id) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        JsonNode migration = null;
        while (System.nanoTime() < deadline) {
            migration = JSON.readTree(control.get("/v1/migrations/" + id).body());
            if (migration.get("state").asText().equals("completed")) {
                return migration.get("session").get("id").asText();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("migration " + id + " did not complete: " + migration);
    }

    /** The first baseline recording of {@code daemon} once it ended (committed, failed or none), as {@code /v1/baselines} lists it. */
    private static JsonNode awaitEndedRecording(io.dwcp.daemon.DwcpDaemon daemon) throws Exception {
        try (ControlClient control = new ControlClient(daemon.control().socket(), Duration.ofSeconds(10))) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            JsonNode answer = null;
            while (System.nanoTime() < deadline) {
                answer = JSON.readTree(control.get("/v1/baselines").body());
                for (JsonNode commit : answer.get("commits")) {
                    String state = commit.get("state").asText();
                    if (!state.equals("recording") && !state.equals("committing")) {
                        return commit;
                    }
                }
                Thread.sleep(50);
            }
            throw new AssertionError("no recording ended: " + answer);
        }
    }

    /** Beta's committed baselines by the session that left them (each with its VM), once {@code count} are committed. */
    private static Map<String, JsonNode> awaitDestinationBaselines(ControlClient control, int count) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        JsonNode answer = null;
        while (System.nanoTime() < deadline) {
            answer = JSON.readTree(control.get("/v1/baselines").body());
            Map<String, JsonNode> bySession = new LinkedHashMap<>();
            for (JsonNode commit : answer.get("commits")) {
                if (commit.get("state").asText().equals("committed")) {
                    for (JsonNode baseline : answer.get("baselines")) {
                        if (baseline.get("id")
                                .asText()
                                .equals(commit.get("baseline").asText())) {
                            bySession.put(commit.get("session").asText(), baseline);
                        }
                    }
                }
            }
            if (bySession.size() >= count) {
                return bySession;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("beta did not commit " + count + " baselines: " + answer);
    }

    private static void assertVm(JsonNode baseline, String domain, String uuid, Map<String, JsonNode> all) {
        assertNotNull(baseline, "no baseline of the session that carried " + domain + ": " + all);
        assertEquals(domain, baseline.get("domain").asText(), "the VM of " + baseline);
        assertEquals(uuid, baseline.get("uuid").asText(), "the VM of " + baseline);
    }

    @Test
    void aDestinationFollowsTheSourcesCodec() throws Exception {
        List<byte[]> channels = channels(fixture("qemu-7.2-multifd"));
        // beta is configured for passthrough, alpha for hde: the session is hde at both ends
        try (TestBed bed =
                new TestBed(COMMON, Map.of("codec.mode", "hde"), Map.of("codec.mode", "passthrough"), false)) {
            long sent = sent(bed, bed.alpha, () -> migrate(bed, "alpha", "beta", channels));
            long raw = channels.stream().mapToLong(c -> c.length).sum();
            assertTrue(sent < raw / 4, "HDE-encoded: " + sent + " tunnel bytes for " + raw + " QEMU bytes");
            assertEquals(1, bed.beta.tunnelStats().sessionsCompleted.sum());
        }
        // and the other way round: a passthrough source, an hde destination
        try (TestBed bed =
                new TestBed(COMMON, Map.of("codec.mode", "passthrough"), Map.of("codec.mode", "hde"), false)) {
            long sent = sent(bed, bed.alpha, () -> migrate(bed, "alpha", "beta", channels));
            long raw = channels.stream().mapToLong(c -> c.length).sum();
            assertTrue(sent > raw, "passed through: " + sent + " tunnel bytes for " + raw + " QEMU bytes");
        }
    }

    @Test
    void aDestinationWithoutCacheBudgetStillTakesTheMigrationWithoutCaches() throws Exception {
        List<byte[]> channels = channels(fixture("qemu-7.2-precopy"));
        Map<String, double[]> seen = new LinkedHashMap<>();
        for (String budget : List.of("auto", "0")) {
            try (TestBed bed = new TestBed(COMMON, Map.of(), Map.of("hde.cache-budget", budget), false)) {
                // migrate() checks that the destination received exactly what the source sent
                sent(bed, bed.alpha, () -> migrate(bed, "alpha", "beta", channels));
                // each end gives the session's caches back when its codec closes, on the session's
                // lane after the session ended: fails here if either end never does
                TestBed.await(
                        "the cache reservations given back",
                        Duration.ofSeconds(30),
                        () -> reserved(bed.alpha) == 0 && reserved(bed.beta) == 0);
                io.dwcp.metrics.ScrapedMetrics source =
                        io.dwcp.metrics.ScrapedMetrics.parse(bed.alpha.metrics().render());
                io.dwcp.metrics.ScrapedMetrics destination =
                        io.dwcp.metrics.ScrapedMetrics.parse(bed.beta.metrics().render());
                seen.put(budget, new double[] {
                    destination.require("dwcp_hde_cache_budget_bytes"),
                    // pages sent against what the caches held
                    source.require("dwcp_hde_pages_total", "level", "delta")
                            + source.require("dwcp_hde_pages_total", "level", "reference")
                });
            }
        }
        String figures = seen.entrySet().stream()
                .map(entry -> entry.getKey() + "=" + java.util.Arrays.toString(entry.getValue()))
                .toList()
                .toString();
        System.out.println("the destination's budget, deltas and references: " + figures);
        assertTrue(seen.get("auto")[0] > 0, figures);
        assertEquals(0, seen.get("0")[0], figures);
        // without caches at the destination the session settles on none at both ends: no delta and
        // no reference within the migration, and it still completes
        assertTrue(seen.get("auto")[1] > 0, "deltas and references with caches: " + figures);
        assertEquals(0, seen.get("0")[1], "deltas and references without caches: " + figures);
    }

    @Test
    void theAutomaticTierFollowsTheMeasuredRtt() throws Exception {
        List<byte[]> channels = channels(fixture("qemu-7.2-precopy"));
        // loopback: an RTT far below hde.tier1-max-rtt, so tier 1 (raw frames); the threshold is
        // high because the first RTT sample follows the TLS handshake on a loaded machine (2.3 ms seen)
        Map<String, String> tier1 = with(
                with(with(with(COMMON, "hde.tier", "auto"), "hde.tier1-max-rtt", "50ms"), "hde.tier2-max-rtt", "100ms"),
                "hde.baseline-record",
                "both");
        try (TestBed bed = new TestBed(tier1)) {
            sent(bed, bed.alpha, () -> migrate(bed, "alpha", "beta", channels));
            ScrapedMetrics metrics = ScrapedMetrics.parse(bed.alpha.metrics().render());
            assertTrue(metrics.require("dwcp_hde_frames_total", "zstd_level", "none") > 0, metrics.toString());
            assertTrue(metrics.value("dwcp_hde_frames_total", "zstd_level", "3").isEmpty(), metrics.toString());
            // hde.tier1-pages raw (the default): every page passes as QEMU wrote it, none is encoded
            // and neither end keeps a baseline
            for (String level : List.of("zero", "reference", "delta", "page")) {
                assertEquals(
                        0.0,
                        metrics.value("dwcp_hde_pages_total", "level", level).orElse(0.0),
                        level + " pages at tier 1: " + metrics);
            }
            assertTrue(
                    metrics.require("dwcp_hde_raw_bytes_in_total")
                            >= channels.stream().mapToLong(c -> c.length).sum(),
                    metrics.toString());
            JsonNode atAlpha = awaitEndedRecording(bed.alpha);
            assertEquals("none", atAlpha.get("state").asText(), "alpha: " + atAlpha);
            assertTrue(atAlpha.get("reason").asText().contains("hde.tier1-pages raw"), "alpha: " + atAlpha);
            JsonNode atBeta = awaitEndedRecording(bed.beta);
            assertEquals("none", atBeta.get("state").asText(), "beta: " + atBeta);
            assertEquals("no page was recorded", atBeta.get("reason").asText(), "beta: " + atBeta);
        }
        // hde.tier1-pages encoded: the pages go through HDE at tier 1 too (raw frames)
        try (TestBed bed = new TestBed(with(tier1, "hde.tier1-pages", "encoded"))) {
            sent(bed, bed.alpha, () -> migrate(bed, "alpha", "beta", channels));
            ScrapedMetrics metrics = ScrapedMetrics.parse(bed.alpha.metrics().render());
            assertTrue(metrics.require("dwcp_hde_frames_total", "zstd_level", "none") > 0, metrics.toString());
            assertTrue(metrics.require("dwcp_hde_pages_total", "level", "page") > 0, metrics.toString());
            awaitBaselines(bed, "alpha");
            awaitBaselines(bed, "beta");
        }
        // every RTT above the thresholds: tier 3, zstd from hde.tier3-initial-level
        try (TestBed bed = new TestBed(
                with(with(with(COMMON, "hde.tier", "auto"), "hde.tier1-max-rtt", "0s"), "hde.tier2-max-rtt", "0s"))) {
            sent(bed, bed.alpha, () -> migrate(bed, "alpha", "beta", channels));
            ScrapedMetrics metrics = ScrapedMetrics.parse(bed.alpha.metrics().render());
            assertTrue(metrics.require("dwcp_hde_frames_total", "zstd_level", "3") > 0, metrics.toString());
            assertTrue(
                    metrics.value("dwcp_hde_frames_total", "zstd_level", "none").isEmpty(), metrics.toString());
        }
    }

    @Test
    void aDestinationRefusesCachesLargerThanItsOwn() throws Exception {
        assertRefusedAtOpen(
                Map.of("hde.hash-cache-size", "256MiB"),
                Map.of("hde.hash-cache-size", "64MiB"),
                "refused the source's codec: the source's HDE hash cache (65536 pages) is larger than this host's hde.hash-cache-size (16384 pages): configure both hosts alike");
    }

    @Test
    void aDestinationRefusesAZstdWindowLargerThanItsOwn() throws Exception {
        assertRefusedAtOpen(
                Map.of("hde.zstd-window", "64MiB"),
                Map.of("hde.zstd-window", "16MiB"),
                "refused the source's codec: the source's HDE zstd window (67108864 bytes) is larger than this host's hde.zstd-window (16777216 bytes): configure both hosts alike");
    }

    /**
     * A source configured with {@code alpha} opening a session to a destination configured with
     * {@code beta}: both sessions fail with {@code expected} (the source's as the peer's abort), and
     * the destination QEMU is never connected.
     */
    private static void assertRefusedAtOpen(Map<String, String> alpha, Map<String, String> beta, String expected)
            throws Exception {
        byte[] stream = channels(fixture("qemu-7.2-precopy")).get(0);
        try (TestBed bed = new TestBed(COMMON, alpha, beta, false);
                var destination = bed.listenAsDestinationQemu()) {
            try (var source = bed.connectAsSourceQemu()) {
                source.write(ByteBuffer.wrap(stream, 0, 4096));
                assertClosed(source);
            }
            TestBed.await(
                    "both sessions to fail",
                    Duration.ofSeconds(30),
                    () -> bed.alpha.tunnelStats().sessionsFailed.sum() == 1
                            && bed.beta.tunnelStats().sessionsFailed.sum() == 1);
            assertTrue(
                    bed.beta.sessions().lastFailure().endsWith(expected),
                    bed.beta.sessions().lastFailure());
            assertTrue(
                    bed.alpha.sessions().lastFailure().endsWith("peer aborted the session: " + expected),
                    bed.alpha.sessions().lastFailure());
            destination.configureBlocking(false);
            assertEquals(null, destination.accept(), "the destination QEMU was never connected");
        }
    }

    // ---- helpers ----

    /** One migration: connection 0 first, then the others; each destination connection must get its stream exactly. */
    private static void migrate(TestBed bed, String from, String to, List<byte[]> channels) throws Exception {
        ExecutorService executor = Executors.newCachedThreadPool();
        try (var destination = bed.listenAsDestinationQemu(to)) {
            Future<List<byte[]>> received = executor.submit(() -> {
                List<Future<byte[]>> readers = new ArrayList<>();
                for (int i = 0; i < channels.size(); i++) {
                    var channel = destination.accept();
                    readers.add(executor.submit(() -> {
                        try (channel) {
                            return readAll(channel);
                        }
                    }));
                }
                List<byte[]> result = new ArrayList<>();
                for (Future<byte[]> reader : readers) {
                    result.add(reader.get(120, TimeUnit.SECONDS));
                }
                return result;
            });
            List<java.nio.channels.SocketChannel> sources = new ArrayList<>();
            for (int i = 0; i < channels.size(); i++) {
                sources.add(bed.connectAsSourceQemu(from, to));
            }
            // like QEMU: the multifd connections end before the main channel's last section
            List<Future<?>> writers = new ArrayList<>();
            java.util.concurrent.CountDownLatch multifdDone =
                    new java.util.concurrent.CountDownLatch(channels.size() - 1);
            for (int i = 0; i < channels.size(); i++) {
                var source = sources.get(i);
                byte[] bytes = channels.get(i);
                boolean main = i == 0;
                writers.add(executor.submit(() -> {
                    try (source) {
                        ByteBuffer buffer = ByteBuffer.wrap(bytes);
                        if (main) {
                            buffer.limit(bytes.length / 2);
                            while (buffer.hasRemaining()) {
                                source.write(buffer);
                            }
                            multifdDone.await();
                            buffer.limit(bytes.length);
                        }
                        while (buffer.hasRemaining()) {
                            source.write(buffer);
                        }
                        if (!main) {
                            multifdDone.countDown();
                        }
                        source.shutdownOutput();
                        source.read(ByteBuffer.allocate(1));
                    }
                    return null;
                }));
            }
            List<byte[]> result = received.get(120, TimeUnit.SECONDS);
            for (Future<?> writer : writers) {
                writer.get(120, TimeUnit.SECONDS);
            }
            for (int i = 0; i < channels.size(); i++) {
                assertEquals(channels.get(i).length, result.get(i).length, "connection " + i + " length");
                assertArrayEquals(channels.get(i), result.get(i), "connection " + i);
            }
        } finally {
            executor.shutdownNow();
        }
    }

    private interface Migration {
        void run() throws Exception;
    }

    /** Tunnel bytes the daemon sent for one migration (once its sessions ended). */
    private static long sent(TestBed bed, io.dwcp.daemon.DwcpDaemon daemon, Migration migration) throws Exception {
        awaitIdle(bed, Duration.ofSeconds(30));
        long completed = daemon.tunnelStats().sessionsCompleted.sum();
        long before = daemon.tunnelStats().tunnelBytesSent.sum();
        migration.run();
        awaitIdle(bed, Duration.ofSeconds(30));
        assertEquals(completed + 1, daemon.tunnelStats().sessionsCompleted.sum(), "sessions completed");
        return daemon.tunnelStats().tunnelBytesSent.sum() - before;
    }

    /** What the daemon's sessions hold of its HDE cache budget now, as its /metrics says. */
    private static double reserved(io.dwcp.daemon.DwcpDaemon daemon) {
        return io.dwcp.metrics.ScrapedMetrics.parse(daemon.metrics().render()).require("dwcp_hde_cache_reserved_bytes");
    }

    private static void awaitIdle(TestBed bed, Duration timeout) throws InterruptedException {
        TestBed.await(
                "sessions to end",
                timeout,
                () -> bed.alpha.sessions().sessions().isEmpty()
                        && bed.beta.sessions().sessions().isEmpty());
    }

    private static void awaitBaselines(TestBed bed, String host) throws InterruptedException {
        Path directory = bed.directory.resolve(host + "-state/baselines");
        TestBed.await("a baseline on " + host, Duration.ofSeconds(30), () -> {
            try (Stream<Path> files = Files.list(directory)) {
                return files.anyMatch(file -> file.getFileName().toString().endsWith(".baseline"));
            } catch (IOException e) {
                return false;
            }
        });
    }

    /** dwcpd closed the source QEMU's connection (a close or a reset: QEMU sees its migration fail). */
    private static void assertClosed(java.nio.channels.SocketChannel source) {
        try {
            assertEquals(-1, source.read(ByteBuffer.allocate(1)), "the source connection is closed by dwcpd");
        } catch (IOException e) {
            assertTrue(e.getMessage().contains("reset"), e.toString());
        }
    }

    private static byte[] readAll(java.nio.channels.SocketChannel channel) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer buffer = ByteBuffer.allocate(256 * 1024);
        while (channel.read(buffer) >= 0) {
            out.write(buffer.array(), 0, buffer.position());
            buffer.clear();
        }
        out.write(buffer.array(), 0, buffer.position());
        return out.toByteArray();
    }

    /** The stream with a share of its non-zero RAM pages changed (their first 64 bytes); everything else as it was. */
    private static byte[] dirtyPages(byte[] stream, double share, Random random) {
        byte[] copy = stream.clone();
        MigrationStreamTokenizer tokenizer = new MigrationStreamTokenizer();
        tokenizer.feed(stream, 0, stream.length);
        tokenizer.endOfInput();
        int changed = 0;
        for (Token token = tokenizer.next(); token != null; token = tokenizer.next()) {
            if (token.type() == TokenType.RAM_PAGE && token.contentLength() == 4096 && random.nextDouble() < share) {
                byte[] noise = new byte[64];
                random.nextBytes(noise);
                System.arraycopy(noise, 0, copy, (int) token.streamOffset() + token.headerLength(), noise.length);
                changed++;
            }
        }
        assertTrue(changed > 0, "no page changed");
        return copy;
    }

    private static Map<String, String> with(Map<String, String> base, String key, String value) {
        Map<String, String> result = new LinkedHashMap<>(base);
        result.put(key, value);
        return result;
    }

    static List<Path> fixtures() throws IOException {
        try (Stream<Path> dirs = Files.list(HdeFixtureTest.fixturesRoot())) {
            List<Path> all = dirs.filter(Files::isDirectory).sorted().toList();
            assertEquals(8, all.size(), "golden captures");
            return all;
        }
    }

    static Path fixture(String name) {
        return HdeFixtureTest.fixturesRoot().resolve(name);
    }

    static List<byte[]> channels(Path fixture) {
        return HdeFixtureTest.channels(fixture);
    }

    /**
     * HDE with the {@code frameNumber}-th frame of every source stream damaged: a payload byte
     * flipped (the frame's CRC no longer matches), or, with {@code fixCrc}, a byte of the last
     * page changed and the CRC recomputed (an uncompressed tier 1 frame decodes to a wrong page).
     */
    private static final class CorruptingSessionCodecs implements SessionCodecs {
        private final SessionCodecs hde;
        private final int frameNumber;
        private final boolean fixCrc;

        CorruptingSessionCodecs(SessionCodecs hde, int frameNumber, boolean fixCrc) {
            this.hde = hde;
            this.frameNumber = frameNumber;
            this.fixCrc = fixCrc;
        }

        @Override
        public SourceCodec newSource(long sessionId, String context) {
            SourceCodec source = hde.newSource(sessionId, context);
            return new SourceCodec() {
                @Override
                public CodecMode mode() {
                    return source.mode();
                }

                @Override
                public byte[] offer() {
                    return source.offer();
                }

                @Override
                public boolean awaitsAnswer() {
                    return source.awaitsAnswer();
                }

                @Override
                public void answer(byte[] answer) {
                    source.answer(answer);
                }

                @Override
                public StreamEncoder newEncoder(int channel) {
                    StreamEncoder encoder = source.newEncoder(channel);
                    int[] frames = {0};
                    return new StreamEncoder() {
                        @Override
                        public void encode(ByteBuf raw, Consumer<ByteBuf> out) {
                            encoder.encode(raw, frame -> out.accept(damage(frame, frames)));
                        }

                        @Override
                        public void flush(Consumer<ByteBuf> out) {
                            encoder.flush(frame -> out.accept(damage(frame, frames)));
                        }
                    };
                }

                @Override
                public StreamDecoder newDecoder(int channel) {
                    return source.newDecoder(channel);
                }

                @Override
                public void linkMeasured(LinkMeasurement link) {
                    source.linkMeasured(link);
                }

                @Override
                public void close() {
                    source.close();
                }
            };
        }

        private ByteBuf damage(ByteBuf frame, int[] frames) {
            if (frames[0]++ != frameNumber) {
                return frame;
            }
            byte[] bytes = new byte[frame.readableBytes()];
            frame.readBytes(bytes);
            frame.release();
            bytes[bytes.length - 1] ^= 0x5a;
            if (fixCrc) {
                java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
                crc.update(bytes, 0, 24);
                crc.update(bytes, 28, bytes.length - 28);
                ByteBuffer.wrap(bytes).putInt(24, (int) crc.getValue());
            }
            return Unpooled.wrappedBuffer(bytes);
        }

        @Override
        public DestinationCodec newDestination(long sessionId, String context, byte[] offer) {
            return hde.newDestination(sessionId, context, offer);
        }
    }
}
