/*
 * store_homedata.c - SQL for a home's settings versions (HE-8), its device
 * history (HE-9) and the operator's error statistics over every gateway.
 * See the header for the contract of each call.
 *
 * A new version number is taken inside the write job that inserts it
 * (max + 1 of the home), so two uploads of one home can never get the same
 * number: the writer thread runs one job at a time. Trimming to
 * HOMEDATA_VERSIONS_KEPT happens in the same job, so a home never holds
 * more. An upload equal to the newest version (the same text: the API
 * stores jansson's compact form, which keeps the members' order) adds
 * nothing, so a gateway that uploads on a timer does not push its real
 * changes out of the kept versions. A restore is one INSERT ... SELECT: the document is not copied
 * through C.
 *
 * History lists go in (at, id) order, both covered by the indexes
 * (home_id, at) and (home_id, kind, at) (an index ends with the rowid), so
 * a page is read straight from the index without sorting. The statistics
 * read a partial index over error events only.
 */
#include "store/store_homedata.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/sql.h"

const char store_m011_sql[] =
        "CREATE TABLE settings_versions (\n"
        "  home_id INTEGER NOT NULL REFERENCES homes(id),\n"
        "  version INTEGER NOT NULL,              -- 1, 2, ... per home, never reused\n"
        "  created_at INTEGER NOT NULL,\n"
        "  source TEXT NOT NULL CHECK (source IN ('gateway','restore')),\n"
        "  restored_from_home INTEGER NOT NULL DEFAULT 0,    -- restore: the home copied\n"
        "  restored_from_version INTEGER NOT NULL DEFAULT 0, --   and its version\n"
        "  restored_by INTEGER NOT NULL DEFAULT 0,           --   by this member\n"
        "  doc TEXT NOT NULL,                     -- the settings document (JSON object)\n"
        "  PRIMARY KEY (home_id, version)\n"
        ");\n"
        "CREATE TABLE history (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  home_id INTEGER NOT NULL REFERENCES homes(id),\n"
        "  gateway_id INTEGER NOT NULL REFERENCES gateways(id),\n"
        "  model TEXT NOT NULL,                   -- the gateway's when the batch arrived\n"
        "  firmware TEXT NOT NULL DEFAULT '',\n"
        "  kind TEXT NOT NULL CHECK (kind IN ('operation','saving','error')),\n"
        "  device TEXT NOT NULL,\n"
        "  code TEXT NOT NULL,\n"
        "  at INTEGER NOT NULL,                   -- when it happened (gateway's clock)\n"
        "  detail TEXT NOT NULL DEFAULT '',\n"
        "  received_at INTEGER NOT NULL\n"
        ");\n"
        "CREATE INDEX history_home_at ON history(home_id, at);\n"
        "CREATE INDEX history_home_kind_at ON history(home_id, kind, at);\n"
        "-- the error statistics read this index alone (kind is listed so that SQLite\n"
        "-- sees it covers the query)\n"
        "CREATE INDEX history_errors ON history(model, firmware, code, at, gateway_id, kind)\n"
        "  WHERE kind = 'error';\n";

static bool kind_ok(const char *s)
{
        return s && (strcmp(s, "operation") == 0 || strcmp(s, "saving") == 0 ||
                     strcmp(s, "error") == 0);
}

/* ---- settings ------------------------------------------------------------ */

void store_settings_version_free(struct store_settings_version *v)
{
        if (!v)
                return;
        free(v->doc);
        v->doc = NULL;
}

/* The home's next version number (max + 1, 1 for the first). */
static int next_version(sqlite3 *db, int64_t home_id, int64_t *out)
{
        sqlite3_stmt *s = store_prepare(db, "SELECT COALESCE(MAX(version), 0) + 1"
                                            " FROM settings_versions WHERE home_id = ?");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, home_id);
        r = sql_step_row(s);
        if (r == 1)
                *out = sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
        return r == 1 ? 0 : r == 0 ? -EIO : r;
}

