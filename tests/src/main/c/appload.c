/*
 * DWCP test-guest application workload: a real database (SQLite, Debian's libsqlite3 linked
 * statically) holding real text, under a steady transactional write load, with its own
 * consistency checks, so that a migration test can tell whether the destination received a
 * database that is intact, as an operator's server guest would be judged.
 *
 * The database lives in a file of the guest's RAM file system (so its pages are page cache, as a
 * server's files are; /init mounts a tmpfs of 75 % of RAM for it) in WAL mode, with a SQLite page
 * cache of its own in the process's heap (an eighth of the database, at most 64 MiB). Two
 * tables: accounts (owner, a profile of real English text, balance) and a ledger of transfers (two
 * rows a transfer, a memo of real text), with an index on the ledger's account. The text is taken
 * from the files given with dwcp.corpus (the licences Debian ships in /usr/share/common-licenses,
 * copied into the guest).
 *
 * Each transaction moves an amount between two random accounts: two UPDATEs and two INSERTs in
 * one COMMIT. The process keeps, in its own memory, the number of committed transfers and two
 * 64-bit sums over every row (accounts: id, balance and a hash of its profile; ledger: id,
 * account, amount), updated with every commit. Memory and database migrate together, so after a
 * migration they must still agree.
 *
 * Parameters (kernel command line, or argv[1] on a host; same syntax as the synthetic workload's):
 *   dwcp.mem=MiB        size of the database to build (default 256)
 *   dwcp.rate=N         transfers per second (default 200; 0 = none)
 *   dwcp.seed=N         seed of the data and of the load (default 1)
 *   dwcp.stats=SECONDS  period of the STATS line (default 10; 0 = none)
 *   dwcp.db=PATH        database file (default /var/app/app.db)
 *   dwcp.corpus=DIR     folder of text files (default /usr/share/corpus)
 *
 * Console protocol: that of the synthetic workload (workload.c), so the test bed drives both alike:
 *   out  DWCP-WORKLOAD READY pages=<db pages> hot=0 mem_mib=<m> rate=<r> seed=<s> fill_ms=<t> program=sqlite ...
 *   out  DWCP-WORKLOAD STATS writes=<transfers> rate=<achieved/s> target=<r> uptime_s=<t>
 *   in   verify [<id>]
 *   out  DWCP-WORKLOAD VERDICT OK req=<id> writes=<transfers> pages=<n> hot=0 verify_ms=<t> ...
 *   out  DWCP-WORKLOAD VERDICT CORRUPT req=<id> writes=<transfers> check=<which> detail=<...>
 *   in   test-fault-inject   (TEST ONLY: flips one byte inside the database file, behind SQLite)
 *   out  DWCP-WORKLOAD FAULT-INJECTED offset=<byte>
 *   in   stats
 * The verdict: SQLite's own PRAGMA quick_check, then the rows against the sums kept in memory,
 * the ledger's row count against the committed transfers, and the sum of all balances (a transfer
 * never creates money).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "guest_console.h"

#define PROFILE_BYTES 1200u
#define MEMO_BYTES 96u
#define INITIAL_BALANCE 100000
#define MAX_BATCH 256

static struct {
    uint64_t mem_mib, rate, seed, stats_s;
    char db[256], corpus[256];
} cfg = { 256, 200, 1, 10, "/var/app/app.db", "/usr/share/corpus" };

static sqlite3 *db;
static sqlite3_stmt *debit, *credit, *post, *begin_tx, *commit_tx;
static char *corpus;
static size_t corpus_len;
static uint64_t accounts;          /* rows in accounts, ids 1..accounts */
static uint64_t transfers;         /* committed transfers */
static uint64_t accounts_sum;      /* sum of account_mix over all accounts */
static uint64_t ledger_sum;        /* sum of ledger_mix over all ledger rows */
static uint64_t ledger_next = 1;   /* id of the next ledger row */
static uint64_t start_ns;
static uint64_t rng_state;
static const char *verdict_id = "-";


