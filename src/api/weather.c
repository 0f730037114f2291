/*
 * weather.c - weather and location (HE-11): the operator's postcode table
 * and forecast imports (JSON or CSV), the gateway's place (registration >
 * postcode > prefecture), and the weather answer for a gateway and for the
 * members of its home: the forecast of the nearest point with data, and
 * what is computed from the coordinates alone (sunrise, sunset, the sun's
 * elevation and azimuth by hour, clear-sky irradiance, and the expected
 * output of the home's PV system when its settings give one).
 *
 * Place: the coordinates given at registration; else the household's
 * postcode in the operator's table (exactly, or the centroid of the
 * imported postcodes sharing its first three digits); else the capital of
 * the household's prefecture (domain/prefectures.h); else 404
 * location_unknown.
 *
 * PV size, from the home's newest settings document (HE-8): an object
 * "pv": {"kw": 4.5, "tilt_deg": 30, "azimuth_deg": 180}; else a number
 * "pv_kw"; else the sum of the "pv_kw" numbers of the "devices" items.
 * Tilt defaults to 30 degrees and azimuth to 180 (south); values out of
 * range make the PV part absent (the settings upload is not refused for
 * them: it belongs to HE-8).
 *
 * Forecast rows cover their time up to the next row of the same point (at
 * most a day; the last row as long as the gap before it, an hour when it
 * is alone). The expected PV output of an hour is the clear-sky output
 * scaled by the forecast irradiance over the clear-sky irradiance (at most
 * 1.2), else by the Kasten-Czeplak cloud factor, else the clear-sky output.
 *
 * Problem codes: location_unknown (404), validation_failed (422, in
 * errors[]: required, type, invalid, out_of_range, too_long,
 * unknown_field, unknown_column, duplicate_column, columns, duplicate,
 * conflict, too_many), unsupported_media_type (415), invalid_body (400),
 * malformed_json (400).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/api_energy.h"
#include "api/api_weather.h"
#include "api/validate.h"
#include "domain/geo.h"
#include "domain/member.h"
#include "domain/prefectures.h"
#include "domain/solar.h"
#include "store/store_homedata.h"
#include "store/store_weather.h"
#include "util/buf.h"
#include "util/jsonw.h"
#include "util/timeutil.h"

#define DAY_S 86400
#define HOUR_S 3600
#define WX_MAX_DISTANCE_M 100000.0      /* a forecast point farther away does not cover */
#define WX_KEEP_PAST_S (2 * DAY_S)      /* forecast rows older than this are dropped */
#define WX_AHEAD_MAX_S (31 * DAY_S)     /* the latest forecast time an import may carry */
#define WX_SPAN_MAX_S DAY_S             /* the longest a forecast row stays in effect */
#define WX_IRR_FACTOR_MAX 1.2
#define WX_PV_KW_MAX 1000.0
#define WX_TILT_DEFAULT 30.0
#define WX_AZIMUTH_DEFAULT 180.0
#define WX_DEVICES_MAX 200              /* devices items looked at for pv_kw */
#define WX_POINTS_MAX 20000             /* points of one JSON import */

/* ---- small helpers ----------------------------------------------------------- */

static bool is_content_type(const char *ct, const char *want)
{
        size_t n = strlen(want);

        if (!ct)
                return false;
        while (*ct == ' ')
                ct++;
        return strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* v rounded to decimals places, as an exact decimal (jw_fixed). */
static void jw_num(struct jw *w, const char *key, double v, int decimals)
{
        double scale = pow(10.0, decimals);

        if (!isfinite(v))
                jw_null(w, key);
        else
                jw_fixed(w, key, (int64_t)llround(v * scale), decimals);
}

static void jw_time(struct jw *w, const char *key, int64_t t)
{
        char s[TIME_RFC3339_MAX];

        time_format_rfc3339(t, s);
        jw_str(w, key, s);
}

/* Unix seconds of the Tokyo midnight that starts the day holding t. */
static int64_t tokyo_day_start(int64_t t)
{
        int64_t local = t + TIME_DISPLAY_OFFSET_S;
        int64_t day = local / DAY_S - (local % DAY_S < 0 ? 1 : 0);

        return day * DAY_S - TIME_DISPLAY_OFFSET_S;
}

/* "123-4567" or "1234567" into 7 digits; false when it is neither. */
static bool postcode_norm(const char *in, char out[WEATHER_POSTCODE_LEN + 1])
{
        size_t n = in ? strlen(in) : 0, k = 0;

        if (n != 7 && n != 8)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (n == 8 && i == 3) {
                        if (in[i] != '-')
                                return false;
                        continue;
                }
                if (!isdigit((unsigned char)in[i]))
                        return false;
                out[k++] = in[i];
        }
        out[k] = '\0';
        return true;
}

/* ---- the home's place ---------------------------------------------------------- */

struct wx_place {
        double lat, lon;
        const char *source;                     /* registration | postcode | prefecture */
        char postcode[WEATHER_POSTCODE_LEN + 1];/* source postcode */
        const char *postcode_match;             /* exact | area */
        const struct prefecture *pref;          /* source prefecture */
};

/* The household's postcode (normalised, "" none) and prefecture (NULL). */
static int household_fields(struct api_ctx *c, int64_t home_id,
                            char pc[WEATHER_POSTCODE_LEN + 1], const struct prefecture **pref)
{
        char *text = NULL;
        json_t *doc;
        int r = store_household_get(c->app->st, home_id, &text);

        pc[0] = '\0';
        *pref = NULL;
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        doc = text ? json_loads(text, 0, NULL) : NULL;
        free(text);
        if (!json_is_object(doc)) {
                json_decref(doc);
                return 0;
        }
        if (!postcode_norm(json_string_value(json_object_get(doc, "postcode")), pc))
                pc[0] = '\0';
        *pref = prefecture_find(json_string_value(json_object_get(doc, "prefecture")));
        json_decref(doc);
        return 0;
}

/* The postcode's place: 0 found, -ENOENT not in the table, <0 error. */
static int place_by_postcode(struct api_ctx *c, const char *pc, struct wx_place *pl)
{
        int64_t count = 0;
        int r = store_weather_postcode_get(c->app->st, pc, &pl->lat, &pl->lon);

        pl->postcode_match = "exact";
        if (r == -ENOENT) {
                r = store_weather_postcode_area(c->app->st, pc, &pl->lat, &pl->lon, &count);
                pl->postcode_match = "area";
        }
        if (r == 0) {
                pl->source = "postcode";
                snprintf(pl->postcode, sizeof(pl->postcode), "%s", pc);
        }
        return r;
}