/* Drops the versions older than the HOMEDATA_VERSIONS_KEPT newest, the
 * newest being newest. */
static int trim_versions(sqlite3 *db, int64_t home_id, int64_t newest)
{
        sqlite3_stmt *s;

        if (newest <= HOMEDATA_VERSIONS_KEPT)
                return 0;
        s = store_prepare(db, "DELETE FROM settings_versions WHERE home_id = ? AND version <= ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, home_id);
        sqlite3_bind_int64(s, 2, newest - HOMEDATA_VERSIONS_KEPT);
        return sql_exec_reset(s);
}

struct put_job {
        int64_t home_id;
        const char *doc;
        int64_t now;
        int64_t version, created_at;
        bool unchanged;
        /* restore */
        int64_t from_home, from_version, member_id;
};

/* Whether the home's newest version has exactly this text; when it has,
 * j->version and j->created_at get that version's. */
static int newest_same(sqlite3 *db, struct put_job *j)
{
        sqlite3_stmt *s = store_prepare(db, "SELECT version, created_at, doc = ?2"
                                            " FROM settings_versions WHERE home_id = ?1"
                                            " ORDER BY version DESC LIMIT 1");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->home_id);
        sqlite3_bind_text(s, 2, j->doc, -1, SQLITE_STATIC);
        r = sql_step_row(s);
        j->unchanged = r == 1 && sqlite3_column_int(s, 2) == 1;
        if (j->unchanged) {
                j->version = sqlite3_column_int64(s, 0);
                j->created_at = sqlite3_column_int64(s, 1);
        }
        sqlite3_reset(s);
        return r < 0 ? r : 0;
}

static int put_job_run(sqlite3 *db, void *arg)
{
        struct put_job *j = arg;
        sqlite3_stmt *s;
        int r = newest_same(db, j);

        if (r < 0 || j->unchanged)
                return r;
        j->created_at = j->now;
        r = next_version(db, j->home_id, &j->version);
        if (r < 0)
                return r;
        s = store_prepare(db, "INSERT INTO settings_versions (home_id, version, created_at,"
                              " source, doc) VALUES (?, ?, ?, 'gateway', ?)");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->home_id);
        sqlite3_bind_int64(s, 2, j->version);
        sqlite3_bind_int64(s, 3, j->now);
        sqlite3_bind_text(s, 4, j->doc, -1, SQLITE_STATIC);
        r = sql_exec_reset(s);
        if (r < 0)
                return r;
        return trim_versions(db, j->home_id, j->version);
}

int store_settings_put(struct store *st, int64_t home_id, const char *doc, int64_t now,
                       int64_t *version, int64_t *created_at)
{
        struct put_job j = { .home_id = home_id, .doc = doc, .now = now };
        int r;

        if (home_id <= 0 || !doc || strnlen(doc, HOMEDATA_DOC_MAX + 1) > HOMEDATA_DOC_MAX)
                return -EINVAL;
        r = store_write(st, put_job_run, &j);
        if (r < 0)
                return r;
        if (version)
                *version = j.version;
        if (created_at)
                *created_at = j.created_at;
        return j.unchanged ? 1 : 0;
}

static int restore_job_run(sqlite3 *db, void *arg)
{
        struct put_job *j = arg;
        sqlite3_stmt *s;
        int r = next_version(db, j->home_id, &j->version);

        if (r < 0)
                return r;
        s = store_prepare(db, "INSERT INTO settings_versions (home_id, version, created_at,"
                              " source, restored_from_home, restored_from_version, restored_by,"
                              " doc)"
                              " SELECT ?1, ?2, ?3, 'restore', home_id, version, ?4, doc"
                              " FROM settings_versions WHERE home_id = ?5 AND version = ?6");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->home_id);
        sqlite3_bind_int64(s, 2, j->version);
        sqlite3_bind_int64(s, 3, j->now);
        sqlite3_bind_int64(s, 4, j->member_id);
        sqlite3_bind_int64(s, 5, j->from_home);
        sqlite3_bind_int64(s, 6, j->from_version);
        r = sql_exec_change(s);
        if (r < 0)
                return r;
        return trim_versions(db, j->home_id, j->version);
}

