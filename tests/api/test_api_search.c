/*
 * test_api_search.c - the charger search and calendars over HTTP against
 * the real binary: public fields only (CS-40), nearest first with paging,
 * only listed chargers (attached, host publishable, not delisted), free
 * for a range with the CS-24 price, occupancy (CS-25, reservations
 * inserted with the sqlite3 tool), the calendar's free and taken ranges,
 * and bad input (coordinates, radius, range, limit, cursor).
 *
 * Each test searches around its own point far from the others' chargers
 * so that the tests do not see each other's data.
 */
#include <stdbool.h>

#include "slots_fixture.h"

static struct api_server srv;
static char *op_token, *host_token, *member_tok;
static int64_t host_id;

static int setup(void **state)
{
        if (api_server_start(&srv, NULL) < 0)
                return -1;
        op_token = operator_token(&srv, "op@search.test");
        host_token = make_host(&srv, "host@search.test", "individual", &host_id);
        member_tok = member_token(&srv, "member@search.test");
        return 0;
}

static int teardown(void **state)
{
        free(op_token);
        free(host_token);
        free(member_tok);
        return api_server_stop(&srv) == 0 ? 0 : -1;
}

static struct api_resp call(const char *method, const char *path, const char *token,
                            const char *body)
{
        struct api_resp r = { 0 };

        assert_int_equal(api_call(&srv, method, path, token, body, &r), 0);
        return r;
}

static struct api_resp search(const char *query)
{
        char *path = api_printf("/api/v1/chargers/search?%s", query);
        struct api_resp r = call("GET", path, member_tok, NULL);

        free(path);
        return r;
}

/* Search around (lat, lon) with extra query text; asserts 200. */
static struct api_resp search_at(double lat, double lon, const char *extra)
{
        char *q = api_printf("lat=%.6f&lon=%.6f%s", lat, lon, extra);
        struct api_resp r = search(q);

        if (r.status != 200)
                fprintf(stderr, "search %s: %ld %s\n", q, r.status, r.body);
        assert_int_equal(r.status, 200);
        free(q);
        return r;
}

static bool has_id(json_t *items, int64_t id)
{
        size_t i;
        json_t *it;

        json_array_foreach(items, i, it)
                if (json_integer_value(json_object_get(it, "id")) == id)
                        return true;
        return false;
}

/* A range query string for [from, to), URL-safe ('+' escaped). */
static char *range_q(long long from, long long to)
{
        char f[40], t[40];

        snprintf(f, sizeof(f), "%s", rfc(from));
        snprintf(t, sizeof(t), "%s", rfc(to));
        f[19] = t[19] = '\0';           /* cut "+09:00" */
        return api_printf("&from=%s%%2B09:00&to=%s%%2B09:00", f, t);
}

/* ---- CS-40 ------------------------------------------------------------------- */

static void test_CS_40_search_shows_public_listing_only(void **state)
{
        int64_t ch = make_charger(&srv, host_token, 35.6812, 139.7671, "");
        struct api_resp r = search_at(35.6813, 139.7672, "&radius_m=500");
        json_t *it;

        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 1);
        it = api_json_get(r.json, "items.0");
        assert_int_equal(api_json_int(it, "id", 0), ch);
        assert_string_equal(api_json_str(it, "host.display_name"), "テスト充電スポット");
        assert_string_equal(api_json_str(it, "connector"), "type1");
        assert_true(api_json_int(it, "distance_m", -1) >= 0 &&
                    api_json_int(it, "distance_m", -1) < 50);
        assert_true(json_is_null(api_json_get(it, "price")));
        assert_string_equal(api_json_str(it, "occupancy.state"), "available");
        assert_non_null(api_json_str(it, "occupancy.computed_at"));
        /* Nothing of the host's personal data, nor the QR code's state. */
        assert_null(strstr(r.body, "host@search.test"));
        assert_null(strstr(r.body, "山田"));
        assert_null(strstr(r.body, "090-1234-5678"));
        assert_null(strstr(r.body, "qr"));
        assert_null(api_json_get(it, "host.id"));
        assert_true(json_is_null(api_json_get(r.json, "next_cursor")));
        api_resp_free(&r);
        /* Anonymous: 401. */
        r = call("GET", "/api/v1/chargers/search?lat=35.68&lon=139.76", NULL, NULL);
        assert_int_equal(r.status, 401);
        api_resp_free(&r);
}

