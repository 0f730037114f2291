/*
 * store_gateway.c - SQL for gateways, homes, home members, pairing codes,
 * invitations and household information (HE-1 to HE-4, HE-10). See the
 * header for the contract of each call.
 *
 * A gateway row is the device as provisioned; a home row is one
 * registration of it (HE-2) and owns everything collected during it
 * (series, chunks, rollups, settings, history, household). The active home
 * of a gateway is gateways.home_id with homes.state = 'active'; ending it
 * (HE-4) keeps the row (state 'ended') so the former residents can export
 * until keep_until, after which store_home_purge_due() deletes the data and
 * marks the home 'purged'.
 */
#include "store/store_gateway.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sql.h"
#include "store/store_member.h"
#include "store/store_homedata.h"
#include "store/store_ts.h"

const char store_m010_sql[] =
        "CREATE TABLE gateways (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  code_hash BLOB NOT NULL UNIQUE,      -- BLAKE2b-256 of the device code\n"
        "  code_tail TEXT NOT NULL,             -- last 4 characters, for the masked form\n"
        "  secret_hash BLOB NOT NULL,           -- BLAKE2b-256 of the secret\n"
        "  model TEXT NOT NULL,\n"
        "  firmware TEXT NOT NULL DEFAULT '',\n"
        "  home_id INTEGER NOT NULL DEFAULT 0,  -- newest home, 0 none\n"
        "  created_at INTEGER NOT NULL\n"
        ");\n"
        "CREATE INDEX gateways_model ON gateways(model, id);\n"
        "CREATE TABLE homes (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  gateway_id INTEGER NOT NULL REFERENCES gateways(id),\n"
        "  state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active','ended','purged')),\n"
        "  terms_version TEXT NOT NULL,\n"
        "  started_at INTEGER NOT NULL,\n"
        "  ended_at INTEGER NOT NULL DEFAULT 0,\n"
        "  keep_until INTEGER NOT NULL DEFAULT 0,\n"
        "  pairing_hash TEXT NOT NULL DEFAULT '',\n"
        "  pairing_expires INTEGER NOT NULL DEFAULT 0,\n"
        "  household TEXT NOT NULL DEFAULT '{}',\n"
        "  household_at INTEGER NOT NULL DEFAULT 0\n"
        ");\n"
        "CREATE INDEX homes_gateway ON homes(gateway_id, id);\n"
        "CREATE INDEX homes_purge ON homes(keep_until) WHERE state = 'ended';\n"
        "CREATE TABLE home_members (\n"
        "  home_id INTEGER NOT NULL REFERENCES homes(id),\n"
        "  member_id INTEGER NOT NULL REFERENCES members(id),\n"
        "  role TEXT NOT NULL CHECK (role IN ('owner','member')),\n"
        "  joined_at INTEGER NOT NULL,\n"
        "  PRIMARY KEY (home_id, member_id)\n"
        ") WITHOUT ROWID;\n"
        "CREATE INDEX home_members_member ON home_members(member_id, home_id);\n"
        "CREATE TABLE home_invitations (\n"
        "  code_hash TEXT PRIMARY KEY,\n"
        "  home_id INTEGER NOT NULL REFERENCES homes(id),\n"
        "  invited_by INTEGER NOT NULL,\n"
        "  expires_at INTEGER NOT NULL,\n"
        "  used_by INTEGER NOT NULL DEFAULT 0,\n"
        "  created_at INTEGER NOT NULL\n"
        ");\n";

/* HE-11: the coordinates a gateway gave at registration (NULL: none). */
const char store_m013_sql[] =
        "ALTER TABLE homes ADD COLUMN latitude REAL;\n"
        "ALTER TABLE homes ADD COLUMN longitude REAL;\n";

/* ---- gateways ------------------------------------------------------------ */

/* Hashes travel as hex in C and are stored as their 32 bytes (sql.h). */
#define GW_COLS "g.id, g.code_tail, g.secret_hash, g.model, g.firmware, g.home_id, " \
        "g.created_at, IFNULL(h.state, ''), IFNULL(h.started_at, 0)"
