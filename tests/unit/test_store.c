/*
 * test_store.c - unit tests of the SQLite engine in store.c: open errors,
 * pragmas, migrations, group commit with per-job rollback, commit failure,
 * readers on other threads and across store generations, the statement
 * cache, close semantics and durability across reopen.
 *
 * This test brings its own schema: it defines store_migrations[] itself
 * and must not be linked with migrations.c (against the core static
 * library that works because nothing else pulls migrations.o in).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"
#include "util/cleanup.h"

const struct store_migration store_migrations[] = {
        { 1, "kv", "CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT NOT NULL)" },
        { 2, "refs",
          "CREATE TABLE ref_now (id INTEGER PRIMARY KEY,"
          " k TEXT NOT NULL REFERENCES kv (k));"
          "CREATE TABLE ref_later (id INTEGER PRIMARY KEY,"
          " k TEXT NOT NULL REFERENCES kv (k) DEFERRABLE INITIALLY DEFERRED);" },
        { 3, "kv_v_index", "CREATE INDEX kv_v ON kv (v)" },
};
const size_t store_migrations_count = ELEMENTSOF(store_migrations);

/* ---- helpers --------------------------------------------------------- */

struct fx {
        char dir[64];
        char path[128];
        struct store *st;
};

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
        return remove(p);
}

