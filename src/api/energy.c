/*
 * energy.c - the household's view of its energy (HE-16): the latest value
 * of every channel, any series at raw, hour, day or month resolution, and
 * daily or monthly summaries (purchase, sale, generation, consumption,
 * self-consumption, gas, water, cost by the household's tariff and CO2 by
 * its factor), each as JSON or CSV. Days and months are Asia/Tokyo ones
 * (domain/rollup.h); the tariff comes from the newest settings version
 * (HE-8, domain/tariff.h).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/api_energy.h"
#include "api/validate.h"
#include "domain/rollup.h"
#include "domain/tariff.h"
#include "store/store_homedata.h"
#include "store/store_ts.h"
#include "util/buf.h"
#include "util/jsonw.h"
#include "util/timeutil.h"

#define SUMMARY_MAX_HOURS (2 * 366 * 24)        /* two years per summary query */
#define ROLLUP_MAX_BUCKETS 20000

/* ---- JSON of a series ------------------------------------------------------ */

static json_t *hex_or_null(int32_t v, int width)
{
        char s[16];

        if (v < 0)
                return json_null();
        snprintf(s, sizeof(s), "0x%0*X", width, (unsigned)v);
        return json_string(s);
}

static json_t *int_or_null(int32_t v)
{
        return v < 0 ? json_null() : json_integer(v);
}

/* Times of points are milliseconds: RFC 3339 with the offset, plus ms. */
static json_t *time_ms(int64_t ms)
{
        char s[TIME_RFC3339_MAX + 8];

        if (ms % 1000 == 0)
                return api_time(ms / 1000);
        time_format_rfc3339(ms >= 0 ? ms / 1000 : (ms - 999) / 1000, s);
        /* "2026-12-03T10:00:00+09:00" -> "2026-12-03T10:00:00.123+09:00" */
        if (strlen(s) == 25) {
                char out[64];

                snprintf(out, sizeof(out), "%.19s.%03d%s", s, (int)(((ms % 1000) + 1000) % 1000),
                         s + 19);
                return json_string(out);
        }
        return json_string(s);
}

static json_t *series_json(const struct store_series *s)
{
        json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:s, s:s}",
                              "id", (json_int_t)s->id, "channel", s->key.channel,
                              "quantity", energy_quantity_name(s->key.quantity),
                              "unit", s->key.unit,
                              "class", hex_or_null(s->key.class_code, 4),
                              "epc", hex_or_null(s->key.epc, 2),
                              "instance", int_or_null(s->key.instance),
                              "circuit", int_or_null(s->key.circuit),
                              "name", s->key.name, "role", s->key.role);

        if (s->last_ts > 0)
                json_object_set_new(o, "latest", json_pack("{s:o, s:f}", "time",
                                                           time_ms(s->last_ts), "value",
                                                           s->last_value));
        else
                json_object_set_new(o, "latest", json_null());
        return o;
}

void api_home_series(struct api_ctx *c)
{
        struct store_home home;
        struct store_series *s = NULL;
        size_t n = 0;
        json_t *arr;
        int r;

        if (api_home_access(c, false, false, &home) < 0)
                return;
        r = store_ts_series_list(c->app->st, home.id, &s, &n);
        if (r < 0) {
                api_store_error(c, r, "series");
                return;
        }
        arr = json_array();
        for (size_t i = 0; i < n; i++)
                json_array_append_new(arr, series_json(&s[i]));
        free(s);
        api_json(c, 200, json_pack("{s:o}", "items", arr));
}