#define GW_FROM " FROM gateways g LEFT JOIN homes h ON h.id = g.home_id"

static void gateway_row(sqlite3_stmt *s, struct store_gateway *g)
{
        const char *hs;

        memset(g, 0, sizeof(*g));
        g->id = sqlite3_column_int64(s, 0);
        sql_col_copy(s, 1, g->code_tail, sizeof(g->code_tail));
        sql_col_hash(s, 2, g->secret_hash);
        sql_col_copy(s, 3, g->model, sizeof(g->model));
        sql_col_copy(s, 4, g->firmware, sizeof(g->firmware));
        g->home_id = sqlite3_column_int64(s, 5);
        g->created_at = sqlite3_column_int64(s, 6);
        hs = (const char *)sqlite3_column_text(s, 7);
        if (!hs || !*hs)
                snprintf(g->state, sizeof(g->state), "provisioned");
        else if (strcmp(hs, "active") == 0)
                snprintf(g->state, sizeof(g->state), "registered");
        else
                snprintf(g->state, sizeof(g->state), "deregistered");
        if (hs && strcmp(hs, "active") == 0)
                g->home_started_at = sqlite3_column_int64(s, 8);
}

struct create_job {
        const struct store_gateway_new *g;
        size_t n;
        int64_t now;
        int64_t *ids;
};

static int create_job_run(sqlite3 *db, void *arg)
{
        struct create_job *j = arg;
        sqlite3_stmt *s = store_prepare(db,
                "INSERT INTO gateways (code_hash, code_tail, secret_hash, model, firmware, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?)");
        int r;

        if (!s)
                return -EIO;
        for (size_t i = 0; i < j->n; i++) {
                sql_bind_hash(s, 1, j->g[i].code_hash);
                sql_bind_text(s, 2, j->g[i].code_tail);
                sql_bind_hash(s, 3, j->g[i].secret_hash);
                sql_bind_text(s, 4, j->g[i].model);
                sql_bind_text(s, 5, j->g[i].firmware);
                sqlite3_bind_int64(s, 6, j->now);
                r = sql_exec_reset(s);
                if (r < 0)
                        return r;
                j->ids[i] = sqlite3_last_insert_rowid(db);
        }
        return 0;
}

int store_gateway_create(struct store *st, const struct store_gateway_new *g, size_t n,
                         int64_t now, int64_t *ids)
{
        struct create_job j = { g, n, now, ids };

        if (n == 0 || n > GW_BULK_MAX)
                return -EINVAL;
        return store_write(st, create_job_run, &j);
}

static int gateway_one(struct store *st, const char *sql, int64_t id, const char *text,
                       struct store_gateway *out)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r;

        if (!db)
                return -EIO;
        s = store_prepare(db, sql);
        if (!s)
                return -EIO;
        if (text)
                sql_bind_hash(s, 1, text);
        else
                sqlite3_bind_int64(s, 1, id);
        r = sql_step_row(s);
        if (r == 1)
                gateway_row(s, out);
        sqlite3_reset(s);
        if (r < 0)
                return r;
        return r == 1 ? 0 : -ENOENT;
}

int store_gateway_get(struct store *st, int64_t id, struct store_gateway *out)
{
        return gateway_one(st, "SELECT " GW_COLS GW_FROM " WHERE g.id = ?", id, NULL, out);
}

int store_gateway_by_code(struct store *st, const char *code_hash, struct store_gateway *out)
{
        return gateway_one(st, "SELECT " GW_COLS GW_FROM " WHERE g.code_hash = ?", 0,
                           code_hash, out);
}

