/*
 * store_charger.c - chargers, QR codes, photos, operator notes, sites and
 * limit applications in the store (see store_charger.h).
 *
 * The R*Tree charger_geo (degrees, one point box per charger) is written
 * in the same job as the chargers row it mirrors: inserted on create,
 * moved on update, removed on delete. Positions are stored exactly as
 * microdegrees in chargers; the R*Tree's 32-bit floats only pre-filter.
 *
 * "Publishable" (CS-8) is computed in SQL here, the same condition as
 * host_publishable() in domain/host.h: verification 'verified', contract
 * 'active' and the member 'active'.
 */
#include "store/store_charger.h"

#include <stdlib.h>
#include <string.h>

#include "store/sql.h"
#include "store/store_host.h"

/* Columns 0..20: what a listing shows (charger_listing_from_row). */
#define CHARGER_LISTING_COLS \
        "c.id, c.host_id, COALESCE(c.site_id, 0), c.kind, c.maker, c.model, c.output_w," \
        " c.connector, c.postcode, c.prefecture, c.city, c.line1, c.line2, c.lat_e6," \
        " c.lon_e6, c.surroundings, c.access_notes, c.usage_notes, c.onsite_reservation," \
        " c.penalty_enabled, c.extendable"

#define CHARGER_COLS CHARGER_LISTING_COLS \
        ", c.out_of_service, c.qr_state, c.qr_token," \
        " c.qr_token_hash, c.qr_issued_at, c.qr_mailed_at, c.qr_attached_at," \
        " c.delisted_reason, c.delisted_note, c.delisted_at, c.deleted_at, c.created_at," \
        " c.updated_at, h.display_name," \
        " (h.verification = 'verified' AND h.contract = 'active' AND m.status = 'active')," \
        " (SELECT count(*) FROM charger_photos p WHERE p.charger_id = c.id)"

#define CHARGER_FROM \
        " FROM chargers c JOIN hosts h ON h.member_id = c.host_id" \
        " JOIN members m ON m.id = c.host_id"

static void charger_listing_from_row(sqlite3_stmt *s, struct store_charger *c)
{
        c->id = sqlite3_column_int64(s, 0);
        c->host_id = sqlite3_column_int64(s, 1);
        c->site_id = sqlite3_column_int64(s, 2);
        sql_col_copy(s, 3, c->kind, sizeof(c->kind));
        sql_col_copy(s, 4, c->maker, sizeof(c->maker));
        sql_col_copy(s, 5, c->model, sizeof(c->model));
        c->output_w = sqlite3_column_int64(s, 6);
        sql_col_copy(s, 7, c->connector, sizeof(c->connector));
        sql_col_copy(s, 8, c->postcode, sizeof(c->postcode));
        sql_col_copy(s, 9, c->prefecture, sizeof(c->prefecture));
        sql_col_copy(s, 10, c->city, sizeof(c->city));
        sql_col_copy(s, 11, c->line1, sizeof(c->line1));
        sql_col_copy(s, 12, c->line2, sizeof(c->line2));
        c->lat_e6 = sqlite3_column_int64(s, 13);
        c->lon_e6 = sqlite3_column_int64(s, 14);
        sql_col_copy(s, 15, c->surroundings, sizeof(c->surroundings));
        sql_col_copy(s, 16, c->access_notes, sizeof(c->access_notes));
        sql_col_copy(s, 17, c->usage_notes, sizeof(c->usage_notes));
        c->onsite_reservation = sqlite3_column_int(s, 18) != 0;
        c->penalty_enabled = sqlite3_column_int(s, 19) != 0;
        c->extendable = sqlite3_column_int(s, 20) != 0;
}

static void charger_from_row(sqlite3_stmt *s, struct store_charger *c)
{
        charger_listing_from_row(s, c);
        c->out_of_service = sqlite3_column_int(s, 21) != 0;
        sql_col_copy(s, 22, c->qr_state, sizeof(c->qr_state));
        sql_col_copy(s, 23, c->qr_token, sizeof(c->qr_token));
        sql_col_copy(s, 24, c->qr_token_hash, sizeof(c->qr_token_hash));
        c->qr_issued_at = sqlite3_column_int64(s, 25);
        c->qr_mailed_at = sqlite3_column_int64(s, 26);
        c->qr_attached_at = sqlite3_column_int64(s, 27);
        sql_col_copy(s, 28, c->delisted_reason, sizeof(c->delisted_reason));
        sql_col_copy(s, 29, c->delisted_note, sizeof(c->delisted_note));
        c->delisted_at = sqlite3_column_int64(s, 30);
        c->deleted_at = sqlite3_column_int64(s, 31);
        c->created_at = sqlite3_column_int64(s, 32);
        c->updated_at = sqlite3_column_int64(s, 33);
        sql_col_copy(s, 34, c->host_display_name, sizeof(c->host_display_name));
        c->host_publishable = sqlite3_column_int(s, 35) != 0;
        c->photos = sqlite3_column_int64(s, 36);
}

void store_charger_status(const struct store_charger *c, struct charger_status *out)
{
        out->deleted = c->deleted_at != 0;
        out->delisted = c->delisted_reason[0] != '\0';
        out->qr_state = charger_qr_state_from_name(c->qr_state);
        out->host_publishable = c->host_publishable;
}

/* One charger by id on db (a reader, or the writer inside a job). */
static int charger_db_get(sqlite3 *db, int64_t id, struct store_charger *out)
{
        sqlite3_stmt *s = store_prepare(db, "SELECT " CHARGER_COLS CHARGER_FROM
                                            " WHERE c.id = ?");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, id);
        r = sql_step_row(s);
        if (r == 1)
                charger_from_row(s, out);
        sqlite3_reset(s);
        return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

int store_charger_get_listing(struct store *st, int64_t id, struct store_charger *out)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r;

        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT " CHARGER_LISTING_COLS ", h.display_name"
                              " FROM chargers c JOIN hosts h ON h.member_id = c.host_id"
                              " WHERE c.id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, id);
        r = sql_step_row(s);
        if (r == 1) {
                charger_listing_from_row(s, out);
                sql_col_copy(s, 21, out->host_display_name, sizeof(out->host_display_name));
        }
        sqlite3_reset(s);
        return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

