/*
 * store_notice.c - SQL for notices, the homes' reads of them and
 * maintenance windows (HE-5, HE-6, HE-13). See the header for the
 * contract of each call.
 *
 * A notice is live from its creation until it expires or is withdrawn;
 * before publish_at it is scheduled (the API does not show it yet). The
 * live ones are few (NOTICE_LIVE_MAX, checked inside the write job, so the
 * bound is exact) and are read in one go through a partial index, for the
 * API's in-memory copy. Reads are (home, notice) pairs, checked for the
 * handful of notices a gateway is shown with one json_each() query.
 *
 * A maintenance window and its notice are written in one job; ending or
 * cancelling the window expires or withdraws the notice in the same job.
 */
#include "store/store_notice.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sql.h"
#include "util/buf.h"

const char store_m014_sql[] =
        "CREATE TABLE notices (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  kind TEXT NOT NULL CHECK (kind IN ('info','service_change','terms_change',\n"
        "    'service_end','maintenance')),\n"
        "  importance TEXT NOT NULL CHECK (importance IN ('low','normal','high')),\n"
        "  title TEXT NOT NULL,\n"
        "  body TEXT NOT NULL,\n"
        "  link TEXT NOT NULL DEFAULT '',\n"
        "  target TEXT NOT NULL DEFAULT '{}',   -- JSON: models, firmware, prefectures,\n"
        "                                       -- gateway_ids; {} every gateway\n"
        "  lamp_seconds INTEGER NOT NULL DEFAULT 0,\n"
        "  publish_at INTEGER NOT NULL,\n"
        "  expires_at INTEGER NOT NULL,\n"
        "  service_ends_at INTEGER NOT NULL DEFAULT 0,   -- service_end only\n"
        "  maintenance_id INTEGER NOT NULL DEFAULT 0,    -- maintenance only\n"
        "  created_by INTEGER NOT NULL,\n"
        "  created_at INTEGER NOT NULL,\n"
        "  withdrawn_at INTEGER NOT NULL DEFAULT 0\n"
        ");\n"
        "CREATE INDEX notices_live ON notices(expires_at) WHERE withdrawn_at = 0;\n"
        "CREATE TABLE notice_reads (\n"
        "  home_id INTEGER NOT NULL REFERENCES homes(id),\n"
        "  notice_id INTEGER NOT NULL REFERENCES notices(id),\n"
        "  read_at INTEGER NOT NULL,\n"
        "  PRIMARY KEY (home_id, notice_id)\n"
        ") WITHOUT ROWID;\n"
        "CREATE INDEX notice_reads_notice ON notice_reads(notice_id);\n"
        "CREATE TABLE maintenance (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  scope TEXT NOT NULL CHECK (scope IN ('gateway','apps','all')),\n"
        "  emergency INTEGER NOT NULL DEFAULT 0,\n"
        "  title TEXT NOT NULL,\n"
        "  body TEXT NOT NULL,\n"
        "  starts_at INTEGER NOT NULL,\n"
        "  ends_at INTEGER NOT NULL,              -- the expected end\n"
        "  ended_at INTEGER NOT NULL DEFAULT 0,   -- ended or cancelled early, 0 not\n"
        "  cancelled INTEGER NOT NULL DEFAULT 0,\n"
        "  notice_id INTEGER NOT NULL DEFAULT 0,\n"
        "  created_by INTEGER NOT NULL,\n"
        "  created_at INTEGER NOT NULL\n"
        ");\n"
        "CREATE INDEX maintenance_live ON maintenance(ends_at) WHERE ended_at = 0;\n";

/* ---- notices ----------------------------------------------------------------- */

void store_notice_clear(struct store_notice *n)
{
        if (!n)
                return;
        free(n->title);
        free(n->body);
        free(n->link);
        free(n->target);
        memset(n, 0, sizeof(*n));
}

