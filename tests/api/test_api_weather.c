/*
 * test_api_weather.c - weather and location over HTTP (HE-11): where a
 * gateway is (the coordinates given at registration, else the household's
 * postcode in the operator's table, exactly or by its three-digit area,
 * else its prefecture's capital, else 404 location_unknown); the
 * operator's postcode and forecast imports (CSV and JSON) with every bad
 * input rejected at its line or field and nothing stored; the forecast of
 * the nearest point that has data for the coming days; what is computed
 * without any import (sunrise, sunset, the sun by hour, clear-sky
 * irradiance); the expected PV output from the size in the settings,
 * scaled by forecast cloud cover or irradiance; and the members' view.
 *
 * The server clock is the test build's, set once to 2027-06-21 08:00 in
 * Tokyo (the summer solstice) before the first test; sunrise and sunset
 * are checked against an independent ephemeris (PyEphem) for that date.
 * Each test uses its own gateways, postcodes and forecast points (points
 * of different tests lie more than 100 km apart or carry their own keys).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "energy_fixture.h"
#include "harness.h"

#define HOUR 3600LL
#define DAY 86400LL
#define TOKYO_OFFSET (9 * HOUR)
#define START "2027-06-21T08:00:00+09:00"
#define DAY0 "2027-06-21T00:00:00+09:00"

static struct api_server srv;
static char *op;
static int seq;

static const char *const server_args[] = { "--session-ttl", "300d", "--no-log-requests", NULL };

/* ---- plumbing ---------------------------------------------------------------------------- */

/* Unix seconds of an RFC 3339 time with a +hh:mm offset or Z. */
static long long unix_of(const char *s)
{
        int y, mo, d, hh, mi, ss, n = 0, oh = 0, om = 0;
        struct tm tm = { 0 };
        long long t;

        assert_non_null(s);
        assert_int_equal(sscanf(s, "%d-%d-%dT%d:%d:%d%n", &y, &mo, &d, &hh, &mi, &ss, &n), 6);
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = hh;
        tm.tm_min = mi;
        tm.tm_sec = ss;
        t = (long long)timegm(&tm);
        if (s[n] == '+' || s[n] == '-') {
                assert_int_equal(sscanf(s + n + 1, "%d:%d", &oh, &om), 2);
                t -= (s[n] == '-' ? -1 : 1) * (oh * HOUR + om * 60);
        }
        return t;
}

/* RFC 3339 in +09:00 of a unix time (rotating static buffers). */
static const char *rfc(long long t)
{
        static char bufs[8][40];
        static int k;
        char *out = bufs[k++ % 8];
        time_t lt = (time_t)(t + TOKYO_OFFSET);
        struct tm tm;

        gmtime_r(&lt, &tm);
        strftime(out, 40, "%Y-%m-%dT%H:%M:%S+09:00", &tm);
        return out;
}

