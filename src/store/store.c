/*
 * store.c - the SQLite engine behind store.h: opening the database with
 * durable pragmas, the single writer thread with group commit, the
 * per-thread read connections, the prepared statement cache, migrations
 * and the commit latency histogram. The SQL of each resource lives in
 * store_<resource>.c; the migrations themselves in migrations.c.
 *
 * Threads and ownership (read this before touching any lock):
 *
 *  - struct store is owned by whoever called store_open() and lives until
 *    store_close(). Callers already blocked in store_write() when
 *    store_close() starts are drained and answered; a store_write() that
 *    starts while the close is in progress gets -EBUSY. Anything else
 *    (reads, or a store_write() that may start after store_close()
 *    returned) must be stopped by the caller first: the memory is gone.
 *    Reader threads may stay alive, idle.
 *
 *  - st->lock protects the job queue, st->closing, st->callers, the
 *    statistics and the rc/done fields of queued jobs. Each caller of
 *    store_write() waits on its own condition variable (in its own stack
 *    frame) with st->lock, so the writer wakes exactly the callers whose
 *    jobs it finished. store_close() waits for st->callers to drop to 0
 *    before it destroys st->lock.
 *
 *  - The write connection (st->wconn) is opened by store_open() and then
 *    used only by the writer thread until store_close() has joined it;
 *    store_close() finalizes and closes it last, so that its close is the
 *    last one on the file and checkpoints and removes the WAL.
 *
 *  - A read connection (struct store_conn) is created by the thread that
 *    uses it and its memory belongs to that thread: it sits on the
 *    thread's list (the value of store_thread_key). It is also linked into
 *    its store's reader list so that store_close() can close it. The SQLite
 *    handle is closed exactly once, by whichever comes first:
 *      - the thread exits: the key destructor closes it and unlinks it from
 *        the store (the store is still open, since c->st is set);
 *      - the store closes: store_close() closes it and sets c->st = NULL,
 *        marking the entry dead. The memory stays with the owning thread,
 *        which frees dead entries the next time it opens a connection or
 *        when it exits (store_close() frees the calling thread's own dead
 *        entries at once).
 *    Both paths run under the process-wide store_readers_lock, so there is
 *    no window where both close the same handle. c->st is only read or
 *    written under that lock; c->db and c->gen are written only by the
 *    owning thread before the entry is published.
 *
 *  - Each store gets a process-unique generation number. A thread finds
 *    its connection for a store by generation, not by address, so a store
 *    opened after another one was closed (possibly at the same address)
 *    never gets the dead connection of its predecessor.
 *
 *  - The statement cache belongs to its connection and, like the
 *    connection, is used by a single thread. store_prepare() finds the
 *    connection by walking the calling thread's list (normally one entry),
 *    or the write connection when called on the writer thread.
 *
 * Rules for store_<resource>.c and migrations.c:
 *  - A write job never runs BEGIN, COMMIT, ROLLBACK or RELEASE of the
 *    enclosing transaction (its own SAVEPOINTs with other names are fine).
 *    It returns a negative errno to undo its changes. store_write() from a
 *    job returns -EDEADLK; store_reader() from a job returns the write
 *    connection, so the job sees its own uncommitted rows.
 *  - A read must sqlite3_reset() its statement before returning. A
 *    statement left stepped keeps the connection's read transaction open:
 *    every later read on that thread sees the old snapshot and the WAL
 *    cannot be checkpointed past it. (The writer resets forgotten
 *    statements after each job; readers cannot be swept safely because a
 *    caller may be iterating one statement while preparing another.)
 *  - No DEFERRABLE INITIALLY DEFERRED foreign keys: they fail at COMMIT,
 *    which fails every job of the batch with -EIO.
 *  - Migrations run inside a transaction: no BEGIN/COMMIT, and PRAGMA
 *    foreign_keys is a no-op there. Double-quoted string literals are
 *    rejected (SQLITE_DBCONFIG_DQS_*): write 'text', not "text".
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "util/cleanup.h"

#define STORE_BATCH_MAX_DEFAULT         256
#define STORE_BATCH_MAX_LIMIT           4096
#define STORE_BUSY_TIMEOUT_DEFAULT      5000
#define STORE_STMT_CACHE_MAX            128

/* Page cache per connection, in KiB (negative cache_size means KiB). */
#define STORE_WRITER_CACHE_KIB          16384
#define STORE_READER_CACHE_KIB          4096
/* Readers map the database file (address space only; the kernel's page
 * cache is shared by all of them): a read of a page that is in the OS cache
 * costs no copy and no per-connection cache slot. The charger search reads
 * many scattered pages (measured: 465 -> 296 us per search over 100,000
 * chargers). Pages still in the WAL are read as usual. */
#define STORE_READER_MMAP_BYTES         (1LL << 30)
/* WAL frames (pages) after which the checkpointer runs: SQLite's default
 * auto-checkpoint size. */
#define STORE_CKPT_FRAMES 1000
/* WAL frames (about 4 KiB each) after which the checkpointer tries to
 * restart the WAL, and how long it may wait for readers to move on. */
#define STORE_CKPT_RESTART 16384
#define STORE_CKPT_RESTART_WAIT_MS 2

/* Size the WAL is truncated back to after a checkpoint. */
#define STORE_WAL_SIZE_LIMIT            (64 * 1024 * 1024)

const double store_commit_bucket_le_s[STORE_COMMIT_BUCKETS] = {
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
        0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
};

/* The same bounds in microseconds, so recording never touches floats. */
static const uint64_t store_commit_bucket_le_us[STORE_COMMIT_BUCKETS] = {
        100, 250, 500, 1000, 2500, 5000,
        10000, 25000, 50000, 100000, 250000, 1000000,
};