int store_gateway_list(struct store *st, const struct store_gateway_filter *f,
                       struct store_gateway *out, int max, int *n)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r = 0;

        *n = 0;
        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT " GW_COLS GW_FROM " WHERE g.id > ?1 "
                          "AND (?2 = '' OR g.model = ?2) "
                          "AND (?3 = '' OR (?3 = 'provisioned' AND h.id IS NULL) "
                          "  OR (?3 = 'registered' AND h.state = 'active') "
                          "  OR (?3 = 'deregistered' AND h.state IN ('ended','purged'))) "
                          "ORDER BY g.id LIMIT ?4");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, f->after_id);
        sql_bind_text(s, 2, f->model);
        sql_bind_text(s, 3, f->state);
        sqlite3_bind_int(s, 4, f->limit < max ? f->limit : max);
        while (*n < max) {
                r = sql_step_row(s);
                if (r <= 0)
                        break;
                gateway_row(s, &out[(*n)++]);
        }
        sqlite3_reset(s);
        return r < 0 ? r : 0;
}

/* ---- homes ---------------------------------------------------------------- */

#define HOME_COLS "h.id, h.gateway_id, h.state, h.terms_version, h.started_at, h.ended_at, " \
        "h.keep_until, g.code_tail, g.model, g.firmware, h.latitude, h.longitude"
#define HOME_FROM " FROM homes h JOIN gateways g ON g.id = h.gateway_id"

static void home_row(sqlite3_stmt *s, struct store_home *h)
{
        memset(h, 0, sizeof(*h));
        h->id = sqlite3_column_int64(s, 0);
        h->gateway_id = sqlite3_column_int64(s, 1);
        sql_col_copy(s, 2, h->state, sizeof(h->state));
        sql_col_copy(s, 3, h->terms_version, sizeof(h->terms_version));
        h->started_at = sqlite3_column_int64(s, 4);
        h->ended_at = sqlite3_column_int64(s, 5);
        h->keep_until = sqlite3_column_int64(s, 6);
        sql_col_copy(s, 7, h->code_tail, sizeof(h->code_tail));
        sql_col_copy(s, 8, h->model, sizeof(h->model));
        sql_col_copy(s, 9, h->firmware, sizeof(h->firmware));
        h->has_coords = sqlite3_column_type(s, 10) != SQLITE_NULL &&
                        sqlite3_column_type(s, 11) != SQLITE_NULL;
        if (h->has_coords) {
                h->latitude = sqlite3_column_double(s, 10);
                h->longitude = sqlite3_column_double(s, 11);
        }
}

/* The home with id on connection db (role left empty). */
static int home_load(sqlite3 *db, int64_t id, struct store_home *out)
{
        sqlite3_stmt *s = store_prepare(db, "SELECT " HOME_COLS HOME_FROM " WHERE h.id = ?");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, id);
        r = sql_step_row(s);
        if (r == 1)
                home_row(s, out);
        sqlite3_reset(s);
        if (r < 0)
                return r;
        return r == 1 ? 0 : -ENOENT;
}

/* member_id's role in home on db: 1 found (role copied), 0 none, <0 error. */
static int member_role(sqlite3 *db, int64_t home_id, int64_t member_id, char role[8])
{
        sqlite3_stmt *s = store_prepare(db, "SELECT role FROM home_members "
                                        "WHERE home_id = ? AND member_id = ?");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, home_id);
        sqlite3_bind_int64(s, 2, member_id);
        r = sql_step_row(s);
        if (r == 1)
                sql_col_copy(s, 0, role, 8);
        sqlite3_reset(s);
        return r;
}

static int add_member(sqlite3 *db, int64_t home_id, int64_t member_id, const char *role,
                      int64_t now)
{
        sqlite3_stmt *s = store_prepare(db, "INSERT INTO home_members (home_id, member_id, "
                                        "role, joined_at) VALUES (?, ?, ?, ?)");

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, home_id);
        sqlite3_bind_int64(s, 2, member_id);
        sql_bind_text(s, 3, role);
        sqlite3_bind_int64(s, 4, now);
        return sql_exec_reset(s);
}

struct register_job {
        int64_t gateway_id;
        const char *terms, *firmware;
        int64_t now;
        struct store_home *out;
};

