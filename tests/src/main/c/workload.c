/*
 * DWCP test-guest workload: fills guest memory with realistic content, dirties a hot set at a
 * paced rate, and checks its own memory on request, so a migration test can tell whether the
 * destination received every page intact.
 *
 * Parameters come from the kernel command line (/proc/cmdline), or from argv[1] when given (a
 * string in the same syntax, for running it on a host):
 *   dwcp.mem=MiB        memory to fill and keep (default 512)
 *   dwcp.rate=N         hot-page writes per second (default 5000; 0 = none)
 *   dwcp.hot=PERCENT    share of the pages that is written to (default 10)
 *   dwcp.seed=N         seed of all content (default 1)
 *   dwcp.stats=SECONDS  period of the STATS line (default 10; 0 = none)
 *
 * Console protocol (stdin/stdout; every output line is written with a single write()):
 *   out  DWCP-WORKLOAD READY pages=<n> hot=<n> mem_mib=<m> rate=<r> hot_percent=<p> seed=<s> fill_ms=<t> ...
 *   out  DWCP-WORKLOAD STATS writes=<n> rate=<achieved/s over the period> target=<r> uptime_s=<t>
 *   in   verify [<request id>]
 *   out  DWCP-WORKLOAD VERDICT OK req=<id> writes=<n> pages=<n> hot=<n> verify_ms=<t>
 *   out  DWCP-WORKLOAD VERDICT CORRUPT req=<id> writes=<n> bad_pages=<k> page=<i> kind=... verify_ms=<t>
 *   in   test-fault-inject       (TEST ONLY: deliberately flips one byte in a cold and one in a hot page)
 *   out  DWCP-WORKLOAD FAULT-INJECTED cold_page=<i> hot_page=<j>
 *   in   stats
 *   out  DWCP-WORKLOAD STATS ...
 *   in   anything else
 *   out  DWCP-WORKLOAD UNKNOWN-COMMAND <line>
 *   out  DWCP-WORKLOAD STOPPED stdin closed   (only when stdin is not a terminal, i.e. run on a host)
 * The request id is echoed so a caller can pair a verdict with its request ("-" when absent).
 *
 * Content. Every page's initial content is a pure function of (seed, page index): text (log lines
 * built from a corpus, some pages partly filled), binary (incompressible), structured (records
 * with counters and pointer-like values, counter arrays), and zero (a few with a small header).
 * Classes come in runs of 16 pages with single-page exceptions, like real heaps.
 * A hot page has one record slot (32..128 bytes at an offset fixed per page): a write stores
 * (page index, write sequence) and words derived from them in it. So a hot page's expected content
 * is its initial content with the record of its last write, and verification needs only a 64-bit
 * hash per page (computed after the fill, record slot excluded for hot pages) and the last write
 * sequence of each hot page. A page that differs is regenerated to report where and how.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "guest_console.h"

#define PAGE_SIZE 4096u
#define PAGE_WORDS (PAGE_SIZE / 8)
#define CLASS_RUN 16           /* pages per run of one content class */
#define HOT_RUN 8              /* pages per run of the hot set */
#define CORPUS_SIZE (256u * 1024u)
#define MAX_BATCH 4096         /* most writes in one go when catching up */

enum page_class { CLASS_TEXT, CLASS_BINARY, CLASS_STRUCT, CLASS_ZERO };
static const char *const CLASS_NAMES[] = { "text", "binary", "struct", "zero" };

struct config {
    uint64_t mem_mib, rate, hot_percent, seed, stats_s;
};

static struct config cfg = { 512, 5000, 10, 1, 10 };
static uint8_t *mem;            /* the workload's memory */
static uint64_t npages;
static uint64_t *page_hash;     /* per page: hash after the fill (record slot excluded if hot) */
static int32_t *hot_index;      /* per page: index in hot_pages, or -1 */
static uint32_t *hot_pages;     /* hot page numbers */
static uint64_t *hot_last_seq;  /* per hot page: sequence of its last write, 0 = never written */
static uint64_t *hot_slot_hash; /* per hot page: hash of its record slot after the fill */
static uint64_t nhot;
static uint64_t writes;         /* hot-page writes so far; also the last write's sequence */
static uint8_t corpus[CORPUS_SIZE];
static uint64_t start_ns;