static struct api_resp callf(const char *method, const char *token, const char *body,
                             const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static struct api_resp callf(const char *method, const char *token, const char *body,
                             const char *fmt, ...)
{
        struct api_resp r = { 0 };
        char path[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(path, sizeof(path), fmt, ap);
        va_end(ap);
        assert_int_equal(api_call(&srv, method, path, token, body, &r), 0);
        return r;
}

static void expect(struct api_resp *r, long status)
{
        if (r->status != status)
                fprintf(stderr, "expected %ld, got %ld %s\n", status, r->status, r->body);
        assert_int_equal(r->status, status);
}

/* An operator upload with this content type; the answer unchecked. */
static struct api_resp upload(const char *path, const char *content_type, const char *body)
{
        char *bearer = api_printf("Authorization: Bearer %s", op);
        char *ct = api_printf("Content-Type: %s", content_type);
        const char *h[] = { bearer, ct, NULL };
        struct api_resp r = { 0 };

        assert_int_equal(api_call_raw(&srv, "POST", path, h, body, strlen(body), &r), 0);
        free(bearer);
        free(ct);
        return r;
}

static char *new_member(void)
{
        char *email = api_printf("weather-%d@weather.test", ++seq);
        char *token = member_token(&srv, email);

        free(email);
        return token;
}

/* A registered gateway (with coordinates when has_coords) whose home the
 * member owns; *home gets the home id. */
static void gateway_at(struct energy_gateway *g, const char *owner, bool has_coords, double lat,
                       double lon)
{
        char *terms = energy_terms_version(&srv);
        char *body = has_coords
                ? api_printf("{\"terms_version\":\"%s\",\"latitude\":%.6f,\"longitude\":%.6f}",
                             terms, lat, lon)
                : api_printf("{\"terms_version\":\"%s\"}", terms);
        struct api_resp r;

        energy_gateway_provision(&srv, "WX-1", "1.0.0", g);
        r = energy_gateway_call(&srv, g, "POST", "/api/v1/gateway/registration", body, 201);
        g->home_id = api_json_int(r.json, "home_id", 0);
        assert_true(g->home_id > 0);
        api_resp_free(&r);
        energy_home_link(&srv, g, owner);
        free(body);
        free(terms);
}

static void household_put(const char *owner, int64_t home, const char *json)
{
        struct api_resp r = callf("PUT", owner, json, "/api/v1/homes/%lld/household",
                                  (long long)home);

        expect(&r, 200);
        api_resp_free(&r);
}

/* GET as the gateway, asserting 200; returns the JSON (caller decrefs). */
static json_t *gw_get(const struct energy_gateway *g, const char *path)
{
        struct api_resp r = energy_gateway_call(&srv, g, "GET", path, NULL, 200);
        json_t *j = json_incref(r.json);

        assert_non_null(j);
        api_resp_free(&r);
        return j;
}

static double num(json_t *j, const char *path)
{
        json_t *v = api_json_get(j, path);

        if (!json_is_number(v))
                fail_msg("%s is not a number", path);
        return json_number_value(v);
}

static void assert_near(double got, double want, double tol, const char *what)
{
        if (fabs(got - want) > tol)
                fail_msg("%s: %.6f, want %.6f +- %g", what, got, want, tol);
}

/* The hour item of the weather answer that starts at t. */
static json_t *hour_at(json_t *w, long long t)
{
        json_t *hours = api_json_get(w, "hours"), *h;
        size_t i;

        json_array_foreach(hours, i, h)
                if (unix_of(json_string_value(json_object_get(h, "time"))) == t)
                        return h;
        fail_msg("no hour at %s", rfc(t));
        return NULL;
}

/* An import that must be refused with 422 and an error at field/code. */
static void import_refused(const char *path, const char *ct, const char *body, const char *field,
                           const char *code)
{
        struct api_resp r = upload(path, ct, body);

        assert_problem(&r, 422, "validation_failed");
        if (!has_field_error(&r, field, code))
                fail_msg("%s: no %s/%s", body, field, code);
        api_resp_free(&r);
}

/* ---- setup ----------------------------------------------------------------------------------- */

static int setup(void **state)
{
        struct api_resp r = { 0 };

        if (sodium_init() < 0)
                return -1;
        if (api_server_start(&srv, server_args) < 0)
                return -1;
        op = strdup(fixture_operator(&srv));
        if (api_call(&srv, "PUT", "/api/v1/_test/clock", op, "{\"now\":\"" START "\"}", &r) < 0 ||
            r.status != 200)
                return -1;
        api_resp_free(&r);
        return 0;
}

static int teardown(void **state)
{
        free(op);
        return api_server_stop(&srv) == 0 ? 0 : -1;
}

/* ---- location ---------------------------------------------------------------------------------- */

/* The registration's coordinates come first, even when the household has a
 * postcode and prefecture. */
static void test_HE_11_location_from_registration(void **state)
{
        char *owner = new_member();
        struct energy_gateway g;
        json_t *loc;

        gateway_at(&g, owner, true, 35.012345, 135.765432);
        household_put(owner, g.home_id, "{\"postcode\":\"100-0001\",\"prefecture\":\"東京都\"}");
        loc = gw_get(&g, "/api/v1/gateway/location");
        assert_string_equal(api_json_str(loc, "source"), "registration");
        assert_near(num(loc, "latitude"), 35.012345, 1e-9, "latitude");
        assert_near(num(loc, "longitude"), 135.765432, 1e-9, "longitude");
        assert_true(json_is_null(api_json_get(loc, "postcode")));
        assert_true(json_is_null(api_json_get(loc, "prefecture")));
        json_decref(loc);
        free(owner);
}

/* Postcode (exact, then the centroid of its three-digit area) before the
 * prefecture; the prefecture's capital when the postcode is unknown. */
static void test_HE_11_location_postcode_then_prefecture(void **state)
{
        char *owner = new_member();
        struct energy_gateway g, g2;
        struct api_resp r;
        json_t *loc;

        gateway_at(&g, owner, false, 0, 0);
        household_put(owner, g.home_id, "{\"postcode\":\"810-0001\",\"prefecture\":\"福岡県\"}");
        /* Not in the table yet: Fukuoka City Hall. */
        loc = gw_get(&g, "/api/v1/gateway/location");
        assert_string_equal(api_json_str(loc, "source"), "prefecture");
        assert_int_equal(api_json_int(loc, "prefecture.code", 0), 40);
        assert_string_equal(api_json_str(loc, "prefecture.name"), "福岡県");
        assert_string_equal(api_json_str(loc, "prefecture.capital_en"), "Fukuoka");
        assert_near(num(loc, "latitude"), 33.5902, 1e-9, "latitude");
        assert_near(num(loc, "longitude"), 130.4017, 1e-9, "longitude");
        json_decref(loc);

        r = upload("/api/v1/weather/postcodes", "text/csv",
                   "postcode,latitude,longitude\r\n"
                   "810-0001,33.5890,130.3980\r\n"
                   "8100002,33.5830,130.3940\r\n"
                   "8100003,33.5850,130.3900\r\n");
        expect(&r, 200);
        assert_int_equal(api_json_int(r.json, "rows", 0), 3);
        assert_int_equal(api_json_int(r.json, "added", 0), 3);
        api_resp_free(&r);
        loc = gw_get(&g, "/api/v1/gateway/location");
        assert_string_equal(api_json_str(loc, "source"), "postcode");
        assert_string_equal(api_json_str(loc, "postcode"), "8100001");
        assert_string_equal(api_json_str(loc, "postcode_match"), "exact");
        assert_near(num(loc, "latitude"), 33.589, 1e-9, "latitude");
        assert_near(num(loc, "longitude"), 130.398, 1e-9, "longitude");
        json_decref(loc);

        /* Upsert: the same postcode moves; one row updated, none added. */
        r = upload("/api/v1/weather/postcodes", "text/csv",
                   "latitude,postcode,longitude\n33.5900,8100001,130.3990\n");
        expect(&r, 200);
        assert_int_equal(api_json_int(r.json, "added", 0), 0);
        assert_int_equal(api_json_int(r.json, "updated", 0), 1);
        api_resp_free(&r);
        loc = gw_get(&g, "/api/v1/gateway/location");
        assert_near(num(loc, "latitude"), 33.59, 1e-9, "latitude after upsert");
        json_decref(loc);

        /* A postcode of the same area not in the table: the area's centroid. */
        gateway_at(&g2, owner, false, 0, 0);
        household_put(owner, g2.home_id, "{\"postcode\":\"8109999\"}");
        loc = gw_get(&g2, "/api/v1/gateway/location");
        assert_string_equal(api_json_str(loc, "source"), "postcode");
        assert_string_equal(api_json_str(loc, "postcode_match"), "area");
        assert_near(num(loc, "latitude"), (33.59 + 33.583 + 33.585) / 3, 1e-6, "area latitude");
        assert_near(num(loc, "longitude"), (130.399 + 130.394 + 130.39) / 3, 1e-6,
                    "area longitude");
        json_decref(loc);
        free(owner);
}

/* Prefecture alone, written in any accepted form. */
static void test_HE_11_location_prefecture_only(void **state)
{
        char *owner = new_member();
        struct energy_gateway g;
        json_t *loc;

        gateway_at(&g, owner, false, 0, 0);
        household_put(owner, g.home_id, "{\"prefecture\":\"Osaka-fu\",\"postcode\":\"5300001\"}");
        loc = gw_get(&g, "/api/v1/gateway/location");
        assert_string_equal(api_json_str(loc, "source"), "prefecture");
        assert_int_equal(api_json_int(loc, "prefecture.code", 0), 27);
        assert_string_equal(api_json_str(loc, "prefecture.capital"), "大阪市");
        assert_near(num(loc, "latitude"), 34.6937, 1e-9, "latitude");
        json_decref(loc);
        free(owner);
}

/* Nothing to go by: 404 location_unknown for the gateway and its members. */
static void test_HE_11_location_unknown_404(void **state)
{
        char *owner = new_member();
        struct energy_gateway g, fresh;
        struct api_resp r;

        gateway_at(&g, owner, false, 0, 0);
        r = energy_gateway_call(&srv, &g, "GET", "/api/v1/gateway/location", NULL, 404);
        assert_problem(&r, 404, "location_unknown");
        api_resp_free(&r);
        /* An unknown postcode and a prefecture that is none. */
        household_put(owner, g.home_id, "{\"postcode\":\"9999999\",\"prefecture\":\"Atlantis\"}");
        r = energy_gateway_call(&srv, &g, "GET", "/api/v1/gateway/weather", NULL, 404);
        assert_problem(&r, 404, "location_unknown");
        api_resp_free(&r);
        r = callf("GET", owner, NULL, "/api/v1/homes/%lld/weather", (long long)g.home_id);
        assert_problem(&r, 404, "location_unknown");
        api_resp_free(&r);
        /* A gateway not registered yet: 409 as every gateway call. */
        energy_gateway_provision(&srv, "WX-1", "1.0.0", &fresh);
        r = energy_gateway_call(&srv, &fresh, "GET", "/api/v1/gateway/location", NULL, 409);
        assert_problem(&r, 409, "not_registered");
        api_resp_free(&r);
        free(owner);
}

/* ---- postcode imports ---------------------------------------------------------------------------- */

static void test_HE_11_postcodes_bad_input_rejected(void **state)
{
        static const char *const pc = "/api/v1/weather/postcodes";
        char *member = new_member(), *bearer = api_printf("Authorization: Bearer %s", member);
        const char *h[] = { bearer, "Content-Type: text/csv", NULL };
        struct energy_gateway g;
        struct api_resp r = { 0 };
        json_t *loc;

        r = upload(pc, "application/json", "{}");
        assert_problem(&r, 415, "unsupported_media_type");
        api_resp_free(&r);
        assert_int_equal(api_call_raw(&srv, "POST", pc, h, "postcode,latitude,longitude\n", 28,
                                      &r), 0);
        expect(&r, 403);
        api_resp_free(&r);
        import_refused(pc, "text/csv", "", "body", "required");
        import_refused(pc, "text/csv", "postcode,latitude\n9200001,36.5,136.6\n", "lines.1",
                       "columns");
        import_refused(pc, "text/csv", "postcode,lat,longitude\n9200001,36.5,136.6\n",
                       "lines.1.lat", "unknown_column");
        import_refused(pc, "text/csv", "postcode,latitude,postcode\n", "lines.1.postcode",
                       "duplicate_column");
        import_refused(pc, "text/csv", "postcode,latitude,longitude\n", "body", "required");
        /* One bad line among good ones: the error names it, nothing is stored. */
        r = upload(pc, "text/csv",
                   "postcode,latitude,longitude\n"
                   "9200001,36.56,136.65\n"
                   "92-00002,36.56,136.65\n"
                   "9200003,136.65,36.56\n"
                   "9200004,36.56\n"
                   "9200005,north,136.65\n"
                   "\n"
                   "9200006,36.56,136.65,1\n"
                   "920-0001,36.57,136.66\n");
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "lines.3.postcode", "invalid"));
        assert_true(has_field_error(&r, "lines.4.latitude", "invalid"));
        assert_true(has_field_error(&r, "lines.5", "columns"));
        assert_true(has_field_error(&r, "lines.6.latitude", "invalid"));
        assert_true(has_field_error(&r, "lines.8", "columns"));
        if (json_array_size(api_json_get(r.json, "errors")) != 5)
                fail_msg("%s", r.body);
        api_resp_free(&r);
        /* Swapped coordinates that still parse: outside Japan. */
        import_refused(pc, "text/csv", "postcode,latitude,longitude\n9200001,10.0,136.6\n",
                       "lines.2.latitude", "out_of_range");
        /* The same postcode twice. */
        import_refused(pc, "text/csv",
                       "postcode,latitude,longitude\n9200001,36.5,136.6\n920-0001,36.6,136.7\n",
                       "lines.3.postcode", "duplicate");
        /* Nothing of the refused uploads was stored. */
        gateway_at(&g, member, false, 0, 0);
        household_put(member, g.home_id, "{\"postcode\":\"9200001\",\"prefecture\":\"石川県\"}");
        loc = gw_get(&g, "/api/v1/gateway/location");
        assert_string_equal(api_json_str(loc, "source"), "prefecture");
        json_decref(loc);
        free(bearer);
        free(member);
}

