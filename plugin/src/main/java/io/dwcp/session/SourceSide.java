package io.dwcp.session;

import static java.util.Objects.requireNonNull;

import io.dwcp.amst.AmstAccept;
import io.dwcp.amst.FrameType;
import io.dwcp.amst.LinkMonitor;
import io.dwcp.amst.StreamCountController;
import io.dwcp.amst.StreamPool;
import io.dwcp.amst.TunnelStream;
import io.dwcp.codec.CodecException;
import io.dwcp.codec.LinkMeasurement;
import io.dwcp.codec.SourceCodec;
import io.dwcp.pba.GoodputPredictor;
import io.dwcp.pba.GoodputPredictors;
import io.dwcp.pba.Prediction;
import io.netty.buffer.ByteBuf;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What only a source session does: it opens the migration (OPEN names the target, the VM and
 * the codec offered), keeps its streams to the peer ({@link StreamPool}, sized by the
 * {@link StreamCountController} from what the {@link LinkMonitor} measures), starts reading QEMU
 * once the destination answered the codec offer, feeds the codec and the raw window with the
 * link's figures, and re-sends the frame the receiver waits for when its stream's TCP stalls.
 *
 * <p>PBA: at each controller interval the link's rate and the goodput feed two predictors. The
 * codec's level is chosen for the link rate PBA expects over the next interval ({@link
 * GoodputPredictors#forLinks}, the predictor the evaluation picked for links), and a stream-count
 * probe must beat the goodput Holt's predictor expects at the old count ({@link
 * StreamCountController}); its trend keeps a link that recovers on its own from crediting a probe.
 *
 * <p>Owned by the session's event loop, like the {@link Session} it belongs to.
 */
final class SourceSide {
    private static final Logger log = LoggerFactory.getLogger(SourceSide.class);

    /** The largest codec answer a source accepts (baseline announcements: 16 bytes per page). */
    static final int MAX_CODEC_ANSWER = 256 << 20;
    /** How often the source checks whether the frame the receiver waits for is stuck. */
    private static final long HEAD_CHECK_MILLIS = 50;

    private final Session session;
    private final SessionSettings settings;
    // made on the lane at start (it may open this host's baselines); read there, and by reuse() from any thread
    private volatile SourceCodec codec;
    private final StreamCountController controller;
    private final StreamPool pool;
    // the loop's: PBA over the controller's samples, the link rate (for the level) and the goodput (for the count)
    private final GoodputPredictor linkForecast = GoodputPredictors.forLinks().create();
    private final GoodputPredictor goodputForecast = GoodputPredictors.holt().create();
    private ByteArrayOutputStream answer;
    // the codec exists and needs no answer, or the answer was applied on the lane
    private boolean codecReady;
    // the loop's: the codec exists (and OPEN was sent); the last ACCEPT piece arrived
    private boolean codecMade;
    private boolean answered;

    SourceSide(Session session, SessionSettings settings, SessionHost host) {
        this.session = requireNonNull(session, "session is null");
        this.settings = requireNonNull(settings, "settings is null");
        requireNonNull(host, "host is null");
        this.controller = new StreamCountController(
                settings.amst().getMinStreams(),
                settings.amst().getMaxStreams(),
                settings.amst().getInitialStreams(),
                StreamCountController.SETTLE_INTERVALS);
        this.pool = new StreamPool(
                controller.count(),
                (slot, failed) -> host.connectStream(session, slot, failure -> session.run(failed)),
                (task, delayMillis) -> session.schedule(task, TimeUnit.MILLISECONDS.toNanos(delayMillis)),
                () -> session.state() == Session.State.OPEN);
    }

    /** The codec, or null before the lane made it (on the lane, always made: its first task makes it). */
    SourceCodec codec() {
        return codec;
    }

    StreamPool pool() {
        return pool;
    }

    /** Whether OPEN was sent (the lane made the codec): a QEMU connection's CHANNEL_OPEN may follow. */
    boolean opened() {
        return codecMade;
    }

    /** Whether the codec may encode: it needed no answer, or the destination's answer arrived. */
    boolean codecReady() {
        return codecReady;
    }