/* ---- hashing and deterministic randomness ---- */

static inline uint64_t mix64(uint64_t x) {
    x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27; x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static inline uint64_t key3(uint64_t a, uint64_t b, uint64_t c) {
    return mix64(a ^ mix64(b + 0x9e3779b97f4a7c15ULL * (c + 1)));
}

/* A per-page key: all of a page's initial content derives from it. */
static inline uint64_t page_key(uint64_t p) { return key3(cfg.seed, p, 1); }

struct rng { uint64_t s; };
static inline uint64_t next(struct rng *r) { r->s += 0x9e3779b97f4a7c15ULL; return mix64(r->s); }

/*
 * Hash of n 64-bit words: four independent multiply-xor lanes (each step a bijection of the lane,
 * so any single changed word changes the result), then a final mix. Cheap under TCG.
 */
static uint64_t hash_words(const uint64_t *w, size_t n, uint64_t h) {
    const uint64_t P = 0x9fb21c651e98df25ULL;
    uint64_t a = h, b = h ^ 0x1111111111111111ULL, c = h ^ 0x2222222222222222ULL, d = h ^ 0x3333333333333333ULL;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        a = (a ^ w[i]) * P;
        b = (b ^ w[i + 1]) * P;
        c = (c ^ w[i + 2]) * P;
        d = (d ^ w[i + 3]) * P;
        a ^= a >> 29; b ^= b >> 29; c ^= c >> 29; d ^= d >> 29;
    }
    for (; i < n; i++) {
        a = (a ^ w[i]) * P;
        a ^= a >> 29;
    }
    return mix64(a ^ rotl(b, 17) ^ rotl(c, 31) ^ rotl(d, 47) ^ n);
}

/* ---- the record slot of a hot page ---- */

struct slot { uint32_t offset, length; };

static inline struct slot slot_of(uint64_t p) {
    uint64_t k = key3(cfg.seed, p, 7);
    struct slot s;
    s.length = 32 + (uint32_t)((k >> 40) % 4) * 32;                        /* 32..128 bytes */
    s.offset = (uint32_t)((k >> 8) % ((PAGE_SIZE - s.length) / 8 + 1)) * 8;  /* 8-byte aligned */
    return s;
}

/* The record a write with sequence seq leaves in page p's slot: like an application updating one record. */
static void make_record(uint64_t p, uint64_t seq, uint64_t *out, uint32_t words) {
    out[0] = p;
    out[1] = seq;
    for (uint32_t i = 2; i < words; i++) {
        out[i] = (i & 1) ? key3(cfg.seed ^ seq, p, i)  /* a changed value */
                         : seq * 8 + i;                /* a counter */
    }
}

/* ---- initial content ---- */

static const char *const WORDS[] = {
    "request", "session", "user", "cache", "miss", "hit", "timeout", "retry", "connection", "closed",
    "opened", "buffer", "flush", "commit", "rollback", "index", "page", "table", "query", "latency",
    "worker", "thread", "queue", "backlog", "upstream", "downstream", "payload", "header", "token",
    "expired", "granted", "denied", "migrate", "snapshot", "volume", "block", "inode", "socket",
    "handshake", "certificate", "accepted", "rejected", "checkpoint", "replica", "leader", "follower",
    "heartbeat", "lease", "renewed", "allocation", "freed", "compaction", "segment", "offset", "batch",
    "the", "a", "of", "to", "in", "for", "on", "with", "from", "and", "is", "was", "not", "after",
};
static const char *const LEVELS[] = { "INFO ", "INFO ", "INFO ", "DEBUG", "WARN ", "ERROR" };
static const char *const SOURCES[] = { "http-worker", "db-pool", "scheduler", "auth", "storage", "gc", "rpc" };

static size_t put(char *buf, size_t at, size_t cap, const char *s) {
    while (*s && at < cap) buf[at++] = *s++;
    return at;
}

static size_t put_num(char *buf, size_t at, size_t cap, uint64_t v, int digits) {
    char tmp[24];
    int n = 0;
    do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v && n < 20);
    while (n < digits) tmp[n++] = '0';
    while (n && at < cap) buf[at++] = tmp[--n];
    return at;
}

