/*
 * store_host.c - SQL for hosts (CS-8), host administrators and the CS-7
 * action log, drivers' declarations and vehicles (CS-23). Every write is
 * one store_write() job that also writes its audit row (PD-8) and, when
 * someone acts for a host, its CS-7 action, in the same transaction.
 */
#include "store/store_host.h"

#include <string.h>

#include "store/sql.h"

const char store_m005_sql[] =
        "-- hosts (CS-8), corporate administrators and the CS-7 action log, users' vehicles and\n"
        "-- declarations (CS-23)\n"
        "CREATE TABLE hosts (\n"
        "  member_id INTEGER PRIMARY KEY REFERENCES members(id),\n"
        "  display_name TEXT NOT NULL,                 -- public name on listings (CS-40)\n"
        "  verification TEXT NOT NULL DEFAULT 'pending'\n"
        "    CHECK (verification IN ('pending','verified','rejected')),\n"
        "  verification_reason TEXT NOT NULL DEFAULT '',\n"
        "  verification_at INTEGER NOT NULL DEFAULT 0,\n"
        "  contract TEXT NOT NULL DEFAULT 'none' CHECK (contract IN ('none','active','ended')),\n"
        "  contract_at INTEGER NOT NULL DEFAULT 0,\n"
        "  created_at INTEGER NOT NULL,\n"
        "  updated_at INTEGER NOT NULL,\n"
        "  rev INTEGER NOT NULL DEFAULT 0              -- bumped by every update (caches)\n"
        ");\n"
        "CREATE TRIGGER hosts_rev AFTER UPDATE ON hosts FOR EACH ROW\n"
        "  WHEN NEW.rev = OLD.rev BEGIN\n"
        "  UPDATE hosts SET rev = OLD.rev + 1 WHERE member_id = NEW.member_id;\n"
        "END;\n"
        "CREATE TABLE host_admins (\n"
        "  host_id INTEGER NOT NULL REFERENCES hosts(member_id),\n"
        "  member_id INTEGER NOT NULL REFERENCES members(id),\n"
        "  appointed_by INTEGER NOT NULL,\n"
        "  appointed_at INTEGER NOT NULL,\n"
        "  PRIMARY KEY (host_id, member_id)\n"
        ") WITHOUT ROWID;\n"
        "CREATE INDEX host_admins_member ON host_admins(member_id);\n"
        "CREATE TABLE host_actions (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  at INTEGER NOT NULL,\n"
        "  actor_id INTEGER NOT NULL,                  -- who acted (0 = system)\n"
        "  actor_role TEXT NOT NULL,                   -- member, operator, system\n"
        "  principal_id INTEGER NOT NULL,              -- the host acted for\n"
        "  action TEXT NOT NULL,                       -- e.g. charger.create, slot.delete\n"
        "  object_kind TEXT NOT NULL,\n"
        "  object_id INTEGER NOT NULL,\n"
        "  request_id TEXT NOT NULL DEFAULT ''\n"
        ");\n"
        "CREATE INDEX host_actions_principal ON host_actions(principal_id, id);\n"
        "CREATE TABLE driver_profiles (\n"
        "  member_id INTEGER PRIMARY KEY REFERENCES members(id),\n"
        "  licence_expires_on TEXT NOT NULL,           -- YYYY-MM-DD\n"
        "  compulsory_insurance_expires_on TEXT NOT NULL,\n"
        "  voluntary_insurance_expires_on TEXT NOT NULL,\n"
        "  created_at INTEGER NOT NULL,\n"
        "  updated_at INTEGER NOT NULL\n"
        ");\n"
        "CREATE TABLE vehicles (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  member_id INTEGER NOT NULL REFERENCES members(id),\n"
        "  maker TEXT NOT NULL,\n"
        "  model TEXT NOT NULL,\n"
        "  plate TEXT NOT NULL,\n"
        "  powertrain TEXT NOT NULL CHECK (powertrain IN ('ev','phev')),\n"
        "  connector TEXT NOT NULL,\n"
        "  battery_wh INTEGER NOT NULL CHECK (battery_wh > 0),\n"
        "  created_at INTEGER NOT NULL,\n"
        "  removed_at INTEGER NOT NULL DEFAULT 0       -- soft delete: reservations keep it\n"
        ");\n"
        "CREATE INDEX vehicles_member ON vehicles(member_id, removed_at);\n";