void store_notice_array_free(struct store_notice *a, int n)
{
        if (!a)
                return;
        for (int i = 0; i < n; i++)
                store_notice_clear(&a[i]);
        free(a);
}

#define NOTICE_COLS "id, kind, importance, title, body, link, target, lamp_seconds, " \
        "publish_at, expires_at, service_ends_at, maintenance_id, created_by, created_at, " \
        "withdrawn_at"

static char *col_dup(sqlite3_stmt *s, int i)
{
        const unsigned char *t = sqlite3_column_text(s, i);

        return strdup(t ? (const char *)t : "");
}

/* Fills n from the current row (NOTICE_COLS); -ENOMEM leaves n cleared. */
static int notice_row(sqlite3_stmt *s, struct store_notice *n)
{
        memset(n, 0, sizeof(*n));
        n->id = sqlite3_column_int64(s, 0);
        sql_col_copy(s, 1, n->kind, sizeof(n->kind));
        sql_col_copy(s, 2, n->importance, sizeof(n->importance));
        n->title = col_dup(s, 3);
        n->body = col_dup(s, 4);
        n->link = col_dup(s, 5);
        n->target = col_dup(s, 6);
        n->lamp_seconds = sqlite3_column_int64(s, 7);
        n->publish_at = sqlite3_column_int64(s, 8);
        n->expires_at = sqlite3_column_int64(s, 9);
        n->service_ends_at = sqlite3_column_int64(s, 10);
        n->maintenance_id = sqlite3_column_int64(s, 11);
        n->created_by = sqlite3_column_int64(s, 12);
        n->created_at = sqlite3_column_int64(s, 13);
        n->withdrawn_at = sqlite3_column_int64(s, 14);
        if (!n->title || !n->body || !n->link || !n->target) {
                store_notice_clear(n);
                return -ENOMEM;
        }
        return 0;
}

/* The notice with id on db. */
static int notice_load(sqlite3 *db, int64_t id, struct store_notice *out)
{
        sqlite3_stmt *s = store_prepare(db, "SELECT " NOTICE_COLS " FROM notices WHERE id = ?");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, id);
        r = sql_step_row(s);
        if (r == 1)
                r = notice_row(s, out) < 0 ? -ENOMEM : 1;
        sqlite3_reset(s);
        if (r < 0)
                return r;
        return r == 1 ? 0 : -ENOENT;
}

/* How many notices other than maintenance notices are live at now on db
 * (*n). Maintenance notices are bounded by MAINT_LIVE_MAX instead, so that
 * a full list of notices never holds up an emergency. */
static int notice_live_count(sqlite3 *db, int64_t now, int64_t *n)
{
        sqlite3_stmt *s = store_prepare(db, "SELECT COUNT(*) FROM notices "
                                        "WHERE withdrawn_at = 0 AND expires_at > ? "
                                        "AND kind <> 'maintenance'");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, now);
        r = sql_step_row(s);
        if (r == 1)
                *n = sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
        return r < 0 ? r : 0;
}

