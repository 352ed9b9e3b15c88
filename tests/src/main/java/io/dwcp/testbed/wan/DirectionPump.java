package io.dwcp.testbed.wan;

import static java.util.Objects.requireNonNull;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import io.dwcp.testbed.net.LinuxCalls;

/**
 * Moves the packets of one direction: reads them from a TUN device, asks the {@link LinkModel}
 * when each may leave, keeps it until then and writes it back into the same device, so that the
 * kernel forwards it on. One thread, no allocation per packet.
 *
 * <p>Packets wait in a ring of native memory in arrival order, which is also their release order
 * (the model never reorders). The thread reads up to {@value #BATCH} packets, writes up to
 * {@value #BATCH} due ones, and when it found nothing to do sleeps in {@code ppoll} until the TUN
 * device is readable or the oldest packet is due (see {@link #idle}); its timer slack is set to
 * 1 µs (the default is 50 µs). It never spins.
 *
 * <p>The thread runs with real-time priority (SCHED_FIFO) when asked: a WAN does not slow down
 * because the hosts' CPUs are busy, and here the emulator shares two cores with QEMU guests and
 * dwcpd. The kernel's real-time throttling (95 % of each second) bounds it in any case.
 *
 * <p>Packets leave when the thread wakes after their time: a timer wakes this virtual machine's
 * threads 50-150 µs late, so packets leave that much late, all of them alike (their release times
 * come from the model, never from when the previous one left, so the lateness does not add up and
 * the rate is the profile's). That is under 0.25 % of the shortest emulated round trip (S1, 70 ms),
 * and {@code WanFidelityIT} measures its floor on a link of negligible delay. The pump used to wake
 * early and spin through the lateness, releasing within microseconds: in S2 light through dwcpd the
 * emulator then used 6.25 CPU-s in 16.4 s, and 3.2-4.2 CPU-s in 12.1-15.6 s without it (ten runs),
 * CPU that the hosts it emulates a network for need on this two-core machine, where a real WAN
 * takes none of theirs.
 */
final class DirectionPump implements Runnable {
    static final int MAX_PACKET = 2048;
    private static final int BATCH = 64;
    private static final long IDLE_POLL_NANOS = 100_000_000L;
    private static final long PUBLISH_NANOS = 1_000_000L;

    private final String name;
    private final TunDevice tun;
    private final LinkModel model;

    private final Memory data;
    private final long base;
    private final long capacity;
    private final int[] offsets;
    private final int[] lengths;
    private final long[] releases;
    private final int mask;
    private int head;
    private int count;
    private long dataTail;

    private final Memory scratch = new Memory(MAX_PACKET);
    private final Memory pollFd = new Memory(8);
    private final Memory timeout = new Memory(16);

    private long packetsIn;
    private long packetsOut;
    private long droppedByLoss;
    private long droppedByQueue;
    private long bytesIn;
    private long bytesOut;
    private volatile boolean corruptArmed;
    /** Once armed, a connection must carry this much here before one of its segments is corrupted. */
    static final long CORRUPT_AFTER_BYTES = 64 * 1024;
    // the pump's: which segments carry fresh data, from the arming on; the first bytes of a packet
    private FreshTcpData fresh;
    private final byte[] header = new byte[60];
    private volatile byte[] scanPattern;
    private volatile long scanHits;
    private volatile long corrupted;
    private volatile WanStats.Direction published = new WanStats.Direction(true, 0, 0, 0, 0, 0, 0);
    private final int realtimePriority;
    private volatile boolean stopped;
    private volatile String failure;

    DirectionPump(String name, TunDevice tun, LinkModel model, long bufferBytes, int realtimePriority) {
        this.realtimePriority = realtimePriority;
        this.name = requireNonNull(name, "name is null");
        this.tun = requireNonNull(tun, "tun is null");
        this.model = requireNonNull(model, "model is null");
        this.capacity = Math.max(bufferBytes, 4L * MAX_PACKET);
        this.data = new Memory(capacity);
        this.base = Pointer.nativeValue(data);
        int entries = Integer.highestOneBit((int) Math.min(1 << 24, Math.max(1024, capacity / 64)) * 2 - 1);
        this.offsets = new int[entries];
        this.lengths = new int[entries];
        this.releases = new long[entries];
        this.mask = entries - 1;
        pollFd.setInt(0, tun.fd());
        pollFd.setShort(4, LinuxCalls.POLLIN);
    }

    WanStats.Direction stats() {
        return published;
    }

    String failure() {
        return failure;
    }

    /**
     * Arms a one-shot corruption: the next TCP segment this direction forwards that carries data its
     * connection had not carried before, once that connection carried {@link #CORRUPT_AFTER_BYTES}
     * since the arming, gets one payload bit flipped and its TCP checksum recomputed, so that the
     * receiving host's TCP accepts it and only the application can notice (a fault below TCP that
     * its checksum misses). A retransmission is never the one: its receiver may already hold the
     * data and drop it.
     */
    void armCorruption() {
        corruptArmed = true;
    }