/* A corpus of log lines, generated once: text pages are windows of it with unique stamps. */
static void build_corpus(void) {
    struct rng r = { key3(cfg.seed, 0, 3) };
    char *c = (char *)corpus;
    size_t at = 0, cap = CORPUS_SIZE;
    uint64_t t = 1700000000000ULL + (next(&r) % 100000000ULL);
    while (at < cap) {
        t += next(&r) % 2000;
        at = put(c, at, cap, "2024-");
        at = put_num(c, at, cap, 1 + (t / 86400000) % 12, 2);
        at = put(c, at, cap, "-");
        at = put_num(c, at, cap, 1 + (t / 3600000) % 28, 2);
        at = put(c, at, cap, "T");
        at = put_num(c, at, cap, (t / 3600000) % 24, 2);
        at = put(c, at, cap, ":");
        at = put_num(c, at, cap, (t / 60000) % 60, 2);
        at = put(c, at, cap, ":");
        at = put_num(c, at, cap, (t / 1000) % 60, 2);
        at = put(c, at, cap, ".");
        at = put_num(c, at, cap, t % 1000, 3);
        at = put(c, at, cap, "Z ");
        at = put(c, at, cap, LEVELS[next(&r) % 6]);
        at = put(c, at, cap, " [");
        at = put(c, at, cap, SOURCES[next(&r) % 7]);
        at = put(c, at, cap, "-");
        at = put_num(c, at, cap, next(&r) % 32, 1);
        at = put(c, at, cap, "] ");
        int nwords = 4 + (int)(next(&r) % 10);
        for (int i = 0; i < nwords; i++) {
            at = put(c, at, cap, WORDS[next(&r) % (sizeof WORDS / sizeof *WORDS)]);
            at = put(c, at, cap, " ");
        }
        at = put(c, at, cap, "id=");
        at = put_num(c, at, cap, next(&r) % 1000000, 6);
        at = put(c, at, cap, " took ");
        at = put_num(c, at, cap, next(&r) % 900, 1);
        at = put(c, at, cap, " ms\n");
    }
}

static enum page_class class_of(uint64_t p) {
    uint64_t k = page_key(p);
    uint64_t pick = (k % 8 == 0) ? (k >> 16) % 100                           /* a page on its own */
                                 : key3(cfg.seed, p / CLASS_RUN, 2) % 100;   /* its run's class */
    if (pick < 26) return CLASS_TEXT;
    if (pick < 49) return CLASS_BINARY;
    if (pick < 75) return CLASS_STRUCT;
    return CLASS_ZERO;
}

static void fill_text(uint8_t *page, uint64_t k) {
    static const char HEX[] = "0123456789abcdef";
    uint32_t length = (k % 10 < 7) ? PAGE_SIZE : 1024 + (uint32_t)((k >> 8) % (PAGE_SIZE - 1024));
    memcpy(page, corpus + (k >> 20) % (CORPUS_SIZE - PAGE_SIZE), length);
    /* stamps that make every text page unique (like request ids), every 256 bytes */
    for (uint32_t at = 128; at + 8 <= length; at += 256) {
        uint64_t v = mix64(k + at);
        for (int i = 0; i < 8; i++) page[at + i] = (uint8_t)HEX[(v >> (4 * i)) & 15];
    }
    if (length < PAGE_SIZE) memset(page + length, 0, PAGE_SIZE - length);
}

static void fill_binary(uint8_t *page, uint64_t k) {
    uint64_t *w = (uint64_t *)page;
    struct rng r = { k };
    for (uint32_t i = 0; i < PAGE_WORDS; i++) w[i] = next(&r);
}