/* The latest value of every channel: the same list, flattened. */
void api_home_latest(struct api_ctx *c)
{
        struct store_home home;
        struct store_series *s = NULL;
        size_t n = 0;
        json_t *arr;
        int r;

        if (api_home_access(c, false, false, &home) < 0)
                return;
        r = store_ts_series_list(c->app->st, home.id, &s, &n);
        if (r < 0) {
                api_store_error(c, r, "series");
                return;
        }
        arr = json_array();
        for (size_t i = 0; i < n; i++) {
                json_t *o;

                if (s[i].last_ts == 0)
                        continue;
                o = series_json(&s[i]);
                json_object_del(o, "latest");
                json_object_set_new(o, "series_id", json_integer(s[i].id));
                json_object_del(o, "id");
                json_object_set_new(o, "time", time_ms(s[i].last_ts));
                json_object_set_new(o, "value", json_real(s[i].last_value));
                json_array_append_new(arr, o);
        }
        free(s);
        api_json(c, 200, json_pack("{s:o}", "items", arr));
}

/* ---- query parameters -------------------------------------------------------- */

/* Reads the RFC 3339 query parameter key into *out (unix s). */
static int query_time(struct api_ctx *c, const char *key, int64_t *out)
{
        char *v = NULL;
        int r = http_query_get(c->req->query, key, &v);

        if (r == 1 && time_parse_rfc3339(v, out) == 0) {
                free(v);
                return 0;
        }
        free(v);
        problem_respond(c->res, 422, "validation_failed",
                        "%s is required: an RFC 3339 time like 2026-12-03T00:00:00+09:00.", key);
        return -EINVAL;
}

static int query_range(struct api_ctx *c, int64_t *from, int64_t *to)
{
        if (query_time(c, "from", from) < 0 || query_time(c, "to", to) < 0)
                return -EINVAL;
        if (*to <= *from) {
                problem_respond(c->res, 422, "validation_failed", "to must be after from.");
                return -EINVAL;
        }
        return 0;
}

/* format=json (default) or csv: 1 for csv, 0 json, <0 rendered error. */
static int query_csv(struct api_ctx *c)
{
        char *v = NULL;
        int r = http_query_get(c->req->query, "format", &v), csv = 0;

        if (r == 1) {
                if (strcmp(v, "csv") == 0)
                        csv = 1;
                else if (strcmp(v, "json") != 0)
                        csv = -1;
        }
        free(v);
        if (csv < 0)
                problem_respond(c->res, 422, "validation_failed", "format must be json or csv.");
        return csv;
}

static void csv_send(struct api_ctx *c, struct buf *b, const char *name)
{
        char disp[128];
        size_t len;
        char *text = buf_steal(b, &len);

        http_response_set(c->res, 200, "text/csv; charset=utf-8", text, len);
        snprintf(disp, sizeof(disp), "attachment; filename=\"%s.csv\"", name);
        http_response_header(c->res, "Content-Disposition", disp);
        free(text);
}

/* ---- series data ---------------------------------------------------------------- */

static void csv_time(struct buf *b, int64_t unix_s)
{
        char t[TIME_RFC3339_MAX];

        time_format_rfc3339(unix_s, t);
        buf_puts(b, t);
}

static void series_raw(struct api_ctx *c, const struct store_series *s, int64_t from,
                       int64_t to, int csv)
{
        int64_t *ts = NULL;
        double *v = NULL;
        size_t n = 0;
        int r = store_ts_raw(c->app->st, s->id, from * 1000, to * 1000,
                             (size_t)c->app->cfg->energy_raw_max_points, &ts, &v, &n);

        if (r == -E2BIG) {
                problem_respond(c->res, 422, "range_too_large",
                                "More than %lld raw points: ask for a shorter range or an "
                                "hour, day or month resolution.",
                                (long long)c->app->cfg->energy_raw_max_points);
                return;
        }
        if (r < 0) {
                api_store_error(c, r, "points");
                return;
        }
        if (csv) {
                struct buf b;

                buf_init(&b, 0);
                buf_puts(&b, "time,value\n");
                for (size_t i = 0; i < n; i++) {
                        json_t *t = time_ms(ts[i]);

                        buf_printf(&b, "%s,%.17g\n", json_string_value(t), v[i]);
                        json_decref(t);
                }
                csv_send(c, &b, s->key.channel);
        } else {
                json_t *arr = json_array();

                for (size_t i = 0; i < n; i++)
                        json_array_append_new(arr, json_pack("[o, f]", time_ms(ts[i]), v[i]));
                api_json(c, 200, json_pack("{s:I, s:s, s:s, s:o}", "series_id",
                                           (json_int_t)s->id, "resolution", "raw", "unit",
                                           s->key.unit, "points", arr));
        }
        free(ts);
        free(v);
}

