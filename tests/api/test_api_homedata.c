/*
 * test_api_homedata.c - a home's settings backup (HE-8) and device
 * history (HE-9) over HTTP: versions and their differences, restore to a
 * replacement gateway of the same owner (and only that), history queries
 * with every filter and paging, the operator's error statistics by model
 * and firmware, and bad input at each endpoint.
 *
 * Every test makes its own members and gateways; the statistics test uses
 * models no other test uses, so the counts are exact.
 */
#include <setjmp.h>
#include <stdarg.h>
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

static struct api_server srv;
static int seq;

/* ---- plumbing ------------------------------------------------------------------ */

static struct api_resp callf(const char *method, const char *token, const char *body,
                             const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static struct api_resp callf(const char *method, const char *token, const char *body,
                             const char *fmt, ...)
{
        struct api_resp r = { 0 };
        char path[512];
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

/* A new member (unique email); returns the token. */
static char *new_member(const char *who)
{
        char *email = api_printf("%s-%d@homedata.test", who, ++seq);
        char *token = member_token(&srv, email);

        free(email);
        return token;
}

/* n copies of ch (caller frees). */
static char *repeat(char ch, size_t n)
{
        char *s = malloc(n + 1);

        assert_non_null(s);
        memset(s, ch, n);
        s[n] = '\0';
        return s;
}

/* RFC 3339 (UTC) of a unix time, in a rotating static buffer. */
static const char *utc(long long t)
{
        static char buf[8][32];
        static int k;
        time_t tt = (time_t)t;
        struct tm tm;
        char *b = buf[k++ % 8];

        gmtime_r(&tt, &tm);
        strftime(b, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
        return b;
}

/* The server's form of a time: RFC 3339 with the Tokyo offset. */
static const char *tokyo(long long t)
{
        static char buf[4][40];
        static int k;
        time_t tt = (time_t)(t + 9 * 3600);
        struct tm tm;
        char *b = buf[k++ % 4];

        gmtime_r(&tt, &tm);
        strftime(b, 40, "%Y-%m-%dT%H:%M:%S+09:00", &tm);
        return b;
}

/* The settings document of the tests; price is the night band's price. */
static char *settings_doc(double price, const char *extra_room)
{
        return api_printf(
                "{\"circuits\":[{\"channel\":\"c1\",\"name\":\"Kitchen\"},"
                "{\"channel\":\"c2\",\"name\":\"エアコン（居間）\"}],"
                "\"devices\":[{\"id\":\"ac1\",\"name\":\"Living aircon\"}],"
                "\"rooms\":[{\"name\":\"Living\"}%s%s%s],"
                "\"tariff\":{\"plan\":\"TOU-2\",\"currency\":\"JPY\","
                "\"basic_charge_per_month\":1210,"
                "\"bands\":[{\"name\":\"night\",\"from\":\"23:00\",\"to\":\"07:00\","
                "\"price_per_kwh\":%g},"
                "{\"name\":\"day\",\"from\":\"07:00\",\"to\":\"23:00\",\"price_per_kwh\":35}],"
                "\"sell_price_per_kwh\":16},"
                "\"co2_kg_per_kwh\":0.441}",
                extra_room ? ",{\"name\":\"" : "", extra_room ? extra_room : "",
                extra_room ? "\"}" : "", price);
}

/* PUT /gateway/settings; returns the version. */
static int64_t put_settings(const struct energy_gateway *g, const char *doc)
{
        struct api_resp r = energy_gateway_call(&srv, g, "PUT", "/api/v1/gateway/settings", doc,
                                                201);
        int64_t v = api_json_int(r.json, "version", 0);

        assert_true(v > 0);
        assert_non_null(api_json_str(r.json, "created_at"));
        api_resp_free(&r);
        return v;
}

/* Asserts that the JSON text doc equals the JSON value got. */
static void assert_doc(json_t *got, const char *doc)
{
        json_t *want = json_loads(doc, 0, NULL);

        assert_non_null(want);
        assert_non_null(got);
        if (!json_equal(want, got)) {
                char *s = json_dumps(got, JSON_COMPACT);

                fprintf(stderr, "document differs:\n want %s\n got  %s\n", doc, s);
                free(s);
        }
        assert_true(json_equal(want, got));
        json_decref(want);
}

/* True when changes[] has an entry with this op and path. */
static json_t *find_change(json_t *changes, const char *op, const char *path)
{
        json_t *ch;
        size_t i;

        json_array_foreach(changes, i, ch) {
                const char *o = json_string_value(json_object_get(ch, "op"));
                const char *p = json_string_value(json_object_get(ch, "path"));

                if (o && p && strcmp(o, op) == 0 && strcmp(p, path) == 0)
                        return ch;
        }
        return NULL;
}

/* ---- setup ------------------------------------------------------------------------- */

static const char *const server_args[] = { "--no-log-requests", NULL };

static int setup(void **state)
{
        if (sodium_init() < 0)
                return -1;
        return api_server_start(&srv, server_args) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
        return api_server_stop(&srv) == 0 ? 0 : -1;
}

/* ---- HE-8 settings ------------------------------------------------------------------- */

static void test_HE_8_settings_versions_and_diff(void **state)
{
        char *owner = new_member("owner"), *other = new_member("other");
        char *d1 = settings_doc(28.5, NULL), *d2 = settings_doc(30, "Bedroom");
        struct energy_gateway g;
        struct api_resp r;
        json_t *changes, *ch;

        energy_gateway_in_home(&srv, "HD-V1", "1.0.0", owner, &g);

        r = energy_gateway_call(&srv, &g, "GET", "/api/v1/gateway/settings", NULL, 404);
        assert_problem(&r, 404, "no_settings");
        api_resp_free(&r);

        assert_int_equal(put_settings(&g, d1), 1);
        assert_int_equal(put_settings(&g, d2), 2);
        /* the same document again (members in the same order): nothing new */
        r = energy_gateway_call(&srv, &g, "PUT", "/api/v1/gateway/settings", d2, 200);
        assert_int_equal(api_json_int(r.json, "version", 0), 2);
        assert_true(json_is_true(api_json_get(r.json, "unchanged")));
        api_resp_free(&r);

        /* the gateway reads back its newest version */
        r = energy_gateway_call(&srv, &g, "GET", "/api/v1/gateway/settings", NULL, 200);
        assert_int_equal(api_json_int(r.json, "version", 0), 2);
        assert_string_equal(api_json_str(r.json, "source"), "gateway");
        assert_non_null(api_json_str(r.json, "created_at"));
        assert_doc(api_json_get(r.json, "document"), d2);
        api_resp_free(&r);

        /* the owner lists the versions, newest first, and reads one */
        r = callf("GET", owner, NULL, "/api/v1/homes/%lld/settings", (long long)g.home_id);
        expect(&r, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 2);
        assert_int_equal(api_json_int(r.json, "items.0.version", 0), 2);
        assert_int_equal(api_json_int(r.json, "items.1.version", 0), 1);
        assert_string_equal(api_json_str(r.json, "items.1.source"), "gateway");
        assert_null(api_json_get(r.json, "items.0.document"));
        api_resp_free(&r);

        r = callf("GET", owner, NULL, "/api/v1/homes/%lld/settings/1", (long long)g.home_id);
        expect(&r, 200);
        assert_int_equal(api_json_int(r.json, "version", 0), 1);
        assert_doc(api_json_get(r.json, "document"), d1);
        api_resp_free(&r);

        r = callf("GET", owner, NULL, "/api/v1/homes/%lld/settings/3", (long long)g.home_id);
        assert_problem(&r, 404, "settings_version_not_found");
        api_resp_free(&r);

        /* the difference 1 -> 2: a price replaced and a room added */
        r = callf("GET", owner, NULL, "/api/v1/homes/%lld/settings/diff?from=1&to=2",
                  (long long)g.home_id);
        expect(&r, 200);
        changes = api_json_get(r.json, "changes");
        assert_non_null(changes);
        ch = find_change(changes, "replace", "/tariff/bands/0/price_per_kwh");
        assert_non_null(ch);
        assert_true(json_number_value(json_object_get(ch, "from")) == 28.5);
        assert_true(json_number_value(json_object_get(ch, "to")) == 30);
        assert_non_null(find_change(changes, "add", "/rooms/1"));
        assert_int_equal(json_array_size(changes), 2);
        api_resp_free(&r);

        /* the same version against itself: no changes */
        r = callf("GET", owner, NULL, "/api/v1/homes/%lld/settings/diff?from=2&to=2",
                  (long long)g.home_id);
        expect(&r, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "changes")), 0);
        api_resp_free(&r);

        r = callf("GET", owner, NULL, "/api/v1/homes/%lld/settings/diff?from=1",
                  (long long)g.home_id);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "to", "required"));
        api_resp_free(&r);
        r = callf("GET", owner, NULL, "/api/v1/homes/%lld/settings/diff?from=1&to=7",
                  (long long)g.home_id);
        assert_problem(&r, 404, "settings_version_not_found");
        api_resp_free(&r);

        /* someone else's home: nothing to see */
        r = callf("GET", other, NULL, "/api/v1/homes/%lld/settings", (long long)g.home_id);
        expect(&r, 404);
        api_resp_free(&r);
        r = callf("GET", other, NULL, "/api/v1/homes/%lld/settings/1", (long long)g.home_id);
        expect(&r, 404);
        api_resp_free(&r);

        free(d1);
        free(d2);
        free(owner);
        free(other);
}