int store_charger_get(struct store *st, int64_t id, struct store_charger *out)
{
        sqlite3 *db = store_reader(st);

        if (!db)
                return -EIO;
        return charger_db_get(db, id, out);
}

/* The live charger's host (inside a job): -ENOENT when none or deleted. */
static int charger_db_host(sqlite3 *db, int64_t id, int64_t *host_id)
{
        sqlite3_stmt *s = store_prepare(db, "SELECT host_id FROM chargers"
                                            " WHERE id = ? AND deleted_at = 0");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, id);
        r = sql_step_row(s);
        if (r == 1)
                *host_id = sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
        return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

/* 0 when site_id is 0 or a site of host_id; -ENXIO otherwise. */
static int site_db_check(sqlite3 *db, int64_t site_id, int64_t host_id)
{
        sqlite3_stmt *s;
        int r;

        if (site_id == 0)
                return 0;
        s = store_prepare(db, "SELECT 1 FROM sites WHERE id = ? AND host_id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, site_id);
        sqlite3_bind_int64(s, 2, host_id);
        r = sql_step_row(s);
        sqlite3_reset(s);
        return r == 1 ? 0 : r == 0 ? -ENXIO : r;
}

static void bind_site(sqlite3_stmt *s, int i, int64_t site_id)
{
        if (site_id)
                sqlite3_bind_int64(s, i, site_id);
        else
                sqlite3_bind_null(s, i);
}

static int geo_db_put(sqlite3 *db, int64_t id, int64_t lat_e6, int64_t lon_e6)
{
        sqlite3_stmt *s = store_prepare(db,
                "INSERT OR REPLACE INTO charger_geo (id, min_lat, max_lat, min_lon, max_lon)"
                " VALUES (?1, ?2, ?2, ?3, ?3)");

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_double(s, 2, charger_e6_to_deg(lat_e6));
        sqlite3_bind_double(s, 3, charger_e6_to_deg(lon_e6));
        return sql_exec_reset(s);
}

/* ---- create / update / delete ----------------------------------------------- */

struct charger_job {
        const struct store_charger *c;
        const struct store_actor *actor;
        int64_t now;
        int64_t id;
        struct store_reservation_ref *blocker;
};

/* The host-editable fields, bound to ?2 .. ?20 in the same order by the
 * INSERT and the UPDATE below (site_id .. extendable). */
static void charger_bind_fields(sqlite3_stmt *s, const struct store_charger *c)
{
        bind_site(s, 2, c->site_id);
        sql_bind_text(s, 3, c->kind);
        sql_bind_text(s, 4, c->maker);
        sql_bind_text(s, 5, c->model);
        sqlite3_bind_int64(s, 6, c->output_w);
        sql_bind_text(s, 7, c->connector);
        sql_bind_text(s, 8, c->postcode);
        sql_bind_text(s, 9, c->prefecture);
        sql_bind_text(s, 10, c->city);
        sql_bind_text(s, 11, c->line1);
        sql_bind_text(s, 12, c->line2);
        sqlite3_bind_int64(s, 13, c->lat_e6);
        sqlite3_bind_int64(s, 14, c->lon_e6);
        sql_bind_text(s, 15, c->surroundings);
        sql_bind_text(s, 16, c->access_notes);
        sqlite3_bind_int(s, 17, c->onsite_reservation);
        sql_bind_text(s, 18, c->usage_notes);
        sqlite3_bind_int(s, 19, c->penalty_enabled);
        sqlite3_bind_int(s, 20, c->extendable);
}

static int charger_create_run(sqlite3 *db, void *arg)
{
        struct charger_job *j = arg;
        const struct store_charger *c = j->c;
        sqlite3_stmt *s;
        int r = site_db_check(db, c->site_id, c->host_id);

        if (r < 0)
                return r;
        s = store_prepare(db,
                "INSERT INTO chargers (host_id, site_id, kind, maker, model, output_w, connector,"
                " postcode, prefecture, city, line1, line2, lat_e6, lon_e6, surroundings,"
                " access_notes, onsite_reservation, usage_notes, penalty_enabled, extendable,"
                " qr_token_hash, qr_token, qr_state, qr_issued_at, created_at, updated_at)"
                " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,"
                " ?20,?21,?22,'issued',?23,?23,?23)");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, c->host_id);
        charger_bind_fields(s, c);
        sql_bind_text(s, 21, c->qr_token_hash);
        sql_bind_text(s, 22, c->qr_token);
        sqlite3_bind_int64(s, 23, j->now);
        r = sql_exec_reset(s);
        if (r < 0)
                return r;
        j->id = sqlite3_last_insert_rowid(db);
        r = geo_db_put(db, j->id, c->lat_e6, c->lon_e6);
        if (r < 0)
                return r;
        return store_host_action_append(db, j->actor, c->host_id, "charger.create", "charger",
                                        j->id, j->now);
}

int store_charger_create(struct store *st, const struct store_charger *c,
                         const struct store_actor *actor, int64_t now, int64_t *id_out)
{
        struct charger_job j = { .c = c, .actor = actor, .now = now };
        int r = store_write(st, charger_create_run, &j);

        if (r == 0 && id_out)
                *id_out = j.id;
        return r;
}