static void fill_struct(uint8_t *page, uint64_t k) {
    uint64_t *w = (uint64_t *)page;
    struct rng r = { k };
    uint64_t base = (k >> 12) % 100000000ULL;
    uint64_t heap = 0x00007f0000000000ULL | ((k >> 24) & 0xffffff000ULL);
    switch ((k >> 4) % 3) {
    case 0: /* 64-byte records: id, next pointer, flags|refcount, timestamp, random, zero, counter, owner pointer */
        for (uint32_t i = 0; i + 8 <= PAGE_WORDS; i += 8) {
            uint64_t rec = i / 8;
            w[i] = base + rec;
            w[i + 1] = heap + (rec + 1) * 64;
            w[i + 2] = ((next(&r) % 4) << 32) | (1 + rec % 3);
            w[i + 3] = 1700000000000000ULL + base * 1000 + rec * 37;
            w[i + 4] = next(&r);
            w[i + 5] = 0;
            w[i + 6] = rec * 3;
            w[i + 7] = heap - 4096;
        }
        break;
    case 1: /* an array of counters */
        for (uint32_t i = 0; i < PAGE_WORDS; i++) w[i] = base + i * (1 + k % 5);
        break;
    default: /* 32-byte records: pointer, id|flags, hash, padding */
        for (uint32_t i = 0; i + 4 <= PAGE_WORDS; i += 4) {
            w[i] = heap + (next(&r) % 512) * 32;
            w[i + 1] = ((base + i) << 16) | (next(&r) & 0xff);
            w[i + 2] = next(&r);
            w[i + 3] = 0;
        }
        break;
    }
}

static void fill_zero(uint8_t *page, uint64_t k) {
    memset(page, 0, PAGE_SIZE);
    if (k % 5 == 0) { /* mostly zero: a small header, like a fresh allocation */
        uint64_t *w = (uint64_t *)page;
        uint32_t n = 2 + (uint32_t)((k >> 8) % 30);
        for (uint32_t i = 0; i < n; i++) w[i] = key3(k, i, 5) >> (8 * (i % 8));
    }
}

/* Writes page p's initial content into page. */
static enum page_class fill_page(uint8_t *page, uint64_t p) {
    uint64_t k = page_key(p);
    enum page_class c = class_of(p);
    switch (c) {
    case CLASS_TEXT: fill_text(page, k); break;
    case CLASS_BINARY: fill_binary(page, k); break;
    case CLASS_STRUCT: fill_struct(page, k); break;
    case CLASS_ZERO: fill_zero(page, k); break;
    }
    return c;
}

/* ---- output ---- */


/* One line, one write(): never interleaved with other output of ours. */

static void *alloc_or_die(size_t bytes, const char *what) {
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED) {
        say("DWCP-WORKLOAD ERROR cannot allocate %zu bytes for %s: %s", bytes, what, strerror(errno));
        exit(2);
    }
    return p;
}

/* ---- parameters ---- */

static void parse_params(const char *line) {
    const char *names[] = { "dwcp.mem=", "dwcp.rate=", "dwcp.hot=", "dwcp.seed=", "dwcp.stats=" };
    uint64_t *values[] = { &cfg.mem_mib, &cfg.rate, &cfg.hot_percent, &cfg.seed, &cfg.stats_s };
    const char *at = line;
    while (*at) {
        while (*at == ' ' || *at == '\n' || *at == '\t') at++;
        for (int i = 0; i < 5; i++) {
            size_t n = strlen(names[i]);
            if (strncmp(at, names[i], n) == 0) {
                char *end;
                errno = 0;
                unsigned long long v = strtoull(at + n, &end, 10);
                if (errno || end == at + n || (*end && *end != ' ' && *end != '\n')) {
                    say("DWCP-WORKLOAD ERROR bad parameter near '%.40s'", at);
                    exit(2);
                }
                *values[i] = v;
            }
        }
        while (*at && *at != ' ' && *at != '\n' && *at != '\t') at++;
    }
    if (cfg.mem_mib == 0 || cfg.mem_mib > (1u << 20) || cfg.hot_percent > 100) {
        say("DWCP-WORKLOAD ERROR parameters out of range: mem=%" PRIu64 " MiB hot=%" PRIu64 "%%",
            cfg.mem_mib, cfg.hot_percent);
        exit(2);
    }
}


/* ---- setup ---- */

