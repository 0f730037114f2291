/*
 * store_firmware.c - SQL for firmware images (with their bytes as BLOBs),
 * rollout campaigns and the gateways' install reports (HE-14). See the
 * header for the contract of each call.
 *
 * firmware_blobs holds the bytes apart from firmware_images so that lists
 * and the poll's cache never page through an image; its rowid is the image
 * id, which is what sqlite3_blob_open() needs to read a range. A campaign
 * counts its gateways per state (n_downloading, n_installed, n_failed): the
 * report job moves one gateway between counts and decides the automatic
 * pause in the same transaction, so concurrent reports cannot miss it.
 */
#include "store/store_firmware.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sql.h"

const char store_m015_sql[] =
        "CREATE TABLE firmware_images (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  model TEXT NOT NULL,\n"
        "  version TEXT NOT NULL,\n"
        "  size INTEGER NOT NULL,\n"
        "  sha256 TEXT NOT NULL,                -- lowercase hex\n"
        "  manifest TEXT NOT NULL,              -- the signed text (util/fwsign.h)\n"
        "  signature TEXT NOT NULL,             -- Ed25519, base64\n"
        "  key_id TEXT NOT NULL,                -- of the signing key\n"
        "  notes TEXT NOT NULL DEFAULT '',\n"
        "  created_by INTEGER NOT NULL DEFAULT 0,\n"
        "  created_at INTEGER NOT NULL,\n"
        "  UNIQUE (model, version)\n"
        ");\n"
        "CREATE INDEX firmware_images_model ON firmware_images(model, id);\n"
        "CREATE TABLE firmware_blobs (\n"
        "  id INTEGER PRIMARY KEY REFERENCES firmware_images(id),\n"
        "  data BLOB NOT NULL\n"
        ");\n"
        "CREATE TABLE firmware_campaigns (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  image_id INTEGER NOT NULL REFERENCES firmware_images(id),\n"
        "  from_min TEXT NOT NULL DEFAULT '',   -- current-version range, '' open\n"
        "  from_max TEXT NOT NULL DEFAULT '',\n"
        "  percent INTEGER NOT NULL CHECK (percent BETWEEN 0 AND 100),\n"
        "  state TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running','paused','ended')),\n"
        "  pause_reason TEXT NOT NULL DEFAULT '',\n"
        "  failure_pause_pct INTEGER NOT NULL,\n"
        "  failure_min_reports INTEGER NOT NULL,\n"
        "  n_downloading INTEGER NOT NULL DEFAULT 0,\n"
        "  n_installed INTEGER NOT NULL DEFAULT 0,\n"
        "  n_failed INTEGER NOT NULL DEFAULT 0,\n"
        "  created_by INTEGER NOT NULL DEFAULT 0,\n"
        "  created_at INTEGER NOT NULL,\n"
        "  updated_at INTEGER NOT NULL,\n"
        "  paused_at INTEGER NOT NULL DEFAULT 0,\n"
        "  ended_at INTEGER NOT NULL DEFAULT 0\n"
        ");\n"
        "CREATE INDEX firmware_campaigns_state ON firmware_campaigns(state, id);\n"
        "CREATE TABLE firmware_reports (\n"
        "  campaign_id INTEGER NOT NULL REFERENCES firmware_campaigns(id),\n"
        "  gateway_id INTEGER NOT NULL REFERENCES gateways(id),\n"
        "  state TEXT NOT NULL CHECK (state IN ('downloading','installed','failed')),\n"
        "  code TEXT NOT NULL DEFAULT '',\n"
        "  reports INTEGER NOT NULL DEFAULT 1,\n"
        "  updated_at INTEGER NOT NULL,\n"
        "  PRIMARY KEY (campaign_id, gateway_id)\n"
        ") WITHOUT ROWID;\n"
        "CREATE INDEX firmware_reports_failed ON firmware_reports(campaign_id, code) "
        "WHERE state = 'failed';\n";

/* ---- images -------------------------------------------------------------- */

void store_fw_image_clear(struct store_fw_image *img)
{
        if (!img)
                return;
        free(img->notes);
        img->notes = NULL;
}

