/*
 * store_member.c - SQL for members: create with consents, read, profile
 * update, status changes with history, withdrawal, listing. Every change
 * writes its audit row (PD-8) in the same transaction as the change.
 */
#include "store/store_member.h"

#include <stdlib.h>
#include <string.h>

#include "store/sql.h"
#include "store/store_document.h"
#include "store/store_host.h"
#include "store/store_session.h"

#define MEMBER_COLS \
        "id, kind, role, status, email, name, name_kana, phone, postcode, prefecture, city," \
        " line1, line2, birth_date, corporate_name, contact_person, guardian_name," \
        " guardian_relationship, guardian_consent_at, reverify_required, suspend_reason," \
        " suspend_note, suspended_at, withdrawn_at, created_at, updated_at"

static void member_from_row(sqlite3_stmt *s, struct store_member *m)
{
        m->id = sqlite3_column_int64(s, 0);
        sql_col_copy(s, 1, m->kind, sizeof(m->kind));
        sql_col_copy(s, 2, m->role, sizeof(m->role));
        sql_col_copy(s, 3, m->status, sizeof(m->status));
        sql_col_copy(s, 4, m->email, sizeof(m->email));
        sql_col_copy(s, 5, m->name, sizeof(m->name));
        sql_col_copy(s, 6, m->name_kana, sizeof(m->name_kana));
        sql_col_copy(s, 7, m->phone, sizeof(m->phone));
        sql_col_copy(s, 8, m->postcode, sizeof(m->postcode));
        sql_col_copy(s, 9, m->prefecture, sizeof(m->prefecture));
        sql_col_copy(s, 10, m->city, sizeof(m->city));
        sql_col_copy(s, 11, m->line1, sizeof(m->line1));
        sql_col_copy(s, 12, m->line2, sizeof(m->line2));
        sql_col_copy(s, 13, m->birth_date, sizeof(m->birth_date));
        sql_col_copy(s, 14, m->corporate_name, sizeof(m->corporate_name));
        sql_col_copy(s, 15, m->contact_person, sizeof(m->contact_person));
        sql_col_copy(s, 16, m->guardian_name, sizeof(m->guardian_name));
        sql_col_copy(s, 17, m->guardian_relationship, sizeof(m->guardian_relationship));
        m->guardian_consent_at = sqlite3_column_int64(s, 18);
        m->reverify_required = sqlite3_column_int(s, 19) != 0;
        sql_col_copy(s, 20, m->suspend_reason, sizeof(m->suspend_reason));
        sql_col_copy(s, 21, m->suspend_note, sizeof(m->suspend_note));
        m->suspended_at = sqlite3_column_int64(s, 22);
        m->withdrawn_at = sqlite3_column_int64(s, 23);
        m->created_at = sqlite3_column_int64(s, 24);
        m->updated_at = sqlite3_column_int64(s, 25);
}

/* ---- create ------------------------------------------------------------ */

struct create_job {
        const struct store_member_new *n;
        const struct store_actor *actor;
        int64_t now;
        int64_t id;
};