/* Inserts n on db; n->id and created_at set. */
static int notice_insert(sqlite3 *db, struct store_notice *n, int64_t now)
{
        sqlite3_stmt *s = store_prepare(db,
                "INSERT INTO notices (kind, importance, title, body, link, target, "
                "lamp_seconds, publish_at, expires_at, service_ends_at, maintenance_id, "
                "created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        int64_t live = 0;
        int r = 0;

        if (strcmp(n->kind, "maintenance") != 0)
                r = notice_live_count(db, now, &live);
        if (r < 0)
                return r;
        if (live >= NOTICE_LIVE_MAX)
                return -ENOSPC;
        if (!s)
                return -EIO;
        sql_bind_text(s, 1, n->kind);
        sql_bind_text(s, 2, n->importance);
        sql_bind_text(s, 3, n->title);
        sql_bind_text(s, 4, n->body);
        sql_bind_text(s, 5, n->link);
        sql_bind_text(s, 6, n->target && *n->target ? n->target : "{}");
        sqlite3_bind_int64(s, 7, n->lamp_seconds);
        sqlite3_bind_int64(s, 8, n->publish_at);
        sqlite3_bind_int64(s, 9, n->expires_at);
        sqlite3_bind_int64(s, 10, n->service_ends_at);
        sqlite3_bind_int64(s, 11, n->maintenance_id);
        sqlite3_bind_int64(s, 12, n->created_by);
        sqlite3_bind_int64(s, 13, now);
        r = sql_exec_reset(s);
        if (r < 0)
                return r;
        n->id = sqlite3_last_insert_rowid(db);
        n->created_at = now;
        return 0;
}

struct notice_create_job {
        struct store_notice *n;
        int64_t now;
};

static int notice_create_run(sqlite3 *db, void *arg)
{
        struct notice_create_job *j = arg;

        return notice_insert(db, j->n, j->now);
}

int store_notice_create(struct store *st, struct store_notice *n, int64_t now)
{
        struct notice_create_job j = { n, now };

        return store_write(st, notice_create_run, &j);
}

int store_notice_get(struct store *st, int64_t id, struct store_notice *out)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r;

        memset(out, 0, sizeof(*out));
        if (!db)
                return -EIO;
        r = notice_load(db, id, out);
        if (r < 0)
                return r;
        s = store_prepare(db, "SELECT COUNT(*) FROM notice_reads WHERE notice_id = ?");
        if (!s) {
                store_notice_clear(out);
                return -EIO;
        }
        sqlite3_bind_int64(s, 1, id);
        r = sql_step_row(s);
        if (r == 1)
                out->read_count = sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
        if (r < 0)
                store_notice_clear(out);
        return r < 0 ? r : 0;
}

/* Steps s into out[0..max) (NOTICE_COLS rows); *n rows kept, all cleared
 * again on failure. */
static int notice_rows(sqlite3_stmt *s, struct store_notice *out, int max, int *n)
{
        int r = 0;

        *n = 0;
        while (*n < max) {
                r = sql_step_row(s);
                if (r <= 0)
                        break;
                r = notice_row(s, &out[*n]);
                if (r < 0)
                        break;
                (*n)++;
        }
        sqlite3_reset(s);
        if (r < 0) {
                for (int i = 0; i < *n; i++)
                        store_notice_clear(&out[i]);
                *n = 0;
        }
        return r < 0 ? r : 0;
}

int store_notice_list(struct store *st, const struct store_notice_filter *f,
                      struct store_notice *out, int max, int *n)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;

        *n = 0;
        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT " NOTICE_COLS " FROM notices "
                          "WHERE (?1 = 0 OR id < ?1) AND (?2 = '' OR kind = ?2) "
                          "ORDER BY id DESC LIMIT ?3");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, f->before_id);
        sql_bind_text(s, 2, f->kind);
        sqlite3_bind_int(s, 3, f->limit < max ? f->limit : max);
        return notice_rows(s, out, max, n);
}

struct notice_withdraw_job {
        int64_t id, now;
        struct store_notice *out;
};