#define IMG_COLS "id, model, version, size, sha256, manifest, signature, key_id, " \
        "created_by, created_at"

static void image_row(sqlite3_stmt *s, struct store_fw_image *img)
{
        memset(img, 0, sizeof(*img));
        img->id = sqlite3_column_int64(s, 0);
        sql_col_copy(s, 1, img->model, sizeof(img->model));
        sql_col_copy(s, 2, img->version, sizeof(img->version));
        img->size = sqlite3_column_int64(s, 3);
        sql_col_copy(s, 4, img->sha256, sizeof(img->sha256));
        sql_col_copy(s, 5, img->manifest, sizeof(img->manifest));
        sql_col_copy(s, 6, img->signature, sizeof(img->signature));
        sql_col_copy(s, 7, img->key_id, sizeof(img->key_id));
        img->created_by = sqlite3_column_int64(s, 8);
        img->created_at = sqlite3_column_int64(s, 9);
}

struct image_job {
        struct store_fw_image *img;
        const void *data;
        size_t len;
        int64_t now;
};

static int image_insert_blob(sqlite3 *db, int64_t id, const void *data, size_t len)
{
        sqlite3_stmt *s = store_prepare(db, "INSERT INTO firmware_blobs (id, data) VALUES (?, ?)");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, id);
        /* STATIC: the caller's buffer outlives the step; the binding is
         * cleared right after so the cached statement keeps no pointer. */
        if (sqlite3_bind_blob64(s, 2, data, (sqlite3_uint64)len, SQLITE_STATIC) != SQLITE_OK) {
                sqlite3_clear_bindings(s);
                return -E2BIG;
        }
        r = sql_exec_reset(s);
        sqlite3_clear_bindings(s);
        return r;
}

static int image_job_run(sqlite3 *db, void *arg)
{
        struct image_job *j = arg;
        struct store_fw_image *img = j->img;
        sqlite3_stmt *s = store_prepare(db,
                "INSERT INTO firmware_images (model, version, size, sha256, manifest, signature, "
                "key_id, notes, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        int r;

        if (!s)
                return -EIO;
        sql_bind_text(s, 1, img->model);
        sql_bind_text(s, 2, img->version);
        sqlite3_bind_int64(s, 3, (int64_t)j->len);
        sql_bind_text(s, 4, img->sha256);
        sql_bind_text(s, 5, img->manifest);
        sql_bind_text(s, 6, img->signature);
        sql_bind_text(s, 7, img->key_id);
        sql_bind_text(s, 8, img->notes);
        sqlite3_bind_int64(s, 9, img->created_by);
        sqlite3_bind_int64(s, 10, j->now);
        r = sql_exec_reset(s);
        if (r < 0)
                return r;
        img->id = sqlite3_last_insert_rowid(db);
        img->size = (int64_t)j->len;
        img->created_at = j->now;
        return image_insert_blob(db, img->id, j->data, j->len);
}

int store_fw_image_create(struct store *st, struct store_fw_image *img, const void *data,
                          size_t len, int64_t now)
{
        struct image_job j = { img, data, len, now };

        if (len == 0 || len > INT64_MAX)
                return -EINVAL;
        return store_write(st, image_job_run, &j);
}

static int notes_load(sqlite3 *db, struct store_fw_image *img)
{
        sqlite3_stmt *s = store_prepare(db, "SELECT notes FROM firmware_images WHERE id = ?");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, img->id);
        r = sql_step_row(s);
        if (r == 1) {
                const unsigned char *t = sqlite3_column_text(s, 0);

                img->notes = strdup(t ? (const char *)t : "");
                if (!img->notes)
                        r = -ENOMEM;
        }
        sqlite3_reset(s);
        return r < 0 ? r : 0;
}

int store_fw_image_get(struct store *st, int64_t id, struct store_fw_image *out)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r;

        memset(out, 0, sizeof(*out));
        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT " IMG_COLS " FROM firmware_images WHERE id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, id);
        r = sql_step_row(s);
        if (r == 1)
                image_row(s, out);
        sqlite3_reset(s);
        if (r <= 0)
                return r < 0 ? r : -ENOENT;
        return notes_load(db, out);
}