/* Resolves the home's place; renders the problem and returns <0 when there
 * is none (404 location_unknown) or on a store error. */
static int place_resolve(struct api_ctx *c, const struct store_home *home, struct wx_place *pl)
{
        char pc[WEATHER_POSTCODE_LEN + 1];
        const struct prefecture *pref;
        int r;

        memset(pl, 0, sizeof(*pl));
        if (home->has_coords) {
                pl->lat = home->latitude;
                pl->lon = home->longitude;
                pl->source = "registration";
                return 0;
        }
        r = household_fields(c, home->id, pc, &pref);
        if (r == 0 && pc[0])
                r = place_by_postcode(c, pc, pl);
        if (r == 0 && pl->source)
                return 0;
        if (r < 0 && r != -ENOENT) {
                api_store_error(c, r, "location");
                return r;
        }
        if (pref) {
                pl->lat = pref->latitude;
                pl->lon = pref->longitude;
                pl->source = "prefecture";
                pl->pref = pref;
                return 0;
        }
        problem_respond(c->res, 404, "location_unknown",
                        "This home's place is unknown: the gateway gave no coordinates at "
                        "registration, and the household information has no postcode in the "
                        "postcode table and no prefecture (HE-11).");
        return -ENOENT;
}

static void place_write(struct jw *w, const struct wx_place *pl)
{
        jw_num(w, "latitude", pl->lat, 6);
        jw_num(w, "longitude", pl->lon, 6);
        jw_str(w, "source", pl->source);
        if (pl->postcode[0]) {
                jw_str(w, "postcode", pl->postcode);
                jw_str(w, "postcode_match", pl->postcode_match);
        } else {
                jw_null(w, "postcode");
                jw_null(w, "postcode_match");
        }
        if (pl->pref) {
                jw_obj_begin(w, "prefecture");
                jw_int(w, "code", pl->pref->code);
                jw_str(w, "name", pl->pref->name_ja);
                jw_str(w, "name_en", pl->pref->name_en);
                jw_str(w, "capital", pl->pref->capital_ja);
                jw_str(w, "capital_en", pl->pref->capital_en);
                jw_obj_end(w);
        } else {
                jw_null(w, "prefecture");
        }
}

static void respond_buf(struct api_ctx *c, struct buf *b, struct jw *w)
{
        int r = jw_error(w);

        if (r < 0)
                api_store_error(c, r, "weather");
        else
                http_response_set(c->res, 200, "application/json", b->data, b->len);
        buf_free(b);
}

void api_gateway_location(struct api_ctx *c)
{
        struct store_gateway gw;
        struct store_home home;
        struct wx_place pl;
        struct buf b;
        struct jw w;

        if (api_gateway_home(c, false, &gw, &home) < 0)
                return;
        if (place_resolve(c, &home, &pl) < 0)
                return;
        buf_init(&b, 0);
        jw_init(&w, &b);
        jw_obj_begin(&w, NULL);
        place_write(&w, &pl);
        jw_obj_end(&w);
        respond_buf(c, &b, &w);
}

/* ---- PV size from the settings --------------------------------------------------- */

struct wx_pv {
        bool present;
        struct solar_pv pv;
        const char *source;             /* settings.pv | settings.pv_kw | settings.devices */
};

/* A number of v in [lo, hi] into *out; absent: dflt; false when invalid. */
static bool num_in(json_t *v, double lo, double hi, double dflt, double *out)
{
        if (!v) {
                *out = dflt;
                return true;
        }
        if (!json_is_number(v))
                return false;
        *out = json_number_value(v);
        return isfinite(*out) && *out >= lo && *out <= hi;
}

static bool pv_object(json_t *o, struct solar_pv *pv)
{
        json_t *kw = json_object_get(o, "kw");

        return json_is_object(o) && kw && num_in(kw, 0, WX_PV_KW_MAX, 0, &pv->kw) &&
               pv->kw > 0 &&
               num_in(json_object_get(o, "tilt_deg"), 0, 90, WX_TILT_DEFAULT, &pv->tilt_deg) &&
               num_in(json_object_get(o, "azimuth_deg"), 0, 360, WX_AZIMUTH_DEFAULT,
                      &pv->azimuth_deg);
}

/* The sum of the devices' pv_kw numbers (0 when none or any is invalid). */
static double pv_devices(json_t *devices)
{
        double sum = 0, kw;
        json_t *d;
        size_t i;

        json_array_foreach(devices, i, d) {
                json_t *v = json_object_get(d, "pv_kw");

                if (i >= WX_DEVICES_MAX)
                        break;
                if (!v)
                        continue;
                if (!num_in(v, 0, WX_PV_KW_MAX, 0, &kw))
                        return 0;
                sum += kw;
        }
        return sum <= WX_PV_KW_MAX ? sum : 0;
}

static void pv_from_doc(json_t *doc, struct wx_pv *out)
{
        json_t *o = json_object_get(doc, "pv"), *kw = json_object_get(doc, "pv_kw");

        out->pv.tilt_deg = WX_TILT_DEFAULT;
        out->pv.azimuth_deg = WX_AZIMUTH_DEFAULT;
        if (o) {
                out->present = pv_object(o, &out->pv);
                out->source = "settings.pv";
        } else if (kw) {
                out->present = num_in(kw, 0, WX_PV_KW_MAX, 0, &out->pv.kw) && out->pv.kw > 0;
                out->source = "settings.pv_kw";
        } else {
                out->pv.kw = pv_devices(json_object_get(doc, "devices"));
                out->present = out->pv.kw > 0;
                out->source = "settings.devices";
        }
        out->pv.performance_ratio = SOLAR_PV_PERFORMANCE_RATIO;
}

static int pv_of_home(struct api_ctx *c, int64_t home_id, struct wx_pv *out)
{
        struct store_settings_version v;
        json_t *doc;
        int r;

        memset(out, 0, sizeof(*out));
        memset(&v, 0, sizeof(v));
        r = store_settings_get(c->app->st, home_id, 0, &v);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        doc = v.doc ? json_loads(v.doc, 0, NULL) : NULL;
        store_settings_version_free(&v);
        if (json_is_object(doc))
                pv_from_doc(doc, out);
        json_decref(doc);
        return 0;
}

/* ---- forecast of the nearest point ----------------------------------------------- */

struct wx_forecast {
        bool present;
        struct store_weather_point pt;
        struct store_forecast *items;   /* time order */
        int n;
        int cursor;                     /* in_effect()'s scan position */
};