/* The search keeps rendered listings (listing_cache.c): a change to the
 * charger or to its host's public name shows in the very next search. */
static void test_CS_40_search_shows_listing_changes_at_once(void **state)
{
        double lat = 35.5, lon = 139.5;
        int64_t ch = make_charger(&srv, host_token, lat, lon, "");
        char *path = api_printf("/api/v1/chargers/%lld", (long long)ch);
        char *hpath = api_printf("/api/v1/hosts/%lld", (long long)host_id);
        struct api_resp r = search_at(lat, lon, "&radius_m=500");

        assert_string_not_equal(api_json_str(r.json, "items.0.maker"), "New Maker");
        assert_int_equal(api_json_int(r.json, "items.0.id", 0), ch);
        api_resp_free(&r);
        r = call("PATCH", path, host_token,
                 "{\"maker\":\"New Maker\",\"usage_notes\":\"2 h max\"}");
        assert_int_equal(r.status, 200);
        api_resp_free(&r);
        r = search_at(lat, lon, "&radius_m=500");
        assert_string_equal(api_json_str(r.json, "items.0.maker"), "New Maker");
        assert_string_equal(api_json_str(r.json, "items.0.usage_notes"), "2 h max");
        api_resp_free(&r);
        r = call("PATCH", hpath, host_token, "{\"display_name\":\"改名した充電スポット\"}");
        assert_int_equal(r.status, 200);
        api_resp_free(&r);
        r = search_at(lat, lon, "&radius_m=500");
        assert_string_equal(api_json_str(r.json, "items.0.host.display_name"),
                            "改名した充電スポット");
        api_resp_free(&r);
        /* and back, so later tests see the fixture's name */
        r = call("PATCH", hpath, host_token, "{\"display_name\":\"テスト充電スポット\"}");
        assert_int_equal(r.status, 200);
        api_resp_free(&r);
        free(path);
        free(hpath);
}

/* `make run` (serve --demo): the demo driver finds the demo host's five
 * chargers near Tokyo station, free tomorrow 10:00-12:00, priced, and can
 * book (declarations and an EV). Its own server: demo data needs an empty
 * database. */