int store_fw_image_list(struct store *st, const char *model, int64_t before_id,
                        struct store_fw_image *out, int max, int *n)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r = 0;

        *n = 0;
        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT " IMG_COLS " FROM firmware_images "
                          "WHERE (?1 = '' OR model = ?1) AND id < ?2 ORDER BY id DESC LIMIT ?3");
        if (!s)
                return -EIO;
        sql_bind_text(s, 1, model);
        sqlite3_bind_int64(s, 2, before_id > 0 ? before_id : INT64_MAX);
        sqlite3_bind_int(s, 3, max);
        while (*n < max) {
                r = sql_step_row(s);
                if (r <= 0)
                        break;
                image_row(s, &out[(*n)++]);
        }
        sqlite3_reset(s);
        return r < 0 ? r : 0;
}

struct notes_job {
        int64_t id;
        const char *notes;
};

static int notes_job_run(sqlite3 *db, void *arg)
{
        struct notes_job *j = arg;
        sqlite3_stmt *s = store_prepare(db, "UPDATE firmware_images SET notes = ? WHERE id = ?");

        if (!s)
                return -EIO;
        sql_bind_text(s, 1, j->notes);
        sqlite3_bind_int64(s, 2, j->id);
        return sql_exec_change(s);
}

int store_fw_image_set_notes(struct store *st, int64_t id, const char *notes)
{
        struct notes_job j = { id, notes };

        return store_write(st, notes_job_run, &j);
}

int store_fw_image_read(struct store *st, int64_t id, int64_t offset, size_t len, void *dst)
{
        sqlite3 *db = store_reader(st);
        sqlite3_blob *blob = NULL;
        int rc, size;

        if (!db)
                return -EIO;
        rc = sqlite3_blob_open(db, "main", "firmware_blobs", "data", id, 0, &blob);
        if (rc != SQLITE_OK) {
                sqlite3_blob_close(blob);
                return rc == SQLITE_ERROR ? -ENOENT : store_errno(rc);
        }
        size = sqlite3_blob_bytes(blob);
        if (offset < 0 || len > (size_t)size || offset > (int64_t)size - (int64_t)len) {
                sqlite3_blob_close(blob);
                return -EINVAL;
        }
        rc = len ? sqlite3_blob_read(blob, dst, (int)len, (int)offset) : SQLITE_OK;
        sqlite3_blob_close(blob);
        return rc == SQLITE_OK ? 0 : -EIO;
}

/* ---- campaigns ------------------------------------------------------------- */

#define CAMP_COLS "c.id, i.model, i.version, c.from_min, c.from_max, c.percent, c.state, " \
        "c.pause_reason, c.failure_pause_pct, c.failure_min_reports, c.n_downloading, " \
        "c.n_installed, c.n_failed, c.created_by, c.created_at, c.updated_at, c.paused_at, " \
        "c.ended_at, c.image_id, i.size, i.sha256, i.manifest, i.signature"
#define CAMP_FROM " FROM firmware_campaigns c JOIN firmware_images i ON i.id = c.image_id"

