package io.dwcp.transport;

import java.util.concurrent.atomic.LongAdder;

/**
 * What AMST's sending side counts (thread-safe): every frame byte written to a tunnel stream, by a
 * session's {@link FrameSender} or by a {@link ControlWriter}, and the sequenced frames sent,
 * re-sent and whose re-sending was withheld. The tunnel's own statistics extend it
 * ({@code io.dwcp.tunnel.TunnelStats}), so one object counts a daemon's tunnel.
 */
public class SenderStats
{
    public final LongAdder tunnelBytesSent = new LongAdder();
    public final LongAdder framesSent = new LongAdder();
    public final LongAdder framesResent = new LongAdder();
    public final LongAdder resendsWithheld = new LongAdder();
}