static void test_HE_8_only_the_newest_versions_are_kept(void **state)
{
        char *owner = new_member("keeper");
        struct energy_gateway g;
        struct api_resp r;
        const int n = 102;              /* HOMEDATA_VERSIONS_KEPT + 2 */

        energy_gateway_in_home(&srv, "HD-V1", "1.0.0", owner, &g);
        for (int i = 1; i <= n; i++) {
                char *doc = api_printf("{\"rooms\":[{\"name\":\"Room %d\"}]}", i);

                assert_int_equal(put_settings(&g, doc), i);
                free(doc);
        }
        r = callf("GET", owner, NULL, "/api/v1/homes/%lld/settings", (long long)g.home_id);
        expect(&r, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 100);
        assert_int_equal(api_json_int(r.json, "items.0.version", 0), n);
        assert_int_equal(api_json_int(r.json, "items.99.version", 0), 3);
        api_resp_free(&r);
        r = callf("GET", owner, NULL, "/api/v1/homes/%lld/settings/2", (long long)g.home_id);
        assert_problem(&r, 404, "settings_version_not_found");
        api_resp_free(&r);
        r = callf("GET", owner, NULL, "/api/v1/homes/%lld/settings/3", (long long)g.home_id);
        expect(&r, 200);
        assert_string_equal(api_json_str(r.json, "document.rooms.0.name"), "Room 3");
        api_resp_free(&r);

        /* a long difference is cut at 1000 changes and says so */
        {
                size_t len = 0, cap = 1001 * 16 + 32;
                char *doc = malloc(cap);

                assert_non_null(doc);
                len += (size_t)snprintf(doc, cap, "{\"rooms\":[");
                for (int i = 0; i < 1001; i++)
                        len += (size_t)snprintf(doc + len, cap - len, "%s{\"name\":\"r\"}",
                                                i ? "," : "");
                snprintf(doc + len, cap - len, "]}");
                assert_int_equal(put_settings(&g, doc), n + 1);
                free(doc);
        }
        r = callf("GET", owner, NULL, "/api/v1/homes/%lld/settings/diff?from=%d&to=%d",
                  (long long)g.home_id, n, n + 1);
        expect(&r, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "changes")), 1000);
        assert_true(json_is_true(api_json_get(r.json, "truncated")));
        assert_string_equal(api_json_str(r.json, "changes.0.path"), "/rooms/0/name");
        api_resp_free(&r);

        /* paging */
        r = callf("GET", owner, NULL, "/api/v1/homes/%lld/settings?limit=2&before=50",
                  (long long)g.home_id);
        expect(&r, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 2);
        assert_int_equal(api_json_int(r.json, "items.0.version", 0), 49);
        assert_int_equal(api_json_int(r.json, "next_before", 0), 48);
        api_resp_free(&r);
        r = callf("GET", owner, NULL, "/api/v1/homes/%lld/settings?limit=101",
                  (long long)g.home_id);
        assert_problem(&r, 422, "validation_failed");
        api_resp_free(&r);
        free(owner);
}

