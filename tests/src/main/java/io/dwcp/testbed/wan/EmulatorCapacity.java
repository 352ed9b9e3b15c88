package io.dwcp.testbed.wan;

import io.dwcp.testbed.net.TcpBulkTransfer;
import io.dwcp.testbed.net.TwoHostNetwork;
import java.time.Duration;
import java.util.Locale;

/**
 * Measures the highest rate the WAN emulator sustains here at 1500-byte MTU: bulk TCP from A to B
 * over a link with a delay but no rate limit, so the emulator (and the hosts' TCP, on the same
 * CPUs) is the bottleneck. Prints one line per stream count: TCP goodput, the IP rate the emulator
 * delivered and its packet rate, and what it dropped (it should drop nothing).
 * <pre>
 * mvn -B -q -pl tests package -DskipTests
 * java -cp 'tests/target/classes:tests/target/lib/*' io.dwcp.testbed.wan.EmulatorCapacity [delayMs] [seconds] [streams...]
 * </pre>
 * Run as root. Defaults: 5 ms one-way delay each way, 10 s measured after 3 s of warm-up, 1, 2, 4 and 8 streams.
 */
public final class EmulatorCapacity {
    private EmulatorCapacity() {}

    public static void main(String[] args) throws Exception {
        long delayMillis = args.length > 0 ? Long.parseLong(args[0]) : 5;
        long seconds = args.length > 1 ? Long.parseLong(args[1]) : 10;
        int[] streamCounts = {1, 2, 4, 8};
        if (args.length > 2) {
            streamCounts = new int[args.length - 2];
            for (int i = 2; i < args.length; i++) {
                streamCounts[i - 2] = Integer.parseInt(args[i]);
            }
        }
        TwoHostNetwork.cleanupLeftovers();
        LinkProfile link = LinkProfile.delay(Duration.ofMillis(delayMillis));
        System.out.printf(
                Locale.ROOT,
                "emulator capacity: %d ms one-way delay each way, no rate limit, %d cores, %d s a run%n",
                delayMillis,
                Runtime.getRuntime().availableProcessors(),
                seconds);
        try (TwoHostNetwork network = TwoHostNetwork.create("capacity", link, link)) {
            int port = 5001;
            for (int streams : streamCounts) {
                try (TcpBulkTransfer transfer =
                        TcpBulkTransfer.start(network.hostA(), network.hostB(), port++, streams, 5)) {
                    Thread.sleep(3000);
                    WanStats before = network.wanStats();
                    long wireBefore = network.bytesAtoB();
                    long startBytes = transfer.receivedBytes();
                    long start = System.nanoTime();
                    Thread.sleep(seconds * 1000);
                    long elapsed = System.nanoTime() - start;
                    long goodBytes = transfer.receivedBytes() - startBytes;
                    WanStats after = network.wanStats();
                    long wire = network.bytesAtoB() - wireBefore;
                    WanStats.Direction ab0 = before.aToB();
                    WanStats.Direction ab1 = after.aToB();
                    double ipRate = (ab1.bytesOut() - ab0.bytesOut()) * 8e9 / elapsed;
                    double packetRate = (ab1.packetsOut() - ab0.packetsOut()) * 1e9 / elapsed;
                    System.out.printf(
                            Locale.ROOT,
                            "streams=%d goodput=%.1f Mbit/s emulated-ip=%.1f Mbit/s (%.0f packets/s) A-wire=%.1f Mbit/s"
                                    + " dropped(loss=%d queue=%d) reverse=%.0f packets/s%n",
                            streams,
                            goodBytes * 8e3 / elapsed,
                            ipRate / 1e6,
                            packetRate,
                            wire * 8e3 / elapsed,
                            ab1.droppedByLoss() - ab0.droppedByLoss(),
                            ab1.droppedByQueue() - ab0.droppedByQueue(),
                            (after.bToA().packetsOut() - before.bToA().packetsOut()) * 1e9 / elapsed);
                }
            }
        }
    }
}
