package io.dwcp.amst;

import io.dwcp.metrics.LatencyHistograms;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.concurrent.atomic.LongAdder;

/**
 * What AMST's sending side counts (thread-safe): every frame byte written to a tunnel stream, by a
 * session's {@link FrameSender} or by a {@link ControlWriter}, the sequenced frames sent, re-sent
 * and whose re-sending was withheld, the copies of a stream's last frames, and how long frames
 * took to be acknowledged. The tunnel's own statistics extend it ({@code
 * io.dwcp.session.TunnelStats}), so one object counts a daemon's tunnel; {@code
 * io.dwcp.session.TunnelMetrics} registers the histogram.
 */
public class SenderStats {
    public final LongAdder tunnelBytesSent = new LongAdder();
    public final LongAdder framesSent = new LongAdder();
    public final LongAdder framesResent = new LongAdder();
    public final LongAdder resendsWithheld = new LongAdder();
    /** Second copies of a stream's last frames ({@link FrameSender#copyTail}). */
    public final LongAdder tailCopies = new LongAdder();

    /**
     * Per sequenced frame, the time from its first transmission to the sender's handling of the
     * ACK that covers it: one round trip, plus the receiver's wait for an earlier frame still
     * missing (head-of-line blocking behind a loss or a slow stream), plus the receiver's ACK
     * delay; a re-sent frame counts from its first copy.
     */
    public final Histogram frameDeliverySeconds = LatencyHistograms.builder()
            .name("dwcp_frame_delivery_seconds")
            .help("Time from a sequenced frame's first transmission to the ACK that covers it")
            .build();

    /** A frame first sent {@code nanos} ago was acknowledged. */
    public void frameDelivered(long nanos) {
        frameDeliverySeconds.observe(Unit.nanosToSeconds(nanos));
    }
}