/* ---- forecast imports and the nearest point --------------------------------------------------- */

/* JSON of one point with hourly rows from first for n hours (cloud cover
 * c, irradiance when irr >= 0). */
static json_t *point_json(const char *id, double lat, double lon, long long first, int n,
                          int step_h, int cloud, double irr)
{
        json_t *items = json_array();

        for (int i = 0; i < n; i++) {
                json_t *f = json_pack("{s:s, s:i, s:f, s:i, s:i}", "time",
                                      rfc(first + i * step_h * HOUR), "weather_code", 100 + i,
                                      "temperature_c", 20.5 + i % 20, "precipitation_pct", 10,
                                      "cloud_cover_pct", cloud);

                if (irr >= 0)
                        json_object_set_new(f, "irradiance_wm2", json_real(irr));
                json_array_append_new(items, f);
        }
        return json_pack("{s:s, s:s, s:f, s:f, s:o}", "id", id, "name", id, "latitude", lat,
                         "longitude", lon, "forecasts", items);
}

static struct api_resp import_points(json_t *points)
{
        json_t *body = json_pack("{s:o}", "points", points);
        char *text = json_dumps(body, JSON_COMPACT);
        struct api_resp r = upload("/api/v1/weather/forecasts", "application/json", text);

        free(text);
        json_decref(body);
        return r;
}