static int register_job_run(sqlite3 *db, void *arg)
{
        struct register_job *j = arg;
        sqlite3_stmt *s;
        int64_t home_id = 0;
        int r;

        s = store_prepare(db, "SELECT h.id FROM gateways g JOIN homes h ON h.id = g.home_id "
                          "WHERE g.id = ? AND h.state = 'active'");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->gateway_id);
        r = sql_step_row(s);
        if (r == 1)
                home_id = sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
        if (r < 0)
                return r;
        if (home_id) {
                r = home_load(db, home_id, j->out);
                return r < 0 ? r : -EALREADY;
        }
        s = store_prepare(db, "INSERT INTO homes (gateway_id, terms_version, started_at) "
                          "VALUES (?, ?, ?)");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->gateway_id);
        sql_bind_text(s, 2, j->terms);
        sqlite3_bind_int64(s, 3, j->now);
        r = sql_exec_reset(s);
        if (r < 0)
                return r;
        home_id = sqlite3_last_insert_rowid(db);
        s = store_prepare(db, "UPDATE gateways SET home_id = ?, "
                          "firmware = CASE WHEN ?2 = '' THEN firmware ELSE ?2 END WHERE id = ?3");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, home_id);
        sql_bind_text(s, 2, j->firmware);
        sqlite3_bind_int64(s, 3, j->gateway_id);
        r = sql_exec_change(s);
        if (r < 0)
                return r;
        return home_load(db, home_id, j->out);
}

int store_gateway_register(struct store *st, int64_t gateway_id, const char *terms_version,
                           const char *firmware, int64_t now, struct store_home *out)
{
        struct register_job j = { gateway_id, terms_version, firmware ? firmware : "", now,
                                  out };
        int r = store_write(st, register_job_run, &j);

        /* -EALREADY rolled the (empty) job back but *out was filled. */
        return r;
}