static int create_job_run(sqlite3 *db, void *arg)
{
        struct create_job *j = arg;
        const struct store_member *m = &j->n->m;
        sqlite3_stmt *s = store_prepare(db,
                "INSERT INTO members (kind, role, status, email, email_norm, password_hash, name,"
                " name_kana, phone, postcode, prefecture, city, line1, line2, birth_date,"
                " corporate_name, contact_person, guardian_name, guardian_relationship,"
                " guardian_consent_at, created_at, updated_at)"
                " VALUES (?,?,'active',?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
        int r;

        if (!s)
                return -EIO;
        sql_bind_text(s, 1, m->kind);
        sql_bind_text(s, 2, m->role[0] ? m->role : "member");
        sql_bind_text(s, 3, m->email);
        sql_bind_text(s, 4, j->n->email_norm);
        sql_bind_text(s, 5, j->n->password_hash);
        sql_bind_text(s, 6, m->name);
        sql_bind_text(s, 7, m->name_kana);
        sql_bind_text(s, 8, m->phone);
        sql_bind_text(s, 9, m->postcode);
        sql_bind_text(s, 10, m->prefecture);
        sql_bind_text(s, 11, m->city);
        sql_bind_text(s, 12, m->line1);
        sql_bind_text(s, 13, m->line2);
        sql_bind_text(s, 14, m->birth_date);
        sql_bind_text(s, 15, m->corporate_name);
        sql_bind_text(s, 16, m->contact_person);
        sql_bind_text(s, 17, m->guardian_name);
        sql_bind_text(s, 18, m->guardian_relationship);
        sqlite3_bind_int64(s, 19, m->guardian_consent_at);
        sqlite3_bind_int64(s, 20, j->now);
        sqlite3_bind_int64(s, 21, j->now);
        r = sql_exec_reset(s);
        if (r < 0)
                return r;
        j->id = sqlite3_last_insert_rowid(db);
        r = store_consent_insert_db(db, j->id, j->n->document_ids, j->n->n_documents,
                            j->actor ? j->actor->client_ip : "", j->now);
        if (r < 0)
                return r;
        /* A member registering themselves is the actor of their own creation. */
        struct store_actor self = { j->id, "member", j->actor ? j->actor->client_ip : "",
                                    j->actor ? j->actor->request_id : "" };
        const struct store_actor *actor = j->actor;

        if (!actor || (actor->member_id == 0 && strcmp(actor->role, "member") == 0))
                actor = &self;
        return store_audit_write(db, actor, j->id, "create",
                                 "kind,email,name,name_kana,phone,address,birth_date,"
                                 "corporate_name,contact_person,guardian", j->now);
}

int store_member_create(struct store *st, const struct store_member_new *n,
                        const struct store_actor *actor, int64_t now, int64_t *id_out)
{
        struct create_job j = { n, actor, now, 0 };
        int r = store_write(st, create_job_run, &j);

        if (r == 0 && id_out)
                *id_out = j.id;
        return r;
}

/* ---- reads -------------------------------------------------------------- */

int store_member_get(struct store *st, int64_t id, struct store_member *out)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r;

        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT " MEMBER_COLS " FROM members WHERE id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, id);
        r = sql_step_row(s);
        if (r == 1)
                member_from_row(s, out);
        sqlite3_reset(s);
        return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

int store_member_credentials(struct store *st, const char *email_norm,
                             struct store_credentials *out)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r;

        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT id, status, role, password_hash FROM members"
                              " WHERE email_norm = ?");
        if (!s)
                return -EIO;
        sql_bind_text(s, 1, email_norm);
        r = sql_step_row(s);
        if (r == 1) {
                out->member_id = sqlite3_column_int64(s, 0);
                sql_col_copy(s, 1, out->status, sizeof(out->status));
                sql_col_copy(s, 2, out->role, sizeof(out->role));
                sql_col_copy(s, 3, out->password_hash, sizeof(out->password_hash));
        }
        sqlite3_reset(s);
        return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

int store_member_list(struct store *st, const struct store_member_filter *f,
                      void (*cb)(const struct store_member *m, void *ud), void *ud)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int n = 0, rc;

        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT " MEMBER_COLS " FROM members"
                              " WHERE id > ?1 AND (?2 = '' OR status = ?2)"
                              "   AND (?3 = '' OR role = ?3)"
                              "   AND (?4 = '' OR substr(email_norm, 1, length(?4)) = ?4)"
                              " ORDER BY id LIMIT ?5");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, f->after_id);
        sql_bind_text(s, 2, f->status);
        sql_bind_text(s, 3, f->role);
        sql_bind_text(s, 4, f->email_prefix);
        sqlite3_bind_int(s, 5, f->limit);
        for (;;) {
                struct store_member m;

                rc = sqlite3_step(s);
                if (rc != SQLITE_ROW)
                        break;
                member_from_row(s, &m);
                cb(&m, ud);
                n++;
        }
        sqlite3_reset(s);
        return rc == SQLITE_DONE ? n : store_errno(rc);
}