struct store_stmt_slot {
        const char *sql;                /* key: the caller's string literal */
        sqlite3_stmt *stmt;             /* owned by the cache */
        uint64_t last_use;              /* LRU tick of the connection */
};

struct store_conn {
        sqlite3 *db;
        uint64_t gen;                   /* generation of the store */
        /* Readers: the store while the handle is open, NULL once the store
         * closed it (a dead entry). Guarded by store_readers_lock. */
        struct store *st;
        struct store_conn *thread_next; /* owning thread's list */
        struct store_conn *store_prev;  /* store's reader list */
        struct store_conn *store_next;
        uint64_t tick;
        size_t n_stmts;
        struct store_stmt_slot stmts[STORE_STMT_CACHE_MAX];
};

/* Lives in the stack frame of the store_write() caller. */
struct store_job {
        store_write_fn fn;
        void *arg;
        int rc;
        bool done;
        pthread_cond_t cond;
        struct store_job *next;
};

struct store {
        char *path;                     /* as SQLite resolved it (absolute) */
        uint64_t gen;
        int batch_max;
        int busy_timeout_ms;

        struct store_conn *wconn;       /* write connection, see top */
        struct store_job **batch;       /* writer's scratch, batch_max slots */
        pthread_t writer;
        bool writer_started;

        pthread_mutex_t lock;
        pthread_cond_t work;            /* writer waits here for jobs */
        pthread_cond_t left;            /* store_close waits here for callers */
        int callers;                    /* threads inside store_write() */
        struct store_job *q_head;
        struct store_job *q_tail;
        bool closing;
        struct store_commit_stats stats;

        struct store_conn *readers;     /* guarded by store_readers_lock */

        /* Checkpoints run on their own thread and connection, not inside
         * the writer's COMMIT: a checkpoint fsyncs the database file as
         * well as the WAL, and done by the writer it would stall every
         * caller of that batch. The writer's WAL hook wakes the
         * checkpointer once the WAL holds STORE_CKPT_FRAMES frames. */
        pthread_t ckpt;
        bool ckpt_started;
        pthread_mutex_t ckpt_lock;
        pthread_cond_t ckpt_wake;
        int ckpt_frames;                /* WAL frames at the last commit */
        bool ckpt_stop;
};

static pthread_mutex_t store_readers_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t store_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t store_thread_key;
static int store_key_error;
static atomic_uint_fast64_t store_next_gen = 1;

/* Set on a writer thread to its store: detects re-entrant store_write()
 * and lets store_reader()/store_prepare() find the write connection. */
static _Thread_local struct store *store_tls_writer;

static const char store_sql_begin[] = "BEGIN IMMEDIATE";
static const char store_sql_commit[] = "COMMIT";
static const char store_sql_rollback[] = "ROLLBACK";
static const char store_sql_savepoint[] = "SAVEPOINT store_job";
static const char store_sql_rollback_to[] = "ROLLBACK TO store_job";
static const char store_sql_release[] = "RELEASE store_job";
static const char store_sql_migration_find[] =
        "SELECT 1 FROM schema_migrations WHERE version = ?";