static void setup(void) {
    npages = cfg.mem_mib * 256;
    uint64_t t0 = now_ns();
    build_corpus();
    mem = alloc_or_die(npages * PAGE_SIZE, "the workload's memory");
    page_hash = alloc_or_die(npages * sizeof *page_hash, "page hashes");
    hot_index = alloc_or_die(npages * sizeof *hot_index, "the hot index");

    nhot = 0;
    for (uint64_t p = 0; p < npages; p++) {
        int hot = key3(cfg.seed, p / HOT_RUN, 4) % 100 < cfg.hot_percent;
        hot_index[p] = hot ? (int32_t)nhot++ : -1;
    }
    size_t hot_bytes = (nhot ? nhot : 1) * sizeof(uint64_t);
    hot_pages = alloc_or_die(hot_bytes, "the hot set");
    hot_last_seq = alloc_or_die(hot_bytes, "the hot set's sequences");
    hot_slot_hash = alloc_or_die(hot_bytes, "the hot set's slot hashes");

    uint64_t counts[4] = { 0 };
    for (uint64_t p = 0; p < npages; p++) {
        uint8_t *page = mem + p * PAGE_SIZE;
        counts[fill_page(page, p)]++;
        const uint64_t *w = (const uint64_t *)page;
        int32_t h = hot_index[p];
        if (h < 0) {
            page_hash[p] = hash_words(w, PAGE_WORDS, p);
        } else {
            struct slot s = slot_of(p);
            uint32_t a = s.offset / 8, b = (s.offset + s.length) / 8;
            page_hash[p] = hash_words(w + b, PAGE_WORDS - b, hash_words(w, a, p));
            hot_pages[h] = (uint32_t)p;
            hot_last_seq[h] = 0;
            hot_slot_hash[h] = hash_words(w + a, b - a, p);
        }
    }
    uint64_t fill_ms = (now_ns() - t0) / 1000000;
    say("DWCP-WORKLOAD READY pages=%" PRIu64 " hot=%" PRIu64 " mem_mib=%" PRIu64 " rate=%" PRIu64
        " hot_percent=%" PRIu64 " seed=%" PRIu64 " fill_ms=%" PRIu64
        " text=%" PRIu64 " binary=%" PRIu64 " struct=%" PRIu64 " zero=%" PRIu64,
        npages, nhot, cfg.mem_mib, cfg.rate, cfg.hot_percent, cfg.seed, fill_ms,
        counts[CLASS_TEXT], counts[CLASS_BINARY], counts[CLASS_STRUCT], counts[CLASS_ZERO]);
}

/* ---- dirtying ---- */

static struct rng pick_rng;

static inline void write_one(void) {
    uint32_t h = (uint32_t)(next(&pick_rng) % nhot);
    uint64_t p = hot_pages[h];
    struct slot s = slot_of(p);
    uint64_t record[16];
    uint64_t seq = ++writes;
    make_record(p, seq, record, s.length / 8);
    memcpy(mem + p * PAGE_SIZE + s.offset, record, s.length);
    hot_last_seq[h] = seq;
}

/* ---- verification ---- */

struct finding {
    uint64_t bad_pages;
    uint64_t first_page;
    char detail[320];
};

/* Describes how page p differs from what it must hold; called only for a page found bad. */
static void describe(uint64_t p, struct finding *f) {
    static uint8_t expected[PAGE_SIZE] __attribute__((aligned(8)));
    enum page_class c = fill_page(expected, p);
    int32_t h = hot_index[p];
    const uint8_t *page = mem + p * PAGE_SIZE;
    if (h >= 0 && hot_last_seq[h] != 0) {
        struct slot s = slot_of(p);
        make_record(p, hot_last_seq[h], (uint64_t *)(expected + s.offset), s.length / 8);
    }
    uint32_t at = 0;
    while (at < PAGE_SIZE && page[at] == expected[at]) at++;
    if (at == PAGE_SIZE) {
        snprintf(f->detail, sizeof f->detail, "page=%" PRIu64 " kind=%s class=%s detail=hash-only",
                 p, h >= 0 ? "hot" : "cold", CLASS_NAMES[c]);
        return;
    }
    if (h >= 0) {
        struct slot s = slot_of(p);
        const uint64_t *found = (const uint64_t *)(page + s.offset);
        int in_slot = at >= s.offset && at < s.offset + s.length;
        snprintf(f->detail, sizeof f->detail,
                 "page=%" PRIu64 " kind=%s class=%s offset=%u expected_byte=0x%02x found_byte=0x%02x"
                 " expected_seq=%" PRIu64 " found_seq=%" PRIu64 " found_page_stamp=%" PRIu64,
                 p, in_slot ? "hot-record" : "hot", CLASS_NAMES[c], at, expected[at], page[at],
                 hot_last_seq[h], hot_last_seq[h] ? found[1] : 0, hot_last_seq[h] ? found[0] : p);
    } else {
        snprintf(f->detail, sizeof f->detail,
                 "page=%" PRIu64 " kind=cold class=%s offset=%u expected_byte=0x%02x found_byte=0x%02x",
                 p, CLASS_NAMES[c], at, expected[at], page[at]);
    }
}

