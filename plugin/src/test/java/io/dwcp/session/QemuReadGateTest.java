package io.dwcp.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.amst.AmstConfig;
import io.dwcp.config.DataSize;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Which QEMU connections a session reads, without sockets: the connections are hand-written
 * {@link QemuReadGate.Connection}s whose auto-read is a field, the session's readiness a flag.
 */
class QemuReadGateTest {
    private static final long KIB = 1 << 10;
    private static final long MIB = 1 << 20;

    /** A QEMU connection: its auto-read and its undelivered bytes are fields; counts its pauses. */
    private static final class FakeConnection implements QemuReadGate.Connection {
        boolean ended;
        boolean registered = true;
        boolean autoRead;
        long undelivered;
        int paused;

        @Override
        public boolean isInboundEnded() {
            return ended;
        }

        @Override
        public long undelivered() {
            return undelivered;
        }

        @Override
        public boolean isRegistered() {
            return registered;
        }

        @Override
        public boolean isAutoRead() {
            return autoRead;
        }

        @Override
        public void setAutoRead(boolean read) {
            autoRead = read;
        }

        @Override
        public void fromQemuPaused() {
            paused++;
        }
    }

    private final List<FakeConnection> connections = new ArrayList<>();
    private final List<Boolean> heard = new ArrayList<>();
    private final ManualClock clock = new ManualClock();
    private boolean ready = true;

    private QemuReadGate gate(AmstConfig amst, long window, boolean reading) {
        return new QemuReadGate(amst, window, connections, () -> ready, heard::add, reading, clock, "[test]");
    }

    private FakeConnection connection() {
        FakeConnection connection = new FakeConnection();
        connections.add(connection);
        return connection;
    }

    @Test
    void oneConnectionIsReadWhileLessThanTheRawWindowOfItIsUndelivered() {
        QemuReadGate gate = gate(new AmstConfig().setRawWindow(DataSize.ofKiB(64)), MIB, false);
        FakeConnection qemu = connection();
        assertEquals(64 * KIB, gate.channelRawWindow(), "one connection: the raw window in force");

        gate.update();
        assertTrue(qemu.autoRead);
        assertTrue(gate.isReading());
        assertEquals(List.of(true), heard, "the link monitor hears that QEMU is read again");

        qemu.undelivered = 64 * KIB - 1;
        gate.update();
        assertTrue(qemu.autoRead);

        qemu.undelivered = 64 * KIB;
        gate.update();
        assertFalse(qemu.autoRead, "the raw window is full");
        assertFalse(gate.isReading());
        assertEquals(List.of(true, false), heard);
        assertEquals(2, qemu.paused, "told once as it stopped, and once more as the session stopped reading at all");
    }

    /**
     * Each stretch in which QEMU is not read counts for the first reason that held it: nothing read
     * yet, the tunnel not ready, the codec lane's queue full, the raw window full; reading counts
     * for none, nor does the time after QEMU's stream ended.
     */
    @Test
    void theTimeQemuIsNotReadIsCountedByWhatHeldItBack() {
        QemuReadGate gate = gate(new AmstConfig().setRawWindow(DataSize.ofKiB(64)), MIB, false);
        FakeConnection qemu = connection();
        ready = false;
        gate.update();
        clock.advance(3_000_000L); // the start: the streams, OPEN, the codec's answer
        ready = true;
        gate.update();
        assertTrue(qemu.autoRead);
        gate.read(1000);
        clock.advance(50_000_000L); // reading: counts for nothing
        ready = false;
        gate.update();
        clock.advance(5_000_000L); // the sender's window is full
        ready = true;
        gate.queue((int) MIB);
        gate.update();
        assertFalse(qemu.autoRead);
        clock.advance(7_000_000L); // the codec lane is behind
        gate.dequeue((int) MIB);
        qemu.undelivered = 64 * KIB;
        gate.update();
        assertFalse(qemu.autoRead);
        clock.advance(11_000_000L); // the raw window is full
        long[] soFar = gate.heldNanos();
        assertEquals(11_000_000L, soFar[QemuReadGate.Hold.RAW_WINDOW.ordinal()], "the stretch in progress counts");
        qemu.undelivered = 0;
        gate.update();
        assertTrue(qemu.autoRead);
        clock.advance(20_000_000L);
        qemu.ended = true;
        gate.update();
        clock.advance(30_000_000L); // the stream ended: nothing holds it back
        long[] held = gate.heldNanos();
        assertEquals(3_000_000L, held[QemuReadGate.Hold.START.ordinal()]);
        assertEquals(5_000_000L, held[QemuReadGate.Hold.TUNNEL.ordinal()]);
        assertEquals(7_000_000L, held[QemuReadGate.Hold.CODEC.ordinal()]);
        assertEquals(0L, held[QemuReadGate.Hold.PACE.ordinal()]);
        assertEquals(11_000_000L, held[QemuReadGate.Hold.RAW_WINDOW.ordinal()]);
    }

