package io.dwcp.testbed.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class GuestConsoleTest {
    private static final Duration SHORT = Duration.ofSeconds(5);

    /** A hand-written guest: what it prints goes to the console, what the console sends it can read. */
    private static final class FakeGuest implements AutoCloseable {
        final PipedOutputStream screen = new PipedOutputStream();
        final PipedInputStream keyboard = new PipedInputStream(1 << 16);
        final GuestConsole console;
        final BufferedReader commands;

        FakeGuest() throws IOException {
            PipedInputStream consoleIn = new PipedInputStream(screen, 1 << 16);
            PipedOutputStream consoleOut = new PipedOutputStream(keyboard);
            console = new GuestConsole("fake", consoleIn, consoleOut);
            commands = new BufferedReader(new InputStreamReader(keyboard, StandardCharsets.UTF_8));
        }

        void print(String text) throws IOException {
            screen.write(text.getBytes(StandardCharsets.UTF_8));
            screen.flush();
        }

        /** Answers the next command with {@code answer}, where {@code %s} is the command's request id. */
        CompletableFuture<String> answerNext(String answer) {
            return CompletableFuture.supplyAsync(() -> {
                try {
                    String command = commands.readLine();
                    String[] words = command.split(" ");
                    print(String.format(answer, words.length > 1 ? words[1] : "-"));
                    return command;
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        }

        @Override
        public void close() throws IOException {
            console.close();
            screen.close();
        }
    }

    @Test
    void readyLineIsFoundBehindKernelOutputAndCarriageReturns() throws Exception {
        try (FakeGuest guest = new FakeGuest()) {
            guest.print("[    0.000000] Linux version 6.1.0\r\nDWCP-GUEST INIT kernel=6.1.0\r\n");
            guest.print("[    5.1] random: crng init done DWCP-WORKLOAD READY pages=16384 hot=1640 mem_mib=64"
                    + " rate=5000 hot_percent=10 seed=1 fill_ms=812 text=1 binary=2 struct=3 zero=4\r\n");
            GuestConsole.Ready ready = guest.console.awaitReady(SHORT);
            assertEquals(16384, ready.pages());
            assertEquals(1640, ready.hotPages());
            assertEquals(812, ready.fillMillis());
            assertTrue(ready.line().startsWith("DWCP-WORKLOAD READY pages=16384 "), ready.line());
            assertTrue(guest.console.log().contains("Linux version 6.1.0\nDWCP-GUEST INIT"), guest.console.log());
        }
    }

    @Test
    void verdictOkIsPairedWithItsRequest() throws Exception {
        try (FakeGuest guest = new FakeGuest()) {
            // a stale verdict of another request comes first and must be ignored
            CompletableFuture<String> command = guest.answerNext(
                    "DWCP-WORKLOAD VERDICT CORRUPT req=other-7 writes=1 bad_pages=1 page=3 kind=cold\r\n"
                            + "DWCP-WORKLOAD VERDICT OK req=%s writes=123456 pages=16384 hot=1640 verify_ms=900\r\n");
            Verdict verdict = guest.console.requestVerdict(SHORT);
            assertTrue(command.get(5, TimeUnit.SECONDS).startsWith("verify fake-"), command.get());
            assertTrue(verdict.intact());
            assertEquals(123456, verdict.writes());
            assertTrue(verdict.detail().startsWith("req=fake-"), verdict.detail());
        }
    }

    @Test
    void verdictCorruptCarriesTheDetail() throws Exception {
        try (FakeGuest guest = new FakeGuest()) {
            guest.answerNext("DWCP-WORKLOAD VERDICT CORRUPT req=%s writes=42 bad_pages=2 page=22493 kind=cold"
                    + " class=text offset=100 expected_byte=0x31 found_byte=0x71 verify_ms=31\n");
            Verdict verdict = guest.console.requestVerdict(SHORT);
            assertFalse(verdict.intact());
            assertEquals(42, verdict.writes());
            assertTrue(verdict.detail().contains("bad_pages=2 page=22493 kind=cold"), verdict.detail());
        }
    }

    @Test
    void faultInjectionWaitsForItsAcknowledgement() throws Exception {
        try (FakeGuest guest = new FakeGuest()) {
            CompletableFuture<String> command =
                    guest.answerNext("DWCP-WORKLOAD FAULT-INJECTED cold_page=5 hot_page=9\n");
            String line = guest.console.injectTestFault(SHORT);
            assertEquals("test-fault-inject", command.get(5, TimeUnit.SECONDS));
            assertEquals("DWCP-WORKLOAD FAULT-INJECTED cold_page=5 hot_page=9", line);
        }
    }

    @Test
    void workloadExitFailsAWaiterAtOnce() throws Exception {
        try (FakeGuest guest = new FakeGuest()) {
            guest.print("DWCP-WORKLOAD ERROR cannot allocate 1073741824 bytes\nDWCP-WORKLOAD EXITED status=2\n");
            long start = System.nanoTime();
            GuestConsoleException e =
                    assertThrows(GuestConsoleException.class, () -> guest.console.awaitReady(Duration.ofSeconds(30)));
            assertTrue(System.nanoTime() - start < Duration.ofSeconds(10).toNanos());
            assertTrue(
                    e.getMessage().contains("the workload failed: DWCP-WORKLOAD ERROR cannot allocate"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("--- last console lines ---"), e.getMessage());
        }
    }

    @Test
    void kernelPanicFailsAWaiter() throws Exception {
        try (FakeGuest guest = new FakeGuest()) {
            guest.print("[    1.2] Kernel panic - not syncing: No working init found.\n");
            GuestConsoleException e =
                    assertThrows(GuestConsoleException.class, () -> guest.console.awaitReady(Duration.ofSeconds(30)));
            assertTrue(e.getMessage().contains("the guest kernel panicked"), e.getMessage());
        }
    }

    @Test
    void endOfStreamFailsAWaiter() throws Exception {
        try (FakeGuest guest = new FakeGuest()) {
            guest.print("half a line");
            guest.screen.close();
            GuestConsoleException e =
                    assertThrows(GuestConsoleException.class, () -> guest.console.awaitReady(Duration.ofSeconds(30)));
            assertTrue(e.getMessage().contains("the console ended (end of stream)"), e.getMessage());
            assertTrue(e.getMessage().endsWith("half a line"), e.getMessage());
        }
    }

    @Test
    void timeoutNamesWhatWasAwaited() throws Exception {
        try (FakeGuest guest = new FakeGuest()) {
            guest.print("DWCP-WORKLOAD STATS writes=10 rate=5000 target=5000 uptime_s=10.0\n");
            GuestConsoleException e =
                    assertThrows(GuestConsoleException.class, () -> guest.console.awaitReady(Duration.ofMillis(200)));
            assertTrue(e.getMessage().startsWith("fake: no the workload's READY line within 0.2 s"), e.getMessage());
        }
    }

    @Test
    void fieldsAreParsedOnlyAsWholeNumbers() {
        String line = "junk DWCP-WORKLOAD STATS writes=10 rate=4999 target=5000 uptime_s=10.5";
        assertEquals(10, GuestConsole.field(line, "writes").getAsLong());
        assertEquals(4999, GuestConsole.field(line, "rate").getAsLong());
        assertTrue(GuestConsole.field(line, "uptime_s").isEmpty());
        assertTrue(GuestConsole.field(line, "ate").isEmpty());
        assertTrue(GuestConsole.field("writes=10", "writes").isEmpty()); // not a workload line
        assertThrows(IllegalArgumentException.class, () -> GuestConsole.parseVerdict("DWCP-WORKLOAD VERDICT OK req=1"));
    }

    /** Over one blocking socket channel, a command goes out while the reader waits for input (JDK 17's Channels streams would block). */
    @Test
    void attachedSocketChannelWritesWhileReading() throws Exception {
        Path dir = Files.createTempDirectory("console-test");
        Path socket = dir.resolve("console.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            SocketChannel client = SocketChannel.open(StandardProtocolFamily.UNIX);
            client.connect(UnixDomainSocketAddress.of(socket));
            try (SocketChannel guest = server.accept();
                    GuestConsole console = GuestConsole.attach("sock", client)) {
                Thread.sleep(100); // the reader is now blocked in read
                CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> console.send("verify x"));
                sent.get(5, TimeUnit.SECONDS);
                ByteBuffer received = ByteBuffer.allocate(64);
                while (received.position() < "verify x\n".length()) {
                    guest.read(received);
                }
                assertEquals(
                        "verify x\n", new String(received.array(), 0, received.position(), StandardCharsets.UTF_8));
                guest.write(ByteBuffer.wrap(
                        "DWCP-WORKLOAD READY pages=1 hot=0 fill_ms=0\n".getBytes(StandardCharsets.UTF_8)));
                assertEquals(1, console.awaitReady(SHORT).pages());
            }
        } finally {
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        }
    }

    @Test
    void commandsAreSingleLines() throws Exception {
        try (FakeGuest guest = new FakeGuest()) {
            assertThrows(IllegalArgumentException.class, () -> guest.console.send("verify\nstats"));
        }
    }

    @SuppressWarnings("unused")
    private static void unused(OutputStream out) {}
}