/* Deletes everything collected for a home (HE-4), on the writer. */
static int home_delete_data(sqlite3 *db, int64_t home_id)
{
        sqlite3_stmt *s;
        int r;

        r = store_ts_delete_home(db, home_id);
        if (r < 0)
                return r;
        r = store_homedata_delete(db, home_id);
        if (r < 0)
                return r;
        s = store_prepare(db, "UPDATE homes SET state = 'purged', household = '{}', "
                          "pairing_hash = '' WHERE id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, home_id);
        r = sql_exec_reset(s);
        if (r < 0)
                return r;
        s = store_prepare(db, "DELETE FROM home_invitations WHERE home_id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, home_id);
        return sql_exec_reset(s);
}

struct end_job {
        int64_t home_id;
        bool keep;
        int64_t keep_until, now;
        struct store_home *out;
};

static int end_job_run(sqlite3 *db, void *arg)
{
        struct end_job *j = arg;
        sqlite3_stmt *s;
        int r = home_load(db, j->home_id, j->out);

        if (r < 0)
                return r;
        if (strcmp(j->out->state, "active") != 0)
                return -ESTALE;
        s = store_prepare(db, "UPDATE homes SET state = 'ended', ended_at = ?, keep_until = ?, "
                          "pairing_hash = '' WHERE id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->now);
        sqlite3_bind_int64(s, 2, j->keep ? j->keep_until : j->now);
        sqlite3_bind_int64(s, 3, j->home_id);
        r = sql_exec_change(s);
        if (r < 0)
                return r;
        if (!j->keep) {
                r = home_delete_data(db, j->home_id);
                if (r < 0)
                        return r;
        }
        return home_load(db, j->home_id, j->out);
}

int store_home_end(struct store *st, int64_t home_id, bool keep, int64_t keep_until,
                   int64_t now, const struct store_actor *actor, struct store_home *out)
{
        struct end_job j = { home_id, keep, keep_until, now, out };
        int r = store_write(st, end_job_run, &j);

        if (r == 0 && actor)
                (void)store_audit_append(st, actor, 0, keep ? "home.ended.keep" :
                                         "home.ended.delete", "home", now);
        return r;
}

/* Purges at most this many homes per call: a purge deletes a home's whole
 * history, so the sweeper spreads a backlog over its rounds. */
#define PURGE_PER_CALL 16

struct purge_job {
        int64_t now;
        int n;
};

static int purge_job_run(sqlite3 *db, void *arg)
{
        struct purge_job *j = arg;
        int64_t ids[PURGE_PER_CALL];
        int n = 0, r = 0;
        sqlite3_stmt *s = store_prepare(db, "SELECT id FROM homes WHERE state = 'ended' "
                                        "AND keep_until <= ? ORDER BY keep_until LIMIT ?");

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->now);
        sqlite3_bind_int(s, 2, PURGE_PER_CALL);
        while (n < PURGE_PER_CALL) {
                r = sql_step_row(s);
                if (r <= 0)
                        break;
                ids[n++] = sqlite3_column_int64(s, 0);
        }
        sqlite3_reset(s);
        if (r < 0)
                return r;
        for (int i = 0; i < n; i++) {
                r = home_delete_data(db, ids[i]);
                if (r < 0)
                        return r;
        }
        j->n = n;
        return 0;
}

int store_home_purge_due(struct store *st, int64_t now, int *n)
{
        struct purge_job j = { now, 0 };
        int r = store_write(st, purge_job_run, &j);

        *n = r < 0 ? 0 : j.n;
        return r;
}

/* ---- pairing, invitations, members --------------------------------------- */

struct pairing_job {
        int64_t home_id;
        const char *hash;
        int64_t expires;
};

static int pairing_job_run(sqlite3 *db, void *arg)
{
        struct pairing_job *j = arg;
        sqlite3_stmt *s = store_prepare(db, "UPDATE homes SET pairing_hash = ?, "
                                        "pairing_expires = ? WHERE id = ? AND state = 'active'");

        if (!s)
                return -EIO;
        sql_bind_text(s, 1, j->hash);
        sqlite3_bind_int64(s, 2, j->expires);
        sqlite3_bind_int64(s, 3, j->home_id);
        return sql_exec_change(s);
}

int store_home_pairing_set(struct store *st, int64_t home_id, const char *code_hash,
                           int64_t expires_at)
{
        struct pairing_job j = { home_id, code_hash, expires_at };

        return store_write(st, pairing_job_run, &j);
}

struct link_job {
        const char *code_hash, *pairing_hash;
        int64_t member_id, now;
        struct store_home *out;
};

/* Has the home an owner? 1 yes, 0 no, <0 error. */
static int home_has_owner(sqlite3 *db, int64_t home_id)
{
        sqlite3_stmt *s = store_prepare(db, "SELECT 1 FROM home_members WHERE home_id = ? "
                                        "AND role = 'owner'");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, home_id);
        r = sql_step_row(s);
        sqlite3_reset(s);
        return r;
}

static int link_job_run(sqlite3 *db, void *arg)
{
        struct link_job *j = arg;
        sqlite3_stmt *s;
        int64_t home_id = 0, expires = 0;
        char state[16] = "", phash[CRYPTO_HASH_HEX] = "";
        int r;

        s = store_prepare(db, "SELECT h.id, h.state, h.pairing_hash, h.pairing_expires "
                          "FROM gateways g LEFT JOIN homes h ON h.id = g.home_id "
                          "WHERE g.code_hash = ?");
        if (!s)
                return -EIO;
        sql_bind_hash(s, 1, j->code_hash);
        r = sql_step_row(s);
        if (r == 1) {
                home_id = sqlite3_column_int64(s, 0);
                sql_col_copy(s, 1, state, sizeof(state));
                sql_col_copy(s, 2, phash, sizeof(phash));
                expires = sqlite3_column_int64(s, 3);
        }
        sqlite3_reset(s);
        if (r <= 0)
                return r < 0 ? r : -ENOENT;
        if (!home_id || strcmp(state, "active") != 0)
                return -ENOTCONN;
        if (!phash[0] || expires <= j->now || strcmp(phash, j->pairing_hash) != 0)
                return -ENOENT;
        r = home_load(db, home_id, j->out);
        if (r < 0)
                return r;
        r = member_role(db, home_id, j->member_id, j->out->role);
        if (r != 0)
                return r < 0 ? r : -EEXIST;
        r = home_has_owner(db, home_id);
        if (r != 0)
                return r < 0 ? r : -EPERM;
        r = add_member(db, home_id, j->member_id, "owner", j->now);
        if (r < 0)
                return r;
        snprintf(j->out->role, sizeof(j->out->role), "owner");
        /* A pairing code links once. */
        s = store_prepare(db, "UPDATE homes SET pairing_hash = '' WHERE id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, home_id);
        return sql_exec_reset(s);
}

int store_home_link(struct store *st, const char *code_hash, const char *pairing_hash,
                    int64_t member_id, int64_t now, struct store_home *out)
{
        struct link_job j = { code_hash, pairing_hash, member_id, now, out };

        return store_write(st, link_job_run, &j);
}

struct invite_job {
        int64_t home_id, owner_id;
        const char *hash;
        int64_t expires, now;
};

static int invite_job_run(sqlite3 *db, void *arg)
{
        struct invite_job *j = arg;
        sqlite3_stmt *s = store_prepare(db, "INSERT INTO home_invitations (code_hash, home_id, "
                                        "invited_by, expires_at, created_at) "
                                        "VALUES (?, ?, ?, ?, ?)");

        if (!s)
                return -EIO;
        sql_bind_text(s, 1, j->hash);
        sqlite3_bind_int64(s, 2, j->home_id);
        sqlite3_bind_int64(s, 3, j->owner_id);
        sqlite3_bind_int64(s, 4, j->expires);
        sqlite3_bind_int64(s, 5, j->now);
        return sql_exec_reset(s);
}

int store_home_invite(struct store *st, int64_t home_id, int64_t owner_id,
                      const char *code_hash, int64_t expires_at, int64_t now)
{
        struct invite_job j = { home_id, owner_id, code_hash, expires_at, now };

        return store_write(st, invite_job_run, &j);
}

struct join_job {
        const char *hash;
        int64_t member_id, now;
        struct store_home *out;
};

static int join_job_run(sqlite3 *db, void *arg)
{
        struct join_job *j = arg;
        sqlite3_stmt *s = store_prepare(db, "SELECT i.home_id FROM home_invitations i "
                                        "JOIN homes h ON h.id = i.home_id "
                                        "WHERE i.code_hash = ? AND i.used_by = 0 "
                                        "AND i.expires_at > ? AND h.state = 'active'");
        int64_t home_id = 0;
        int r;

        if (!s)
                return -EIO;
        sql_bind_text(s, 1, j->hash);
        sqlite3_bind_int64(s, 2, j->now);
        r = sql_step_row(s);
        if (r == 1)
                home_id = sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
        if (r <= 0)
                return r < 0 ? r : -ENOENT;
        r = home_load(db, home_id, j->out);
        if (r < 0)
                return r;
        r = member_role(db, home_id, j->member_id, j->out->role);
        if (r != 0)
                return r < 0 ? r : -EEXIST;
        r = add_member(db, home_id, j->member_id, "member", j->now);
        if (r < 0)
                return r;
        snprintf(j->out->role, sizeof(j->out->role), "member");
        s = store_prepare(db, "UPDATE home_invitations SET used_by = ? WHERE code_hash = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->member_id);
        sql_bind_text(s, 2, j->hash);
        return sql_exec_reset(s);
}

int store_home_join(struct store *st, const char *code_hash, int64_t member_id, int64_t now,
                    struct store_home *out)
{
        struct join_job j = { code_hash, member_id, now, out };

        return store_write(st, join_job_run, &j);
}

struct remove_job {
        int64_t home_id, member_id;
};

static int remove_job_run(sqlite3 *db, void *arg)
{
        struct remove_job *j = arg;
        char role[8] = "";
        sqlite3_stmt *s;
        int r = member_role(db, j->home_id, j->member_id, role);

        if (r <= 0)
                return r < 0 ? r : -ENOENT;
        if (strcmp(role, "owner") == 0)
                return -EPERM;
        s = store_prepare(db, "DELETE FROM home_members WHERE home_id = ? AND member_id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->home_id);
        sqlite3_bind_int64(s, 2, j->member_id);
        return sql_exec_change(s);
}

int store_home_member_remove(struct store *st, int64_t home_id, int64_t member_id)
{
        struct remove_job j = { home_id, member_id };

        return store_write(st, remove_job_run, &j);
}

int store_home_get(struct store *st, int64_t home_id, int64_t member_id,
                   struct store_home *out)
{
        sqlite3 *db = store_reader(st);
        int r;

        if (!db)
                return -EIO;
        r = home_load(db, home_id, out);
        if (r < 0 || member_id == 0)
                return r;
        r = member_role(db, home_id, member_id, out->role);
        return r < 0 ? r : 0;
}

int store_home_members(struct store *st, int64_t home_id, struct store_home_member *out,
                       int max, int *n)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r = 0;

        *n = 0;
        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT member_id, role, joined_at FROM home_members "
                          "WHERE home_id = ? ORDER BY role DESC, joined_at, member_id");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, home_id);
        while (*n < max) {
                r = sql_step_row(s);
                if (r <= 0)
                        break;
                out[*n].member_id = sqlite3_column_int64(s, 0);
                sql_col_copy(s, 1, out[*n].role, sizeof(out[*n].role));
                out[*n].joined_at = sqlite3_column_int64(s, 2);
                (*n)++;
        }
        sqlite3_reset(s);
        return r < 0 ? r : 0;
}

int store_homes_of_member(struct store *st, int64_t member_id, struct store_home *out, int max,
                          int *n)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r = 0;

        *n = 0;
        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT " HOME_COLS ", m.role" HOME_FROM
                          " JOIN home_members m ON m.home_id = h.id "
                          "WHERE m.member_id = ? AND h.state <> 'purged' ORDER BY h.id DESC");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, member_id);
        while (*n < max) {
                r = sql_step_row(s);
                if (r <= 0)
                        break;
                home_row(s, &out[*n]);
                sql_col_copy(s, 12, out[*n].role, sizeof(out[*n].role));
                (*n)++;
        }
        sqlite3_reset(s);
        return r < 0 ? r : 0;
}