static int notice_withdraw_run(sqlite3 *db, void *arg)
{
        struct notice_withdraw_job *j = arg;
        sqlite3_stmt *s;
        int r = notice_load(db, j->id, j->out);

        if (r < 0)
                return r;
        if (j->out->maintenance_id)
                return -EPERM;
        if (j->out->withdrawn_at)
                return 0;
        s = store_prepare(db, "UPDATE notices SET withdrawn_at = ? WHERE id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->now);
        sqlite3_bind_int64(s, 2, j->id);
        r = sql_exec_change(s);
        if (r == 0)
                j->out->withdrawn_at = j->now;
        return r;
}

int store_notice_withdraw(struct store *st, int64_t id, int64_t now, struct store_notice *out)
{
        struct notice_withdraw_job j = { id, now, out };
        int r;

        memset(out, 0, sizeof(*out));
        r = store_write(st, notice_withdraw_run, &j);
        if (r < 0 && r != -EPERM)
                store_notice_clear(out);
        return r;
}

int store_notice_live(struct store *st, int64_t now, struct store_notice **out, int *n)
{
        const int max = NOTICE_LIVE_MAX + MAINT_LIVE_MAX;
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r;

        *out = NULL;
        *n = 0;
        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT " NOTICE_COLS " FROM notices "
                          "WHERE withdrawn_at = 0 AND expires_at > ? ORDER BY id LIMIT ?");
        if (!s)
                return -EIO;
        *out = calloc((size_t)max, sizeof(**out));
        if (!*out)
                return -ENOMEM;
        sqlite3_bind_int64(s, 1, now);
        sqlite3_bind_int(s, 2, max);
        r = notice_rows(s, *out, max, n);
        if (r < 0) {
                free(*out);
                *out = NULL;
        }
        return r;
}

/* "[1,2,3]" of ids into b. */
static int ids_json(struct buf *b, const int64_t *ids, int n)
{
        int r = buf_puts(b, "[");

        for (int i = 0; i < n && r == 0; i++)
                r = buf_printf(b, "%s%lld", i ? "," : "", (long long)ids[i]);
        return r < 0 ? r : buf_puts(b, "]");
}

int store_notice_reads(struct store *st, int64_t home_id, const int64_t *ids, int n,
                       bool *read)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        struct buf b;
        int r = 0;

        for (int i = 0; i < n; i++)
                read[i] = false;
        if (n <= 0)
                return 0;
        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT notice_id FROM notice_reads WHERE home_id = ? "
                          "AND notice_id IN (SELECT value FROM json_each(?))");
        if (!s)
                return -EIO;
        buf_init(&b, 0);
        if (ids_json(&b, ids, n) < 0) {
                buf_free(&b);
                return -ENOMEM;
        }
        sqlite3_bind_int64(s, 1, home_id);
        sql_bind_text(s, 2, b.data);
        for (;;) {
                int64_t id;

                r = sql_step_row(s);
                if (r <= 0)
                        break;
                id = sqlite3_column_int64(s, 0);
                for (int i = 0; i < n; i++)
                        if (ids[i] == id)
                                read[i] = true;
        }
        sqlite3_reset(s);
        buf_free(&b);
        return r < 0 ? r : 0;
}

struct mark_read_job {
        int64_t home_id;
        const int64_t *ids;
        int n;
        int64_t now;
};

static int mark_read_run(sqlite3 *db, void *arg)
{
        struct mark_read_job *j = arg;
        sqlite3_stmt *s = store_prepare(db, "INSERT OR IGNORE INTO notice_reads "
                                        "(home_id, notice_id, read_at) VALUES (?, ?, ?)");
        int r;

        if (!s)
                return -EIO;
        for (int i = 0; i < j->n; i++) {
                sqlite3_bind_int64(s, 1, j->home_id);
                sqlite3_bind_int64(s, 2, j->ids[i]);
                sqlite3_bind_int64(s, 3, j->now);
                r = sql_exec_reset(s);
                if (r < 0)
                        return r;
        }
        return 0;
}

int store_notice_mark_read(struct store *st, int64_t home_id, const int64_t *ids, int n,
                           int64_t now)
{
        struct mark_read_job j = { home_id, ids, n, now };

        if (n <= 0)
                return 0;
        return store_write(st, mark_read_run, &j);
}

/* ---- maintenance ------------------------------------------------------------- */

#define MAINT_COLS "m.id, m.scope, m.emergency, m.cancelled, m.title, m.body, m.starts_at, " \
        "m.ends_at, m.ended_at, m.notice_id, IFNULL(n.publish_at, 0), m.created_by, " \
        "m.created_at"