static void test_HE_8_restore_to_replacement_gateway_same_owner(void **state)
{
        char *owner = new_member("replacer");
        char *d1 = settings_doc(27, "Study"), *d2 = settings_doc(29, NULL);
        char *body;
        struct energy_gateway old_gw, new_gw;
        struct api_resp r;

        energy_gateway_in_home(&srv, "HD-R1", "2.0.0", owner, &old_gw);
        assert_int_equal(put_settings(&old_gw, d1), 1);
        assert_int_equal(put_settings(&old_gw, d2), 2);
        /* the old gateway breaks down: deregistered, its data kept */
        energy_gateway_deregister(&srv, &old_gw, "keep");

        energy_gateway_in_home(&srv, "HD-R1", "2.1.0", owner, &new_gw);
        assert_true(new_gw.home_id != old_gw.home_id);
        r = energy_gateway_call(&srv, &new_gw, "GET", "/api/v1/gateway/settings", NULL, 404);
        assert_problem(&r, 404, "no_settings");
        api_resp_free(&r);

        /* the owner restores version 1 of the old home to the new one */
        body = api_printf("{\"from_home\":%lld,\"version\":1}", (long long)old_gw.home_id);
        r = callf("POST", owner, body, "/api/v1/homes/%lld/settings/restore",
                  (long long)new_gw.home_id);
        expect(&r, 201);
        assert_int_equal(api_json_int(r.json, "version", 0), 1);
        assert_string_equal(api_json_str(r.json, "source"), "restore");
        api_resp_free(&r);
        free(body);

        /* the replacement gateway gets exactly that document */
        r = energy_gateway_call(&srv, &new_gw, "GET", "/api/v1/gateway/settings", NULL, 200);
        assert_int_equal(api_json_int(r.json, "version", 0), 1);
        assert_string_equal(api_json_str(r.json, "source"), "restore");
        assert_int_equal(api_json_int(r.json, "restored_from.home_id", 0), old_gw.home_id);
        assert_int_equal(api_json_int(r.json, "restored_from.version", 0), 1);
        assert_doc(api_json_get(r.json, "document"), d1);
        api_resp_free(&r);

        /* the new gateway then uploads its own: the next version */
        assert_int_equal(put_settings(&new_gw, d2), 2);
        r = callf("GET", owner, NULL, "/api/v1/homes/%lld/settings", (long long)new_gw.home_id);
        expect(&r, 200);
        assert_string_equal(api_json_str(r.json, "items.0.source"), "gateway");
        assert_string_equal(api_json_str(r.json, "items.1.source"), "restore");
        api_resp_free(&r);

        /* the old home's versions are still there and unchanged */
        r = callf("GET", owner, NULL, "/api/v1/homes/%lld/settings", (long long)old_gw.home_id);
        expect(&r, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 2);
        api_resp_free(&r);

        /* a version that does not exist; a home that ended is no target */
        body = api_printf("{\"from_home\":%lld,\"version\":9}", (long long)old_gw.home_id);
        r = callf("POST", owner, body, "/api/v1/homes/%lld/settings/restore",
                  (long long)new_gw.home_id);
        assert_problem(&r, 404, "settings_version_not_found");
        api_resp_free(&r);
        free(body);
        body = api_printf("{\"from_home\":%lld,\"version\":1}", (long long)new_gw.home_id);
        r = callf("POST", owner, body, "/api/v1/homes/%lld/settings/restore",
                  (long long)old_gw.home_id);
        assert_problem(&r, 409, "home_not_active");
        api_resp_free(&r);
        free(body);

        /* a home whose data was deleted at hand-over has nothing to restore */
        {
                struct energy_gateway gone;

                energy_gateway_in_home(&srv, "HD-R1", "2.0.0", owner, &gone);
                assert_int_equal(put_settings(&gone, d2), 1);
                energy_gateway_deregister(&srv, &gone, "delete");
                body = api_printf("{\"from_home\":%lld,\"version\":1}",
                                  (long long)gone.home_id);
                r = callf("POST", owner, body, "/api/v1/homes/%lld/settings/restore",
                          (long long)new_gw.home_id);
                expect(&r, 404);
                api_resp_free(&r);
                free(body);
        }

        /* bad bodies */
        r = callf("POST", owner, "{\"from_home\":1,\"version\":1,\"force\":true}",
                  "/api/v1/homes/%lld/settings/restore", (long long)new_gw.home_id);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "force", "unknown_field"));
        api_resp_free(&r);
        r = callf("POST", owner, "{\"from_home\":0}", "/api/v1/homes/%lld/settings/restore",
                  (long long)new_gw.home_id);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "from_home", "out_of_range"));
        assert_true(has_field_error(&r, "version", "required"));
        api_resp_free(&r);

        free(d1);
        free(d2);
        free(owner);
}

