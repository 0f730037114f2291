/*
 * store_content.c - SQL for electronic manuals (HE-12) and information
 * distribution (HE-15): the manual files, distributors and their hashed
 * keys, distributed contents, one delivery row per recipient, and the
 * members' opt-out. See the header for the contract of each call.
 *
 * A manual's file is the last column of its row, so the lists (which never
 * select it) do not read its overflow pages. Lists of models and
 * prefectures travel as JSON array texts bound to one parameter and are
 * opened with json_each(): still one bound value, never SQL text.
 */
#include "store/store_content.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "store/sql.h"
#include "store/store_member.h"

const char store_m017_sql[] =
        "CREATE TABLE manuals (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  model TEXT NOT NULL,\n"
        "  title TEXT NOT NULL,\n"
        "  language TEXT NOT NULL,\n"
        "  content_type TEXT NOT NULL CHECK (content_type IN ('application/pdf','text/html')),\n"
        "  size INTEGER NOT NULL,\n"
        "  sha256 TEXT NOT NULL,                -- hex, of the file\n"
        "  created_by INTEGER NOT NULL,\n"
        "  created_at INTEGER NOT NULL,\n"
        "  file BLOB NOT NULL                   -- last: lists do not read it\n"
        ");\n"
        "CREATE INDEX manuals_model ON manuals(model, language, id);\n"
        "CREATE TABLE distributors (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  name TEXT NOT NULL,\n"
        "  key_hash BLOB NOT NULL UNIQUE,       -- BLAKE2b-256 of the API key\n"
        "  key_tail TEXT NOT NULL,\n"
        "  contract TEXT NOT NULL,              -- JSON: kinds, models, prefectures\n"
        "  expires_at INTEGER NOT NULL,\n"
        "  revoked_at INTEGER NOT NULL DEFAULT 0,\n"
        "  created_by INTEGER NOT NULL,\n"
        "  created_at INTEGER NOT NULL\n"
        ");\n"
        "CREATE TABLE distribution_contents (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  distributor_id INTEGER NOT NULL REFERENCES distributors(id),\n"
        "  title TEXT NOT NULL,\n"
        "  body TEXT NOT NULL,\n"
        "  link TEXT NOT NULL DEFAULT '',\n"
        "  target TEXT NOT NULL,                -- JSON, as sent\n"
        "  recipients INTEGER NOT NULL,\n"
        "  created_at INTEGER NOT NULL\n"
        ");\n"
        "CREATE INDEX distribution_contents_distributor ON "
        "distribution_contents(distributor_id, id);\n"
        "CREATE TABLE deliveries (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  content_id INTEGER NOT NULL REFERENCES distribution_contents(id),\n"
        "  gateway_id INTEGER NOT NULL DEFAULT 0,   -- a gateway recipient ...\n"
        "  home_id INTEGER NOT NULL DEFAULT 0,      -- ... and the home it served\n"
        "  member_id INTEGER NOT NULL DEFAULT 0,    -- or a member recipient\n"
        "  delivered_at INTEGER NOT NULL\n"
        ");\n"
        "CREATE INDEX deliveries_content ON deliveries(content_id, id);\n"
        "CREATE INDEX deliveries_gateway ON deliveries(gateway_id, home_id, id) "
        "WHERE gateway_id <> 0;\n"
        "CREATE INDEX deliveries_member ON deliveries(member_id, id) WHERE member_id <> 0;\n"
        "CREATE TABLE distribution_prefs (\n"
        "  member_id INTEGER PRIMARY KEY REFERENCES members(id),\n"
        "  receive INTEGER NOT NULL,            -- 0: opted out of distributed content\n"
        "  changed_at INTEGER NOT NULL\n"
        ");\n";

/* ---- helpers -------------------------------------------------------------- */