    /**
     * From now on, counts the packets this direction forwards that contain {@code pattern} (a
     * capture of the link, reduced to what a test asks of it); null stops and resets the count.
     */
    void scanFor(byte[] pattern) {
        scanPattern = pattern == null ? null : pattern.clone();
        scanHits = 0;
    }

    /** Packets that contained the pattern since {@link #scanFor}. */
    long scanHits() {
        return scanHits;
    }

    /** Segments corrupted so far by {@link #armCorruption}. */
    long corrupted() {
        return corrupted;
    }

    void stop() {
        stopped = true;
    }

    @Override
    public void run() {
        LinuxCalls.prctl(LinuxCalls.PR_SET_TIMERSLACK, 1000, 0, 0, 0);
        if (realtimePriority > 0 && !LinuxCalls.setThisThreadRealtime(realtimePriority)) {
            System.err.println("direction " + name + ": cannot get SCHED_FIFO priority " + realtimePriority
                    + "; running at normal priority, so CPU load on this machine delays packets");
        }
        long scratchAddress = Pointer.nativeValue(scratch);
        long lastPublished = 0;
        boolean unpublished = false;
        while (!stopped) {
            boolean progressed = false;
            for (int i = 0; i < BATCH; i++) {
                long slot = reserve();
                long target = slot < 0 ? scratchAddress : base + slot;
                long n = LinuxCalls.read(tun.fd(), target, MAX_PACKET);
                if (n <= 0) {
                    break;
                }
                progressed = true;
                long now = System.nanoTime();
                packetsIn++;
                bytesIn += n;
                if (slot < 0) {
                    droppedByQueue++; // our own buffer is full: sized so this does not happen
                    continue;
                }
                long release = model.arrive(now, (int) n);
                if (release == LinkModel.DROPPED_BY_LOSS) {
                    droppedByLoss++;
                } else if (release == LinkModel.DROPPED_BY_QUEUE) {
                    droppedByQueue++;
                } else {
                    int tail = (head + count) & mask;
                    offsets[tail] = (int) slot;
                    lengths[tail] = (int) n;
                    releases[tail] = release;
                    count++;
                    dataTail = slot + ((n + 15) & ~15L);
                }
            }
            long now = System.nanoTime();
            for (int i = 0; i < BATCH && count > 0 && releases[head] <= now; i++) {
                int length = lengths[head];
                byte[] pattern = scanPattern;
                if (pattern != null && PacketScan.contains(base + offsets[head], length, pattern)) {
                    scanHits++;
                }
                if (corruptArmed) {
                    // only fresh data of a connection past its first bytes: see FreshTcpData
                    if (fresh == null) {
                        fresh = new FreshTcpData(CORRUPT_AFTER_BYTES);
                    }
                    int available = Math.min(header.length, length);
                    data.read(offsets[head], header, 0, available);
                    if (fresh.observe(header, available, length)
                            && PacketCorruption.corruptTcpPayload(base + offsets[head], length)) {
                        corruptArmed = false;
                        fresh = null;
                        corrupted++;
                    }
                }
                if (LinuxCalls.write(tun.fd(), base + offsets[head], length) == length) {
                    packetsOut++;
                    bytesOut += length;
                } else {
                    droppedByQueue++;
                }
                head = (head + 1) & mask;
                count--;
                progressed = true;
            }
            unpublished |= progressed;
            if (unpublished && (!progressed || now - lastPublished > PUBLISH_NANOS)) {
                published = new WanStats.Direction(
                        true, packetsIn, packetsOut, droppedByLoss, droppedByQueue, bytesIn, bytesOut);
                lastPublished = now;
                unpublished = false;
            }
            if (!progressed) {
                idle(now);
            }
        }
    }

    /** Nothing to read, nothing due: sleep in ppoll until the TUN device is readable or the oldest packet is due. */
    private void idle(long now) {
        long sleep = count > 0 ? Math.max(releases[head] - now, 0) : IDLE_POLL_NANOS;
        timeout.setLong(0, sleep / 1_000_000_000L);
        timeout.setLong(8, sleep % 1_000_000_000L);
        pollFd.setShort(6, (short) 0);
        int ready = LinuxCalls.ppoll(Pointer.nativeValue(pollFd), 1, Pointer.nativeValue(timeout), 0);
        if (ready <= 0) {
            return;
        }
        short events = pollFd.getShort(6);
        if ((events & (LinuxCalls.POLLERR | LinuxCalls.POLLHUP | LinuxCalls.POLLNVAL)) != 0) {
            failure = "TUN device " + tun.name() + " of direction " + name + " failed (poll events 0x"
                    + Integer.toHexString(events) + "): was its namespace deleted?";
            stopped = true;
        }
    }

    /** Offset of room for one more packet in the ring, or -1 when it is full. */
    private long reserve() {
        if (count == offsets.length) {
            return -1;
        }
        if (count == 0) {
            dataTail = 0;
            return 0;
        }
        long headOffset = offsets[head];
        if (dataTail > headOffset) {
            if (capacity - dataTail >= MAX_PACKET) {
                return dataTail;
            }
            return headOffset > MAX_PACKET ? 0 : -1;
        }
        return headOffset - dataTail > MAX_PACKET ? dataTail : -1;
    }
}
