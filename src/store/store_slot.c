/*
 * store_slot.c - SQL for slots and the reservation reads of part 1 (see
 * store_slot.h). The rules (overlap, CS-16) are domain/slot.c's; the write
 * jobs here load what a change touches from the write connection, ask the
 * domain, and write, so check and write are one transaction.
 */
#include "store/store_slot.h"

#include <stdlib.h>
#include <string.h>

#include "store/sql.h"
#include "store/store_host.h"

const char store_m007_sql[] =
        "-- reservation slots (CS-13, CS-16) and the reservations table that part 2 fills\n"
        "-- (part 1 reads it for occupancy, free search and the CS-16/CS-18 guards)\n"
        "CREATE TABLE slots (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  charger_id INTEGER NOT NULL REFERENCES chargers(id),\n"
        "  starts_at INTEGER NOT NULL,\n"
        "  ends_at INTEGER NOT NULL,\n"
        "  hourly_price INTEGER NOT NULL CHECK (hourly_price >= 0),\n"
        "  created_at INTEGER NOT NULL,\n"
        "  updated_at INTEGER NOT NULL,\n"
        "  CHECK (ends_at > starts_at)\n"
        ");\n"
        "-- a charger's slots never overlap: ordered by end they are ordered by start too\n"
        "-- covering: the search and the calendar read slots from the index alone\n"
        "CREATE INDEX slots_charger ON slots(charger_id, ends_at, starts_at, hourly_price);\n"
        "CREATE TABLE reservations (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  charger_id INTEGER NOT NULL REFERENCES chargers(id),\n"
        "  user_id INTEGER NOT NULL REFERENCES members(id),\n"
        "  vehicle_id INTEGER NOT NULL REFERENCES vehicles(id),\n"
        "  starts_at INTEGER NOT NULL,\n"
        "  ends_at INTEGER NOT NULL,\n"
        "  status TEXT NOT NULL CHECK (status IN ('pending','confirmed','checked_in','completed',\n"
        "                                         'cancelled','rejected','expired')),\n"
        "  fee INTEGER NOT NULL DEFAULT 0,\n"
        "  created_at INTEGER NOT NULL,\n"
        "  updated_at INTEGER NOT NULL,\n"
        "  CHECK (ends_at > starts_at)\n"
        ");\n"
        "CREATE INDEX reservations_charger ON reservations(charger_id, starts_at);\n"
        "CREATE INDEX reservations_user ON reservations(user_id, starts_at);\n"
        "-- the reservations that hold their range (CS-14, CS-16), by charger and end\n"
        "CREATE INDEX reservations_active ON reservations(charger_id, ends_at, starts_at, status)\n"
        "  WHERE status IN ('pending','confirmed','checked_in');\n";

#define SLOT_COLS "id, charger_id, starts_at, ends_at, hourly_price, created_at, updated_at"
/* A batch of reservations handed to the domain at a time (CS-16 guard). */
#define RES_BATCH 64

/* The CS-8 condition, on hosts h and members m. */
#define PUBLISHABLE_SQL "(h.verification = 'verified' AND h.contract = 'active'" \
                        " AND m.status = 'active')"

static void slot_from_row(sqlite3_stmt *s, struct store_slot *o)
{
        o->id = sqlite3_column_int64(s, 0);
        o->charger_id = sqlite3_column_int64(s, 1);
        o->starts_at = sqlite3_column_int64(s, 2);
        o->ends_at = sqlite3_column_int64(s, 3);
        o->hourly_price = sqlite3_column_int64(s, 4);
        o->created_at = sqlite3_column_int64(s, 5);
        o->updated_at = sqlite3_column_int64(s, 6);
}

/* ---- chargers --------------------------------------------------------------- */

