/*
 * store_document.c - SQL for versioned terms/privacy documents and the
 * members' consents to them (CS-38, PD-1).
 */
#include "store/store_document.h"

#include <stdlib.h>
#include <string.h>

#include "store/sql.h"

#define DOC_COLS "d.id, d.kind, d.version, d.title, d.url, d.requires_consent, d.published_at"

static void doc_from_row(sqlite3_stmt *s, struct store_document *d)
{
        d->id = sqlite3_column_int64(s, 0);
        sql_col_copy(s, 1, d->kind, sizeof(d->kind));
        sql_col_copy(s, 2, d->version, sizeof(d->version));
        sql_col_copy(s, 3, d->title, sizeof(d->title));
        sql_col_copy(s, 4, d->url, sizeof(d->url));
        d->requires_consent = sqlite3_column_int(s, 5) != 0;
        d->published_at = sqlite3_column_int64(s, 6);
}

/* Runs a prepared document query and collects up to max rows. */
static int collect(sqlite3_stmt *s, struct store_document *out, int max)
{
        int n = 0, rc = SQLITE_DONE;

        while (n < max) {
                rc = sqlite3_step(s);
                if (rc != SQLITE_ROW)
                        break;
                doc_from_row(s, &out[n++]);
        }
        sqlite3_reset(s);
        return rc == SQLITE_ROW || rc == SQLITE_DONE ? n : store_errno(rc);
}

int store_document_current(struct store *st, struct store_document *out, int max)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;

        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT " DOC_COLS " FROM documents d"
                              " WHERE d.id = (SELECT MAX(id) FROM documents x"
                              "               WHERE x.kind = d.kind)"
                              " ORDER BY d.kind DESC");
        if (!s)
                return -EIO;
        return collect(s, out, max);
}

int store_document_get(struct store *st, int64_t id, struct store_document *out, char **body)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r;

        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT " DOC_COLS ", d.body FROM documents d WHERE d.id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, id);
        r = sql_step_row(s);
        if (r == 1) {
                doc_from_row(s, out);
                if (body) {
                        const unsigned char *t = sqlite3_column_text(s, 7);

                        *body = strdup(t ? (const char *)t : "");
                        if (!*body)
                                r = -ENOMEM;
                }
        }
        sqlite3_reset(s);
        return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

int store_document_find(struct store *st, const char *kind, const char *version,
                        struct store_document *out)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r;

        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT " DOC_COLS " FROM documents d"
                              " WHERE d.kind = ? AND d.version = ?");
        if (!s)
                return -EIO;
        sql_bind_text(s, 1, kind);
        sql_bind_text(s, 2, version);
        r = sql_step_row(s);
        if (r == 1)
                doc_from_row(s, out);
        sqlite3_reset(s);
        return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

int store_document_list(struct store *st, void (*cb)(const struct store_document *d, void *ud),
                        void *ud)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int n = 0, rc;

        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT " DOC_COLS " FROM documents d ORDER BY d.id DESC");
        if (!s)
                return -EIO;
        for (;;) {
                struct store_document d;

                rc = sqlite3_step(s);
                if (rc != SQLITE_ROW)
                        break;
                doc_from_row(s, &d);
                cb(&d, ud);
                n++;
        }
        sqlite3_reset(s);
        return rc == SQLITE_DONE ? n : store_errno(rc);
}

struct publish_job {
        const struct store_document *d;
        const char *body;
        int64_t operator_id, now, id;
};

static int publish_job_run(sqlite3 *db, void *arg)
{
        struct publish_job *j = arg;
        sqlite3_stmt *s = store_prepare(db,
                "INSERT INTO documents (kind, version, title, url, body, requires_consent,"
                " published_at, published_by) VALUES (?,?,?,?,?,?,?,?)");
        int r;

        if (!s)
                return -EIO;
        sql_bind_text(s, 1, j->d->kind);
        sql_bind_text(s, 2, j->d->version);
        sql_bind_text(s, 3, j->d->title);
        sql_bind_text(s, 4, j->d->url);
        sql_bind_text(s, 5, j->body);
        sqlite3_bind_int(s, 6, j->d->requires_consent ? 1 : 0);
        sqlite3_bind_int64(s, 7, j->now);
        sqlite3_bind_int64(s, 8, j->operator_id);
        r = sql_exec_reset(s);
        if (r == 0)
                j->id = sqlite3_last_insert_rowid(db);
        return r;
}

int store_document_publish(struct store *st, const struct store_document *d, const char *body,
                           int64_t operator_id, int64_t now, int64_t *id_out)
{
        struct publish_job j = { d, body, operator_id, now, 0 };
        int r = store_write(st, publish_job_run, &j);

        if (r == 0 && id_out)
                *id_out = j.id;
        return r;
}

int store_consent_missing(struct store *st, int64_t member_id, struct store_document *out,
                          int max)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;

        if (!db)
                return -EIO;
        /* The newest consent-requiring version of each kind, not yet accepted. */
        s = store_prepare(db, "SELECT " DOC_COLS " FROM documents d"
                              " WHERE d.id = (SELECT MAX(id) FROM documents x"
                              "               WHERE x.kind = d.kind AND x.requires_consent = 1)"
                              "   AND NOT EXISTS (SELECT 1 FROM consents c"
                              "                   WHERE c.member_id = ? AND c.document_id = d.id)"
                              " ORDER BY d.kind DESC");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, member_id);
        return collect(s, out, max);
}

struct accept_job {
        int64_t member_id;
        const int64_t *ids;
        size_t n;
        const char *ip;
        int64_t now;
};

int store_consent_insert_db(sqlite3 *db, int64_t member_id, const int64_t *document_ids,
                            size_t n, const char *client_ip, int64_t now)
{
        for (size_t i = 0; i < n; i++) {
                sqlite3_stmt *s = store_prepare(db,
                        "INSERT OR IGNORE INTO consents (member_id, document_id, accepted_at,"
                        " client_ip) VALUES (?,?,?,?)");
                int r;

                if (!s)
                        return -EIO;
                sqlite3_bind_int64(s, 1, member_id);
                sqlite3_bind_int64(s, 2, document_ids[i]);
                sqlite3_bind_int64(s, 3, now);
                sql_bind_text(s, 4, client_ip);
                r = sql_exec_reset(s);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int accept_job_run(sqlite3 *db, void *arg)
{
        struct accept_job *j = arg;

        return store_consent_insert_db(db, j->member_id, j->ids, j->n, j->ip, j->now);
}

int store_consent_accept(struct store *st, int64_t member_id, const int64_t *document_ids,
                         size_t n, const char *client_ip, int64_t now)
{
        struct accept_job j = { member_id, document_ids, n, client_ip, now };

        return store_write(st, accept_job_run, &j);
}

int store_consent_list(struct store *st, int64_t member_id,
                       void (*cb)(const struct store_consent *c, void *ud), void *ud)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int n = 0, rc;

        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT " DOC_COLS ", c.accepted_at FROM consents c"
                              " JOIN documents d ON d.id = c.document_id"
                              " WHERE c.member_id = ? ORDER BY c.id");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, member_id);
        for (;;) {
                struct store_consent c;

                rc = sqlite3_step(s);
                if (rc != SQLITE_ROW)
                        break;
                doc_from_row(s, &c.doc);
                c.accepted_at = sqlite3_column_int64(s, 7);
                cb(&c, ud);
                n++;
        }
        sqlite3_reset(s);
        return rc == SQLITE_DONE ? n : store_errno(rc);
}
