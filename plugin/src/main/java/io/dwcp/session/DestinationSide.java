package io.dwcp.session;

import static java.util.Objects.requireNonNull;

import io.dwcp.amst.AmstAccept;
import io.dwcp.amst.AmstOpen;
import io.dwcp.amst.FrameType;
import io.dwcp.codec.CodecException;
import io.dwcp.codec.DestinationCodec;
import io.netty.buffer.Unpooled;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What only a destination session does: it checks the source's OPEN (a target that names this
 * host), takes the codec the source offers and answers it, opens a QEMU connection for every
 * CHANNEL_OPEN, one at a time and in order (the destination QEMU tells its channels apart by the
 * order they arrive in), and gives up when no OPEN comes within the handshake timeout.
 *
 * <p>Owned by the session's event loop, like the {@link Session} it belongs to.
 */
final class DestinationSide {
    private static final Logger log = LoggerFactory.getLogger(DestinationSide.class);

    private final Session session;
    private final SessionSettings settings;
    private final SessionHost host;
    private final ArrayDeque<QemuChannel> toConnect = new ArrayDeque<>();
    // the lane's: made there when OPEN arrived (HDE opens the baselines it announces)
    private DestinationCodec codec;
    // the loop's: OPEN arrived; the lane made the codec and its answer went (QEMU is connected only then)
    private boolean opened;
    private boolean accepted;
    private boolean connecting;

    DestinationSide(Session session, SessionSettings settings, SessionHost host) {
        this.session = requireNonNull(session, "session is null");
        this.settings = requireNonNull(settings, "settings is null");
        this.host = requireNonNull(host, "host is null");
    }

    /** On the lane: the codec the source chose; null before its OPEN (or if it was refused). */
    DestinationCodec codec() {
        return codec;
    }

    boolean isOpened() {
        return opened;
    }

    void onOpen(AmstOpen open) {
        if (isOpened()) {
            throw new SessionFailure("unexpected OPEN");
        }
        Target target;
        try {
            target = Target.of(open, settings.nodeName());
        } catch (IllegalArgumentException e) {
            throw new SessionFailure("bad OPEN: " + e.getMessage());
        }
        opened = true;
        session.opened(target, open.vm());
        byte[] offer = open.codecOffer();
        session.onLane(() -> {
            if (session.codecClosed()) {
                return;
            }
            DestinationCodec made;
            try {
                made = settings.codecs().newDestination(session.id(), session.context(), offer);
            } catch (CodecException e) {
                throw new SessionFailure("refused the source's codec: " + e.getMessage());
            }
            codec = made;
            byte[] answer = made.answer();
            session.run(() -> {
                if (session.state() != Session.State.OPEN) {
                    return;
                }
                String configured = settings.codecs().mode().configName();
                String chosen = made.mode().configName();
                log.info(
                        "{} migration session opened by the source, target {}, codec {}{}",
                        session.context(),
                        target,
                        chosen,
                        chosen.equals(configured)
                                ? ""
                                : " (the source's choice; this host's codec.mode is " + configured + ")");
                sendAnswer(answer);
                accepted = true;
                connectNext();
            });
        });
    }

    /** The codec's answer, in pieces of at most one frame payload. */
    private void sendAnswer(byte[] bytes) {
        int piece = settings.amst().getMaxFramePayload().toIntBytes();
        int at = 0;
        do {
            int length = Math.min(piece, bytes.length - at);
            boolean last = at + length == bytes.length;
            AmstAccept accept = new AmstAccept(Unpooled.wrappedBuffer(bytes, at, length), last);
            session.sender().send(FrameType.ACCEPT, accept.channel(), accept.encode());
            at += length;
        } while (at < bytes.length);
    }

    /** The source's QEMU opened connection {@code channel} (they open in order): connect the destination QEMU's. */
    void onChannelOpen(QemuChannel channel) {
        toConnect.addLast(channel);
        connectNext();
    }

    /** Whether QEMU connections are still being opened (the session cannot complete before). */
    boolean connecting() {
        return connecting || !toConnect.isEmpty();
    }

    /** Whether the source's OPEN is overdue. */
    boolean handshakeExpired(long nowNanos, long startNanos) {
        return !isOpened()
                && nowNanos - startNanos
                        > settings.tunnel().getHandshakeTimeout().toNanos();
    }

    /** The session failed: connections not yet opened are dropped with it. */
    void discard() {
        for (QemuChannel channel : toConnect) {
            channel.discard();
        }
        toConnect.clear();
    }

    private void connectNext() {
        if (!accepted || connecting || toConnect.isEmpty() || session.state() != Session.State.OPEN) {
            return;
        }
        QemuChannel channel = toConnect.pollFirst();
        connecting = true;
        Target target = session.target();
        long deadline =
                System.nanoTime() + settings.tunnel().getQemuConnectTimeout().toNanos();
        host.connectToQemu(
                session,
                target,
                channel.index(),
                deadline,
                result -> session.run(() -> {
                    connecting = false;
                    if (session.state() != Session.State.OPEN) {
                        if (result != null) {
                            result.close();
                        }
                        return;
                    }
                    if (result == null) {
                        throw new SessionFailure("cannot connect to the destination QEMU at " + host.describe(target)
                                + " within "
                                + settings.tunnel().getQemuConnectTimeout().toSeconds() + "s");
                    }
                    session.attachQemu(channel, result);
                    log.info(
                            "{} connected QEMU connection {} to {}",
                            session.context(),
                            channel.index(),
                            host.describe(target));
                    connectNext();
                }));
    }
}