static void store_seterr(char *errmsg, size_t errlen, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void store_seterr(char *errmsg, size_t errlen, const char *fmt, ...)
{
        va_list ap;

        if (!errmsg || errlen == 0)
                return;
        va_start(ap, fmt);
        vsnprintf(errmsg, errlen, fmt, ap);
        va_end(ap);
}

int store_errno(int sqlite_rc)
{
        switch (sqlite_rc) {
        case SQLITE_OK:
        case SQLITE_ROW:
        case SQLITE_DONE:
                return 0;
        case SQLITE_CONSTRAINT_UNIQUE:
        case SQLITE_CONSTRAINT_PRIMARYKEY:
        case SQLITE_CONSTRAINT_ROWID:
                return -EEXIST;
        default:
                break;
        }
        switch (sqlite_rc & 0xff) {
        case SQLITE_CONSTRAINT:
                return -EINVAL;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        default:
                return -EIO;
        }
}

static uint64_t store_now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- statement cache ------------------------------------------------- */

static void store_conn_finalize_all(struct store_conn *c)
{
        size_t i;

        for (i = 0; i < c->n_stmts; i++)
                sqlite3_finalize(c->stmts[i].stmt);
        c->n_stmts = 0;
}

/* Finalizes the cache and closes the handle. Does not touch c->db or
 * c->st: see the ownership notes at the top. */
static void store_conn_close(struct store_conn *c)
{
        store_conn_finalize_all(c);
        /* close_v2: a statement the caller prepared outside the cache and
         * leaked would make sqlite3_close() fail and leak the handle; v2
         * defers the close until it is finalized instead. */
        sqlite3_close_v2(c->db);
}

static bool store_sql_tail_empty(const char *tail)
{
        if (!tail)
                return true;
        tail += strspn(tail, " \t\r\n;");
        return *tail == '\0';
}

/* Picks the slot for a new statement: a free one, else the least recently
 * used statement that is not being stepped right now. NULL if every cached
 * statement is active, which would mean STORE_STMT_CACHE_MAX statements
 * stepped at the same time on one connection. */
static struct store_stmt_slot *store_conn_slot_for_new(struct store_conn *c)
{
        struct store_stmt_slot *victim = NULL;
        size_t i;

        if (c->n_stmts < STORE_STMT_CACHE_MAX)
                return &c->stmts[c->n_stmts++];
        for (i = 0; i < c->n_stmts; i++) {
                if (sqlite3_stmt_busy(c->stmts[i].stmt))
                        continue;
                if (!victim || c->stmts[i].last_use < victim->last_use)
                        victim = &c->stmts[i];
        }
        if (victim) {
                sqlite3_finalize(victim->stmt);
                victim->stmt = NULL;
                victim->sql = NULL;
        }
        return victim;
}

static sqlite3_stmt *store_conn_prepare(struct store_conn *c, const char *sql)
{
        struct store_stmt_slot *slot;
        sqlite3_stmt *stmt = NULL;
        const char *tail = NULL;
        size_t i;
        int rc;

        c->tick++;
        for (i = 0; i < c->n_stmts; i++) {
                slot = &c->stmts[i];
                if (slot->sql != sql)
                        continue;
                sqlite3_reset(slot->stmt);
                sqlite3_clear_bindings(slot->stmt);
                slot->last_use = c->tick;
                return slot->stmt;
        }

        rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
        if (rc != SQLITE_OK || !stmt)
                return NULL;
        /* One statement per string: the rest would be silently ignored. */
        if (!store_sql_tail_empty(tail)) {
                sqlite3_finalize(stmt);
                return NULL;
        }
        slot = store_conn_slot_for_new(c);
        if (!slot) {
                sqlite3_finalize(stmt);
                return NULL;
        }
        slot->sql = sql;
        slot->stmt = stmt;
        slot->last_use = c->tick;
        return stmt;
}

/* Runs one cached statement that returns no rows the caller needs.
 * Returns an SQLite result code (SQLITE_OK on success). */
static int store_conn_exec(struct store_conn *c, const char *sql)
{
        sqlite3_stmt *stmt = store_conn_prepare(c, sql);
        int rc;

        if (!stmt) {
                rc = sqlite3_extended_errcode(c->db);
                return rc == SQLITE_OK ? SQLITE_ERROR : rc;
        }
        rc = sqlite3_step(stmt);
        sqlite3_reset(stmt);
        if (rc == SQLITE_DONE || rc == SQLITE_ROW)
                return SQLITE_OK;
        return rc;
}

/* ---- per-thread readers ---------------------------------------------- */

static void store_thread_exit(void *value);

static void store_key_create(void)
{
        /* Once per process, before SQLite initialises itself: no memory
         * statistics. Their global mutex is taken on every allocation and
         * shows in profiles of the writer thread; enemane never reads them.
         * (An SQLITE_MISUSE here only means SQLite was already in use.) */
        (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
        store_key_error = pthread_key_create(&store_thread_key, store_thread_exit);
}

static int store_key_init(void)
{
        pthread_once(&store_key_once, store_key_create);
        return store_key_error ? -store_key_error : 0;
}

static struct store_conn *store_thread_conns(void)
{
        if (store_key_init() < 0)
                return NULL;
        return pthread_getspecific(store_thread_key);
}

/* Caller holds store_readers_lock. */
static void store_readers_link_locked(struct store *st, struct store_conn *c)
{
        c->st = st;
        c->store_prev = NULL;
        c->store_next = st->readers;
        if (st->readers)
                st->readers->store_prev = c;
        st->readers = c;
}

/* Caller holds store_readers_lock; c->st is the (open) store. */
static void store_readers_unlink_locked(struct store_conn *c)
{
        struct store *st = c->st;

        if (c->store_prev)
                c->store_prev->store_next = c->store_next;
        else
                st->readers = c->store_next;
        if (c->store_next)
                c->store_next->store_prev = c->store_prev;
        c->store_prev = NULL;
        c->store_next = NULL;
        c->st = NULL;
}

/* Frees the calling thread's dead entries (handles already closed by
 * store_close()). Caller holds store_readers_lock. */
static void store_thread_prune_locked(void)
{
        struct store_conn *head = store_thread_conns();
        struct store_conn **p = &head;
        struct store_conn *c;
        bool changed = false;

        while (*p) {
                c = *p;
                if (c->st) {
                        p = &c->thread_next;
                        continue;
                }
                *p = c->thread_next;
                free(c);
                changed = true;
        }
        if (changed)
                pthread_setspecific(store_thread_key, head);
}

/* Key destructor: the thread is exiting; close what is still open. */
static void store_thread_exit(void *value)
{
        struct store_conn *c = value;
        struct store_conn *next;

        pthread_mutex_lock(&store_readers_lock);
        for (; c; c = next) {
                next = c->thread_next;
                if (c->st) {
                        store_readers_unlink_locked(c);
                        store_conn_close(c);
                }
                free(c);
        }
        pthread_mutex_unlock(&store_readers_lock);
}

/* Settings shared by the write and the read connections. */
static int store_db_configure(sqlite3 *db, int busy_timeout_ms, int cache_kib)
{
        char sql[256];
        int rc;

        sqlite3_extended_result_codes(db, 1);
        sqlite3_busy_timeout(db, busy_timeout_ms);
        /* No writable_schema tricks, no double-quoted string literals
         * (a typo'd column name must be an error, not a string). */
        sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
        sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DML, 0, NULL);
        sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DDL, 0, NULL);
        snprintf(sql, sizeof(sql),
                 "PRAGMA foreign_keys = ON;"
                 "PRAGMA trusted_schema = OFF;"
                 "PRAGMA temp_store = MEMORY;"
                 "PRAGMA cache_size = -%d;", cache_kib);
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
        return rc;
}