    @Test
    void nothingIsReadWhileTheSessionIsNotReady() {
        QemuReadGate gate = gate(new AmstConfig(), MIB, true);
        FakeConnection first = connection();
        FakeConnection second = connection();
        first.autoRead = true;
        second.autoRead = true;
        ready = false;

        gate.update();
        assertFalse(first.autoRead);
        assertFalse(second.autoRead);
        assertEquals(List.of(false), heard);

        ready = true;
        gate.update();
        assertTrue(first.autoRead);
        assertTrue(second.autoRead);
        assertEquals(List.of(false, true), heard);
    }

    @Test
    void aSessionThatDoesNotReadYetHearsNothingUntilItDoes() {
        QemuReadGate gate = gate(new AmstConfig(), MIB, false);
        connection();
        ready = false;
        gate.update();
        assertEquals(List.of(), heard, "it was not reading before either");
        assertFalse(gate.isReading());
    }

    @Test
    void withSeveralConnectionsEachGetsItsShareOfTheRawWindowAtLeastTwoCheckpoints() {
        AmstConfig amst = new AmstConfig().setRawWindow(DataSize.ofKiB(192)).setCheckpointInterval(DataSize.ofKiB(16));
        QemuReadGate gate = gate(amst, MIB, true);
        for (int i = 0; i < 3; i++) {
            connection();
        }
        assertEquals(64 * KIB, gate.channelRawWindow(), "192 KiB over three connections");
        for (int i = 3; i < 8; i++) {
            connection();
        }
        assertEquals(32 * KIB, gate.channelRawWindow(), "a share of 24 KiB is less than two checkpoints");

        QemuReadGate small = gate(
                new AmstConfig().setRawWindow(DataSize.ofKiB(16)).setCheckpointInterval(DataSize.ofKiB(16)), MIB, true);
        assertEquals(16 * KIB, small.channelRawWindow(), "never more than the configured raw window");
    }

    @Test
    void aConnectionTheDestinationDoesNotReadHoldsOnlyItsOwnShare() {
        AmstConfig amst = new AmstConfig().setRawWindow(DataSize.ofKiB(192)).setCheckpointInterval(DataSize.ofKiB(16));
        QemuReadGate gate = gate(amst, MIB, true);
        FakeConnection main = connection();
        FakeConnection atSyncPoint = connection();
        FakeConnection awaited = connection();
        connections.forEach(connection -> connection.autoRead = true);
        atSyncPoint.undelivered = 96 * KIB;
        awaited.undelivered = 32 * KIB;

        gate.update();
        assertTrue(main.autoRead, "the main channel is read");
        assertFalse(atSyncPoint.autoRead, "the channel at a sync point used up its share");
        assertEquals(1, atSyncPoint.paused, "told, so that what it read goes with a checkpoint");
        assertTrue(awaited.autoRead, "the channel whose sync packet the destination waits for is read");
        assertTrue(gate.isReading());

        atSyncPoint.undelivered = 0;
        gate.update();
        assertTrue(atSyncPoint.autoRead, "read again once the destination took its bytes");
    }