static void test_HE_11_forecast_json_nearest_point(void **state)
{
        long long day0 = unix_of(DAY0);
        char *owner = new_member();
        struct energy_gateway g;
        struct api_resp r;
        json_t *w, *h, *points = json_array();

        /* Home in Sendai (38.2682, 140.8694). */
        gateway_at(&g, owner, true, 38.2682, 140.8694);
        /* near: ~9 km, hourly for two days; stale: 1 km but only data from
         * yesterday; far: ~48 km; other: 300 km away. */
        json_array_append_new(points, point_json("jp.sendai.near", 38.3400, 140.9100,
                                                 day0, 48, 1, 20, -1));
        json_array_append_new(points, point_json("jp.sendai.stale", 38.2700, 140.8800,
                                                 day0 - DAY, 12, 1, 90, -1));
        json_array_append_new(points, point_json("jp.sendai.far", 38.6800, 140.7500,
                                                 day0, 48, 1, 50, -1));
        json_array_append_new(points, point_json("jp.niigata", 37.9162, 139.0364, day0, 48, 1,
                                                 0, -1));
        r = import_points(points);
        expect(&r, 200);
        assert_int_equal(api_json_int(r.json, "points", 0), 4);
        assert_int_equal(api_json_int(r.json, "rows", 0), 48 + 12 + 48 + 48);
        assert_int_equal(api_json_int(r.json, "replaced", 0), 0);
        api_resp_free(&r);

        w = gw_get(&g, "/api/v1/gateway/weather?days=2");
        assert_string_equal(api_json_str(w, "forecast.point.id"), "jp.sendai.near");
        assert_near(num(w, "forecast.point.distance_km"), 8.7, 0.3, "distance");
        assert_int_equal(json_array_size(api_json_get(w, "forecast.items")), 48);
        assert_int_equal(json_array_size(api_json_get(w, "hours")), 48);
        assert_int_equal(json_array_size(api_json_get(w, "days")), 2);
        /* The 10:00 hour carries the 10:00 row (the 11th: code 110, 30.5 C). */
        h = hour_at(w, day0 + 10 * HOUR);
        assert_int_equal(api_json_int(h, "weather.weather_code", 0), 110);
        assert_near(num(h, "weather.temperature_c"), 30.5, 1e-9, "temperature");
        assert_int_equal(api_json_int(h, "weather.cloud_cover_pct", -1), 20);
        assert_true(json_is_null(api_json_get(h, "weather.irradiance_wm2")));
        json_decref(w);

        /* A newer issue of 'near' from 12:00 on replaces its rows from then
         * (36 of them) and makes it 3-hourly: hours 12..14 take the 12:00 row. */
        points = json_array();
        json_array_append_new(points, point_json("jp.sendai.near", 38.3400, 140.9100,
                                                 day0 + 12 * HOUR, 4, 3, 80, -1));
        r = import_points(points);
        expect(&r, 200);
        assert_int_equal(api_json_int(r.json, "replaced", 0), 36);
        api_resp_free(&r);
        w = gw_get(&g, "/api/v1/gateway/weather?days=1");
        assert_int_equal(json_array_size(api_json_get(w, "forecast.items")), 12 + 4);
        for (int hh = 12; hh < 15; hh++) {
                h = hour_at(w, day0 + hh * HOUR);
                assert_int_equal(api_json_int(h, "weather.weather_code", 0), 100);
                assert_int_equal(api_json_int(h, "weather.cloud_cover_pct", -1), 80);
                assert_string_equal(api_json_str(h, "weather.from"), rfc(day0 + 12 * HOUR));
        }
        h = hour_at(w, day0 + 15 * HOUR);
        assert_int_equal(api_json_int(h, "weather.weather_code", 0), 101);
        /* The last row (21:00) covers three hours like the gap before it: to 24:00. */
        h = hour_at(w, day0 + 23 * HOUR);
        assert_int_equal(api_json_int(h, "weather.weather_code", 0), 103);
        json_decref(w);
        /* The last row ends the forecast: the next day's hours have none. */
        w = gw_get(&g, "/api/v1/gateway/weather?days=2");
        assert_true(json_is_null(api_json_get(hour_at(w, day0 + 24 * HOUR), "weather")));
        json_decref(w);
        free(owner);
}