/* One line, one write(). */

static void die(const char *what) {
    say("DWCP-WORKLOAD ERROR %s: %s", what, db ? sqlite3_errmsg(db) : strerror(errno));
    exit(2);
}

static uint64_t mix(uint64_t x) {
    x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27; x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t next_random(void) {
    rng_state += 0x9e3779b97f4a7c15ULL;
    return mix(rng_state);
}

static uint64_t text_hash(const unsigned char *text, int n) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int i = 0; i < n; i++) { h ^= text[i]; h *= 0x100000001b3ULL; }
    return h;
}

static uint64_t account_mix(int64_t id, int64_t balance, uint64_t profile_hash) {
    return mix((uint64_t)id * 0x9e3779b97f4a7c15ULL ^ mix((uint64_t)balance) ^ profile_hash);
}

static uint64_t ledger_mix(int64_t id, int64_t account, int64_t amount) {
    return mix(mix((uint64_t)id) ^ (uint64_t)account * 0xc2b2ae3d27d4eb4fULL ^ mix((uint64_t)amount + 17));
}

/* A slice of the corpus starting at a word boundary: real text. */
static const char *slice(uint64_t key, size_t n) {
    size_t at = (size_t)(key % (corpus_len - n));
    while (at > 0 && corpus[at - 1] != ' ' && corpus[at - 1] != '\n') at--;
    return corpus + at;
}

static void load_corpus(void) {
    DIR *dir = opendir(cfg.corpus);
    if (!dir) die("cannot open the corpus folder");
    size_t cap = 1 << 20;
    corpus = malloc(cap);
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", cfg.corpus, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        FILE *f = fopen(path, "r");
        if (!f) continue;
        if (corpus_len + (size_t)st.st_size + 1 > cap) {
            while (corpus_len + (size_t)st.st_size + 1 > cap) cap *= 2;
            corpus = realloc(corpus, cap);
        }
        corpus_len += fread(corpus + corpus_len, 1, (size_t)st.st_size, f);
        fclose(f);
    }
    closedir(dir);
    if (corpus_len < 4 * PROFILE_BYTES) {
        errno = ENOENT;
        die("the corpus folder holds too little text");
    }
}

static void exec_sql(const char *sql) {
    char *error = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &error) != SQLITE_OK) {
        say("DWCP-WORKLOAD ERROR %s: %s", sql, error ? error : "?");
        exit(2);
    }
}

static sqlite3_stmt *prepare(const char *sql) {
    sqlite3_stmt *s;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) die(sql);
    return s;
}

static void step_done(sqlite3_stmt *s) {
    if (sqlite3_step(s) != SQLITE_DONE) die(sqlite3_sql(s));
    sqlite3_reset(s);
}

static void prepare_statements(void);

/* SQLite's own page cache in the heap: an eighth of the database, at most 64 MiB. */
static void set_cache_size(void) {
    char sql[64];
    uint64_t kib = cfg.mem_mib * 1024 / 8;
    snprintf(sql, sizeof sql, "PRAGMA cache_size=-%" PRIu64, kib > 65536 ? 65536 : kib);
    exec_sql(sql);
}