static void campaign_row(sqlite3_stmt *s, struct store_fw_campaign *c)
{
        memset(c, 0, sizeof(*c));
        c->r.id = sqlite3_column_int64(s, 0);
        sql_col_copy(s, 1, c->r.model, sizeof(c->r.model));
        sql_col_copy(s, 2, c->r.version, sizeof(c->r.version));
        sql_col_copy(s, 3, c->r.from_min, sizeof(c->r.from_min));
        sql_col_copy(s, 4, c->r.from_max, sizeof(c->r.from_max));
        c->r.percent = sqlite3_column_int(s, 5);
        sql_col_copy(s, 6, c->state, sizeof(c->state));
        c->r.running = strcmp(c->state, "running") == 0;
        sql_col_copy(s, 7, c->pause_reason, sizeof(c->pause_reason));
        c->failure_pause_pct = sqlite3_column_int64(s, 8);
        c->failure_min_reports = sqlite3_column_int64(s, 9);
        c->n_downloading = sqlite3_column_int64(s, 10);
        c->n_installed = sqlite3_column_int64(s, 11);
        c->n_failed = sqlite3_column_int64(s, 12);
        c->created_by = sqlite3_column_int64(s, 13);
        c->created_at = sqlite3_column_int64(s, 14);
        c->updated_at = sqlite3_column_int64(s, 15);
        c->paused_at = sqlite3_column_int64(s, 16);
        c->ended_at = sqlite3_column_int64(s, 17);
        c->image_id = sqlite3_column_int64(s, 18);
        c->size = sqlite3_column_int64(s, 19);
        sql_col_copy(s, 20, c->sha256, sizeof(c->sha256));
        sql_col_copy(s, 21, c->manifest, sizeof(c->manifest));
        sql_col_copy(s, 22, c->signature, sizeof(c->signature));
}

/* The campaign with id on connection db. */
static int campaign_load(sqlite3 *db, int64_t id, struct store_fw_campaign *out)
{
        sqlite3_stmt *s = store_prepare(db, "SELECT " CAMP_COLS CAMP_FROM " WHERE c.id = ?");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, id);
        r = sql_step_row(s);
        if (r == 1)
                campaign_row(s, out);
        sqlite3_reset(s);
        if (r < 0)
                return r;
        return r == 1 ? 0 : -ENOENT;
}

struct campaign_job {
        const struct store_fw_campaign_new *c;
        int64_t now;
        struct store_fw_campaign *out;
};

/* The image's model into model: 0 or -ENOENT. */
static int image_model(sqlite3 *db, int64_t image_id, char model[FWSIGN_FIELD_MAX + 1])
{
        sqlite3_stmt *s = store_prepare(db, "SELECT model FROM firmware_images WHERE id = ?");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, image_id);
        r = sql_step_row(s);
        if (r == 1)
                sql_col_copy(s, 0, model, FWSIGN_FIELD_MAX + 1);
        sqlite3_reset(s);
        if (r < 0)
                return r;
        return r == 1 ? 0 : -ENOENT;
}

/* An active campaign of model whose range overlaps [min, max]: its id in
 * *clash (0 none). Also refuses more than FW_CAMPAIGNS_ACTIVE_MAX. */
static int campaign_clash(sqlite3 *db, const char *model, const char *min, const char *max,
                          int64_t *clash)
{
        sqlite3_stmt *s = store_prepare(db, "SELECT c.id, i.model, c.from_min, c.from_max"
                                        CAMP_FROM " WHERE c.state IN ('running','paused')");
        int r = 0, active = 0;

        *clash = 0;
        if (!s)
                return -EIO;
        while (*clash == 0) {
                char m[FWSIGN_FIELD_MAX + 1], lo[FWSIGN_FIELD_MAX + 1], hi[FWSIGN_FIELD_MAX + 1];

                r = sql_step_row(s);
                if (r <= 0)
                        break;
                active++;
                sql_col_copy(s, 1, m, sizeof(m));
                sql_col_copy(s, 2, lo, sizeof(lo));
                sql_col_copy(s, 3, hi, sizeof(hi));
                if (strcmp(m, model) == 0 && rollout_ranges_overlap(lo, hi, min, max))
                        *clash = sqlite3_column_int64(s, 0);
        }
        sqlite3_reset(s);
        if (r < 0)
                return r;
        return *clash == 0 && active >= FW_CAMPAIGNS_ACTIVE_MAX ? -EMFILE : 0;
}