static int store_reader_mmap(sqlite3 *db)
{
        char sql[64];

        snprintf(sql, sizeof(sql), "PRAGMA mmap_size = %lld", STORE_READER_MMAP_BYTES);
        return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static struct store_conn *store_reader_open(struct store *st)
{
        _cleanup_free_ struct store_conn *c = NULL;
        int rc;

        /* Drop the dead entries first: this also guarantees that no dead
         * entry on this thread's list can carry the address of the handle
         * opened below (see store_prepare()). */
        pthread_mutex_lock(&store_readers_lock);
        store_thread_prune_locked();
        pthread_mutex_unlock(&store_readers_lock);

        c = calloc(1, sizeof(*c));
        if (!c)
                return NULL;
        /* READWRITE + query_only rather than READONLY: a WAL reader needs
         * to write the -shm index. The file exists: the writer created it. */
        rc = sqlite3_open_v2(st->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc == SQLITE_OK)
                rc = store_db_configure(c->db, st->busy_timeout_ms, STORE_READER_CACHE_KIB);
        if (rc == SQLITE_OK)
                rc = sqlite3_exec(c->db, "PRAGMA query_only = ON", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
                rc = store_reader_mmap(c->db);
        if (rc != SQLITE_OK) {
                sqlite3_close_v2(c->db);
                return NULL;
        }
        c->gen = st->gen;

        pthread_mutex_lock(&store_readers_lock);
        c->thread_next = store_thread_conns();
        if (pthread_setspecific(store_thread_key, c) != 0) {
                pthread_mutex_unlock(&store_readers_lock);
                sqlite3_close_v2(c->db);
                return NULL;
        }
        store_readers_link_locked(st, c);
        pthread_mutex_unlock(&store_readers_lock);
        return TAKE_PTR(c);
}

sqlite3 *store_reader(struct store *st)
{
        struct store_conn *c;

        if (!st)
                return NULL;
        /* A job asking for a reader gets the write connection: it then
         * reads its own (and its batch's) uncommitted changes instead of
         * an older snapshot. */
        if (store_tls_writer == st)
                return st->wconn->db;
        /* Fast path without locks: c->gen never changes after publication,
         * and a live store's generation never matches a dead entry. */
        for (c = store_thread_conns(); c; c = c->thread_next) {
                if (c->gen == st->gen)
                        return c->db;
        }
        c = store_reader_open(st);
        return c ? c->db : NULL;
}

sqlite3_stmt *store_prepare(sqlite3 *db, const char *sql)
{
        struct store_conn *c;

        if (!db || !sql)
                return NULL;
        if (store_tls_writer && store_tls_writer->wconn->db == db)
                return store_conn_prepare(store_tls_writer->wconn, sql);
        /* A dead entry keeps the (stale) address of its closed handle; it
         * cannot equal a live handle on this list because entries are
         * pruned before this thread opens a new one. */
        for (c = store_thread_conns(); c; c = c->thread_next) {
                if (c->db == db)
                        return store_conn_prepare(c, sql);
        }
        return NULL;
}

/* ---- writer thread --------------------------------------------------- */

/* Resets every statement still being stepped on the write connection: a
 * job that forgot its sqlite3_reset() must not keep a statement active
 * across ROLLBACK TO / RELEASE / COMMIT. */
static void store_db_reset_busy(sqlite3 *db)
{
        sqlite3_stmt *s;

        for (s = sqlite3_next_stmt(db, NULL); s; s = sqlite3_next_stmt(db, s)) {
                if (sqlite3_stmt_busy(s))
                        sqlite3_reset(s);
        }
}

/* Runs one job inside its savepoint and stores its answer in job->rc.
 * Returns false when the enclosing transaction is no longer usable (SQLite
 * rolled it back, e.g. on I/O error or disk full, or a savepoint command
 * failed): the caller then abandons the transaction. */
static bool store_writer_run_job(struct store *st, struct store_job *job)
{
        sqlite3 *db = st->wconn->db;
        int r;

        if (store_conn_exec(st->wconn, store_sql_savepoint) != SQLITE_OK) {
                job->rc = -EIO;
                return false;
        }
        r = job->fn(db, job->arg);
        store_db_reset_busy(db);
        job->rc = r;
        if (sqlite3_get_autocommit(db)) {
                /* The transaction is gone (or the job ran COMMIT/ROLLBACK
                 * itself, which jobs must never do). */
                if (r >= 0)
                        job->rc = -EIO;
                return false;
        }
        if (r < 0 && store_conn_exec(st->wconn, store_sql_rollback_to) != SQLITE_OK)
                return false;
        if (store_conn_exec(st->wconn, store_sql_release) != SQLITE_OK) {
                if (r >= 0)
                        job->rc = -EIO;
                return false;
        }
        return true;
}

/* batches counts transactions begun, jobs the jobs run in them, count
 * (with sum_us and the buckets) the COMMITs attempted. They differ only
 * when a transaction broke before its COMMIT. */
static void store_stats_record(struct store_commit_stats *s, uint64_t us)
{
        size_t i;

        s->count++;
        s->sum_us += us;
        for (i = 0; i < STORE_COMMIT_BUCKETS; i++) {
                if (us <= store_commit_bucket_le_us[i])
                        s->bucket[i]++;
        }
}

static void store_writer_rollback(struct store *st)
{
        if (!sqlite3_get_autocommit(st->wconn->db))
                store_conn_exec(st->wconn, store_sql_rollback);
}

/* Runs st->batch[0..n) as group commits and leaves every job's answer in
 * job->rc (answering the callers is the caller's business). Normally that
 * is one transaction; if the transaction breaks in the middle, the jobs
 * run so far get -EIO (the breaking job keeps its own error) and the rest
 * continue in a new transaction. */
static void store_writer_batch(struct store *st, size_t n, struct store_commit_stats *d)
{
        size_t i = 0;
        size_t first, j;
        uint64_t t0;
        bool intact;
        int rc;

        while (i < n) {
                /* A failed ROLLBACK may have left a transaction open. */
                store_writer_rollback(st);
                t0 = store_now_us();
                d->batches++;
                rc = store_conn_exec(st->wconn, store_sql_begin);
                if (rc != SQLITE_OK) {
                        d->jobs += n - i;
                        for (; i < n; i++)
                                st->batch[i]->rc = -EIO;
                        break;
                }

                first = i;
                intact = true;
                while (i < n && intact) {
                        intact = store_writer_run_job(st, st->batch[i]);
                        i++;
                }
                d->jobs += i - first;

                if (!intact) {
                        store_writer_rollback(st);
                        for (j = first; j + 1 < i; j++)
                                st->batch[j]->rc = -EIO;
                        continue;
                }

                rc = store_conn_exec(st->wconn, store_sql_commit);
                if (rc != SQLITE_OK) {
                        /* Nothing of this transaction is kept: even a job
                         * that failed on its own may have failed because of
                         * another job's change that is now gone. */
                        store_writer_rollback(st);
                        for (j = first; j < i; j++)
                                st->batch[j]->rc = -EIO;
                }
                store_stats_record(d, store_now_us() - t0);
        }
}

static void store_stats_merge(struct store_commit_stats *to, const struct store_commit_stats *d)
{
        size_t i;

        to->count += d->count;
        to->sum_us += d->sum_us;
        for (i = 0; i < STORE_COMMIT_BUCKETS; i++)
                to->bucket[i] += d->bucket[i];
        to->batches += d->batches;
        to->jobs += d->jobs;
}

static void *store_writer_main(void *userdata)
{
        struct store *st = userdata;
        struct store_commit_stats d;
        struct store_job *job;
        size_t n, i;

        store_tls_writer = st;
        pthread_setname_np(pthread_self(), "store-writer");

        pthread_mutex_lock(&st->lock);
        for (;;) {
                while (!st->q_head && !st->closing)
                        pthread_cond_wait(&st->work, &st->lock);
                if (!st->q_head)
                        break;          /* closing and drained */

                n = 0;
                while (st->q_head && n < (size_t)st->batch_max) {
                        st->batch[n++] = st->q_head;
                        st->q_head = st->q_head->next;
                }
                if (!st->q_head)
                        st->q_tail = NULL;
                pthread_mutex_unlock(&st->lock);

                memset(&d, 0, sizeof(d));
                store_writer_batch(st, n, &d);

                /* Answer only now: the COMMIT containing each job has
                 * returned. The job lives in its caller's stack frame; once
                 * done is set and the lock released, it may be gone. */
                pthread_mutex_lock(&st->lock);
                store_stats_merge(&st->stats, &d);
                for (i = 0; i < n; i++) {
                        job = st->batch[i];
                        job->done = true;
                        pthread_cond_signal(&job->cond);
                }
        }
        pthread_mutex_unlock(&st->lock);
        return NULL;
}

int store_write(struct store *st, store_write_fn fn, void *arg)
{
        struct store_job job = { .fn = fn, .arg = arg };
        int r;

        if (!st || !fn)
                return -EINVAL;
        /* The writer would wait for itself. */
        if (store_tls_writer == st)
                return -EDEADLK;
        r = pthread_cond_init(&job.cond, NULL);
        if (r != 0)
                return -r;

        pthread_mutex_lock(&st->lock);
        if (st->closing) {
                pthread_mutex_unlock(&st->lock);
                pthread_cond_destroy(&job.cond);
                return -EBUSY;
        }
        /* The queue needs no cap of its own: every caller blocks, so it
         * never holds more jobs than there are threads. */
        if (st->q_tail)
                st->q_tail->next = &job;
        else
                st->q_head = &job;
        st->q_tail = &job;
        st->callers++;
        pthread_cond_signal(&st->work);
        while (!job.done)
                pthread_cond_wait(&job.cond, &st->lock);
        r = job.rc;
        /* Answered callers still need st->lock to get out of the wait
         * above; store_close() must not destroy it before they left. */
        st->callers--;
        if (st->callers == 0 && st->closing)
                pthread_cond_signal(&st->left);
        pthread_mutex_unlock(&st->lock);

        pthread_cond_destroy(&job.cond);
        return r;
}

void store_commit_stats(struct store *st, struct store_commit_stats *out)
{
        memset(out, 0, sizeof(*out));
        if (!st)
                return;
        pthread_mutex_lock(&st->lock);
        *out = st->stats;
        pthread_mutex_unlock(&st->lock);
}

/* ---- open / close ---------------------------------------------------- */

static int store_errno_from_access(int e)
{
        switch (e) {
        case ENOENT:
        case ENOTDIR:
        case ENAMETOOLONG:
        case ELOOP:
                return -ENOENT;
        case EROFS:
                return -EROFS;
        case EACCES:
        case EPERM:
                return -EACCES;
        default:
                return -EIO;
        }
}

/* SQLite's own errors for these cases are "unable to open database file"
 * or, worse, a silent fallback to read-only. Checks the directory (WAL
 * creates -wal and -shm files beside the database) and the file itself
 * with the effective ids, and says what is wrong. */
static int store_check_path(const char *path, char *errmsg, size_t errlen)
{
        _cleanup_free_ char *dir = NULL;
        struct stat sb;
        char *slash;
        int r, e;

        dir = strdup(path);
        if (!dir)
                return -ENOMEM;
        slash = strrchr(dir, '/');
        if (!slash) {
                free(dir);
                dir = strdup(".");
                if (!dir)
                        return -ENOMEM;
        } else if (slash == dir) {
                slash[1] = '\0';
        } else {
                *slash = '\0';
        }

        if (stat(dir, &sb) < 0) {
                e = errno;
                r = store_errno_from_access(e);
                if (r == -ENOENT)
                        store_seterr(errmsg, errlen,
                                     "cannot open database %s: directory %s does not exist",
                                     path, dir);
                else
                        store_seterr(errmsg, errlen,
                                     "cannot open database %s: cannot access directory %s (%s)",
                                     path, dir, strerror(e));
                return r;
        }
        if (!S_ISDIR(sb.st_mode)) {
                store_seterr(errmsg, errlen, "cannot open database %s: %s is not a directory",
                             path, dir);
                return -ENOENT;
        }
        if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) < 0) {
                e = errno;
                store_seterr(errmsg, errlen,
                             "cannot open database %s: directory %s is not writable (%s); "
                             "the database and its -wal and -shm files are created there",
                             path, dir, strerror(e));
                return store_errno_from_access(e);
        }

        if (stat(path, &sb) < 0) {
                e = errno;
                if (e == ENOENT)
                        return 0;       /* will be created */
                store_seterr(errmsg, errlen, "cannot open database %s: %s", path, strerror(e));
                return store_errno_from_access(e);
        }
        if (!S_ISREG(sb.st_mode)) {
                store_seterr(errmsg, errlen, "cannot open database %s: not a regular file", path);
                return -EIO;
        }
        if (faccessat(AT_FDCWD, path, R_OK | W_OK, AT_EACCESS) < 0) {
                e = errno;
                store_seterr(errmsg, errlen,
                             "cannot open database %s: the file is not readable and writable (%s)",
                             path, strerror(e));
                return store_errno_from_access(e);
        }
        return 0;
}