    @Test
    void theQueueLimitStopsEveryConnectionUntilTheLoopCaughtUp() {
        // a sixteenth of the window: 1 MiB of 16 MiB
        QemuReadGate gate = gate(new AmstConfig(), 16 * MIB, true);
        FakeConnection qemu = connection();
        gate.update();
        assertTrue(qemu.autoRead);

        assertFalse(gate.queue((int) (MIB / 2)));
        assertTrue(gate.queue((int) (MIB / 2)), "the connection that filled the queue stops reading");
        gate.update();
        assertFalse(qemu.autoRead);
        assertEquals(List.of(false), heard);

        gate.dequeue(1);
        gate.update();
        assertTrue(qemu.autoRead, "a connection paused for the queue limit is read again");
        assertEquals(List.of(false, true), heard);
    }

    @Test
    void theQueueLimitIsAtLeastOneMebibyte() {
        QemuReadGate gate = gate(new AmstConfig(), 64 * KIB, true);
        assertFalse(gate.queue((int) MIB - 1));
        assertTrue(gate.queue(1));
    }

    @Test
    void anEndedOrUnregisteredConnectionIsNotSwitched() {
        QemuReadGate gate = gate(new AmstConfig(), MIB, true);
        FakeConnection ended = connection();
        ended.ended = true;
        ended.autoRead = true;
        FakeConnection unregistered = connection();
        unregistered.registered = false;

        gate.update();
        assertTrue(ended.autoRead, "an ended connection is left alone");
        assertEquals(0, ended.paused);
        assertFalse(unregistered.autoRead, "a connection not registered yet starts reading when it is");
        assertTrue(gate.isReading(), "it could be read: the session counts as reading");
    }

    @Test
    void withoutConnectionsTheSessionReadsWhileItIsReady() {
        QemuReadGate gate = gate(new AmstConfig(), MIB, false);
        gate.update();
        assertTrue(gate.isReading());
        ready = false;
        gate.update();
        assertFalse(gate.isReading());
        assertEquals(List.of(true, false), heard);
    }

    @Test
    void oneConnectionsRawWindowFollowsWhatThePeerDelivered() {
        // 64 MiB at most, two 4 MiB checkpoints at least, a drain target of 150 ms
        QemuReadGate gate = gate(new AmstConfig(), MIB, true);
        FakeConnection qemu = connection();
        assertEquals(64 * MIB, gate.channelRawWindow(), "the maximum until a rate was measured");

        gate.sampleRawWindow(0, 0, 0, 0, 0);
        gate.peerDelivered(10 * MIB);
        gate.peerDelivered(5 * MIB);
        gate.sampleRawWindow(1_000_000_000L, 0, 0, 0, 0);
        // 10 MiB/s x 150 ms is below the minimum
        assertEquals(8 * MIB, gate.channelRawWindow());

        qemu.undelivered = 8 * MIB;
        gate.update();
        assertFalse(qemu.autoRead);

        connection();
        assertEquals(32 * MIB, gate.channelRawWindow(), "several connections share amst.raw-window itself");
    }

    /** Delivers {@code bytesPerSecond} for {@code seconds} one-second samples, reading as much. */
    private long deliverSteadily(QemuReadGate gate, long delivered, long bytesPerSecond, int seconds) {
        for (int i = 0; i < seconds; i++) {
            clock.advance(1_000_000_000L);
            delivered += bytesPerSecond;
            gate.peerDelivered(delivered);
            gate.sampleRawWindow(clock.nanoTime(), 140_000, 0, 0, 0);
        }
        return delivered;
    }