static int charger_update_run(sqlite3 *db, void *arg)
{
        struct charger_job *j = arg;
        const struct store_charger *c = j->c;
        int64_t host_id = 0;
        sqlite3_stmt *s;
        int r = charger_db_host(db, c->id, &host_id);

        if (r == 0)
                r = site_db_check(db, c->site_id, host_id);
        if (r < 0)
                return r;
        s = store_prepare(db,
                "UPDATE chargers SET site_id = ?2, kind = ?3, maker = ?4, model = ?5,"
                " output_w = ?6, connector = ?7, postcode = ?8, prefecture = ?9, city = ?10,"
                " line1 = ?11, line2 = ?12, lat_e6 = ?13, lon_e6 = ?14, surroundings = ?15,"
                " access_notes = ?16, onsite_reservation = ?17, usage_notes = ?18,"
                " penalty_enabled = ?19, extendable = ?20, updated_at = ?21"
                " WHERE id = ?1 AND deleted_at = 0");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, c->id);
        charger_bind_fields(s, c);
        sqlite3_bind_int64(s, 21, j->now);
        r = sql_exec_change(s);
        if (r < 0)
                return r;
        r = geo_db_put(db, c->id, c->lat_e6, c->lon_e6);
        if (r < 0)
                return r;
        /* The host's update answers the operator's open change requests. */
        s = store_prepare(db, "UPDATE charger_notes SET resolved_at = ?2"
                              " WHERE charger_id = ?1 AND kind = 'change_request'"
                              "   AND resolved_at = 0");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, c->id);
        sqlite3_bind_int64(s, 2, j->now);
        r = sql_exec_reset(s);
        if (r < 0)
                return r;
        return store_host_action_append(db, j->actor, host_id, "charger.update", "charger",
                                        c->id, j->now);
}

int store_charger_update(struct store *st, const struct store_charger *c,
                         const struct store_actor *actor, int64_t now)
{
        struct charger_job j = { .c = c, .actor = actor, .now = now };

        return store_write(st, charger_update_run, &j);
}

/* The first live reservation of the charger (CS-16/CS-18), if any: 1, 0, <0. */
static int reservation_db_live(sqlite3 *db, int64_t charger_id,
                               struct store_reservation_ref *out)
{
        sqlite3_stmt *s = store_prepare(db,
                "SELECT id, status, starts_at, ends_at FROM reservations"
                " WHERE charger_id = ? AND status IN ('pending','confirmed','checked_in')"
                " ORDER BY starts_at, id LIMIT 1");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, charger_id);
        r = sql_step_row(s);
        if (r == 1 && out) {
                out->id = sqlite3_column_int64(s, 0);
                sql_col_copy(s, 1, out->status, sizeof(out->status));
                out->starts_at = sqlite3_column_int64(s, 2);
                out->ends_at = sqlite3_column_int64(s, 3);
        }
        sqlite3_reset(s);
        return r;
}

static int charger_delete_run(sqlite3 *db, void *arg)
{
        struct charger_job *j = arg;
        int64_t host_id = 0;
        sqlite3_stmt *s;
        int r = charger_db_host(db, j->id, &host_id);

        if (r < 0)
                return r;
        r = reservation_db_live(db, j->id, j->blocker);
        if (r < 0)
                return r;
        if (r == 1)
                return -ENOTEMPTY;
        s = store_prepare(db, "UPDATE chargers SET deleted_at = ?2, updated_at = ?2,"
                              " qr_token = '' WHERE id = ?1 AND deleted_at = 0");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->id);
        sqlite3_bind_int64(s, 2, j->now);
        r = sql_exec_change(s);
        if (r < 0)
                return r;
        s = store_prepare(db, "DELETE FROM charger_geo WHERE id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->id);
        r = sql_exec_reset(s);
        if (r < 0)
                return r;
        return store_host_action_append(db, j->actor, host_id, "charger.delete", "charger",
                                        j->id, j->now);
}

int store_charger_delete(struct store *st, int64_t id, const struct store_actor *actor,
                         int64_t now, struct store_reservation_ref *blocker)
{
        struct store_reservation_ref unused;
        struct charger_job j = { .actor = actor, .now = now, .id = id,
                                 .blocker = blocker ? blocker : &unused };

        return store_write(st, charger_delete_run, &j);
}

/* Runs a charger SELECT with one bound id and calls cb per row. */
static int charger_list(sqlite3_stmt *s, int64_t id,
                        void (*cb)(const struct store_charger *c, void *ud), void *ud)
{
        struct store_charger *c;
        int n = 0, rc;

        if (!s)
                return -EIO;
        c = malloc(sizeof(*c));         /* ~20 KiB: not on a worker's stack */
        if (!c) {
                sqlite3_reset(s);
                return -ENOMEM;
        }
        sqlite3_bind_int64(s, 1, id);
        for (;;) {
                rc = sqlite3_step(s);
                if (rc != SQLITE_ROW)
                        break;
                charger_from_row(s, c);
                cb(c, ud);
                n++;
        }
        sqlite3_reset(s);
        free(c);
        return rc == SQLITE_DONE ? n : store_errno(rc);
}

int store_charger_list_host(struct store *st, int64_t host_id,
                            void (*cb)(const struct store_charger *c, void *ud), void *ud)
{
        sqlite3 *db = store_reader(st);

        if (!db)
                return -EIO;
        return charger_list(store_prepare(db, "SELECT " CHARGER_COLS CHARGER_FROM
                                              " WHERE c.host_id = ? AND c.deleted_at = 0"
                                              " ORDER BY c.id"), host_id, cb, ud);
}

int store_site_chargers(struct store *st, int64_t site_id,
                        void (*cb)(const struct store_charger *c, void *ud), void *ud)
{
        sqlite3 *db = store_reader(st);

        if (!db)
                return -EIO;
        return charger_list(store_prepare(db, "SELECT " CHARGER_COLS CHARGER_FROM
                                              " WHERE c.site_id = ? AND c.deleted_at = 0"
                                              " ORDER BY c.id"), site_id, cb, ud);
}

/* ---- QR (CS-11) ----------------------------------------------------------------- */

struct qr_job {
        int64_t id;
        enum charger_qr_event ev;
        const char *token;
        const char *token_hash;
        const struct store_actor *actor;
        int64_t now;
};