/* ---- hosts ------------------------------------------------------------- */

#define HOST_COLS \
        "h.member_id, h.display_name, m.kind, m.status, h.verification," \
        " h.verification_reason, h.verification_at, h.contract, h.contract_at," \
        " h.created_at, h.updated_at"

static void host_from_row(sqlite3_stmt *s, struct store_host *h)
{
        h->id = sqlite3_column_int64(s, 0);
        sql_col_copy(s, 1, h->display_name, sizeof(h->display_name));
        sql_col_copy(s, 2, h->kind, sizeof(h->kind));
        sql_col_copy(s, 3, h->member_status, sizeof(h->member_status));
        sql_col_copy(s, 4, h->verification, sizeof(h->verification));
        sql_col_copy(s, 5, h->verification_reason, sizeof(h->verification_reason));
        h->verification_at = sqlite3_column_int64(s, 6);
        sql_col_copy(s, 7, h->contract, sizeof(h->contract));
        h->contract_at = sqlite3_column_int64(s, 8);
        h->created_at = sqlite3_column_int64(s, 9);
        h->updated_at = sqlite3_column_int64(s, 10);
}

struct host_create_job {
        int64_t member_id;
        const char *display_name;
        const struct store_actor *actor;
        int64_t now;
};

static int host_create_run(sqlite3 *db, void *arg)
{
        struct host_create_job *j = arg;
        sqlite3_stmt *s = store_prepare(db,
                "INSERT INTO hosts (member_id, display_name, created_at, updated_at)"
                " VALUES (?1, ?2, ?3, ?3)");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->member_id);
        sql_bind_text(s, 2, j->display_name);
        sqlite3_bind_int64(s, 3, j->now);
        r = sql_exec_reset(s);
        /* member_id is the primary key: a second application is -EEXIST. */
        if (r < 0)
                return r;
        r = store_host_action_append(db, j->actor, j->member_id, "host.create", "host",
                                     j->member_id, j->now);
        if (r < 0)
                return r;
        return store_audit_write(db, j->actor, j->member_id, "create", "host.display_name",
                                 j->now);
}

int store_host_create(struct store *st, int64_t member_id, const char *display_name,
                      const struct store_actor *actor, int64_t now)
{
        struct host_create_job j = { member_id, display_name, actor, now };

        return store_write(st, host_create_run, &j);
}

static int host_get_db(sqlite3 *db, int64_t id, struct store_host *out)
{
        sqlite3_stmt *s = store_prepare(db, "SELECT " HOST_COLS " FROM hosts h"
                                            " JOIN members m ON m.id = h.member_id"
                                            " WHERE h.member_id = ?");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, id);
        r = sql_step_row(s);
        if (r == 1)
                host_from_row(s, out);
        sqlite3_reset(s);
        return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

int store_host_get(struct store *st, int64_t id, struct store_host *out)
{
        sqlite3 *db = store_reader(st);

        if (!db)
                return -EIO;
        return host_get_db(db, id, out);
}

struct rename_job {
        int64_t id;
        const char *name;
        const struct store_actor *actor;
        int64_t now;
};

static int rename_run(sqlite3 *db, void *arg)
{
        struct rename_job *j = arg;
        sqlite3_stmt *s = store_prepare(db, "UPDATE hosts SET display_name = ?1, updated_at = ?2"
                                            " WHERE member_id = ?3");
        int r;

        if (!s)
                return -EIO;
        sql_bind_text(s, 1, j->name);
        sqlite3_bind_int64(s, 2, j->now);
        sqlite3_bind_int64(s, 3, j->id);
        r = sql_exec_change(s);
        if (r < 0)
                return r;
        r = store_host_action_append(db, j->actor, j->id, "host.rename", "host", j->id, j->now);
        if (r < 0)
                return r;
        return store_audit_write(db, j->actor, j->id, "update", "host.display_name", j->now);
}

int store_host_rename(struct store *st, int64_t id, const char *display_name,
                      const struct store_actor *actor, int64_t now)
{
        struct rename_job j = { id, display_name, actor, now };

        return store_write(st, rename_run, &j);
}

struct host_state_job {
        int64_t id;
        const char *status;
        const char *reason;
        const struct store_actor *actor;
        int64_t now;
};