int store_member_status_history(struct store *st, int64_t id,
                                struct store_member_status_event *out, int max)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int n = 0, rc = SQLITE_DONE;

        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT status, reason, note, actor_id, at"
                              " FROM member_status_events WHERE member_id = ? ORDER BY id");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, id);
        while (n < max) {
                rc = sqlite3_step(s);
                if (rc != SQLITE_ROW)
                        break;
                sql_col_copy(s, 0, out[n].status, sizeof(out[n].status));
                sql_col_copy(s, 1, out[n].reason, sizeof(out[n].reason));
                sql_col_copy(s, 2, out[n].note, sizeof(out[n].note));
                out[n].actor_id = sqlite3_column_int64(s, 3);
                out[n].at = sqlite3_column_int64(s, 4);
                n++;
        }
        sqlite3_reset(s);
        return rc == SQLITE_ROW || rc == SQLITE_DONE ? n : store_errno(rc);
}

/* ---- profile update ----------------------------------------------------- */

struct update_job {
        const struct store_member *m;
        const char *items;
        bool reverify;
        const struct store_actor *actor;
        int64_t now;
};

static int update_job_run(sqlite3 *db, void *arg)
{
        struct update_job *j = arg;
        const struct store_member *m = j->m;
        sqlite3_stmt *s = store_prepare(db,
                "UPDATE members SET name = ?, name_kana = ?, phone = ?, postcode = ?,"
                " prefecture = ?, city = ?, line1 = ?, line2 = ?, birth_date = ?,"
                " corporate_name = ?, contact_person = ?,"
                " reverify_required = MAX(reverify_required, ?), updated_at = ?"
                " WHERE id = ? AND status != 'withdrawn'");
        int r;

        if (!s)
                return -EIO;
        sql_bind_text(s, 1, m->name);
        sql_bind_text(s, 2, m->name_kana);
        sql_bind_text(s, 3, m->phone);
        sql_bind_text(s, 4, m->postcode);
        sql_bind_text(s, 5, m->prefecture);
        sql_bind_text(s, 6, m->city);
        sql_bind_text(s, 7, m->line1);
        sql_bind_text(s, 8, m->line2);
        sql_bind_text(s, 9, m->birth_date);
        sql_bind_text(s, 10, m->corporate_name);
        sql_bind_text(s, 11, m->contact_person);
        sqlite3_bind_int(s, 12, j->reverify ? 1 : 0);
        sqlite3_bind_int64(s, 13, j->now);
        sqlite3_bind_int64(s, 14, m->id);
        r = sql_exec_change(s);
        if (r < 0)
                return r;
        /* CS-8: a change that needs re-verification drops a verified host
         * back to pending in this same transaction, so no slot can be
         * published on the strength of the old verification. */
        if (j->reverify) {
                r = store_host_reverify_db(db, m->id, j->actor, j->now);
                if (r < 0)
                        return r;
        }
        return store_audit_write(db, j->actor, m->id, "update", j->items, j->now);
}

int store_member_update(struct store *st, const struct store_member *m, const char *items,
                        bool reverify, const struct store_actor *actor, int64_t now)
{
        struct update_job j = { m, items, reverify, actor, now };

        return store_write(st, update_job_run, &j);
}

struct password_job {
        int64_t id;
        const char *hash;
        const struct store_actor *actor;
        int64_t now;
};