static int qr_event_run(sqlite3 *db, void *arg)
{
        static const char *const actions[] = {
                [CHARGER_QR_MAIL] = "charger.qr_mailed",
                [CHARGER_QR_ATTACH] = "charger.qr_attached",
                [CHARGER_QR_ROTATE] = "charger.qr_rotated",
        };
        struct qr_job *j = arg;
        char state[12], hash[CRYPTO_HASH_HEX];
        int64_t host_id;
        sqlite3_stmt *s;
        int r, cur, next = 0;

        s = store_prepare(db, "SELECT host_id, qr_state, qr_token_hash FROM chargers"
                              " WHERE id = ? AND deleted_at = 0");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->id);
        r = sql_step_row(s);
        if (r == 1) {
                host_id = sqlite3_column_int64(s, 0);
                sql_col_copy(s, 1, state, sizeof(state));
                sql_col_copy(s, 2, hash, sizeof(hash));
        }
        sqlite3_reset(s);
        if (r != 1)
                return r == 0 ? -ENOENT : r;
        cur = charger_qr_state_from_name(state);
        r = charger_qr_next(cur, j->ev, &next);
        if (r < 0)
                return r;
        switch (j->ev) {
        case CHARGER_QR_MAIL:
                s = store_prepare(db, "UPDATE chargers SET qr_state = 'mailed', qr_token = '',"
                                      " qr_mailed_at = ?2, updated_at = ?2 WHERE id = ?1");
                break;
        case CHARGER_QR_ATTACH:
                if (!j->token_hash || !crypto_streq(hash, j->token_hash))
                        return -EACCES;
                if (cur == CHARGER_QR_ATTACHED)
                        return 0;       /* scanned again: nothing changes */
                s = store_prepare(db, "UPDATE chargers SET qr_state = 'attached',"
                                      " qr_attached_at = ?2, updated_at = ?2 WHERE id = ?1");
                break;
        case CHARGER_QR_ROTATE:
                s = store_prepare(db, "UPDATE chargers SET qr_state = 'issued', qr_token = ?3,"
                                      " qr_token_hash = ?4, qr_issued_at = ?2, qr_mailed_at = 0,"
                                      " qr_attached_at = 0, updated_at = ?2 WHERE id = ?1");
                break;
        default:
                return -EINVAL;
        }
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->id);
        sqlite3_bind_int64(s, 2, j->now);
        if (j->ev == CHARGER_QR_ROTATE) {
                sql_bind_text(s, 3, j->token);
                sql_bind_text(s, 4, j->token_hash);
        }
        r = sql_exec_change(s);
        if (r < 0)
                return r;
        return store_host_action_append(db, j->actor, host_id, actions[j->ev], "charger", j->id,
                                        j->now);
}

int store_charger_qr_event(struct store *st, int64_t id, enum charger_qr_event ev,
                           const char *token, const char *token_hash,
                           const struct store_actor *actor, int64_t now)
{
        struct qr_job j = { id, ev, token, token_hash, actor, now };

        if (ev == CHARGER_QR_ROTATE && (!token || !token_hash))
                return -EINVAL;
        return store_write(st, qr_event_run, &j);
}

/* ---- photos ---------------------------------------------------------------------- */

struct photo_job {
        int64_t charger_id;
        int64_t photo_id;
        const struct store_charger_photo *meta;
        const void *data;
        size_t len;
        int64_t max;
        const struct store_actor *actor;
        int64_t now;
};

static int photo_add_run(sqlite3 *db, void *arg)
{
        struct photo_job *j = arg;
        int64_t host_id = 0, n;
        sqlite3_stmt *s;
        int r = charger_db_host(db, j->charger_id, &host_id);

        if (r < 0)
                return r;
        s = store_prepare(db, "SELECT count(*) FROM charger_photos WHERE charger_id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->charger_id);
        r = sql_step_row(s);
        n = r == 1 ? sqlite3_column_int64(s, 0) : 0;
        sqlite3_reset(s);
        if (r != 1)
                return r < 0 ? r : -EIO;
        if (n >= j->max)
                return -EDQUOT;
        s = store_prepare(db, "INSERT INTO charger_photos (charger_id, content_type, width,"
                              " height, size, data, created_at) VALUES (?,?,?,?,?,?,?)");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->charger_id);
        sql_bind_text(s, 2, j->meta->content_type);
        sqlite3_bind_int64(s, 3, j->meta->width);
        sqlite3_bind_int64(s, 4, j->meta->height);
        sqlite3_bind_int64(s, 5, (int64_t)j->len);
        sqlite3_bind_blob64(s, 6, j->data, j->len, SQLITE_STATIC);
        sqlite3_bind_int64(s, 7, j->now);
        r = sql_exec_reset(s);
        if (r < 0)
                return r;
        j->photo_id = sqlite3_last_insert_rowid(db);
        return store_host_action_append(db, j->actor, host_id, "charger.photo_add",
                                        "charger_photo", j->photo_id, j->now);
}

int store_charger_photo_add(struct store *st, int64_t charger_id,
                            const struct store_charger_photo *meta, const void *data, size_t len,
                            int64_t max_photos, const struct store_actor *actor, int64_t now,
                            int64_t *id_out)
{
        struct photo_job j = { .charger_id = charger_id, .meta = meta, .data = data, .len = len,
                               .max = max_photos, .actor = actor, .now = now };
        int r;

        if (!data || len == 0)
                return -EINVAL;
        r = store_write(st, photo_add_run, &j);
        if (r == 0 && id_out)
                *id_out = j.photo_id;
        return r;
}

static void photo_from_row(sqlite3_stmt *s, struct store_charger_photo *p)
{
        p->id = sqlite3_column_int64(s, 0);
        p->charger_id = sqlite3_column_int64(s, 1);
        sql_col_copy(s, 2, p->content_type, sizeof(p->content_type));
        p->width = sqlite3_column_int64(s, 3);
        p->height = sqlite3_column_int64(s, 4);
        p->size = sqlite3_column_int64(s, 5);
        p->created_at = sqlite3_column_int64(s, 6);
}

