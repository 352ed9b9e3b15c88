package io.dwcp.amst;

import static java.util.Objects.requireNonNull;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;

/**
 * ACK: the receiver's cumulative acknowledgement, sent on any stream whenever it has news and on
 * every keep-alive tick.
 * <pre>
 * Ack =&gt;                                   ; 24 + 12 x n bytes, n = 0..MAX_CHANNELS
 *   NextSequence   =&gt; int64  0..2^63-1      every sequenced frame below it was received
 *   ConsumedCredit =&gt; int64  0..2^63-1      cumulative window credit returned (see
 *                                            {@link FrameCodec#frameCost})
 *   Delivered      =&gt; int64  0..2^63-1      cumulative bytes of the peer's stream written into the
 *                                            local QEMU, all connections together
 *   ChannelDelivered =&gt; n times, to the end of the payload, channels ascending:
 *     Channel      =&gt; int32  0..2^31-1      a QEMU connection of the session
 *     Delivered    =&gt; int64  0..2^63-1      cumulative bytes of that connection's stream written
 *                                            into the local QEMU (the peer reads that connection of
 *                                            its QEMU while less than its share of amst.raw-window
 *                                            is undelivered)
 * </pre>
 * Every ACK names every connection the receiver has (they are few: a main channel and the
 * multifd channels), so a lost ACK is made good by the next. A 24-byte ACK (no connection named)
 * is what a receiver with no connection yet sends.
 */
public record AmstAck(long nextSequence, long consumedCredit, long delivered, List<ChannelDelivered> channels)
        implements ControlPayload {
    public static final int LENGTH = 8 + 8 + 8;
    public static final int CHANNEL_LENGTH = 4 + 8;
    /** The most connections one ACK names (QEMU allows up to 255 multifd channels). */
    public static final int MAX_CHANNELS = 1024;

    /** What one QEMU connection of the session delivered so far. */
    public record ChannelDelivered(int channel, long delivered) {
        public ChannelDelivered {
            if (channel < 0 || delivered < 0) {
                throw new IllegalArgumentException("negative channel or count: " + channel + ", " + delivered);
            }
        }
    }

    public AmstAck {
        if (nextSequence < 0 || consumedCredit < 0 || delivered < 0) {
            throw new IllegalArgumentException(
                    "negative ACK field: " + nextSequence + ", " + consumedCredit + ", " + delivered);
        }
        channels = List.copyOf(requireNonNull(channels, "channels is null"));
        if (channels.size() > MAX_CHANNELS) {
            throw new IllegalArgumentException("an ACK names at most " + MAX_CHANNELS + " channels");
        }
        for (int i = 1; i < channels.size(); i++) {
            if (channels.get(i).channel() <= channels.get(i - 1).channel()) {
                throw new IllegalArgumentException("ACK channels not ascending: " + channels);
            }
        }
    }

    /** An ACK that names no connection. */
    public AmstAck(long nextSequence, long consumedCredit, long delivered) {
        this(nextSequence, consumedCredit, delivered, List.of());
    }

    @Override
    public FrameType type() {
        return FrameType.ACK;
    }

    @Override
    public ByteBuf encode() {
        int length = LENGTH + CHANNEL_LENGTH * channels.size();
        ByteBuf out = Unpooled.buffer(length, length)
                .writeLong(nextSequence)
                .writeLong(consumedCredit)
                .writeLong(delivered);
        for (ChannelDelivered channel : channels) {
            out.writeInt(channel.channel()).writeLong(channel.delivered());
        }
        return out;
    }

    public static AmstAck decode(ByteBuf payload) {
        int length = payload.readableBytes();
        if (length < LENGTH
                || (length - LENGTH) % CHANNEL_LENGTH != 0
                || (length - LENGTH) / CHANNEL_LENGTH > MAX_CHANNELS) {
            throw new AmstProtocolException(
                    FrameType.ACK,
                    "payload length",
                    LENGTH + " + " + CHANNEL_LENGTH + " x (0.." + MAX_CHANNELS + ") bytes",
                    length + " bytes");
        }
        long next = AmstProtocolException.readNonNegativeLong(FrameType.ACK, payload, "NextSequence");
        long consumed = AmstProtocolException.readNonNegativeLong(FrameType.ACK, payload, "ConsumedCredit");
        long delivered = AmstProtocolException.readNonNegativeLong(FrameType.ACK, payload, "Delivered");
        int count = (length - LENGTH) / CHANNEL_LENGTH;
        List<ChannelDelivered> channels = new ArrayList<>(count);
        int previous = -1;
        for (int i = 0; i < count; i++) {
            int channel = payload.readInt();
            if (channel <= previous) {
                throw new AmstProtocolException(
                        FrameType.ACK, "Channel", (previous + 1) + ".." + Integer.MAX_VALUE, Integer.toString(channel));
            }
            previous = channel;
            long channelDelivered = AmstProtocolException.readNonNegativeLong(FrameType.ACK, payload, "Delivered");
            channels.add(new ChannelDelivered(channel, channelDelivered));
        }
        return new AmstAck(next, consumed, delivered, channels);
    }
}
