package io.dwcp.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.amst.FrameCodec;
import io.dwcp.amst.FrameSender;
import io.dwcp.amst.FrameType;
import io.dwcp.amst.TunnelStream;
import io.dwcp.metrics.LatencyHistograms;
import io.dwcp.metrics.MetricsConfig;
import io.dwcp.metrics.MetricsServer;
import io.dwcp.metrics.ScrapedMetrics;
import io.dwcp.session.TunnelMetrics.SessionFigures;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The tunnel's figures as a scraper reads them: a known state of {@link TunnelStats} and of two
 * open sessions (streams on embedded channels: no TCP_INFO, congestion control unknown), rendered
 * through the daemon's registry and read back from the text.
 */
class TunnelMetricsTest {
    private static final String SOURCE_SESSION = "00000000000000ab";
    private static final String DESTINATION_SESSION = "00000000000000cd";

    private final TunnelStats stats = new TunnelStats();
    private final List<SessionFigures> open = new ArrayList<>();
    private final List<EmbeddedChannel> channels = new ArrayList<>();

    @AfterEach
    void releaseChannels() {
        channels.forEach(EmbeddedChannel::finishAndReleaseAll);
    }

    private ScrapedMetrics scrape() {
        TunnelMetrics metrics = new TunnelMetrics(stats, () -> List.copyOf(open));
        return ScrapedMetrics.parse(new MetricsServer(new MetricsConfig(), Set.of(metrics)).render());
    }

    private TunnelStream stream(int index) {
        EmbeddedChannel channel = new EmbeddedChannel();
        channels.add(channel);
        return new TunnelStream(index, channel);
    }

    @Test
    void daemonCountersKeepTheirNamesAndValues() {
        stats.qemuBytesRead.add(12_345_678_901L);
        stats.qemuBytesWritten.add(4096);
        stats.tunnelBytesSent.add(5000);
        stats.tunnelBytesReceived.add(6000);
        stats.framesSent.add(7);
        stats.framesResent.add(2);
        stats.resendsWithheld.add(1);
        stats.tailCopies.add(11);
        stats.framesDuplicate.add(3);
        stats.acksSent.add(9);
        stats.sessionsStarted.add(4);
        stats.sessionsCompleted.add(3);
        stats.sessionsFailed.add(1);
        stats.streamsOpened.add(16);
        stats.streamsFailed.add(5);
        stats.digestMismatches.add(0);
        stats.refused("too-many-pending");
        stats.refused("too-many-pending");
        stats.refused("wrong-peer");

        ScrapedMetrics scrape = scrape();
        assertEquals(12_345_678_901.0, scrape.require("dwcp_qemu_bytes_read_total"));
        assertEquals(4096, scrape.require("dwcp_qemu_bytes_written_total"));
        assertEquals(5000, scrape.require("dwcp_tunnel_bytes_sent_total"));
        assertEquals(6000, scrape.require("dwcp_tunnel_bytes_received_total"));
        assertEquals(7, scrape.require("dwcp_frames_sent_total"));
        assertEquals(2, scrape.require("dwcp_frames_resent_total"));
        assertEquals(1, scrape.require("dwcp_frame_resends_withheld_total"));
        assertEquals(11, scrape.require("dwcp_frames_tail_copied_total"));
        assertEquals(3, scrape.require("dwcp_frames_duplicate_total"));
        assertEquals(9, scrape.require("dwcp_acks_sent_total"));
        assertEquals(4, scrape.require("dwcp_sessions_started_total"));
        assertEquals(3, scrape.require("dwcp_sessions_completed_total"));
        assertEquals(1, scrape.require("dwcp_sessions_failed_total"));
        assertEquals(16, scrape.require("dwcp_streams_opened_total"));
        assertEquals(5, scrape.require("dwcp_streams_failed_total"));
        assertEquals(0, scrape.require("dwcp_digest_mismatches_total"));
        assertEquals(2, scrape.require("dwcp_connections_refused_total", "reason", "too-many-pending"));
        assertEquals(1, scrape.require("dwcp_connections_refused_total", "reason", "wrong-peer"));
        assertEquals(0, scrape.require("dwcp_sessions_active"));
        for (String counter :
                List.of("dwcp_qemu_bytes_read_total", "dwcp_frames_sent_total", "dwcp_connections_refused_total")) {
            assertEquals("counter", scrape.type(counter), counter);
        }
        assertEquals("gauge", scrape.type("dwcp_sessions_active"));
        assertEquals("Tunnel connections refused, by reason", scrape.help("dwcp_connections_refused_total"));
        // no session: no per-session or per-stream sample
        assertEquals(0, scrape.count("dwcp_session_streams"));
        assertEquals(0, scrape.count("dwcp_stream_bytes_sent_total"));
    }