static int forecast_load(struct api_ctx *c, const struct wx_place *pl, int64_t from, int64_t to,
                         struct wx_forecast *fc)
{
        int r = store_weather_nearest(c->app->st, pl->lat, pl->lon, WX_MAX_DISTANCE_M, c->now,
                                      &fc->pt);

        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        fc->items = calloc(WEATHER_ITEMS_MAX, sizeof(*fc->items));
        if (!fc->items)
                return -ENOMEM;
        r = store_weather_forecasts(c->app->st, fc->pt.id, from, to, fc->items,
                                    WEATHER_ITEMS_MAX);
        if (r < 0)
                return r;
        fc->n = r;
        fc->present = true;
        return 0;
}

/* How long item i stays in effect. */
static int64_t item_span(const struct wx_forecast *fc, int i)
{
        int64_t span = HOUR_S;

        if (i + 1 < fc->n)
                span = fc->items[i + 1].at - fc->items[i].at;
        else if (i > 0)
                span = fc->items[i].at - fc->items[i - 1].at;
        return span < WX_SPAN_MAX_S ? span : WX_SPAN_MAX_S;
}

/* The row in effect at t (t never decreases between calls), or NULL. */
static const struct store_forecast *in_effect(struct wx_forecast *fc, int64_t t)
{
        while (fc->cursor + 1 < fc->n && fc->items[fc->cursor + 1].at <= t)
                fc->cursor++;
        if (fc->cursor < fc->n && fc->items[fc->cursor].at <= t &&
            t < fc->items[fc->cursor].at + item_span(fc, fc->cursor))
                return &fc->items[fc->cursor];
        return NULL;
}

static void forecast_values_write(struct jw *w, const struct store_forecast *f)
{
        if (f->has_code)
                jw_int(w, "weather_code", f->weather_code);
        else
                jw_null(w, "weather_code");
        if (f->has_temperature)
                jw_num(w, "temperature_c", f->temperature_c, 1);
        else
                jw_null(w, "temperature_c");
        if (f->has_precipitation)
                jw_int(w, "precipitation_pct", f->precipitation_pct);
        else
                jw_null(w, "precipitation_pct");
        if (f->has_cloud)
                jw_int(w, "cloud_cover_pct", f->cloud_pct);
        else
                jw_null(w, "cloud_cover_pct");
        if (f->has_irradiance)
                jw_num(w, "irradiance_wm2", f->irradiance_wm2, 1);
        else
                jw_null(w, "irradiance_wm2");
}

static void forecast_write(struct jw *w, const struct wx_forecast *fc)
{
        if (!fc->present) {
                jw_null(w, "forecast");
                return;
        }
        jw_obj_begin(w, "forecast");
        jw_obj_begin(w, "point");
        jw_str(w, "id", fc->pt.key);
        jw_str(w, "name", fc->pt.name);
        jw_num(w, "latitude", fc->pt.latitude, 6);
        jw_num(w, "longitude", fc->pt.longitude, 6);
        jw_num(w, "distance_km", fc->pt.distance_m / 1000.0, 1);
        jw_time(w, "updated_at", fc->pt.updated_at);
        jw_obj_end(w);
        jw_arr_begin(w, "items");
        for (int i = 0; i < fc->n; i++) {
                jw_obj_begin(w, NULL);
                jw_time(w, "time", fc->items[i].at);
                forecast_values_write(w, &fc->items[i]);
                jw_obj_end(w);
        }
        jw_arr_end(w);
        jw_obj_end(w);
}

/* ---- the weather answer ------------------------------------------------------------ */

struct wx_hour {
        int64_t t;
        struct solar_pos pos;           /* at t */
        struct solar_irradiance irr;    /* clear sky at t */
        struct solar_interval energy;   /* clear sky over [t, t + 1 h) */
        const struct store_forecast *f; /* in effect at t, or NULL */
        double pv_expected_kwh;
        const char *basis;              /* irradiance | cloud_cover | clear_sky */
};

/* The expected PV energy of the hour from its clear-sky energy and the
 * forecast in effect. */
static void hour_expected(struct wx_hour *h)
{
        const struct store_forecast *f = h->f;
        double clear_ghi = h->energy.ghi_wh_m2;         /* mean W/m2 over the hour */
        double k = 1.0;

        h->basis = "clear_sky";
        if (f && f->has_irradiance) {
                k = clear_ghi > 1.0 ? fmin(f->irradiance_wm2 / clear_ghi, WX_IRR_FACTOR_MAX) : 0;
                h->basis = "irradiance";
        } else if (f && f->has_cloud) {
                k = solar_cloud_factor(f->cloud_pct / 100.0);
                h->basis = "cloud_cover";
        }
        h->pv_expected_kwh = h->energy.pv_kwh * k;
}

static void hour_compute(const struct wx_place *pl, const struct wx_pv *pv,
                         struct wx_forecast *fc, int64_t t, struct wx_hour *h)
{
        memset(h, 0, sizeof(*h));
        h->t = t;
        solar_position(pl->lat, pl->lon, (double)t, &h->pos);
        solar_clear_sky(&h->pos, 0.0, SOLAR_LINKE_DEFAULT, &h->irr);
        solar_interval(pl->lat, pl->lon, pv->present ? &pv->pv : NULL, SOLAR_LINKE_DEFAULT, t,
                       HOUR_S, &h->energy);
        h->f = fc->present ? in_effect(fc, t) : NULL;
        hour_expected(h);
}

static void hour_write(struct jw *w, const struct wx_hour *h, bool pv)
{
        jw_obj_begin(w, NULL);
        jw_time(w, "time", h->t);
        jw_num(w, "elevation_deg", h->pos.elevation_deg, 2);
        jw_num(w, "azimuth_deg", h->pos.azimuth_deg, 2);
        jw_num(w, "clear_sky_ghi_wm2", h->irr.ghi, 1);
        jw_num(w, "clear_sky_dni_wm2", h->irr.dni, 1);
        jw_num(w, "clear_sky_dhi_wm2", h->irr.dhi, 1);
        jw_num(w, "clear_sky_wh_m2", h->energy.ghi_wh_m2, 1);
        if (h->f) {
                jw_obj_begin(w, "weather");
                jw_time(w, "from", h->f->at);
                forecast_values_write(w, h->f);
                jw_obj_end(w);
        } else {
                jw_null(w, "weather");
        }
        if (pv) {
                jw_num(w, "pv_clear_sky_kwh", h->energy.pv_kwh, 3);
                jw_num(w, "pv_expected_kwh", h->pv_expected_kwh, 3);
                jw_str(w, "pv_basis", h->basis);
        } else {
                jw_null(w, "pv_clear_sky_kwh");
                jw_null(w, "pv_expected_kwh");
                jw_null(w, "pv_basis");
        }
        jw_obj_end(w);
}

