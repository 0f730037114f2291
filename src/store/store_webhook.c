/*
 * store_webhook.c - SQL for webhook replay protection (see the header).
 */
#include "store/store_webhook.h"

#include "store/sql.h"

struct seen_job {
        const char *sig;
        int64_t now;
};

static int seen_job_run(sqlite3 *db, void *arg)
{
        struct seen_job *j = arg;
        sqlite3_stmt *s = store_prepare(db, "INSERT INTO webhook_signatures (signature, seen_at)"
                                            " VALUES (?, ?)");

        if (!s)
                return -EIO;
        sql_bind_text(s, 1, j->sig);
        sqlite3_bind_int64(s, 2, j->now);
        return sql_exec_reset(s);
}

int store_webhook_seen(struct store *st, const char *sig, int64_t now)
{
        struct seen_job j = { sig, now };

        return store_write(st, seen_job_run, &j);
}

struct prune_job {
        int64_t before;
        int count;
};

static int prune_job_run(sqlite3 *db, void *arg)
{
        struct prune_job *j = arg;
        sqlite3_stmt *s = store_prepare(db, "DELETE FROM webhook_signatures WHERE seen_at < ?");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->before);
        r = sql_exec_reset(s);
        j->count = sqlite3_changes(db);
        return r;
}

int store_webhook_prune(struct store *st, int64_t before, int *count)
{
        struct prune_job j = { before, 0 };
        int r = store_write(st, prune_job_run, &j);

        if (r == 0 && count)
                *count = j.count;
        return r;
}
