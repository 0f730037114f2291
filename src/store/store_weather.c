/*
 * store_weather.c - SQL for the postcode table and the imported weather
 * forecasts of HE-11. See the header for the contract of each call.
 *
 * Coordinates are REAL degrees (the postcode table and forecast points
 * need no exact equality, unlike the chargers' microdegrees). The nearest
 * point is found in two steps: an indexed box query (domain/geo.h's box
 * around the place) ordered by a planar distance with longitude scaled by
 * the cosine of the latitude gives a few candidates; the haversine
 * distance picks among them and checks the radius.
 */
#include "store/store_weather.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/geo.h"
#include "store/sql.h"

#define NEAREST_CANDIDATES 8

const char store_m016_sql[] =
        "CREATE TABLE weather_postcodes (\n"
        "  postcode TEXT PRIMARY KEY,           -- 7 digits\n"
        "  latitude REAL NOT NULL,\n"
        "  longitude REAL NOT NULL,\n"
        "  updated_at INTEGER NOT NULL\n"
        ") WITHOUT ROWID;\n"
        "CREATE TABLE weather_points (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  key TEXT NOT NULL UNIQUE,            -- the provider's area or grid point id\n"
        "  name TEXT NOT NULL DEFAULT '',\n"
        "  latitude REAL NOT NULL,\n"
        "  longitude REAL NOT NULL,\n"
        "  last_at INTEGER NOT NULL DEFAULT 0,  -- time of its latest forecast row\n"
        "  updated_at INTEGER NOT NULL\n"
        ");\n"
        "CREATE INDEX weather_points_place ON weather_points(latitude, longitude);\n"
        "CREATE TABLE weather_forecasts (\n"
        "  point_id INTEGER NOT NULL REFERENCES weather_points(id),\n"
        "  at INTEGER NOT NULL,\n"
        "  weather_code INTEGER,                -- NULL: not given\n"
        "  temperature_c REAL,\n"
        "  precipitation_pct INTEGER,\n"
        "  cloud_pct INTEGER,\n"
        "  irradiance_wm2 REAL,\n"
        "  imported_at INTEGER NOT NULL,\n"
        "  PRIMARY KEY (point_id, at)\n"
        ") WITHOUT ROWID;\n";

/* ---- postcodes -------------------------------------------------------------- */

struct postcodes_job {
        const struct store_postcode *rows;
        size_t n;
        int64_t now;
        size_t added;
};

static int postcodes_run(sqlite3 *db, void *arg)
{
        struct postcodes_job *j = arg;
        sqlite3_stmt *ins = store_prepare(db,
                "INSERT INTO weather_postcodes (postcode, latitude, longitude, updated_at) "
                "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (postcode) DO UPDATE SET "
                "latitude = ?2, longitude = ?3, updated_at = ?4");
        sqlite3_stmt *has = store_prepare(db,
                "SELECT 1 FROM weather_postcodes WHERE postcode = ?");
        int r;

        if (!ins || !has)
                return -EIO;
        j->added = 0;
        for (size_t i = 0; i < j->n; i++) {
                sql_bind_text(has, 1, j->rows[i].postcode);
                r = sql_step_row(has);
                sqlite3_reset(has);
                if (r < 0)
                        return r;
                if (r == 0)
                        j->added++;
                sql_bind_text(ins, 1, j->rows[i].postcode);
                sqlite3_bind_double(ins, 2, j->rows[i].latitude);
                sqlite3_bind_double(ins, 3, j->rows[i].longitude);
                sqlite3_bind_int64(ins, 4, j->now);
                r = sql_exec_reset(ins);
                if (r < 0)
                        return r;
        }
        return 0;
}

int store_weather_postcodes_put(struct store *st, const struct store_postcode *rows, size_t n,
                                int64_t now, size_t *added)
{
        struct postcodes_job j = { rows, n, now, 0 };
        int r;

        if (n == 0 || n > WEATHER_POSTCODES_MAX)
                return -EINVAL;
        r = store_write(st, postcodes_run, &j);
        if (r == 0 && added)
                *added = j.added;
        return r;
}

