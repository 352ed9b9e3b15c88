package io.dwcp.hde;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Guest pages like the test bed's workload ({@code tests/src/main/c/workload.c}) fills memory with:
 * text (windows of a log-line corpus with unique stamps, some partly filled), binary
 * (incompressible), structured (records with counters and pointer-like values, counter arrays) and
 * zero (some with a small header), a quarter each, in runs of 16 pages with single-page exceptions.
 * Every page is a pure function of (seed, page number), like the workload's.
 */
public final class WorkloadPages {
    public static final int PAGE_SIZE = 4096;
    private static final int CLASS_RUN = 16;
    private static final int CORPUS_SIZE = 1 << 20;
    private static final String[] WORDS = {
        "request",
        "session",
        "user",
        "cache",
        "miss",
        "hit",
        "timeout",
        "retry",
        "connection",
        "closed",
        "opened",
        "buffer",
        "flush",
        "commit",
        "rollback",
        "index",
        "page",
        "table",
        "query",
        "latency",
        "worker",
        "thread",
        "queue",
        "backlog",
        "upstream",
        "downstream",
        "payload",
        "header",
        "token",
        "expired",
        "granted",
        "denied",
        "migrate",
        "snapshot",
        "volume",
        "block",
        "inode",
        "socket",
        "handshake",
        "certificate",
        "accepted",
        "rejected",
        "checkpoint",
        "replica",
        "leader",
        "follower",
        "heartbeat",
        "lease",
        "renewed",
        "allocation",
        "freed",
        "compaction",
        "segment",
        "offset",
        "batch",
        "the",
        "a",
        "of",
        "to",
        "in",
        "for",
        "on",
        "with",
        "from",
        "and",
        "is",
        "was",
        "not",
        "after"
    };
    private static final String[] LEVELS = {"INFO ", "INFO ", "INFO ", "DEBUG", "WARN ", "ERROR"};
    private static final String[] SOURCES = {"http-worker", "db-pool", "scheduler", "auth", "storage", "gc", "rpc"};

    public enum PageClass {
        TEXT,
        BINARY,
        STRUCT,
        ZERO
    }

    private final long seed;
    private final byte[] corpus;

    public WorkloadPages(long seed) {
        this.seed = seed;
        this.corpus = buildCorpus();
    }

    static long mix64(long x) {
        x ^= x >>> 30;
        x *= 0xbf58476d1ce4e5b9L;
        x ^= x >>> 27;
        x *= 0x94d049bb133111ebL;
        x ^= x >>> 31;
        return x;
    }

    static long key3(long a, long b, long c) {
        return mix64(a ^ mix64(b + 0x9e3779b97f4a7c15L * (c + 1)));
    }

    private static final class Rng {
        long s;

        Rng(long s) {
            this.s = s;
        }

        long next() {
            s += 0x9e3779b97f4a7c15L;
            return mix64(s);
        }

        int below(int n) {
            return (int) Long.remainderUnsigned(next(), n);
        }
    }

    private byte[] buildCorpus() {
        Rng r = new Rng(key3(seed, 0, 3));
        StringBuilder c = new StringBuilder(CORPUS_SIZE + 256);
        long t = 1700000000000L + Long.remainderUnsigned(r.next(), 100000000L);
        while (c.length() < CORPUS_SIZE) {
            t += Long.remainderUnsigned(r.next(), 2000);
            c.append(String.format(
                    "2024-%02d-%02dT%02d:%02d:%02d.%03dZ ",
                    1 + (t / 86400000) % 12,
                    1 + (t / 3600000) % 28,
                    (t / 3600000) % 24,
                    (t / 60000) % 60,
                    (t / 1000) % 60,
                    t % 1000));
            c.append(LEVELS[r.below(6)])
                    .append(" [")
                    .append(SOURCES[r.below(7)])
                    .append('-')
                    .append(r.below(32))
                    .append("] ");
            int words = 4 + r.below(10);
            for (int i = 0; i < words; i++) {
                c.append(WORDS[r.below(WORDS.length)]).append(' ');
            }
            c.append("id=")
                    .append(String.format("%06d", r.below(1000000)))
                    .append(" took ")
                    .append(r.below(900))
                    .append(" ms\n");
        }
        return c.substring(0, CORPUS_SIZE).getBytes(StandardCharsets.US_ASCII);
    }

    private long pageKey(long p) {
        return key3(seed, p, 1);
    }

    public PageClass classOf(long p) {
        long k = pageKey(p);
        long pick = Long.remainderUnsigned(k, 8) == 0
                ? Long.remainderUnsigned(k >>> 16, 100)
                : Long.remainderUnsigned(key3(seed, p / CLASS_RUN, 2), 100);
        if (pick < 26) {
            return PageClass.TEXT;
        }
        if (pick < 49) {
            return PageClass.BINARY;
        }
        if (pick < 75) {
            return PageClass.STRUCT;
        }
        return PageClass.ZERO;
    }

