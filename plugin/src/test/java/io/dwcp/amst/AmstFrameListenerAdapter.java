package io.dwcp.amst;

import io.netty.buffer.ByteBuf;

/** A listener that fails on every frame: tests override the methods they expect to be called. */
class AmstFrameListenerAdapter implements AmstFrameListener {
    private static AssertionError unexpected(String what) {
        return new AssertionError("unexpected " + what);
    }

    @Override
    public void onHello(TunnelStream stream, AmstHello hello) {
        throw unexpected(hello.toString());
    }

    @Override
    public void onAck(TunnelStream stream, AmstAck ack) {
        throw unexpected(ack.toString());
    }

    @Override
    public void onPing(TunnelStream stream, AmstPing ping) {
        throw unexpected(ping.toString());
    }

    @Override
    public void onPong(TunnelStream stream, AmstPong pong) {
        throw unexpected(pong.toString());
    }

    @Override
    public void onAbort(TunnelStream stream, AmstAbort abort) {
        throw unexpected(abort.toString());
    }

    @Override
    public void onOpen(AmstOpen open, long credit) {
        throw unexpected(open.toString());
    }

    @Override
    public void onAccept(AmstAccept accept, long credit) {
        throw unexpected(accept.toString());
    }

    @Override
    public void onChannelOpen(int channel, long credit) {
        throw unexpected("CHANNEL_OPEN " + channel);
    }

    @Override
    public void onData(int channel, ByteBuf data, long credit) {
        throw unexpected("DATA on channel " + channel);
    }

    @Override
    public void onCheckpoint(int channel, AmstCheckpoint checkpoint, long credit) {
        throw unexpected(checkpoint.toString());
    }

    @Override
    public void onFin(int channel, AmstFin fin, long credit) {
        throw unexpected(fin.toString());
    }
}