static void build(void) {
    char folder[256];
    snprintf(folder, sizeof folder, "%s", cfg.db);
    char *slash = strrchr(folder, '/');
    if (slash && slash != folder) { *slash = 0; mkdir(folder, 0755); }
    unlink(cfg.db);
    if (sqlite3_open(cfg.db, &db) != SQLITE_OK) die("cannot open the database");
    /* built without a journal (nothing to roll back to), run with WAL: the WAL of a one-transaction
       build would be as large as the database, on a file system in RAM */
    exec_sql("PRAGMA journal_mode=OFF");
    set_cache_size();
    exec_sql("CREATE TABLE accounts(id INTEGER PRIMARY KEY, owner TEXT NOT NULL, profile TEXT NOT NULL,"
             " balance INTEGER NOT NULL, updated INTEGER NOT NULL)");
    exec_sql("CREATE TABLE ledger(id INTEGER PRIMARY KEY, account INTEGER NOT NULL, amount INTEGER NOT NULL,"
             " transfer INTEGER NOT NULL, memo TEXT NOT NULL)");
    /* a row is about PROFILE_BYTES + 60 bytes with its share of the B-tree */
    accounts = cfg.mem_mib * (1u << 20) / (PROFILE_BYTES + 60);
    if (accounts < 2) accounts = 2;
    sqlite3_stmt *insert = prepare("INSERT INTO accounts(id, owner, profile, balance, updated) VALUES(?,?,?,?,0)");
    exec_sql("BEGIN");
    for (uint64_t id = 1; id <= accounts; id++) {
        uint64_t k = mix(cfg.seed * 0x2545f4914f6cdd1dULL + id);
        const char *owner = slice(k, 40);
        const char *profile = slice(mix(k), PROFILE_BYTES);
        sqlite3_bind_int64(insert, 1, (sqlite3_int64)id);
        sqlite3_bind_text(insert, 2, owner, 24 + (int)(k % 16), SQLITE_STATIC);
        sqlite3_bind_text(insert, 3, profile, (int)PROFILE_BYTES, SQLITE_STATIC);
        sqlite3_bind_int64(insert, 4, INITIAL_BALANCE);
        step_done(insert);
        accounts_sum += account_mix((int64_t)id, INITIAL_BALANCE, text_hash((const unsigned char *)profile, PROFILE_BYTES));
    }
    exec_sql("COMMIT");
    sqlite3_finalize(insert);
    exec_sql("CREATE INDEX ledger_account ON ledger(account)");
    exec_sql("PRAGMA journal_mode=WAL");
    exec_sql("PRAGMA synchronous=NORMAL");
    exec_sql("PRAGMA journal_size_limit=8388608");
    prepare_statements();
}

static void prepare_statements(void) {
    debit = prepare("UPDATE accounts SET balance = balance - ?2, updated = ?3 WHERE id = ?1 RETURNING balance + ?2, balance, profile");
    credit = prepare("UPDATE accounts SET balance = balance + ?2, updated = ?3 WHERE id = ?1 RETURNING balance - ?2, balance, profile");
    post = prepare("INSERT INTO ledger(id, account, amount, transfer, memo) VALUES(?,?,?,?,?)");
    begin_tx = prepare("BEGIN");
    commit_tx = prepare("COMMIT");
}

static void close_database(void) {
    sqlite3_stmt *all[] = { debit, credit, post, begin_tx, commit_tx };
    for (int i = 0; i < 5; i++) sqlite3_finalize(all[i]);
    if (sqlite3_close(db) != SQLITE_OK) die("cannot close the database");
    db = NULL;
}

static void open_database(void) {
    if (sqlite3_open(cfg.db, &db) != SQLITE_OK) die("cannot open the database");
    exec_sql("PRAGMA synchronous=NORMAL");
    exec_sql("PRAGMA journal_size_limit=8388608");
    set_cache_size();
    prepare_statements();
}

/* Applies one UPDATE ... RETURNING old, new, profile and moves the account's term in the sum. */
static void update_account(sqlite3_stmt *s, int64_t id, int64_t amount, int64_t when) {
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, amount);
    sqlite3_bind_int64(s, 3, when);
    if (sqlite3_step(s) != SQLITE_ROW) die("a transfer's account is gone");
    int64_t before = sqlite3_column_int64(s, 0);
    int64_t after = sqlite3_column_int64(s, 1);
    uint64_t h = text_hash(sqlite3_column_text(s, 2), sqlite3_column_bytes(s, 2));
    accounts_sum += account_mix(id, after, h) - account_mix(id, before, h);
    if (sqlite3_step(s) != SQLITE_DONE) die(sqlite3_sql(s));
    sqlite3_reset(s);
}