static void test_demo_data_has_bookable_chargers(void **state)
{
        static const char *const args[] = { "--demo", NULL };
        struct api_server d = { 0 };
        struct api_resp r = { 0 };
        char *range = range_q(tokyo_at(1, 10, 0), tokyo_at(1, 12, 0));
        char *path, *tok;

        assert_int_equal(api_server_start(&d, args), 0);
        assert_int_equal(api_call(&d, "POST", "/api/v1/sessions", NULL,
                                  "{\"email\":\"hanako@demo.enemane.jp\","
                                  "\"password\":\"demo-member-2026\"}", &r), 0);
        assert_int_equal(r.status, 201);
        assert_non_null(api_json_str(r.json, "token"));
        tok = strdup(api_json_str(r.json, "token"));
        assert_non_null(tok);
        api_resp_free(&r);
        path = api_printf("/api/v1/chargers/search?lat=35.6812&lon=139.7671&radius_m=2000%s",
                          range);
        assert_int_equal(api_call(&d, "GET", path, tok, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 5);
        assert_string_equal(api_json_str(r.json, "items.0.host.display_name"),
                            "デモ充電ステーション");
        assert_true(api_json_int(r.json, "items.0.price", 0) > 0);
        api_resp_free(&r);
        assert_int_equal(api_call(&d, "GET", "/api/v1/me/driver", tok, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        assert_true(json_is_true(api_json_get(r.json, "can_book")));
        api_resp_free(&r);
        free(path);
        free(range);
        free(tok);
        assert_int_equal(api_server_stop(&d), 0);
}

/* ---- order and paging --------------------------------------------------------------- */

static void test_search_nearest_first_with_cursor(void **state)
{
        /* Around Sapporo: 3 chargers at about 100 m, 1 km and 3 km north. */
        double lat = 43.0621, lon = 141.3544;
        int64_t far = make_charger(&srv, host_token, lat + 0.027, lon, "");
        int64_t near = make_charger(&srv, host_token, lat + 0.0009, lon, "");
        int64_t mid = make_charger(&srv, host_token, lat + 0.009, lon, "");
        struct api_resp r = search_at(lat, lon, "&radius_m=5000&limit=2");
        char *q;

        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 2);
        assert_int_equal(api_json_int(r.json, "items.0.id", 0), near);
        assert_int_equal(api_json_int(r.json, "items.1.id", 0), mid);
        assert_true(api_json_int(r.json, "items.0.distance_m", 0) <
                    api_json_int(r.json, "items.1.distance_m", 0));
        assert_non_null(api_json_str(r.json, "next_cursor"));
        q = api_printf("&radius_m=5000&limit=2&cursor=%s", api_json_str(r.json, "next_cursor"));
        api_resp_free(&r);
        r = search_at(lat, lon, q);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 1);
        assert_int_equal(api_json_int(r.json, "items.0.id", 0), far);
        assert_true(json_is_null(api_json_get(r.json, "next_cursor")));
        api_resp_free(&r);
        free(q);
        /* The radius bounds the result. */
        r = search_at(lat, lon, "&radius_m=2000");
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 2);
        assert_false(has_id(api_json_get(r.json, "items"), far));
        api_resp_free(&r);
        /* Filters: connector, output, on-site. */
        r = search_at(lat, lon, "&radius_m=5000&connector=chademo");
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 0);
        api_resp_free(&r);
        r = search_at(lat, lon, "&radius_m=5000&min_kw=7");
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 0);
        api_resp_free(&r);
        r = search_at(lat, lon, "&radius_m=5000&min_kw=6&onsite=false&connector=type1");
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 3);
        api_resp_free(&r);
        r = search_at(lat, lon, "&radius_m=5000&onsite=true");
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 0);
        api_resp_free(&r);
}

/* ---- listed only --------------------------------------------------------------------- */

static void test_search_lists_only_bookable_chargers(void **state)
{
        /* Around Fukuoka. */
        double lat = 33.5902, lon = 130.4017;
        int64_t hid, listed, unattached, delisted;
        char *tok = make_host(&srv, "host2@search.test", "individual", &hid);
        char *path = api_printf("/api/v1/hosts/%lld/chargers", (long long)host_id);
        char *body = charger_body(lat + 0.001, lon, "");
        struct api_resp r;

        listed = make_charger(&srv, host_token, lat, lon, "");
        r = call("POST", path, host_token, body);        /* QR never attached */
        assert_int_equal(r.status, 201);
        unattached = api_json_int(r.json, "id", 0);
        api_resp_free(&r);
        free(path);
        delisted = make_charger(&srv, host_token, lat + 0.002, lon, "");
        path = api_printf("/api/v1/chargers/%lld/delisting", (long long)delisted);
        r = call("POST", path, op_token, "{\"reason\":\"obvious_error\",\"note\":\"x\"}");
        assert_true(r.status == 200 || r.status == 201);
        api_resp_free(&r);
        free(path);
        make_charger(&srv, tok, lat + 0.003, lon, "");
        /* The second host's contract ends: its charger disappears (CS-8). */
        path = api_printf("/api/v1/hosts/%lld/contract", (long long)hid);
        r = call("PUT", path, op_token, "{\"status\":\"ended\"}");
        assert_int_equal(r.status, 200);
        api_resp_free(&r);
        free(path);

        r = search_at(lat, lon, "&radius_m=3000");
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 1);
        assert_true(has_id(api_json_get(r.json, "items"), listed));
        assert_false(has_id(api_json_get(r.json, "items"), unattached));
        assert_false(has_id(api_json_get(r.json, "items"), delisted));
        api_resp_free(&r);
        free(body);
        free(tok);
}