/* No point within 100 km: the forecast is null, the rest is computed. */
static void test_HE_11_no_point_nearby_computed_only(void **state)
{
        char *owner = new_member();
        struct energy_gateway g;
        json_t *w;

        gateway_at(&g, owner, true, 24.3448, 124.1572);         /* Ishigaki */
        w = gw_get(&g, "/api/v1/gateway/weather?days=1");
        assert_true(json_is_null(api_json_get(w, "forecast")));
        assert_int_equal(json_array_size(api_json_get(w, "hours")), 24);
        assert_true(api_json_str(w, "days.0.sunrise") != NULL);
        json_decref(w);
        free(owner);
}

static void test_HE_11_forecast_csv_import(void **state)
{
        long long day0 = unix_of(DAY0);
        char *owner = new_member();
        struct energy_gateway g;
        char *csv;
        struct api_resp r;
        json_t *w, *h;

        /* Home in Kanazawa; a CSV with columns in another order and an
         * empty optional value. */
        gateway_at(&g, owner, true, 36.5613, 136.6562);
        csv = api_printf("\xef\xbb\xbfpoint_id,time,latitude,longitude,name,weather_code,"
                              "temperature_c,precipitation_pct,cloud_cover_pct,irradiance_wm2\r\n"
                              "jp.kanazawa,%s,36.5700,136.6500,金沢,200,25.0,30,,610.5\r\n"
                              "jp.kanazawa,%s,36.5700,136.6500,金沢,300,24.0,80,100,\r\n",
                              rfc(day0 + 11 * HOUR), rfc(day0 + 12 * HOUR));
        r = upload("/api/v1/weather/forecasts", "text/csv; charset=utf-8", csv);
        expect(&r, 200);
        assert_int_equal(api_json_int(r.json, "points", 0), 1);
        assert_int_equal(api_json_int(r.json, "rows", 0), 2);
        api_resp_free(&r);
        free(csv);
        w = gw_get(&g, "/api/v1/gateway/weather?days=1");
        assert_string_equal(api_json_str(w, "forecast.point.id"), "jp.kanazawa");
        assert_string_equal(api_json_str(w, "forecast.point.name"), "金沢");
        h = hour_at(w, day0 + 11 * HOUR);
        assert_int_equal(api_json_int(h, "weather.weather_code", 0), 200);
        assert_near(num(h, "weather.irradiance_wm2"), 610.5, 1e-9, "irradiance");
        assert_true(json_is_null(api_json_get(h, "weather.cloud_cover_pct")));
        h = hour_at(w, day0 + 12 * HOUR);
        assert_int_equal(api_json_int(h, "weather.precipitation_pct", 0), 80);
        assert_true(json_is_null(api_json_get(h, "weather.irradiance_wm2")));
        assert_true(json_is_null(api_json_get(hour_at(w, day0 + 10 * HOUR), "weather")));
        assert_true(json_is_null(api_json_get(hour_at(w, day0 + 13 * HOUR), "weather")));
        json_decref(w);
        free(owner);
}