static int verification_run(sqlite3 *db, void *arg)
{
        struct host_state_job *j = arg;
        sqlite3_stmt *s = store_prepare(db,
                "UPDATE hosts SET verification = ?1, verification_reason = ?2,"
                " verification_at = ?3, updated_at = ?3 WHERE member_id = ?4");
        int r;

        if (!s)
                return -EIO;
        sql_bind_text(s, 1, j->status);
        sql_bind_text(s, 2, j->reason);
        sqlite3_bind_int64(s, 3, j->now);
        sqlite3_bind_int64(s, 4, j->id);
        r = sql_exec_change(s);
        if (r < 0)
                return r;
        if (strcmp(j->status, "verified") == 0) {
                /* The operator's verification is the identity check that
                 * the re-verification flag (CS-8) was waiting for. */
                s = store_prepare(db, "UPDATE members SET reverify_required = 0, updated_at = ?1"
                                      " WHERE id = ?2 AND reverify_required != 0");
                if (!s)
                        return -EIO;
                sqlite3_bind_int64(s, 1, j->now);
                sqlite3_bind_int64(s, 2, j->id);
                r = sql_exec_reset(s);
                if (r < 0)
                        return r;
        }
        r = store_host_action_append(db, j->actor, j->id, "host.verification", "host", j->id,
                                     j->now);
        if (r < 0)
                return r;
        return store_audit_write(db, j->actor, j->id, "update", "host.verification", j->now);
}

int store_host_set_verification(struct store *st, int64_t id, const char *status,
                                const char *reason, const struct store_actor *actor,
                                int64_t now)
{
        struct host_state_job j = { id, status, reason ? reason : "", actor, now };

        return store_write(st, verification_run, &j);
}

static int contract_run(sqlite3 *db, void *arg)
{
        struct host_state_job *j = arg;
        sqlite3_stmt *s = store_prepare(db,
                "UPDATE hosts SET contract = ?1, contract_at = ?2, updated_at = ?2"
                " WHERE member_id = ?3");
        int r;

        if (!s)
                return -EIO;
        sql_bind_text(s, 1, j->status);
        sqlite3_bind_int64(s, 2, j->now);
        sqlite3_bind_int64(s, 3, j->id);
        r = sql_exec_change(s);
        if (r < 0)
                return r;
        r = store_host_action_append(db, j->actor, j->id, "host.contract", "host", j->id,
                                     j->now);
        if (r < 0)
                return r;
        return store_audit_write(db, j->actor, j->id, "update", "host.contract", j->now);
}

int store_host_set_contract(struct store *st, int64_t id, const char *status,
                            const struct store_actor *actor, int64_t now)
{
        struct host_state_job j = { id, status, "", actor, now };

        return store_write(st, contract_run, &j);
}

int store_host_list(struct store *st, const struct store_host_filter *f,
                    void (*cb)(const struct store_host *h, void *ud), void *ud)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int n = 0, rc;

        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT " HOST_COLS " FROM hosts h"
                              " JOIN members m ON m.id = h.member_id"
                              " WHERE h.member_id > ?1"
                              "   AND (?2 = '' OR h.verification = ?2)"
                              "   AND (?3 = '' OR h.contract = ?3)"
                              " ORDER BY h.member_id LIMIT ?4");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, f->after_id);
        sql_bind_text(s, 2, f->verification);
        sql_bind_text(s, 3, f->contract);
        sqlite3_bind_int(s, 4, f->limit);
        for (;;) {
                struct store_host h;

                rc = sqlite3_step(s);
                if (rc != SQLITE_ROW)
                        break;
                host_from_row(s, &h);
                cb(&h, ud);
                n++;
        }
        sqlite3_reset(s);
        return rc == SQLITE_DONE ? n : store_errno(rc);
}

static int role_db(sqlite3 *db, int64_t host_id, int64_t member_id, enum store_host_role *role)
{
        sqlite3_stmt *s = store_prepare(db,
                "SELECT h.member_id = ?2,"
                " EXISTS (SELECT 1 FROM host_admins a WHERE a.host_id = ?1 AND a.member_id = ?2)"
                " FROM hosts h WHERE h.member_id = ?1");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, host_id);
        sqlite3_bind_int64(s, 2, member_id);
        r = sql_step_row(s);
        if (r == 1) {
                if (sqlite3_column_int(s, 0))
                        *role = STORE_HOST_ROLE_HOST;
                else if (sqlite3_column_int(s, 1))
                        *role = STORE_HOST_ROLE_ADMIN;
                else
                        *role = STORE_HOST_ROLE_NONE;
        }
        sqlite3_reset(s);
        return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