static void day_events_write(struct jw *w, const struct wx_place *pl, int64_t day_start)
{
        static const char *const polar[] = { NULL, "midnight_sun", "polar_night" };
        struct solar_day d;

        solar_day(pl->lat, pl->lon, day_start, &d);
        if (d.kind == SOLAR_DAY_NORMAL) {
                jw_time(w, "sunrise", (int64_t)llround(d.sunrise));
                jw_time(w, "sunset", (int64_t)llround(d.sunset));
                jw_int(w, "daylight_minutes", llround((d.sunset - d.sunrise) / 60.0));
                jw_null(w, "polar");
        } else {
                jw_null(w, "sunrise");
                jw_null(w, "sunset");
                jw_int(w, "daylight_minutes", d.kind == SOLAR_DAY_MIDNIGHT_SUN ? 1440 : 0);
                jw_str(w, "polar", polar[d.kind]);
        }
        jw_time(w, "solar_noon", (int64_t)llround(d.noon));
        jw_num(w, "noon_elevation_deg", d.noon_elevation_deg, 2);
}

/* One day: its events and the sums of its 24 hours. */
static void day_write(struct jw *w, const struct wx_place *pl, const struct wx_hour *hours,
                      int64_t day_start, bool pv)
{
        double irr = 0, clear = 0, expected = 0;
        int64_t y;
        unsigned m, d;
        char date[16];

        for (int i = 0; i < 24; i++) {
                irr += hours[i].energy.ghi_wh_m2;
                clear += hours[i].energy.pv_kwh;
                expected += hours[i].pv_expected_kwh;
        }
        time_civil_from_days((day_start + TIME_DISPLAY_OFFSET_S) / DAY_S, &y, &m, &d);
        snprintf(date, sizeof(date), "%04lld-%02u-%02u", (long long)y, m, d);
        jw_obj_begin(w, NULL);
        jw_str(w, "date", date);
        day_events_write(w, pl, day_start);
        jw_num(w, "clear_sky_kwh_m2", irr / 1000.0, 3);
        if (pv) {
                jw_num(w, "pv_clear_sky_kwh", clear, 2);
                jw_num(w, "pv_expected_kwh", expected, 2);
        } else {
                jw_null(w, "pv_clear_sky_kwh");
                jw_null(w, "pv_expected_kwh");
        }
        jw_obj_end(w);
}

static void pv_write(struct jw *w, const struct wx_pv *pv)
{
        if (!pv->present) {
                jw_null(w, "pv");
                return;
        }
        jw_obj_begin(w, "pv");
        jw_num(w, "kw", pv->pv.kw, 3);
        jw_num(w, "tilt_deg", pv->pv.tilt_deg, 1);
        jw_num(w, "azimuth_deg", pv->pv.azimuth_deg, 1);
        jw_num(w, "performance_ratio", pv->pv.performance_ratio, 2);
        jw_str(w, "source", pv->source);
        jw_obj_end(w);
}

static void model_write(struct jw *w)
{
        jw_obj_begin(w, "model");
        jw_str(w, "sun_position", "NOAA (Meeus), refraction included");
        jw_str(w, "sunrise_sunset", "sun centre at 90.833 degrees zenith");
        jw_str(w, "clear_sky", "Ineichen-Perez");
        jw_num(w, "linke_turbidity", SOLAR_LINKE_DEFAULT, 1);
        jw_str(w, "cloud_cover", "Kasten-Czeplak");
        jw_str(w, "plane_of_array", "isotropic sky");
        jw_obj_end(w);
}

struct wx_answer {
        struct wx_place place;
        struct wx_pv pv;
        struct wx_forecast fc;
        int64_t day0;
        int days;
        struct wx_hour *hours;          /* days * 24 */
};

static void answer_write(struct api_ctx *c, struct wx_answer *a)
{
        struct buf b;
        struct jw w;

        buf_init(&b, 0);
        jw_init(&w, &b);
        jw_obj_begin(&w, NULL);
        jw_obj_begin(&w, "location");
        place_write(&w, &a->place);
        jw_obj_end(&w);
        jw_time(&w, "generated_at", c->now);
        jw_int(&w, "days_count", a->days);
        pv_write(&w, &a->pv);
        jw_arr_begin(&w, "days");
        for (int d = 0; d < a->days; d++)
                day_write(&w, &a->place, &a->hours[d * 24], a->day0 + (int64_t)d * DAY_S,
                          a->pv.present);
        jw_arr_end(&w);
        jw_arr_begin(&w, "hours");
        for (int i = 0; i < a->days * 24; i++)
                hour_write(&w, &a->hours[i], a->pv.present);
        jw_arr_end(&w);
        forecast_write(&w, &a->fc);
        model_write(&w);
        jw_obj_end(&w);
        respond_buf(c, &b, &w);
}

/* The whole answer for the home; renders it or the problem. */
static void weather_respond(struct api_ctx *c, const struct store_home *home)
{
        struct wx_answer a;
        int64_t days = c->app->cfg->weather_forecast_days, end;
        int r;

        memset(&a, 0, sizeof(a));
        if (api_query_int(c, "days", 1, c->app->cfg->weather_forecast_days, &days) < 0)
                return;
        if (place_resolve(c, home, &a.place) < 0)
                return;
        a.days = (int)days;
        a.day0 = tokyo_day_start(c->now);
        end = a.day0 + days * DAY_S;
        r = pv_of_home(c, home->id, &a.pv);
        if (r == 0)
                r = forecast_load(c, &a.place, a.day0, end, &a.fc);
        a.hours = r == 0 ? calloc((size_t)a.days * 24, sizeof(*a.hours)) : NULL;
        if (r == 0 && !a.hours)
                r = -ENOMEM;
        if (r < 0) {
                api_store_error(c, r, "weather");
        } else {
                for (int i = 0; i < a.days * 24; i++)
                        hour_compute(&a.place, &a.pv, &a.fc, a.day0 + (int64_t)i * HOUR_S,
                                     &a.hours[i]);
                answer_write(c, &a);
        }
        free(a.hours);
        free(a.fc.items);
}

void api_gateway_weather(struct api_ctx *c)
{
        struct store_gateway gw;
        struct store_home home;

        if (api_gateway_home(c, false, &gw, &home) < 0)
                return;
        weather_respond(c, &home);
}