    @Test
    void readingIsPacedAtTheShareOfTheHighestDeliveryRateOnceTheTunnelHasStarted() {
        QemuReadGate gate = gate(new AmstConfig().setReadPacePercent(125), MIB, true);
        FakeConnection qemu = connection();
        gate.sampleRawWindow(clock.nanoTime(), 140_000, 0, 0, 0);
        // the first sample is the start; pacing begins with the (PACE_AFTER_SAMPLES + 1)th
        long delivered = deliverSteadily(gate, 0, 40 * MIB, QemuReadGate.PACE_AFTER_SAMPLES - 1);
        assertEquals(0, gate.pace(), 0, "no pacing during the tunnel's start");

        delivered = deliverSteadily(gate, delivered, 20 * MIB, 1);
        assertEquals(50 * MIB, gate.pace(), 1, "125 % of the highest rate so far, not of the last");

        // QEMU writes a burst at memory speed: 10 ms at the pace pass, then reading pauses
        gate.update();
        assertTrue(qemu.autoRead);
        gate.read((int) (MIB / 2));
        gate.update();
        assertTrue(qemu.autoRead, "within the bucket (10 ms at 50 MiB/s)");
        gate.read((int) MIB);
        gate.update();
        assertFalse(qemu.autoRead, "the bucket is spent");
        assertEquals(List.of(false), heard, "the session stopped reading");
        assertEquals(1, clock.pending(), "one timer to resume");
        gate.update();
        assertEquals(1, clock.pending(), "not one more per update");

        // 1 MiB over the bucket at 50 MiB/s: 20 ms
        clock.advance(19_000_000L);
        assertFalse(qemu.autoRead);
        clock.advance(1_000_000L);
        assertTrue(qemu.autoRead, "the timer resumed reading");
        assertEquals(List.of(false, true), heard);
        assertEquals(0, clock.pending());

        // over a second, QEMU gets at most the pace plus the bucket
        long read = 0;
        long start = clock.nanoTime();
        while (clock.nanoTime() - start < 1_000_000_000L) {
            if (qemu.autoRead) {
                gate.read(64 * 1024);
                read += 64 * 1024;
                gate.update();
            } else {
                clock.advance(100_000L);
            }
        }
        assertTrue(read <= 50 * MIB + MIB / 2 + 64 * 1024, "read " + read);
        assertTrue(read >= 49 * MIB, "read " + read + ": the pace is not a lower bound");
    }

    @Test
    void thePaceFollowsWhatTheLinkCarriesAtTheStreamsPresentCompression() {
        QemuReadGate gate = gate(new AmstConfig().setReadPacePercent(125), MIB, true);
        connection();
        gate.sampleRawWindow(clock.nanoTime(), 140_000, 0, 0, 0);
        long[] read = {0};
        long[] delivered = {0};
        long[] wire = {0};
        // whole pages at 2:1, the link's goodput 10 MiB/s: 20 MiB/s deliverable, as delivered; the
        // pace has its headroom over the delivery rate
        for (int i = 0; i <= QemuReadGate.PACE_AFTER_SAMPLES; i++) {
            oneSecond(gate, 20 * MIB, 10 * MIB, 20 * MIB, read, delivered, wire);
        }
        assertEquals(25 * MIB, gate.pace(), 1);

        // the guest's later iterations go as deltas, 10:1: the same link delivers 100 MiB/s of the
        // stream, though the pace let only 30 through in the last interval
        oneSecond(gate, 30 * MIB, 3 * MIB, 30 * MIB, read, delivered, wire);
        assertEquals(100 * MIB, gate.pace(), 1, "the link's goodput x the stream's compression");

        // an interval of almost no frames says nothing of the compression: the highest delivery rate
        oneSecond(gate, 4 * MIB, MIB / 2, 0, read, delivered, wire);
        assertEquals(37.5 * MIB, gate.pace(), 1, "125 % of the 30 MiB/s delivered");

        assertEquals(0, QemuReadGate.deliverableRate(0, 10 * MIB, 2 * MIB), 0, "no goodput yet");
        assertEquals(0, QemuReadGate.deliverableRate(10 * MIB, 0, 2 * MIB), 0, "nothing read");
        assertEquals(50 * MIB, QemuReadGate.deliverableRate(10 * MIB, 10 * MIB, 2 * MIB), 1);
    }

