package io.dwcp.amst;

import io.netty.buffer.ByteBuf;

/**
 * What {@link AmstFrameReader} hands on: one method per frame type, with the payload decoded.
 * Payload buffers passed on are the frame's own, not retained: valid during the call only (retain
 * to keep them).
 *
 * <p>Per-stream control frames come with the stream they arrived on, as soon as they arrive.
 * Sequenced frames come in sequence order with the window credit they took ({@link
 * FrameCodec#frameCost}), which the receiver returns in its ACKs once it consumed them.
 */
public interface AmstFrameListener {
    // ---- per-stream control frames ----

    void onHello(TunnelStream stream, AmstHello hello);

    void onAck(TunnelStream stream, AmstAck ack);

    void onPing(TunnelStream stream, AmstPing ping);

    void onPong(TunnelStream stream, AmstPong pong);

    void onAbort(TunnelStream stream, AmstAbort abort);

    // ---- sequenced frames, in order ----

    void onOpen(AmstOpen open, long credit);

    void onAccept(AmstAccept accept, long credit);

    void onChannelOpen(int channel, long credit);

    void onData(int channel, ByteBuf data, long credit);

    void onCheckpoint(int channel, AmstCheckpoint checkpoint, long credit);

    void onFin(int channel, AmstFin fin, long credit);
}