static void test_HE_8_restore_refused_for_other_owner(void **state)
{
        char *a = new_member("owner-a"), *b = new_member("owner-b");
        char *doc = settings_doc(31, NULL), *body;
        struct energy_gateway ga, gb;
        struct api_resp r;

        energy_gateway_in_home(&srv, "HD-R2", "1.0", a, &ga);
        energy_gateway_in_home(&srv, "HD-R2", "1.0", b, &gb);
        assert_int_equal(put_settings(&ga, doc), 1);

        /* B may not take A's settings into B's home */
        body = api_printf("{\"from_home\":%lld,\"version\":1}", (long long)ga.home_id);
        r = callf("POST", b, body, "/api/v1/homes/%lld/settings/restore", (long long)gb.home_id);
        assert_problem(&r, 404, "home_not_found");
        api_resp_free(&r);
        /* A may not push them into B's home */
        r = callf("POST", a, body, "/api/v1/homes/%lld/settings/restore", (long long)gb.home_id);
        expect(&r, 404);
        api_resp_free(&r);
        /* nor may the operator */
        r = callf("POST", fixture_operator(&srv), body, "/api/v1/homes/%lld/settings/restore",
                  (long long)gb.home_id);
        assert_true(r.status == 403 || r.status == 404);
        api_resp_free(&r);

        /* membership is not ownership: A joins B's home, B joins A's */
        energy_home_add_member(&srv, gb.home_id, b, a);
        energy_home_add_member(&srv, ga.home_id, a, b);
        r = callf("POST", a, body, "/api/v1/homes/%lld/settings/restore", (long long)gb.home_id);
        assert_problem(&r, 403, "not_owner");
        api_resp_free(&r);
        r = callf("POST", b, body, "/api/v1/homes/%lld/settings/restore", (long long)gb.home_id);
        assert_problem(&r, 403, "not_owner");
        api_resp_free(&r);
        free(body);

        /* B's gateway got nothing; B (a member of A's home now) may read A's */
        r = energy_gateway_call(&srv, &gb, "GET", "/api/v1/gateway/settings", NULL, 404);
        assert_problem(&r, 404, "no_settings");
        api_resp_free(&r);
        r = callf("GET", b, NULL, "/api/v1/homes/%lld/settings/1", (long long)ga.home_id);
        expect(&r, 200);
        api_resp_free(&r);

        free(doc);
        free(a);
        free(b);
}