struct coords_job {
        int64_t home_id;
        double lat, lon;
};

static int coords_job_run(sqlite3 *db, void *arg)
{
        struct coords_job *j = arg;
        sqlite3_stmt *s = store_prepare(db, "UPDATE homes SET latitude = ?, longitude = ? "
                                        "WHERE id = ?");

        if (!s)
                return -EIO;
        sqlite3_bind_double(s, 1, j->lat);
        sqlite3_bind_double(s, 2, j->lon);
        sqlite3_bind_int64(s, 3, j->home_id);
        return sql_exec_change(s);
}

int store_home_set_coords(struct store *st, int64_t home_id, double latitude, double longitude)
{
        struct coords_job j = { home_id, latitude, longitude };

        return store_write(st, coords_job_run, &j);
}

/* ---- household (HE-10) ---------------------------------------------------- */

int store_household_get(struct store *st, int64_t home_id, char **json_out)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r;

        *json_out = NULL;
        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT household FROM homes WHERE id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, home_id);
        r = sql_step_row(s);
        if (r == 1) {
                const unsigned char *t = sqlite3_column_text(s, 0);

                *json_out = strdup(t ? (const char *)t : "{}");
                if (!*json_out)
                        r = -ENOMEM;
        }
        sqlite3_reset(s);
        if (r < 0)
                return r;
        return r == 1 ? 0 : -ENOENT;
}

struct household_job {
        int64_t home_id;
        const char *json;
        int64_t now;
};

static int household_job_run(sqlite3 *db, void *arg)
{
        struct household_job *j = arg;
        sqlite3_stmt *s = store_prepare(db, "UPDATE homes SET household = ?, household_at = ? "
                                        "WHERE id = ? AND state = 'active'");

        if (!s)
                return -EIO;
        sql_bind_text(s, 1, j->json);
        sqlite3_bind_int64(s, 2, j->now);
        sqlite3_bind_int64(s, 3, j->home_id);
        return sql_exec_change(s);
}

int store_household_put(struct store *st, int64_t home_id, const char *json, int64_t now)
{
        struct household_job j = { home_id, json, now };

        return store_write(st, household_job_run, &j);
}