int store_charger_photo_get(struct store *st, int64_t charger_id, int64_t photo_id,
                            struct store_charger_photo *meta, void **data)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r;

        if (data)
                *data = NULL;
        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT id, charger_id, content_type, width, height, size,"
                              " created_at, data FROM charger_photos"
                              " WHERE id = ? AND charger_id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, photo_id);
        sqlite3_bind_int64(s, 2, charger_id);
        r = sql_step_row(s);
        if (r == 1) {
                photo_from_row(s, meta);
                if (data) {
                        const void *b = sqlite3_column_blob(s, 7);
                        int n = sqlite3_column_bytes(s, 7);

                        *data = malloc(n > 0 ? (size_t)n : 1);
                        if (!*data) {
                                sqlite3_reset(s);
                                return -ENOMEM;
                        }
                        if (n > 0)
                                memcpy(*data, b, (size_t)n);
                        meta->size = n;
                }
        }
        sqlite3_reset(s);
        return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

static int photo_delete_run(sqlite3 *db, void *arg)
{
        struct photo_job *j = arg;
        int64_t host_id = 0;
        sqlite3_stmt *s;
        int r = charger_db_host(db, j->charger_id, &host_id);

        if (r < 0)
                return r;
        s = store_prepare(db, "DELETE FROM charger_photos WHERE id = ? AND charger_id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->photo_id);
        sqlite3_bind_int64(s, 2, j->charger_id);
        r = sql_exec_change(s);
        if (r < 0)
                return r;
        return store_host_action_append(db, j->actor, host_id, "charger.photo_delete",
                                        "charger_photo", j->photo_id, j->now);
}

int store_charger_photo_delete(struct store *st, int64_t charger_id, int64_t photo_id,
                               const struct store_actor *actor, int64_t now)
{
        struct photo_job j = { .charger_id = charger_id, .photo_id = photo_id, .actor = actor,
                               .now = now };

        return store_write(st, photo_delete_run, &j);
}

int store_charger_photo_list(struct store *st, int64_t charger_id,
                             void (*cb)(const struct store_charger_photo *p, void *ud), void *ud)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int n = 0, rc;

        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT id, charger_id, content_type, width, height, size,"
                              " created_at FROM charger_photos WHERE charger_id = ? ORDER BY id");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, charger_id);
        for (;;) {
                struct store_charger_photo p;

                rc = sqlite3_step(s);
                if (rc != SQLITE_ROW)
                        break;
                photo_from_row(s, &p);
                cb(&p, ud);
                n++;
        }
        sqlite3_reset(s);
        return rc == SQLITE_DONE ? n : store_errno(rc);
}

/* ---- operator notes (CS-10) ------------------------------------------------------- */

struct note_job {
        int64_t charger_id;
        const char *kind;
        const char *reason;
        const char *message;
        const struct store_actor *actor;
        int64_t now;
        int64_t id;
};

static int note_db_insert(sqlite3 *db, struct note_job *j)
{
        sqlite3_stmt *s = store_prepare(db, "INSERT INTO charger_notes (charger_id, kind, reason,"
                                            " message, actor_id, at) VALUES (?,?,?,?,?,?)");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->charger_id);
        sql_bind_text(s, 2, j->kind);
        sql_bind_text(s, 3, j->reason);
        sql_bind_text(s, 4, j->message);
        sqlite3_bind_int64(s, 5, j->actor ? j->actor->member_id : 0);
        sqlite3_bind_int64(s, 6, j->now);
        r = sql_exec_reset(s);
        if (r == 0)
                j->id = sqlite3_last_insert_rowid(db);
        return r;
}

static int change_request_run(sqlite3 *db, void *arg)
{
        struct note_job *j = arg;
        int64_t host_id = 0;
        int r = charger_db_host(db, j->charger_id, &host_id);

        if (r == 0)
                r = note_db_insert(db, j);
        if (r < 0)
                return r;
        return store_host_action_append(db, j->actor, host_id, "charger.change_request",
                                        "charger_note", j->id, j->now);
}

int store_charger_change_request(struct store *st, int64_t charger_id, const char *message,
                                 const struct store_actor *actor, int64_t now, int64_t *id_out)
{
        struct note_job j = { charger_id, "change_request", "", message, actor, now, 0 };
        int r = store_write(st, change_request_run, &j);

        if (r == 0 && id_out)
                *id_out = j.id;
        return r;
}

static int delist_run(sqlite3 *db, void *arg)
{
        struct note_job *j = arg;
        bool delist = strcmp(j->kind, "delisting") == 0;
        int64_t host_id = 0;
        sqlite3_stmt *s;
        int r = charger_db_host(db, j->charger_id, &host_id);

        if (r < 0)
                return r;
        if (delist)
                s = store_prepare(db, "UPDATE chargers SET delisted_reason = ?2,"
                                      " delisted_note = ?3, delisted_at = ?4, updated_at = ?4"
                                      " WHERE id = ?1 AND delisted_reason = ''");
        else
                s = store_prepare(db, "UPDATE chargers SET delisted_reason = '',"
                                      " delisted_note = '', delisted_at = 0, updated_at = ?4"
                                      " WHERE id = ?1 AND delisted_reason <> ''");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->charger_id);
        sql_bind_text(s, 2, delist ? j->reason : "");
        sql_bind_text(s, 3, delist ? j->message : "");
        sqlite3_bind_int64(s, 4, j->now);
        r = sql_exec_change(s);
        if (r == -ENOENT)
                return -EALREADY;       /* the charger exists: its state is the problem */
        if (r == 0)
                r = note_db_insert(db, j);
        if (r < 0)
                return r;
        return store_host_action_append(db, j->actor, host_id,
                                        delist ? "charger.delist" : "charger.relist", "charger",
                                        j->charger_id, j->now);
}

int store_charger_delist(struct store *st, int64_t charger_id, const char *reason,
                         const char *note, const struct store_actor *actor, int64_t now)
{
        struct note_job j = { charger_id, "delisting", reason, note, actor, now, 0 };

        return store_write(st, delist_run, &j);
}

int store_charger_relist(struct store *st, int64_t charger_id, const struct store_actor *actor,
                         int64_t now)
{
        struct note_job j = { charger_id, "relisting", "", "", actor, now, 0 };

        return store_write(st, delist_run, &j);
}