/* ---- range, price, occupancy ------------------------------------------------------------- */

static void test_CS_24_search_free_for_range_with_price(void **state)
{
        /* Around Nagoya. */
        double lat = 35.1709, lon = 136.8815;
        int64_t a = make_charger(&srv, host_token, lat, lon, "");
        int64_t b = make_charger(&srv, host_token, lat + 0.001, lon, "");
        int64_t gap = make_charger(&srv, host_token, lat + 0.002, lon, "");
        char *rq = range_q(tokyo_at(1, 9, 0), tokyo_at(1, 11, 0)), *q;
        struct api_resp r;

        make_slot(&srv, host_token, a, tokyo_at(1, 8, 0), tokyo_at(1, 12, 0), 300);
        /* b: two adjacent slots at different prices: 1 h x 300 + 1 h x 451. */
        make_slot(&srv, host_token, b, tokyo_at(1, 9, 0), tokyo_at(1, 10, 0), 300);
        make_slot(&srv, host_token, b, tokyo_at(1, 10, 0), tokyo_at(1, 12, 0), 451);
        /* gap: 09:00-10:00 and 10:15-12:00. */
        make_slot(&srv, host_token, gap, tokyo_at(1, 9, 0), tokyo_at(1, 10, 0), 300);
        make_slot(&srv, host_token, gap, tokyo_at(1, 10, 15), tokyo_at(1, 12, 0), 300);

        q = api_printf("&radius_m=1000%s", rq);
        r = search_at(lat, lon, q);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 2);
        assert_int_equal(api_json_int(r.json, "items.0.id", 0), a);
        assert_int_equal(api_json_int(r.json, "items.0.price", -1), 600);
        assert_int_equal(api_json_int(r.json, "items.1.id", 0), b);
        assert_int_equal(api_json_int(r.json, "items.1.price", -1), 751);
        assert_false(has_id(api_json_get(r.json, "items"), gap));
        api_resp_free(&r);
        free(q);
        free(rq);
        /* 15 minutes at 451 yen/h: floor(112.75) = 112. */
        rq = range_q(tokyo_at(1, 11, 0), tokyo_at(1, 11, 15));
        q = api_printf("&radius_m=150%s", rq);
        r = search_at(lat + 0.001, lon, q);
        assert_true(has_id(api_json_get(r.json, "items"), b));
        assert_int_equal(api_json_int(r.json, "items.0.price", -1), 112);
        api_resp_free(&r);
        free(q);
        free(rq);
}

static void test_CS_25_occupancy_in_search(void **state)
{
        /* Around Sendai. */
        double lat = 38.2682, lon = 140.8694;
        int64_t vehicle = 0, user, a, b, c;
        char *drv, *rq, *q;
        struct api_resp r;
        long long now = (long long)time(NULL);

        if (!have_sqlite_cli()) {
                skip();
                return;
        }
        drv = make_driver(&srv, "driver25@search.test", &vehicle);
        user = me_id(&srv, drv);
        a = make_charger(&srv, host_token, lat, lon, "");
        b = make_charger(&srv, host_token, lat + 0.001, lon, "");
        c = make_charger(&srv, host_token, lat + 0.002, lon, "");
        add_reservation(&srv, a, user, vehicle, now - 600, now + 3000, "checked_in");
        add_reservation(&srv, b, user, vehicle, now - 600, now + 3000, "pending");
        add_reservation(&srv, c, user, vehicle, now - 6000, now - 3000, "completed");

        r = search_at(lat, lon, "&radius_m=1000");
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 3);
        assert_string_equal(api_json_str(r.json, "items.0.occupancy.state"), "in_use");
        assert_string_equal(api_json_str(r.json, "items.1.occupancy.state"), "reserved");
        assert_string_equal(api_json_str(r.json, "items.2.occupancy.state"), "available");
        api_resp_free(&r);

        /* A pending request blocks a free-range search (CS-14). */
        make_slot(&srv, host_token, c, tokyo_at(2, 9, 0), tokyo_at(2, 12, 0), 300);
        rq = range_q(tokyo_at(2, 10, 0), tokyo_at(2, 11, 0));
        q = api_printf("&radius_m=1000%s", rq);
        r = search_at(lat, lon, q);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 1);
        api_resp_free(&r);
        add_reservation(&srv, c, user, vehicle, tokyo_at(2, 10, 30), tokyo_at(2, 11, 30),
                        "pending");
        r = search_at(lat, lon, q);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 0);
        api_resp_free(&r);
        free(q);
        free(rq);
        free(drv);
}