    @Test
    void directMemoryOfThePoolAndOfTheJvmCountsABufferHeld() {
        ByteBuf held = ByteBufAllocator.DEFAULT.directBuffer(1 << 20, 1 << 20);
        try {
            ScrapedMetrics scrape = scrape();
            assertEquals("gauge", scrape.type("dwcp_buffer_pool_direct_bytes"));
            assertTrue(scrape.require("dwcp_buffer_pool_direct_bytes") >= 1 << 20, scrape.toString());
            assertTrue(scrape.require("dwcp_jvm_direct_buffer_bytes") >= 1 << 20, scrape.toString());
        } finally {
            held.release();
        }
    }

    @Test
    void perSessionAndPerStreamFigures() {
        // a source session with two streams: frames sent through a real sender, so the byte counts are the sender's
        TunnelStream first = stream(0);
        TunnelStream second = stream(1);
        FrameSender sender = new FrameSender(1 << 20, stats);
        sender.streamUp(first);
        sender.streamUp(second);
        sender.send(FrameType.DATA, 0, Unpooled.buffer(1000).writeZero(1000)); // on stream 0
        sender.send(FrameType.DATA, 0, Unpooled.buffer(500).writeZero(500)); // on stream 1
        sender.send(FrameType.DATA, 0, Unpooled.buffer(300).writeZero(300)); // on stream 0
        first.recordRtt(25_000_000);
        second.recordRtt(1_500_000);
        open.add(new SessionFigures(0xab, "beta", Session.Role.SOURCE, sender.inFlight(), List.of(first, second)));
        // a destination session with one stream that has sent nothing yet
        open.add(new SessionFigures(0xcd, "gamma", Session.Role.DESTINATION, 0, List.of(stream(0))));

        ScrapedMetrics scrape = scrape();
        assertEquals(2, scrape.require("dwcp_sessions_active"));
        String[] source = {"session", SOURCE_SESSION, "peer", "beta", "role", "source"};
        assertEquals(2, scrape.require("dwcp_session_streams", source));
        assertEquals(
                FrameCodec.frameCost(1000) + FrameCodec.frameCost(500) + FrameCodec.frameCost(300),
                scrape.require("dwcp_session_in_flight_bytes", source));
        assertEquals(
                1,
                scrape.require(
                        "dwcp_session_streams",
                        "session",
                        DESTINATION_SESSION,
                        "peer",
                        "gamma",
                        "role",
                        "destination"));

        String[] stream0 = {"session", SOURCE_SESSION, "peer", "beta", "role", "source", "stream", "0", "cc", "unknown"
        };
        String[] stream1 = {"session", SOURCE_SESSION, "peer", "beta", "role", "source", "stream", "1", "cc", "unknown"
        };
        assertEquals(
                2 * FrameCodec.HEADER_LENGTH + 1000 + 300, scrape.require("dwcp_stream_bytes_sent_total", stream0));
        assertEquals(FrameCodec.HEADER_LENGTH + 500, scrape.require("dwcp_stream_bytes_sent_total", stream1));
        assertEquals(0.025, scrape.require("dwcp_stream_ping_rtt_seconds", stream0));
        assertEquals(0.0015, scrape.require("dwcp_stream_ping_rtt_seconds", stream1));
        assertEquals(0, scrape.require("dwcp_stream_throughput_bytes_per_second", stream0));
        assertEquals(
                0,
                scrape.require(
                        "dwcp_stream_ping_rtt_seconds",
                        "session",
                        DESTINATION_SESSION,
                        "peer",
                        "gamma",
                        "role",
                        "destination",
                        "stream",
                        "0",
                        "cc",
                        "unknown"));
        // TCP_INFO only from an open epoll socket: none here, so no kernel RTT or retransmissions
        assertEquals(0, scrape.count("dwcp_stream_rtt_seconds"));
        assertEquals(0, scrape.count("dwcp_stream_retransmits_total"));
        assertEquals("counter", scrape.type("dwcp_stream_bytes_sent_total"));
        assertEquals("gauge", scrape.type("dwcp_stream_ping_rtt_seconds"));
        assertEquals("gauge", scrape.type("dwcp_session_in_flight_bytes"));

        // the same sender's totals are the daemon's
        assertEquals(3, scrape.require("dwcp_frames_sent_total"));
        assertEquals(3 * FrameCodec.HEADER_LENGTH + 1800, scrape.require("dwcp_tunnel_bytes_sent_total"));
        sender.releaseAll();
    }