/* Writes the "buckets" array of one series (gauges: min/max/mean,
 * counters: total) into the streaming writer. */
static void jw_buckets(struct jw *w, const struct store_series *s,
                       const struct rollup_cell *cells, size_t n)
{
        bool counter = energy_quantity_kind(s->key.quantity) == EK_COUNTER;
        char t[TIME_RFC3339_MAX];

        jw_arr_begin(w, "buckets");
        for (size_t i = 0; i < n; i++) {
                const struct rollup_cell *k = &cells[i];

                time_format_rfc3339(k->bucket, t);
                jw_obj_begin(w, NULL);
                jw_str(w, "start", t);
                jw_int(w, "n", k->n);
                if (counter) {
                        jw_double(w, "total", k->total);
                } else {
                        jw_double(w, "min", k->min);
                        jw_double(w, "max", k->max);
                        jw_double(w, "mean", k->sum / (double)k->n);
                }
                jw_obj_end(w);
        }
        jw_arr_end(w);
}

static void data_series(struct jw *w, const struct store_series *s,
                        const struct rollup_cell *cells, size_t n)
{
        jw_obj_begin(w, NULL);
        jw_int(w, "series_id", s->id);
        jw_str(w, "channel", s->key.channel);
        jw_str(w, "quantity", energy_quantity_name(s->key.quantity));
        jw_str(w, "unit", s->key.unit);
        jw_str(w, "role", s->key.role);
        jw_buckets(w, s, cells, n);
        jw_obj_end(w);
}

static void series_buckets(struct api_ctx *c, const struct store_series *s, enum rollup_res res,
                           const char *res_name, int64_t from, int64_t to, int csv)
{
        bool counter = energy_quantity_kind(s->key.quantity) == EK_COUNTER;
        struct rollup_cell *cells = NULL;
        size_t n = 0;
        int r = store_ts_rollups(c->app->st, s->id, res, rollup_bucket(res, from), to, &cells, &n);

        if (r < 0) {
                api_store_error(c, r, "rollups");
                return;
        }
        if (csv) {
                struct buf b;

                buf_init(&b, 0);
                buf_puts(&b, counter ? "start,n,total\n" : "start,n,min,max,mean\n");
                for (size_t i = 0; i < n; i++) {
                        csv_time(&b, cells[i].bucket);
                        if (counter)
                                buf_printf(&b, ",%lld,%.17g\n", (long long)cells[i].n,
                                           cells[i].total);
                        else
                                buf_printf(&b, ",%lld,%.17g,%.17g,%.17g\n", (long long)cells[i].n,
                                           cells[i].min, cells[i].max,
                                           cells[i].sum / (double)cells[i].n);
                }
                csv_send(c, &b, s->key.channel);
        } else {
                struct buf b;
                struct jw w;

                buf_init(&b, 0);
                jw_init(&w, &b);
                jw_obj_begin(&w, NULL);
                jw_int(&w, "series_id", s->id);
                jw_str(&w, "resolution", res_name);
                jw_str(&w, "unit", s->key.unit);
                jw_buckets(&w, s, cells, n);
                jw_obj_end(&w);
                if (jw_error(&w) < 0)
                        api_store_error(c, jw_error(&w), "rollups");
                else
                        http_response_set(c->res, 200, "application/json", b.data, b.len);
                buf_free(&b);
        }
        free(cells);
}