static int store_open_writer_db(const char *path, int busy_timeout_ms, sqlite3 **out,
                                char *errmsg, size_t errlen)
{
        sqlite3 *db = NULL;
        sqlite3_stmt *stmt = NULL;
        const unsigned char *mode;
        bool wal;
        char sql[128];
        int rc;

        rc = sqlite3_open_v2(path, &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc != SQLITE_OK)
                goto fail;
        if (sqlite3_db_readonly(db, "main") == 1) {
                store_seterr(errmsg, errlen, "cannot open database %s: opened read-only", path);
                sqlite3_close_v2(db);
                return -EACCES;
        }
        rc = store_db_configure(db, busy_timeout_ms, STORE_WRITER_CACHE_KIB);
        if (rc != SQLITE_OK)
                goto fail;

        /* Also the first read of the file: a non-database fails here. */
        rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &stmt, NULL);
        if (rc != SQLITE_OK)
                goto fail;
        rc = sqlite3_step(stmt);
        if (rc != SQLITE_ROW) {
                sqlite3_finalize(stmt);
                goto fail;
        }
        mode = sqlite3_column_text(stmt, 0);
        wal = mode && strcmp((const char *)mode, "wal") == 0;
        if (!wal) {
                store_seterr(errmsg, errlen,
                             "cannot open database %s: journal mode is %s, WAL is required",
                             path, mode ? (const char *)mode : "unknown");
                sqlite3_finalize(stmt);
                sqlite3_close_v2(db);
                return -EIO;
        }
        sqlite3_finalize(stmt);

        /* FULL: in WAL mode the WAL is synced at every COMMIT, so a caller
         * answered after the COMMIT survives a power loss. */
        snprintf(sql, sizeof(sql),
                 "PRAGMA synchronous = FULL;"
                 "PRAGMA journal_size_limit = %d;", STORE_WAL_SIZE_LIMIT);
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                goto fail;
        *out = db;
        return 0;