/* NULL text binds as NULL (no narrowing), unlike sql_bind_text. */
static int bind_opt_text(sqlite3_stmt *s, int i, const char *v)
{
        if (!v)
                return sqlite3_bind_null(s, i);
        return sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

static const char *col_text(sqlite3_stmt *s, int i)
{
        const unsigned char *t = sqlite3_column_text(s, i);

        return t ? (const char *)t : "";
}

/* ---- manuals ---------------------------------------------------------------- */

#define MANUAL_COLS "id, model, title, language, content_type, size, sha256, created_by, " \
        "created_at"

static void manual_row(sqlite3_stmt *s, struct store_manual *m)
{
        memset(m, 0, sizeof(*m));
        m->id = sqlite3_column_int64(s, 0);
        sql_col_copy(s, 1, m->model, sizeof(m->model));
        sql_col_copy(s, 2, m->title, sizeof(m->title));
        sql_col_copy(s, 3, m->language, sizeof(m->language));
        sql_col_copy(s, 4, m->content_type, sizeof(m->content_type));
        m->size = sqlite3_column_int64(s, 5);
        sql_col_copy(s, 6, m->sha256, sizeof(m->sha256));
        m->created_by = sqlite3_column_int64(s, 7);
        m->created_at = sqlite3_column_int64(s, 8);
}

static int manual_load(sqlite3 *db, int64_t id, struct store_manual *out)
{
        sqlite3_stmt *s = store_prepare(db, "SELECT " MANUAL_COLS " FROM manuals WHERE id = ?");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, id);
        r = sql_step_row(s);
        if (r == 1)
                manual_row(s, out);
        sqlite3_reset(s);
        if (r < 0)
                return r;
        return r == 1 ? 0 : -ENOENT;
}

struct manual_job {
        const struct store_manual *m;
        const void *data;
        size_t len;
        const char *sha;
        int64_t now;
        struct store_manual *out;
};

/* The id of the same file for the same model and language: >0, 0 none, <0. */
static int64_t manual_same(sqlite3 *db, const struct manual_job *j)
{
        sqlite3_stmt *s = store_prepare(db, "SELECT id FROM manuals WHERE model = ? AND "
                                        "language = ? AND sha256 = ? ORDER BY id LIMIT 1");
        int64_t id = 0;
        int r;

        if (!s)
                return -EIO;
        sql_bind_text(s, 1, j->m->model);
        sql_bind_text(s, 2, j->m->language);
        sql_bind_text(s, 3, j->sha);
        r = sql_step_row(s);
        if (r == 1)
                id = sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
        return r < 0 ? r : id;
}

static int manual_job_run(sqlite3 *db, void *arg)
{
        struct manual_job *j = arg;
        sqlite3_stmt *s;
        int64_t same = manual_same(db, j);
        int r;

        if (same < 0)
                return (int)same;
        if (same > 0) {
                r = manual_load(db, same, j->out);
                return r < 0 ? r : 1;
        }
        s = store_prepare(db, "INSERT INTO manuals (model, title, language, content_type, "
                          "size, sha256, created_by, created_at, file) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
        if (!s)
                return -EIO;
        sql_bind_text(s, 1, j->m->model);
        sql_bind_text(s, 2, j->m->title);
        sql_bind_text(s, 3, j->m->language);
        sql_bind_text(s, 4, j->m->content_type);
        sqlite3_bind_int64(s, 5, (int64_t)j->len);
        sql_bind_text(s, 6, j->sha);
        sqlite3_bind_int64(s, 7, j->m->created_by);
        sqlite3_bind_int64(s, 8, j->now);
        sqlite3_bind_blob64(s, 9, j->data, j->len, SQLITE_STATIC);
        r = sql_exec_reset(s);
        sqlite3_clear_bindings(s);      /* the file is the caller's: do not keep it bound */
        if (r < 0)
                return r;
        return manual_load(db, sqlite3_last_insert_rowid(db), j->out);
}

int store_manual_add(struct store *st, const struct store_manual *m, const void *data,
                     size_t len, int64_t now, struct store_manual *out)
{
        unsigned char digest[crypto_hash_sha256_BYTES];
        char sha[CONTENT_SHA256_HEX];
        struct manual_job j = { m, data, len, sha, now, out };
        int r;

        if (!data || len == 0)
                return -EINVAL;
        crypto_hash_sha256(digest, data, len);
        sodium_bin2hex(sha, sizeof(sha), digest, sizeof(digest));
        r = store_write(st, manual_job_run, &j);
        return r;       /* 1: the same file, nothing written, *out filled */
}

int store_manual_get(struct store *st, int64_t id, struct store_manual *out)
{
        sqlite3 *db = store_reader(st);

        if (!db)
                return -EIO;
        return manual_load(db, id, out);
}

int store_manual_file(struct store *st, int64_t id,
                      int (*cb)(const void *data, size_t len, void *ud), void *ud)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r;

        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT file FROM manuals WHERE id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, id);
        r = sql_step_row(s);
        if (r == 1)
                r = cb(sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0), ud);
        else if (r == 0)
                r = -ENOENT;
        sqlite3_reset(s);
        return r;
}