static int campaign_job_run(sqlite3 *db, void *arg)
{
        struct campaign_job *j = arg;
        const struct store_fw_campaign_new *c = j->c;
        char model[FWSIGN_FIELD_MAX + 1];
        sqlite3_stmt *s;
        int64_t clash = 0;
        int r = image_model(db, c->image_id, model);

        if (r < 0)
                return r;
        r = campaign_clash(db, model, c->from_min, c->from_max, &clash);
        if (r < 0)
                return r;
        if (clash) {
                r = campaign_load(db, clash, j->out);
                return r < 0 ? r : -EADDRINUSE;
        }
        s = store_prepare(db, "INSERT INTO firmware_campaigns (image_id, from_min, from_max, "
                          "percent, failure_pause_pct, failure_min_reports, created_by, "
                          "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?8)");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, c->image_id);
        sql_bind_text(s, 2, c->from_min);
        sql_bind_text(s, 3, c->from_max);
        sqlite3_bind_int(s, 4, c->percent);
        sqlite3_bind_int64(s, 5, c->failure_pause_pct);
        sqlite3_bind_int64(s, 6, c->failure_min_reports);
        sqlite3_bind_int64(s, 7, c->created_by);
        sqlite3_bind_int64(s, 8, j->now);
        r = sql_exec_reset(s);
        if (r < 0)
                return r;
        return campaign_load(db, sqlite3_last_insert_rowid(db), j->out);
}

int store_fw_campaign_create(struct store *st, const struct store_fw_campaign_new *c,
                             int64_t now, struct store_fw_campaign *out)
{
        struct campaign_job j = { c, now, out };

        return store_write(st, campaign_job_run, &j);
}

int store_fw_campaign_get(struct store *st, int64_t id, struct store_fw_campaign *out)
{
        sqlite3 *db = store_reader(st);

        if (!db)
                return -EIO;
        return campaign_load(db, id, out);
}

int store_fw_campaign_list(struct store *st, const char *state, int64_t before_id,
                           struct store_fw_campaign *out, int max, int *n)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r = 0;

        *n = 0;
        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT " CAMP_COLS CAMP_FROM " WHERE (?1 = '' OR c.state = ?1) "
                          "AND c.id < ?2 ORDER BY c.id DESC LIMIT ?3");
        if (!s)
                return -EIO;
        sql_bind_text(s, 1, state);
        sqlite3_bind_int64(s, 2, before_id > 0 ? before_id : INT64_MAX);
        sqlite3_bind_int(s, 3, max);
        while (*n < max) {
                r = sql_step_row(s);
                if (r <= 0)
                        break;
                campaign_row(s, &out[(*n)++]);
        }
        sqlite3_reset(s);
        return r < 0 ? r : 0;
}

int store_fw_campaign_active(struct store *st, struct store_fw_campaign **out, int *n)
{
        sqlite3 *db = store_reader(st);
        struct store_fw_campaign *v = NULL;
        sqlite3_stmt *s;
        int r = 0, cap = 0;

        *out = NULL;
        *n = 0;
        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT " CAMP_COLS CAMP_FROM
                          " WHERE c.state IN ('running','paused') ORDER BY c.id LIMIT ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int(s, 1, FW_CAMPAIGNS_ACTIVE_MAX);
        for (;;) {
                r = sql_step_row(s);
                if (r <= 0)
                        break;
                if (*n == cap) {
                        int ncap = cap ? cap * 2 : 8;
                        struct store_fw_campaign *nv = realloc(v, (size_t)ncap * sizeof(*v));

                        if (!nv) {
                                r = -ENOMEM;
                                break;
                        }
                        v = nv;
                        cap = ncap;
                }
                campaign_row(s, &v[(*n)++]);
        }
        sqlite3_reset(s);
        if (r < 0) {
                free(v);
                *n = 0;
                return r;
        }
        *out = v;
        return 0;
}

struct update_job {
        int64_t id;
        int percent;
        const char *state;
        int64_t now;
        struct store_fw_campaign *out;
};

/* The row's new state, reason and times for a change to `to`. */
static int update_state(sqlite3 *db, const struct update_job *j, const char *to)
{
        sqlite3_stmt *s = store_prepare(db,
                "UPDATE firmware_campaigns SET state = ?1, "
                "pause_reason = CASE ?1 WHEN 'paused' THEN 'operator' WHEN 'running' THEN '' "
                "  ELSE pause_reason END, "
                "paused_at = CASE ?1 WHEN 'paused' THEN ?2 ELSE paused_at END, "
                "ended_at = CASE ?1 WHEN 'ended' THEN ?2 ELSE ended_at END, "
                "updated_at = ?2 WHERE id = ?3");

        if (!s)
                return -EIO;
        sql_bind_text(s, 1, to);
        sqlite3_bind_int64(s, 2, j->now);
        sqlite3_bind_int64(s, 3, j->id);
        return sql_exec_change(s);
}