fail:
        store_seterr(errmsg, errlen, "cannot open database %s: %s", path,
                     db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close_v2(db);
        return rc == SQLITE_NOMEM ? -ENOMEM : -EIO;
}

static void store_free(struct store *st)
{
        if (!st)
                return;
        if (st->wconn) {
                store_conn_close(st->wconn);
                free(st->wconn);
        }
        pthread_cond_destroy(&st->left);
        pthread_cond_destroy(&st->work);
        pthread_mutex_destroy(&st->lock);
        pthread_cond_destroy(&st->ckpt_wake);
        pthread_mutex_destroy(&st->ckpt_lock);
        free(st->batch);
        free(st->path);
        free(st);
}

/* Runs on the writer thread after each commit (sqlite3_wal_hook, which
 * also turns SQLite's own auto-checkpoint off for this connection). */
static int store_wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
        struct store *st = arg;

        (void)db;
        (void)name;
        if (frames < STORE_CKPT_FRAMES)
                return SQLITE_OK;
        pthread_mutex_lock(&st->ckpt_lock);
        st->ckpt_frames = frames;
        pthread_cond_signal(&st->ckpt_wake);
        pthread_mutex_unlock(&st->ckpt_lock);
        return SQLITE_OK;
}

static void *store_ckpt_main(void *arg)
{
        struct store *st = arg;
        sqlite3 *db = NULL;

        if (sqlite3_open_v2(st->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                            NULL) != SQLITE_OK) {
                sqlite3_close_v2(db);
                return NULL;
        }
        sqlite3_busy_timeout(db, st->busy_timeout_ms);
        /* A connection that has never read has not opened the WAL: its
         * checkpoints would silently do nothing (and the WAL would grow
         * without bound, found by bench/booking.sh). Read once first. */
        (void)sqlite3_exec(db, "SELECT 1 FROM sqlite_master LIMIT 1", NULL, NULL, NULL);
        pthread_mutex_lock(&st->ckpt_lock);
        while (!st->ckpt_stop) {
                if (st->ckpt_frames < STORE_CKPT_FRAMES) {
                        pthread_cond_wait(&st->ckpt_wake, &st->ckpt_lock);
                        continue;
                }
                st->ckpt_frames = 0;
                pthread_mutex_unlock(&st->ckpt_lock);
                /* PASSIVE: copies what it can without blocking the writer
                 * or readers; the writer restarts the WAL once a checkpoint
                 * completed. */
                int log = 0, done = 0;

                (void)sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
                /* Under constant load the WAL is never fully copied at a
                 * moment without readers, so it never starts over and
                 * keeps growing. Past STORE_CKPT_RESTART frames, and only
                 * when PASSIVE copied everything (so the writer lock is
                 * not held for a long copy), try a RESTART (the next
                 * writes start at the WAL's beginning again) that gives up
                 * after a couple of milliseconds when readers stay on the
                 * WAL. Measured with bench/booking.sh (D-38). */
                if (log > STORE_CKPT_RESTART && done == log) {
                        sqlite3_busy_timeout(db, STORE_CKPT_RESTART_WAIT_MS);
                        (void)sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_RESTART,
                                                        NULL, NULL);
                        sqlite3_busy_timeout(db, st->busy_timeout_ms);
                }
                pthread_mutex_lock(&st->ckpt_lock);
        }
        pthread_mutex_unlock(&st->ckpt_lock);
        sqlite3_close_v2(db);
        return NULL;
}