static void post_row(int64_t account, int64_t amount, uint64_t transfer, uint64_t key) {
    int64_t id = (int64_t)ledger_next++;
    sqlite3_bind_int64(post, 1, id);
    sqlite3_bind_int64(post, 2, account);
    sqlite3_bind_int64(post, 3, amount);
    sqlite3_bind_int64(post, 4, (sqlite3_int64)transfer);
    sqlite3_bind_text(post, 5, slice(key, MEMO_BYTES), (int)MEMO_BYTES, SQLITE_STATIC);
    step_done(post);
    ledger_sum += ledger_mix(id, account, amount);
}

static void transfer_one(void) {
    uint64_t r = next_random();
    int64_t from = (int64_t)(r % accounts) + 1;
    int64_t to = (int64_t)(next_random() % accounts) + 1;
    if (to == from) to = from % (int64_t)accounts + 1;
    int64_t amount = (int64_t)(next_random() % 500) + 1;
    int64_t when = (int64_t)((now_ns() - start_ns) / 1000000);
    uint64_t saved_accounts = accounts_sum, saved_ledger = ledger_sum, saved_next = ledger_next;
    step_done(begin_tx);
    update_account(debit, from, amount, when);
    update_account(credit, to, amount, when);
    post_row(from, -amount, transfers + 1, r);
    post_row(to, amount, transfers + 1, r >> 7);
    if (sqlite3_step(commit_tx) != SQLITE_DONE) {
        /* not committed: the database rolls back, so do the sums */
        accounts_sum = saved_accounts; ledger_sum = saved_ledger; ledger_next = saved_next;
        sqlite3_reset(commit_tx);
        exec_sql("ROLLBACK");
        return;
    }
    sqlite3_reset(commit_tx);
    transfers++;
}

static int64_t db_pages(void) {
    sqlite3_stmt *s = prepare("PRAGMA page_count");
    int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    return n;
}

static void corrupt(const char *check, const char *fmt, ...) {
    char detail[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    for (char *c = detail; *c; c++) if (*c == ' ' || *c == '\n') *c = '_';
    say("DWCP-WORKLOAD VERDICT CORRUPT req=%s writes=%" PRIu64 " check=%s detail=%s", verdict_id, transfers, check, detail);
}

static void verify(void) {
    uint64_t t0 = now_ns();
    sqlite3_stmt *s = prepare("PRAGMA quick_check");
    int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW || strcmp((const char *)sqlite3_column_text(s, 0), "ok") != 0) {
        corrupt("quick_check", "%s", rc == SQLITE_ROW ? (const char *)sqlite3_column_text(s, 0) : sqlite3_errmsg(db));
        sqlite3_finalize(s);
        return;
    }
    sqlite3_finalize(s);
    uint64_t sum = 0, rows = 0;
    int64_t money = 0;
    s = prepare("SELECT id, balance, profile FROM accounts");
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t balance = sqlite3_column_int64(s, 1);
        sum += account_mix(sqlite3_column_int64(s, 0), balance,
                           text_hash(sqlite3_column_text(s, 2), sqlite3_column_bytes(s, 2)));
        money += balance;
        rows++;
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) { corrupt("accounts", "scan failed: %s", sqlite3_errmsg(db)); return; }
    if (rows != accounts || sum != accounts_sum) {
        corrupt("accounts", "rows %" PRIu64 " of %" PRIu64 ", sum %016" PRIx64 " expected %016" PRIx64, rows, accounts, sum, accounts_sum);
        return;
    }
    if (money != (int64_t)accounts * INITIAL_BALANCE) {
        corrupt("money", "balances add up to %" PRId64 ", not %" PRId64, money, (int64_t)accounts * INITIAL_BALANCE);
        return;
    }
    sum = 0; rows = 0;
    s = prepare("SELECT id, account, amount FROM ledger");
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        sum += ledger_mix(sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2));
        rows++;
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) { corrupt("ledger", "scan failed: %s", sqlite3_errmsg(db)); return; }
    if (rows != 2 * transfers || sum != ledger_sum) {
        corrupt("ledger", "rows %" PRIu64 " for %" PRIu64 " transfers, sum %016" PRIx64 " expected %016" PRIx64, rows, transfers, sum, ledger_sum);
        return;
    }
    say("DWCP-WORKLOAD VERDICT OK req=%s writes=%" PRIu64 " pages=%" PRId64 " hot=0 verify_ms=%" PRIu64 " accounts=%" PRIu64
        " ledger_rows=%" PRIu64, verdict_id, transfers, db_pages(), (now_ns() - t0) / 1000000, accounts, rows);
}