int store_host_role(struct store *st, int64_t host_id, int64_t member_id,
                    enum store_host_role *role)
{
        sqlite3 *db = store_reader(st);

        if (!db)
                return -EIO;
        return role_db(db, host_id, member_id, role);
}

int store_host_list_for_member(struct store *st, int64_t member_id,
                               void (*cb)(const struct store_host *h, enum store_host_role role,
                                          void *ud), void *ud)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int n = 0, rc;

        if (!db)
                return -EIO;
        /* Own host first (role 1), then administered ones (role 2). */
        s = store_prepare(db, "SELECT " HOST_COLS ", 1 AS role FROM hosts h"
                              " JOIN members m ON m.id = h.member_id WHERE h.member_id = ?1"
                              " UNION ALL"
                              " SELECT " HOST_COLS ", 2 FROM host_admins a"
                              " JOIN hosts h ON h.member_id = a.host_id"
                              " JOIN members m ON m.id = h.member_id WHERE a.member_id = ?1"
                              " ORDER BY role, 1");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, member_id);
        for (;;) {
                struct store_host h;

                rc = sqlite3_step(s);
                if (rc != SQLITE_ROW)
                        break;
                host_from_row(s, &h);
                cb(&h, (enum store_host_role)sqlite3_column_int(s, 11), ud);
                n++;
        }
        sqlite3_reset(s);
        return rc == SQLITE_DONE ? n : store_errno(rc);
}

int store_host_reverify_db(sqlite3 *db, int64_t member_id, const struct store_actor *actor,
                           int64_t now)
{
        sqlite3_stmt *s = store_prepare(db,
                "UPDATE hosts SET verification = 'pending', verification_reason = ?1,"
                " verification_at = ?2, updated_at = ?2"
                " WHERE member_id = ?3 AND verification = 'verified'");
        int r;

        if (!s)
                return -EIO;
        sql_bind_text(s, 1, STORE_HOST_REVERIFY_REASON);
        sqlite3_bind_int64(s, 2, now);
        sqlite3_bind_int64(s, 3, member_id);
        r = sql_exec_change(s);
        if (r == -ENOENT)
                return 0;       /* not a host, or not verified: nothing drops */
        if (r < 0)
                return r;
        return store_host_action_append(db, actor, member_id, "host.reverification_required",
                                        "host", member_id, now);
}

/* ---- administrators ------------------------------------------------------ */

struct admin_job {
        int64_t host_id;
        int64_t member_id;
        int max;
        const struct store_actor *actor;
        int64_t now;
};

static int admin_add_run(sqlite3 *db, void *arg)
{
        struct admin_job *j = arg;
        sqlite3_stmt *s = store_prepare(db, "SELECT count(*) FROM host_admins WHERE host_id = ?");
        int r, n;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->host_id);
        r = sql_step_row(s);
        n = sqlite3_column_int(s, 0);
        sqlite3_reset(s);
        if (r < 0)
                return r;
        s = store_prepare(db, "SELECT 1 FROM host_admins WHERE host_id = ? AND member_id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->host_id);
        sqlite3_bind_int64(s, 2, j->member_id);
        r = sql_step_row(s);
        sqlite3_reset(s);
        if (r < 0)
                return r;
        if (r == 1)
                return -EEXIST;
        if (n >= j->max)
                return -ENOSPC;
        s = store_prepare(db, "INSERT INTO host_admins (host_id, member_id, appointed_by,"
                              " appointed_at) VALUES (?,?,?,?)");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->host_id);
        sqlite3_bind_int64(s, 2, j->member_id);
        sqlite3_bind_int64(s, 3, j->actor ? j->actor->member_id : 0);
        sqlite3_bind_int64(s, 4, j->now);
        r = sql_exec_reset(s);
        if (r < 0)
                return r;
        r = store_host_action_append(db, j->actor, j->host_id, "admin.appoint", "member",
                                     j->member_id, j->now);
        if (r < 0)
                return r;
        /* The appointee's email was used to find them (PD-8). */
        return store_audit_write(db, j->actor, j->member_id, "host_admin.appoint", "email",
                                 j->now);
}

