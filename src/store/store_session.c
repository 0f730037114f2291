/*
 * store_session.c - SQL for login sessions (token hashes only, PD-8).
 */
#include "store/store_session.h"

#include "store/sql.h"

struct create_job {
        const char *hash;
        int64_t member_id, now, expires_at;
        const char *ip;
        int64_t id;
};

static int create_job_run(sqlite3 *db, void *arg)
{
        struct create_job *j = arg;
        sqlite3_stmt *s = store_prepare(db,
                "INSERT INTO sessions (token_hash, member_id, created_at, expires_at, client_ip)"
                " VALUES (?,?,?,?,?)");
        int r;

        if (!s)
                return -EIO;
        sql_bind_text(s, 1, j->hash);
        sqlite3_bind_int64(s, 2, j->member_id);
        sqlite3_bind_int64(s, 3, j->now);
        sqlite3_bind_int64(s, 4, j->expires_at);
        sql_bind_text(s, 5, j->ip);
        r = sql_exec_reset(s);
        if (r == 0)
                j->id = sqlite3_last_insert_rowid(db);
        return r;
}

int store_session_create(struct store *st, const char *token_hash, int64_t member_id,
                         int64_t now, int64_t expires_at, const char *client_ip,
                         int64_t *id_out)
{
        struct create_job j = { token_hash, member_id, now, expires_at, client_ip, 0 };
        int r = store_write(st, create_job_run, &j);

        if (r == 0 && id_out)
                *id_out = j.id;
        return r;
}

int store_session_lookup(struct store *st, const char *token_hash, int64_t now,
                         struct store_auth *out)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r;

        if (!db)
                return -EIO;
        s = store_prepare(db,
                "SELECT s.id, s.member_id, s.expires_at, m.role, m.status"
                " FROM sessions s JOIN members m ON m.id = s.member_id"
                " WHERE s.token_hash = ? AND s.revoked_at = 0 AND s.expires_at > ?");
        if (!s)
                return -EIO;
        sql_bind_text(s, 1, token_hash);
        sqlite3_bind_int64(s, 2, now);
        r = sql_step_row(s);
        if (r == 1) {
                out->session_id = sqlite3_column_int64(s, 0);
                out->member_id = sqlite3_column_int64(s, 1);
                out->expires_at = sqlite3_column_int64(s, 2);
                sql_col_copy(s, 3, out->role, sizeof(out->role));
                sql_col_copy(s, 4, out->status, sizeof(out->status));
        }
        sqlite3_reset(s);
        return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

struct revoke_job {
        int64_t id;
        int64_t now;
        int count;
};

static int revoke_job_run(sqlite3 *db, void *arg)
{
        struct revoke_job *j = arg;
        sqlite3_stmt *s = store_prepare(db, "UPDATE sessions SET revoked_at = ?"
                                            " WHERE id = ? AND revoked_at = 0");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->now);
        sqlite3_bind_int64(s, 2, j->id);
        r = sql_exec_reset(s);
        return r;
}

int store_session_revoke(struct store *st, int64_t session_id, int64_t now)
{
        struct revoke_job j = { session_id, now, 0 };

        return store_write(st, revoke_job_run, &j);
}

int store_session_revoke_all_db(sqlite3 *db, int64_t member_id, int64_t now)
{
        sqlite3_stmt *s = store_prepare(db, "UPDATE sessions SET revoked_at = ?"
                                            " WHERE member_id = ? AND revoked_at = 0");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, now);
        sqlite3_bind_int64(s, 2, member_id);
        r = sql_exec_reset(s);
        return r < 0 ? r : sqlite3_changes(db);
}

static int revoke_all_job_run(sqlite3 *db, void *arg)
{
        struct revoke_job *j = arg;
        int r = store_session_revoke_all_db(db, j->id, j->now);

        if (r < 0)
                return r;
        j->count = r;
        return 0;
}

int store_session_revoke_all(struct store *st, int64_t member_id, int64_t now, int *count)
{
        struct revoke_job j = { member_id, now, 0 };
        int r = store_write(st, revoke_all_job_run, &j);

        if (r == 0 && count)
                *count = j.count;
        return r;
}