    /**
     * Makes the codec on the lane, then sends OPEN; dials the streams, starts the timers of the
     * head re-send and the controller.
     */
    void start(Target target, String vm) {
        session.onLane(() -> {
            SourceCodec made = settings.codecs().newSource(session.id(), session.context());
            codec = made;
            byte[] offer = CodecSelection.offer(made);
            boolean awaits = made.awaitsAnswer();
            session.run(() -> {
                if (session.state() != Session.State.OPEN) {
                    return;
                }
                log.info(
                        "{} migration session started, target {}, codec {}",
                        session.context(),
                        target,
                        made.mode().configName());
                session.sender().send(FrameType.OPEN, 0, target.open(vm, offer).encode());
                codecMade = true;
                session.openChannels();
                codecReady = !awaits;
                session.updateReading();
            });
        });
        pool.fill();
        if (!settings.amst().getHeadResend().isZero()) {
            session.scheduleAtFixedDelay(this::resendStalledHead, TimeUnit.MILLISECONDS.toNanos(HEAD_CHECK_MILLIS));
        }
        long adapt = settings.amst().getAdaptInterval().toNanos();
        if (adapt > 0) {
            session.scheduleAtFixedDelay(this::adapt, adapt);
        }
    }

    /** A piece of the destination's codec answer; with the last, the codec starts (on the lane) and QEMU is read. */
    void onAnswer(AmstAccept accept) {
        if (!codecMade || answered) {
            throw new SessionFailure("unexpected ACCEPT");
        }
        if (answer == null) {
            answer = new ByteArrayOutputStream();
        }
        ByteBuf payload = accept.piece();
        if (answer.size() + (long) payload.readableBytes() > MAX_CODEC_ANSWER) {
            throw new SessionFailure("the destination's codec answer exceeds " + MAX_CODEC_ANSWER + " bytes");
        }
        try {
            payload.readBytes(answer, payload.readableBytes());
        } catch (IOException e) {
            throw new UncheckedIOException("writing to memory", e);
        }
        if (!accept.last()) {
            return;
        }
        byte[] bytes = answer.toByteArray();
        answer = null;
        answered = true;
        if (codecReady) {
            return; // passthrough: nothing awaited
        }
        LinkMeasurement measured =
                new LinkMeasurement(pathRttMicros(), session.link().linkBytesPerSecond());
        session.onLane(() -> {
            if (session.codecClosed()) {
                return;
            }
            codec.linkMeasured(measured);
            try {
                codec.answer(bytes);
            } catch (CodecException e) {
                throw new SessionFailure(e.getMessage());
            }
            session.run(() -> {
                codecReady = true;
                session.updateReading();
            });
        });
    }