static int page_ok(uint64_t p) {
    const uint64_t *w = (const uint64_t *)(mem + p * PAGE_SIZE);
    int32_t h = hot_index[p];
    if (h < 0) return hash_words(w, PAGE_WORDS, p) == page_hash[p];
    struct slot s = slot_of(p);
    uint32_t a = s.offset / 8, b = (s.offset + s.length) / 8;
    if (hash_words(w + b, PAGE_WORDS - b, hash_words(w, a, p)) != page_hash[p]) return 0;
    if (hot_last_seq[h] == 0) return hash_words(w + a, b - a, p) == hot_slot_hash[h];
    uint64_t record[16];
    make_record(p, hot_last_seq[h], record, b - a);
    return memcmp(w + a, record, s.length) == 0;
}

static void verify(const char *request) {
    uint64_t t0 = now_ns();
    struct finding f = { 0, 0, "" };
    for (uint64_t p = 0; p < npages; p++) {
        if (!page_ok(p)) {
            if (f.bad_pages++ == 0) {
                f.first_page = p;
                describe(p, &f);
            }
        }
    }
    uint64_t ms = (now_ns() - t0) / 1000000;
    if (f.bad_pages == 0) {
        say("DWCP-WORKLOAD VERDICT OK req=%s writes=%" PRIu64 " pages=%" PRIu64 " hot=%" PRIu64 " verify_ms=%" PRIu64,
            request, writes, npages, nhot, ms);
    } else {
        say("DWCP-WORKLOAD VERDICT CORRUPT req=%s writes=%" PRIu64 " bad_pages=%" PRIu64 " %s verify_ms=%" PRIu64,
            request, writes, f.bad_pages, f.detail, ms);
    }
}

/*
 * TEST ONLY: corrupts memory on purpose so a test can prove that a corrupted guest is reported
 * CORRUPT. Flips one byte in a cold page and one in a hot page outside its record slot (so later
 * writes cannot repair it).
 */
static void test_fault_inject(void) {
    uint64_t cold = UINT64_MAX, hot = UINT64_MAX;
    uint64_t startp = key3(cfg.seed, writes, 6) % npages;
    for (uint64_t i = 0; i < npages && (cold == UINT64_MAX || hot == UINT64_MAX); i++) {
        uint64_t p = (startp + i) % npages;
        if (hot_index[p] < 0 && cold == UINT64_MAX) cold = p;
        if (hot_index[p] >= 0 && hot == UINT64_MAX) hot = p;
    }
    char cold_s[24] = "none", hot_s[24] = "none";
    if (cold != UINT64_MAX) {
        mem[cold * PAGE_SIZE + 100] ^= 0x40;
        snprintf(cold_s, sizeof cold_s, "%" PRIu64, cold);
    }
    if (hot != UINT64_MAX) {
        struct slot s = slot_of(hot);
        uint32_t at = s.offset >= 8 ? 0 : PAGE_SIZE - 1;
        mem[hot * PAGE_SIZE + at] ^= 0x01;
        snprintf(hot_s, sizeof hot_s, "%" PRIu64, hot);
    }
    say("DWCP-WORKLOAD FAULT-INJECTED cold_page=%s hot_page=%s", cold_s, hot_s);
}

/* ---- the main loop ---- */

static void stats(uint64_t now, uint64_t *period_start, uint64_t *period_writes) {
    double seconds = (double)(now - *period_start) / 1e9;
    uint64_t done = writes - *period_writes;
    say("DWCP-WORKLOAD STATS writes=%" PRIu64 " rate=%.0f target=%" PRIu64 " uptime_s=%.1f",
        writes, seconds > 0 ? (double)done / seconds : 0.0, cfg.rate, (double)(now - start_ns) / 1e9);
    *period_start = now;
    *period_writes = writes;
}