int store_host_admin_add(struct store *st, int64_t host_id, int64_t member_id, int max_admins,
                         const struct store_actor *actor, int64_t now)
{
        struct admin_job j = { host_id, member_id, max_admins, actor, now };

        return store_write(st, admin_add_run, &j);
}

static int admin_remove_run(sqlite3 *db, void *arg)
{
        struct admin_job *j = arg;
        sqlite3_stmt *s = store_prepare(db, "DELETE FROM host_admins"
                                            " WHERE host_id = ? AND member_id = ?");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->host_id);
        sqlite3_bind_int64(s, 2, j->member_id);
        r = sql_exec_change(s);
        if (r < 0)
                return r;
        r = store_host_action_append(db, j->actor, j->host_id, "admin.remove", "member",
                                     j->member_id, j->now);
        if (r < 0)
                return r;
        return store_audit_write(db, j->actor, j->member_id, "host_admin.remove", "",
                                 j->now);
}

int store_host_admin_remove(struct store *st, int64_t host_id, int64_t member_id,
                            const struct store_actor *actor, int64_t now)
{
        struct admin_job j = { host_id, member_id, 0, actor, now };

        return store_write(st, admin_remove_run, &j);
}

int store_host_admin_list(struct store *st, int64_t host_id,
                          void (*cb)(const struct store_host_admin *a, void *ud), void *ud)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int n = 0, rc;

        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT a.host_id, a.member_id, m.email, a.appointed_by,"
                              " a.appointed_at FROM host_admins a"
                              " JOIN members m ON m.id = a.member_id"
                              " WHERE a.host_id = ? ORDER BY a.appointed_at, a.member_id");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, host_id);
        for (;;) {
                struct store_host_admin a;

                rc = sqlite3_step(s);
                if (rc != SQLITE_ROW)
                        break;
                a.host_id = sqlite3_column_int64(s, 0);
                a.member_id = sqlite3_column_int64(s, 1);
                sql_col_copy(s, 2, a.email, sizeof(a.email));
                a.appointed_by = sqlite3_column_int64(s, 3);
                a.appointed_at = sqlite3_column_int64(s, 4);
                cb(&a, ud);
                n++;
        }
        sqlite3_reset(s);
        return rc == SQLITE_DONE ? n : store_errno(rc);
}

/* ---- the CS-7 action log ------------------------------------------------- */

int store_host_action_append(sqlite3 *db, const struct store_actor *actor,
                             int64_t principal_id, const char *action,
                             const char *object_kind, int64_t object_id, int64_t now)
{
        enum store_host_role role = STORE_HOST_ROLE_NONE;
        int64_t actor_id = actor ? actor->member_id : 0;
        const char *actor_role = "system";
        sqlite3_stmt *s;
        int r;

        /* What the actor was to the host when it acted: the log must say
         * who acted for whom (CS-7) even after an administrator is
         * removed, so it is resolved now, not when the log is read. */
        if (actor_id > 0 && actor->role && strcmp(actor->role, "operator") == 0) {
                actor_role = "operator";
        } else if (actor_id > 0) {
                r = role_db(db, principal_id, actor_id, &role);
                if (r < 0 && r != -ENOENT)
                        return r;
                actor_role = role == STORE_HOST_ROLE_HOST ? "host" :
                             role == STORE_HOST_ROLE_ADMIN ? "admin" : "member";
        }
        s = store_prepare(db, "INSERT INTO host_actions (at, actor_id, actor_role, principal_id,"
                              " action, object_kind, object_id, request_id)"
                              " VALUES (?,?,?,?,?,?,?,?)");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, now);
        sqlite3_bind_int64(s, 2, actor_id);
        sql_bind_text(s, 3, actor_role);
        sqlite3_bind_int64(s, 4, principal_id);
        sql_bind_text(s, 5, action);
        sql_bind_text(s, 6, object_kind);
        sqlite3_bind_int64(s, 7, object_id);
        sql_bind_text(s, 8, actor && actor->request_id ? actor->request_id : "");
        return sql_exec_reset(s);
}