static int update_job_run(sqlite3 *db, void *arg)
{
        struct update_job *j = arg;
        sqlite3_stmt *s;
        int r = campaign_load(db, j->id, j->out);

        if (r < 0)
                return r;
        if (strcmp(j->out->state, "ended") == 0)
                return -ESTALE;
        if (j->percent >= 0 && j->percent < j->out->r.percent)
                return -ERANGE;
        if (j->percent >= 0 && j->percent != j->out->r.percent) {
                s = store_prepare(db, "UPDATE firmware_campaigns SET percent = ?, updated_at = ? "
                                  "WHERE id = ?");
                if (!s)
                        return -EIO;
                sqlite3_bind_int(s, 1, j->percent);
                sqlite3_bind_int64(s, 2, j->now);
                sqlite3_bind_int64(s, 3, j->id);
                r = sql_exec_change(s);
                if (r < 0)
                        return r;
        }
        if (j->state[0] && strcmp(j->state, j->out->state) != 0) {
                r = update_state(db, j, j->state);
                if (r < 0)
                        return r;
        }
        return campaign_load(db, j->id, j->out);
}

int store_fw_campaign_update(struct store *st, int64_t id, int percent, const char *state,
                             int64_t now, struct store_fw_campaign *out)
{
        struct update_job j = { id, percent, state ? state : "", now, out };

        if (percent > 100 || (j.state[0] && strcmp(j.state, "running") != 0 &&
                              strcmp(j.state, "paused") != 0 && strcmp(j.state, "ended") != 0))
                return -EINVAL;
        return store_write(st, update_job_run, &j);
}

int store_fw_failure_codes(struct store *st, int64_t campaign_id,
                           struct store_fw_code_count *out, int max, int *n)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r = 0;

        *n = 0;
        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT code, COUNT(*) AS k FROM firmware_reports "
                          "WHERE campaign_id = ? AND state = 'failed' GROUP BY code "
                          "ORDER BY k DESC, code LIMIT ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, campaign_id);
        sqlite3_bind_int(s, 2, max);
        while (*n < max) {
                r = sql_step_row(s);
                if (r <= 0)
                        break;
                sql_col_copy(s, 0, out[*n].code, sizeof(out[*n].code));
                out[*n].n = sqlite3_column_int64(s, 1);
                (*n)++;
        }
        sqlite3_reset(s);
        return r < 0 ? r : 0;
}

/* ---- reports ---------------------------------------------------------------- */

struct report_job {
        const struct store_fw_report *rep;
        int64_t now;
        struct store_fw_report_result *out;
};

/* The gateway's last report in the campaign (ROLLOUT_NONE when none). */
static int report_prev(sqlite3 *db, int64_t campaign_id, int64_t gateway_id,
                       enum rollout_state *prev)
{
        sqlite3_stmt *s = store_prepare(db, "SELECT state FROM firmware_reports "
                                        "WHERE campaign_id = ? AND gateway_id = ?");
        int r;

        *prev = ROLLOUT_NONE;
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, campaign_id);
        sqlite3_bind_int64(s, 2, gateway_id);
        r = sql_step_row(s);
        if (r == 1)
                *prev = rollout_state_parse((const char *)sqlite3_column_text(s, 0));
        sqlite3_reset(s);
        return r < 0 ? r : 0;
}