void api_home_weather(struct api_ctx *c)
{
        struct store_home home;

        if (api_home_access(c, false, false, &home) < 0)
                return;
        weather_respond(c, &home);
}

/* ---- CSV --------------------------------------------------------------------------- */

/* A CSV body split in place: lines of comma-separated fields, no quoting. */
struct csv {
        char *text;                     /* copy of the body */
        char *pos, *end;
        size_t line;                    /* 1-based number of the last line read */
};

static int csv_open(struct csv *cv, const char *body, size_t len)
{
        cv->text = malloc(len + 1);
        if (!cv->text)
                return -ENOMEM;
        memcpy(cv->text, body ? body : "", len);
        cv->text[len] = '\0';
        cv->pos = cv->text;
        cv->end = cv->text + len;
        cv->line = 0;
        if (len >= 3 && memcmp(cv->pos, "\xef\xbb\xbf", 3) == 0)
                cv->pos += 3;           /* a UTF-8 byte order mark */
        return 0;
}

/* Splits the next non-blank line into at most max fields (trimmed);
 * returns the field count (max + 1 when there are more), 0 at the end. */
static int csv_next(struct csv *cv, char **fields, int max)
{
        while (cv->pos < cv->end) {
                char *nl = memchr(cv->pos, '\n', (size_t)(cv->end - cv->pos));
                char *le = nl ? nl : cv->end, *p = cv->pos;
                int n = 0;

                cv->line++;
                cv->pos = nl ? nl + 1 : cv->end;
                *le = '\0';
                if (le > p && le[-1] == '\r')
                        *--le = '\0';
                if (le == p)
                        continue;
                for (;;) {
                        char *comma = strchr(p, ',');
                        char *fe = comma ? comma : le;

                        while (*p == ' ')
                                p++;
                        while (fe > p && fe[-1] == ' ')
                                fe--;
                        if (n < max)
                                fields[n] = p;
                        n++;
                        *fe = '\0';
                        if (!comma)
                                break;
                        p = comma + 1;
                }
                return n <= max ? n : max + 1;
        }
        return 0;
}

/* Parses a whole decimal number (no trailing characters). */
static bool parse_double(const char *s, double *out)
{
        char *e;

        if (!*s)
                return false;
        errno = 0;
        *out = strtod(s, &e);
        return *e == '\0' && errno == 0 && isfinite(*out);
}

/* ---- postcodes import ---------------------------------------------------------- */

enum { PC_CODE, PC_LAT, PC_LON, PC_COLS };

static const char *const pc_names[PC_COLS] = { "postcode", "latitude", "longitude" };

/* The header: each of the three columns once, nothing else. */
static int header_map(struct jv *v, char **f, int n, const char *const *names, int ncols,
                      int *map, const bool *required)
{
        int seen[16];

        for (int k = 0; k < ncols; k++)
                seen[k] = -1;
        for (int i = 0; i < n && i < 16; i++) {
                int k = 0;

                while (k < ncols && strcmp(f[i], names[k]) != 0)
                        k++;
                if (k == ncols) {
                        jv_error(v, "lines.1", f[i][0] ? f[i] : "column", "unknown_column",
                                 "Column %d ('%.40s') is not a known column.", i + 1, f[i]);
                        continue;
                }
                if (seen[k] >= 0)
                        jv_error(v, "lines.1", names[k], "duplicate_column",
                                 "The column '%s' appears twice.", names[k]);
                seen[k] = i;
                map[i] = k;
        }
        for (int k = 0; k < ncols; k++)
                if (seen[k] < 0 && required[k])
                        jv_error(v, "lines.1", names[k], "required",
                                 "The header must name the column '%s'.", names[k]);
        return jv_ok(v) ? 0 : -EINVAL;
}

/* A coordinate of text s in [-limit, limit], else NAN. */
static double coord(const char *s, double limit)
{
        double x;

        if (!parse_double(s, &x) || x < -limit || x > limit)
                return NAN;
        return x;
}

static void pc_row(struct jv *v, const struct csv *cv, char **f, const int *map,
                   struct store_postcode *row)
{
        char where[40];

        snprintf(where, sizeof(where), "lines.%zu", cv->line);
        row->latitude = row->longitude = NAN;
        for (int i = 0; i < PC_COLS; i++) {
                if (map[i] == PC_CODE && !postcode_norm(f[i], row->postcode))
                        jv_error(v, where, "postcode", "invalid",
                                 "A postcode is 7 digits, as 1234567 or 123-4567.");
                if (map[i] == PC_LAT)
                        row->latitude = coord(f[i], 90);
                if (map[i] == PC_LON)
                        row->longitude = coord(f[i], 180);
        }
        if (isnan(row->latitude))
                jv_error(v, where, "latitude", "invalid",
                         "latitude must be a number of degrees from -90 to 90.");
        if (isnan(row->longitude))
                jv_error(v, where, "longitude", "invalid",
                         "longitude must be a number of degrees from -180 to 180.");
        if (geo_valid(row->latitude, row->longitude) &&
            !geo_in_japan(row->latitude, row->longitude))
                jv_error(v, where, "latitude", "out_of_range",
                         "The place lies outside Japan (latitude %d..%d, longitude %d..%d): "
                         "are latitude and longitude swapped?", (int)GEO_JAPAN_MIN_LAT,
                         (int)GEO_JAPAN_MAX_LAT, (int)GEO_JAPAN_MIN_LON,
                         (int)GEO_JAPAN_MAX_LON);
}

struct pc_sorted {
        struct store_postcode row;
        size_t line;
};

static int pc_cmp(const void *a, const void *b)
{
        const struct pc_sorted *x = a, *y = b;

        return strcmp(x->row.postcode, y->row.postcode);
}

/* A postcode given twice is an error (which place would win?). */
static void pc_duplicates(struct jv *v, struct pc_sorted *rows, size_t n)
{
        qsort(rows, n, sizeof(*rows), pc_cmp);
        for (size_t i = 1; i < n; i++) {
                char where[40];

                if (strcmp(rows[i].row.postcode, rows[i - 1].row.postcode) != 0)
                        continue;
                snprintf(where, sizeof(where), "lines.%zu",
                         rows[i].line > rows[i - 1].line ? rows[i].line : rows[i - 1].line);
                jv_error(v, where, "postcode", "duplicate",
                         "The postcode %s is also on line %zu.", rows[i].row.postcode,
                         rows[i].line < rows[i - 1].line ? rows[i].line : rows[i - 1].line);
        }
}