static void store_stop_ckpt(struct store *st)
{
        if (!st->ckpt_started)
                return;
        pthread_mutex_lock(&st->ckpt_lock);
        st->ckpt_stop = true;
        pthread_cond_signal(&st->ckpt_wake);
        pthread_mutex_unlock(&st->ckpt_lock);
        pthread_join(st->ckpt, NULL);
        st->ckpt_started = false;
}

static int store_start_writer(struct store *st)
{
        sigset_t all, old;
        int r;

        /* The writer must never run a signal handler: signals go to the
         * threads that expect them. */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        /* Before the writer exists, so nothing else uses its connection. */
        st->ckpt_started = pthread_create(&st->ckpt, NULL, store_ckpt_main, st) == 0;
        if (st->ckpt_started)
                sqlite3_wal_hook(st->wconn->db, store_wal_hook, st);
        /* else SQLite keeps checkpointing inside COMMIT by itself */
        r = pthread_create(&st->writer, NULL, store_writer_main, st);
        if (r == 0)
                st->writer_started = true;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r != 0)
                return -r;
        return 0;
}

int store_open(const struct store_options *opt, struct store **out, char *errmsg, size_t errlen)
{
        struct store *st = NULL;
        sqlite3 *db = NULL;
        int r;

        store_seterr(errmsg, errlen, "%s", "");
        if (!out)
                return -EINVAL;
        *out = NULL;
        if (!opt || !opt->path || !opt->path[0]) {
                store_seterr(errmsg, errlen, "no database path given");
                return -EINVAL;
        }
        r = store_key_init();
        if (r < 0)
                return r;
        r = store_check_path(opt->path, errmsg, errlen);
        if (r < 0)
                return r;

        st = calloc(1, sizeof(*st));
        if (!st)
                return -ENOMEM;
        st->gen = atomic_fetch_add(&store_next_gen, 1);
        st->batch_max = opt->batch_max > 0 ? opt->batch_max : STORE_BATCH_MAX_DEFAULT;
        if (st->batch_max > STORE_BATCH_MAX_LIMIT)
                st->batch_max = STORE_BATCH_MAX_LIMIT;
        st->busy_timeout_ms = opt->busy_timeout_ms > 0 ? opt->busy_timeout_ms
                                                       : STORE_BUSY_TIMEOUT_DEFAULT;
        pthread_mutex_init(&st->lock, NULL);
        pthread_mutex_init(&st->ckpt_lock, NULL);
        pthread_cond_init(&st->ckpt_wake, NULL);
        pthread_cond_init(&st->work, NULL);
        pthread_cond_init(&st->left, NULL);
        st->batch = calloc((size_t)st->batch_max, sizeof(*st->batch));
        st->wconn = calloc(1, sizeof(*st->wconn));
        if (!st->batch || !st->wconn) {
                free(st->wconn);
                st->wconn = NULL;
                store_free(st);
                return -ENOMEM;
        }

        r = store_open_writer_db(opt->path, st->busy_timeout_ms, &db, errmsg, errlen);
        if (r < 0) {
                free(st->wconn);
                st->wconn = NULL;
                store_free(st);
                return r;
        }
        st->wconn->db = db;
        st->wconn->gen = st->gen;
        st->wconn->st = st;
        /* Readers open this absolute name: immune to a later chdir(). */
        st->path = strdup(sqlite3_db_filename(db, "main"));
        if (!st->path) {
                store_free(st);
                return -ENOMEM;
        }

        r = store_start_writer(st);
        if (r < 0) {
                store_seterr(errmsg, errlen, "cannot start the store writer thread: %s",
                             strerror(-r));
                store_stop_ckpt(st);
                store_free(st);
                return r;
        }
        *out = st;
        return 0;
}