int store_host_action_list(struct store *st, int64_t principal_id, int64_t before_id,
                           int limit,
                           void (*cb)(const struct store_host_action *a, void *ud), void *ud)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int n = 0, rc;

        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT id, at, actor_id, actor_role, principal_id, action,"
                              " object_kind, object_id, request_id FROM host_actions"
                              " WHERE principal_id = ?1 AND (?2 = 0 OR id < ?2)"
                              " ORDER BY id DESC LIMIT ?3");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, principal_id);
        sqlite3_bind_int64(s, 2, before_id);
        sqlite3_bind_int(s, 3, limit);
        for (;;) {
                struct store_host_action a;

                rc = sqlite3_step(s);
                if (rc != SQLITE_ROW)
                        break;
                a.id = sqlite3_column_int64(s, 0);
                a.at = sqlite3_column_int64(s, 1);
                a.actor_id = sqlite3_column_int64(s, 2);
                sql_col_copy(s, 3, a.actor_role, sizeof(a.actor_role));
                a.principal_id = sqlite3_column_int64(s, 4);
                sql_col_copy(s, 5, a.action, sizeof(a.action));
                sql_col_copy(s, 6, a.object_kind, sizeof(a.object_kind));
                a.object_id = sqlite3_column_int64(s, 7);
                sql_col_copy(s, 8, a.request_id, sizeof(a.request_id));
                cb(&a, ud);
                n++;
        }
        sqlite3_reset(s);
        return rc == SQLITE_DONE ? n : store_errno(rc);
}

/* ---- drivers ---------------------------------------------------------------- */

struct driver_job {
        const struct store_driver *d;
        const struct store_actor *actor;
        int64_t now;
};

static int driver_put_run(sqlite3 *db, void *arg)
{
        struct driver_job *j = arg;
        sqlite3_stmt *s = store_prepare(db,
                "INSERT INTO driver_profiles (member_id, licence_expires_on,"
                " compulsory_insurance_expires_on, voluntary_insurance_expires_on, created_at,"
                " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)"
                " ON CONFLICT (member_id) DO UPDATE SET"
                " licence_expires_on = excluded.licence_expires_on,"
                " compulsory_insurance_expires_on = excluded.compulsory_insurance_expires_on,"
                " voluntary_insurance_expires_on = excluded.voluntary_insurance_expires_on,"
                " updated_at = excluded.updated_at");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->d->member_id);
        sql_bind_text(s, 2, j->d->licence_expires_on);
        sql_bind_text(s, 3, j->d->compulsory_insurance_expires_on);
        sql_bind_text(s, 4, j->d->voluntary_insurance_expires_on);
        sqlite3_bind_int64(s, 5, j->now);
        r = sql_exec_reset(s);
        if (r < 0)
                return r;
        return store_audit_write(db, j->actor, j->d->member_id, "update",
                                 "driver.licence,driver.insurance", j->now);
}

int store_driver_put(struct store *st, const struct store_driver *d,
                     const struct store_actor *actor, int64_t now)
{
        struct driver_job j = { d, actor, now };

        return store_write(st, driver_put_run, &j);
}

int store_driver_get(struct store *st, int64_t member_id, struct store_driver *out)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r;

        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT member_id, licence_expires_on,"
                              " compulsory_insurance_expires_on, voluntary_insurance_expires_on,"
                              " created_at, updated_at FROM driver_profiles WHERE member_id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, member_id);
        r = sql_step_row(s);
        if (r == 1) {
                out->member_id = sqlite3_column_int64(s, 0);
                sql_col_copy(s, 1, out->licence_expires_on, sizeof(out->licence_expires_on));
                sql_col_copy(s, 2, out->compulsory_insurance_expires_on,
                             sizeof(out->compulsory_insurance_expires_on));
                sql_col_copy(s, 3, out->voluntary_insurance_expires_on,
                             sizeof(out->voluntary_insurance_expires_on));
                out->created_at = sqlite3_column_int64(s, 4);
                out->updated_at = sqlite3_column_int64(s, 5);
        }
        sqlite3_reset(s);
        return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

/* ---- vehicles ----------------------------------------------------------------- */

#define VEHICLE_COLS \
        "id, member_id, maker, model, plate, powertrain, connector, battery_wh, created_at," \
        " removed_at"