struct pc_rows {
        struct pc_sorted *rows;
        size_t n, cap;
};

static struct pc_sorted *pc_add(struct pc_rows *pr)
{
        if (pr->n == pr->cap) {
                size_t cap = pr->cap ? pr->cap * 2 : 256;
                struct pc_sorted *more;

                if (cap > WEATHER_POSTCODES_MAX)
                        cap = WEATHER_POSTCODES_MAX;
                more = realloc(pr->rows, cap * sizeof(*more));
                if (!more)
                        return NULL;
                pr->rows = more;
                pr->cap = cap;
        }
        memset(&pr->rows[pr->n], 0, sizeof(pr->rows[pr->n]));
        return &pr->rows[pr->n++];
}

static int pc_parse(struct jv *v, struct csv *cv, struct pc_rows *pr)
{
        static const bool required[PC_COLS] = { true, true, true };
        int map[PC_COLS], nf;
        char *f[PC_COLS];

        nf = csv_next(cv, f, PC_COLS);
        if (nf == 0) {
                jv_error(v, NULL, "body", "required", "The CSV is empty.");
                return -EINVAL;
        }
        if (nf != PC_COLS || header_map(v, f, nf, pc_names, PC_COLS, map, required) < 0) {
                if (jv_ok(v))
                        jv_error(v, NULL, "lines.1", "columns",
                                 "The header must be postcode,latitude,longitude.");
                return -EINVAL;
        }
        for (nf = csv_next(cv, f, PC_COLS); nf > 0; nf = csv_next(cv, f, PC_COLS)) {
                struct pc_sorted *row;
                char where[40];

                if (pr->n >= WEATHER_POSTCODES_MAX) {
                        jv_error(v, NULL, "body", "too_many", "At most %d postcodes per upload.",
                                 WEATHER_POSTCODES_MAX);
                        return -E2BIG;
                }
                if (nf != PC_COLS) {
                        snprintf(where, sizeof(where), "lines.%zu", cv->line);
                        jv_error(v, NULL, where, "columns", "The line has %d fields, not %d.",
                                 nf > PC_COLS ? PC_COLS + 1 : nf, PC_COLS);
                        continue;
                }
                row = pc_add(pr);
                if (!row)
                        return -ENOMEM;
                row->line = cv->line;
                pc_row(v, cv, f, map, &row->row);
        }
        if (pr->n == 0 && jv_ok(v))
                jv_error(v, NULL, "body", "required", "The CSV has no postcode lines.");
        if (jv_ok(v))
                pc_duplicates(v, pr->rows, pr->n);
        return jv_ok(v) ? 0 : -EINVAL;
}

void api_weather_postcodes_import(struct api_ctx *c)
{
        struct pc_rows pr = { 0 };
        struct store_postcode *flat = NULL;
        struct csv cv = { 0 };
        size_t added = 0;
        struct jv v;
        int r;

        if (!is_content_type(c->req->content_type, "text/csv")) {
                problem_respond(c->res, 415, "unsupported_media_type",
                                "Send the postcodes as text/csv: postcode,latitude,longitude.");
                return;
        }
        jv_init(&v);
        r = csv_open(&cv, c->req->body, c->req->body_len);
        if (r == 0)
                r = pc_parse(&v, &cv, &pr);
        if (r != -ENOMEM && !jv_ok(&v)) {
                jv_render(&v, c->res);
                goto out;
        }
        flat = r == 0 ? calloc(pr.n, sizeof(*flat)) : NULL;
        if (r == 0 && !flat)
                r = -ENOMEM;
        for (size_t i = 0; r == 0 && i < pr.n; i++)
                flat[i] = pr.rows[i].row;
        if (r == 0)
                r = store_weather_postcodes_put(c->app->st, flat, pr.n, c->now, &added);
        if (r < 0) {
                api_store_error(c, r, "postcodes");
                goto out;
        }
        api_json(c, 200, json_pack("{s:I, s:I, s:I}", "rows", (json_int_t)pr.n, "added",
                                   (json_int_t)added, "updated", (json_int_t)(pr.n - added)));
out:
        jv_free(&v);
        free(cv.text);
        free(pr.rows);
        free(flat);
}

/* ---- forecasts import -------------------------------------------------------------- */

/* The optional values of a forecast row. */
enum { FV_CODE, FV_TEMP, FV_PRECIP, FV_CLOUD, FV_IRR, FV_COUNT };

static const struct {
        const char *name;
        double lo, hi;
        bool integer;
} fv[FV_COUNT] = {
        { "weather_code", 0, 999, true },
        { "temperature_c", -80, 60, false },
        { "precipitation_pct", 0, 100, true },
        { "cloud_cover_pct", 0, 100, true },
        { "irradiance_wm2", 0, 1500, false },
};

static void fv_set(struct store_forecast *f, int k, double x)
{
        switch (k) {
        case FV_CODE:
                f->has_code = true;
                f->weather_code = (int)x;
                break;
        case FV_TEMP:
                f->has_temperature = true;
                f->temperature_c = x;
                break;
        case FV_PRECIP:
                f->has_precipitation = true;
                f->precipitation_pct = (int)x;
                break;
        case FV_CLOUD:
                f->has_cloud = true;
                f->cloud_pct = (int)x;
                break;
        default:
                f->has_irradiance = true;
                f->irradiance_wm2 = x;
                break;
        }
}

/* Checks the value x of field k and stores it. */
static void fv_check(struct jv *v, const char *where, int k, double x, struct store_forecast *f)
{
        if (fv[k].integer && x != floor(x)) {
                jv_error(v, where, fv[k].name, "type", "Must be a whole number.");
                return;
        }
        if (x < fv[k].lo || x > fv[k].hi) {
                jv_error(v, where, fv[k].name, "out_of_range", "Must be from %g to %g.",
                         fv[k].lo, fv[k].hi);
                return;
        }
        fv_set(f, k, x);
}

struct imp_row {
        struct store_forecast_row r;
        char where[64];                 /* "points.3.forecasts.5" or "lines.12" */
};

struct imp {
        struct jv v;
        struct imp_row *rows;           /* grows as rows are read */
        size_t n, cap;
        int64_t now;
        int err;                        /* allocation failure */
};

/* Checks and parses a row's time (NULL: already reported missing). */
static void time_check(struct imp *im, const char *where, const char *s, int64_t *at)
{
        if (!s)
                return;
        if (time_parse_rfc3339(s, at) < 0) {
                jv_error(&im->v, where, "time", "invalid",
                         "time must be RFC 3339 with an offset, as 2026-06-21T09:00:00+09:00.");
                return;
        }
        if (*at < im->now - WX_KEEP_PAST_S || *at > im->now + WX_AHEAD_MAX_S)
                jv_error(&im->v, where, "time", "out_of_range",
                         "time must lie between %d days ago and %d days ahead.",
                         WX_KEEP_PAST_S / DAY_S, WX_AHEAD_MAX_S / DAY_S);
}