static int db_charger(sqlite3 *db, int64_t id, struct store_slot_charger *o)
{
        sqlite3_stmt *s = store_prepare(db,
                "SELECT c.id, c.host_id, c.deleted_at, c.delisted_at, c.qr_state,"
                " c.out_of_service, h.verification, h.contract, m.status, " PUBLISHABLE_SQL
                " FROM chargers c JOIN hosts h ON h.member_id = c.host_id"
                " JOIN members m ON m.id = c.host_id WHERE c.id = ?");
        const unsigned char *qr;
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, id);
        r = sql_step_row(s);
        if (r == 1) {
                memset(o, 0, sizeof(*o));
                o->id = sqlite3_column_int64(s, 0);
                o->host_id = sqlite3_column_int64(s, 1);
                o->listing.deleted = sqlite3_column_int64(s, 2) != 0;
                o->listing.delisted = sqlite3_column_int64(s, 3) != 0;
                qr = sqlite3_column_text(s, 4);
                o->listing.attached = qr && strcmp((const char *)qr, "attached") == 0;
                o->listing.out_of_service = sqlite3_column_int64(s, 5) != 0;
                sql_col_copy(s, 6, o->verification, sizeof(o->verification));
                sql_col_copy(s, 7, o->contract, sizeof(o->contract));
                sql_col_copy(s, 8, o->member_status, sizeof(o->member_status));
                o->listing.host_publishable = sqlite3_column_int(s, 9) != 0;
        }
        sqlite3_reset(s);
        return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

int store_slot_charger_get(struct store *st, int64_t charger_id, struct store_slot_charger *out)
{
        sqlite3 *db = store_reader(st);

        if (!db)
                return -EIO;
        return db_charger(db, charger_id, out);
}

int store_slot_is_host_actor(struct store *st, int64_t host_id, int64_t member_id, bool *out)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r;

        *out = false;
        if (host_id == member_id) {
                *out = true;
                return 0;
        }
        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT 1 FROM host_admins WHERE host_id = ? AND member_id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, host_id);
        sqlite3_bind_int64(s, 2, member_id);
        r = sql_step_row(s);
        sqlite3_reset(s);
        if (r < 0)
                return r;
        *out = r == 1;
        return 0;
}

/* ---- shared statements -------------------------------------------------------- */

/* The first slot of the charger other than except_id overlapping [s, e):
 * 1 found (*o filled), 0 none, <0 error. */
static int db_slot_overlapping(sqlite3 *db, int64_t charger_id, int64_t s_at, int64_t e_at,
                               int64_t except_id, struct store_slot *o)
{
        sqlite3_stmt *s = store_prepare(db, "SELECT " SLOT_COLS " FROM slots"
                                            " WHERE charger_id = ?1 AND ends_at > ?2"
                                            " AND starts_at < ?3 AND id <> ?4"
                                            " ORDER BY ends_at LIMIT 1");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, charger_id);
        sqlite3_bind_int64(s, 2, s_at);
        sqlite3_bind_int64(s, 3, e_at);
        sqlite3_bind_int64(s, 4, except_id);
        r = sql_step_row(s);
        if (r == 1)
                slot_from_row(s, o);
        sqlite3_reset(s);
        return r;
}

static int db_slot_get(sqlite3 *db, int64_t id, struct store_slot *o)
{
        sqlite3_stmt *s = store_prepare(db, "SELECT " SLOT_COLS " FROM slots WHERE id = ?");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, id);
        r = sql_step_row(s);
        if (r == 1)
                slot_from_row(s, o);
        sqlite3_reset(s);
        return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

/*
 * Active reservations of the charger overlapping [from, to), oldest end
 * first, after the keyset (after_end, after_id), at most max into out.
 * Returns the count or <0.
 */
int store_slot_db_active_res(sqlite3 *db, int64_t charger_id, int64_t from, int64_t to,
                             int64_t after_end, int64_t after_id, struct slot_reservation *out,
                             size_t max)
{
        sqlite3_stmt *s = store_prepare(db,
                "SELECT id, starts_at, ends_at, status FROM reservations"
                " WHERE charger_id = ?1 AND status IN ('pending','confirmed','checked_in')"
                " AND ends_at > ?2 AND starts_at < ?3"
                " AND (ends_at > ?4 OR (ends_at = ?4 AND id > ?5))"
                " ORDER BY ends_at, id LIMIT ?6");
        size_t n = 0;
        int rc;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, charger_id);
        sqlite3_bind_int64(s, 2, from);
        sqlite3_bind_int64(s, 3, to);
        sqlite3_bind_int64(s, 4, after_end);
        sqlite3_bind_int64(s, 5, after_id);
        sqlite3_bind_int64(s, 6, (int64_t)max);
        for (;;) {
                rc = sqlite3_step(s);
                if (rc != SQLITE_ROW || n >= max)
                        break;
                out[n].id = sqlite3_column_int64(s, 0);
                out[n].starts_at = sqlite3_column_int64(s, 1);
                out[n].ends_at = sqlite3_column_int64(s, 2);
                out[n].status = slot_res_status_from_name((const char *)sqlite3_column_text(s, 3));
                n++;
        }
        sqlite3_reset(s);
        if (rc != SQLITE_DONE && rc != SQLITE_ROW)
                return store_errno(rc);
        return (int)n;
}