int store_weather_postcode_get(struct store *st, const char *postcode, double *lat,
                               double *lon)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r;

        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT latitude, longitude FROM weather_postcodes "
                          "WHERE postcode = ?");
        if (!s)
                return -EIO;
        sql_bind_text(s, 1, postcode);
        r = sql_step_row(s);
        if (r == 1) {
                *lat = sqlite3_column_double(s, 0);
                *lon = sqlite3_column_double(s, 1);
        }
        sqlite3_reset(s);
        if (r < 0)
                return r;
        return r == 1 ? 0 : -ENOENT;
}

int store_weather_postcode_area(struct store *st, const char *postcode, double *lat,
                                double *lon, int64_t *count)
{
        sqlite3 *db = store_reader(st);
        char lo[WEATHER_POSTCODE_LEN + 1], hi[WEATHER_POSTCODE_LEN + 1];
        sqlite3_stmt *s;
        int r;

        if (!db)
                return -EIO;
        if (strlen(postcode) < 3)
                return -EINVAL;
        snprintf(lo, sizeof(lo), "%.3s0000", postcode);
        snprintf(hi, sizeof(hi), "%.3s9999", postcode);
        s = store_prepare(db, "SELECT COUNT(*), AVG(latitude), AVG(longitude) "
                          "FROM weather_postcodes WHERE postcode BETWEEN ? AND ?");
        if (!s)
                return -EIO;
        sql_bind_text(s, 1, lo);
        sql_bind_text(s, 2, hi);
        r = sql_step_row(s);
        *count = r == 1 ? sqlite3_column_int64(s, 0) : 0;
        if (*count > 0) {
                *lat = sqlite3_column_double(s, 1);
                *lon = sqlite3_column_double(s, 2);
        }
        sqlite3_reset(s);
        if (r < 0)
                return r;
        return *count > 0 ? 0 : -ENOENT;
}

/* ---- import ------------------------------------------------------------------ */

struct import_job {
        const struct store_forecast_row *rows;
        size_t n;
        int64_t now, prune_before;
        struct store_weather_import_result res;
};

/* Creates or updates the point of row: *id gets its id. */
static int point_upsert(sqlite3 *db, const struct store_forecast_row *row, int64_t now,
                        int64_t *id)
{
        sqlite3_stmt *s = store_prepare(db,
                "INSERT INTO weather_points (key, name, latitude, longitude, updated_at) "
                "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (key) DO UPDATE SET "
                "name = ?2, latitude = ?3, longitude = ?4, updated_at = ?5 RETURNING id");
        int r;

        if (!s)
                return -EIO;
        sql_bind_text(s, 1, row->key);
        sql_bind_text(s, 2, row->name);
        sqlite3_bind_double(s, 3, row->latitude);
        sqlite3_bind_double(s, 4, row->longitude);
        sqlite3_bind_int64(s, 5, now);
        r = sql_step_row(s);
        if (r == 1)
                *id = sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
        if (r < 0)
                return r;
        return r == 1 ? 0 : -EIO;
}

/* Deletes the point's rows from 'from' on and those before prune_before. */
static int point_clear(sqlite3 *db, int64_t id, int64_t from, int64_t prune_before,
                       size_t *replaced)
{
        sqlite3_stmt *s = store_prepare(db,
                "DELETE FROM weather_forecasts WHERE point_id = ?1 AND at >= ?2");
        sqlite3_stmt *old = store_prepare(db,
                "DELETE FROM weather_forecasts WHERE point_id = ?1 AND at < ?2");
        int r;

        if (!s || !old)
                return -EIO;
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_int64(s, 2, from);
        r = sql_exec_stmt(s);
        *replaced += (size_t)sqlite3_changes(db);
        sqlite3_reset(s);
        if (r < 0)
                return r;
        sqlite3_bind_int64(old, 1, id);
        sqlite3_bind_int64(old, 2, prune_before);
        return sql_exec_reset(old);
}

static void bind_opt_int(sqlite3_stmt *s, int i, bool has, int v)
{
        if (has)
                sqlite3_bind_int(s, i, v);
        else
                sqlite3_bind_null(s, i);
}

static void bind_opt_double(sqlite3_stmt *s, int i, bool has, double v)
{
        if (has)
                sqlite3_bind_double(s, i, v);
        else
                sqlite3_bind_null(s, i);
}