int store_charger_notes(struct store *st, int64_t charger_id, bool open_only,
                        void (*cb)(const struct store_charger_note *n, void *ud), void *ud)
{
        sqlite3 *db = store_reader(st);
        struct store_charger_note *n;
        sqlite3_stmt *s;
        int count = 0, rc;

        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT id, charger_id, kind, reason, message, actor_id, at,"
                              " resolved_at FROM charger_notes WHERE charger_id = ?1"
                              " AND (?2 = 0 OR (kind = 'change_request' AND resolved_at = 0))"
                              " ORDER BY id");
        if (!s)
                return -EIO;
        n = malloc(sizeof(*n));
        if (!n)
                return -ENOMEM;
        sqlite3_bind_int64(s, 1, charger_id);
        sqlite3_bind_int(s, 2, open_only);
        for (;;) {
                rc = sqlite3_step(s);
                if (rc != SQLITE_ROW)
                        break;
                n->id = sqlite3_column_int64(s, 0);
                n->charger_id = sqlite3_column_int64(s, 1);
                sql_col_copy(s, 2, n->kind, sizeof(n->kind));
                sql_col_copy(s, 3, n->reason, sizeof(n->reason));
                sql_col_copy(s, 4, n->message, sizeof(n->message));
                n->actor_id = sqlite3_column_int64(s, 5);
                n->at = sqlite3_column_int64(s, 6);
                n->resolved_at = sqlite3_column_int64(s, 7);
                cb(n, ud);
                count++;
        }
        sqlite3_reset(s);
        free(n);
        return rc == SQLITE_DONE ? count : store_errno(rc);
}

/* ---- sites (CS-12) ------------------------------------------------------------------ */

struct site_job {
        int64_t host_id;
        const char *name;
        const struct store_actor *actor;
        int64_t now;
        int64_t id;
};

static int site_create_run(sqlite3 *db, void *arg)
{
        struct site_job *j = arg;
        sqlite3_stmt *s = store_prepare(db, "INSERT INTO sites (host_id, name, created_at,"
                                            " updated_at) VALUES (?1, ?2, ?3, ?3)");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->host_id);
        sql_bind_text(s, 2, j->name);
        sqlite3_bind_int64(s, 3, j->now);
        r = sql_exec_reset(s);
        if (r < 0)
                return r;
        j->id = sqlite3_last_insert_rowid(db);
        return store_host_action_append(db, j->actor, j->host_id, "site.create", "site", j->id,
                                        j->now);
}

int store_site_create(struct store *st, int64_t host_id, const char *name,
                      const struct store_actor *actor, int64_t now, int64_t *id_out)
{
        struct site_job j = { host_id, name, actor, now, 0 };
        int r = store_write(st, site_create_run, &j);

        if (r == 0 && id_out)
                *id_out = j.id;
        return r;
}

static void site_from_row(sqlite3_stmt *s, struct store_site *o)
{
        o->id = sqlite3_column_int64(s, 0);
        o->host_id = sqlite3_column_int64(s, 1);
        sql_col_copy(s, 2, o->name, sizeof(o->name));
        o->limit_n = sqlite3_column_int64(s, 3);
        sql_col_copy(s, 4, o->limit_starts_on, sizeof(o->limit_starts_on));
        o->created_at = sqlite3_column_int64(s, 5);
        o->updated_at = sqlite3_column_int64(s, 6);
}

#define SITE_COLS "id, host_id, name, limit_n, limit_starts_on, created_at, updated_at"

int store_site_get(struct store *st, int64_t id, struct store_site *out)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r;

        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT " SITE_COLS " FROM sites WHERE id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, id);
        r = sql_step_row(s);
        if (r == 1)
                site_from_row(s, out);
        sqlite3_reset(s);
        return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

int store_site_list(struct store *st, int64_t host_id,
                    void (*cb)(const struct store_site *s, void *ud), void *ud)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int n = 0, rc;

        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT " SITE_COLS " FROM sites WHERE host_id = ? ORDER BY id");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, host_id);
        for (;;) {
                struct store_site o;

                rc = sqlite3_step(s);
                if (rc != SQLITE_ROW)
                        break;
                site_from_row(s, &o);
                cb(&o, ud);
                n++;
        }
        sqlite3_reset(s);
        return rc == SQLITE_DONE ? n : store_errno(rc);
}

/* ---- limit applications (CS-12) ----------------------------------------------------- */

#define LIMIT_COLS \
        "a.id, a.site_id, s.host_id, a.requested_limit, a.note, a.status, a.approved_limit," \
        " a.starts_on, a.reason, a.applied_by, a.applied_at, a.decided_by, a.decided_at"

static void limit_from_row(sqlite3_stmt *s, struct store_limit_application *a)
{
        a->id = sqlite3_column_int64(s, 0);
        a->site_id = sqlite3_column_int64(s, 1);
        a->host_id = sqlite3_column_int64(s, 2);
        a->requested_limit = sqlite3_column_int64(s, 3);
        sql_col_copy(s, 4, a->note, sizeof(a->note));
        sql_col_copy(s, 5, a->status, sizeof(a->status));
        a->approved_limit = sqlite3_column_int64(s, 6);
        sql_col_copy(s, 7, a->starts_on, sizeof(a->starts_on));
        sql_col_copy(s, 8, a->reason, sizeof(a->reason));
        a->applied_by = sqlite3_column_int64(s, 9);
        a->applied_at = sqlite3_column_int64(s, 10);
        a->decided_by = sqlite3_column_int64(s, 11);
        a->decided_at = sqlite3_column_int64(s, 12);
}

struct limit_job {
        int64_t id;                     /* site (apply) or application (decide) */
        bool approve;
        int64_t limit;
        const char *note;               /* apply: note; decide: starts_on */
        const char *reason;
        const struct store_actor *actor;
        int64_t now;
        int64_t out_id;
};

