package io.dwcp.tunnel;

import io.dwcp.transport.SenderStats;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of the daemon's tunnel (thread-safe): what its senders count ({@link SenderStats}), and
 * QEMU bytes, frames received, sessions, streams, digest checks and refused connections. Exported
 * on {@code /metrics} by {@link TunnelMetrics}.
 */
public final class TunnelStats
        extends SenderStats
{
    public final LongAdder qemuBytesRead = new LongAdder();
    public final LongAdder qemuBytesWritten = new LongAdder();
    public final LongAdder tunnelBytesReceived = new LongAdder();
    public final LongAdder framesDuplicate = new LongAdder();
    public final LongAdder sessionsStarted = new LongAdder();
    public final LongAdder sessionsCompleted = new LongAdder();
    public final LongAdder sessionsFailed = new LongAdder();
    public final LongAdder streamsOpened = new LongAdder();
    public final LongAdder streamsFailed = new LongAdder();
    public final LongAdder digestMismatches = new LongAdder();
    private final Map<String, LongAdder> connectionsRefused = new ConcurrentHashMap<>();

    public void refused(String reason)
    {
        connectionsRefused.computeIfAbsent(reason, ignored -> new LongAdder()).increment();
    }

    public Map<String, LongAdder> connectionsRefused()
    {
        return connectionsRefused;
    }

    public long refusedCount(String reason)
    {
        LongAdder adder = connectionsRefused.get(reason);
        return adder == null ? 0 : adder.sum();
    }
}