/*
 * Flips one byte in the middle of the database file, behind SQLite: the WAL is checkpointed
 * into the file first and the connection reopened after, so that SQLite reads the flipped byte.
 */
static void test_fault_inject(void) {
    exec_sql("PRAGMA wal_checkpoint(TRUNCATE)");
    int64_t pages = db_pages();
    close_database();
    int fd = open(cfg.db, O_RDWR);
    off_t offset = (off_t)(pages / 2) * 4096 + 2048;
    unsigned char b;
    int done = fd >= 0 && pread(fd, &b, 1, offset) == 1 && (b ^= 0x20, pwrite(fd, &b, 1, offset) == 1);
    int saved = errno;
    if (fd >= 0) close(fd);
    open_database();
    if (done) say("DWCP-WORKLOAD FAULT-INJECTED offset=%lld", (long long)offset);
    else say("DWCP-WORKLOAD FAULT-INJECT-FAILED %s", strerror(saved));
}

static void stats(uint64_t now, uint64_t *period_start, uint64_t *period_transfers) {
    double seconds = (double)(now - *period_start) / 1e9;
    say("DWCP-WORKLOAD STATS writes=%" PRIu64 " rate=%.0f target=%" PRIu64 " uptime_s=%" PRIu64, transfers,
        seconds > 0 ? (double)(transfers - *period_transfers) / seconds : 0.0, cfg.rate, (now - start_ns) / 1000000000ULL);
    *period_start = now;
    *period_transfers = transfers;
}

static void parse_params(const char *line) {
    const char *numbers[] = { "dwcp.mem=", "dwcp.rate=", "dwcp.seed=", "dwcp.stats=" };
    uint64_t *values[] = { &cfg.mem_mib, &cfg.rate, &cfg.seed, &cfg.stats_s };
    const char *strings[] = { "dwcp.db=", "dwcp.corpus=" };
    char *targets[] = { cfg.db, cfg.corpus };
    for (const char *at = line; *at;) {
        while (*at == ' ' || *at == '\n' || *at == '\t') at++;
        for (int i = 0; i < 4; i++) {
            size_t n = strlen(numbers[i]);
            if (strncmp(at, numbers[i], n) == 0) *values[i] = strtoull(at + n, NULL, 10);
        }
        for (int i = 0; i < 2; i++) {
            size_t n = strlen(strings[i]);
            if (strncmp(at, strings[i], n) == 0) {
                size_t len = strcspn(at + n, " \n\t");
                if (len > 0 && len < 255) { memcpy(targets[i], at + n, len); targets[i][len] = 0; }
            }
        }
        while (*at && *at != ' ' && *at != '\n' && *at != '\t') at++;
    }
}