static int report_upsert(sqlite3 *db, const struct store_fw_report *rep, int64_t now)
{
        sqlite3_stmt *s = store_prepare(db,
                "INSERT INTO firmware_reports (campaign_id, gateway_id, state, code, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (campaign_id, gateway_id) DO UPDATE SET "
                "state = excluded.state, code = excluded.code, reports = reports + 1, "
                "updated_at = excluded.updated_at");

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, rep->campaign_id);
        sqlite3_bind_int64(s, 2, rep->gateway_id);
        sql_bind_text(s, 3, rollout_state_name(rep->state));
        sql_bind_text(s, 4, rep->state == ROLLOUT_FAILED ? rep->code : "");
        sqlite3_bind_int64(s, 5, now);
        return sql_exec_reset(s);
}

/* Moves one gateway from state `from` to `to` in the campaign's counts. */
static int report_count(sqlite3 *db, int64_t campaign_id, enum rollout_state from,
                        enum rollout_state to)
{
        int64_t d[4] = { 0, 0, 0, 0 };
        sqlite3_stmt *s = store_prepare(db,
                "UPDATE firmware_campaigns SET n_downloading = n_downloading + ?, "
                "n_installed = n_installed + ?, n_failed = n_failed + ? WHERE id = ?");

        if (!s)
                return -EIO;
        d[from] -= 1;
        d[to] += 1;
        sqlite3_bind_int64(s, 1, d[ROLLOUT_DOWNLOADING]);
        sqlite3_bind_int64(s, 2, d[ROLLOUT_INSTALLED]);
        sqlite3_bind_int64(s, 3, d[ROLLOUT_FAILED]);
        sqlite3_bind_int64(s, 4, campaign_id);
        return sql_exec_change(s);
}

static int gateway_set_firmware(sqlite3 *db, int64_t gateway_id, const char *version)
{
        sqlite3_stmt *s = store_prepare(db, "UPDATE gateways SET firmware = ? WHERE id = ?");

        if (!s)
                return -EIO;
        sql_bind_text(s, 1, version);
        sqlite3_bind_int64(s, 2, gateway_id);
        return sql_exec_change(s);
}

static int auto_pause(sqlite3 *db, int64_t campaign_id, int64_t now)
{
        sqlite3_stmt *s = store_prepare(db,
                "UPDATE firmware_campaigns SET state = 'paused', pause_reason = 'failure_rate', "
                "paused_at = ?, updated_at = ?1 WHERE id = ? AND state = 'running'");

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, now);
        sqlite3_bind_int64(s, 2, campaign_id);
        return sql_exec_change(s);
}

static int report_job_run(sqlite3 *db, void *arg)
{
        struct report_job *j = arg;
        const struct store_fw_report *rep = j->rep;
        struct store_fw_campaign *c = &j->out->campaign;
        enum rollout_state prev;
        int r = campaign_load(db, rep->campaign_id, c), t;

        if (r < 0)
                return r;
        if (strcmp(c->state, "ended") == 0)
                return -ESTALE;
        r = report_prev(db, rep->campaign_id, rep->gateway_id, &prev);
        if (r < 0)
                return r;
        t = rollout_transition(prev, rep->state);
        if (t < 0)
                return t;
        r = report_upsert(db, rep, j->now);
        if (r == 0 && t > 0)
                r = report_count(db, rep->campaign_id, prev, rep->state);
        if (r == 0 && t > 0 && rep->state == ROLLOUT_INSTALLED)
                r = gateway_set_firmware(db, rep->gateway_id, c->r.version);
        if (r < 0)
                return r;
        j->out->changed = t > 0;
        r = campaign_load(db, rep->campaign_id, c);
        if (r < 0 || !t || !c->r.running ||
            !rollout_should_pause(c->n_installed, c->n_failed, c->failure_pause_pct,
                                  c->failure_min_reports))
                return r;
        r = auto_pause(db, rep->campaign_id, j->now);
        if (r < 0)
                return r;
        j->out->paused_now = true;
        return campaign_load(db, rep->campaign_id, c);
}

int store_fw_report(struct store *st, const struct store_fw_report *rep, int64_t now,
                    struct store_fw_report_result *out)
{
        struct report_job j = { rep, now, out };

        memset(out, 0, sizeof(*out));
        if (rep->state == ROLLOUT_NONE)
                return -EINVAL;
        return store_write(st, report_job_run, &j);
}