static void test_HE_11_forecast_bad_input_rejected(void **state)
{
        static const char *const fc = "/api/v1/weather/forecasts";
        static const char *const hdr = "point_id,latitude,longitude,time,temperature_c,"
                                       "precipitation_pct,weather_code\n";
        long long day0 = unix_of(DAY0);
        char *owner = new_member(), *t1 = strdup(rfc(day0 + 9 * HOUR));
        char *t2 = strdup(rfc(day0 + 10 * HOUR)), *body;
        struct energy_gateway g;
        struct api_resp r;
        json_t *w;

        r = upload(fc, "text/plain", "x");
        assert_problem(&r, 415, "unsupported_media_type");
        api_resp_free(&r);
        r = upload(fc, "application/json", "{\"points\":[");
        assert_problem(&r, 400, "malformed_json");
        api_resp_free(&r);
        /* CSV header problems. */
        import_refused(fc, "text/csv", "point_id,latitude,longitude,time,wind\n", "lines.1.wind",
                       "unknown_column");
        import_refused(fc, "text/csv", "point_id,latitude,longitude\n", "lines.1.time",
                       "required");
        /* Each bad line, with good ones around it: errors at line and column. */
        body = api_printf("%s"
                          "jp.kagoshima,31.60,130.56,%s,20.0,10,100\n"     /* 2: fine */
                          "jp.kagoshima,31.60,130.56,%s,warm,10,100\n"     /* 3 */
                          "jp.kagoshima,31.60,130.56,%s,20.0,150,100\n"    /* 4 */
                          "jp.kagoshima,31.60,130.56,%s,20.0,10,1.5\n"     /* 5 */
                          "jp.kagoshima,31.60,130.56,yesterday,20.0,10,100\n"      /* 6 */
                          "jp.kagoshima,31.60,130.56,2027-09-01T00:00:00+09:00,1,1,1\n" /* 7 */
                          "jp kagoshima,31.60,130.56,%s,20.0,10,100\n"     /* 8 */
                          "jp.kagoshima,96.60,130.56,%s,20.0,10,100\n"     /* 9 */
                          "jp.kagoshima,31.60,130.56,,20.0,10,100\n"       /* 10 */
                          "jp.kagoshima,31.60,130.56,%s,20.0,10\n",        /* 11 */
                          hdr, t1, t2, t2, t2, t2, t2, t2);
        r = upload(fc, "text/csv", body);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "lines.3.temperature_c", "type"));
        assert_true(has_field_error(&r, "lines.4.precipitation_pct", "out_of_range"));
        assert_true(has_field_error(&r, "lines.5.weather_code", "type"));
        assert_true(has_field_error(&r, "lines.6.time", "invalid"));
        assert_true(has_field_error(&r, "lines.7.time", "out_of_range"));
        assert_true(has_field_error(&r, "lines.8.point_id", "invalid"));
        assert_true(has_field_error(&r, "lines.9.latitude", "out_of_range"));
        assert_true(has_field_error(&r, "lines.10.time", "required"));
        assert_true(has_field_error(&r, "lines.11", "columns"));
        assert_int_equal(json_array_size(api_json_get(r.json, "errors")), 9);
        api_resp_free(&r);
        free(body);
        /* The same point and time twice; one point at two places. */
        body = api_printf("%sjp.kagoshima,31.60,130.56,%s,20,10,100\n"
                          "jp.kagoshima,31.60,130.56,%s,21,10,100\n",
                          hdr, t1, t1);
        import_refused(fc, "text/csv", body, "lines.3.time", "duplicate");
        free(body);
        body = api_printf("%sjp.kagoshima,31.60,130.56,%s,20,10,100\n"
                          "jp.kagoshima,31.65,130.56,%s,21,10,100\n",
                          hdr, t1, t2);
        import_refused(fc, "text/csv", body, "lines.3.latitude", "conflict");
        free(body);
        /* JSON: unknown fields, missing id, bad coordinates, wrong types. */
        body = api_printf("{\"points\":[{\"id\":\"jp.kagoshima\",\"latitude\":31.6,"
                          "\"longitude\":130.56,\"forecasts\":[{\"time\":\"%s\","
                          "\"cloud_cover_pct\":\"cloudy\",\"wind\":3}]},"
                          "{\"latitude\":91,\"longitude\":137,\"forecasts\":[]},"
                          "{\"id\":\"jp.x\",\"latitude\":36,\"longitude\":137,"
                          "\"forecasts\":[{\"temperature_c\":20}, 5]}],\"extra\":1}", t1);
        r = upload(fc, "application/json", body);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "points.0.forecasts.0.cloud_cover_pct", "type"));
        assert_true(has_field_error(&r, "points.0.forecasts.0.wind", "unknown_field"));
        assert_true(has_field_error(&r, "points.1.id", "required"));
        assert_true(has_field_error(&r, "points.1.latitude", "out_of_range"));
        assert_true(has_field_error(&r, "points.1.forecasts", "required"));
        assert_true(has_field_error(&r, "points.2.forecasts.0.time", "required"));
        assert_true(has_field_error(&r, "points.2.forecasts.1", "type"));
        assert_true(has_field_error(&r, "extra", "unknown_field"));
        api_resp_free(&r);
        free(body);
        import_refused(fc, "application/json", "{\"points\":[]}", "points", "required");
        import_refused(fc, "application/json", "{}", "points", "required");
        /* Nothing of it was stored: a Kagoshima home has no forecast. */
        gateway_at(&g, owner, true, 31.5966, 130.5571);
        w = gw_get(&g, "/api/v1/gateway/weather?days=1");
        assert_true(json_is_null(api_json_get(w, "forecast")));
        json_decref(w);
        free(t1);
        free(t2);
        free(owner);
}

/* ---- computed without any import ---------------------------------------------------------------- */