/*
 * CS-16: walks the active reservations overlapping old in batches and asks
 * the domain whether any blocks the change to new_r (NULL = delete).
 * 0 allowed, -EBUSY blocked (*blocker filled), <0 error.
 */
static int db_cs16_guard(sqlite3 *db, int64_t charger_id, const struct slot_range *old,
                         const struct slot_range *new_r, bool price_changes,
                         struct store_reservation_brief *blocker)
{
        struct slot_reservation batch[RES_BATCH];
        int64_t after_end = INT64_MIN, after_id = 0;
        int n;

        for (;;) {
                long k;

                n = store_slot_db_active_res(db, charger_id, old->starts_at, old->ends_at, after_end,
                                  after_id, batch, RES_BATCH);
                if (n <= 0)
                        return n;
                k = slot_change_blocker(old, new_r, price_changes, batch, (size_t)n);
                if (k >= 0) {
                        blocker->id = batch[k].id;
                        blocker->starts_at = batch[k].starts_at;
                        blocker->ends_at = batch[k].ends_at;
                        blocker->status = batch[k].status;
                        return -EBUSY;
                }
                if (n < RES_BATCH)
                        return 0;
                after_end = batch[n - 1].ends_at;
                after_id = batch[n - 1].id;
        }
}

static int db_slot_insert(sqlite3 *db, int64_t charger_id, const struct slot_range *rg,
                          int64_t price, int64_t now, struct store_slot *o)
{
        sqlite3_stmt *s = store_prepare(db, "INSERT INTO slots (charger_id, starts_at, ends_at,"
                                            " hourly_price, created_at, updated_at)"
                                            " VALUES (?, ?, ?, ?, ?, ?)");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, charger_id);
        sqlite3_bind_int64(s, 2, rg->starts_at);
        sqlite3_bind_int64(s, 3, rg->ends_at);
        sqlite3_bind_int64(s, 4, price);
        sqlite3_bind_int64(s, 5, now);
        sqlite3_bind_int64(s, 6, now);
        r = sql_exec_reset(s);
        if (r < 0)
                return r;
        o->id = sqlite3_last_insert_rowid(db);
        o->charger_id = charger_id;
        o->starts_at = rg->starts_at;
        o->ends_at = rg->ends_at;
        o->hourly_price = price;
        o->created_at = now;
        o->updated_at = now;
        return 0;
}

/* ---- create --------------------------------------------------------------------- */

struct create_job {
        int64_t charger_id;
        const struct slot_range *ranges;
        size_t n;
        int64_t price;
        const char *action;
        const struct store_actor *actor;
        int64_t now;
        struct store_slot *out;
        struct store_slot_conflict *why;
};

/* Loads the charger for a write: -ENOENT when missing or deleted, -EPERM
 * when its host is not publishable and check_publishable. */
static int db_charger_for_write(sqlite3 *db, int64_t charger_id, bool check_publishable,
                                struct store_slot_charger *c)
{
        int r = db_charger(db, charger_id, c);

        if (r < 0)
                return r;
        if (c->listing.deleted)
                return -ENOENT;
        if (check_publishable && !c->listing.host_publishable)
                return -EPERM;
        return 0;
}

static int create_fn(sqlite3 *db, void *arg)
{
        struct create_job *j = arg;
        struct store_slot_charger *c = &j->why->charger;
        int r;

        r = db_charger_for_write(db, j->charger_id, true, c);
        if (r < 0)
                return r;
        for (size_t i = 0; i < j->n; i++) {
                if (i > 0 && j->ranges[i].starts_at < j->ranges[i - 1].ends_at)
                        return -EINVAL;
                r = db_slot_overlapping(db, j->charger_id, j->ranges[i].starts_at,
                                        j->ranges[i].ends_at, 0, &j->why->slot);
                if (r < 0)
                        return r;
                if (r == 1)
                        return -EEXIST;
                r = db_slot_insert(db, j->charger_id, &j->ranges[i], j->price, j->now, &j->out[i]);
                if (r < 0)
                        return r;
        }
        if (j->n == 1)
                return store_host_action_append(db, j->actor, c->host_id, j->action, "slot",
                                                j->out[0].id, j->now);
        return store_host_action_append(db, j->actor, c->host_id, j->action, "charger",
                                        j->charger_id, j->now);
}