static int forecast_insert(sqlite3 *db, int64_t point_id, const struct store_forecast *f,
                           int64_t now)
{
        sqlite3_stmt *s = store_prepare(db,
                "INSERT INTO weather_forecasts (point_id, at, weather_code, temperature_c, "
                "precipitation_pct, cloud_pct, irradiance_wm2, imported_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, point_id);
        sqlite3_bind_int64(s, 2, f->at);
        bind_opt_int(s, 3, f->has_code, f->weather_code);
        bind_opt_double(s, 4, f->has_temperature, f->temperature_c);
        bind_opt_int(s, 5, f->has_precipitation, f->precipitation_pct);
        bind_opt_int(s, 6, f->has_cloud, f->cloud_pct);
        bind_opt_double(s, 7, f->has_irradiance, f->irradiance_wm2);
        sqlite3_bind_int64(s, 8, now);
        return sql_exec_reset(s);
}

static int point_last_at(sqlite3 *db, int64_t id)
{
        sqlite3_stmt *s = store_prepare(db,
                "UPDATE weather_points SET last_at = IFNULL((SELECT MAX(at) FROM "
                "weather_forecasts WHERE point_id = ?1), 0) WHERE id = ?1");

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, id);
        return sql_exec_reset(s);
}

/* Writes the rows [i, end) of one point. */
static int import_group(sqlite3 *db, struct import_job *j, size_t i, size_t end)
{
        int64_t id = 0;
        int r = point_upsert(db, &j->rows[i], j->now, &id);

        if (r == 0)
                r = point_clear(db, id, j->rows[i].f.at, j->prune_before, &j->res.replaced);
        for (size_t k = i; r == 0 && k < end; k++)
                r = forecast_insert(db, id, &j->rows[k].f, j->now);
        if (r == 0)
                r = point_last_at(db, id);
        if (r == 0) {
                j->res.points++;
                j->res.rows += end - i;
        }
        return r;
}

static int import_run(sqlite3 *db, void *arg)
{
        struct import_job *j = arg;
        size_t i = 0;
        int r = 0;

        memset(&j->res, 0, sizeof(j->res));
        while (r == 0 && i < j->n) {
                size_t end = i + 1;

                while (end < j->n && strcmp(j->rows[end].key, j->rows[i].key) == 0)
                        end++;
                r = import_group(db, j, i, end);
                i = end;
        }
        return r;
}

/* Sorted by key then strictly increasing time, one place per key. */
static bool import_sorted(const struct store_forecast_row *rows, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                size_t kl = rows[i].key ? strlen(rows[i].key) : 0;
                int c;

                if (kl == 0 || kl > WEATHER_KEY_MAX || !geo_valid(rows[i].latitude,
                                                                  rows[i].longitude))
                        return false;
                if (i == 0)
                        continue;
                c = strcmp(rows[i - 1].key, rows[i].key);
                if (c > 0 || (c == 0 && (rows[i - 1].f.at >= rows[i].f.at ||
                                         rows[i - 1].latitude != rows[i].latitude ||
                                         rows[i - 1].longitude != rows[i].longitude)))
                        return false;
        }
        return true;
}

int store_weather_import(struct store *st, const struct store_forecast_row *rows, size_t n,
                         int64_t now, int64_t prune_before,
                         struct store_weather_import_result *res)
{
        struct import_job j = { .rows = rows, .n = n, .now = now, .prune_before = prune_before };
        int r;

        if (n == 0 || n > WEATHER_IMPORT_ROWS_MAX || !import_sorted(rows, n))
                return -EINVAL;
        r = store_write(st, import_run, &j);
        if (r == 0 && res)
                *res = j.res;
        return r;
}

/* ---- reads ----------------------------------------------------------------------- */

static void point_row(sqlite3_stmt *s, struct store_weather_point *p)
{
        memset(p, 0, sizeof(*p));
        p->id = sqlite3_column_int64(s, 0);
        sql_col_copy(s, 1, p->key, sizeof(p->key));
        sql_col_copy(s, 2, p->name, sizeof(p->name));
        p->latitude = sqlite3_column_double(s, 3);
        p->longitude = sqlite3_column_double(s, 4);
        p->last_at = sqlite3_column_int64(s, 5);
        p->updated_at = sqlite3_column_int64(s, 6);
}

int store_weather_nearest(struct store *st, double lat, double lon, double max_m, int64_t from,
                          struct store_weather_point *out)
{
        sqlite3 *db = store_reader(st);
        struct store_weather_point cand;
        struct geo_bbox b;
        sqlite3_stmt *s;
        bool found = false;
        int r = 0;