static void test_HE_11_sun_computed_without_import(void **state)
{
        long long day0 = unix_of(DAY0);
        char *owner = new_member();
        struct energy_gateway g;
        struct api_resp r;
        json_t *w, *h;

        gateway_at(&g, owner, true, 26.2124, 127.6809);         /* Naha */
        w = gw_get(&g, "/api/v1/gateway/weather?days=2");
        assert_string_equal(api_json_str(w, "location.source"), "registration");
        assert_int_equal(api_json_int(w, "days_count", 0), 2);
        assert_true(json_is_null(api_json_get(w, "forecast")));
        assert_true(json_is_null(api_json_get(w, "pv")));
        assert_string_equal(api_json_str(w, "days.0.date"), "2027-06-21");
        assert_string_equal(api_json_str(w, "days.1.date"), "2027-06-22");
        /* Sunrise 05:37:28, sunset 19:24:28 on 2027-06-21 (PyEphem). */
        assert_near((double)unix_of(api_json_str(w, "days.0.sunrise")),
                    (double)unix_of("2027-06-21T05:37:28+09:00"), 120, "sunrise");
        assert_near((double)unix_of(api_json_str(w, "days.0.sunset")),
                    (double)unix_of("2027-06-21T19:24:28+09:00"), 120, "sunset");
        assert_near((double)unix_of(api_json_str(w, "days.1.sunrise")),
                    (double)unix_of("2027-06-22T05:37:41+09:00"), 120, "sunrise day 2");
        assert_near(num(w, "days.0.daylight_minutes"), 827, 3, "daylight");
        assert_true(json_is_null(api_json_get(w, "days.0.polar")));
        /* Naha lies just north of the tropic: at solstice noon the sun is
         * about 87 degrees high. */
        assert_near(num(w, "days.0.noon_elevation_deg"), 90 - 26.2124 + 23.44, 0.1, "noon");
        assert_true(num(w, "days.0.clear_sky_kwh_m2") > 7 && num(w, "days.0.clear_sky_kwh_m2") < 9);
        /* Midnight: sun below the horizon, no light; noon: high, bright. */
        h = hour_at(w, day0);
        assert_true(num(h, "elevation_deg") < -30);
        assert_near(num(h, "clear_sky_ghi_wm2"), 0, 1e-9, "night ghi");
        h = hour_at(w, day0 + 13 * HOUR);
        assert_true(num(h, "elevation_deg") > 80);
        assert_true(num(h, "clear_sky_ghi_wm2") > 900 && num(h, "clear_sky_ghi_wm2") < 1100);
        assert_true(num(h, "clear_sky_dni_wm2") > 700);
        assert_true(num(h, "azimuth_deg") >= 0 && num(h, "azimuth_deg") < 360);
        assert_true(json_is_null(api_json_get(h, "weather")));
        assert_true(json_is_null(api_json_get(h, "pv_expected_kwh")));
        /* Morning sun in the north-east at the solstice. */
        assert_true(num(hour_at(w, day0 + 7 * HOUR), "azimuth_deg") < 90);
        json_decref(w);
        /* days: 1 .. weather.forecast_days (7). */
        w = gw_get(&g, "/api/v1/gateway/weather");
        assert_int_equal(json_array_size(api_json_get(w, "days")), 7);
        json_decref(w);
        r = energy_gateway_call(&srv, &g, "GET", "/api/v1/gateway/weather?days=8", NULL, 422);
        api_resp_free(&r);
        r = energy_gateway_call(&srv, &g, "GET", "/api/v1/gateway/weather?days=0", NULL, 422);
        api_resp_free(&r);
        free(owner);
}

/* ---- expected PV ------------------------------------------------------------------------------- */

static void settings_put(const struct energy_gateway *g, const char *doc)
{
        struct api_resp r = energy_gateway_raw(&srv, g, "PUT", "/api/v1/gateway/settings", doc);

        if (r.status != 201 && r.status != 200)
                fail_msg("settings: %ld %s", r.status, r.body);
        api_resp_free(&r);
}

