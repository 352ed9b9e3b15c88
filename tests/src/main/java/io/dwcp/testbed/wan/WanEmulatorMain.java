package io.dwcp.testbed.wan;

import io.dwcp.testbed.net.Netns;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The user-space WAN emulator, a process of its own (so its garbage collection and CPU use are
 * apart from the test's JVM). Started by {@link io.dwcp.testbed.net.TwoHostNetwork}:
 * <pre>
 * java -cp ... io.dwcp.testbed.wan.WanEmulatorMain --netns ROUTER_NS
 *      [--realtime PRIORITY] --link NAME,TUN_DEVICE,BUFFER_BYTES,PROFILE_SPEC ...
 * </pre>
 * It enters ROUTER_NS itself (the process's command line stays the one its pid file records, see
 * {@link io.dwcp.testbed.sys.TrackedProcess}), attaches to each (existing) TUN device and runs one
 * {@link DirectionPump} thread per link. Control is a line protocol on stdin/stdout:
 * <ul>
 *   <li>it prints {@code READY} once every device is attached;</li>
 *   <li>{@code stats} answers {@code STATS NAME in out lossDrops queueDrops bytesIn bytesOut ...}, one
 *       group of seven per link;</li>
 *   <li>{@code corrupt NAME} arms a one-shot corruption of the next fresh TCP data on that link (one
 *       bit flipped, TCP checksum fixed up; never a retransmission, never a connection's first
 *       64 KiB since the arming, see {@link DirectionPump#armCorruption}) and answers
 *       {@code ARMED NAME count};
 *       {@code corrupted NAME} answers {@code CORRUPTED NAME count}, the segments corrupted so far;</li>
 *   <li>{@code scan NAME HEX} counts from now on the packets on that link that contain the bytes HEX
 *       ({@code scan NAME} alone stops); {@code scanned NAME} answers {@code SCANNED NAME count};</li>
 *   <li>{@code stop}, or the end of stdin (the harness closed it, or died), ends the process.</li>
 * </ul>
 * A failure is printed as {@code FAILED reason} and ends the process with status 1.
 */
public final class WanEmulatorMain {
    private WanEmulatorMain() {}

    public static void main(String[] args) throws IOException, InterruptedException {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        String netns = null;
        int realtimePriority = 0;
        List<String[]> links = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--netns" -> netns = args[++i];
                case "--link" -> links.add(args[++i].split(",", 4));
                case "--realtime" -> realtimePriority = Integer.parseInt(args[++i]);
                default -> {
                    out.println("FAILED unknown argument " + args[i]);
                    System.exit(2);
                }
            }
        }
        List<DirectionPump> pumps = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        try {
            if (netns != null) {
                Netns.enterOnThisThread(netns); // threads started below inherit it
            }
            long origin = System.nanoTime();
            for (String[] link : links) {
                if (link.length != 4) {
                    throw new IllegalArgumentException(
                            "--link wants NAME,TUN,BUFFER_BYTES,SPEC: " + String.join(",", link));
                }
                LinkProfile profile = LinkProfile.parse(link[3]);
                DirectionPump pump = new DirectionPump(
                        link[0],
                        TunDevice.attach(link[1]),
                        new LinkModel(profile, origin),
                        Long.parseLong(link[2]),
                        realtimePriority);
                pumps.add(pump);
            }
            for (DirectionPump pump : pumps) {
                Thread thread = new Thread(pump, "wan-" + threads.size());
                thread.setDaemon(true);
                thread.start();
                threads.add(thread);
            }
        } catch (RuntimeException e) {
            out.println("FAILED " + e.getMessage());
            System.exit(1);
        }
        if (realtimePriority > 0) {
            // answers to "stats" must not wait behind a busy CPU: the harness times its windows by them
            io.dwcp.testbed.net.LinuxCalls.setThisThreadRealtime(realtimePriority);
        }
        out.println("READY");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            String command = line.strip();
            if (command.equals("stop")) {
                break;
            } else if (command.equals("stats")) {
                StringBuilder answer = new StringBuilder("STATS");
                for (int i = 0; i < pumps.size(); i++) {
                    answer.append(' ')
                            .append(links.get(i)[0])
                            .append(' ')
                            .append(pumps.get(i).stats().toLine());
                }
                for (DirectionPump pump : pumps) {
                    if (pump.failure() != null) {
                        answer = new StringBuilder("FAILED " + pump.failure());
                    }
                }
                out.println(answer);
            } else if (command.startsWith("corrupt ")) {
                String link = command.substring("corrupt ".length()).strip();
                int index = -1;
                for (int i = 0; i < links.size(); i++) {
                    index = links.get(i)[0].equals(link) ? i : index;
                }
                if (index < 0) {
                    out.println("FAILED unknown link " + link);
                } else {
                    pumps.get(index).armCorruption();
                    out.println("ARMED " + link + " " + pumps.get(index).corrupted());
                }
            } else if (command.startsWith("scan ") || command.startsWith("scanned ")) {
                String[] words = command.split(" ");
                int index = -1;
                for (int i = 0; i < links.size(); i++) {
                    index = words.length > 1 && links.get(i)[0].equals(words[1]) ? i : index;
                }
                if (index < 0) {
                    out.println("FAILED unknown link in: " + command);
                } else if (words[0].equals("scanned")) {
                    out.println("SCANNED " + words[1] + " " + pumps.get(index).scanHits());
                } else {
                    pumps.get(index)
                            .scanFor(words.length > 2 ? java.util.HexFormat.of().parseHex(words[2]) : null);
                    out.println("SCANNING " + words[1]);
                }
            } else if (command.startsWith("corrupted ")) {
                String link = command.substring("corrupted ".length()).strip();
                long count = -1;
                for (int i = 0; i < links.size(); i++) {
                    count = links.get(i)[0].equals(link) ? pumps.get(i).corrupted() : count;
                }
                out.println(count < 0 ? "FAILED unknown link " + link : "CORRUPTED " + link + " " + count);
            } else if (!command.isEmpty()) {
                out.println("FAILED unknown command " + command);
            }
        }
        for (DirectionPump pump : pumps) {
            pump.stop();
        }
        for (Thread thread : threads) {
            thread.join(1000);
        }
        System.exit(0);
    }
}