void api_home_series_data(struct api_ctx *c)
{
        static const char *const names[] = { "hour", "day", "month" };
        struct store_home home;
        struct store_series s;
        int64_t sid, from = 0, to = 0;
        char *res = NULL;
        int csv, r, k = -1;

        if (api_home_access(c, false, false, &home) < 0)
                return;
        sid = api_param_id(c, "series_id");
        if (!sid)
                return;
        r = store_ts_series_get(c->app->st, home.id, sid, &s);
        if (r < 0) {
                api_store_error(c, r, "series");
                return;
        }
        if (query_range(c, &from, &to) < 0)
                return;
        csv = query_csv(c);
        if (csv < 0)
                return;
        r = http_query_get(c->req->query, "resolution", &res);
        for (int i = 0; r == 1 && i < 3; i++)
                if (strcmp(res, names[i]) == 0)
                        k = i;
        if (r == 1 && k < 0 && strcmp(res, "raw") != 0) {
                free(res);
                problem_respond(c->res, 422, "validation_failed",
                                "resolution must be raw, hour, day or month.");
                return;
        }
        free(res);
        if (k < 0)
                series_raw(c, &s, from, to, csv);
        else if ((to - from) / (k == 0 ? 3600 : 86400) > ROLLUP_MAX_BUCKETS)
                problem_respond(c->res, 422, "range_too_large",
                                "At most %d buckets per query.", ROLLUP_MAX_BUCKETS);
        else
                series_buckets(c, &s, (enum rollup_res)k, names[k], from, to, csv);
}

/* ---- every series at once ------------------------------------------------------------ */

/* The answer of GET /homes/{id}/data, written straight into a buffer: the
 * app's views are its hottest reads (bench/query.sh). */
static int data_render(struct api_ctx *c, int64_t home_id, enum rollup_res res,
                       const char *res_name, int64_t from, int64_t to, struct buf *out)
{
        struct store_series *s = NULL;
        char t[TIME_RFC3339_MAX];
        struct jw w;
        size_t n = 0;
        int r = store_ts_series_list(c->app->st, home_id, &s, &n);

        jw_init(&w, out);
        jw_obj_begin(&w, NULL);
        jw_str(&w, "resolution", res_name);
        time_format_rfc3339(from, t);
        jw_str(&w, "from", t);
        time_format_rfc3339(to, t);
        jw_str(&w, "to", t);
        jw_arr_begin(&w, "series");
        for (size_t i = 0; r == 0 && i < n; i++) {
                struct rollup_cell *cells = NULL;
                size_t nc = 0;

                r = store_ts_rollups(c->app->st, s[i].id, res, rollup_bucket(res, from), to,
                                     &cells, &nc);
                if (r == 0)
                        data_series(&w, &s[i], cells, nc);
                free(cells);
        }
        jw_arr_end(&w);
        jw_obj_end(&w);
        free(s);
        return r < 0 ? r : jw_error(&w);
}

/* GET /homes/{id}/data: every series of the home at one resolution (the
 * app's year, month and day views in one request). */
void api_home_data(struct api_ctx *c)
{
        static const char *const names[] = { "hour", "day", "month" };
        struct store_home home;
        int64_t from = 0, to = 0;
        char *res = NULL;
        struct buf out;
        int r, k = -1;

        if (api_home_access(c, false, false, &home) < 0)
                return;
        if (query_range(c, &from, &to) < 0)
                return;
        r = http_query_get(c->req->query, "resolution", &res);
        for (int i = 0; r == 1 && i < 3; i++)
                if (strcmp(res, names[i]) == 0)
                        k = i;
        free(res);
        if (k < 0) {
                problem_respond(c->res, 422, "validation_failed",
                                "resolution must be hour, day or month.");
                return;
        }
        if ((to - from) / (k == 0 ? 3600 : 86400) > ROLLUP_MAX_BUCKETS) {
                problem_respond(c->res, 422, "range_too_large",
                                "At most %d buckets per series and query.", ROLLUP_MAX_BUCKETS);
                return;
        }
        buf_init(&out, 0);
        r = data_render(c, home.id, (enum rollup_res)k, names[k], from, to, &out);
        if (r < 0)
                api_store_error(c, r, "rollups");
        else
                http_response_set(c->res, 200, "application/json", out.data, out.len);
        buf_free(&out);
}