static void test_HE_11_expected_pv_from_settings(void **state)
{
        long long day0 = unix_of(DAY0);
        char *owner = new_member();
        struct energy_gateway g;
        struct api_resp r;
        json_t *w, *h, *points;
        double clear, day_clear;

        /* Home in Matsuyama, 4 kW facing south at 30 degrees. */
        gateway_at(&g, owner, true, 33.8392, 132.7657);
        settings_put(&g, "{\"pv\":{\"kw\":4,\"tilt_deg\":30,\"azimuth_deg\":180}}");
        w = gw_get(&g, "/api/v1/gateway/weather?days=1");
        assert_near(num(w, "pv.kw"), 4, 1e-9, "kw");
        assert_string_equal(api_json_str(w, "pv.source"), "settings.pv");
        /* No forecast: expected = clear sky; a clear solstice day gives
         * roughly 5 to 7 kWh per kW. */
        day_clear = num(w, "days.0.pv_clear_sky_kwh");
        assert_true(day_clear > 20 && day_clear < 28);
        assert_near(num(w, "days.0.pv_expected_kwh"), day_clear, 1e-9, "day expected");
        h = hour_at(w, day0 + 12 * HOUR);
        clear = num(h, "pv_clear_sky_kwh");
        assert_true(clear > 2.0 && clear <= 4.0);
        assert_near(num(h, "pv_expected_kwh"), clear, 1e-9, "expected");
        assert_string_equal(api_json_str(h, "pv_basis"), "clear_sky");
        assert_near(num(hour_at(w, day0 + 2 * HOUR), "pv_clear_sky_kwh"), 0, 1e-9, "night");
        json_decref(w);

        /* Overcast at 12:00 (Kasten-Czeplak: a quarter left), a measured-
         * style irradiance at 13:00. */
        points = json_array();
        json_array_append_new(points, point_json("jp.matsuyama", 33.84, 132.77,
                                                 day0 + 12 * HOUR, 1, 1, 100, -1));
        json_array_append_new(points, point_json("jp.matsuyama.irr", 34.00, 132.90,
                                                 day0 + 13 * HOUR, 1, 1, 100, 300));
        r = import_points(points);
        expect(&r, 200);
        api_resp_free(&r);
        w = gw_get(&g, "/api/v1/gateway/weather?days=1");
        assert_string_equal(api_json_str(w, "forecast.point.id"), "jp.matsuyama");
        h = hour_at(w, day0 + 12 * HOUR);
        assert_string_equal(api_json_str(h, "pv_basis"), "cloud_cover");
        assert_near(num(h, "pv_expected_kwh"), 0.25 * num(h, "pv_clear_sky_kwh"), 0.002,
                    "overcast");
        assert_true(num(w, "days.0.pv_expected_kwh") < day_clear);
        json_decref(w);

        /* The same home by its pv_kw number, then by its devices. */
        settings_put(&g, "{\"pv_kw\":2}");
        w = gw_get(&g, "/api/v1/gateway/weather?days=1");
        assert_string_equal(api_json_str(w, "pv.source"), "settings.pv_kw");
        assert_near(num(w, "pv.tilt_deg"), 30, 1e-9, "default tilt");
        assert_near(num(w, "pv.azimuth_deg"), 180, 1e-9, "default azimuth");
        assert_near(num(w, "days.0.pv_clear_sky_kwh"), day_clear / 2, 0.02, "half size");
        json_decref(w);
        settings_put(&g, "{\"devices\":[{\"name\":\"PV east\",\"pv_kw\":1.5},"
                         "{\"name\":\"Fridge\"},{\"name\":\"PV west\",\"pv_kw\":2.5}]}");
        w = gw_get(&g, "/api/v1/gateway/weather?days=1");
        assert_string_equal(api_json_str(w, "pv.source"), "settings.devices");
        assert_near(num(w, "pv.kw"), 4, 1e-9, "devices sum");
        json_decref(w);
        /* Out of range: no PV part (the settings themselves are kept). */
        settings_put(&g, "{\"pv\":{\"kw\":4,\"tilt_deg\":120}}");
        w = gw_get(&g, "/api/v1/gateway/weather?days=1");
        assert_true(json_is_null(api_json_get(w, "pv")));
        assert_true(json_is_null(api_json_get(w, "days.0.pv_expected_kwh")));
        json_decref(w);

        /* Irradiance given: the clear-sky output scaled by forecast over
         * clear-sky irradiance (point jp.matsuyama.irr, for a home near it). */
        {
                struct energy_gateway g2;

                gateway_at(&g2, owner, true, 34.0, 132.9);
                settings_put(&g2, "{\"pv_kw\":4}");
                w = gw_get(&g2, "/api/v1/gateway/weather?days=1");
                assert_string_equal(api_json_str(w, "forecast.point.id"), "jp.matsuyama.irr");
                h = hour_at(w, day0 + 13 * HOUR);
                assert_string_equal(api_json_str(h, "pv_basis"), "irradiance");
                assert_near(num(h, "pv_expected_kwh"),
                            num(h, "pv_clear_sky_kwh") * 300 / num(h, "clear_sky_wh_m2"), 0.01,
                            "irradiance scaling");
                json_decref(w);
        }
        free(owner);
}

/* ---- the members' view ----------------------------------------------------------------------- */

static void test_HE_11_member_view_same_content(void **state)
{
        char *owner = new_member(), *stranger = new_member();
        struct energy_gateway g;
        struct api_resp r;
        json_t *gw, *mv;

        gateway_at(&g, owner, false, 0, 0);
        household_put(owner, g.home_id, "{\"prefecture\":\"宮崎県\"}");
        settings_put(&g, "{\"pv_kw\":5.5}");
        gw = gw_get(&g, "/api/v1/gateway/weather?days=3");
        r = callf("GET", owner, NULL, "/api/v1/homes/%lld/weather?days=3", (long long)g.home_id);
        expect(&r, 200);
        mv = json_incref(r.json);
        api_resp_free(&r);
        assert_true(json_equal(api_json_get(gw, "location"), api_json_get(mv, "location")));
        assert_true(json_equal(api_json_get(gw, "days"), api_json_get(mv, "days")));
        assert_true(json_equal(api_json_get(gw, "hours"), api_json_get(mv, "hours")));
        assert_true(json_equal(api_json_get(gw, "pv"), api_json_get(mv, "pv")));
        assert_string_equal(api_json_str(mv, "location.source"), "prefecture");
        json_decref(gw);
        json_decref(mv);
        /* Another household's member: 404; no session: 401. */
        r = callf("GET", stranger, NULL, "/api/v1/homes/%lld/weather", (long long)g.home_id);
        expect(&r, 404);
        api_resp_free(&r);
        r = callf("GET", NULL, NULL, "/api/v1/homes/%lld/weather", (long long)g.home_id);
        expect(&r, 401);
        api_resp_free(&r);
        free(owner);
        free(stranger);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_HE_11_location_from_registration),
                cmocka_unit_test(test_HE_11_location_postcode_then_prefecture),
                cmocka_unit_test(test_HE_11_location_prefecture_only),
                cmocka_unit_test(test_HE_11_location_unknown_404),
                cmocka_unit_test(test_HE_11_postcodes_bad_input_rejected),
                cmocka_unit_test(test_HE_11_forecast_json_nearest_point),
                cmocka_unit_test(test_HE_11_no_point_nearby_computed_only),
                cmocka_unit_test(test_HE_11_forecast_csv_import),
                cmocka_unit_test(test_HE_11_forecast_bad_input_rejected),
                cmocka_unit_test(test_HE_11_sun_computed_without_import),
                cmocka_unit_test(test_HE_11_expected_pv_from_settings),
                cmocka_unit_test(test_HE_11_member_view_same_content),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