    /** The controller's interval: link figures to the raw window, the codec and the stream count. */
    private void adapt() {
        long now = System.nanoTime();
        LinkMonitor link = session.link();
        if (session.state() != Session.State.OPEN || session.sender().streams().isEmpty() || !link.due(now)) {
            return;
        }
        List<TunnelStream> streams = List.copyOf(session.sender().streams());
        List<LinkMonitor.StreamReading> readings = new ArrayList<>(streams.size());
        for (TunnelStream stream : streams) {
            TunnelStream.Busy busy = stream.busySinceLastCall();
            stream.tcpInfo()
                    .ifPresent(info -> readings.add(LinkMonitor.StreamReading.of(info, stream.bytesSent(), busy)));
        }
        LinkMonitor.Sample sample = link.sample(now, session.sender().consumedCredit(), readings);
        for (TunnelStream stream : streams) {
            stream.measureThroughput(sample.seconds());
        }
        session.noteRtt(sample.minRttMicros());
        session.sampleRawWindow(now, sample.minRttMicros());
        Duration interval = settings.amst().getAdaptInterval();
        linkForecast.observe(now, 8 * sample.linkBytesPerSecond());
        goodputForecast.observe(now, 8 * sample.goodput());
        double linkRate = bytesPerSecond(linkForecast.predict(interval), sample.linkBytesPerSecond());
        double goodputExpected = bytesPerSecond(goodputForecast.predict(interval), Double.NaN);
        if (codecReady) {
            LinkMeasurement measured = new LinkMeasurement(pathRttMicros(), linkRate, session.qemuHeldByCodecNanos());
            session.onLane(() -> {
                if (!session.codecClosed()) {
                    codec.linkMeasured(measured);
                }
            });
        }
        int before = pool.desired();
        int desired = controller.update(
                sample.goodput(),
                goodputExpected,
                sample.tunnelLimited(),
                sample.bufferLimited(),
                sample.loss(),
                sample.rttMicros(),
                sample.minRttMicros());
        if (desired != before) {
            log.info(
                    "{} streams {} -> {} ({}; goodput {} MB/s, tunnel-limited {}%, buffer-limited {}%, loss {}%, rtt {} ms, min {} ms)",
                    session.context(),
                    before,
                    desired,
                    controller.lastReason(),
                    String.format("%.1f", sample.goodput() / 1e6),
                    Math.round(sample.tunnelLimited() * 100),
                    Double.isNaN(sample.bufferLimited()) ? "?" : Math.round(sample.bufferLimited() * 100),
                    String.format("%.2f", sample.loss() * 100),
                    String.format("%.1f", sample.rttMicros() / 1000.0),
                    String.format("%.1f", sample.minRttMicros() / 1000.0));
            pool.resize(desired);
            session.closeDrainedStreams();
        }
    }

    /** A prediction in bytes per second, or {@code otherwise} when it is not known yet. */
    static double bytesPerSecond(Prediction prediction, double otherwise) {
        return prediction.known() ? prediction.bitsPerSecond() / 8 : otherwise;
    }

    /**
     * The path's RTT for the codec's tier: the lowest RTT sample of the session's streams
     * ({@link TunnelStream#pathMinRttMicros}), or, where the kernel gives none, the lowest smoothed
     * one ({@link #minRttMicros}). A smoothed RTT read as a migration starts on a busy host put a
     * loopback link at tier 2 for its first second (1.3-3.4 ms, where the path's is 0.4 ms).
     */
    private long pathRttMicros() {
        long lowest = 0;
        for (TunnelStream stream : session.sender().streams()) {
            long rtt = stream.pathMinRttMicros();
            if (rtt > 0 && (lowest == 0 || rtt < lowest)) {
                lowest = rtt;
            }
        }
        return lowest > 0 ? lowest : minRttMicros();
    }

    /** The lowest smoothed RTT of the streams so far (TCP_INFO), in microseconds; 0 if none yet. */
    private long minRttMicros() {
        LinkMonitor link = session.link();
        if (link.minRttMicros() == 0) {
            for (TunnelStream stream : session.sender().streams()) {
                stream.tcpInfo().ifPresent(info -> link.observeRtt(info.rtt()));
            }
        }
        return link.minRttMicros();
    }

    /** The frame the receiver waits for goes again on another stream once out for 3 RTT + amst.head-resend on a stalled stream. */
    private void resendStalledHead() {
        if (session.state() != Session.State.OPEN) {
            return;
        }
        long threshold =
                3 * minRttMicros() * 1000 + settings.amst().getHeadResend().toNanos();
        int resent = session.sender().resendStalledHead(threshold, stream -> isFlowing(stream, threshold));
        if (resent > 0) {
            log.debug(
                    "{} re-sent {} frames of a stalled stream on the others (out for more than {} ms)",
                    session.context(),
                    resent,
                    threshold / 1_000_000);
        }
    }

    /**
     * Whether a stream's TCP still moves bytes: nothing of its own waits for the peer's TCP, or the
     * peer acknowledged something within {@code thresholdNanos}. Without TCP_INFO it counts as moving.
     */
    private static boolean isFlowing(TunnelStream stream, long thresholdNanos) {
        return stream.tcpInfo()
                .map(info -> info.unacked() == 0 || TimeUnit.MILLISECONDS.toNanos(info.lastAckRecv()) < thresholdNanos)
                .orElse(true);
    }
}
