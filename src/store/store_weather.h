/*
 * store_weather.h - places and weather of HE-11 in the store: the
 * operator's postcode table (postcode -> coordinates) and the forecasts
 * the operator imports from a weather provider, by forecast point (an
 * area's representative point or a grid point) and time.
 *
 * Postcodes: one row per 7-digit postcode, upserted by upload; a postcode
 * not in the table can still be placed by the centroid of the imported
 * postcodes that share its first three digits (Japan's postcode areas).
 *
 * Forecasts: points are named by the provider's key (unique) with a name
 * and coordinates; a point's rows are (time, weather code, temperature,
 * precipitation probability, cloud cover, irradiance), each value optional.
 * An import is one write job; for every point it names it replaces the
 * stored rows from that point's earliest imported time on (the newest
 * issue wins whole) and drops the point's rows older than prune_before.
 * Each point remembers its latest row time (last_at), so the nearest point
 * "with data for the coming days" is an indexed box query.
 *
 * Schema (migration 16): weather_postcodes, weather_points,
 * weather_forecasts. Errors: negative errno; -ENOENT nothing found,
 * -EINVAL bad argument.
 */
#ifndef ENEMANE_STORE_STORE_WEATHER_H
#define ENEMANE_STORE_STORE_WEATHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define WEATHER_POSTCODE_LEN 7                  /* digits, no hyphen */
#define WEATHER_POSTCODES_MAX 200000            /* rows of one upload (Japan has ~120 000) */
#define WEATHER_KEY_MAX 64                      /* bytes of a point key */
#define WEATHER_NAME_MAX 100                    /* characters of a point name */
#define WEATHER_NAME_BYTES (4 * WEATHER_NAME_MAX + 1)
#define WEATHER_IMPORT_ROWS_MAX 100000          /* forecast rows of one import */
#define WEATHER_ITEMS_MAX 2000                  /* rows one read returns */

/* The SQL of migration 16 (store/migrations.c). */
extern const char store_m016_sql[];

/* ---- postcodes -------------------------------------------------------------- */

struct store_postcode {
        char postcode[WEATHER_POSTCODE_LEN + 1];
        double latitude, longitude;
};

/* Upserts n (1 .. WEATHER_POSTCODES_MAX) postcodes in one write job;
 * *added (may be NULL) gets how many were new. */
int store_weather_postcodes_put(struct store *st, const struct store_postcode *rows, size_t n,
                                int64_t now, size_t *added);
/* The coordinates of a 7-digit postcode: 0, -ENOENT. */
int store_weather_postcode_get(struct store *st, const char *postcode, double *lat,
                               double *lon);
/* The centroid of the stored postcodes whose first three digits are those
 * of postcode: 0 (*count of them), -ENOENT none. */
int store_weather_postcode_area(struct store *st, const char *postcode, double *lat,
                                double *lon, int64_t *count);

/* ---- forecasts ------------------------------------------------------------- */

struct store_forecast {
        int64_t at;                     /* unix s the values are for */
        bool has_code, has_temperature, has_precipitation, has_cloud, has_irradiance;
        int weather_code;               /* the provider's code, 0 .. 999 */
        double temperature_c;
        int precipitation_pct;          /* probability, 0 .. 100 */
        int cloud_pct;                  /* cover, 0 .. 100 */
        double irradiance_wm2;          /* global horizontal, mean over the period */
};

struct store_forecast_row {
        const char *key;                /* the point's key, 1 .. WEATHER_KEY_MAX bytes */
        const char *name;               /* "" none */
        double latitude, longitude;
        struct store_forecast f;
};

struct store_weather_import_result {
        size_t points;                  /* distinct points written */
        size_t rows;                    /* forecast rows written */
        size_t replaced;                /* stored rows the import replaced */
};

/* Imports n (1 .. WEATHER_IMPORT_ROWS_MAX) rows sorted by key then time
 * (-EINVAL otherwise, or when one key has two different coordinates): one
 * write job, all or nothing. */
int store_weather_import(struct store *st, const struct store_forecast_row *rows, size_t n,
                         int64_t now, int64_t prune_before,
                         struct store_weather_import_result *res);

struct store_weather_point {
        int64_t id;
        char key[WEATHER_KEY_MAX + 1];
        char name[WEATHER_NAME_BYTES];
        double latitude, longitude;
        int64_t last_at;                /* its latest forecast time */
        int64_t updated_at;
        double distance_m;              /* from the asked place (nearest only) */
};

/* The point nearest to (lat, lon) within max_m metres whose forecasts reach
 * from on (last_at >= from): 0, -ENOENT none. */
int store_weather_nearest(struct store *st, double lat, double lon, double max_m, int64_t from,
                          struct store_weather_point *out);
/* The point's rows with from <= at < to, in time order, at most max; also
 * the last row before from when there is one (it may still be in effect),
 * first. Returns the count or <0. */
int store_weather_forecasts(struct store *st, int64_t point_id, int64_t from, int64_t to,
                            struct store_forecast *out, int max);

#endif