int store_slot_create(struct store *st, int64_t charger_id, const struct slot_range *ranges,
                      size_t n, int64_t hourly_price, const char *action,
                      const struct store_actor *actor, int64_t now, struct store_slot *out,
                      struct store_slot_conflict *why)
{
        struct create_job j = {
                .charger_id = charger_id, .ranges = ranges, .n = n, .price = hourly_price,
                .action = action, .actor = actor, .now = now, .out = out, .why = why,
        };

        if (n < 1 || n > STORE_SLOT_LIST_MAX)
                return -EINVAL;
        memset(why, 0, sizeof(*why));
        return store_write(st, create_fn, &j);
}

int store_slot_get(struct store *st, int64_t id, struct store_slot *out)
{
        sqlite3 *db = store_reader(st);

        if (!db)
                return -EIO;
        return db_slot_get(db, id, out);
}

/* ---- update and delete -------------------------------------------------------------- */

struct change_job {
        int64_t id;
        bool remove;
        struct slot_range new_r;
        int64_t price;
        bool check_publishable;
        const struct store_actor *actor;
        int64_t now;
        struct store_slot *out;
        struct store_slot_conflict *why;
};

static int change_fn(sqlite3 *db, void *arg)
{
        struct change_job *j = arg;
        struct store_slot old;
        struct slot_range old_r;
        sqlite3_stmt *s;
        int r;

        r = db_slot_get(db, j->id, &old);
        if (r < 0)
                return r;
        r = db_charger_for_write(db, old.charger_id, j->check_publishable && !j->remove,
                                 &j->why->charger);
        if (r < 0)
                return r;
        old_r.starts_at = old.starts_at;
        old_r.ends_at = old.ends_at;
        r = db_cs16_guard(db, old.charger_id, &old_r, j->remove ? NULL : &j->new_r,
                          !j->remove && j->price != old.hourly_price, &j->why->res);
        if (r < 0)
                return r;
        if (j->remove) {
                s = store_prepare(db, "DELETE FROM slots WHERE id = ?");
                if (!s)
                        return -EIO;
                sqlite3_bind_int64(s, 1, j->id);
                r = sql_exec_change(s);
                if (r < 0)
                        return r;
                return store_host_action_append(db, j->actor, j->why->charger.host_id,
                                                "slot.delete", "slot", j->id, j->now);
        }
        r = db_slot_overlapping(db, old.charger_id, j->new_r.starts_at, j->new_r.ends_at, j->id,
                                &j->why->slot);
        if (r < 0)
                return r;
        if (r == 1)
                return -EEXIST;
        s = store_prepare(db, "UPDATE slots SET starts_at = ?2, ends_at = ?3, hourly_price = ?4,"
                              " updated_at = ?5 WHERE id = ?1");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->id);
        sqlite3_bind_int64(s, 2, j->new_r.starts_at);
        sqlite3_bind_int64(s, 3, j->new_r.ends_at);
        sqlite3_bind_int64(s, 4, j->price);
        sqlite3_bind_int64(s, 5, j->now);
        r = sql_exec_change(s);
        if (r < 0)
                return r;
        *j->out = old;
        j->out->starts_at = j->new_r.starts_at;
        j->out->ends_at = j->new_r.ends_at;
        j->out->hourly_price = j->price;
        j->out->updated_at = j->now;
        return store_host_action_append(db, j->actor, j->why->charger.host_id, "slot.update",
                                        "slot", j->id, j->now);
}

int store_slot_update(struct store *st, int64_t id, int64_t starts_at, int64_t ends_at,
                      int64_t hourly_price, bool check_publishable,
                      const struct store_actor *actor, int64_t now, struct store_slot *out,
                      struct store_slot_conflict *why)
{
        struct change_job j = {
                .id = id, .new_r = { starts_at, ends_at }, .price = hourly_price,
                .check_publishable = check_publishable, .actor = actor, .now = now, .out = out,
                .why = why,
        };

        if (ends_at <= starts_at)
                return -EINVAL;
        memset(why, 0, sizeof(*why));
        return store_write(st, change_fn, &j);
}