static int password_job_run(sqlite3 *db, void *arg)
{
        struct password_job *j = arg;
        sqlite3_stmt *s = store_prepare(db, "UPDATE members SET password_hash = ?, updated_at = ?"
                                            " WHERE id = ?");
        int r;

        if (!s)
                return -EIO;
        sql_bind_text(s, 1, j->hash);
        sqlite3_bind_int64(s, 2, j->now);
        sqlite3_bind_int64(s, 3, j->id);
        r = sql_exec_change(s);
        if (r < 0)
                return r;
        r = store_session_revoke_all_db(db, j->id, j->now);
        if (r < 0)
                return r;
        return store_audit_write(db, j->actor, j->id, "update", "password", j->now);
}

int store_member_set_password(struct store *st, int64_t id, const char *password_hash,
                              const struct store_actor *actor, int64_t now)
{
        struct password_job j = { id, password_hash, actor, now };

        return store_write(st, password_job_run, &j);
}

/* ---- status ------------------------------------------------------------- */

struct status_job {
        int64_t id;
        const char *status;
        const char *reason;
        const char *note;
        const struct store_actor *actor;
        int64_t now;
};

static int status_event(sqlite3 *db, struct status_job *j)
{
        sqlite3_stmt *s = store_prepare(db,
                "INSERT INTO member_status_events (member_id, status, reason, note, actor_id, at)"
                " VALUES (?,?,?,?,?,?)");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->id);
        sql_bind_text(s, 2, j->status);
        sql_bind_text(s, 3, j->reason);
        sql_bind_text(s, 4, j->note);
        sqlite3_bind_int64(s, 5, j->actor ? j->actor->member_id : 0);
        sqlite3_bind_int64(s, 6, j->now);
        r = sql_exec_reset(s);
        return r;
}

static int status_job_run(sqlite3 *db, void *arg)
{
        struct status_job *j = arg;
        int suspend = strcmp(j->status, "suspended") == 0;
        sqlite3_stmt *s = store_prepare(db,
                "UPDATE members SET status = ?1, suspend_reason = ?2, suspend_note = ?3,"
                " suspended_at = CASE WHEN ?1 = 'suspended' THEN ?4 ELSE 0 END, updated_at = ?4"
                " WHERE id = ?5 AND status != 'withdrawn'");
        int r;

        if (!s)
                return -EIO;
        sql_bind_text(s, 1, j->status);
        sql_bind_text(s, 2, suspend ? j->reason : "");
        sql_bind_text(s, 3, suspend ? j->note : "");
        sqlite3_bind_int64(s, 4, j->now);
        sqlite3_bind_int64(s, 5, j->id);
        r = sql_exec_change(s);
        if (r < 0)
                return r;
        r = status_event(db, j);
        if (r == 0 && suspend)
                r = store_session_revoke_all_db(db, j->id, j->now);
        if (r == 0)
                r = store_audit_write(db, j->actor, j->id, suspend ? "suspend" : "reinstate",
                                      "status", j->now);
        return r;
}

int store_member_set_status(struct store *st, int64_t id, const char *status,
                            const char *reason, const char *note,
                            const struct store_actor *actor, int64_t now)
{
        struct status_job j = { id, status, reason, note, actor, now };

        return store_write(st, status_job_run, &j);
}

static int withdraw_job_run(sqlite3 *db, void *arg)
{
        struct status_job *j = arg;
        sqlite3_stmt *s = store_prepare(db,
                "UPDATE members SET status = 'withdrawn', email_norm = NULL, withdrawn_at = ?1,"
                " updated_at = ?1 WHERE id = ?2 AND status != 'withdrawn'");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->now);
        sqlite3_bind_int64(s, 2, j->id);
        r = sql_exec_change(s);
        if (r < 0)
                return r;
        r = status_event(db, j);
        if (r == 0)
                r = store_session_revoke_all_db(db, j->id, j->now);
        if (r == 0)
                r = store_audit_write(db, j->actor, j->id, "withdraw", "status", j->now);
        return r;
}

int store_member_withdraw(struct store *st, int64_t id, const struct store_actor *actor,
                          int64_t now)
{
        struct status_job j = { id, "withdrawn", "", "", actor, now };

        return store_write(st, withdraw_job_run, &j);
}