/* ---- calendar ------------------------------------------------------------------------------ */

static void test_calendar_free_and_taken(void **state)
{
        double lat = 34.6937, lon = 135.5023;     /* Osaka */
        int64_t vehicle = 0, user = 0, ch = make_charger(&srv, host_token, lat, lon, "");
        char *path = api_printf("/api/v1/chargers/%lld/calendar?from=%s&to=%s", (long long)ch,
                                tokyo_date(1), tokyo_date(2));
        char *drv = NULL;
        struct api_resp r;
        bool sql = have_sqlite_cli();

        make_slot(&srv, host_token, ch, tokyo_at(1, 9, 0), tokyo_at(1, 12, 0), 300);
        make_slot(&srv, host_token, ch, tokyo_at(2, 9, 0), tokyo_at(2, 10, 0), 500);
        make_slot(&srv, host_token, ch, tokyo_at(5, 9, 0), tokyo_at(5, 10, 0), 500);  /* outside */
        if (sql) {
                drv = make_driver(&srv, "drivercal@search.test", &vehicle);
                user = me_id(&srv, drv);
                add_reservation(&srv, ch, user, vehicle, tokyo_at(1, 10, 0), tokyo_at(1, 11, 0),
                                "confirmed");
        }
        r = call("GET", path, member_tok, NULL);
        assert_int_equal(r.status, 200);
        assert_string_equal(api_json_str(r.json, "from"), tokyo_date(1));
        assert_string_equal(api_json_str(r.json, "occupancy.state"), "available");
        if (sql) {
                assert_int_equal(json_array_size(api_json_get(r.json, "ranges")), 4);
                assert_string_equal(api_json_str(r.json, "ranges.0.state"), "free");
                assert_string_equal(api_json_str(r.json, "ranges.0.ends_at"),
                                    rfc(tokyo_at(1, 10, 0)));
                assert_string_equal(api_json_str(r.json, "ranges.1.state"), "taken");
                assert_string_equal(api_json_str(r.json, "ranges.2.state"), "free");
                assert_int_equal(api_json_int(r.json, "ranges.3.hourly_price", 0), 500);
        } else {
                assert_int_equal(json_array_size(api_json_get(r.json, "ranges")), 2);
        }
        api_resp_free(&r);
        free(path);

        /* At most charging_search_max_range (7 days); to before from. */
        path = api_printf("/api/v1/chargers/%lld/calendar?from=%s&to=%s", (long long)ch,
                          tokyo_date(1), tokyo_date(8));
        r = call("GET", path, member_tok, NULL);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "to", "range_too_long"));
        api_resp_free(&r);
        free(path);
        path = api_printf("/api/v1/chargers/%lld/calendar?from=%s&to=%s", (long long)ch,
                          tokyo_date(3), tokyo_date(1));
        r = call("GET", path, member_tok, NULL);
        assert_true(has_field_error(&r, "to", "not_after_from"));
        api_resp_free(&r);
        free(path);
        path = api_printf("/api/v1/chargers/%lld/calendar?from=soon", (long long)ch);
        r = call("GET", path, member_tok, NULL);
        assert_true(has_field_error(&r, "from", "invalid"));
        api_resp_free(&r);
        free(path);
        free(drv);
}