int store_settings_restore(struct store *st, int64_t from_home, int64_t version,
                           int64_t to_home, int64_t member_id, int64_t now,
                           int64_t *new_version)
{
        struct put_job j = { .home_id = to_home, .now = now, .from_home = from_home,
                             .from_version = version, .member_id = member_id };
        int r;

        if (to_home <= 0 || from_home <= 0)
                return -EINVAL;
        if (version <= 0)
                return -ENOENT;
        r = store_write(st, restore_job_run, &j);
        if (r == 0 && new_version)
                *new_version = j.version;
        return r;
}

/* Columns 0..6 of the version SELECTs below. */
static void version_from_row(sqlite3_stmt *s, struct store_settings_version *v)
{
        v->home_id = sqlite3_column_int64(s, 0);
        v->version = sqlite3_column_int64(s, 1);
        v->created_at = sqlite3_column_int64(s, 2);
        sql_col_copy(s, 3, v->source, sizeof(v->source));
        v->restored_from_home = sqlite3_column_int64(s, 4);
        v->restored_from_version = sqlite3_column_int64(s, 5);
        v->restored_by = sqlite3_column_int64(s, 6);
        v->doc = NULL;
}

int store_settings_get(struct store *st, int64_t home_id, int64_t version,
                       struct store_settings_version *out)
{
        sqlite3 *db;
        sqlite3_stmt *s;
        const unsigned char *doc;
        int r;

        memset(out, 0, sizeof(*out));
        if (home_id <= 0 || version < 0)
                return -ENOENT;
        db = store_reader(st);
        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT home_id, version, created_at, source, restored_from_home,"
                              " restored_from_version, restored_by, doc FROM settings_versions"
                              " WHERE home_id = ?1 AND (?2 = 0 OR version = ?2)"
                              " ORDER BY version DESC LIMIT 1");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, home_id);
        sqlite3_bind_int64(s, 2, version);
        r = sql_step_row(s);
        if (r == 1) {
                version_from_row(s, out);
                doc = sqlite3_column_text(s, 7);
                out->doc = strdup(doc ? (const char *)doc : "{}");
                if (!out->doc)
                        r = -ENOMEM;
        }
        sqlite3_reset(s);
        return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

int store_settings_list(struct store *st, int64_t home_id, int64_t before, int limit,
                        void (*cb)(const struct store_settings_version *v, void *ud),
                        void *ud)
{
        sqlite3 *db;
        sqlite3_stmt *s;
        int n = 0, rc;

        if (limit < 1 || limit > HOMEDATA_VERSIONS_PAGE_MAX || before < 0 || !cb)
                return -EINVAL;
        db = store_reader(st);
        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT home_id, version, created_at, source, restored_from_home,"
                              " restored_from_version, restored_by FROM settings_versions"
                              " WHERE home_id = ?1 AND version < ?2"
                              " ORDER BY version DESC LIMIT ?3");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, home_id);
        sqlite3_bind_int64(s, 2, before > 0 ? before : INT64_MAX);
        sqlite3_bind_int(s, 3, limit);
        for (;;) {
                struct store_settings_version v;

                rc = sqlite3_step(s);
                if (rc != SQLITE_ROW)
                        break;
                version_from_row(s, &v);
                cb(&v, ud);
                n++;
        }
        sqlite3_reset(s);
        return rc == SQLITE_DONE ? n : store_errno(rc);
}

/* ---- history --------------------------------------------------------------- */

struct history_job {
        const struct store_history_source *src;
        struct store_history_event *ev;
        size_t n;
        int64_t now;
};

