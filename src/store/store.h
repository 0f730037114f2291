/*
 * store.h - the persistence interface of enemane.
 *
 * Handlers and the domain see only the functions declared in store.h and
 * the store_*.h headers beside it: typed calls with C structs in and out,
 * never SQL. The SQLite backend lives in store.c (engine: connections,
 * the writer thread, migrations) and store_<resource>.c (the SQL of one
 * resource). A PostgreSQL backend can later provide the same functions.
 *
 * Concurrency model (SQLite, WAL):
 *  - one writer thread owns the only write connection. store_write() puts a
 *    write job on its queue and blocks until the job's transaction is
 *    durable. The writer takes every job waiting (up to a batch cap), opens
 *    one BEGIN IMMEDIATE, runs each job inside its own SAVEPOINT (a failing
 *    job is rolled back alone and gets its own error), then COMMITs once
 *    with synchronous=FULL: group commit. Each caller is answered only after
 *    that COMMIT returned.
 *  - every other thread reads through its own connection, opened lazily per
 *    thread (store_reader()), so reads never queue behind writes.
 *
 * Error convention: negative errno. -ENOENT not found, -EEXIST unique
 * violation, -EIO SQLite error, -ENOMEM, -EBUSY (shutting down).
 */
#ifndef ENEMANE_STORE_STORE_H
#define ENEMANE_STORE_STORE_H

#include <stdint.h>
#include <stddef.h>

typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;

struct store;

struct store_options {
        const char *path;               /* database file */
        int batch_max;                  /* max jobs per group commit (default 256) */
        int busy_timeout_ms;            /* readers' busy timeout (default 5000) */
};

/* Opens (creating) the database, sets WAL and pragmas, does NOT migrate.
 * Starts the writer thread. Returns 0, -EACCES / -EROFS / -ENOENT when the
 * path cannot be opened for writing (errmsg gets a sentence), or -EIO. */
int store_open(const struct store_options *opt, struct store **out, char *errmsg, size_t errlen);
/* Stops the writer (after the queue drains), closes everything; accepts NULL. */
void store_close(struct store *st);

/* Applies every compiled-in migration not yet recorded in
 * schema_migrations, each in its own transaction. *applied gets how many
 * were applied now. */
int store_migrate(struct store *st, int *applied);
/* 1 when every compiled-in migration is applied, 0 when not, <0 on error. */
int store_migrations_current(struct store *st);
/* Cheap liveness probe on this thread's reader: 0 or -EIO. */
int store_ping(struct store *st);

/* ---- engine used by store_<resource>.c only ---------------------------- */

/* A write job runs on the writer thread inside a SAVEPOINT. Return 0 to
 * keep its changes, negative errno to roll them back (that value is what
 * store_write returns). */
typedef int (*store_write_fn)(sqlite3 *db, void *arg);
int store_write(struct store *st, store_write_fn fn, void *arg);

/* This thread's read connection (opened on first use, closed at thread
 * exit or store_close). NULL on failure. */
sqlite3 *store_reader(struct store *st);

/* Prepared statement cache per connection: returns a reset statement for
 * sql (which must be a string literal: the pointer is the cache key).
 * The statement stays owned by the cache; do not finalize it. */
sqlite3_stmt *store_prepare(sqlite3 *db, const char *sql);

/* Maps an SQLite result code to a negative errno (SQLITE_CONSTRAINT_UNIQUE
 * -> -EEXIST, SQLITE_DONE with no row -> -ENOENT is the caller's job). */
int store_errno(int sqlite_rc);

/* Commit latency statistics for /metrics (microseconds histogram). */
#define STORE_COMMIT_BUCKETS 12
struct store_commit_stats {
        uint64_t count;
        uint64_t sum_us;
        uint64_t bucket[STORE_COMMIT_BUCKETS];  /* cumulative counts */
        uint64_t batches;
        uint64_t jobs;
};
extern const double store_commit_bucket_le_s[STORE_COMMIT_BUCKETS];
void store_commit_stats(struct store *st, struct store_commit_stats *out);

/* Migrations compiled into the binary (store/migrations.c). */
struct store_migration {
        int version;
        const char *name;
        const char *sql;
};
extern const struct store_migration store_migrations[];
extern const size_t store_migrations_count;

#endif