#define MAINT_FROM " FROM maintenance m LEFT JOIN notices n ON n.id = m.notice_id"

static void maint_row(sqlite3_stmt *s, struct store_maintenance *m)
{
        memset(m, 0, sizeof(*m));
        m->id = sqlite3_column_int64(s, 0);
        sql_col_copy(s, 1, m->scope, sizeof(m->scope));
        m->emergency = sqlite3_column_int(s, 2) != 0;
        m->cancelled = sqlite3_column_int(s, 3) != 0;
        sql_col_copy(s, 4, m->title, sizeof(m->title));
        sql_col_copy(s, 5, m->body, sizeof(m->body));
        m->starts_at = sqlite3_column_int64(s, 6);
        m->ends_at = sqlite3_column_int64(s, 7);
        m->ended_at = sqlite3_column_int64(s, 8);
        m->notice_id = sqlite3_column_int64(s, 9);
        m->notice_at = sqlite3_column_int64(s, 10);
        m->created_by = sqlite3_column_int64(s, 11);
        m->created_at = sqlite3_column_int64(s, 12);
}

static int maint_load(sqlite3 *db, int64_t id, struct store_maintenance *out)
{
        sqlite3_stmt *s = store_prepare(db, "SELECT " MAINT_COLS MAINT_FROM " WHERE m.id = ?");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, id);
        r = sql_step_row(s);
        if (r == 1)
                maint_row(s, out);
        sqlite3_reset(s);
        if (r < 0)
                return r;
        return r == 1 ? 0 : -ENOENT;
}

static int maint_rows(sqlite3_stmt *s, struct store_maintenance *out, int max, int *n)
{
        int r = 0;

        *n = 0;
        while (*n < max) {
                r = sql_step_row(s);
                if (r <= 0)
                        break;
                maint_row(s, &out[(*n)++]);
        }
        sqlite3_reset(s);
        return r < 0 ? r : 0;
}

/* How many windows are not over at now on db. */
static int maint_live_count(sqlite3 *db, int64_t now, int64_t *n)
{
        sqlite3_stmt *s = store_prepare(db, "SELECT COUNT(*) FROM maintenance "
                                        "WHERE ended_at = 0 AND ends_at > ?");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, now);
        r = sql_step_row(s);
        if (r == 1)
                *n = sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
        return r < 0 ? r : 0;
}

struct maint_create_job {
        struct store_maintenance *m;
        int64_t notice_at;
        const char *importance;
        int64_t now;
};