static int history_job_run(sqlite3 *db, void *arg)
{
        struct history_job *j = arg;
        sqlite3_stmt *s = store_prepare(db, "INSERT INTO history (home_id, gateway_id, model,"
                                            " firmware, kind, device, code, at, detail,"
                                            " received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        int r;

        if (!s)
                return -EIO;
        for (size_t i = 0; i < j->n; i++) {
                struct store_history_event *e = &j->ev[i];

                sqlite3_bind_int64(s, 1, j->src->home_id);
                sqlite3_bind_int64(s, 2, j->src->gateway_id);
                sql_bind_text(s, 3, j->src->model);
                sql_bind_text(s, 4, j->src->firmware);
                sql_bind_text(s, 5, e->kind);
                sql_bind_text(s, 6, e->device);
                sql_bind_text(s, 7, e->code);
                sqlite3_bind_int64(s, 8, e->at);
                sql_bind_text(s, 9, e->detail);
                sqlite3_bind_int64(s, 10, j->now);
                r = sql_exec_reset(s);
                if (r < 0)
                        return r;
                e->id = sqlite3_last_insert_rowid(db);
                e->received_at = j->now;
        }
        return 0;
}

int store_history_add(struct store *st, const struct store_history_source *src,
                      struct store_history_event *ev, size_t n, int64_t now)
{
        struct history_job j = { src, ev, n, now };

        if (!src || src->home_id <= 0 || src->gateway_id <= 0 || !src->model || !ev || n == 0 ||
            n > HOMEDATA_EVENTS_MAX)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (!kind_ok(ev[i].kind) || !ev[i].device[0] || !ev[i].code[0])
                        return -EINVAL;
        return store_write(st, history_job_run, &j);
}

/* The time of event after_id of the home (the cursor). */
static int cursor_at(sqlite3 *db, int64_t home_id, int64_t after_id, int64_t *at)
{
        sqlite3_stmt *s = store_prepare(db, "SELECT at FROM history WHERE id = ? AND home_id = ?");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, after_id);
        sqlite3_bind_int64(s, 2, home_id);
        r = sql_step_row(s);
        if (r == 1)
                *at = sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
        return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

/* Two statements, so that a kind filter is an equality the index
 * (home_id, kind, at) can use; device and code are checked on the rows. */
static const char history_sql_any[] =
        "SELECT id, at, kind, device, code, detail, received_at FROM history"
        " WHERE home_id = ?1 AND at >= ?2 AND at < ?3"
        " AND (at > ?4 OR (at = ?4 AND id > ?5))"
        " AND (?6 = '' OR device = ?6) AND (?7 = '' OR code = ?7)"
        " ORDER BY at, id LIMIT ?8";
static const char history_sql_kind[] =
        "SELECT id, at, kind, device, code, detail, received_at FROM history"
        " WHERE home_id = ?1 AND kind = ?9 AND at >= ?2 AND at < ?3"
        " AND (at > ?4 OR (at = ?4 AND id > ?5))"
        " AND (?6 = '' OR device = ?6) AND (?7 = '' OR code = ?7)"
        " ORDER BY at, id LIMIT ?8";

int store_history_list(struct store *st, int64_t home_id, const struct store_history_filter *f,
                       void (*cb)(const struct store_history_event *e, void *ud), void *ud)
{
        int64_t after_at = INT64_MIN;
        sqlite3 *db;
        sqlite3_stmt *s;
        int n = 0, rc, r;

        if (!f || f->limit < 1 || f->limit > HOMEDATA_HISTORY_PAGE_MAX || f->after_id < 0 ||
            !cb || (f->kind && !kind_ok(f->kind)))
                return -EINVAL;
        db = store_reader(st);
        if (!db)
                return -EIO;
        if (f->after_id > 0) {
                r = cursor_at(db, home_id, f->after_id, &after_at);
                if (r < 0)
                        return r;
        }
        s = store_prepare(db, f->kind ? history_sql_kind : history_sql_any);
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, home_id);
        sqlite3_bind_int64(s, 2, f->from);
        sqlite3_bind_int64(s, 3, f->to);
        sqlite3_bind_int64(s, 4, after_at);
        sqlite3_bind_int64(s, 5, f->after_id);
        sql_bind_text(s, 6, f->device);
        sql_bind_text(s, 7, f->code);
        sqlite3_bind_int(s, 8, f->limit);
        if (f->kind)
                sql_bind_text(s, 9, f->kind);
        for (;;) {
                struct store_history_event e;

                rc = sqlite3_step(s);
                if (rc != SQLITE_ROW)
                        break;
                e.id = sqlite3_column_int64(s, 0);
                e.at = sqlite3_column_int64(s, 1);
                sql_col_copy(s, 2, e.kind, sizeof(e.kind));
                sql_col_copy(s, 3, e.device, sizeof(e.device));
                sql_col_copy(s, 4, e.code, sizeof(e.code));
                sql_col_copy(s, 5, e.detail, sizeof(e.detail));
                e.received_at = sqlite3_column_int64(s, 6);
                cb(&e, ud);
                n++;
        }
        sqlite3_reset(s);
        return rc == SQLITE_DONE ? n : store_errno(rc);
}