static int manual_delete_run(sqlite3 *db, void *arg)
{
        const int64_t *id = arg;
        sqlite3_stmt *s = store_prepare(db, "DELETE FROM manuals WHERE id = ?");

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, *id);
        return sql_exec_change(s);
}

int store_manual_delete(struct store *st, int64_t id)
{
        return store_write(st, manual_delete_run, &id);
}

/* Steps s, calling cb with each manual row; returns the count or <0. */
static int manual_rows(sqlite3_stmt *s, int max,
                       void (*cb)(const struct store_manual *m, void *ud), void *ud)
{
        struct store_manual m;
        int n = 0, r = 0;

        while (n < max) {
                r = sql_step_row(s);
                if (r <= 0)
                        break;
                manual_row(s, &m);
                cb(&m, ud);
                n++;
        }
        sqlite3_reset(s);
        return r < 0 ? r : n;
}

int store_manual_list(struct store *st, const char *model, int64_t after, int limit,
                      void (*cb)(const struct store_manual *m, void *ud), void *ud)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;

        if (limit < 1 || limit > CONTENT_PAGE_MAX)
                return -EINVAL;
        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT " MANUAL_COLS " FROM manuals WHERE id > ?1 "
                          "AND (?2 = '' OR model = ?2) ORDER BY id LIMIT ?3");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, after);
        sql_bind_text(s, 2, model);
        sqlite3_bind_int(s, 3, limit);
        return manual_rows(s, limit, cb, ud);
}

int store_manuals_of_models(struct store *st, const char *const *models, size_t n, int max,
                            void (*cb)(const struct store_manual *m, void *ud), void *ud)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int total = 0, r;

        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT " MANUAL_COLS " FROM manuals WHERE model = ? "
                          "ORDER BY language, id LIMIT ?");
        if (!s)
                return -EIO;
        for (size_t i = 0; i < n && total < max; i++) {
                sql_bind_text(s, 1, models[i]);
                sqlite3_bind_int(s, 2, max - total);
                r = manual_rows(s, max - total, cb, ud);
                if (r < 0)
                        return r;
                total += r;
        }
        return total;
}

/* ---- distributors ------------------------------------------------------------ */

#define DIST_COLS "id, name, key_tail, contract, expires_at, revoked_at, created_by, created_at"

/* Fills d; its contract points into the row (valid until the next step). */
static void distributor_row(sqlite3_stmt *s, struct store_distributor *d)
{
        memset(d, 0, sizeof(*d));
        d->id = sqlite3_column_int64(s, 0);
        sql_col_copy(s, 1, d->name, sizeof(d->name));
        sql_col_copy(s, 2, d->key_tail, sizeof(d->key_tail));
        d->contract = (char *)col_text(s, 3);
        d->expires_at = sqlite3_column_int64(s, 4);
        d->revoked_at = sqlite3_column_int64(s, 5);
        d->created_by = sqlite3_column_int64(s, 6);
        d->created_at = sqlite3_column_int64(s, 7);
}

void store_distributor_free(struct store_distributor *d)
{
        if (!d)
                return;
        free(d->contract);
        d->contract = NULL;
}

struct distributor_create_job {
        const char *name, *key_hash, *key_tail, *contract;
        int64_t expires_at, created_by, now;
        int64_t *id;
};