static void test_HE_8_bad_settings_documents(void **state)
{
        char *owner = new_member("bad-settings");
        struct energy_gateway g, unregistered;
        struct api_resp r;
        const char *ct_text[] = { NULL, "Content-Type: text/plain", NULL };
        char *big, *body, *a65;
        size_t n;

        energy_gateway_in_home(&srv, "HD-B1", "1.0", owner, &g);

        r = energy_gateway_raw(&srv, &g, "PUT", "/api/v1/gateway/settings", "[1,2]");
        assert_problem(&r, 400, "invalid_body");
        api_resp_free(&r);
        r = energy_gateway_raw(&srv, &g, "PUT", "/api/v1/gateway/settings", "{\"rooms\":");
        assert_problem(&r, 400, "malformed_json");
        api_resp_free(&r);
        r = energy_gateway_raw(&srv, &g, "PUT", "/api/v1/gateway/settings", "{\"a\":1,\"a\":2}");
        assert_problem(&r, 400, "malformed_json");
        api_resp_free(&r);
        ct_text[0] = g.auth;
        assert_int_equal(api_call_raw(&srv, "PUT", "/api/v1/gateway/settings", ct_text, "{}", 2,
                                      &r), 0);
        assert_problem(&r, 415, "unsupported_media_type");
        api_resp_free(&r);

        /* names: arrays of objects with names of at most 64 characters */
        a65 = repeat('a', 65);
        body = api_printf("{\"rooms\":{\"name\":\"x\"},"
                          "\"circuits\":[{\"name\":\"ok\"},7,{\"channel\":\"c3\"},"
                          "{\"name\":\"%s\"}],"
                          "\"devices\":[{\"name\":\"a\\u0001b\"},{\"name\":12}]}", a65);
        r = energy_gateway_raw(&srv, &g, "PUT", "/api/v1/gateway/settings", body);
        free(body);
        free(a65);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "rooms", "type"));
        assert_true(has_field_error(&r, "circuits.1", "type"));
        assert_true(has_field_error(&r, "circuits.2.name", "required"));
        assert_true(has_field_error(&r, "circuits.3.name", "too_long"));
        assert_true(has_field_error(&r, "devices.0.name", "invalid"));
        assert_true(has_field_error(&r, "devices.1.name", "type"));
        api_resp_free(&r);
        /* 64 characters of three UTF-8 bytes each are fine */
        body = api_printf("{\"rooms\":[{\"name\":\"%s\"}]}",
                          "部屋部屋部屋部屋部屋部屋部屋部屋部屋部屋部屋部屋部屋部屋部屋部屋"
                          "部屋部屋部屋部屋部屋部屋部屋部屋部屋部屋部屋部屋部屋部屋部屋部屋");
        assert_int_equal(put_settings(&g, body), 1);
        free(body);

        /* a bad tariff: 422 with the pointer into the document */
        r = energy_gateway_raw(&srv, &g, "PUT", "/api/v1/gateway/settings",
                               "{\"tariff\":{\"plan\":\"X\",\"bands\":[{\"name\":\"all\","
                               "\"from\":\"25:00\",\"to\":\"07:00\",\"price_per_kwh\":30}]}}");
        assert_problem(&r, 422, "validation_failed");
        assert_string_equal(api_json_str(r.json, "errors.0.code"), "invalid_tariff");
        assert_non_null(api_json_str(r.json, "errors.0.pointer"));
        assert_memory_equal(api_json_str(r.json, "errors.0.pointer"), "/tariff", 7);
        api_resp_free(&r);
        r = energy_gateway_raw(&srv, &g, "PUT", "/api/v1/gateway/settings",
                               "{\"tariff\":{\"plan\":\"X\",\"bands\":[{\"name\":\"day\","
                               "\"from\":\"07:00\",\"to\":\"23:00\",\"price_per_kwh\":-5},"
                               "{\"name\":\"night\",\"from\":\"23:00\",\"to\":\"07:00\","
                               "\"price_per_kwh\":20}]}}");
        assert_problem(&r, 422, "validation_failed");
        assert_string_equal(api_json_str(r.json, "errors.0.code"), "invalid_tariff");
        api_resp_free(&r);

        /* nesting deeper than 32 levels */
        {
                char *open = repeat('[', 32), *close = repeat(']', 32);

                body = api_printf("{\"x\":%s%s}", open, close);
                r = energy_gateway_raw(&srv, &g, "PUT", "/api/v1/gateway/settings", body);
                assert_problem(&r, 422, "settings_too_deep");
                api_resp_free(&r);
                free(body);
                free(open);
                free(close);
        }

        /* more than 256 KiB */
        n = 256 * 1024 + 1;
        big = malloc(n + 1);
        assert_non_null(big);
        memset(big, ' ', n);
        memcpy(big, "{\"rooms\":[]}", 12);
        big[n] = '\0';
        r = energy_gateway_raw(&srv, &g, "PUT", "/api/v1/gateway/settings", big);
        assert_problem(&r, 413, "settings_too_large");
        api_resp_free(&r);
        free(big);

        /* nothing of the above was stored */
        r = energy_gateway_call(&srv, &g, "GET", "/api/v1/gateway/settings", NULL, 200);
        assert_int_equal(api_json_int(r.json, "version", 0), 1);
        api_resp_free(&r);

        /* gateway credentials and states */
        r = callf("PUT", NULL, "{}", "/api/v1/gateway/settings");
        assert_problem(&r, 401, "gateway_auth_failed");
        api_resp_free(&r);
        energy_gateway_provision(&srv, "HD-B1", "1.0", &unregistered);
        r = energy_gateway_raw(&srv, &unregistered, "PUT", "/api/v1/gateway/settings", "{}");
        assert_problem(&r, 409, "not_registered");
        api_resp_free(&r);
        snprintf(unregistered.auth, sizeof(unregistered.auth),
                 "Authorization: Basic %s", "R1ctMDAwMDp3cm9uZw==");
        r = energy_gateway_raw(&srv, &unregistered, "GET", "/api/v1/gateway/settings", NULL);
        assert_problem(&r, 401, "gateway_auth_failed");
        api_resp_free(&r);
        energy_gateway_deregister(&srv, &g, "keep");
        r = energy_gateway_raw(&srv, &g, "PUT", "/api/v1/gateway/settings", "{}");
        assert_problem(&r, 410, "gateway_deregistered");
        api_resp_free(&r);
        free(owner);
}

/* ---- HE-9 history ----------------------------------------------------------------------- */

/* Posts events (a JSON array text) as the gateway; asserts 201 and the count. */
static void post_events(const struct energy_gateway *g, const char *events, long n)
{
        char *body = api_printf("{\"events\":%s}", events);
        struct api_resp r = energy_gateway_call(&srv, g, "POST", "/api/v1/gateway/history",
                                                body, 201);

        assert_int_equal(api_json_int(r.json, "accepted", -1), n);
        api_resp_free(&r);
        free(body);
}

/* GET history of the home with a query; returns the answer (200 asserted). */
static struct api_resp history(const char *token, int64_t home, const char *query)
{
        struct api_resp r = callf("GET", token, NULL, "/api/v1/homes/%lld/history%s",
                                  (long long)home, query);

        expect(&r, 200);
        return r;
}

/* The codes of items[], joined by ',' (static buffer). */
static const char *codes_of(json_t *j)
{
        static char out[512];
        json_t *items = api_json_get(j, "items"), *it;
        size_t i, len = 0;

        out[0] = '\0';
        json_array_foreach(items, i, it)
                len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s", i ? "," : "",
                                        json_string_value(json_object_get(it, "code")));
        return out;
}