static bool key_ok(const char *k)
{
        size_t n = k ? strlen(k) : 0;

        if (n == 0 || n > WEATHER_KEY_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)k[i]) && !strchr("._:-", k[i]))
                        return false;
        return true;
}

static bool name_ok(const char *s)
{
        size_t chars = 0;

        if (member_utf8_length(s, &chars) < 0 || chars > WEATHER_NAME_MAX)
                return false;
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        return false;
        return true;
}

/* Checks the point fields of a row (id, name, latitude, longitude); an
 * empty or missing id was reported already. */
static void point_check(struct imp *im, const char *where, const char *key_field,
                        const struct store_forecast_row *r, bool lat_ok, bool lon_ok)
{
        if (r->key && *r->key && !key_ok(r->key))
                jv_error(&im->v, where, key_field, "invalid",
                         "A point id is 1 to %d letters, digits or . _ : -.", WEATHER_KEY_MAX);
        if (!name_ok(r->name))
                jv_error(&im->v, where, "name", "invalid",
                         "A name is at most %d characters without control characters.",
                         WEATHER_NAME_MAX);
        if (!lat_ok || r->latitude < -90 || r->latitude > 90)
                jv_error(&im->v, where, "latitude", "out_of_range",
                         "latitude must be a number from -90 to 90.");
        if (!lon_ok || r->longitude < -180 || r->longitude > 180)
                jv_error(&im->v, where, "longitude", "out_of_range",
                         "longitude must be a number from -180 to 180.");
}

static struct imp_row *imp_add(struct imp *im)
{
        if (im->n == im->cap && im->n < WEATHER_IMPORT_ROWS_MAX) {
                size_t cap = im->cap ? im->cap * 2 : 256;
                struct imp_row *more;

                if (cap > WEATHER_IMPORT_ROWS_MAX)
                        cap = WEATHER_IMPORT_ROWS_MAX;
                more = realloc(im->rows, cap * sizeof(*more));
                if (!more) {
                        im->err = -ENOMEM;
                        return NULL;
                }
                im->rows = more;
                im->cap = cap;
        }
        if (im->n >= WEATHER_IMPORT_ROWS_MAX) {
                if (im->n == WEATHER_IMPORT_ROWS_MAX)
                        jv_error(&im->v, NULL, "body", "too_many",
                                 "At most %d forecast rows per import.",
                                 WEATHER_IMPORT_ROWS_MAX);
                im->n = WEATHER_IMPORT_ROWS_MAX + 1;
                return NULL;
        }
        memset(&im->rows[im->n], 0, sizeof(im->rows[im->n]));
        return &im->rows[im->n++];
}

/* -- JSON: {"points": [{"id", "name", "latitude", "longitude", "forecasts": [...]}]} -- */

static void json_values(struct imp *im, const char *where, json_t *fo, struct store_forecast *f)
{
        for (int k = 0; k < FV_COUNT; k++) {
                json_t *x = json_object_get(fo, fv[k].name);

                if (!x || json_is_null(x))
                        continue;
                if (!json_is_number(x)) {
                        jv_error(&im->v, where, fv[k].name, "type", "Must be a number or null.");
                        continue;
                }
                fv_check(&im->v, where, k, json_number_value(x), f);
        }
}

static void json_forecast(struct imp *im, const struct store_forecast_row *pt, const char *pw,
                          size_t i, json_t *fo)
{
        static const char *const allowed[] = { "time", "weather_code", "temperature_c",
                                               "precipitation_pct", "cloud_cover_pct",
                                               "irradiance_wm2", NULL };
        struct imp_row *row;
        char where[64];

        snprintf(where, sizeof(where), "%.24s.forecasts.%zu", pw, i);
        if (!json_is_object(fo)) {
                jv_error(&im->v, NULL, where, "type", "A forecast is an object.");
                return;
        }
        row = imp_add(im);
        if (!row)
                return;
        row->r = *pt;
        snprintf(row->where, sizeof(row->where), "%s", where);
        jv_unknown(&im->v, fo, where, allowed);
        time_check(im, where, jv_str(&im->v, fo, where, "time", true, 64), &row->r.f.at);
        json_values(im, where, fo, &row->r.f);
}

static void json_point(struct imp *im, size_t i, json_t *po)
{
        static const char *const allowed[] = { "id", "name", "latitude", "longitude",
                                               "forecasts", NULL };
        struct store_forecast_row pt;
        json_t *lat, *lon, *list, *fo;
        char where[32];
        size_t k;

        snprintf(where, sizeof(where), "points.%zu", i);
        if (!json_is_object(po)) {
                jv_error(&im->v, NULL, where, "type", "A point is an object.");
                return;
        }
        memset(&pt, 0, sizeof(pt));
        jv_unknown(&im->v, po, where, allowed);
        pt.key = jv_str(&im->v, po, where, "id", true, WEATHER_KEY_MAX);
        pt.name = jv_str(&im->v, po, where, "name", false, WEATHER_NAME_BYTES);
        if (!pt.name)
                pt.name = "";
        lat = json_object_get(po, "latitude");
        lon = json_object_get(po, "longitude");
        pt.latitude = json_number_value(lat);
        pt.longitude = json_number_value(lon);
        point_check(im, where, "id", &pt, json_is_number(lat), json_is_number(lon));
        if (!pt.key)
                pt.key = "";
        list = jv_array(&im->v, po, where, "forecasts", true, WEATHER_IMPORT_ROWS_MAX);
        if (list && json_array_size(list) == 0)
                jv_error(&im->v, where, "forecasts", "required", "A point needs forecasts.");
        json_array_foreach(list, k, fo)
                json_forecast(im, &pt, where, k, fo);
}

static void json_import_parse(struct imp *im, json_t *body)
{
        static const char *const allowed[] = { "points", NULL };
        json_t *points, *po;
        size_t i;

        jv_unknown(&im->v, body, NULL, allowed);
        points = jv_array(&im->v, body, NULL, "points", true, WX_POINTS_MAX);
        if (points && json_array_size(points) == 0)
                jv_error(&im->v, NULL, "points", "required", "The import names no points.");
        json_array_foreach(points, i, po)
                json_point(im, i, po);
}