static int distributor_create_run(sqlite3 *db, void *arg)
{
        struct distributor_create_job *j = arg;
        sqlite3_stmt *s = store_prepare(db, "INSERT INTO distributors (name, key_hash, "
                                        "key_tail, contract, expires_at, created_by, "
                                        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
        int r;

        if (!s)
                return -EIO;
        sql_bind_text(s, 1, j->name);
        sql_bind_hash(s, 2, j->key_hash);
        sql_bind_text(s, 3, j->key_tail);
        sql_bind_text(s, 4, j->contract);
        sqlite3_bind_int64(s, 5, j->expires_at);
        sqlite3_bind_int64(s, 6, j->created_by);
        sqlite3_bind_int64(s, 7, j->now);
        r = sql_exec_reset(s);
        if (r < 0)
                return r;
        *j->id = sqlite3_last_insert_rowid(db);
        return 0;
}

int store_distributor_create(struct store *st, const char *name, const char *key_hash,
                             const char *key_tail, const char *contract, int64_t expires_at,
                             int64_t created_by, int64_t now, int64_t *id)
{
        struct distributor_create_job j = { name, key_hash, key_tail, contract, expires_at,
                                            created_by, now, id };

        return store_write(st, distributor_create_run, &j);
}

/* One distributor by id (key NULL) or by key hash; out->contract malloc'd. */
static int distributor_one(struct store *st, const char *sql, int64_t id, const char *key,
                           struct store_distributor *out)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r;

        memset(out, 0, sizeof(*out));
        if (!db)
                return -EIO;
        s = store_prepare(db, sql);
        if (!s)
                return -EIO;
        if (key)
                sql_bind_hash(s, 1, key);
        else
                sqlite3_bind_int64(s, 1, id);
        r = sql_step_row(s);
        if (r == 1) {
                distributor_row(s, out);
                out->contract = strdup(out->contract);
                if (!out->contract)
                        r = -ENOMEM;
        }
        sqlite3_reset(s);
        if (r < 0)
                return r;
        return r == 1 ? 0 : -ENOENT;
}

int store_distributor_get(struct store *st, int64_t id, struct store_distributor *out)
{
        return distributor_one(st, "SELECT " DIST_COLS " FROM distributors WHERE id = ?", id,
                               NULL, out);
}

int store_distributor_by_key(struct store *st, const char *key_hash,
                             struct store_distributor *out)
{
        return distributor_one(st, "SELECT " DIST_COLS " FROM distributors WHERE key_hash = ?",
                               0, key_hash, out);
}

int store_distributor_list(struct store *st, int64_t after, int limit,
                           void (*cb)(const struct store_distributor *d, void *ud), void *ud)
{
        sqlite3 *db = store_reader(st);
        struct store_distributor d;
        sqlite3_stmt *s;
        int n = 0, r = 0;

        if (limit < 1 || limit > CONTENT_PAGE_MAX)
                return -EINVAL;
        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT " DIST_COLS " FROM distributors WHERE id > ? "
                          "ORDER BY id LIMIT ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, after);
        sqlite3_bind_int(s, 2, limit);
        while (n < limit) {
                r = sql_step_row(s);
                if (r <= 0)
                        break;
                distributor_row(s, &d);
                cb(&d, ud);
                n++;
        }
        sqlite3_reset(s);
        return r < 0 ? r : n;
}

struct revoke_job {
        int64_t id, now;
};

static int distributor_revoke_run(sqlite3 *db, void *arg)
{
        struct revoke_job *j = arg;
        sqlite3_stmt *s = store_prepare(db, "SELECT revoked_at FROM distributors WHERE id = ?");
        int64_t revoked = 0;
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->id);
        r = sql_step_row(s);
        if (r == 1)
                revoked = sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
        if (r <= 0)
                return r < 0 ? r : -ENOENT;
        if (revoked)
                return -EALREADY;
        s = store_prepare(db, "UPDATE distributors SET revoked_at = ? WHERE id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->now);
        sqlite3_bind_int64(s, 2, j->id);
        return sql_exec_change(s);
}

int store_distributor_revoke(struct store *st, int64_t id, int64_t now)
{
        struct revoke_job j = { id, now };

        return store_write(st, distributor_revoke_run, &j);
}

/* ---- sending: recipients and deliveries ------------------------------------- */