static void test_HE_9_history_query_filters(void **state)
{
        char *owner = new_member("hist"), *other = new_member("hist-other");
        long long t0 = (long long)time(NULL) - 10 * 3600;
        struct energy_gateway g;
        struct api_resp r;
        char *events, *q;
        int64_t after;

        energy_gateway_in_home(&srv, "HD-H1", "3.0", owner, &g);
        /* sent out of time order, in two batches */
        events = api_printf(
                "[{\"time\":\"%s\",\"kind\":\"operation\",\"device\":\"aircon\",\"code\":\"on\"},"
                "{\"time\":\"%s\",\"kind\":\"error\",\"device\":\"aircon\",\"code\":\"E-101\","
                "\"detail\":\"filter clogged\"},"
                "{\"time\":\"%s\",\"kind\":\"saving\",\"device\":\"water heater\","
                "\"code\":\"peak_shift\"}]",
                utc(t0 + 3600), utc(t0 + 2 * 3600), utc(t0));
        post_events(&g, events, 3);
        free(events);
        events = api_printf(
                "[{\"time\":\"%s\",\"kind\":\"error\",\"device\":\"battery\",\"code\":\"B7\"},"
                "{\"time\":\"%s\",\"kind\":\"error\",\"device\":\"aircon\",\"code\":\"E-101\"},"
                "{\"time\":\"%s\",\"kind\":\"operation\",\"device\":\"aircon\",\"code\":\"off\"}]",
                utc(t0 + 3 * 3600), utc(t0 + 4 * 3600), utc(t0 + 5 * 3600));
        post_events(&g, events, 3);
        free(events);

        /* everything, in time order */
        r = history(owner, g.home_id, "");
        assert_string_equal(codes_of(r.json), "peak_shift,on,E-101,B7,E-101,off");
        assert_string_equal(api_json_str(r.json, "items.2.kind"), "error");
        assert_string_equal(api_json_str(r.json, "items.2.device"), "aircon");
        assert_string_equal(api_json_str(r.json, "items.2.detail"), "filter clogged");
        assert_null(api_json_str(r.json, "items.0.detail"));
        assert_non_null(api_json_str(r.json, "items.0.time"));
        assert_non_null(api_json_str(r.json, "items.0.received_at"));
        assert_true(json_is_null(api_json_get(r.json, "next_after")));
        api_resp_free(&r);

        r = history(owner, g.home_id, "?kind=error");
        assert_string_equal(codes_of(r.json), "E-101,B7,E-101");
        api_resp_free(&r);
        r = history(owner, g.home_id, "?device=aircon");
        assert_string_equal(codes_of(r.json), "on,E-101,E-101,off");
        api_resp_free(&r);
        r = history(owner, g.home_id, "?device=water%20heater");
        assert_string_equal(codes_of(r.json), "peak_shift");
        api_resp_free(&r);
        r = history(owner, g.home_id, "?kind=error&code=E-101&device=aircon");
        assert_string_equal(codes_of(r.json), "E-101,E-101");
        api_resp_free(&r);
        /* from inclusive, to exclusive */
        q = api_printf("?from=%s&to=%s", utc(t0 + 3600), utc(t0 + 4 * 3600));
        r = history(owner, g.home_id, q);
        assert_string_equal(codes_of(r.json), "on,E-101,B7");
        api_resp_free(&r);
        free(q);
        q = api_printf("?kind=operation&from=%s", utc(t0 + 2 * 3600));
        r = history(owner, g.home_id, q);
        assert_string_equal(codes_of(r.json), "off");
        api_resp_free(&r);
        free(q);

        /* paging: limit and after */
        r = history(owner, g.home_id, "?limit=4");
        assert_string_equal(codes_of(r.json), "peak_shift,on,E-101,B7");
        after = api_json_int(r.json, "next_after", 0);
        assert_int_equal(after, api_json_int(r.json, "items.3.id", -1));
        api_resp_free(&r);
        q = api_printf("?limit=4&after=%lld", (long long)after);
        r = history(owner, g.home_id, q);
        assert_string_equal(codes_of(r.json), "E-101,off");
        assert_true(json_is_null(api_json_get(r.json, "next_after")));
        api_resp_free(&r);
        free(q);
        q = api_printf("?kind=error&limit=1&after=%lld", (long long)after);
        r = history(owner, g.home_id, q);
        assert_string_equal(codes_of(r.json), "E-101");
        api_resp_free(&r);
        free(q);

        /* the operator reads it too (after-service); strangers do not */
        r = history(fixture_operator(&srv), g.home_id, "?kind=error");
        assert_string_equal(codes_of(r.json), "E-101,B7,E-101");
        api_resp_free(&r);
        r = callf("GET", other, NULL, "/api/v1/homes/%lld/history", (long long)g.home_id);
        expect(&r, 404);
        api_resp_free(&r);

        /* bad queries */
        r = callf("GET", owner, NULL, "/api/v1/homes/%lld/history?kind=warning&limit=0"
                  "&from=yesterday", (long long)g.home_id);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "kind", "invalid"));
        assert_true(has_field_error(&r, "limit", "invalid"));
        assert_true(has_field_error(&r, "from", "invalid"));
        api_resp_free(&r);
        q = api_printf("/api/v1/homes/%lld/history?from=%s&to=%s", (long long)g.home_id,
                       utc(t0), utc(t0));
        r = callf("GET", owner, NULL, "%s", q);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "to", "invalid"));
        api_resp_free(&r);
        free(q);
        r = callf("GET", owner, NULL, "/api/v1/homes/%lld/history?limit=1001",
                  (long long)g.home_id);
        assert_problem(&r, 422, "validation_failed");
        api_resp_free(&r);
        r = callf("GET", owner, NULL, "/api/v1/homes/%lld/history?after=999999999",
                  (long long)g.home_id);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "after", "invalid"));
        api_resp_free(&r);

        free(owner);
        free(other);
}