void store_close(struct store *st)
{
        struct store_conn *c;
        struct store_conn *next;

        if (!st)
                return;
        /* On the writer thread (from inside a job) this would join itself. */
        if (store_tls_writer == st)
                return;

        pthread_mutex_lock(&st->lock);
        st->closing = true;
        pthread_cond_signal(&st->work);
        pthread_mutex_unlock(&st->lock);
        /* The writer runs until the queue is empty: every job accepted
         * before closing was set is committed and answered. */
        if (st->writer_started)
                pthread_join(st->writer, NULL);
        store_stop_ckpt(st);
        pthread_mutex_lock(&st->lock);
        while (st->callers > 0)
                pthread_cond_wait(&st->left, &st->lock);
        pthread_mutex_unlock(&st->lock);

        pthread_mutex_lock(&store_readers_lock);
        for (c = st->readers; c; c = next) {
                next = c->store_next;
                store_conn_close(c);
                c->st = NULL;
                c->store_prev = NULL;
                c->store_next = NULL;
        }
        st->readers = NULL;
        store_thread_prune_locked();
        pthread_mutex_unlock(&store_readers_lock);

        /* Last connection on the file: its close checkpoints the WAL. */
        store_free(st);
}

/* ---- migrations and health ------------------------------------------- */

struct store_migrate_one {
        const struct store_migration *m;
        bool applied;
};

static int store_migrate_table_job(sqlite3 *db, void *arg)
{
        int rc;

        rc = sqlite3_exec(db,
                          "CREATE TABLE IF NOT EXISTS schema_migrations ("
                          " version INTEGER PRIMARY KEY,"
                          " name TEXT NOT NULL,"
                          " applied_at TEXT NOT NULL)",
                          NULL, NULL, NULL);
        return store_errno(rc);
}

/* Runs inside the writer's transaction, so the check and the apply are
 * atomic even against another process migrating the same file. */
static int store_migrate_one_job(sqlite3 *db, void *arg)
{
        struct store_migrate_one *job = arg;
        sqlite3_stmt *stmt;
        int rc;

        stmt = store_prepare(db, store_sql_migration_find);
        if (!stmt)
                return store_errno(sqlite3_extended_errcode(db));
        sqlite3_bind_int(stmt, 1, job->m->version);
        rc = sqlite3_step(stmt);
        sqlite3_reset(stmt);
        if (rc == SQLITE_ROW)
                return 0;
        if (rc != SQLITE_DONE)
                return store_errno(rc);

        rc = sqlite3_exec(db, job->m->sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                return store_errno(rc);

        stmt = store_prepare(db,
                             "INSERT INTO schema_migrations (version, name, applied_at)"
                             " VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))");
        if (!stmt)
                return store_errno(sqlite3_extended_errcode(db));
        sqlite3_bind_int(stmt, 1, job->m->version);
        sqlite3_bind_text(stmt, 2, job->m->name, -1, SQLITE_STATIC);
        rc = sqlite3_step(stmt);
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
        if (rc != SQLITE_DONE)
                return store_errno(rc);
        job->applied = true;
        return 0;
}

/* The compiled-in list must be sane: positive, strictly increasing. */
static int store_migrations_check(void)
{
        size_t i;

        for (i = 0; i < store_migrations_count; i++) {
                const struct store_migration *m = &store_migrations[i];

                if (m->version <= 0 || !m->name || !m->sql || !m->sql[0])
                        return -EINVAL;
                if (i > 0 && m->version <= store_migrations[i - 1].version)
                        return -EINVAL;
        }
        return 0;
}

int store_migrate(struct store *st, int *applied)
{
        struct store_migrate_one job;
        int n = 0;
        size_t i;
        int r;

        if (applied)
                *applied = 0;
        if (!st)
                return -EINVAL;
        r = store_migrations_check();
        if (r < 0)
                return r;
        r = store_write(st, store_migrate_table_job, NULL);
        if (r < 0)
                return r;
        for (i = 0; i < store_migrations_count; i++) {
                job.m = &store_migrations[i];
                job.applied = false;
                r = store_write(st, store_migrate_one_job, &job);
                if (r < 0)
                        return r;
                if (job.applied) {
                        n++;
                        if (applied)
                                *applied = n;
                }
        }
        return 0;
}

int store_migrations_current(struct store *st)
{
        sqlite3_stmt *stmt;
        sqlite3 *db;
        size_t i;
        int rc;

        db = store_reader(st);
        if (!db)
                return -EIO;
        stmt = store_prepare(db, "SELECT 1 FROM sqlite_schema"
                                 " WHERE type = 'table' AND name = 'schema_migrations'");
        if (!stmt)
                return -EIO;
        rc = sqlite3_step(stmt);
        sqlite3_reset(stmt);
        if (rc == SQLITE_DONE)
                return 0;
        if (rc != SQLITE_ROW)
                return store_errno(rc);

        for (i = 0; i < store_migrations_count; i++) {
                stmt = store_prepare(db, store_sql_migration_find);
                if (!stmt)
                        return -EIO;
                sqlite3_bind_int(stmt, 1, store_migrations[i].version);
                rc = sqlite3_step(stmt);
                sqlite3_reset(stmt);
                if (rc == SQLITE_DONE)
                        return 0;
                if (rc != SQLITE_ROW)
                        return store_errno(rc);
        }
        return 1;
}

int store_ping(struct store *st)
{
        sqlite3_stmt *stmt;
        sqlite3 *db;
        int rc;

        db = store_reader(st);
        if (!db)
                return -EIO;
        stmt = store_prepare(db, "SELECT 1");
        if (!stmt)
                return -EIO;
        rc = sqlite3_step(stmt);
        sqlite3_reset(stmt);
        return rc == SQLITE_ROW ? 0 : -EIO;
}