/*
 * The recipients of a content. ?1 models (JSON array or NULL), ?2
 * prefectures (the same), ?3 the content id, ?4 now. Gateways: registered
 * (their home active), with the home they serve. Members: active members
 * of such homes, once each, who did not opt out.
 */
#define GW_RECIPIENTS \
        " FROM gateways g JOIN homes h ON h.id = g.home_id AND h.state = 'active'" \
        " WHERE (?1 IS NULL OR g.model IN (SELECT value FROM json_each(?1)))" \
        " AND (?2 IS NULL OR json_extract(h.household, '$.prefecture')" \
        "  IN (SELECT value FROM json_each(?2)))"
#define MEMBER_RECIPIENTS \
        " FROM home_members hm JOIN homes h ON h.id = hm.home_id AND h.state = 'active'" \
        " JOIN gateways g ON g.id = h.gateway_id" \
        " JOIN members mb ON mb.id = hm.member_id AND mb.status = 'active'" \
        " LEFT JOIN distribution_prefs p ON p.member_id = hm.member_id" \
        " WHERE IFNULL(p.receive, 1) = 1" \
        " AND (?1 IS NULL OR g.model IN (SELECT value FROM json_each(?1)))" \
        " AND (?2 IS NULL OR json_extract(h.household, '$.prefecture')" \
        "  IN (SELECT value FROM json_each(?2)))"

struct send_job {
        const struct store_content_new *c;
        int64_t now;
        int64_t content_id, recipients;
};

/* 0 when the distributor may send now, -EKEYREVOKED when not. */
static int send_allowed(sqlite3 *db, int64_t distributor_id, int64_t now)
{
        sqlite3_stmt *s = store_prepare(db, "SELECT 1 FROM distributors WHERE id = ? AND "
                                        "revoked_at = 0 AND expires_at > ?");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, distributor_id);
        sqlite3_bind_int64(s, 2, now);
        r = sql_step_row(s);
        sqlite3_reset(s);
        if (r < 0)
                return r;
        return r == 1 ? 0 : -EKEYREVOKED;
}

/* How many recipients, counted up to max + 1. */
static int64_t send_count(sqlite3 *db, const struct store_content_new *c)
{
        sqlite3_stmt *s = c->audience == STORE_AUDIENCE_MEMBERS ?
                store_prepare(db, "SELECT COUNT(*) FROM (SELECT DISTINCT hm.member_id"
                              MEMBER_RECIPIENTS " LIMIT ?3)") :
                store_prepare(db, "SELECT COUNT(*) FROM (SELECT g.id" GW_RECIPIENTS
                              " LIMIT ?3)");
        int64_t n = 0;
        int r;

        if (!s)
                return -EIO;
        bind_opt_text(s, 1, c->models);
        bind_opt_text(s, 2, c->prefectures);
        sqlite3_bind_int64(s, 3, c->max_recipients + 1);
        r = sql_step_row(s);
        if (r == 1)
                n = sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
        return r < 0 ? r : n;
}