static int limit_apply_run(sqlite3 *db, void *arg)
{
        struct limit_job *j = arg;
        int64_t host_id;
        sqlite3_stmt *s;
        int r;

        s = store_prepare(db, "SELECT host_id, (SELECT count(*) FROM site_limit_applications a"
                              " WHERE a.site_id = sites.id AND a.status = 'pending')"
                              " FROM sites WHERE id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->id);
        r = sql_step_row(s);
        host_id = r == 1 ? sqlite3_column_int64(s, 0) : 0;
        if (r == 1 && sqlite3_column_int64(s, 1) > 0)
                r = -EALREADY;
        sqlite3_reset(s);
        if (r != 1)
                return r == 0 ? -ENOENT : r;
        s = store_prepare(db, "INSERT INTO site_limit_applications (site_id, requested_limit,"
                              " note, applied_by, applied_at) VALUES (?,?,?,?,?)");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->id);
        sqlite3_bind_int64(s, 2, j->limit);
        sql_bind_text(s, 3, j->note);
        sqlite3_bind_int64(s, 4, j->actor ? j->actor->member_id : 0);
        sqlite3_bind_int64(s, 5, j->now);
        r = sql_exec_reset(s);
        if (r < 0)
                return r;
        j->out_id = sqlite3_last_insert_rowid(db);
        return store_host_action_append(db, j->actor, host_id, "site.limit_apply",
                                        "limit_application", j->out_id, j->now);
}

int store_limit_apply(struct store *st, int64_t site_id, int64_t limit, const char *note,
                      const struct store_actor *actor, int64_t now, int64_t *id_out)
{
        struct limit_job j = { .id = site_id, .limit = limit, .note = note, .actor = actor,
                               .now = now };
        int r = store_write(st, limit_apply_run, &j);

        if (r == 0 && id_out)
                *id_out = j.out_id;
        return r;
}

int store_limit_get(struct store *st, int64_t id, struct store_limit_application *out)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r;

        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT " LIMIT_COLS " FROM site_limit_applications a"
                              " JOIN sites s ON s.id = a.site_id WHERE a.id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, id);
        r = sql_step_row(s);
        if (r == 1)
                limit_from_row(s, out);
        sqlite3_reset(s);
        return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

int store_limit_list(struct store *st, const char *status, int64_t site_id, int64_t after_id,
                     int limit, void (*cb)(const struct store_limit_application *a, void *ud),
                     void *ud)
{
        sqlite3 *db = store_reader(st);
        struct store_limit_application *a;
        sqlite3_stmt *s;
        int n = 0, rc;

        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT " LIMIT_COLS " FROM site_limit_applications a"
                              " JOIN sites s ON s.id = a.site_id"
                              " WHERE (?1 = '' OR a.status = ?1) AND (?2 = 0 OR a.site_id = ?2)"
                              "   AND a.id > ?3 ORDER BY a.id LIMIT ?4");
        if (!s)
                return -EIO;
        a = malloc(sizeof(*a));
        if (!a)
                return -ENOMEM;
        sql_bind_text(s, 1, status ? status : "");
        sqlite3_bind_int64(s, 2, site_id);
        sqlite3_bind_int64(s, 3, after_id);
        sqlite3_bind_int(s, 4, limit);
        for (;;) {
                rc = sqlite3_step(s);
                if (rc != SQLITE_ROW)
                        break;
                limit_from_row(s, a);
                cb(a, ud);
                n++;
        }
        sqlite3_reset(s);
        free(a);
        return rc == SQLITE_DONE ? n : store_errno(rc);
}

static int limit_decide_run(sqlite3 *db, void *arg)
{
        struct limit_job *j = arg;
        int64_t site_id, host_id;
        sqlite3_stmt *s;
        int r;

        s = store_prepare(db, "SELECT a.site_id, s.host_id, a.status = 'pending'"
                              " FROM site_limit_applications a JOIN sites s ON s.id = a.site_id"
                              " WHERE a.id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->id);
        r = sql_step_row(s);
        site_id = r == 1 ? sqlite3_column_int64(s, 0) : 0;
        host_id = r == 1 ? sqlite3_column_int64(s, 1) : 0;
        if (r == 1 && sqlite3_column_int(s, 2) == 0)
                r = -EALREADY;
        sqlite3_reset(s);
        if (r != 1)
                return r == 0 ? -ENOENT : r;
        s = store_prepare(db, "UPDATE site_limit_applications SET status = ?2,"
                              " approved_limit = ?3, starts_on = ?4, reason = ?5,"
                              " decided_by = ?6, decided_at = ?7 WHERE id = ?1");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->id);
        sql_bind_text(s, 2, j->approve ? "approved" : "rejected");
        sqlite3_bind_int64(s, 3, j->approve ? j->limit : 0);
        sql_bind_text(s, 4, j->approve ? j->note : "");
        sql_bind_text(s, 5, j->reason);
        sqlite3_bind_int64(s, 6, j->actor ? j->actor->member_id : 0);
        sqlite3_bind_int64(s, 7, j->now);
        r = sql_exec_change(s);
        if (r < 0)
                return r;
        if (j->approve) {
                s = store_prepare(db, "UPDATE sites SET limit_n = ?2, limit_starts_on = ?3,"
                                      " updated_at = ?4 WHERE id = ?1");
                if (!s)
                        return -EIO;
                sqlite3_bind_int64(s, 1, site_id);
                sqlite3_bind_int64(s, 2, j->limit);
                sql_bind_text(s, 3, j->note);
                sqlite3_bind_int64(s, 4, j->now);
                r = sql_exec_change(s);
                if (r < 0)
                        return r;
        }
        return store_host_action_append(db, j->actor, host_id,
                                        j->approve ? "site.limit_approve" : "site.limit_reject",
                                        "limit_application", j->id, j->now);
}

int store_limit_decide(struct store *st, int64_t id, bool approve, int64_t limit,
                       const char *starts_on, const char *reason,
                       const struct store_actor *actor, int64_t now)
{
        struct limit_job j = { .id = id, .approve = approve, .limit = limit, .note = starts_on,
                               .reason = reason, .actor = actor, .now = now };

        return store_write(st, limit_decide_run, &j);
}