/* Handles one command line; returns 1 if dirtying must restart its pacing (it was paused). */
static int command(char *line, uint64_t *period_start, uint64_t *period_writes) {
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ')) line[--n] = 0;
    char *cmd = line;
    while (*cmd == ' ') cmd++;
    if (*cmd == 0) return 0;
    if (strncmp(cmd, "verify", 6) == 0 && (cmd[6] == 0 || cmd[6] == ' ')) {
        char *id = cmd + 6;
        while (*id == ' ') id++;
        if (*id == 0) id = "-";
        for (char *c = id; *c; c++) if (*c == ' ') *c = '_';
        verify(id);
        return 1;
    }
    if (strcmp(cmd, "test-fault-inject") == 0) {
        test_fault_inject();
        return 0;
    }
    if (strcmp(cmd, "stats") == 0) {
        stats(now_ns(), period_start, period_writes);
        return 0;
    }
    say("DWCP-WORKLOAD UNKNOWN-COMMAND %.200s", cmd);
    return 0;
}

int main(int argc, char **argv) {
    start_ns = now_ns();
    read_params(argc, argv, parse_params);

    struct termios tio;
    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &tio) == 0) {
        tio.c_lflag &= ~(tcflag_t)(ECHO | ECHONL); /* commands are not echoed into our output */
        tio.c_lflag |= ICANON;
        tcsetattr(STDIN_FILENO, TCSANOW, &tio);
    }

    setup();
    pick_rng.s = key3(cfg.seed, 0, 8);

    int stdin_open = 1;
    char input[1024];
    size_t input_len = 0;
    uint64_t base_ns = now_ns(), base_writes = writes;
    uint64_t period_start = base_ns, period_writes = writes;
    uint64_t stats_ns = cfg.stats_s * 1000000000ULL;

    for (;;) {
        uint64_t now = now_ns();
        if (cfg.rate > 0 && nhot > 0) {
            uint64_t due = base_writes + (uint64_t)((double)(now - base_ns) * (double)cfg.rate / 1e9);
            if (due > writes + cfg.rate) { /* more than a second behind: drop the debt, no bursts */
                base_ns = now;
                base_writes = writes;
                due = writes;
            }
            uint64_t n = due > writes ? due - writes : 0;
            if (n > MAX_BATCH) n = MAX_BATCH;
            for (uint64_t i = 0; i < n; i++) write_one();
        }
        if (stats_ns && now - period_start >= stats_ns) stats(now, &period_start, &period_writes);

        /* Sleep until the next write is due (at least 1 ms, at most 100 ms), awake on a command. */
        int timeout_ms = 100;
        if (cfg.rate > 0 && nhot > 0) {
            uint64_t next_due_ns = base_ns + (uint64_t)((double)(writes - base_writes + 1) * 1e9 / (double)cfg.rate);
            uint64_t t = now_ns();
            uint64_t wait_ms = next_due_ns > t ? (next_due_ns - t + 999999) / 1000000 : 0;
            timeout_ms = wait_ms < 1 ? 1 : wait_ms > 100 ? 100 : (int)wait_ms;
            if (next_due_ns <= t) timeout_ms = 0;
        }
        struct pollfd pfd = { stdin_open ? STDIN_FILENO : -1, POLLIN, 0 };
        int ready = poll(&pfd, 1, timeout_ms);
        if (ready > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t got = read(STDIN_FILENO, input + input_len, sizeof input - 1 - input_len);
            if (got <= 0) {
                if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
                if (!isatty(STDIN_FILENO)) { /* run on a host and its caller went away: do not linger */
                    say("DWCP-WORKLOAD STOPPED stdin closed");
                    return 0;
                }
                stdin_open = 0; /* a console without input: keep dirtying */
                continue;
            }
            input_len += (size_t)got;
            input[input_len] = 0;
            char *nl;
            int restart = 0;
            while ((nl = memchr(input, '\n', input_len)) != NULL) {
                *nl = 0;
                restart |= command(input, &period_start, &period_writes);
                size_t used = (size_t)(nl - input) + 1;
                memmove(input, input + used, input_len - used);
                input_len -= used;
                input[input_len] = 0;
            }
            if (input_len == sizeof input - 1) input_len = 0; /* an endless line: drop it */
            if (restart) {
                base_ns = now_ns();
                base_writes = writes;
            }
        }
    }
}