        if (!db)
                return -EIO;
        geo_bbox_around(lat, lon, max_m, &b);
        s = store_prepare(db,
                "SELECT id, key, name, latitude, longitude, last_at, updated_at "
                "FROM weather_points WHERE latitude BETWEEN ?1 AND ?2 "
                "AND longitude BETWEEN ?3 AND ?4 AND last_at >= ?5 "
                "ORDER BY (latitude - ?6) * (latitude - ?6) + "
                "((longitude - ?7) * ?8) * ((longitude - ?7) * ?8), id LIMIT ?9");
        if (!s)
                return -EIO;
        sqlite3_bind_double(s, 1, b.min_lat);
        sqlite3_bind_double(s, 2, b.max_lat);
        sqlite3_bind_double(s, 3, b.min_lon);
        sqlite3_bind_double(s, 4, b.max_lon);
        sqlite3_bind_int64(s, 5, from);
        sqlite3_bind_double(s, 6, lat);
        sqlite3_bind_double(s, 7, lon);
        sqlite3_bind_double(s, 8, cos(lat * M_PI / 180.0));
        sqlite3_bind_int(s, 9, NEAREST_CANDIDATES);
        for (;;) {
                r = sql_step_row(s);
                if (r <= 0)
                        break;
                point_row(s, &cand);
                cand.distance_m = geo_distance_m(lat, lon, cand.latitude, cand.longitude);
                if (cand.distance_m <= max_m && (!found || cand.distance_m < out->distance_m)) {
                        *out = cand;
                        found = true;
                }
        }
        sqlite3_reset(s);
        if (r < 0)
                return r;
        return found ? 0 : -ENOENT;
}

static void forecast_row(sqlite3_stmt *s, struct store_forecast *f)
{
        memset(f, 0, sizeof(*f));
        f->at = sqlite3_column_int64(s, 0);
        f->has_code = sqlite3_column_type(s, 1) != SQLITE_NULL;
        f->weather_code = sqlite3_column_int(s, 1);
        f->has_temperature = sqlite3_column_type(s, 2) != SQLITE_NULL;
        f->temperature_c = sqlite3_column_double(s, 2);
        f->has_precipitation = sqlite3_column_type(s, 3) != SQLITE_NULL;
        f->precipitation_pct = sqlite3_column_int(s, 3);
        f->has_cloud = sqlite3_column_type(s, 4) != SQLITE_NULL;
        f->cloud_pct = sqlite3_column_int(s, 4);
        f->has_irradiance = sqlite3_column_type(s, 5) != SQLITE_NULL;
        f->irradiance_wm2 = sqlite3_column_double(s, 5);
}

#define FORECAST_COLS "at, weather_code, temperature_c, precipitation_pct, cloud_pct, " \
        "irradiance_wm2"

int store_weather_forecasts(struct store *st, int64_t point_id, int64_t from, int64_t to,
                            struct store_forecast *out, int max)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *before, *s;
        int n = 0, r;

        if (!db)
                return -EIO;
        if (max <= 0)
                return -EINVAL;
        before = store_prepare(db, "SELECT " FORECAST_COLS " FROM weather_forecasts "
                               "WHERE point_id = ? AND at < ? ORDER BY at DESC LIMIT 1");
        s = store_prepare(db, "SELECT " FORECAST_COLS " FROM weather_forecasts "
                          "WHERE point_id = ? AND at >= ? AND at < ? ORDER BY at LIMIT ?");
        if (!before || !s)
                return -EIO;
        sqlite3_bind_int64(before, 1, point_id);
        sqlite3_bind_int64(before, 2, from);
        r = sql_step_row(before);
        if (r == 1)
                forecast_row(before, &out[n++]);
        sqlite3_reset(before);
        if (r < 0)
                return r;
        sqlite3_bind_int64(s, 1, point_id);
        sqlite3_bind_int64(s, 2, from);
        sqlite3_bind_int64(s, 3, to);
        sqlite3_bind_int(s, 4, max - n);
        while (n < max) {
                r = sql_step_row(s);
                if (r <= 0)
                        break;
                forecast_row(s, &out[n++]);
        }
        sqlite3_reset(s);
        return r < 0 ? r : n;
}
