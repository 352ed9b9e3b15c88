package io.dwcp.testbed.guest;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * The serial console of a test guest: a thread reads it into a log of lines, and callers wait for
 * the workload's lines or send it commands. Works over any byte transport (a unix socket to
 * QEMU's {@code -serial chardev:...}, a pipe to {@code -serial stdio}, a fake in tests).
 *
 * <p>The protocol (one line each way; the workload's lines may be preceded by kernel output on
 * the same line, so they are found by their {@value #MARKER} prefix anywhere in a line):
 * <pre>
 * guest: DWCP-WORKLOAD READY pages=N hot=N mem_mib=M rate=R hot_percent=P seed=S fill_ms=T text=N binary=N struct=N zero=N
 * guest: DWCP-WORKLOAD STATS writes=N rate=ACHIEVED target=R uptime_s=T           (every 10 s)
 * host:  verify ID
 * guest: DWCP-WORKLOAD VERDICT OK req=ID writes=N pages=N hot=N verify_ms=T
 * guest: DWCP-WORKLOAD VERDICT CORRUPT req=ID writes=N bad_pages=K page=I kind=... verify_ms=T
 * host:  test-fault-inject                                                        (tests only)
 * guest: DWCP-WORKLOAD FAULT-INJECTED cold_page=I hot_page=J
 * guest: DWCP-WORKLOAD EXITED status=N          (the workload died: a failure)
 * guest: DWCP-WORKLOAD ERROR ...                (bad parameters, no memory: a failure)
 * </pre>
 * A waiter fails at once, with the end of the log, when the console closes, the workload exits or
 * the kernel panics.
 *
 * <p>On JDK 17, the streams of {@code Channels.newInputStream/newOutputStream} over one blocking
 * {@link SocketChannel} share a lock: a write waits until a pending read returns. Use
 * {@link #attach(String, SocketChannel)} for a socket channel.
 */
public final class GuestConsole implements AutoCloseable {
    public static final String MARKER = "DWCP-WORKLOAD ";
    private static final int MAX_LINES = 100_000;
    private static final int TAIL_LINES = 40;
    private static final AtomicLong REQUESTS = new AtomicLong();

    /** The workload's READY line. */
    public record Ready(long pages, long hotPages, long fillMillis, String line) {
        public Ready {
            requireNonNull(line, "line is null");
        }
    }

    private final String name;
    private final InputStream in;
    private final OutputStream out;
    private final Thread reader;
    private final Object lock = new Object();
    // guarded by lock
    private final List<String> lines = new ArrayList<>();
    private long firstLineNumber;
    private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
    private boolean ended;
    private String endReason = "";
    private String fatalSeen;

    /**
     * Starts reading {@code in}. {@code out} carries the commands. {@code name} names the guest in
     * messages. {@link #close()} closes both.
     */
    public GuestConsole(String name, InputStream in, OutputStream out) {
        this.name = requireNonNull(name, "name is null");
        this.in = requireNonNull(in, "in is null");
        this.out = requireNonNull(out, "out is null");
        this.reader = new Thread(this::readLoop, "guest-console-" + name);
        reader.setDaemon(true);
        reader.start();
    }

    /** A console over a connected, blocking socket channel, read and written without a shared lock. */
    public static GuestConsole attach(String name, SocketChannel channel) {
        requireNonNull(channel, "channel is null");
        if (!channel.isBlocking()) {
            throw new IllegalArgumentException("the console channel must be in blocking mode");
        }
        InputStream in = new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return len == 0 ? 0 : channel.read(ByteBuffer.wrap(b, off, len));
            }

            @Override
            public void close() throws IOException {
                channel.close();
            }
        };
        OutputStream out = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                ByteBuffer buffer = ByteBuffer.wrap(b, off, len);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
            }

            @Override
            public void close() throws IOException {
                channel.close();
            }
        };
        return new GuestConsole(name, in, out);
    }

    /** Waits for the workload's READY line (from the start of the log). */
    public Ready awaitReady(Duration timeout) {
        String line = awaitLine(0, l -> workloadLine(l).startsWith("READY "), "the workload's READY line", timeout);
        return parseReady(line);
    }

    /**
     * Asks the workload to check its memory and waits for its verdict. The workload stops dirtying
     * while it checks (a few seconds for 512 MiB under TCG), then resumes.
     */
    public Verdict requestVerdict(Duration timeout) {
        String id = name.replaceAll("[^A-Za-z0-9_.-]", "_") + "-" + REQUESTS.incrementAndGet();
        long from = lineCount();
        send("verify " + id);
        String line = awaitLine(
                from,
                l -> {
                    String w = workloadLine(l);
                    return w.startsWith("VERDICT ") && (" " + w + " ").contains(" req=" + id + " ");
                },
                "the verdict for request " + id,
                timeout);
        return parseVerdict(line);
    }

    /**
     * TEST ONLY: asks the workload to corrupt its own memory (one byte in a cold page, one in a hot
     * page), so that a test can prove a corrupted guest gets a CORRUPT verdict. Returns the
     * workload's FAULT-INJECTED line.
     */
    public String injectTestFault(Duration timeout) {
        long from = lineCount();
        send("test-fault-inject");
        return awaitLine(from, l -> workloadLine(l).startsWith("FAULT-INJECTED "), "FAULT-INJECTED", timeout);
    }

    /** Sends one line to the guest (a newline is added). */
    public void send(String line) {
        requireNonNull(line, "line is null");
        if (line.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("a console command is one line");
        }
        byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
        synchronized (out) {
            try {
                out.write(bytes);
                out.flush();
            } catch (IOException e) {
                String ended;
                synchronized (lock) {
                    ended = this.ended ? " (the console ended: " + endReason + ")" : "";
                }
                GuestConsoleException failure = failure("cannot write to the console: " + e.getMessage() + ended);
                failure.initCause(e);
                throw failure;
            }
        }
    }

    /**
     * Waits for the first line at or after line number {@code from} (see {@link #lineCount()})
     * matching {@code match}, and returns it. Fails at once if the console ends, the workload exits
     * or reports an error, or the kernel panics.
     */
    public String awaitLine(long from, Predicate<String> match, String what, Duration timeout) {
        requireNonNull(match, "match is null");
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            long next = Math.max(from, firstLineNumber);
            while (true) {
                for (; next < firstLineNumber + lines.size(); next++) {
                    String line = lines.get((int) (next - firstLineNumber));
                    if (match.test(line)) {
                        return line;
                    }
                    String fatal = fatal(line);
                    if (fatal != null) {
                        throw failure("waiting for " + what + ": " + fatal);
                    }
                }
                if (fatalSeen != null) {
                    throw failure("waiting for " + what + ": " + fatalSeen);
                }
                if (ended) {
                    throw failure("waiting for " + what + ": the console ended (" + endReason + ")");
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw failure("no " + what + " within " + timeout.toMillis() / 1000.0 + " s");
                }
                try {
                    lock.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new GuestConsoleException(name + ": interrupted while waiting for " + what, e);
                }
            }
        }
    }

    /** The number of complete lines read so far (line numbers start at 0). */
    public long lineCount() {
        synchronized (lock) {
            return firstLineNumber + lines.size();
        }
    }

    /** Everything read so far (the oldest lines are dropped after {@value #MAX_LINES}), with the unfinished line. */
    public String log() {
        synchronized (lock) {
            StringBuilder text = new StringBuilder();
            for (String line : lines) {
                text.append(line).append('\n');
            }
            text.append(partial.toString(StandardCharsets.UTF_8));
            return text.toString();
        }
    }

    /** Whether the console's input has ended. */
    public boolean hasEnded() {
        synchronized (lock) {
            return ended;
        }
    }

    /** Stops reading and closes both streams. */
    @Override
    public void close() {
        synchronized (lock) {
            if (!ended) {
                ended = true;
                endReason = "closed by the test bed";
            }
            lock.notifyAll();
        }
        closeQuietly(in);
        closeQuietly(out);
        try {
            reader.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- reading ----

    private void readLoop() {
        byte[] chunk = new byte[8192];
        String reason = "end of stream";
        try {
            for (int n; (n = in.read(chunk)) >= 0; ) {
                accept(chunk, n);
            }
        } catch (IOException e) {
            reason = "read failed: " + e.getMessage();
        }
        synchronized (lock) {
            if (!ended) {
                ended = true;
                endReason = reason;
            }
            lock.notifyAll();
        }
    }

    private void accept(byte[] chunk, int length) {
        synchronized (lock) {
            boolean added = false;
            for (int i = 0; i < length; i++) {
                byte b = chunk[i];
                if (b == '\n') {
                    String line = strip(partial.toString(StandardCharsets.UTF_8));
                    lines.add(line);
                    partial.reset();
                    if (fatalSeen == null) {
                        fatalSeen = fatal(line);
                    }
                    added = true;
                } else {
                    partial.write(b);
                }
            }
            while (lines.size() > MAX_LINES) {
                lines.remove(0);
                firstLineNumber++;
            }
            if (added) {
                lock.notifyAll();
            }
        }
    }

    /** Drops carriage returns (ONLCR makes "\r\n") and other control characters but tab. */
    private static String strip(String line) {
        StringBuilder clean = new StringBuilder(line.length());
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c >= ' ' || c == '\t') {
                clean.append(c);
            }
        }
        return clean.toString();
    }

    private GuestConsoleException failure(String what) {
        return new GuestConsoleException(name + ": " + what + "\n--- last console lines ---\n" + tail());
    }

    private String tail() {
        synchronized (lock) {
            StringBuilder text = new StringBuilder();
            for (String line : lines.subList(Math.max(0, lines.size() - TAIL_LINES), lines.size())) {
                text.append(line).append('\n');
            }
            text.append(partial.toString(StandardCharsets.UTF_8));
            return text.toString();
        }
    }

    private static void closeQuietly(java.io.Closeable closeable) {
        try {
            closeable.close();
        } catch (IOException e) {
            // closing a console whose transport is gone: nothing to do
        }
    }

    // ---- parsing ----

    /** What follows the {@value #MARKER} in {@code line}, or "" when the line is not the workload's. */
    static String workloadLine(String line) {
        int at = line.indexOf(MARKER);
        return at < 0 ? "" : line.substring(at + MARKER.length());
    }

    /** Why {@code line} means the guest cannot answer any more, or null. */
    static String fatal(String line) {
        String w = workloadLine(line);
        if (w.startsWith("EXITED") || w.startsWith("ERROR")) {
            return "the workload failed: " + MARKER + w;
        }
        if (line.contains("Kernel panic")) {
            return "the guest kernel panicked: " + line;
        }
        return null;
    }

    static Ready parseReady(String line) {
        String w = workloadLine(line);
        if (!w.startsWith("READY ")) {
            throw new IllegalArgumentException("not a READY line: " + line);
        }
        return new Ready(
                requiredField(line, "pages"), requiredField(line, "hot"), requiredField(line, "fill_ms"), MARKER + w);
    }

    static Verdict parseVerdict(String line) {
        String w = workloadLine(line);
        boolean intact;
        String detail;
        if (w.startsWith("VERDICT OK")) {
            intact = true;
            detail = w.substring("VERDICT OK".length()).strip();
        } else if (w.startsWith("VERDICT CORRUPT")) {
            intact = false;
            detail = w.substring("VERDICT CORRUPT".length()).strip();
        } else {
            throw new IllegalArgumentException("not a verdict line: " + line);
        }
        return new Verdict(intact, detail, requiredField(line, "writes"));
    }

    private static long requiredField(String line, String key) {
        return field(line, key)
                .orElseThrow(
                        () -> new IllegalArgumentException("no numeric " + key + "= in the workload line: " + line));
    }

    /** The number after {@code key=} in a workload line, if there is one. */
    static OptionalLong field(String line, String key) {
        String w = " " + workloadLine(line) + " ";
        int at = w.indexOf(" " + key + "=");
        if (at < 0) {
            return OptionalLong.empty();
        }
        int start = at + key.length() + 2;
        int end = start;
        while (end < w.length() && Character.isDigit(w.charAt(end))) {
            end++;
        }
        if (end == start || w.charAt(end) != ' ') {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseLong(w.substring(start, end)));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }
}