static void rm_rf(const char *dir)
{
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void sleep_ms(long ms)
{
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

        nanosleep(&ts, NULL);
}

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int open_at(const char *path, struct store **st)
{
        struct store_options opt = { .path = path };
        char err[512];

        return store_open(&opt, st, err, sizeof(err));
}

static int setup_open(void **state)
{
        struct fx *fx = calloc(1, sizeof(*fx));

        if (!fx)
                return -1;
        strcpy(fx->dir, "/tmp/enemane-store-XXXXXX");
        if (!mkdtemp(fx->dir)) {
                free(fx);
                return -1;
        }
        snprintf(fx->path, sizeof(fx->path), "%s/test.db", fx->dir);
        if (open_at(fx->path, &fx->st) < 0) {
                rm_rf(fx->dir);
                free(fx);
                return -1;
        }
        *state = fx;
        return 0;
}

static int setup_migrated(void **state)
{
        struct fx *fx;
        int applied;

        if (setup_open(state) < 0)
                return -1;
        fx = *state;
        if (store_migrate(fx->st, &applied) < 0)
                return -1;
        return 0;
}

static int teardown(void **state)
{
        struct fx *fx = *state;

        store_close(fx->st);
        rm_rf(fx->dir);
        free(fx);
        return 0;
}

/* Write job: inserts k=v, then returns `result` (negative: roll back). */
struct put {
        const char *k;
        const char *v;
        int result;
};

static int put_job(sqlite3 *db, void *arg)
{
        struct put *p = arg;
        sqlite3_stmt *s = store_prepare(db, "INSERT INTO kv (k, v) VALUES (?, ?)");
        int rc;

        if (!s)
                return -EIO;
        sqlite3_bind_text(s, 1, p->k, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, p->v, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        sqlite3_reset(s);
        if (rc != SQLITE_DONE)
                return store_errno(rc);
        return p->result;
}

static int put(struct store *st, const char *k, const char *v)
{
        struct put p = { k, v, 0 };

        return store_write(st, put_job, &p);
}

/* Reads k through this thread's reader: 0 and v copied, or -ENOENT. */
static int get(struct store *st, const char *k, char *v, size_t vlen)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int rc;

        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT v FROM kv WHERE k = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_text(s, 1, k, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
                snprintf(v, vlen, "%s", (const char *)sqlite3_column_text(s, 0));
        sqlite3_reset(s);
        if (rc == SQLITE_ROW)
                return 0;
        return rc == SQLITE_DONE ? -ENOENT : store_errno(rc);
}

static long long count_rows(struct store *st, const char *sql)
{
        sqlite3_stmt *s = store_prepare(store_reader(st), sql);
        long long n = -1;

        if (s && sqlite3_step(s) == SQLITE_ROW)
                n = sqlite3_column_int64(s, 0);
        if (s)
                sqlite3_reset(s);
        return n;
}

/* A write job that blocks the writer until opened, so that jobs submitted
 * meanwhile pile up and go into one batch. */
struct gate {
        struct store *st;
        pthread_mutex_t m;
        pthread_cond_t c;
        bool running;
        bool open;
        int submitted;
        int rc;
        pthread_t thread;
};

static unsigned test_commits;   /* touched only on the writer thread */

static int count_commit(void *p)
{
        (*(unsigned *)p)++;
        return 0;
}

static int gate_job(sqlite3 *db, void *arg)
{
        struct gate *g = arg;

        sqlite3_commit_hook(db, count_commit, &test_commits);
        pthread_mutex_lock(&g->m);
        g->running = true;
        pthread_cond_broadcast(&g->c);
        while (!g->open)
                pthread_cond_wait(&g->c, &g->m);
        pthread_mutex_unlock(&g->m);
        return 0;
}

static void *gate_thread(void *arg)
{
        struct gate *g = arg;

        g->rc = store_write(g->st, gate_job, g);
        return NULL;
}

static void gate_start(struct gate *g, struct store *st)
{
        memset(g, 0, sizeof(*g));
        g->st = st;
        pthread_mutex_init(&g->m, NULL);
        pthread_cond_init(&g->c, NULL);
        assert_int_equal(pthread_create(&g->thread, NULL, gate_thread, g), 0);
        pthread_mutex_lock(&g->m);
        while (!g->running)
                pthread_cond_wait(&g->c, &g->m);
        pthread_mutex_unlock(&g->m);
}

static void gate_submitted(struct gate *g)
{
        pthread_mutex_lock(&g->m);
        g->submitted++;
        pthread_cond_broadcast(&g->c);
        pthread_mutex_unlock(&g->m);
}

/* Waits until n threads announced their submission, gives them time to
 * get into the queue, then lets the writer go. */
static void gate_open_after(struct gate *g, int n)
{
        pthread_mutex_lock(&g->m);
        while (g->submitted < n)
                pthread_cond_wait(&g->c, &g->m);
        pthread_mutex_unlock(&g->m);
        sleep_ms(200);
        pthread_mutex_lock(&g->m);
        g->open = true;
        pthread_cond_broadcast(&g->c);
        pthread_mutex_unlock(&g->m);
}

static void gate_finish(struct gate *g)
{
        pthread_join(g->thread, NULL);
        pthread_cond_destroy(&g->c);
        pthread_mutex_destroy(&g->m);
}

static int unhook_job(sqlite3 *db, void *arg)
{
        sqlite3_commit_hook(db, NULL, NULL);
        return 0;
}

/* ---- tests ----------------------------------------------------------- */

static void test_errno_map(void **state)
{
        assert_int_equal(store_errno(SQLITE_OK), 0);
        assert_int_equal(store_errno(SQLITE_DONE), 0);
        assert_int_equal(store_errno(SQLITE_CONSTRAINT_UNIQUE), -EEXIST);
        assert_int_equal(store_errno(SQLITE_CONSTRAINT_PRIMARYKEY), -EEXIST);
        assert_int_equal(store_errno(SQLITE_CONSTRAINT_FOREIGNKEY), -EINVAL);
        assert_int_equal(store_errno(SQLITE_CONSTRAINT_NOTNULL), -EINVAL);
        assert_int_equal(store_errno(SQLITE_CONSTRAINT_CHECK), -EINVAL);
        assert_int_equal(store_errno(SQLITE_CONSTRAINT), -EINVAL);
        assert_int_equal(store_errno(SQLITE_NOMEM), -ENOMEM);
        assert_int_equal(store_errno(SQLITE_BUSY), -EBUSY);
        assert_int_equal(store_errno(SQLITE_BUSY_SNAPSHOT), -EBUSY);
        assert_int_equal(store_errno(SQLITE_LOCKED), -EBUSY);
        assert_int_equal(store_errno(SQLITE_IOERR_FSYNC), -EIO);
        assert_int_equal(store_errno(SQLITE_CORRUPT), -EIO);
        assert_int_equal(store_errno(SQLITE_ERROR), -EIO);
}

static void test_bucket_bounds(void **state)
{
        size_t i;

        assert_true(store_commit_bucket_le_s[0] == 0.0001);
        assert_true(store_commit_bucket_le_s[STORE_COMMIT_BUCKETS - 1] == 1.0);
        for (i = 1; i < STORE_COMMIT_BUCKETS; i++)
                assert_true(store_commit_bucket_le_s[i] > store_commit_bucket_le_s[i - 1]);
}

struct writer_pragmas {
        int synchronous;
        int foreign_keys;
        int autocommit;
};

static int pragma_int(sqlite3 *db, const char *sql)
{
        sqlite3_stmt *s = NULL;
        int v = -1;

        if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
                v = sqlite3_column_int(s, 0);
        sqlite3_finalize(s);
        return v;
}

static int writer_pragmas_job(sqlite3 *db, void *arg)
{
        struct writer_pragmas *w = arg;

        w->synchronous = pragma_int(db, "PRAGMA synchronous");
        w->foreign_keys = pragma_int(db, "PRAGMA foreign_keys");
        w->autocommit = sqlite3_get_autocommit(db);
        return 0;
}

static void test_open_pragmas_and_migrate(void **state)
{
        struct fx *fx = *state;
        struct writer_pragmas w = { -1, -1, -1 };
        sqlite3_stmt *s = NULL;
        sqlite3 *rdb;
        int applied = -1;

        /* Fresh file: nothing applied yet. */
        assert_int_equal(store_migrations_current(fx->st), 0);

        assert_int_equal(store_migrate(fx->st, &applied), 0);
        assert_int_equal(applied, 3);
        assert_int_equal(store_migrations_current(fx->st), 1);

        assert_int_equal(store_migrate(fx->st, &applied), 0);
        assert_int_equal(applied, 0);
        assert_int_equal(store_migrations_current(fx->st), 1);

        assert_int_equal(count_rows(fx->st, "SELECT count(*) FROM schema_migrations"), 3);
        assert_int_equal(count_rows(fx->st, "SELECT count(*) FROM schema_migrations"
                                            " WHERE name = 'refs' AND version = 2"
                                            " AND applied_at GLOB"
                                            " '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T*Z'"), 1);

        /* Reader: WAL, foreign keys on, and really read-only. */
        rdb = store_reader(fx->st);
        assert_non_null(rdb);
        assert_int_equal(sqlite3_prepare_v2(rdb, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
        sqlite3_finalize(s);
        assert_int_equal(pragma_int(rdb, "PRAGMA foreign_keys"), 1);
        assert_int_equal(pragma_int(rdb, "PRAGMA query_only"), 1);
        assert_int_equal(sqlite3_exec(rdb, "INSERT INTO kv VALUES ('x', 'y')", NULL, NULL, NULL),
                         SQLITE_READONLY);

        /* Writer: FULL sync (2) for durability, foreign keys, inside a txn. */
        assert_int_equal(store_write(fx->st, writer_pragmas_job, &w), 0);
        assert_int_equal(w.synchronous, 2);
        assert_int_equal(w.foreign_keys, 1);
        assert_int_equal(w.autocommit, 0);

        assert_int_equal(store_ping(fx->st), 0);
}

static int unapply_v3_job(sqlite3 *db, void *arg)
{
        int rc = sqlite3_exec(db, "DROP INDEX kv_v; DELETE FROM schema_migrations WHERE version = 3",
                              NULL, NULL, NULL);

        return store_errno(rc);
}

static void test_migrate_applies_only_missing(void **state)
{
        struct fx *fx = *state;
        int applied = -1;

        assert_int_equal(store_write(fx->st, unapply_v3_job, NULL), 0);
        assert_int_equal(store_migrations_current(fx->st), 0);
        assert_int_equal(store_migrate(fx->st, &applied), 0);
        assert_int_equal(applied, 1);
        assert_int_equal(store_migrations_current(fx->st), 1);
        assert_int_equal(count_rows(fx->st, "SELECT count(*) FROM sqlite_schema"
                                            " WHERE type = 'index' AND name = 'kv_v'"), 1);
}

static void test_invalid_arguments(void **state)
{
        struct fx *fx = *state;
        struct store_commit_stats cs;
        struct store *st = (struct store *)1;
        char err[64] = "x";

        assert_int_equal(store_write(NULL, put_job, NULL), -EINVAL);
        assert_int_equal(store_write(fx->st, NULL, NULL), -EINVAL);
        assert_null(store_reader(NULL));
        assert_null(store_prepare(NULL, "SELECT 1"));
        assert_int_equal(store_open(NULL, &st, err, sizeof(err)), -EINVAL);
        assert_null(st);
        assert_true(strlen(err) > 0);
        memset(&cs, 0xff, sizeof(cs));
        store_commit_stats(NULL, &cs);
        assert_int_equal(cs.count, 0);
        assert_int_equal(cs.jobs, 0);
        store_close(NULL);
}

/* A job's own return value is the caller's answer, and a negative one
 * undoes exactly that job's changes. */
static void test_job_result_and_rollback(void **state)
{
        struct fx *fx = *state;
        struct put p = { "undone", "1", -ENOENT };
        struct put q = { "kept", "1", 7 };
        char v[16];

        assert_int_equal(store_write(fx->st, put_job, &p), -ENOENT);
        assert_int_equal(get(fx->st, "undone", v, sizeof(v)), -ENOENT);
        assert_int_equal(store_write(fx->st, put_job, &q), 7);
        assert_int_equal(get(fx->st, "kept", v, sizeof(v)), 0);
}

struct ref_ins {
        const char *table_sql;
        const char *k;
};

static int ref_job(sqlite3 *db, void *arg)
{
        struct ref_ins *r = arg;
        sqlite3_stmt *s = store_prepare(db, r->table_sql);
        int rc;

        if (!s)
                return -EIO;
        sqlite3_bind_text(s, 1, r->k, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        sqlite3_reset(s);
        return rc == SQLITE_DONE ? 0 : store_errno(rc);
}

static const char sql_ref_now[] = "INSERT INTO ref_now (k) VALUES (?)";
static const char sql_ref_later[] = "INSERT INTO ref_later (k) VALUES (?)";

static void test_constraint_errors(void **state)
{
        struct fx *fx = *state;
        struct ref_ins bad_fk = { sql_ref_now, "nobody" };
        struct ref_ins good_fk = { sql_ref_now, "u1" };
        struct put null_v = { "u2", NULL, 0 };
        char v[16];

        assert_int_equal(put(fx->st, "u1", "first"), 0);
        assert_int_equal(put(fx->st, "u1", "second"), -EEXIST);
        assert_int_equal(get(fx->st, "u1", v, sizeof(v)), 0);
        assert_string_equal(v, "first");

        /* Foreign keys are enforced on the write connection. */
        assert_int_equal(store_write(fx->st, ref_job, &bad_fk), -EINVAL);
        assert_int_equal(store_write(fx->st, ref_job, &good_fk), 0);
        assert_int_equal(count_rows(fx->st, "SELECT count(*) FROM ref_now"), 1);

        assert_int_equal(store_write(fx->st, put_job, &null_v), -EINVAL);
        assert_int_equal(get(fx->st, "u2", v, sizeof(v)), -ENOENT);
}

/* A job on the writer thread must not wait for the writer, and reads its
 * own uncommitted changes through store_reader(). */
struct reentry {
        struct store *st;
        int inner_rc;
        bool same_db;
        int get_rc;
};

static int reentry_job(sqlite3 *db, void *arg)
{
        struct reentry *r = arg;
        struct put p = { "inner", "x", 0 };
        char v[16];
        int rc;

        r->inner_rc = store_write(r->st, put_job, &p);
        r->same_db = store_reader(r->st) == db;
        rc = put_job(db, &p);
        if (rc < 0)
                return rc;
        r->get_rc = get(r->st, "inner", v, sizeof(v));
        return 0;
}

static void test_reentrant_write(void **state)
{
        struct fx *fx = *state;
        struct reentry r = { fx->st, 1, false, 1 };
        char v[16];

        assert_int_equal(store_write(fx->st, reentry_job, &r), 0);
        assert_int_equal(r.inner_rc, -EDEADLK);
        assert_true(r.same_db);
        assert_int_equal(r.get_rc, 0);
        assert_int_equal(get(fx->st, "inner", v, sizeof(v)), 0);
}

struct reader_arg {
        struct store *st;
        const char *k;
        char v[32];
        int rc;
        sqlite3 *db;
};

static void *reader_thread(void *arg)
{
        struct reader_arg *a = arg;

        a->db = store_reader(a->st);
        a->rc = get(a->st, a->k, a->v, sizeof(a->v));
        return NULL;
}

static void test_write_then_read_on_other_thread(void **state)
{
        struct fx *fx = *state;
        struct reader_arg a = { .st = fx->st, .k = "k1", .rc = 1 };
        struct reader_arg b = { .st = fx->st, .k = "k2", .rc = 1 };
        pthread_t t;
        sqlite3 *mine;

        mine = store_reader(fx->st);
        assert_non_null(mine);
        assert_ptr_equal(store_reader(fx->st), mine);

        assert_int_equal(put(fx->st, "k1", "v1"), 0);
        assert_int_equal(pthread_create(&t, NULL, reader_thread, &a), 0);
        pthread_join(t, NULL);
        assert_int_equal(a.rc, 0);
        assert_string_equal(a.v, "v1");
        assert_non_null(a.db);
        assert_ptr_not_equal(a.db, mine);

        /* The first thread's reader was closed at its exit; a new thread
         * sees a write committed after that. */
        assert_int_equal(put(fx->st, "k2", "v2"), 0);
        assert_int_equal(pthread_create(&t, NULL, reader_thread, &b), 0);
        pthread_join(t, NULL);
        assert_int_equal(b.rc, 0);
        assert_string_equal(b.v, "v2");
}

struct batch_writer {
        struct store *st;
        struct gate *g;
        char k[32];
        int result;
        int rc;
        unsigned txn;
};

static int batch_put_job(sqlite3 *db, void *arg)
{
        struct batch_writer *w = arg;
        struct put p = { w->k, "v", w->result };

        w->txn = test_commits;
        return put_job(db, &p);
}

static void *batch_writer_thread(void *arg)
{
        struct batch_writer *w = arg;

        gate_submitted(w->g);
        w->rc = store_write(w->st, batch_put_job, w);
        return NULL;
}

#define BATCH_THREADS 16

static void test_group_commit_failing_job_rolled_back_alone(void **state)
{
        struct fx *fx = *state;
        struct batch_writer w[BATCH_THREADS];
        pthread_t t[BATCH_THREADS];
        struct store_commit_stats s0, s1;
        struct gate g;
        bool shared = false;
        char v[16];
        int i, j;

        store_commit_stats(fx->st, &s0);
        gate_start(&g, fx->st);
        for (i = 0; i < BATCH_THREADS; i++) {
                memset(&w[i], 0, sizeof(w[i]));
                w[i].st = fx->st;
                w[i].g = &g;
                snprintf(w[i].k, sizeof(w[i].k), "batch-%d", i);
                w[i].result = i % 4 == 1 ? -ECANCELED : 0;
                w[i].rc = 1;
                assert_int_equal(pthread_create(&t[i], NULL, batch_writer_thread, &w[i]), 0);
        }
        gate_open_after(&g, BATCH_THREADS);
        for (i = 0; i < BATCH_THREADS; i++)
                pthread_join(t[i], NULL);
        gate_finish(&g);
        assert_int_equal(g.rc, 0);
        store_commit_stats(fx->st, &s1);

        for (i = 0; i < BATCH_THREADS; i++) {
                if (w[i].result < 0) {
                        assert_int_equal(w[i].rc, -ECANCELED);
                        assert_int_equal(get(fx->st, w[i].k, v, sizeof(v)), -ENOENT);
                } else {
                        assert_int_equal(w[i].rc, 0);
                        assert_int_equal(get(fx->st, w[i].k, v, sizeof(v)), 0);
                }
        }
        /* Some failing job shared its transaction with a good one. */
        for (i = 0; i < BATCH_THREADS; i++) {
                for (j = 0; j < BATCH_THREADS; j++) {
                        if (w[i].result < 0 && w[j].result == 0 && w[i].txn == w[j].txn)
                                shared = true;
                }
        }
        assert_true(shared);
        /* Group commit: 17 jobs (with the gate) in fewer transactions. */
        assert_int_equal(s1.jobs - s0.jobs, BATCH_THREADS + 1);
        assert_true(s1.batches - s0.batches < s1.jobs - s0.jobs);
        assert_true(s1.batches - s0.batches <= 3);
        assert_int_equal(store_write(fx->st, unhook_job, NULL), 0);
}

struct ref_writer {
        struct store *st;
        struct gate *g;
        struct ref_ins ins;
        int rc;
};

static void *ref_writer_thread(void *arg)
{
        struct ref_writer *r = arg;

        gate_submitted(r->g);
        r->rc = store_write(r->st, ref_job, &r->ins);
        return NULL;
}

static void *good_writer_thread(void *arg)
{
        struct batch_writer *w = arg;
        struct put p = { w->k, "v", 0 };

        gate_submitted(w->g);
        w->rc = store_write(w->st, put_job, &p);
        return NULL;
}

/* A deferred foreign key fails only at COMMIT: every job of that batch
 * gets -EIO and nothing of it is kept; the writer goes on afterwards. */
static void test_commit_failure_fails_whole_batch(void **state)
{
        struct fx *fx = *state;
        struct batch_writer good = { .st = fx->st, .k = "innocent", .rc = 1 };
        struct ref_writer bad = { .st = fx->st, .ins = { sql_ref_later, "nobody" }, .rc = 1 };
        struct store_commit_stats s0, s1;
        pthread_t tg, tb;
        struct gate g;
        char v[16];

        store_commit_stats(fx->st, &s0);
        gate_start(&g, fx->st);
        good.g = &g;
        bad.g = &g;
        assert_int_equal(pthread_create(&tg, NULL, good_writer_thread, &good), 0);
        assert_int_equal(pthread_create(&tb, NULL, ref_writer_thread, &bad), 0);
        gate_open_after(&g, 2);
        pthread_join(tg, NULL);
        pthread_join(tb, NULL);
        gate_finish(&g);
        store_commit_stats(fx->st, &s1);

        assert_int_equal(g.rc, 0);
        assert_int_equal(s1.batches - s0.batches, 2);
        assert_int_equal(good.rc, -EIO);
        assert_int_equal(bad.rc, -EIO);
        assert_int_equal(get(fx->st, "innocent", v, sizeof(v)), -ENOENT);
        assert_int_equal(count_rows(fx->st, "SELECT count(*) FROM ref_later"), 0);

        assert_int_equal(put(fx->st, "after", "v"), 0);
        assert_int_equal(get(fx->st, "after", v, sizeof(v)), 0);
        assert_int_equal(store_write(fx->st, unhook_job, NULL), 0);
}

static void test_statement_cache(void **state)
{
        struct fx *fx = *state;
        static const char sql_param[] = "SELECT ?1";
        static const char sql_rows[] =
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3)"
                " SELECT x FROM c";
        char *texts[200];
        sqlite3_stmt *s, *busy;
        sqlite3 *db = store_reader(fx->st);
        sqlite3 *other = NULL;
        size_t i;

        assert_non_null(db);
        s = store_prepare(db, sql_param);
        assert_non_null(s);
        assert_ptr_equal(store_prepare(db, sql_param), s);

        /* Bindings are cleared on the way out of the cache. */
        sqlite3_bind_int(s, 1, 42);
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(s, 0), 42);
        s = store_prepare(db, sql_param);
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        assert_int_equal(sqlite3_column_type(s, 0), SQLITE_NULL);

        /* A statement left half-stepped comes back reset. */
        s = store_prepare(db, sql_rows);
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(s, 0), 2);
        s = store_prepare(db, sql_rows);
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(s, 0), 1);
        busy = s;

        /* Errors, more than one statement, and foreign handles give NULL. */
        assert_null(store_prepare(db, "SELEC nonsense"));
        assert_null(store_prepare(db, "SELECT 1; SELECT 2"));
        assert_int_equal(sqlite3_open(":memory:", &other), SQLITE_OK);
        assert_null(store_prepare(other, "SELECT 1"));
        sqlite3_close(other);

        /* More distinct statements than the cache holds: evicted ones are
         * prepared again, and the one being stepped is never evicted. */
        for (i = 0; i < ELEMENTSOF(texts); i++) {
                assert_true(asprintf(&texts[i], "SELECT %zu", i) > 0);
                s = store_prepare(db, texts[i]);
                assert_non_null(s);
                assert_int_equal(sqlite3_step(s), SQLITE_ROW);
                assert_int_equal(sqlite3_column_int(s, 0), (int)i);
                sqlite3_reset(s);
        }
        for (i = 0; i < ELEMENTSOF(texts); i += 7) {
                s = store_prepare(db, texts[i]);
                assert_non_null(s);
                assert_int_equal(sqlite3_step(s), SQLITE_ROW);
                assert_int_equal(sqlite3_column_int(s, 0), (int)i);
                sqlite3_reset(s);
        }
        assert_int_equal(sqlite3_step(busy), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(busy, 0), 2);
        sqlite3_reset(busy);

        /* The keys must outlive the cache: close the store first. */
        store_close(fx->st);
        fx->st = NULL;
        for (i = 0; i < ELEMENTSOF(texts); i++)
                free(texts[i]);
}

/* A long-lived thread that reads on command, to use readers of several
 * stores over its lifetime. */
struct worker {
        pthread_mutex_t m;
        pthread_cond_t c;
        struct store *st;       /* NULL: exit */
        bool pending;
        int rc;
        char v[32];
        pthread_t thread;
};

static void *worker_main(void *arg)
{
        struct worker *w = arg;
        struct store *st;

        for (;;) {
                pthread_mutex_lock(&w->m);
                while (!w->pending)
                        pthread_cond_wait(&w->c, &w->m);
                st = w->st;
                pthread_mutex_unlock(&w->m);
                if (!st)
                        return NULL;
                w->rc = get(st, "a", w->v, sizeof(w->v));
                pthread_mutex_lock(&w->m);
                w->pending = false;
                pthread_cond_broadcast(&w->c);
                pthread_mutex_unlock(&w->m);
        }
}

static int worker_read(struct worker *w, struct store *st)
{
        pthread_mutex_lock(&w->m);
        w->st = st;
        w->rc = 1;
        w->pending = true;
        pthread_cond_broadcast(&w->c);
        while (w->pending && st)
                pthread_cond_wait(&w->c, &w->m);
        pthread_mutex_unlock(&w->m);
        return w->rc;
}

static void test_readers_across_store_generations(void **state)
{
        struct fx *fx = *state;
        struct worker w;
        char v[16];
        int i;

        memset(&w, 0, sizeof(w));
        pthread_mutex_init(&w.m, NULL);
        pthread_cond_init(&w.c, NULL);
        assert_int_equal(pthread_create(&w.thread, NULL, worker_main, &w), 0);

        assert_int_equal(put(fx->st, "a", "gen"), 0);
        for (i = 0; i < 3; i++) {
                /* Both this thread and the worker hold a reader when the
                 * store closes under them (they are idle, as required). */
                assert_int_equal(worker_read(&w, fx->st), 0);
                assert_string_equal(w.v, "gen");
                assert_int_equal(get(fx->st, "a", v, sizeof(v)), 0);
                store_close(fx->st);
                fx->st = NULL;
                assert_int_equal(open_at(fx->path, &fx->st), 0);
        }
        assert_int_equal(worker_read(&w, fx->st), 0);
        assert_string_equal(w.v, "gen");
        /* The worker exits while the store is open: its destructor closes
         * its reader; store_close below must not close it again. */
        worker_read(&w, NULL);
        pthread_join(w.thread, NULL);
        pthread_cond_destroy(&w.c);
        pthread_mutex_destroy(&w.m);
        assert_int_equal(store_ping(fx->st), 0);
}

static void test_data_survives_reopen(void **state)
{
        struct fx *fx = *state;
        char k[32], v[16];
        int i;

        for (i = 0; i < 50; i++) {
                snprintf(k, sizeof(k), "durable-%d", i);
                assert_int_equal(put(fx->st, k, "yes"), 0);
        }
        store_close(fx->st);
        fx->st = NULL;
        assert_int_equal(open_at(fx->path, &fx->st), 0);
        assert_int_equal(store_migrations_current(fx->st), 1);
        assert_int_equal(count_rows(fx->st, "SELECT count(*) FROM kv WHERE k GLOB 'durable-*'"), 50);
        assert_int_equal(get(fx->st, "durable-49", v, sizeof(v)), 0);
        assert_string_equal(v, "yes");
}

static int open_err(const char *path, char *err, size_t errlen)
{
        struct store_options opt = { .path = path };
        struct store *st = (struct store *)1;
        int r;

        r = store_open(&opt, &st, err, errlen);
        if (st && r == 0)
                store_close(st);
        return r == 0 ? 0 : (st ? 1000 : r);    /* st must be NULL on failure */
}

/* As an unprivileged user, creating a database in a directory owned by
 * root (mode 0755) must fail with -EACCES and say which path. Runs in a
 * child that drops root, when the test runs as root. */
static void check_eacces(const char *dir)
{
        char sub[128], path[192], err[512] = "";
        int pfd[2];
        pid_t pid;
        int status;
        ssize_t n;

        snprintf(sub, sizeof(sub), "%s/locked", dir);
        snprintf(path, sizeof(path), "%s/x.db", sub);
        assert_int_equal(mkdir(sub, 0755), 0);

        if (geteuid() != 0) {
                assert_int_equal(chmod(sub, 0555), 0);
                assert_int_equal(open_err(path, err, sizeof(err)), -EACCES);
                assert_non_null(strstr(err, sub));
                assert_int_equal(chmod(sub, 0755), 0);
                return;
        }
        assert_int_equal(chmod(dir, 0755), 0);
        assert_int_equal(pipe(pfd), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int r = -1;

                close(pfd[0]);
                if (setgid(65534) == 0 && setuid(65534) == 0)
                        r = open_err(path, err, sizeof(err));
                if (write(pfd[1], err, strlen(err) + 1) < 0)
                        _exit(3);
                _exit(r == -EACCES ? 0 : 2);
        }
        close(pfd[1]);
        n = read(pfd[0], err, sizeof(err) - 1);
        close(pfd[0]);
        err[n > 0 ? n : 0] = '\0';
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_non_null(strstr(err, path));
        assert_non_null(strstr(err, "not writable"));
}

static void test_open_errors(void **state)
{
        char dir[] = "/tmp/enemane-store-err-XXXXXX";
        char path[192], file[128], err[512];
        int fd;

        assert_non_null(mkdtemp(dir));

        snprintf(path, sizeof(path), "%s/missing/x.db", dir);
        assert_int_equal(open_err(path, err, sizeof(err)), -ENOENT);
        assert_non_null(strstr(err, path));
        assert_non_null(strstr(err, "does not exist"));
        /* Without room for a message it still fails cleanly. */
        assert_int_equal(open_err(path, NULL, 0), -ENOENT);

        snprintf(file, sizeof(file), "%s/plain", dir);
        fd = open(file, O_CREAT | O_WRONLY, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "this is not a database, not at all.....", 40), 40);
        close(fd);
        snprintf(path, sizeof(path), "%s/x.db", file);
        assert_int_equal(open_err(path, err, sizeof(err)), -ENOENT);
        assert_non_null(strstr(err, "not a directory"));

        /* Not a database, and a directory: -EIO with SQLite's reason. */
        assert_int_equal(open_err(file, err, sizeof(err)), -EIO);
        assert_non_null(strstr(err, file));
        assert_non_null(strstr(err, "not a database"));
        assert_int_equal(open_err(dir, err, sizeof(err)), -EIO);
        assert_non_null(strstr(err, dir));

        check_eacces(dir);
        rm_rf(dir);
}

