package io.dwcp.session;

import static io.dwcp.metrics.Callbacks.counter;
import static io.dwcp.metrics.Callbacks.gauge;
import static java.util.Objects.requireNonNull;

import io.dwcp.amst.SocketTuning;
import io.dwcp.amst.TunnelStream;
import io.dwcp.metrics.MetricsSource;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.channel.epoll.EpollTcpInfo;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import jakarta.inject.Inject;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * The tunnel on {@code /metrics}: the daemon's {@link TunnelStats} (bytes in and out, frames,
 * sessions, streams, refused connections) as counters read at each scrape; its two histograms,
 * {@code dwcp_frame_delivery_seconds} and {@code dwcp_ping_rtt_seconds}; and, computed at each scrape
 * from the open sessions, per session its streams and in-flight credit and per stream the
 * kernel's RTT and retransmissions (TCP_INFO), the last PING RTT, the send rate and the bytes sent;
 * and the direct memory of the pooled buffer allocator and of the JVM's direct buffers.
 *
 * <p>Runs on the exporter's thread: reads counters, the sessions' concurrent map, their
 * copy-on-write stream lists, the streams' volatile figures and each sender's in-flight credit
 * (written on the session's loop without a barrier: a figure that may be a moment old).
 */
public final class TunnelMetrics implements MetricsSource {
    private final TunnelStats stats;
    private final Supplier<List<SessionFigures>> sessions;

    @Inject
    public TunnelMetrics(TunnelStats stats, SessionManager sessions) {
        this(stats, openSessions(requireNonNull(sessions, "sessions is null")));
    }

    private static Supplier<List<SessionFigures>> openSessions(SessionManager sessions) {
        return () -> sessions.sessions().stream().map(SessionFigures::of).toList();
    }

    /** @param sessions the open sessions at the time of the call (tests give their own) */
    TunnelMetrics(TunnelStats stats, Supplier<List<SessionFigures>> sessions) {
        this.stats = requireNonNull(stats, "stats is null");
        this.sessions = requireNonNull(sessions, "sessions is null");
    }

    /** What the per-session and per-stream figures are read from: one open session. */
    record SessionFigures(long id, String peer, Session.Role role, long inFlight, List<TunnelStream> streams) {
        static SessionFigures of(Session session) {
            return new SessionFigures(
                    session.id(), session.peer().name(), session.role(), session.inFlight(), session.streamsSnapshot());
        }

        Labels labels() {
            return Labels.of(
                    "session",
                    String.format("%016x", id),
                    "peer",
                    peer,
                    "role",
                    role.name().toLowerCase(Locale.ROOT));
        }
    }

    @Override
    public void register(PrometheusRegistry registry) {
        counter(
                registry,
                "dwcp_qemu_bytes_read_total",
                "Bytes read from local QEMU connections (into the tunnel)",
                stats.qemuBytesRead::sum);
        counter(
                registry,
                "dwcp_qemu_bytes_written_total",
                "Bytes written to local QEMU connections (out of the tunnel)",
                stats.qemuBytesWritten::sum);
        counter(
                registry,
                "dwcp_tunnel_bytes_sent_total",
                "Frame bytes sent on tunnel streams",
                stats.tunnelBytesSent::sum);
        counter(
                registry,
                "dwcp_tunnel_bytes_received_total",
                "Frame bytes received on tunnel streams",
                stats.tunnelBytesReceived::sum);
        counter(
                registry,
                "dwcp_frames_sent_total",
                "Sequenced frames sent (first transmissions and re-sends)",
                stats.framesSent::sum);
        counter(registry, "dwcp_frames_resent_total", "Frames re-sent after a stream failed", stats.framesResent::sum);
        counter(
                registry,
                "dwcp_frame_resends_withheld_total",
                "Times the stream holding the oldest frame stalled while no other stream moved bytes either (nothing re-sent)",
                stats.resendsWithheld::sum);
        counter(
                registry,
                "dwcp_frames_tail_copied_total",
                "Second copies of the last frames of a source session's stream, sent on another stream at its end",
                stats.tailCopies::sum);
        counter(
                registry,
                "dwcp_frames_duplicate_total",
                "Received frames dropped as duplicates",
                stats.framesDuplicate::sum);
        counter(registry, "dwcp_acks_sent_total", "ACKs sent to peers", stats.acksSent::sum);
        counter(registry, "dwcp_sessions_started_total", "Migration sessions started", stats.sessionsStarted::sum);
        counter(
                registry,
                "dwcp_sessions_completed_total",
                "Migration sessions completed",
                stats.sessionsCompleted::sum);
        counter(registry, "dwcp_sessions_failed_total", "Migration sessions failed", stats.sessionsFailed::sum);
        counter(registry, "dwcp_streams_opened_total", "Tunnel streams established", stats.streamsOpened::sum);
        counter(registry, "dwcp_streams_failed_total", "Tunnel streams that failed", stats.streamsFailed::sum);
        counter(
                registry,
                "dwcp_digest_mismatches_total",
                "End-to-end digest checks that failed",
                stats.digestMismatches::sum);
        counter(
                registry,
                "dwcp_spare_streams_taken_total",
                "Session streams that started as spare streams (no TCP or TLS handshake then)",
                stats.spareStreamsTaken::sum);
        counter(
                registry,
                "dwcp_spare_prime_bytes_total",
                "Padding bytes spare streams sent to open their congestion windows before a session took them",
                stats.sparePrimeBytes::sum);
        gauge(
                registry,
                "dwcp_spare_streams_ready",
                "Spare streams this daemon keeps open, through TLS, to its peers",
                stats.spareStreamsReady::get);
        gauge(
                registry,
                "dwcp_spare_streams_held",
                "Peers' spare streams this daemon holds for their next sessions",
                stats.spareStreamsHeld::get);
        CounterWithCallback.builder()
                .name("dwcp_qemu_read_held_seconds_total")
                .help(
                        "Completed source sessions: time reading QEMU was held back, by the first reason that held it (start: nothing read yet; tunnel: the sender's window or the session not ready; codec: the codec lane behind; pace: the read pace; raw_window: too much read and not yet in the peer's QEMU)")
                .labelNames("reason")
                .callback(callback -> {
                    for (QemuReadGate.Hold hold : QemuReadGate.Hold.values()) {
                        callback.call(stats.qemuReadHeldSeconds(hold), hold.label());
                    }
                })
                .register(registry);
        CounterWithCallback.builder()
                .name("dwcp_connections_refused_total")
                .help("Tunnel connections refused, by reason")
                .labelNames("reason")
                .callback(callback -> {
                    for (Map.Entry<String, LongAdder> entry :
                            stats.connectionsRefused().entrySet()) {
                        callback.call(entry.getValue().sum(), entry.getKey());
                    }
                })
                .register(registry);
        gauge(
                registry,
                "dwcp_sessions_active",
                "Open migration sessions",
                () -> sessions.get().size());
        gauge(
                registry,
                "dwcp_buffer_pool_direct_bytes",
                "Direct memory held by the tunnel's pooled buffer allocator (in use or kept for reuse)",
                TunnelMetrics::pooledDirectBytes);
        gauge(
                registry,
                "dwcp_jvm_direct_buffer_bytes",
                "Direct memory of the JVM's own direct byte buffers (ByteBuffer.allocateDirect; Netty's pool allocates beside them when it may)",
                TunnelMetrics::jvmDirectBytes);
        registry.register(stats.frameDeliverySeconds);
        registry.register(stats.pingRttSeconds);
        registry.register(stats.sessionStartSeconds);
        registry.register(stats.switchoverSeconds);
        registry.register(new SessionsCollector());
    }

    private static double pooledDirectBytes() {
        return ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider provider
                ? provider.metric().usedDirectMemory()
                : Double.NaN;
    }

    private static double jvmDirectBytes() {
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if ("direct".equals(pool.getName())) {
                return pool.getMemoryUsed();
            }
        }
        return Double.NaN;
    }

    /** The per-session and per-stream figures: one pass over the open sessions per scrape, one TCP_INFO read per stream. */
    private final class SessionsCollector implements MultiCollector {
        @Override
        public MetricSnapshots collect() {
            GaugeSnapshot.Builder streamCount =
                    GaugeSnapshot.builder().name("dwcp_session_streams").help("Live tunnel streams of a session");
            GaugeSnapshot.Builder inFlight = GaugeSnapshot.builder()
                    .name("dwcp_session_in_flight_bytes")
                    .help("Window credit sent but not yet consumed by the peer");
            GaugeSnapshot.Builder rtt = GaugeSnapshot.builder()
                    .name("dwcp_stream_rtt_seconds")
                    .help("Smoothed RTT of a stream's socket (TCP_INFO)");
            GaugeSnapshot.Builder pingRtt = GaugeSnapshot.builder()
                    .name("dwcp_stream_ping_rtt_seconds")
                    .help("RTT of the last PING on a stream, queueing included");
            GaugeSnapshot.Builder rate = GaugeSnapshot.builder()
                    .name("dwcp_stream_throughput_bytes_per_second")
                    .help("Send rate of a stream over the last controller interval");
            CounterSnapshot.Builder retransmits = CounterSnapshot.builder()
                    .name("dwcp_stream_retransmits_total")
                    .help("Retransmitted segments of a stream's socket (TCP_INFO)");
            CounterSnapshot.Builder sent = CounterSnapshot.builder()
                    .name("dwcp_stream_bytes_sent_total")
                    .help("Frame bytes sent on a stream");
            for (SessionFigures session : sessions.get()) {
                Labels sessionLabels = session.labels();
                streamCount.dataPoint(
                        gaugePoint(sessionLabels, session.streams().size()));
                inFlight.dataPoint(gaugePoint(sessionLabels, session.inFlight()));
                for (TunnelStream stream : session.streams()) {
                    Labels labels = sessionLabels
                            .add("stream", Integer.toString(stream.index()))
                            .add("cc", SocketTuning.congestionControl(stream.channel()));
                    Optional<EpollTcpInfo> info = stream.tcpInfo();
                    if (info.isPresent()) {
                        rtt.dataPoint(gaugePoint(labels, info.get().rtt() / 1e6));
                        retransmits.dataPoint(counterPoint(labels, info.get().totalRetrans()));
                    }
                    pingRtt.dataPoint(gaugePoint(labels, stream.rttNanos() / 1e9));
                    rate.dataPoint(gaugePoint(labels, Math.round(stream.throughput())));
                    sent.dataPoint(counterPoint(labels, stream.bytesSent()));
                }
            }
            return new MetricSnapshots(
                    streamCount.build(),
                    inFlight.build(),
                    rtt.build(),
                    pingRtt.build(),
                    rate.build(),
                    retransmits.build(),
                    sent.build());
        }

        private static GaugeDataPointSnapshot gaugePoint(Labels labels, double value) {
            return GaugeDataPointSnapshot.builder().labels(labels).value(value).build();
        }

        private static CounterDataPointSnapshot counterPoint(Labels labels, double value) {
            return CounterDataPointSnapshot.builder()
                    .labels(labels)
                    .value(value)
                    .build();
        }
    }
}