static void vehicle_from_row(sqlite3_stmt *s, struct store_vehicle *v)
{
        v->id = sqlite3_column_int64(s, 0);
        v->member_id = sqlite3_column_int64(s, 1);
        sql_col_copy(s, 2, v->maker, sizeof(v->maker));
        sql_col_copy(s, 3, v->model, sizeof(v->model));
        sql_col_copy(s, 4, v->plate, sizeof(v->plate));
        sql_col_copy(s, 5, v->powertrain, sizeof(v->powertrain));
        sql_col_copy(s, 6, v->connector, sizeof(v->connector));
        v->battery_wh = sqlite3_column_int64(s, 7);
        v->created_at = sqlite3_column_int64(s, 8);
        v->removed_at = sqlite3_column_int64(s, 9);
}

struct vehicle_job {
        const struct store_vehicle *v;
        int64_t member_id;
        int64_t id;
        int max;
        const struct store_actor *actor;
        int64_t now;
};

static int vehicle_add_run(sqlite3 *db, void *arg)
{
        struct vehicle_job *j = arg;
        const struct store_vehicle *v = j->v;
        sqlite3_stmt *s = store_prepare(db, "SELECT count(*) FROM vehicles"
                                            " WHERE member_id = ? AND removed_at = 0");
        int r, n;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, v->member_id);
        r = sql_step_row(s);
        n = sqlite3_column_int(s, 0);
        sqlite3_reset(s);
        if (r < 0)
                return r;
        if (n >= j->max)
                return -ENOSPC;
        s = store_prepare(db, "INSERT INTO vehicles (member_id, maker, model, plate, powertrain,"
                              " connector, battery_wh, created_at) VALUES (?,?,?,?,?,?,?,?)");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, v->member_id);
        sql_bind_text(s, 2, v->maker);
        sql_bind_text(s, 3, v->model);
        sql_bind_text(s, 4, v->plate);
        sql_bind_text(s, 5, v->powertrain);
        sql_bind_text(s, 6, v->connector);
        sqlite3_bind_int64(s, 7, v->battery_wh);
        sqlite3_bind_int64(s, 8, j->now);
        r = sql_exec_reset(s);
        if (r < 0)
                return r;
        j->id = sqlite3_last_insert_rowid(db);
        return store_audit_write(db, j->actor, v->member_id, "create", "vehicle", j->now);
}

int store_vehicle_add(struct store *st, const struct store_vehicle *v, int max_vehicles,
                      const struct store_actor *actor, int64_t now, int64_t *id_out)
{
        struct vehicle_job j = { .v = v, .max = max_vehicles, .actor = actor, .now = now };
        int r = store_write(st, vehicle_add_run, &j);

        if (r == 0 && id_out)
                *id_out = j.id;
        return r;
}

int store_vehicle_get(struct store *st, int64_t id, struct store_vehicle *out)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r;

        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT " VEHICLE_COLS " FROM vehicles WHERE id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, id);
        r = sql_step_row(s);
        if (r == 1)
                vehicle_from_row(s, out);
        sqlite3_reset(s);
        return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

int store_vehicle_list(struct store *st, int64_t member_id,
                       void (*cb)(const struct store_vehicle *v, void *ud), void *ud)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int n = 0, rc;

        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT " VEHICLE_COLS " FROM vehicles"
                              " WHERE member_id = ? AND removed_at = 0 ORDER BY id");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, member_id);
        for (;;) {
                struct store_vehicle v;

                rc = sqlite3_step(s);
                if (rc != SQLITE_ROW)
                        break;
                vehicle_from_row(s, &v);
                cb(&v, ud);
                n++;
        }
        sqlite3_reset(s);
        return rc == SQLITE_DONE ? n : store_errno(rc);
}

static int vehicle_remove_run(sqlite3 *db, void *arg)
{
        struct vehicle_job *j = arg;
        sqlite3_stmt *s = store_prepare(db, "UPDATE vehicles SET removed_at = ?"
                                            " WHERE id = ? AND member_id = ? AND removed_at = 0");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->now);
        sqlite3_bind_int64(s, 2, j->id);
        sqlite3_bind_int64(s, 3, j->member_id);
        r = sql_exec_change(s);
        if (r < 0)
                return r;
        return store_audit_write(db, j->actor, j->member_id, "delete", "vehicle", j->now);
}

int store_vehicle_remove(struct store *st, int64_t member_id, int64_t id,
                         const struct store_actor *actor, int64_t now)
{
        struct vehicle_job j = { .member_id = member_id, .id = id, .actor = actor, .now = now };

        return store_write(st, vehicle_remove_run, &j);
}