struct closer {
        struct store *st;
        bool done;
};

static void *closer_thread(void *arg)
{
        struct closer *c = arg;

        store_close(c->st);
        __atomic_store_n(&c->done, true, __ATOMIC_RELEASE);
        return NULL;
}

struct late {
        struct store *st;
        int rc;
        bool done;
};

static void *late_thread(void *arg)
{
        struct late *l = arg;

        l->rc = put(l->st, "late", "v");
        __atomic_store_n(&l->done, true, __ATOMIC_RELEASE);
        return NULL;
}

/* store_close() drains what was queued, then refuses new work. */
static void test_close_drains_and_rejects(void **state)
{
        struct fx *fx = *state;
        struct batch_writer queued = { .st = fx->st, .k = "queued", .rc = 1 };
        struct closer c = { fx->st, false };
        struct late l = { fx->st, 1, false };
        pthread_t tq, tc, tl;
        struct gate g;
        char v[16];
        int i;

        gate_start(&g, fx->st);
        queued.g = &g;
        assert_int_equal(pthread_create(&tq, NULL, good_writer_thread, &queued), 0);
        pthread_mutex_lock(&g.m);
        while (g.submitted < 1)
                pthread_cond_wait(&g.c, &g.m);
        pthread_mutex_unlock(&g.m);
        sleep_ms(100);

        assert_int_equal(pthread_create(&tc, NULL, closer_thread, &c), 0);
        sleep_ms(100);
        assert_false(__atomic_load_n(&c.done, __ATOMIC_ACQUIRE));

        /* Closing has begun (the writer is still held by the gate). */
        assert_int_equal(pthread_create(&tl, NULL, late_thread, &l), 0);
        for (i = 0; i < 200 && !__atomic_load_n(&l.done, __ATOMIC_ACQUIRE); i++)
                sleep_ms(10);
        assert_true(__atomic_load_n(&l.done, __ATOMIC_ACQUIRE));
        assert_int_equal(l.rc, -EBUSY);

        pthread_mutex_lock(&g.m);
        g.open = true;
        pthread_cond_broadcast(&g.c);
        pthread_mutex_unlock(&g.m);
        pthread_join(tq, NULL);
        pthread_join(tc, NULL);
        pthread_join(tl, NULL);
        gate_finish(&g);
        fx->st = NULL;

        assert_int_equal(g.rc, 0);
        assert_int_equal(queued.rc, 0);
        assert_int_equal(open_at(fx->path, &fx->st), 0);
        assert_int_equal(get(fx->st, "queued", v, sizeof(v)), 0);
        assert_int_equal(get(fx->st, "late", v, sizeof(v)), -ENOENT);
}