const char store_m006_sql[] =
        "-- chargers (CS-9), their QR codes (CS-11), photos, operator change requests and\n"
        "-- delisting (CS-10), sites and the simultaneous-use limit option (CS-12)\n"
        "CREATE TABLE sites (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  host_id INTEGER NOT NULL REFERENCES hosts(member_id),\n"
        "  name TEXT NOT NULL,\n"
        "  limit_n INTEGER NOT NULL DEFAULT 0,         -- 0 = no approved limit\n"
        "  limit_starts_on TEXT NOT NULL DEFAULT '',   -- Tokyo date the limit applies from\n"
        "  created_at INTEGER NOT NULL,\n"
        "  updated_at INTEGER NOT NULL\n"
        ");\n"
        "CREATE INDEX sites_host ON sites(host_id);\n"
        "CREATE TABLE site_limit_applications (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  site_id INTEGER NOT NULL REFERENCES sites(id),\n"
        "  requested_limit INTEGER NOT NULL,\n"
        "  note TEXT NOT NULL DEFAULT '',\n"
        "  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','approved','rejected')),\n"
        "  approved_limit INTEGER NOT NULL DEFAULT 0,\n"
        "  starts_on TEXT NOT NULL DEFAULT '',\n"
        "  reason TEXT NOT NULL DEFAULT '',\n"
        "  applied_by INTEGER NOT NULL,\n"
        "  applied_at INTEGER NOT NULL,\n"
        "  decided_by INTEGER NOT NULL DEFAULT 0,\n"
        "  decided_at INTEGER NOT NULL DEFAULT 0\n"
        ");\n"
        "CREATE INDEX site_limit_applications_status ON site_limit_applications(status, id);\n"
        "CREATE INDEX site_limit_applications_site ON site_limit_applications(site_id, status);\n"
        "CREATE TABLE chargers (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  host_id INTEGER NOT NULL REFERENCES hosts(member_id),\n"
        "  site_id INTEGER REFERENCES sites(id),\n"
        "  kind TEXT NOT NULL CHECK (kind IN ('normal','ev_outlet','compatible_fast')),\n"
        "  maker TEXT NOT NULL,\n"
        "  model TEXT NOT NULL,\n"
        "  output_w INTEGER NOT NULL CHECK (output_w > 0),\n"
        "  connector TEXT NOT NULL,\n"
        "  postcode TEXT NOT NULL,\n"
        "  prefecture TEXT NOT NULL,\n"
        "  city TEXT NOT NULL,\n"
        "  line1 TEXT NOT NULL,\n"
        "  line2 TEXT NOT NULL DEFAULT '',\n"
        "  lat_e6 INTEGER NOT NULL,                    -- microdegrees\n"
        "  lon_e6 INTEGER NOT NULL,\n"
        "  surroundings TEXT NOT NULL DEFAULT '',\n"
        "  access_notes TEXT NOT NULL DEFAULT '',\n"
        "  onsite_reservation INTEGER NOT NULL DEFAULT 0,\n"
        "  usage_notes TEXT NOT NULL DEFAULT '',\n"
        "  penalty_enabled INTEGER NOT NULL DEFAULT 0,\n"
        "  extendable INTEGER NOT NULL DEFAULT 1,\n"
        "  out_of_service INTEGER NOT NULL DEFAULT 0,  -- the charger's own status (CS-25)\n"
        "  qr_token_hash TEXT NOT NULL,                -- BLAKE2b-256 hex of the current token\n"
        "  qr_token TEXT NOT NULL DEFAULT '',          -- plaintext only while 'issued' (to print)\n"
        "  qr_state TEXT NOT NULL DEFAULT 'issued' CHECK (qr_state IN ('issued','mailed','attached')),\n"
        "  qr_issued_at INTEGER NOT NULL,\n"
        "  qr_mailed_at INTEGER NOT NULL DEFAULT 0,\n"
        "  qr_attached_at INTEGER NOT NULL DEFAULT 0,\n"
        "  delisted_reason TEXT NOT NULL DEFAULT '',\n"
        "  delisted_note TEXT NOT NULL DEFAULT '',\n"
        "  delisted_at INTEGER NOT NULL DEFAULT 0,\n"
        "  deleted_at INTEGER NOT NULL DEFAULT 0,\n"
        "  created_at INTEGER NOT NULL,\n"
        "  updated_at INTEGER NOT NULL,\n"
        "  rev INTEGER NOT NULL DEFAULT 0              -- bumped by every update (caches)\n"
        ");\n"
        "CREATE TRIGGER chargers_rev AFTER UPDATE ON chargers FOR EACH ROW\n"
        "  WHEN NEW.rev = OLD.rev BEGIN\n"
        "  UPDATE chargers SET rev = OLD.rev + 1 WHERE id = NEW.id;\n"
        "END;\n"
        "CREATE INDEX chargers_host ON chargers(host_id);\n"
        "CREATE INDEX chargers_site ON chargers(site_id);\n"
        "-- R*Tree of charger positions in degrees (search); id = chargers.id\n"
        "CREATE VIRTUAL TABLE charger_geo USING rtree(id, min_lat, max_lat, min_lon, max_lon);\n"
        "CREATE TABLE charger_photos (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  charger_id INTEGER NOT NULL REFERENCES chargers(id),\n"
        "  content_type TEXT NOT NULL,\n"
        "  width INTEGER NOT NULL,\n"
        "  height INTEGER NOT NULL,\n"
        "  size INTEGER NOT NULL,\n"
        "  data BLOB NOT NULL,\n"
        "  created_at INTEGER NOT NULL\n"
        ");\n"
        "CREATE INDEX charger_photos_charger ON charger_photos(charger_id);\n"
        "CREATE TABLE charger_notes (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  charger_id INTEGER NOT NULL REFERENCES chargers(id),\n"
        "  kind TEXT NOT NULL CHECK (kind IN ('change_request','delisting','relisting')),\n"
        "  reason TEXT NOT NULL DEFAULT '',\n"
        "  message TEXT NOT NULL DEFAULT '',\n"
        "  actor_id INTEGER NOT NULL,\n"
        "  at INTEGER NOT NULL,\n"
        "  resolved_at INTEGER NOT NULL DEFAULT 0      -- change request: the host's next update\n"
        ");\n"
        "CREATE INDEX charger_notes_charger ON charger_notes(charger_id, id);\n";
