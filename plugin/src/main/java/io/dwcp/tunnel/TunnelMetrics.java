package io.dwcp.tunnel;

import io.dwcp.metrics.MetricsSource;
import io.dwcp.transport.SocketTuning;
import io.dwcp.transport.TunnelStream;
import jakarta.inject.Inject;

import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

import static java.util.Objects.requireNonNull;

/**
 * The tunnel on {@code /metrics}: the daemon's {@link TunnelStats} (bytes in and out, frames,
 * sessions, streams, refused connections), the open sessions, and per stream the kernel's RTT and
 * retransmissions (TCP_INFO), the PING RTT, the send rate and the bytes sent.
 *
 * <p>Called on the metrics server's thread: reads counters, the sessions' concurrent map, their
 * copy-on-write stream lists, the streams' volatile figures and each sender's in-flight credit
 * (written on the session's loop without a barrier: a figure that may be a moment old).
 */
public final class TunnelMetrics
        implements MetricsSource
{
    private final TunnelStats stats;
    private final SessionManager sessions;

    @Inject
    public TunnelMetrics(TunnelStats stats, SessionManager sessions)
    {
        this.stats = requireNonNull(stats, "stats is null");
        this.sessions = requireNonNull(sessions, "sessions is null");
    }

    @Override
    public void appendPrometheus(StringBuilder out)
    {
        counter(out, "dwcp_qemu_bytes_read_total", "Bytes read from local QEMU connections (into the tunnel)", stats.qemuBytesRead);
        counter(out, "dwcp_qemu_bytes_written_total", "Bytes written to local QEMU connections (out of the tunnel)", stats.qemuBytesWritten);
        counter(out, "dwcp_tunnel_bytes_sent_total", "Frame bytes sent on tunnel streams", stats.tunnelBytesSent);
        counter(out, "dwcp_tunnel_bytes_received_total", "Frame bytes received on tunnel streams", stats.tunnelBytesReceived);
        counter(out, "dwcp_frames_sent_total", "Sequenced frames sent (first transmissions and re-sends)", stats.framesSent);
        counter(out, "dwcp_frames_resent_total", "Frames re-sent after a stream failed", stats.framesResent);
        counter(out, "dwcp_frame_resends_withheld_total",
                "Times the stream holding the oldest frame stalled while no other stream moved bytes either (nothing re-sent)",
                stats.resendsWithheld);
        counter(out, "dwcp_frames_duplicate_total", "Received frames dropped as duplicates", stats.framesDuplicate);
        counter(out, "dwcp_sessions_started_total", "Migration sessions started", stats.sessionsStarted);
        counter(out, "dwcp_sessions_completed_total", "Migration sessions completed", stats.sessionsCompleted);
        counter(out, "dwcp_sessions_failed_total", "Migration sessions failed", stats.sessionsFailed);
        counter(out, "dwcp_streams_opened_total", "Tunnel streams established", stats.streamsOpened);
        counter(out, "dwcp_streams_failed_total", "Tunnel streams that failed", stats.streamsFailed);
        counter(out, "dwcp_digest_mismatches_total", "End-to-end digest checks that failed", stats.digestMismatches);
        out.append("# HELP dwcp_connections_refused_total Tunnel connections refused, by reason\n# TYPE dwcp_connections_refused_total counter\n");
        for (Map.Entry<String, LongAdder> entry : stats.connectionsRefused().entrySet()) {
            out.append("dwcp_connections_refused_total{reason=\"").append(entry.getKey()).append("\"} ").append(entry.getValue().sum()).append('\n');
        }
        out.append("# HELP dwcp_sessions_active Open migration sessions\n# TYPE dwcp_sessions_active gauge\n");
        out.append("dwcp_sessions_active ").append(sessions.sessions().size()).append('\n');
        StringBuilder streams = new StringBuilder();
        StringBuilder rtt = new StringBuilder();
        StringBuilder pingRtt = new StringBuilder();
        StringBuilder retrans = new StringBuilder();
        StringBuilder rate = new StringBuilder();
        StringBuilder sent = new StringBuilder();
        StringBuilder inFlight = new StringBuilder();
        for (Session session : sessions.sessions()) {
            String sessionLabels = String.format("session=\"%016x\",peer=\"%s\",role=\"%s\"", session.id(), session.peer().name(), session.role().name().toLowerCase(java.util.Locale.ROOT));
            streams.append("dwcp_session_streams{").append(sessionLabels).append("} ").append(session.streamsSnapshot().size()).append('\n');
            inFlight.append("dwcp_session_in_flight_bytes{").append(sessionLabels).append("} ").append(session.inFlight()).append('\n');
            for (TunnelStream stream : session.streamsSnapshot()) {
                String labels = "{" + sessionLabels + ",stream=\"" + stream.index() + "\",cc=\"" + SocketTuning.congestionControl(stream.channel()) + "\"}";
                stream.tcpInfo().ifPresent(info -> {
                    rtt.append("dwcp_stream_rtt_seconds").append(labels).append(' ').append(info.rtt() / 1e6).append('\n');
                    retrans.append("dwcp_stream_retransmits_total").append(labels).append(' ').append(info.totalRetrans()).append('\n');
                });
                pingRtt.append("dwcp_stream_ping_rtt_seconds").append(labels).append(' ').append(stream.rttNanos() / 1e9).append('\n');
                rate.append("dwcp_stream_throughput_bytes_per_second").append(labels).append(' ').append(Math.round(stream.throughput())).append('\n');
                sent.append("dwcp_stream_bytes_sent_total").append(labels).append(' ').append(stream.bytesSent()).append('\n');
            }
        }
        gauge(out, "dwcp_session_streams", "Live tunnel streams of a session", streams);
        gauge(out, "dwcp_session_in_flight_bytes", "Window credit sent but not yet consumed by the peer", inFlight);
        gauge(out, "dwcp_stream_rtt_seconds", "Smoothed RTT of a stream's socket (TCP_INFO)", rtt);
        gauge(out, "dwcp_stream_ping_rtt_seconds", "RTT of the last PING on a stream, queueing included", pingRtt);
        gauge(out, "dwcp_stream_throughput_bytes_per_second", "Send rate of a stream over the last controller interval", rate);
        out.append("# HELP dwcp_stream_retransmits_total Retransmitted segments of a stream's socket (TCP_INFO)\n# TYPE dwcp_stream_retransmits_total counter\n").append(retrans);
        out.append("# HELP dwcp_stream_bytes_sent_total Frame bytes sent on a stream\n# TYPE dwcp_stream_bytes_sent_total counter\n").append(sent);
    }

    private static void counter(StringBuilder out, String name, String help, LongAdder adder)
    {
        long value = adder.sum();
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" counter\n");
        out.append(name).append(' ').append(value).append('\n');
    }

    private static void gauge(StringBuilder out, String name, String help, CharSequence samples)
    {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" gauge\n");
        out.append(samples);
    }
}