/* ---- error statistics -------------------------------------------------------- */

/* With a model the partial index is entered at that model; without, it is
 * read whole. kind = 'error' is written out so the planner can use it. */
static const char errstats_sql_any[] =
        "SELECT model, firmware, code, count(*), count(DISTINCT gateway_id), min(at), max(at)"
        " FROM history WHERE kind = 'error' AND at >= ?3 AND at < ?4"
        " AND (?2 = '' OR firmware = ?2)"
        " GROUP BY model, firmware, code"
        " ORDER BY 4 DESC, model, firmware, code LIMIT ?5";
static const char errstats_sql_model[] =
        "SELECT model, firmware, code, count(*), count(DISTINCT gateway_id), min(at), max(at)"
        " FROM history WHERE kind = 'error' AND model = ?1 AND at >= ?3 AND at < ?4"
        " AND (?2 = '' OR firmware = ?2)"
        " GROUP BY model, firmware, code"
        " ORDER BY 4 DESC, model, firmware, code LIMIT ?5";

int store_error_stats(struct store *st, const struct store_error_filter *f,
                      void (*cb)(const struct store_error_stat *s, void *ud), void *ud)
{
        bool by_model = f && f->model && *f->model;
        sqlite3 *db;
        sqlite3_stmt *s;
        int n = 0, rc;

        if (!f || f->limit < 1 || f->limit > HOMEDATA_ERRSTATS_MAX + 1 || !cb)
                return -EINVAL;
        db = store_reader(st);
        if (!db)
                return -EIO;
        s = store_prepare(db, by_model ? errstats_sql_model : errstats_sql_any);
        if (!s)
                return -EIO;
        if (by_model)
                sql_bind_text(s, 1, f->model);
        sql_bind_text(s, 2, f->firmware);
        sqlite3_bind_int64(s, 3, f->from);
        sqlite3_bind_int64(s, 4, f->to);
        sqlite3_bind_int(s, 5, f->limit);
        for (;;) {
                struct store_error_stat e;

                rc = sqlite3_step(s);
                if (rc != SQLITE_ROW)
                        break;
                sql_col_copy(s, 0, e.model, sizeof(e.model));
                sql_col_copy(s, 1, e.firmware, sizeof(e.firmware));
                sql_col_copy(s, 2, e.code, sizeof(e.code));
                e.count = sqlite3_column_int64(s, 3);
                e.gateways = sqlite3_column_int64(s, 4);
                e.first_at = sqlite3_column_int64(s, 5);
                e.last_at = sqlite3_column_int64(s, 6);
                cb(&e, ud);
                n++;
        }
        sqlite3_reset(s);
        return rc == SQLITE_DONE ? n : store_errno(rc);
}

/* ---- purge ---------------------------------------------------------------------- */

int store_homedata_delete(sqlite3 *db, int64_t home_id)
{
        sqlite3_stmt *s = store_prepare(db, "DELETE FROM settings_versions WHERE home_id = ?");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, home_id);
        r = sql_exec_reset(s);
        if (r < 0)
                return r;
        s = store_prepare(db, "DELETE FROM history WHERE home_id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, home_id);
        return sql_exec_reset(s);
}