/* ---- summary ----------------------------------------------------------------------- */

/* Adds a series' hourly increases into the hours array (index by hour from
 * h0), converted to kWh, m3 or L by its role and unit. */
static double unit_factor(const struct store_series *s)
{
        const char *u = s->key.unit;

        if (s->key.quantity == EQ_ENERGY)
                return strcmp(u, "kWh") == 0 ? 1.0 : 0.001;
        if (s->key.quantity == EQ_GAS)
                return strcmp(u, "L") == 0 ? 0.001 : 1.0;
        if (s->key.quantity == EQ_WATER)
                return strcmp(u, "m3") == 0 ? 1000.0 : 1.0;
        return 0;
}

static double *hour_field(struct energy_hour *h, const struct store_series *s)
{
        const char *role = s->key.role;

        if (s->key.quantity == EQ_GAS)
                return &h->gas_m3;
        if (s->key.quantity == EQ_WATER)
                return &h->water_l;
        if (s->key.quantity != EQ_ENERGY)
                return NULL;
        if (strcmp(role, "purchase") == 0)
                return &h->purchase_kwh;
        if (strcmp(role, "sale") == 0)
                return &h->sale_kwh;
        if (strcmp(role, "generation") == 0 || strcmp(role, "fuelcell") == 0)
                return &h->generation_kwh;
        if (strcmp(role, "battery_charge") == 0)
                return &h->battery_charge_kwh;
        if (strcmp(role, "battery_discharge") == 0)
                return &h->battery_discharge_kwh;
        return NULL;
}

static int hours_fill(struct api_ctx *c, int64_t home_id, int64_t h0, size_t nh,
                      struct energy_hour *hours)
{
        struct store_series *s = NULL;
        size_t n = 0;
        int r = store_ts_series_list(c->app->st, home_id, &s, &n);

        for (size_t i = 0; i < nh; i++)
                hours[i].hour_start = h0 + (int64_t)i * 3600;
        for (size_t i = 0; r == 0 && i < n; i++) {
                struct rollup_cell *cells = NULL;
                size_t nc = 0;
                double f = unit_factor(&s[i]);
                struct energy_hour probe;

                if (!hour_field(&probe, &s[i]) || f == 0)
                        continue;
                r = store_ts_rollups(c->app->st, s[i].id, RU_HOUR, h0, h0 + (int64_t)nh * 3600,
                                     &cells, &nc);
                for (size_t k = 0; r == 0 && k < nc; k++) {
                        size_t idx = (size_t)((cells[k].bucket - h0) / 3600);

                        *hour_field(&hours[idx], &s[i]) += cells[k].total * f;
                }
                free(cells);
        }
        free(s);
        return r;
}

static int home_tariff(struct api_ctx *c, int64_t home_id, struct tariff *t)
{
        struct store_settings_version v = { 0 };
        struct tariff_error te;
        json_t *doc;
        int r = store_settings_get(c->app->st, home_id, 0, &v);

        memset(t, 0, sizeof(*t));
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        doc = json_loads(v.doc ? v.doc : "{}", 0, NULL);
        store_settings_version_free(&v);
        if (doc)
                r = tariff_from_settings(doc, t, &te);
        json_decref(doc);
        if (r < 0)
                memset(t, 0, sizeof(*t));       /* checked at upload; never here */
        return 0;
}

static json_t *summary_json(const struct energy_summary *s)
{
        return json_pack("{s:o, s:f, s:f, s:f, s:f, s:o, s:f, s:f, s:I, s:I, s:f}",
                         "start", api_time(s->start), "purchase_kwh", s->purchase_kwh,
                         "sale_kwh", s->sale_kwh, "generation_kwh", s->generation_kwh,
                         "consumption_kwh", s->consumption_kwh, "self_consumption_ratio",
                         s->self_consumption_ratio < 0 ? json_null() :
                         json_real(s->self_consumption_ratio),
                         "gas_m3", s->gas_m3, "water_l", s->water_l,
                         "cost_yen", (json_int_t)s->cost_yen, "sale_yen", (json_int_t)s->sale_yen,
                         "co2_kg", s->co2_kg);
}