static void test_HE_9_bad_history_uploads(void **state)
{
        char *owner = new_member("hist-bad");
        long long now = (long long)time(NULL);
        struct energy_gateway g;
        struct api_resp r;
        char *body, *many, *a65, *a33;
        size_t len = 0, cap = 1001 * 120;

        energy_gateway_in_home(&srv, "HD-H2", "1.0", owner, &g);

        r = energy_gateway_raw(&srv, &g, "POST", "/api/v1/gateway/history", "{\"events\":[]}");
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "events", "too_few"));
        api_resp_free(&r);
        r = energy_gateway_raw(&srv, &g, "POST", "/api/v1/gateway/history", "{\"event\":[]}");
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "event", "unknown_field"));
        assert_true(has_field_error(&r, "events", "required"));
        api_resp_free(&r);

        /* one good event and one of each mistake: all refused */
        a65 = repeat('a', 65);
        a33 = repeat('a', 33);
        body = api_printf(
                "{\"events\":["
                "{\"time\":\"%s\",\"kind\":\"error\",\"device\":\"aircon\",\"code\":\"E1\"},"
                "{\"time\":\"2026-13-01T00:00:00Z\",\"kind\":\"fault\",\"device\":\"%s\","
                "\"code\":\"E 1\",\"extra\":1},"
                "{\"time\":\"%s\",\"kind\":\"error\",\"device\":\"\",\"code\":\"%s\"},"
                "\"not an object\","
                "{\"time\":\"1999-12-31T23:59:59Z\",\"kind\":\"error\",\"device\":\"x\","
                "\"code\":\"E2\",\"detail\":\"bad\\u0007bell\"}]}",
                utc(now - 60), a65, utc(now + 2 * 86400), a33);
        free(a65);
        free(a33);
        r = energy_gateway_raw(&srv, &g, "POST", "/api/v1/gateway/history", body);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "events.1.time", "invalid"));
        assert_true(has_field_error(&r, "events.1.kind", "invalid"));
        assert_true(has_field_error(&r, "events.1.device", "too_long"));
        assert_true(has_field_error(&r, "events.1.code", "invalid"));
        assert_true(has_field_error(&r, "events.1.extra", "unknown_field"));
        assert_true(has_field_error(&r, "events.2.time", "out_of_range"));
        assert_true(has_field_error(&r, "events.2.device", "required"));
        assert_true(has_field_error(&r, "events.2.code", "too_long"));
        assert_true(has_field_error(&r, "events.3", "type"));
        assert_true(has_field_error(&r, "events.4.time", "out_of_range"));
        assert_true(has_field_error(&r, "events.4.detail", "invalid"));
        api_resp_free(&r);
        free(body);
        r = history(owner, g.home_id, "");
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 0);
        api_resp_free(&r);

        /* at most 1000 events in one upload; 1000 go in one piece */
        many = malloc(cap);
        assert_non_null(many);
        len += (size_t)snprintf(many + len, cap - len, "[");
        for (int i = 0; i < 1001; i++)
                len += (size_t)snprintf(many + len, cap - len,
                                        "%s{\"time\":\"%s\",\"kind\":\"operation\","
                                        "\"device\":\"d%d\",\"code\":\"c\"}",
                                        i ? "," : "", utc(now - 5000 + i), i % 7);
        snprintf(many + len, cap - len, "]");
        body = api_printf("{\"events\":%s}", many);
        r = energy_gateway_raw(&srv, &g, "POST", "/api/v1/gateway/history", body);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "events", "too_many"));
        api_resp_free(&r);
        free(body);
        /* drop the last event: 1000 */
        many[strlen(many) - 1] = '\0';
        *strrchr(many, '{') = '\0';
        many[strlen(many) - 1] = ']';
        post_events(&g, many, 1000);
        free(many);
        r = history(owner, g.home_id, "?limit=1000&device=d3");
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 143);
        api_resp_free(&r);

        /* gateway credentials and states */
        r = callf("POST", NULL, "{\"events\":[]}", "/api/v1/gateway/history");
        assert_problem(&r, 401, "gateway_auth_failed");
        api_resp_free(&r);
        energy_gateway_deregister(&srv, &g, "keep");
        body = api_printf("{\"events\":[{\"time\":\"%s\",\"kind\":\"error\",\"device\":\"x\","
                          "\"code\":\"E1\"}]}", utc(now));
        r = energy_gateway_raw(&srv, &g, "POST", "/api/v1/gateway/history", body);
        assert_problem(&r, 410, "gateway_deregistered");
        api_resp_free(&r);
        free(body);
        free(owner);
}

/* Posts n error events with code at t as the gateway. */
static void post_errors(const struct energy_gateway *g, const char *code, long long t, int n)
{
        char *events = strdup("[");

        for (int i = 0; i < n; i++) {
                char *next = api_printf("%s%s{\"time\":\"%s\",\"kind\":\"error\","
                                        "\"device\":\"inverter\",\"code\":\"%s\"}",
                                        events, i ? "," : "", utc(t + i), code);

                free(events);
                events = next;
        }
        {
                char *done = api_printf("%s]", events);

                free(events);
                events = done;
        }
        post_events(g, events, n);
        free(events);
}

/* The statistics item of (firmware, code) in items[], or NULL. */
static json_t *stat_of(json_t *j, const char *firmware, const char *code)
{
        json_t *items = api_json_get(j, "items"), *it;
        size_t i;

        json_array_foreach(items, i, it) {
                const char *f = json_string_value(json_object_get(it, "firmware"));
                const char *c = json_string_value(json_object_get(it, "code"));

                if (f && c && strcmp(f, firmware) == 0 && strcmp(c, code) == 0)
                        return it;
        }
        return NULL;
}

