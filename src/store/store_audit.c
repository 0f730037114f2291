/*
 * store_audit.c - the personal-data audit trail (PD-8): who read or
 * changed whose data, when and from where. Append only: there is no update
 * or delete of audit rows anywhere in enemane.
 */
#include "store/store_member.h"
#include "store/sql.h"

int store_audit_write(sqlite3 *db, const struct store_actor *actor, int64_t subject_id,
                      const char *action, const char *items, int64_t now)
{
        sqlite3_stmt *s = store_prepare(db,
                "INSERT INTO audit_log (at, actor_id, actor_role, subject_id, action, items,"
                " client_ip, request_id) VALUES (?,?,?,?,?,?,?,?)");

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, now);
        sqlite3_bind_int64(s, 2, actor ? actor->member_id : 0);
        sql_bind_text(s, 3, actor && actor->role ? actor->role : "system");
        sqlite3_bind_int64(s, 4, subject_id);
        sql_bind_text(s, 5, action);
        sql_bind_text(s, 6, items);
        sql_bind_text(s, 7, actor ? actor->client_ip : "");
        sql_bind_text(s, 8, actor ? actor->request_id : "");
        return sql_exec_stmt(s);
}

struct audit_job {
        const struct store_actor *actor;
        int64_t subject_id;
        const char *action;
        const char *items;
        int64_t now;
};

static int audit_job_run(sqlite3 *db, void *arg)
{
        struct audit_job *j = arg;

        return store_audit_write(db, j->actor, j->subject_id, j->action, j->items, j->now);
}

int store_audit_append(struct store *st, const struct store_actor *actor, int64_t subject_id,
                       const char *action, const char *items, int64_t now)
{
        struct audit_job j = { actor, subject_id, action, items, now };

        return store_write(st, audit_job_run, &j);
}

struct audit_many_job {
        const struct store_actor *actor;
        const int64_t *ids;
        size_t n;
        const char *action;
        const char *items;
        int64_t now;
};

static int audit_many_run(sqlite3 *db, void *arg)
{
        struct audit_many_job *j = arg;

        for (size_t i = 0; i < j->n; i++) {
                int r = store_audit_write(db, j->actor, j->ids[i], j->action, j->items, j->now);

                if (r < 0)
                        return r;
        }
        return 0;
}

int store_audit_append_many(struct store *st, const struct store_actor *actor,
                            const int64_t *subject_ids, size_t n, const char *action,
                            const char *items, int64_t now)
{
        struct audit_many_job j = { actor, subject_ids, n, action, items, now };

        if (n == 0)
                return 0;
        return store_write(st, audit_many_run, &j);
}

int store_audit_list(struct store *st, const struct store_audit_filter *f,
                     void (*cb)(const struct store_audit_entry *e, void *ud), void *ud)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int n = 0, rc;

        if (!db)
                return -EIO;
        s = store_prepare(db,
                "SELECT id, at, actor_id, actor_role, subject_id, action, items, client_ip,"
                " request_id FROM audit_log"
                " WHERE (?1 = 0 OR subject_id = ?1) AND (?2 = 0 OR actor_id = ?2)"
                "   AND (?3 = 0 OR id < ?3)"
                " ORDER BY id DESC LIMIT ?4");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, f->subject_id);
        sqlite3_bind_int64(s, 2, f->actor_id);
        sqlite3_bind_int64(s, 3, f->before_id);
        sqlite3_bind_int(s, 4, f->limit);
        for (;;) {
                struct store_audit_entry e;

                rc = sqlite3_step(s);
                if (rc != SQLITE_ROW)
                        break;
                e.id = sqlite3_column_int64(s, 0);
                e.at = sqlite3_column_int64(s, 1);
                e.actor_id = sqlite3_column_int64(s, 2);
                sql_col_copy(s, 3, e.actor_role, sizeof(e.actor_role));
                e.subject_id = sqlite3_column_int64(s, 4);
                sql_col_copy(s, 5, e.action, sizeof(e.action));
                sql_col_copy(s, 6, e.items, sizeof(e.items));
                sql_col_copy(s, 7, e.client_ip, sizeof(e.client_ip));
                sql_col_copy(s, 8, e.request_id, sizeof(e.request_id));
                cb(&e, ud);
                n++;
        }
        sqlite3_reset(s);
        return rc == SQLITE_DONE ? n : store_errno(rc);
}