static int send_content_row(sqlite3 *db, struct send_job *j)
{
        sqlite3_stmt *s = store_prepare(db, "INSERT INTO distribution_contents "
                                        "(distributor_id, title, body, link, target, "
                                        "recipients, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->c->distributor_id);
        sql_bind_text(s, 2, j->c->title);
        sql_bind_text(s, 3, j->c->body);
        sql_bind_text(s, 4, j->c->link);
        sql_bind_text(s, 5, j->c->target);
        sqlite3_bind_int64(s, 6, j->recipients);
        sqlite3_bind_int64(s, 7, j->now);
        r = sql_exec_reset(s);
        if (r < 0)
                return r;
        j->content_id = sqlite3_last_insert_rowid(db);
        return 0;
}

static int send_deliveries(sqlite3 *db, const struct send_job *j)
{
        sqlite3_stmt *s = j->c->audience == STORE_AUDIENCE_MEMBERS ?
                store_prepare(db, "INSERT INTO deliveries (content_id, member_id, "
                              "delivered_at) SELECT DISTINCT ?3, hm.member_id, ?4"
                              MEMBER_RECIPIENTS " ORDER BY hm.member_id") :
                store_prepare(db, "INSERT INTO deliveries (content_id, gateway_id, home_id, "
                              "delivered_at) SELECT ?3, g.id, h.id, ?4" GW_RECIPIENTS
                              " ORDER BY g.id");

        if (!s)
                return -EIO;
        bind_opt_text(s, 1, j->c->models);
        bind_opt_text(s, 2, j->c->prefectures);
        sqlite3_bind_int64(s, 3, j->content_id);
        sqlite3_bind_int64(s, 4, j->now);
        return sql_exec_reset(s);
}

static int send_job_run(sqlite3 *db, void *arg)
{
        struct send_job *j = arg;
        int64_t n;
        int r = send_allowed(db, j->c->distributor_id, j->now);

        if (r < 0)
                return r;
        n = send_count(db, j->c);
        if (n < 0)
                return (int)n;
        j->recipients = n;
        if (n > j->c->max_recipients)
                return -E2BIG;
        r = send_content_row(db, j);
        if (r < 0)
                return r;
        return send_deliveries(db, j);
}

int store_content_send(struct store *st, const struct store_content_new *c, int64_t now,
                       int64_t *content_id, int64_t *recipients)
{
        struct send_job j = { c, now, 0, 0 };
        int r;

        if (c->max_recipients < 0)
                return -EINVAL;
        r = store_write(st, send_job_run, &j);
        *content_id = r == 0 ? j.content_id : 0;
        *recipients = j.recipients;
        return r;
}

int store_content_list(struct store *st, int64_t distributor_id, int64_t before, int limit,
                       void (*cb)(const struct store_content *ct, void *ud), void *ud)
{
        sqlite3 *db = store_reader(st);
        struct store_content ct;
        sqlite3_stmt *s;
        int n = 0, r = 0;

        if (limit < 1 || limit > CONTENT_PAGE_MAX)
                return -EINVAL;
        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT id, distributor_id, title, body, link, target, "
                          "recipients, created_at FROM distribution_contents "
                          "WHERE distributor_id = ?1 AND (?2 = 0 OR id < ?2) "
                          "ORDER BY id DESC LIMIT ?3");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, distributor_id);
        sqlite3_bind_int64(s, 2, before);
        sqlite3_bind_int(s, 3, limit);
        while (n < limit) {
                r = sql_step_row(s);
                if (r <= 0)
                        break;
                ct.id = sqlite3_column_int64(s, 0);
                ct.distributor_id = sqlite3_column_int64(s, 1);
                ct.title = col_text(s, 2);
                ct.body = col_text(s, 3);
                ct.link = col_text(s, 4);
                ct.target = col_text(s, 5);
                ct.recipients = sqlite3_column_int64(s, 6);
                ct.created_at = sqlite3_column_int64(s, 7);
                cb(&ct, ud);
                n++;
        }
        sqlite3_reset(s);
        return r < 0 ? r : n;
}

/* ---- reading deliveries --------------------------------------------------------- */

#define DELIVERY_COLS "d.id, d.content_id, c.distributor_id, r.name, c.title, c.body, " \
        "c.link, d.gateway_id, d.home_id, d.member_id, d.delivered_at"
#define DELIVERY_FROM " FROM deliveries d JOIN distribution_contents c ON c.id = d.content_id" \
        " JOIN distributors r ON r.id = c.distributor_id"

static int delivery_rows(sqlite3_stmt *s, int limit,
                         void (*cb)(const struct store_delivery *d, void *ud), void *ud)
{
        struct store_delivery d;
        int n = 0, r = 0;

        while (n < limit) {
                r = sql_step_row(s);
                if (r <= 0)
                        break;
                d.id = sqlite3_column_int64(s, 0);
                d.content_id = sqlite3_column_int64(s, 1);
                d.distributor_id = sqlite3_column_int64(s, 2);
                d.distributor_name = col_text(s, 3);
                d.title = col_text(s, 4);
                d.body = col_text(s, 5);
                d.link = col_text(s, 6);
                d.gateway_id = sqlite3_column_int64(s, 7);
                d.home_id = sqlite3_column_int64(s, 8);
                d.member_id = sqlite3_column_int64(s, 9);
                d.delivered_at = sqlite3_column_int64(s, 10);
                cb(&d, ud);
                n++;
        }
        sqlite3_reset(s);
        return r < 0 ? r : n;
}