int store_slot_delete(struct store *st, int64_t id, const struct store_actor *actor, int64_t now,
                      struct store_slot_conflict *why)
{
        struct store_slot unused;
        struct change_job j = {
                .id = id, .remove = true, .actor = actor, .now = now, .out = &unused, .why = why,
        };

        memset(why, 0, sizeof(*why));
        return store_write(st, change_fn, &j);
}

/* ---- reads ---------------------------------------------------------------------------- */

int store_slot_has_future(struct store *st, int64_t charger_id, int64_t now, bool *out)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r;

        *out = false;
        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT 1 FROM slots WHERE charger_id = ? AND ends_at > ? LIMIT 1");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, charger_id);
        sqlite3_bind_int64(s, 2, now);
        r = sql_step_row(s);
        sqlite3_reset(s);
        if (r < 0)
                return r;
        *out = r == 1;
        return 0;
}

int store_slot_list(struct store *st, int64_t charger_id, int64_t from, int64_t to, size_t max,
                    struct store_slot **items, bool *truncated)
{
        sqlite3 *db = store_reader(st);
        struct store_slot *arr;
        sqlite3_stmt *s;
        size_t n = 0;
        int rc;

        *items = NULL;
        *truncated = false;
        if (max < 1 || max > STORE_SLOT_LIST_MAX)
                return -EINVAL;
        if (!db)
                return -EIO;
        /* Rows come in end order, which is start order: stop at the first
         * slot starting at or after `to` instead of scanning the rest. */
        s = store_prepare(db, "SELECT " SLOT_COLS " FROM slots WHERE charger_id = ? AND ends_at > ?"
                              " ORDER BY ends_at");
        if (!s)
                return -EIO;
        arr = calloc(max, sizeof(*arr));
        if (!arr)
                return -ENOMEM;
        sqlite3_bind_int64(s, 1, charger_id);
        sqlite3_bind_int64(s, 2, from);
        for (;;) {
                rc = sqlite3_step(s);
                if (rc != SQLITE_ROW)
                        break;
                if (to && sqlite3_column_int64(s, 2) >= to)
                        break;
                if (n == max) {
                        *truncated = true;
                        break;
                }
                slot_from_row(s, &arr[n++]);
        }
        sqlite3_reset(s);
        if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
                free(arr);
                return store_errno(rc);
        }
        if (n == 0) {
                free(arr);
                arr = NULL;
        }
        *items = arr;
        return (int)n;
}

int store_slot_window(struct store *st, int64_t charger_id, int64_t from, int64_t to,
                      struct slot **slots, size_t *n_slots, struct slot_reservation **res,
                      size_t *n_res)
{
        sqlite3 *db = store_reader(st);
        struct store_slot *items = NULL;
        struct slot *sl = NULL;
        struct slot_reservation *rv = NULL;
        bool truncated;
        int n, m;

        *slots = NULL;
        *res = NULL;
        *n_slots = *n_res = 0;
        if (!db)
                return -EIO;
        n = store_slot_list(st, charger_id, from, to, STORE_SLOT_LIST_MAX, &items, &truncated);
        if (n < 0)
                return n;
        if (truncated) {
                free(items);
                return -E2BIG;
        }
        if (n > 0) {
                sl = calloc((size_t)n, sizeof(*sl));
                if (!sl) {
                        free(items);
                        return -ENOMEM;
                }
                for (int i = 0; i < n; i++) {
                        sl[i].id = items[i].id;
                        sl[i].starts_at = items[i].starts_at;
                        sl[i].ends_at = items[i].ends_at;
                        sl[i].hourly_price = items[i].hourly_price;
                }
        }
        free(items);
        rv = calloc(STORE_SLOT_WINDOW_MAX + 1, sizeof(*rv));
        if (!rv) {
                free(sl);
                return -ENOMEM;
        }
        m = store_slot_db_active_res(db, charger_id, from, to, INT64_MIN, 0, rv, STORE_SLOT_WINDOW_MAX + 1);
        if (m < 0 || m > STORE_SLOT_WINDOW_MAX) {
                free(sl);
                free(rv);
                return m < 0 ? m : -E2BIG;
        }
        if (m == 0) {
                free(rv);
                rv = NULL;
        }
        *slots = sl;
        *n_slots = (size_t)n;
        *res = rv;
        *n_res = (size_t)m;
        return 0;
}