/* -- CSV: point_id,name,latitude,longitude,time,weather_code,... ---------------------- */

enum { FC_ID, FC_NAME, FC_LAT, FC_LON, FC_TIME, FC_VALUES, FC_COLS = FC_VALUES + FV_COUNT };

static const char *const fc_names[FC_COLS] = {
        "point_id", "name", "latitude", "longitude", "time", "weather_code", "temperature_c",
        "precipitation_pct", "cloud_cover_pct", "irradiance_wm2",
};

static void csv_values(struct imp *im, const char *where, char **cols,
                       struct store_forecast *f)
{
        double x;

        for (int k = 0; k < FV_COUNT; k++) {
                const char *s = cols[FC_VALUES + k];

                if (!s || !*s)
                        continue;
                if (!parse_double(s, &x))
                        jv_error(&im->v, where, fv[k].name, "type", "Must be a number or empty.");
                else
                        fv_check(&im->v, where, k, x, f);
        }
}

static void csv_row(struct imp *im, size_t line, char **cols)
{
        struct imp_row *row = imp_add(im);
        bool lat_ok, lon_ok;

        if (!row)
                return;
        snprintf(row->where, sizeof(row->where), "lines.%zu", line);
        row->r.key = cols[FC_ID] ? cols[FC_ID] : "";
        row->r.name = cols[FC_NAME] ? cols[FC_NAME] : "";
        lat_ok = cols[FC_LAT] && parse_double(cols[FC_LAT], &row->r.latitude);
        lon_ok = cols[FC_LON] && parse_double(cols[FC_LON], &row->r.longitude);
        if (!*row->r.key)
                jv_error(&im->v, row->where, "point_id", "required", "point_id is empty.");
        point_check(im, row->where, "point_id", &row->r, lat_ok, lon_ok);
        if (!cols[FC_TIME] || !*cols[FC_TIME])
                jv_error(&im->v, row->where, "time", "required", "time is empty.");
        else
                time_check(im, row->where, cols[FC_TIME], &row->r.f.at);
        csv_values(im, row->where, cols, &row->r.f);
}

static void csv_import_parse(struct imp *im, struct csv *cv)
{
        static const bool required[FC_COLS] = { true, false, true, true, true };
        int map[FC_COLS], nf, ncols;
        char *f[FC_COLS];

        ncols = csv_next(cv, f, FC_COLS);
        if (ncols == 0) {
                jv_error(&im->v, NULL, "body", "required", "The CSV is empty.");
                return;
        }
        if (ncols > FC_COLS) {
                jv_error(&im->v, NULL, "lines.1", "columns",
                         "The header has more than %d columns.", FC_COLS);
                return;
        }
        if (header_map(&im->v, f, ncols, fc_names, FC_COLS, map, required) < 0)
                return;
        for (nf = csv_next(cv, f, FC_COLS); nf > 0; nf = csv_next(cv, f, FC_COLS)) {
                char *cols[FC_COLS] = { 0 };
                char where[40];

                if (nf != ncols) {
                        snprintf(where, sizeof(where), "lines.%zu", cv->line);
                        jv_error(&im->v, NULL, where, "columns",
                                 "The line has %d fields, the header %d.",
                                 nf > FC_COLS ? FC_COLS + 1 : nf, ncols);
                        continue;
                }
                for (int i = 0; i < nf; i++)
                        cols[map[i]] = f[i];
                csv_row(im, cv->line, cols);
        }
        if (im->n == 0 && jv_ok(&im->v))
                jv_error(&im->v, NULL, "body", "required", "The CSV has no forecast lines.");
}

/* -- both ------------------------------------------------------------------------------ */

static int imp_cmp(const void *a, const void *b)
{
        const struct imp_row *x = a, *y = b;
        int c = strcmp(x->r.key, y->r.key);

        if (c != 0)
                return c;
        if (x->r.f.at != y->r.f.at)
                return x->r.f.at < y->r.f.at ? -1 : 1;
        return strcmp(x->where, y->where);
}

/* Sorts by point and time; a point and time given twice, or a point with
 * two places, is an error at the later row. */
static void imp_sort_check(struct imp *im)
{
        qsort(im->rows, im->n, sizeof(*im->rows), imp_cmp);
        for (size_t i = 1; i < im->n; i++) {
                const struct imp_row *a = &im->rows[i - 1], *b = &im->rows[i];

                if (strcmp(a->r.key, b->r.key) != 0)
                        continue;
                if (a->r.f.at == b->r.f.at)
                        jv_error(&im->v, b->where, "time", "duplicate",
                                 "Point %s has this time also at %s.", b->r.key, a->where);
                else if (a->r.latitude != b->r.latitude || a->r.longitude != b->r.longitude)
                        jv_error(&im->v, b->where, "latitude", "conflict",
                                 "Point %s has other coordinates at %s.", b->r.key, a->where);
        }
}

static int imp_store(struct api_ctx *c, struct imp *im)
{
        struct store_weather_import_result res;
        struct store_forecast_row *flat = calloc(im->n, sizeof(*flat));
        int r;

        if (!flat)
                return -ENOMEM;
        for (size_t i = 0; i < im->n; i++)
                flat[i] = im->rows[i].r;
        r = store_weather_import(c->app->st, flat, im->n, c->now, c->now - WX_KEEP_PAST_S, &res);
        free(flat);
        if (r == 0)
                api_json(c, 200, json_pack("{s:I, s:I, s:I}", "points", (json_int_t)res.points,
                                           "rows", (json_int_t)res.rows, "replaced",
                                           (json_int_t)res.replaced));
        return r;
}

void api_weather_forecasts_import(struct api_ctx *c)
{
        bool csv = is_content_type(c->req->content_type, "text/csv");
        struct imp im = { .now = c->now };
        struct csv cv = { 0 };
        json_t *body = NULL;
        int r = 0;

        if (!csv && api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&im.v);
        if (csv)
                r = csv_open(&cv, c->req->body, c->req->body_len);
        if (r == 0 && csv)
                csv_import_parse(&im, &cv);
        else if (r == 0)
                json_import_parse(&im, body);
        if (r == 0)
                r = im.err;
        if (r == 0 && jv_ok(&im.v))
                imp_sort_check(&im);
        if (r == 0 && !jv_ok(&im.v))
                jv_render(&im.v, c->res);
        else if (r == 0)
                r = imp_store(c, &im);
        if (r < 0)
                api_store_error(c, r, "forecasts");
        jv_free(&im.v);
        json_decref(body);
        free(cv.text);
        free(im.rows);
}