int store_deliveries_of_gateway(struct store *st, int64_t gateway_id, int64_t home_id,
                                int64_t after, int limit,
                                void (*cb)(const struct store_delivery *d, void *ud), void *ud)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;

        if (limit < 1 || limit > CONTENT_PAGE_MAX)
                return -EINVAL;
        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT " DELIVERY_COLS DELIVERY_FROM " WHERE d.gateway_id = ? "
                          "AND d.home_id = ? AND d.id > ? AND d.gateway_id <> 0 "
                          "ORDER BY d.id LIMIT ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, gateway_id);
        sqlite3_bind_int64(s, 2, home_id);
        sqlite3_bind_int64(s, 3, after);
        sqlite3_bind_int(s, 4, limit);
        return delivery_rows(s, limit, cb, ud);
}

int store_deliveries_of_member(struct store *st, int64_t member_id, int64_t before, int limit,
                               void (*cb)(const struct store_delivery *d, void *ud), void *ud)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;

        if (limit < 1 || limit > CONTENT_PAGE_MAX)
                return -EINVAL;
        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT " DELIVERY_COLS DELIVERY_FROM " WHERE d.member_id = ?1 "
                          "AND d.member_id <> 0 AND (?2 = 0 OR d.id < ?2) "
                          "ORDER BY d.id DESC LIMIT ?3");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, member_id);
        sqlite3_bind_int64(s, 2, before);
        sqlite3_bind_int(s, 3, limit);
        return delivery_rows(s, limit, cb, ud);
}

int store_deliveries_list(struct store *st, const struct store_delivery_filter *f,
                          void (*cb)(const struct store_delivery *d, void *ud), void *ud)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;

        if (f->limit < 1 || f->limit > CONTENT_PAGE_MAX)
                return -EINVAL;
        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT " DELIVERY_COLS DELIVERY_FROM " WHERE d.id > ?1 "
                          "AND (?2 = 0 OR d.content_id = ?2) "
                          "AND (?3 = 0 OR c.distributor_id = ?3) ORDER BY d.id LIMIT ?4");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, f->after);
        sqlite3_bind_int64(s, 2, f->content_id);
        sqlite3_bind_int64(s, 3, f->distributor_id);
        sqlite3_bind_int(s, 4, f->limit);
        return delivery_rows(s, f->limit, cb, ud);
}

/* ---- a member's choice ------------------------------------------------------------ */

int store_distribution_pref_get(struct store *st, int64_t member_id, bool *receive,
                                int64_t *changed_at)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r;

        *receive = true;
        *changed_at = 0;
        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT receive, changed_at FROM distribution_prefs "
                          "WHERE member_id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, member_id);
        r = sql_step_row(s);
        if (r == 1) {
                *receive = sqlite3_column_int(s, 0) != 0;
                *changed_at = sqlite3_column_int64(s, 1);
        }
        sqlite3_reset(s);
        return r < 0 ? r : 0;
}

struct pref_job {
        int64_t member_id;
        bool receive;
        const struct store_actor *actor;
        int64_t now;
};

static int pref_job_run(sqlite3 *db, void *arg)
{
        struct pref_job *j = arg;
        sqlite3_stmt *s = store_prepare(db, "INSERT INTO distribution_prefs (member_id, "
                                        "receive, changed_at) VALUES (?1, ?2, ?3) "
                                        "ON CONFLICT (member_id) DO UPDATE SET "
                                        "receive = ?2, changed_at = ?3");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->member_id);
        sqlite3_bind_int(s, 2, j->receive ? 1 : 0);
        sqlite3_bind_int64(s, 3, j->now);
        r = sql_exec_reset(s);
        if (r < 0)
                return r;
        return store_audit_write(db, j->actor, j->member_id,
                                 j->receive ? "distribution.opt_in" : "distribution.opt_out",
                                 "distribution_consent", j->now);
}

int store_distribution_pref_set(struct store *st, int64_t member_id, bool receive,
                                const struct store_actor *actor, int64_t now)
{
        struct pref_job j = { member_id, receive, actor, now };

        return store_write(st, pref_job_run, &j);
}