static int maint_insert(sqlite3 *db, struct maint_create_job *j)
{
        struct store_maintenance *m = j->m;
        sqlite3_stmt *s = store_prepare(db,
                "INSERT INTO maintenance (scope, emergency, title, body, starts_at, ends_at, "
                "created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
        int r;

        if (!s)
                return -EIO;
        sql_bind_text(s, 1, m->scope);
        sqlite3_bind_int(s, 2, m->emergency ? 1 : 0);
        sql_bind_text(s, 3, m->title);
        sql_bind_text(s, 4, m->body);
        sqlite3_bind_int64(s, 5, m->starts_at);
        sqlite3_bind_int64(s, 6, m->ends_at);
        sqlite3_bind_int64(s, 7, m->created_by);
        sqlite3_bind_int64(s, 8, j->now);
        r = sql_exec_reset(s);
        if (r < 0)
                return r;
        m->id = sqlite3_last_insert_rowid(db);
        m->created_at = j->now;
        return 0;
}

static int maint_create_run(sqlite3 *db, void *arg)
{
        struct maint_create_job *j = arg;
        struct store_maintenance *m = j->m;
        struct store_notice n = { 0 };
        char no_link[1] = "", every[3] = "{}";
        sqlite3_stmt *s;
        int64_t live = 0;
        int r = maint_live_count(db, j->now, &live);

        if (r < 0)
                return r;
        if (live >= MAINT_LIVE_MAX)
                return -ENOSPC;
        r = maint_insert(db, j);
        if (r < 0)
                return r;
        snprintf(n.kind, sizeof(n.kind), "maintenance");
        snprintf(n.importance, sizeof(n.importance), "%s", j->importance);
        n.title = m->title;
        n.body = m->body;
        n.link = no_link;
        n.target = every;
        n.publish_at = j->notice_at;
        n.expires_at = m->ends_at;
        n.lamp_seconds = m->ends_at - j->notice_at;
        n.maintenance_id = m->id;
        n.created_by = m->created_by;
        r = notice_insert(db, &n, j->now);
        if (r < 0)
                return r;
        s = store_prepare(db, "UPDATE maintenance SET notice_id = ? WHERE id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, n.id);
        sqlite3_bind_int64(s, 2, m->id);
        r = sql_exec_change(s);
        if (r < 0)
                return r;
        m->notice_id = n.id;
        m->notice_at = j->notice_at;
        return 0;
}

int store_maintenance_create(struct store *st, struct store_maintenance *m, int64_t notice_at,
                             const char *importance, int64_t now)
{
        struct maint_create_job j = { m, notice_at, importance, now };

        return store_write(st, maint_create_run, &j);
}

int store_maintenance_get(struct store *st, int64_t id, struct store_maintenance *out)
{
        sqlite3 *db = store_reader(st);

        if (!db)
                return -EIO;
        return maint_load(db, id, out);
}

int store_maintenance_list(struct store *st, int64_t before_id, int limit,
                           struct store_maintenance *out, int max, int *n)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;

        *n = 0;
        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT " MAINT_COLS MAINT_FROM
                          " WHERE (?1 = 0 OR m.id < ?1) ORDER BY m.id DESC LIMIT ?2");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, before_id);
        sqlite3_bind_int(s, 2, limit < max ? limit : max);
        return maint_rows(s, out, max, n);
}

struct maint_end_job {
        int64_t id, now;
        struct store_maintenance *out;
};

static int maint_end_run(sqlite3 *db, void *arg)
{
        struct maint_end_job *j = arg;
        bool cancel;
        sqlite3_stmt *s;
        int r = maint_load(db, j->id, j->out);

        if (r < 0)
                return r;
        if (j->out->ended_at || j->out->ends_at <= j->now)
                return -ESTALE;
        cancel = j->out->starts_at > j->now;
        s = store_prepare(db, "UPDATE maintenance SET ended_at = ?, cancelled = ? WHERE id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->now);
        sqlite3_bind_int(s, 2, cancel ? 1 : 0);
        sqlite3_bind_int64(s, 3, j->id);
        r = sql_exec_change(s);
        if (r < 0)
                return r;
        /* A cancelled window's notice disappears; an ended one's expires now. */
        s = store_prepare(db, cancel ?
                          "UPDATE notices SET withdrawn_at = ?1 WHERE id = ?2" :
                          "UPDATE notices SET expires_at = ?1 WHERE id = ?2 AND expires_at > ?1");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->now);
        sqlite3_bind_int64(s, 2, j->out->notice_id);
        r = sql_exec_reset(s);
        if (r < 0)
                return r;
        return maint_load(db, j->id, j->out);
}

int store_maintenance_end(struct store *st, int64_t id, int64_t now,
                          struct store_maintenance *out)
{
        struct maint_end_job j = { id, now, out };

        return store_write(st, maint_end_run, &j);
}

int store_maintenance_live(struct store *st, int64_t now, struct store_maintenance *out,
                           int max, int *n)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;

        *n = 0;
        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT " MAINT_COLS MAINT_FROM
                          " WHERE m.ended_at = 0 AND m.ends_at > ? ORDER BY m.starts_at LIMIT ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, now);
        sqlite3_bind_int(s, 2, max);
        return maint_rows(s, out, max, n);
}