    @Test
    void throughputIsTheLastIntervalsRateRounded() {
        TunnelStream stream = stream(0);
        FrameSender sender = new FrameSender(1 << 20, stats);
        sender.streamUp(stream);
        sender.send(FrameType.DATA, 0, Unpooled.buffer(1000).writeZero(1000));
        stream.measureThroughput(3); // (header + 1000) bytes over 3 s
        open.add(new SessionFigures(0xab, "beta", Session.Role.SOURCE, sender.inFlight(), List.of(stream)));
        assertEquals(
                Math.round((FrameCodec.HEADER_LENGTH + 1000) / 3.0),
                scrape().require(
                                "dwcp_stream_throughput_bytes_per_second",
                                "session",
                                SOURCE_SESSION,
                                "peer",
                                "beta",
                                "role",
                                "source",
                                "stream",
                                "0",
                                "cc",
                                "unknown"));
        sender.releaseAll();
    }

    @Test
    void histogramsOfPingRttByPeerAndOfFrameDelivery() {
        stats.pingRtt("beta", 80_000); // 0.08 ms: the lowest bucket
        stats.pingRtt("beta", 30_000_000); // 30 ms
        stats.pingRtt("beta", 3_000_000_000L); // 3 s: beyond the last bound
        stats.pingRtt("gamma", 700_000); // 0.7 ms
        stats.frameDelivered(4_000_000); // 4 ms
        stats.frameDelivered(1_200_000_000); // 1.2 s

        ScrapedMetrics scrape = scrape();
        assertEquals("histogram", scrape.type("dwcp_ping_rtt_seconds"));
        assertEquals("histogram", scrape.type("dwcp_frame_delivery_seconds"));
        // cumulative buckets, per peer
        assertEquals(1, scrape.require("dwcp_ping_rtt_seconds_bucket", "peer", "beta", "le", "1.0E-4"));
        assertEquals(1, scrape.require("dwcp_ping_rtt_seconds_bucket", "peer", "beta", "le", "0.025"));
        assertEquals(2, scrape.require("dwcp_ping_rtt_seconds_bucket", "peer", "beta", "le", "0.05"));
        assertEquals(2, scrape.require("dwcp_ping_rtt_seconds_bucket", "peer", "beta", "le", "2.0"));
        assertEquals(3, scrape.require("dwcp_ping_rtt_seconds_bucket", "peer", "beta", "le", "+Inf"));
        assertEquals(3, scrape.require("dwcp_ping_rtt_seconds_count", "peer", "beta"));
        assertEquals(0.00008 + 0.03 + 3, scrape.require("dwcp_ping_rtt_seconds_sum", "peer", "beta"), 1e-9);
        assertEquals(0, scrape.require("dwcp_ping_rtt_seconds_bucket", "peer", "gamma", "le", "5.0E-4"));
        assertEquals(1, scrape.require("dwcp_ping_rtt_seconds_bucket", "peer", "gamma", "le", "0.001"));
        assertEquals(1, scrape.require("dwcp_ping_rtt_seconds_count", "peer", "gamma"));

        assertEquals(0, scrape.require("dwcp_frame_delivery_seconds_bucket", "le", "0.0025"));
        assertEquals(1, scrape.require("dwcp_frame_delivery_seconds_bucket", "le", "0.005"));
        assertEquals(1, scrape.require("dwcp_frame_delivery_seconds_bucket", "le", "1.0"));
        assertEquals(2, scrape.require("dwcp_frame_delivery_seconds_bucket", "le", "2.0"));
        assertEquals(2, scrape.require("dwcp_frame_delivery_seconds_count"));
        assertEquals(1.204, scrape.require("dwcp_frame_delivery_seconds_sum"), 1e-9);
        // every bucket of 0.1 ms .. 2 s, and +Inf
        assertEquals(
                LatencyHistograms.upperBoundsSeconds().length + 1, scrape.count("dwcp_frame_delivery_seconds_bucket"));
        assertTrue(
                scrape.value("dwcp_frame_delivery_seconds_bucket", "le", "1.0E-4")
                        .isPresent(),
                scrape.toString());
    }
}