    /** Page {@code p}'s initial content into {@code page[offset .. offset + 4096)}. */
    public PageClass fill(long p, byte[] page, int offset) {
        long k = pageKey(p);
        PageClass c = classOf(p);
        LongBuffer w = ByteBuffer.wrap(page, offset, PAGE_SIZE)
                .slice()
                .order(ByteOrder.LITTLE_ENDIAN)
                .asLongBuffer();
        switch (c) {
            case TEXT -> {
                int length = Long.remainderUnsigned(k, 10) < 7
                        ? PAGE_SIZE
                        : 1024 + (int) Long.remainderUnsigned(k >>> 8, PAGE_SIZE - 1024);
                int from = (int) Long.remainderUnsigned(k >>> 20, CORPUS_SIZE - PAGE_SIZE);
                System.arraycopy(corpus, from, page, offset, length);
                byte[] hex = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
                for (int at = 128; at + 8 <= length; at += 256) {
                    long v = mix64(k + at);
                    for (int i = 0; i < 8; i++) {
                        page[offset + at + i] = hex[(int) ((v >>> (4 * i)) & 15)];
                    }
                }
                java.util.Arrays.fill(page, offset + length, offset + PAGE_SIZE, (byte) 0);
            }
            case BINARY -> {
                Rng r = new Rng(k);
                for (int i = 0; i < PAGE_SIZE / 8; i++) {
                    w.put(i, r.next());
                }
            }
            case STRUCT -> {
                Rng r = new Rng(k);
                long base = Long.remainderUnsigned(k >>> 12, 100000000L);
                long heap = 0x00007f0000000000L | ((k >>> 24) & 0xffffff000L);
                switch ((int) Long.remainderUnsigned(k >>> 4, 3)) {
                    case 0 -> {
                        for (int i = 0; i + 8 <= PAGE_SIZE / 8; i += 8) {
                            long rec = i / 8;
                            w.put(i, base + rec);
                            w.put(i + 1, heap + (rec + 1) * 64);
                            w.put(i + 2, (Long.remainderUnsigned(r.next(), 4) << 32) | (1 + rec % 3));
                            w.put(i + 3, 1700000000000000L + base * 1000 + rec * 37);
                            w.put(i + 4, r.next());
                            w.put(i + 5, 0);
                            w.put(i + 6, rec * 3);
                            w.put(i + 7, heap - 4096);
                        }
                    }
                    case 1 -> {
                        for (int i = 0; i < PAGE_SIZE / 8; i++) {
                            w.put(i, base + i * (1 + Long.remainderUnsigned(k, 5)));
                        }
                    }
                    default -> {
                        for (int i = 0; i + 4 <= PAGE_SIZE / 8; i += 4) {
                            w.put(i, heap + Long.remainderUnsigned(r.next(), 512) * 32);
                            w.put(i + 1, ((base + i) << 16) | (r.next() & 0xff));
                            w.put(i + 2, r.next());
                            w.put(i + 3, 0);
                        }
                    }
                }
            }
            case ZERO -> {
                java.util.Arrays.fill(page, offset, offset + PAGE_SIZE, (byte) 0);
                if (Long.remainderUnsigned(k, 5) == 0) {
                    int n = 2 + (int) Long.remainderUnsigned(k >>> 8, 30);
                    for (int i = 0; i < n; i++) {
                        w.put(i, key3(k, i, 5) >>> (8 * (i % 8)));
                    }
                }
            }
        }
        return c;
    }

    public byte[] page(long p) {
        byte[] page = new byte[PAGE_SIZE];
        fill(p, page, 0);
        return page;
    }

    /**
     * A hot-set write like the workload's: one record slot (32..128 bytes, 8-byte aligned, fixed
     * per page) gets a record derived from (page, sequence).
     */
    public void write(long p, long sequence, byte[] page, int offset) {
        long k = key3(seed, p, 7);
        int length = 32 + (int) Long.remainderUnsigned(k >>> 40, 4) * 32;
        int at = (int) Long.remainderUnsigned(k >>> 8, (PAGE_SIZE - length) / 8 + 1) * 8;
        LongBuffer w = ByteBuffer.wrap(page, offset + at, length)
                .slice()
                .order(ByteOrder.LITTLE_ENDIAN)
                .asLongBuffer();
        w.put(0, p);
        w.put(1, sequence);
        for (int i = 2; i < length / 8; i++) {
            w.put(i, (i & 1) != 0 ? key3(seed ^ sequence, p, i) : sequence * 8 + i);
        }
    }
}
