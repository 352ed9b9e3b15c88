package io.dwcp.testbed.net;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

/**
 * UDP probes between two hosts, our own ping: round-trip times (an echo on the far host) and
 * one-way delivery counts (a counter on the far host). A probe is 64 bytes of UDP payload
 * (92-byte IP packets, like ping's default). Runs inside this JVM, with sockets made in the hosts'
 * namespaces; the echo answers on its own thread, so an RTT includes a thread wake-up there and
 * here (tens of microseconds). The probe threads ask for real-time priority (SCHED_FIFO, best
 * effort), since ping's kernel-side echo and receive timestamps do not wait for a busy CPU either.
 */
public final class UdpProbe {
    private static final int PAYLOAD = 64;
    private static final int PROBE_PRIORITY = 5;

    private UdpProbe() {}

    /**
     * Sends {@code count} probes from {@code from} to an echo on {@code to}:{@code port}, one every
     * {@code interval}, and returns the round-trip time of each, in nanoseconds (-1 for a probe
     * whose answer did not come within {@code timeout} of the last probe).
     */
    public static long[] roundTrips(Host from, Host to, int port, int count, Duration interval, Duration timeout)
            throws InterruptedException {
        requireNonNull(from, "from is null");
        requireNonNull(to, "to is null");
        DatagramChannel echo = to.call(() -> DatagramChannel.open().bind(new InetSocketAddress(to.address(), port)));
        Thread echoThread = new Thread(
                () -> {
                    LinuxCalls.setThisThreadRealtime(PROBE_PRIORITY);
                    ByteBuffer buffer = ByteBuffer.allocate(2048);
                    try {
                        while (true) {
                            buffer.clear();
                            var sender = echo.receive(buffer);
                            buffer.flip();
                            echo.send(buffer, sender);
                        }
                    } catch (IOException e) {
                        // closed: done
                    }
                },
                "udp-echo");
        echoThread.setDaemon(true);
        echoThread.start();
        AtomicLongArray sent = new AtomicLongArray(count);
        AtomicLongArray rtt = new AtomicLongArray(count);
        for (int i = 0; i < count; i++) {
            rtt.set(i, -1);
        }
        try (DatagramChannel client = from.call(() -> DatagramChannel.open()
                .bind(new InetSocketAddress(from.address(), 0))
                .connect(new InetSocketAddress(to.address(), port)))) {
            Thread receiver = new Thread(
                    () -> {
                        LinuxCalls.setThisThreadRealtime(PROBE_PRIORITY);
                        ByteBuffer buffer = ByteBuffer.allocate(2048);
                        try {
                            while (true) {
                                buffer.clear();
                                client.read(buffer);
                                long now = System.nanoTime();
                                int sequence = buffer.getInt(0);
                                if (sequence >= 0 && sequence < count && rtt.get(sequence) < 0) {
                                    rtt.set(sequence, now - sent.get(sequence));
                                }
                            }
                        } catch (IOException e) {
                            // closed: done
                        }
                    },
                    "udp-probe-receive");
            receiver.setDaemon(true);
            receiver.start();
            ByteBuffer probe = ByteBuffer.allocate(PAYLOAD);
            long next = System.nanoTime();
            LinuxCalls.setThisThreadRealtime(PROBE_PRIORITY);
            try {
                for (int i = 0; i < count; i++) {
                    sleepUntil(next);
                    probe.clear();
                    probe.putInt(0, i);
                    sent.set(i, System.nanoTime());
                    client.write(probe);
                    next += interval.toNanos();
                }
            } finally {
                LinuxCalls.setThisThreadRealtime(0);
            }
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline && !allAnswered(rtt)) {
                Thread.sleep(5);
            }
            client.close();
            receiver.join(2000);
            long[] result = new long[count];
            for (int i = 0; i < count; i++) {
                result[i] = rtt.get(i);
            }
            return result;
        } catch (IOException e) {
            throw new UncheckedIOException("UDP probes from " + from + " to " + to + " failed", e);
        } finally {
            try {
                echo.close();
            } catch (IOException e) {
                // closing anyway
            }
            echoThread.join(2000);
        }
    }

    /**
     * Sends {@code count} probes from {@code from} to {@code to}:{@code port}, {@code perSecond} of
     * them a second, waits {@code drain} for the last ones, and returns how many distinct probes
     * arrived.
     */
    public static int delivered(Host from, Host to, int port, int count, int perSecond, Duration drain)
            throws InterruptedException {
        DatagramChannel sink = to.call(() -> {
            DatagramChannel channel = DatagramChannel.open();
            channel.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
            return channel.bind(new InetSocketAddress(to.address(), port));
        });
        BitSet seen = new BitSet(count);
        Thread counter = new Thread(
                () -> {
                    ByteBuffer buffer = ByteBuffer.allocate(2048);
                    try {
                        while (true) {
                            buffer.clear();
                            sink.receive(buffer);
                            int sequence = buffer.getInt(0);
                            if (sequence >= 0 && sequence < count) {
                                synchronized (seen) {
                                    seen.set(sequence);
                                }
                            }
                        }
                    } catch (IOException e) {
                        // closed: done
                    }
                },
                "udp-sink");
        counter.setDaemon(true);
        counter.start();
        try (DatagramChannel client = from.call(() -> DatagramChannel.open()
                .bind(new InetSocketAddress(from.address(), 0))
                .connect(new InetSocketAddress(to.address(), port)))) {
            ByteBuffer probe = ByteBuffer.allocate(PAYLOAD);
            long start = System.nanoTime();
            for (int i = 0; i < count; i++) {
                sleepUntil(start + (long) i * 1_000_000_000L / perSecond);
                probe.clear();
                probe.putInt(0, i);
                client.write(probe);
            }
            Thread.sleep(drain.toMillis());
        } catch (IOException e) {
            throw new UncheckedIOException("UDP probes from " + from + " to " + to + " failed", e);
        } finally {
            try {
                sink.close();
            } catch (IOException e) {
                // closing anyway
            }
            counter.join(2000);
        }
        synchronized (seen) {
            return seen.cardinality();
        }
    }

    private static boolean allAnswered(AtomicLongArray rtt) {
        for (int i = 0; i < rtt.length(); i++) {
            if (rtt.get(i) < 0) {
                return false;
            }
        }
        return true;
    }

    private static void sleepUntil(long deadline) {
        for (long left; (left = deadline - System.nanoTime()) > 0; ) {
            LockSupport.parkNanos(left);
        }
    }

    /** Round trips in milliseconds, for messages. */
    public static List<Double> millis(long[] nanos) {
        List<Double> values = new ArrayList<>();
        for (long value : nanos) {
            values.add(value < 0 ? Double.NaN : Math.round(value / 1e4) / 100.0);
        }
        return values;
    }
}