#define TP_THREADS 8
#define TP_WRITES 500
#define TP_SINGLE 300

struct tp_arg {
        struct store *st;
        int id;
        int failures;
};

static void *tp_thread(void *arg)
{
        struct tp_arg *a = arg;
        char k[32];
        int i;

        for (i = 0; i < TP_WRITES; i++) {
                snprintf(k, sizeof(k), "tp-%d-%d", a->id, i);
                if (put(a->st, k, "v") != 0)
                        a->failures++;
        }
        return NULL;
}

static void test_concurrent_throughput(void **state)
{
        struct fx *fx = *state;
        struct store_commit_stats s0, s1, s2;
        struct tp_arg a[TP_THREADS];
        pthread_t t[TP_THREADS];
        double t0, single_s, multi_s;
        uint64_t batches;
        char k[32];
        int i;

        store_commit_stats(fx->st, &s0);
        t0 = now_s();
        for (i = 0; i < TP_SINGLE; i++) {
                snprintf(k, sizeof(k), "single-%d", i);
                assert_int_equal(put(fx->st, k, "v"), 0);
        }
        single_s = now_s() - t0;
        store_commit_stats(fx->st, &s1);
        /* One caller at a time: one transaction per job. */
        assert_int_equal(s1.jobs - s0.jobs, TP_SINGLE);
        assert_int_equal(s1.batches - s0.batches, TP_SINGLE);

        t0 = now_s();
        for (i = 0; i < TP_THREADS; i++) {
                a[i] = (struct tp_arg){ fx->st, i, 0 };
                assert_int_equal(pthread_create(&t[i], NULL, tp_thread, &a[i]), 0);
        }
        for (i = 0; i < TP_THREADS; i++)
                pthread_join(t[i], NULL);
        multi_s = now_s() - t0;
        store_commit_stats(fx->st, &s2);

        for (i = 0; i < TP_THREADS; i++)
                assert_int_equal(a[i].failures, 0);
        assert_int_equal(count_rows(fx->st, "SELECT count(*) FROM kv WHERE k GLOB 'tp-*'"),
                         TP_THREADS * TP_WRITES);
        assert_int_equal(count_rows(fx->st, "SELECT count(DISTINCT k) FROM kv"
                                            " WHERE k GLOB 'single-*'"), TP_SINGLE);
        assert_int_equal(s2.jobs - s1.jobs, TP_THREADS * TP_WRITES);
        batches = s2.batches - s1.batches;
        assert_true(batches < (uint64_t)TP_THREADS * TP_WRITES);

        /* Histogram: cumulative, never above count; count = commits. */
        assert_int_equal(s2.count, s2.batches);
        assert_true(s2.sum_us > 0);
        for (i = 1; i < STORE_COMMIT_BUCKETS; i++)
                assert_true(s2.bucket[i] >= s2.bucket[i - 1]);
        assert_true(s2.bucket[STORE_COMMIT_BUCKETS - 1] <= s2.count);

        print_message("store: 1 thread %d writes %.2fs = %.0f writes/s (%llu commits)\n",
                      TP_SINGLE, single_s, TP_SINGLE / single_s,
                      (unsigned long long)(s1.batches - s0.batches));
        print_message("store: %d threads %d writes %.2fs = %.0f writes/s (%llu commits, "
                      "%.1f jobs/commit, mean commit %.0f us)\n",
                      TP_THREADS, TP_THREADS * TP_WRITES, multi_s,
                      TP_THREADS * TP_WRITES / multi_s, (unsigned long long)batches,
                      (double)(TP_THREADS * TP_WRITES) / (double)batches,
                      (double)(s2.sum_us - s1.sum_us) / (double)(s2.count - s1.count));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_errno_map),
                cmocka_unit_test(test_bucket_bounds),
                cmocka_unit_test(test_open_errors),
                cmocka_unit_test_setup_teardown(test_open_pragmas_and_migrate, setup_open, teardown),
                cmocka_unit_test_setup_teardown(test_migrate_applies_only_missing, setup_migrated, teardown),
                cmocka_unit_test_setup_teardown(test_invalid_arguments, setup_migrated, teardown),
                cmocka_unit_test_setup_teardown(test_job_result_and_rollback, setup_migrated, teardown),
                cmocka_unit_test_setup_teardown(test_constraint_errors, setup_migrated, teardown),
                cmocka_unit_test_setup_teardown(test_reentrant_write, setup_migrated, teardown),
                cmocka_unit_test_setup_teardown(test_write_then_read_on_other_thread, setup_migrated, teardown),
                cmocka_unit_test_setup_teardown(test_group_commit_failing_job_rolled_back_alone,
                                                setup_migrated, teardown),
                cmocka_unit_test_setup_teardown(test_commit_failure_fails_whole_batch,
                                                setup_migrated, teardown),
                cmocka_unit_test_setup_teardown(test_statement_cache, setup_migrated, teardown),
                cmocka_unit_test_setup_teardown(test_readers_across_store_generations,
                                                setup_migrated, teardown),
                cmocka_unit_test_setup_teardown(test_data_survives_reopen, setup_migrated, teardown),
                cmocka_unit_test_setup_teardown(test_close_drains_and_rejects, setup_migrated, teardown),
                cmocka_unit_test_setup_teardown(test_concurrent_throughput, setup_migrated, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