static void summary_csv(struct api_ctx *c, const struct energy_summary *s, size_t n,
                        int64_t from)
{
        struct buf b;

        buf_init(&b, 0);
        buf_puts(&b, "start,purchase_kwh,sale_kwh,generation_kwh,consumption_kwh,"
                 "self_consumption_ratio,gas_m3,water_l,cost_yen,sale_yen,co2_kg\n");
        for (size_t i = 0; i < n; i++) {
                if (s[i].start < from)
                        continue;
                csv_time(&b, s[i].start);
                buf_printf(&b, ",%.3f,%.3f,%.3f,%.3f,", s[i].purchase_kwh, s[i].sale_kwh,
                           s[i].generation_kwh, s[i].consumption_kwh);
                if (s[i].self_consumption_ratio >= 0)
                        buf_printf(&b, "%.4f", s[i].self_consumption_ratio);
                buf_printf(&b, ",%.3f,%.1f,%lld,%lld,%.3f\n", s[i].gas_m3, s[i].water_l,
                           (long long)s[i].cost_yen, (long long)s[i].sale_yen, s[i].co2_kg);
        }
        csv_send(c, &b, "summary");
}

void api_home_summary(struct api_ctx *c)
{
        struct store_home home;
        struct tariff t;
        struct energy_hour *hours = NULL;
        struct energy_summary *sum = NULL;
        size_t nh, ns = 0;
        int64_t from = 0, to = 0, h0, h1;
        char *period = NULL;
        char p = 0;
        int csv, r;

        if (api_home_access(c, false, false, &home) < 0)
                return;
        r = http_query_get(c->req->query, "period", &period);
        if (r == 1 && strcmp(period, "day") == 0)
                p = 'd';
        else if (r == 1 && strcmp(period, "month") == 0)
                p = 'm';
        free(period);
        if (!p) {
                problem_respond(c->res, 422, "validation_failed", "period must be day or month.");
                return;
        }
        if (query_range(c, &from, &to) < 0)
                return;
        csv = query_csv(c);
        if (csv < 0)
                return;
        /* Whole buckets, from the start of from's month (tiers count the month). */
        from = rollup_bucket(p == 'd' ? RU_DAY : RU_MONTH, from);
        h0 = rollup_bucket(RU_MONTH, from);
        h1 = rollup_next(p == 'd' ? RU_DAY : RU_MONTH, rollup_bucket(p == 'd' ? RU_DAY : RU_MONTH,
                                                                      to - 1));
        nh = (size_t)((h1 - h0) / 3600);
        if (nh > SUMMARY_MAX_HOURS) {
                problem_respond(c->res, 422, "range_too_large",
                                "A summary covers at most two years.");
                return;
        }
        hours = calloc(nh ? nh : 1, sizeof(*hours));
        r = hours ? hours_fill(c, home.id, h0, nh, hours) : -ENOMEM;
        if (r == 0)
                r = home_tariff(c, home.id, &t);
        if (r == 0)
                r = tariff_summarise(&t, p, hours, nh, 0, &sum, &ns);
        free(hours);
        if (r < 0) {
                api_store_error(c, r, "summary");
                return;
        }
        if (csv) {
                summary_csv(c, sum, ns, from);
        } else {
                json_t *arr = json_array();

                for (size_t i = 0; i < ns; i++)
                        if (sum[i].start >= from)
                                json_array_append_new(arr, summary_json(&sum[i]));
                api_json(c, 200, json_pack("{s:s, s:o, s:{s:s, s:b}}", "period",
                                           p == 'd' ? "day" : "month", "items", arr, "tariff",
                                           "plan", t.plan, "present", t.present != 0));
        }
        free(sum);
}