    /**
     * One controller interval of a second: {@code read} bytes read from QEMU, {@code sent} frame
     * bytes sent and {@code delivered} bytes in the peer's QEMU (added to the running totals), on a
     * link of 10 MiB/s highest goodput.
     */
    private void oneSecond(
            QemuReadGate gate,
            long read,
            long sent,
            long delivered,
            long[] readTotal,
            long[] deliveredTotal,
            long[] sentTotal) {
        clock.advance(1_000_000_000L);
        gate.read((int) read);
        readTotal[0] += read;
        sentTotal[0] += sent;
        deliveredTotal[0] += delivered;
        gate.peerDelivered(deliveredTotal[0]);
        gate.sampleRawWindow(clock.nanoTime(), 140_000, 10 * MIB, readTotal[0], sentTotal[0]);
    }

    @Test
    void zeroPercentNeverPaces() {
        QemuReadGate gate = gate(new AmstConfig().setReadPacePercent(0), MIB, true);
        FakeConnection qemu = connection();
        gate.sampleRawWindow(clock.nanoTime(), 140_000, 0, 0, 0);
        deliverSteadily(gate, 0, 40 * MIB, QemuReadGate.PACE_AFTER_SAMPLES + 3);
        assertEquals(0, gate.pace(), 0);
        gate.update();
        gate.read((int) (64 * MIB));
        gate.update();
        assertTrue(qemu.autoRead);
        assertEquals(0, clock.pending());
    }

    @Test
    void aTimerThatFiresAfterTheSessionStoppedBeingReadyReadsNothing() {
        QemuReadGate gate = gate(new AmstConfig(), MIB, true);
        FakeConnection qemu = connection();
        gate.sampleRawWindow(clock.nanoTime(), 140_000, 0, 0, 0);
        deliverSteadily(gate, 0, 10 * MIB, QemuReadGate.PACE_AFTER_SAMPLES + 1);
        gate.update();
        gate.read((int) (4 * MIB));
        gate.update();
        assertFalse(qemu.autoRead);
        ready = false;
        clock.advance(1_000_000_000L);
        assertFalse(qemu.autoRead, "the session is no longer ready");
        assertEquals(0, clock.pending());
    }

    @Test
    void fromTheSwitchOverQemusLastBytesAreReadUnpacedWithinTheSameRawWindow() {
        QemuReadGate gate = gate(new AmstConfig().setReadPacePercent(125), MIB, true);
        FakeConnection qemu = connection();
        gate.sampleRawWindow(clock.nanoTime(), 140_000, 0, 0, 0);
        long delivered = deliverSteadily(gate, 0, 20 * MIB, QemuReadGate.PACE_AFTER_SAMPLES + 1);
        assertEquals(25 * MIB, gate.pace(), 1);
        long window = gate.channelRawWindow();
        assertEquals(20 * MIB * 0.43 + 5 * MIB, window, 1);
        gate.update();
        gate.read((int) (2 * MIB));
        gate.update();
        assertFalse(qemu.autoRead, "paced: 2 MiB is beyond the bucket");
        assertEquals(1, clock.pending());

        gate.switchedOver();
        assertEquals(0, gate.pace(), 0);
        gate.update();
        assertTrue(qemu.autoRead, "no pace: reading goes on at once");
        gate.read((int) (8 * MIB));
        gate.update();
        assertTrue(qemu.autoRead);
        qemu.undelivered = window;
        gate.update();
        assertFalse(qemu.autoRead, "the raw window still holds");
        assertEquals(window, gate.channelRawWindow());

        deliverSteadily(gate, delivered, 20 * MIB, 2);
        assertEquals(0, gate.pace(), 0, "a later sample does not pace again");
    }
}