static void test_HE_9_error_statistics_by_model_firmware(void **state)
{
        char *owner = new_member("stats");
        const char *op = fixture_operator(&srv);
        long long t0 = (long long)time(NULL) - 3 * 86400;
        struct energy_gateway g1, g2, g3, g4;
        struct api_resp r;
        json_t *it;
        char *q;

        energy_gateway_in_home(&srv, "HD-STAT-A", "1.0", owner, &g1);
        energy_gateway_in_home(&srv, "HD-STAT-A", "1.0", owner, &g2);
        energy_gateway_in_home(&srv, "HD-STAT-A", "1.1", owner, &g3);
        energy_gateway_in_home(&srv, "HD-STAT-B", "1.0", owner, &g4);
        post_errors(&g1, "E1", t0, 2);
        post_errors(&g1, "E2", t0 + 100, 1);
        post_errors(&g2, "E1", t0 + 86400, 1);
        post_errors(&g3, "E1", t0 + 2 * 86400, 1);
        post_errors(&g4, "E9", t0, 4);
        /* operations and savings are no errors */
        q = api_printf("[{\"time\":\"%s\",\"kind\":\"operation\",\"device\":\"inverter\","
                       "\"code\":\"E1\"},{\"time\":\"%s\",\"kind\":\"saving\","
                       "\"device\":\"inverter\",\"code\":\"E1\"}]", utc(t0), utc(t0));
        post_events(&g1, q, 2);
        free(q);

        r = callf("GET", op, NULL, "/api/v1/gateway-errors?model=HD-STAT-A");
        expect(&r, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 3);
        /* the most frequent first */
        assert_string_equal(api_json_str(r.json, "items.0.code"), "E1");
        assert_string_equal(api_json_str(r.json, "items.0.firmware"), "1.0");
        it = stat_of(r.json, "1.0", "E1");
        assert_non_null(it);
        assert_string_equal(json_string_value(json_object_get(it, "model")), "HD-STAT-A");
        assert_int_equal(json_integer_value(json_object_get(it, "count")), 3);
        assert_int_equal(json_integer_value(json_object_get(it, "gateways")), 2);
        /* g1's first E1 at t0, g2's at t0 + 1 day (RFC 3339, Tokyo time) */
        assert_string_equal(json_string_value(json_object_get(it, "first_at")), tokyo(t0));
        assert_string_equal(json_string_value(json_object_get(it, "last_at")), tokyo(t0 + 86400));
        it = stat_of(r.json, "1.0", "E2");
        assert_non_null(it);
        assert_int_equal(json_integer_value(json_object_get(it, "count")), 1);
        assert_int_equal(json_integer_value(json_object_get(it, "gateways")), 1);
        it = stat_of(r.json, "1.1", "E1");
        assert_non_null(it);
        assert_int_equal(json_integer_value(json_object_get(it, "count")), 1);
        assert_false(json_is_true(api_json_get(r.json, "truncated")));
        api_resp_free(&r);

        r = callf("GET", op, NULL, "/api/v1/gateway-errors?model=HD-STAT-A&firmware=1.1");
        expect(&r, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 1);
        assert_string_equal(api_json_str(r.json, "items.0.code"), "E1");
        assert_int_equal(api_json_int(r.json, "items.0.count", 0), 1);
        api_resp_free(&r);

        r = callf("GET", op, NULL, "/api/v1/gateway-errors?model=HD-STAT-B");
        expect(&r, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 1);
        assert_int_equal(api_json_int(r.json, "items.0.count", 0), 4);
        assert_int_equal(api_json_int(r.json, "items.0.gateways", 0), 1);
        api_resp_free(&r);

        /* a time range: only g2's E1 on the second day */
        q = api_printf("/api/v1/gateway-errors?model=HD-STAT-A&from=%s&to=%s",
                       utc(t0 + 86400), utc(t0 + 2 * 86400));
        r = callf("GET", op, NULL, "%s", q);
        expect(&r, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 1);
        it = stat_of(r.json, "1.0", "E1");
        assert_non_null(it);
        assert_int_equal(json_integer_value(json_object_get(it, "count")), 1);
        api_resp_free(&r);
        free(q);

        /* a cut list says so */
        r = callf("GET", op, NULL, "/api/v1/gateway-errors?model=HD-STAT-A&limit=1");
        expect(&r, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 1);
        assert_true(json_is_true(api_json_get(r.json, "truncated")));
        api_resp_free(&r);

        /* all models: ours are among them */
        r = callf("GET", op, NULL, "/api/v1/gateway-errors?limit=1000");
        expect(&r, 200);
        assert_true(json_array_size(api_json_get(r.json, "items")) >= 4);
        api_resp_free(&r);

        /* operators only; bad queries */
        r = callf("GET", owner, NULL, "/api/v1/gateway-errors");
        expect(&r, 403);
        api_resp_free(&r);
        r = callf("GET", op, NULL, "/api/v1/gateway-errors?from=2026-01-01&limit=1001&model=");
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "from", "invalid"));
        assert_true(has_field_error(&r, "limit", "invalid"));
        assert_true(has_field_error(&r, "model", "invalid"));
        api_resp_free(&r);
        free(owner);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_HE_8_settings_versions_and_diff),
                cmocka_unit_test(test_HE_8_only_the_newest_versions_are_kept),
                cmocka_unit_test(test_HE_8_restore_to_replacement_gateway_same_owner),
                cmocka_unit_test(test_HE_8_restore_refused_for_other_owner),
                cmocka_unit_test(test_HE_8_bad_settings_documents),
                cmocka_unit_test(test_HE_9_history_query_filters),
                cmocka_unit_test(test_HE_9_bad_history_uploads),
                cmocka_unit_test(test_HE_9_error_statistics_by_model_firmware),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