static void test_calendar_of_unlisted_charger_is_hosts_only(void **state)
{
        char *path = api_printf("/api/v1/hosts/%lld/chargers", (long long)host_id);
        char *body = charger_body(34.70, 135.50, "");
        struct api_resp r = call("POST", path, host_token, body);
        int64_t ch = api_json_int(r.json, "id", 0);

        api_resp_free(&r);
        free(path);
        free(body);
        path = api_printf("/api/v1/chargers/%lld/calendar", (long long)ch);
        r = call("GET", path, member_tok, NULL);
        assert_problem(&r, 404, "charger_not_found");
        api_resp_free(&r);
        r = call("GET", path, host_token, NULL);
        assert_int_equal(r.status, 200);
        assert_string_equal(api_json_str(r.json, "occupancy.state"), "out_of_service");
        api_resp_free(&r);
        r = call("GET", path, op_token, NULL);
        assert_int_equal(r.status, 200);
        api_resp_free(&r);
        free(path);
        r = call("GET", "/api/v1/chargers/999999/calendar", member_tok, NULL);
        assert_problem(&r, 404, "charger_not_found");
        api_resp_free(&r);
}

/* ---- bad input --------------------------------------------------------------------------------- */

static void expect_422(const char *query, const char *field, const char *code)
{
        struct api_resp r = search(query);

        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, field, code));
        api_resp_free(&r);
}

static void test_search_bad_input(void **state)
{
        char *q, *rq;

        expect_422("lon=139.7", "lat", "required");
        expect_422("lat=35.6", "lon", "required");
        expect_422("lat=abc&lon=139.7", "lat", "invalid");
        expect_422("lat=95&lon=139.7", "lat", "out_of_range");
        expect_422("lat=35&lon=200", "lon", "out_of_range");
        expect_422("lat=0&lon=0", "lat", "outside_service_area");
        expect_422("lat=nan&lon=139.7", "lat", "invalid");
        expect_422("lat=35.6&lon=139.7&radius_m=50001", "radius_m", "radius_too_large");
        expect_422("lat=35.6&lon=139.7&radius_m=0", "radius_m", "invalid");
        expect_422("lat=35.6&lon=139.7&limit=0", "limit", "out_of_range");
        expect_422("lat=35.6&lon=139.7&limit=101", "limit", "out_of_range");
        expect_422("lat=35.6&lon=139.7&cursor=zz", "cursor", "invalid");
        expect_422("lat=35.6&lon=139.7&onsite=maybe", "onsite", "invalid");
        expect_422("lat=35.6&lon=139.7&min_kw=-1", "min_kw", "out_of_range");
        expect_422("lat=35.6&lon=139.7&from=2026-01-01T00:00:00Z", "to", "required");
        expect_422("lat=35.6&lon=139.7&from=tomorrow&to=later", "from", "invalid");
        rq = range_q(tokyo_at(1, 9, 0), tokyo_at(9, 9, 0));
        q = api_printf("lat=35.6&lon=139.7%s", rq);
        expect_422(q, "to", "range_too_long");
        free(q);
        free(rq);
        rq = range_q(tokyo_at(1, 9, 0), tokyo_at(1, 9, 0));
        q = api_printf("lat=35.6&lon=139.7%s", rq);
        expect_422(q, "to", "not_after_from");
        free(q);
        free(rq);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_CS_40_search_shows_public_listing_only),
                cmocka_unit_test(test_CS_40_search_shows_listing_changes_at_once),
                cmocka_unit_test(test_demo_data_has_bookable_chargers),
                cmocka_unit_test(test_search_nearest_first_with_cursor),
                cmocka_unit_test(test_search_lists_only_bookable_chargers),
                cmocka_unit_test(test_CS_24_search_free_for_range_with_price),
                cmocka_unit_test(test_CS_25_occupancy_in_search),
                cmocka_unit_test(test_calendar_free_and_taken),
                cmocka_unit_test(test_calendar_of_unlisted_charger_is_hosts_only),
                cmocka_unit_test(test_search_bad_input),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