int main(int argc, char **argv) {
    start_ns = now_ns();
    read_params(argc, argv, parse_params);
    struct termios tio;
    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &tio) == 0) {
        tio.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
        tio.c_lflag |= ICANON;
        tcsetattr(STDIN_FILENO, TCSANOW, &tio);
    }
    rng_state = mix(cfg.seed + 99);
    load_corpus();
    build();
    say("DWCP-WORKLOAD READY pages=%" PRId64 " hot=0 mem_mib=%" PRIu64 " rate=%" PRIu64 " seed=%" PRIu64
        " fill_ms=%" PRIu64 " program=sqlite sqlite=%s accounts=%" PRIu64 " corpus_bytes=%zu",
        db_pages(), cfg.mem_mib, cfg.rate, cfg.seed, (now_ns() - start_ns) / 1000000, sqlite3_libversion(), accounts, corpus_len);

    int stdin_open = 1;
    char input[1024];
    size_t input_len = 0;
    uint64_t base_ns = now_ns(), base_transfers = transfers;
    uint64_t period_start = base_ns, period_transfers = transfers;
    uint64_t stats_ns = cfg.stats_s * 1000000000ULL;
    for (;;) {
        uint64_t now = now_ns();
        if (cfg.rate > 0) {
            uint64_t due = base_transfers + (uint64_t)((double)(now - base_ns) * (double)cfg.rate / 1e9);
            if (due > transfers + cfg.rate) { base_ns = now; base_transfers = transfers; due = transfers; }
            uint64_t n = due > transfers ? due - transfers : 0;
            if (n > MAX_BATCH) n = MAX_BATCH;
            for (uint64_t i = 0; i < n; i++) transfer_one();
        }
        if (stats_ns && now - period_start >= stats_ns) stats(now, &period_start, &period_transfers);
        int timeout_ms = 100;
        if (cfg.rate > 0) {
            uint64_t next_ns = base_ns + (uint64_t)((double)(transfers - base_transfers + 1) * 1e9 / (double)cfg.rate);
            uint64_t t = now_ns();
            uint64_t wait_ms = next_ns > t ? (next_ns - t + 999999) / 1000000 : 0;
            timeout_ms = next_ns <= t ? 0 : wait_ms < 1 ? 1 : wait_ms > 100 ? 100 : (int)wait_ms;
        }
        struct pollfd pfd = { stdin_open ? STDIN_FILENO : -1, POLLIN, 0 };
        int ready = poll(&pfd, 1, timeout_ms);
        if (ready <= 0 || !(pfd.revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t got = read(STDIN_FILENO, input + input_len, sizeof input - 1 - input_len);
        if (got <= 0) {
            if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (!isatty(STDIN_FILENO)) { say("DWCP-WORKLOAD STOPPED stdin closed"); return 0; }
            stdin_open = 0;
            continue;
        }
        input_len += (size_t)got;
        input[input_len] = 0;
        char *nl;
        while ((nl = memchr(input, '\n', input_len)) != NULL) {
            *nl = 0;
            char *cmd = input;
            while (*cmd == ' ' || *cmd == '\r') cmd++;
            char *end = cmd + strlen(cmd);
            while (end > cmd && (end[-1] == ' ' || end[-1] == '\r')) *--end = 0;
            if (strncmp(cmd, "verify", 6) == 0 && (cmd[6] == 0 || cmd[6] == ' ')) {
                char *id = cmd + 6;
                while (*id == ' ') id++;
                if (*id == 0) id = "-";
                for (char *c = id; *c; c++) if (*c == ' ') *c = '_';
                verdict_id = id;
                verify();
                verdict_id = "-";
                base_ns = now_ns(); /* the check took time: no burst of owed transfers after it */
                base_transfers = transfers;
            } else if (strcmp(cmd, "test-fault-inject") == 0) {
                test_fault_inject();
            } else if (strcmp(cmd, "stats") == 0) {
                stats(now_ns(), &period_start, &period_transfers);
            } else if (*cmd) {
                say("DWCP-WORKLOAD UNKNOWN-COMMAND %.200s", cmd);
            }
            size_t used = (size_t)(nl - input) + 1;
            memmove(input, input + used, input_len - used);
            input_len -= used;
            input[input_len] = 0;
        }
        if (input_len == sizeof input - 1) input_len = 0;
    }
}
