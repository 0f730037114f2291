/*
 * test_api_chargers.c - chargers over HTTP against the real binary (issue
 * 4): creating and changing listings (CS-9, with the compatible fast
 * charger's forced options), the QR code from issue to attachment and
 * rotation (CS-11), operator change requests and delisting (CS-10), what
 * other members see (CS-40), photos (magic bytes, size and count limits),
 * who may act on a charger, and bad input of every field.
 */
#include "common.h"
#include "host_fixture.h"
#include "charger_fixture.h"

#include <math.h>

#define TOKYO_LAT 35.681236
#define TOKYO_LON 139.767125

static struct api_server srv;
static int seq;

static int setup(void **state)
{
        return api_server_start(&srv, NULL);
}

static int teardown(void **state)
{
        return api_server_stop(&srv) == 0 ? 0 : -1;
}

static char *email(const char *what)
{
        return api_printf("%s-%d@chargers.test", what, ++seq);
}

static char *host(int64_t *id)
{
        char *e = email("host");
        char *t = make_host(&srv, e, "individual", id);

        free(e);
        return t;
}

static char *driver(void)
{
        char *e = email("driver");
        char *t = member_token(&srv, e);

        free(e);
        return t;
}

/* POST /hosts/{id}/chargers with charger_body(lat, lon, extra). */
static struct api_resp create(const char *token, int64_t host_id, double lat, double lon,
                              const char *extra)
{
        struct api_resp r = { 0 };
        char *path = api_printf("/api/v1/hosts/%lld/chargers", (long long)host_id);
        char *body = charger_body(lat, lon, extra);

        assert_int_equal(api_call(&srv, "POST", path, token, body, &r), 0);
        free(path);
        free(body);
        return r;
}

static struct api_resp call(const char *method, const char *token, const char *body,
                            const char *fmt, long long id)
{
        struct api_resp r = { 0 };
        char *path = api_printf(fmt, id);

        assert_int_equal(api_call(&srv, method, path, token, body, &r), 0);
        free(path);
        return r;
}

static int array_has_string(json_t *a, const char *s)
{
        json_t *x;
        size_t i;

        json_array_foreach(a, i, x)
                if (json_is_string(x) && strcmp(json_string_value(x), s) == 0)
                        return 1;
        return 0;
}

/* ---- create and read -------------------------------------------------------- */

static void test_create_returns_host_view(void **state)
{
        int64_t hid;
        char *t = host(&hid);
        struct api_resp r = create(t, hid, TOKYO_LAT, TOKYO_LON, "");

        assert_int_equal(r.status, 201);
        assert_true(api_json_int(r.json, "id", 0) > 0);
        assert_int_equal(api_json_int(r.json, "host_id", 0), hid);
        assert_string_equal(api_json_str(r.json, "kind"), "normal");
        assert_true(json_number_value(api_json_get(r.json, "output_kw")) == 6.0);
        assert_true(fabs(json_number_value(api_json_get(r.json, "latitude")) - TOKYO_LAT) < 1e-6);
        assert_string_equal(api_json_str(r.json, "address.postcode"), "100-0005");
        assert_string_equal(api_json_str(r.json, "qr.state"), "issued");
        assert_true(json_is_false(api_json_get(r.json, "bookable")));
        assert_true(json_is_false(api_json_get(r.json, "recruiting")));
        assert_true(json_is_true(api_json_get(r.json, "listed")));
        assert_true(array_has_string(api_json_get(r.json, "reasons_not_bookable"),
                                     "qr_not_attached"));
        assert_true(json_is_true(api_json_get(r.json, "extendable")));
        assert_null(api_json_get(r.json, "notes"));     /* nothing was forced */
        assert_string_equal(api_json_str(r.json, "host.display_name"), "テスト充電スポット");
        /* the host's list has it */
        int64_t id = api_json_int(r.json, "id", 0);

        api_resp_free(&r);
        r = call("GET", t, NULL, "/api/v1/hosts/%lld/chargers", hid);
        assert_int_equal(r.status, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 1);
        assert_int_equal(api_json_int(r.json, "items.0.id", 0), id);
        api_resp_free(&r);
        free(t);
}

static void test_CS_9_compatible_fast_is_onsite_only(void **state)
{
        int64_t hid;
        char *t = host(&hid);
        struct api_resp r = create(t, hid, TOKYO_LAT, TOKYO_LON,
                                   "\"kind\":\"compatible_fast\",\"output_kw\":50,"
                                   "\"connector\":\"chademo\",\"onsite_reservation\":false,"
                                   "\"extendable\":true");
        int64_t id;

        /* not an error: the answer shows the forced values and says why */
        assert_int_equal(r.status, 201);
        assert_true(json_is_true(api_json_get(r.json, "onsite_reservation")));
        assert_true(json_is_false(api_json_get(r.json, "extendable")));
        assert_int_equal(json_array_size(api_json_get(r.json, "notes")), 2);
        assert_non_null(strstr(api_json_str(r.json, "notes.0"), "on-site reservation only"));
        id = api_json_int(r.json, "id", 0);
        api_resp_free(&r);
        /* PATCH cannot undo it */
        r = call("PATCH", t, "{\"onsite_reservation\":false}", "/api/v1/chargers/%lld", id);
        assert_int_equal(r.status, 200);
        assert_true(json_is_true(api_json_get(r.json, "onsite_reservation")));
        assert_int_equal(json_array_size(api_json_get(r.json, "notes")), 1);
        api_resp_free(&r);
        /* a normal charger turned into a compatible fast one is forced too */
        r = create(t, hid, TOKYO_LAT, TOKYO_LON, "\"extendable\":true");
        id = api_json_int(r.json, "id", 0);
        api_resp_free(&r);
        r = call("PATCH", t, "{\"kind\":\"compatible_fast\"}", "/api/v1/chargers/%lld", id);
        assert_int_equal(r.status, 200);
        assert_string_equal(api_json_str(r.json, "kind"), "compatible_fast");
        assert_true(json_is_true(api_json_get(r.json, "onsite_reservation")));
        assert_true(json_is_false(api_json_get(r.json, "extendable")));
        api_resp_free(&r);
        /* a normal charger keeps the host's choice */
        r = create(t, hid, TOKYO_LAT, TOKYO_LON, "\"onsite_reservation\":false");
        assert_true(json_is_false(api_json_get(r.json, "onsite_reservation")));
        assert_true(json_is_true(api_json_get(r.json, "extendable")));
        api_resp_free(&r);
        free(t);
}

/* ---- QR (CS-11) ------------------------------------------------------------------ */

static void test_CS_11_not_bookable_until_code_attached(void **state)
{
        const char *op = fixture_operator(&srv);
        int64_t hid, id;
        char *t = host(&hid), *d = driver(), *token, *body;
        struct api_resp r = create(t, hid, TOKYO_LAT, TOKYO_LON, "");

        id = api_json_int(r.json, "id", 0);
        api_resp_free(&r);
        /* listed (visible) but not bookable */
        r = call("GET", d, NULL, "/api/v1/chargers/%lld", id);
        assert_int_equal(r.status, 200);
        assert_true(json_is_false(api_json_get(r.json, "bookable")));
        api_resp_free(&r);
        /* the operator prints it: PNG and SVG of the URL */
        r = call("GET", op, NULL, "/api/v1/chargers/%lld/qr.png", id);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.content_type, "image/png");
        assert_true(r.len > 100);
        assert_memory_equal(r.body, "\x89PNG\r\n\x1a\n", 8);
        assert_string_equal(r.cache_control, "no-store");
        api_resp_free(&r);
        r = call("GET", op, NULL, "/api/v1/chargers/%lld/qr.svg?scale=4", id);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.content_type, "image/svg+xml");
        assert_non_null(strstr(r.body, "<svg"));
        assert_non_null(strstr(r.body, "h1v1h-1z"));
        api_resp_free(&r);
        r = call("GET", op, NULL, "/api/v1/chargers/%lld/qr.png?scale=99", id);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "scale", "out_of_range"));
        api_resp_free(&r);
        /* only operators print codes */
        r = call("GET", t, NULL, "/api/v1/chargers/%lld/qr.png", id);
        assert_problem(&r, 403, "forbidden");
        api_resp_free(&r);
        token = charger_qr_token(&srv, id);
        assert_memory_equal(token, "chq_", 4);
        body = api_printf("{\"token\":\"%s\"}", token);
        /* attaching before mailing */
        r = call("POST", t, body, "/api/v1/chargers/%lld/qr/attached", id);
        assert_problem(&r, 409, "qr_not_mailed");
        api_resp_free(&r);
        r = call("POST", op, NULL, "/api/v1/chargers/%lld/qr/mailed", id);
        assert_int_equal(r.status, 200);
        assert_string_equal(api_json_str(r.json, "qr.state"), "mailed");
        api_resp_free(&r);
        /* once mailed the plaintext is gone: no reprint */
        r = call("GET", op, NULL, "/api/v1/chargers/%lld/qr.png", id);
        assert_problem(&r, 409, "qr_already_mailed");
        api_resp_free(&r);
        r = call("GET", op, NULL, "/api/v1/chargers/%lld/qr", id);
        assert_true(json_is_null(api_json_get(r.json, "url")));
        api_resp_free(&r);
        r = call("POST", op, NULL, "/api/v1/chargers/%lld/qr/mailed", id);
        assert_problem(&r, 409, "qr_already_mailed");
        api_resp_free(&r);
        /* a wrong token proves nothing */
        r = call("POST", t, "{\"token\":\"chq_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
                 "/api/v1/chargers/%lld/qr/attached", id);
        assert_problem(&r, 422, "qr_token_invalid");
        assert_true(has_field_error(&r, "token", "qr_token_invalid"));
        api_resp_free(&r);
        /* scanning is refused until attached */
        r = call("POST", d, body, "/api/v1/chargers/%lld/scan", id);
        assert_problem(&r, 422, "qr_token_invalid");
        api_resp_free(&r);
        r = call("POST", t, body, "/api/v1/chargers/%lld/qr/attached", id);
        assert_int_equal(r.status, 200);
        assert_string_equal(api_json_str(r.json, "qr.state"), "attached");
        assert_true(json_is_true(api_json_get(r.json, "bookable")));
        assert_int_equal(json_array_size(api_json_get(r.json, "reasons_not_bookable")), 0);
        api_resp_free(&r);
        r = call("POST", d, body, "/api/v1/chargers/%lld/scan", id);
        assert_int_equal(r.status, 200);
        assert_int_equal(api_json_int(r.json, "id", 0), id);
        assert_true(json_is_true(api_json_get(r.json, "bookable")));
        api_resp_free(&r);
        free(body);
        free(token);
        free(t);
        free(d);
}

static void test_CS_11_rotated_token_stops_working(void **state)
{
        const char *op = fixture_operator(&srv);
        int64_t hid, id;
        char *t = host(&hid), *d = driver(), *old, *new, *old_body, *new_body;
        struct api_resp r = create(t, hid, TOKYO_LAT, TOKYO_LON, "");

        id = api_json_int(r.json, "id", 0);
        api_resp_free(&r);
        old = charger_qr_token(&srv, id);
        old_body = api_printf("{\"token\":\"%s\"}", old);
        r = call("POST", op, NULL, "/api/v1/chargers/%lld/qr/mailed", id);
        api_resp_free(&r);
        r = call("POST", t, old_body, "/api/v1/chargers/%lld/qr/attached", id);
        assert_int_equal(r.status, 200);
        api_resp_free(&r);
        r = call("POST", d, old_body, "/api/v1/chargers/%lld/scan", id);
        assert_int_equal(r.status, 200);
        api_resp_free(&r);
        /* the host reports the sticker torn off: new code */
        r = call("POST", t, NULL, "/api/v1/chargers/%lld/qr/rotate", id);
        assert_int_equal(r.status, 200);
        assert_string_equal(api_json_str(r.json, "qr.state"), "issued");
        assert_true(json_is_false(api_json_get(r.json, "bookable")));
        api_resp_free(&r);
        r = call("POST", d, old_body, "/api/v1/chargers/%lld/scan", id);
        assert_problem(&r, 422, "qr_token_invalid");
        api_resp_free(&r);
        new = charger_qr_token(&srv, id);
        assert_string_not_equal(new, old);
        new_body = api_printf("{\"token\":\"%s\"}", new);
        r = call("POST", op, NULL, "/api/v1/chargers/%lld/qr/mailed", id);
        assert_int_equal(r.status, 200);
        api_resp_free(&r);
        r = call("POST", t, old_body, "/api/v1/chargers/%lld/qr/attached", id);
        assert_problem(&r, 422, "qr_token_invalid");
        api_resp_free(&r);
        r = call("POST", t, new_body, "/api/v1/chargers/%lld/qr/attached", id);
        assert_int_equal(r.status, 200);
        api_resp_free(&r);
        r = call("POST", d, new_body, "/api/v1/chargers/%lld/scan", id);
        assert_int_equal(r.status, 200);
        api_resp_free(&r);
        r = call("POST", d, old_body, "/api/v1/chargers/%lld/scan", id);
        assert_problem(&r, 422, "qr_token_invalid");
        api_resp_free(&r);
        /* an operator may rotate too; a driver may not */
        r = call("POST", d, NULL, "/api/v1/chargers/%lld/qr/rotate", id);
        assert_problem(&r, 403, "not_host_actor");
        api_resp_free(&r);
        r = call("POST", op, NULL, "/api/v1/chargers/%lld/qr/rotate", id);
        assert_int_equal(r.status, 200);
        api_resp_free(&r);
        r = call("POST", d, new_body, "/api/v1/chargers/%lld/scan", id);
        assert_problem(&r, 422, "qr_token_invalid");
        api_resp_free(&r);
        free(old);
        free(new);
        free(old_body);
        free(new_body);
        free(t);
        free(d);
}

/* ---- operator actions (CS-10) --------------------------------------------------------- */

static void test_CS_10_operator_delists_with_reason(void **state)
{
        const char *op = fixture_operator(&srv);
        int64_t hid, id;
        char *t = host(&hid), *d = driver();
        struct api_resp r;

        id = make_charger(&srv, t, TOKYO_LAT, TOKYO_LON, "");
        /* a change request shows in the host view until the host's next change */
        r = call("POST", op, "{\"message\":\"写真が不鮮明です\"}",
                 "/api/v1/chargers/%lld/change-requests", id);
        assert_int_equal(r.status, 201);
        assert_string_equal(api_json_str(r.json, "message"), "写真が不鮮明です");
        api_resp_free(&r);
        r = call("POST", t, "{\"message\":\"x\"}", "/api/v1/chargers/%lld/change-requests", id);
        assert_problem(&r, 403, "forbidden");
        api_resp_free(&r);
        r = call("GET", t, NULL, "/api/v1/chargers/%lld", id);
        assert_int_equal(json_array_size(api_json_get(r.json, "change_requests")), 1);
        api_resp_free(&r);
        r = call("PATCH", t, "{\"usage_notes\":\"写真を更新しました\"}", "/api/v1/chargers/%lld",
                 id);
        assert_int_equal(r.status, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "change_requests")), 0);
        api_resp_free(&r);
        r = call("GET", t, NULL, "/api/v1/chargers/%lld/change-requests", id);
        assert_int_equal(r.status, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 1);
        assert_non_null(api_json_str(r.json, "items.0.resolved_at"));
        api_resp_free(&r);
        /* delisting needs a reason from the art 10.5 list */
        r = call("POST", op, "{\"reason\":\"ugly\"}", "/api/v1/chargers/%lld/delisting", id);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "reason", "invalid"));
        api_resp_free(&r);
        r = call("POST", t, "{\"reason\":\"fraud\"}", "/api/v1/chargers/%lld/delisting", id);
        assert_problem(&r, 403, "forbidden");
        api_resp_free(&r);
        r = call("POST", op, "{\"reason\":\"obvious_error\",\"note\":\"住所が誤っています\"}",
                 "/api/v1/chargers/%lld/delisting", id);
        assert_int_equal(r.status, 200);
        assert_string_equal(api_json_str(r.json, "delisting.reason"), "obvious_error");
        assert_string_equal(api_json_str(r.json, "delisting.note"), "住所が誤っています");
        assert_non_null(api_json_str(r.json, "delisting.at"));
        assert_true(json_is_false(api_json_get(r.json, "listed")));
        assert_true(json_is_false(api_json_get(r.json, "bookable")));
        assert_true(array_has_string(api_json_get(r.json, "reasons_not_bookable"), "delisted"));
        api_resp_free(&r);
        r = call("POST", op, "{\"reason\":\"fraud\"}", "/api/v1/chargers/%lld/delisting", id);
        assert_problem(&r, 409, "already_delisted");
        api_resp_free(&r);
        /* other members no longer see it; the host still does */
        r = call("GET", d, NULL, "/api/v1/chargers/%lld", id);
        assert_problem(&r, 404, "charger_not_found");
        api_resp_free(&r);
        r = call("GET", t, NULL, "/api/v1/chargers/%lld", id);
        assert_int_equal(r.status, 200);
        assert_string_equal(api_json_str(r.json, "delisting.reason"), "obvious_error");
        api_resp_free(&r);
        r = call("DELETE", op, NULL, "/api/v1/chargers/%lld/delisting", id);
        assert_int_equal(r.status, 200);
        assert_true(json_is_null(api_json_get(r.json, "delisting")));
        assert_true(json_is_true(api_json_get(r.json, "bookable")));
        api_resp_free(&r);
        r = call("DELETE", op, NULL, "/api/v1/chargers/%lld/delisting", id);
        assert_problem(&r, 409, "not_delisted");
        api_resp_free(&r);
        r = call("GET", d, NULL, "/api/v1/chargers/%lld", id);
        assert_int_equal(r.status, 200);
        api_resp_free(&r);
        /* the CS-7 log names the operator's actions for the host */
        r = call("GET", t, NULL, "/api/v1/hosts/%lld/actions", hid);
        assert_int_equal(r.status, 200);
        assert_non_null(strstr(r.body, "charger.delist"));
        assert_non_null(strstr(r.body, "charger.relist"));
        assert_non_null(strstr(r.body, "charger.qr_attached"));
        api_resp_free(&r);
        /* the list of reasons is public */
        assert_int_equal(api_call(&srv, "GET", "/api/v1/delisting-reasons", NULL, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 8);
        assert_string_equal(api_json_str(r.json, "items.0.code"), "terms_violation");
        assert_string_equal(api_json_str(r.json, "items.7.article"), "10.5.8");
        api_resp_free(&r);
        free(t);
        free(d);
}

/* ---- CS-40 -------------------------------------------------------------------------- */

static void test_CS_40_public_listing_hides_host_data(void **state)
{
        const char *op = fixture_operator(&srv);
        static const char *const hidden[] = { "host_id", "qr", "delisting", "change_requests",
                                              "reasons_not_bookable", "listed", "site_id" };
        int64_t hid, id;
        char *e = email("privatehost");
        char *t = make_host(&srv, e, "individual", &hid), *d = driver(), *token;
        struct api_resp r;

        id = make_charger(&srv, t, TOKYO_LAT, TOKYO_LON, "");
        r = call("GET", d, NULL, "/api/v1/chargers/%lld", id);
        assert_int_equal(r.status, 200);
        assert_string_equal(api_json_str(r.json, "host.display_name"), "テスト充電スポット");
        assert_int_equal(json_object_size(api_json_get(r.json, "host")), 1);
        for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++)
                assert_null(json_object_get(r.json, hidden[i]));
        assert_null(strstr(r.body, e));                 /* no email */
        assert_null(strstr(r.body, "山田"));             /* no member name */
        assert_null(strstr(r.body, "090-1234-5678"));   /* no phone */
        assert_null(strstr(r.body, "chq_"));            /* no token */
        assert_string_equal(api_json_str(r.json, "maker"), "Panasonic");
        assert_non_null(api_json_get(r.json, "latitude"));
        api_resp_free(&r);
        /* the operator sees everything */
        r = call("GET", op, NULL, "/api/v1/chargers/%lld", id);
        assert_int_equal(api_json_int(r.json, "host_id", 0), hid);
        assert_non_null(api_json_get(r.json, "qr"));
        api_resp_free(&r);
        /* a host that is no longer publishable (CS-8): not listed */
        r = call("PUT", op, "{\"status\":\"pending\"}", "/api/v1/hosts/%lld/verification", hid);
        assert_int_equal(r.status, 200);
        api_resp_free(&r);
        r = call("GET", d, NULL, "/api/v1/chargers/%lld", id);
        assert_problem(&r, 404, "charger_not_found");
        api_resp_free(&r);
        r = call("GET", t, NULL, "/api/v1/chargers/%lld", id);
        assert_int_equal(r.status, 200);
        assert_true(array_has_string(api_json_get(r.json, "reasons_not_bookable"),
                                     "host_not_publishable"));
        api_resp_free(&r);
        /* ... and its code proves nothing while unlisted */
        (void)token;
        free(e);
        free(t);
        free(d);
}

/* ---- authorisation ---------------------------------------------------------------------- */

static void test_member_acting_on_another_hosts_charger_403(void **state)
{
        int64_t hid, hid2;
        char *t = host(&hid), *t2 = host(&hid2), *d = driver();
        struct api_resp r = create(t, hid, TOKYO_LAT, TOKYO_LON, "");
        int64_t id = api_json_int(r.json, "id", 0);

        api_resp_free(&r);
        r = call("PATCH", t2, "{\"model\":\"mine now\"}", "/api/v1/chargers/%lld", id);
        assert_problem(&r, 403, "not_host_actor");
        api_resp_free(&r);
        r = call("DELETE", d, NULL, "/api/v1/chargers/%lld", id);
        assert_problem(&r, 403, "not_host_actor");
        api_resp_free(&r);
        r = create(t2, hid, TOKYO_LAT, TOKYO_LON, "");
        assert_problem(&r, 403, "not_host_actor");
        api_resp_free(&r);
        r = create(d, 999999, TOKYO_LAT, TOKYO_LON, "");
        assert_problem(&r, 404, "host_not_found");
        api_resp_free(&r);
        r = call("GET", t2, NULL, "/api/v1/hosts/%lld/chargers", hid);
        assert_problem(&r, 403, "not_host_actor");
        api_resp_free(&r);
        /* unchanged */
        r = call("GET", t, NULL, "/api/v1/chargers/%lld", id);
        assert_string_equal(api_json_str(r.json, "model"), "ELSEEV hybrid");
        api_resp_free(&r);
        /* the owner deletes it (soft): gone for everyone */
        r = call("DELETE", t, NULL, "/api/v1/chargers/%lld", id);
        assert_int_equal(r.status, 204);
        api_resp_free(&r);
        r = call("GET", t, NULL, "/api/v1/chargers/%lld", id);
        assert_problem(&r, 404, "charger_not_found");
        api_resp_free(&r);
        r = call("DELETE", t, NULL, "/api/v1/chargers/%lld", id);
        assert_problem(&r, 404, "charger_not_found");
        api_resp_free(&r);
        free(t);
        free(t2);
        free(d);
}

/* ---- bad input -------------------------------------------------------------------------- */

static void test_bad_input_names_the_field(void **state)
{
        static const struct {
                const char *extra;
                const char *field;
                const char *code;
        } cases[] = {
                { "\"latitude\":91", "latitude", "out_of_range" },
                { "\"longitude\":-181", "longitude", "out_of_range" },
                { "\"latitude\":\"35\"", "latitude", "type" },
                { "\"output_kw\":5000", "output_kw", "out_of_range" },
                { "\"output_kw\":0", "output_kw", "out_of_range" },
                { "\"output_kw\":-3", "output_kw", "out_of_range" },
                { "\"connector\":\"schuko\"", "connector", "invalid" },
                { "\"kind\":\"supercharger\"", "kind", "invalid" },
                { "\"maker\":\"\"", "maker", "required" },
                { "\"address\":{\"postcode\":\"1\",\"prefecture\":\"東京都\",\"city\":\"a\","
                  "\"line1\":\"b\"}", "address.postcode", "invalid" },
                { "\"address\":{\"postcode\":\"100-0001\",\"prefecture\":\"Tokyo\","
                  "\"city\":\"a\",\"line1\":\"b\"}", "address.prefecture", "invalid" },
                { "\"colour\":\"red\"", "colour", "unknown_field" },
                { "\"site_id\":0", "site_id", NULL },
                { "\"onsite_reservation\":\"yes\"", "onsite_reservation", "type" },
        };
        int64_t hid;
        char *t = host(&hid);
        struct api_resp r;

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                r = create(t, hid, TOKYO_LAT, TOKYO_LON, cases[i].extra);
                assert_problem(&r, 422, "validation_failed");
                assert_true(has_field_error(&r, cases[i].field, cases[i].code));
                api_resp_free(&r);
        }
        /* valid coordinates outside Japan */
        r = create(t, hid, 48.8566, 2.3522, "");
        assert_problem(&r, 422, "outside_service_area");
        assert_true(has_field_error(&r, "latitude", "outside_service_area"));
        api_resp_free(&r);
        r = create(t, hid, 31.2304, 121.4737, "");      /* Shanghai: inside the latitudes */
        assert_problem(&r, 422, "outside_service_area");
        api_resp_free(&r);
        /* a site of nobody */
        r = create(t, hid, TOKYO_LAT, TOKYO_LON, "\"site_id\":424242");
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "site_id", "not_found"));
        api_resp_free(&r);
        /* PATCH checks the same */
        r = create(t, hid, TOKYO_LAT, TOKYO_LON, "");
        int64_t id = api_json_int(r.json, "id", 0);

        api_resp_free(&r);
        r = call("PATCH", t, "{\"latitude\":10.0}", "/api/v1/chargers/%lld", id);
        assert_problem(&r, 422, "outside_service_area");
        api_resp_free(&r);
        r = call("PATCH", t, "{\"output_kw\":1e9}", "/api/v1/chargers/%lld", id);
        assert_true(has_field_error(&r, "output_kw", "out_of_range"));
        api_resp_free(&r);
        r = call("PATCH", t, "[1]", "/api/v1/chargers/%lld", id);
        assert_int_equal(r.status / 100, 4);
        api_resp_free(&r);
        r = call("GET", t, NULL, "/api/v1/chargers/%lld", id);
        assert_true(fabs(json_number_value(api_json_get(r.json, "latitude")) - TOKYO_LAT) < 1e-6);
        assert_true(json_number_value(api_json_get(r.json, "output_kw")) == 6.0);
        api_resp_free(&r);
        free(t);
}

/* ---- photos ---------------------------------------------------------------------------------- */

static uint32_t crc32_le(const unsigned char *p, size_t n, uint32_t crc)
{
        crc = ~crc;
        for (size_t i = 0; i < n; i++) {
                crc ^= p[i];
                for (int k = 0; k < 8; k++)
                        crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
        }
        return ~crc;
}

static void be32(unsigned char *p, uint32_t v)
{
        p[0] = (unsigned char)(v >> 24);
        p[1] = (unsigned char)(v >> 16);
        p[2] = (unsigned char)(v >> 8);
        p[3] = (unsigned char)v;
}

/* A PNG header (signature + IHDR) of w x h; enough for the server's sniffer. */
static size_t png_header(unsigned char *p, uint32_t w, uint32_t h)
{
        memcpy(p, "\x89PNG\r\n\x1a\n", 8);
        be32(p + 8, 13);
        memcpy(p + 12, "IHDR", 4);
        be32(p + 16, w);
        be32(p + 20, h);
        memcpy(p + 24, "\x08\x02\x00\x00\x00", 5);
        be32(p + 29, crc32_le(p + 12, 17, 0));
        return 33;
}

static struct api_resp upload(const char *token, int64_t id, const char *ctype, const void *data,
                              size_t len)
{
        struct api_resp r = { 0 };
        char *path = api_printf("/api/v1/chargers/%lld/photos", (long long)id);
        char *auth = api_printf("Authorization: Bearer %s", token);
        char *ct = api_printf("Content-Type: %s", ctype);
        const char *headers[] = { auth, ct, NULL };

        assert_int_equal(api_call_raw(&srv, "POST", path, headers, data, len, &r), 0);
        free(path);
        free(auth);
        free(ct);
        return r;
}

static void test_photos_sniffed_and_limited(void **state)
{
        static const unsigned char jpeg[] = {
                0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x01, 0xE0, 0x02, 0x80, 0x03,
                0x01, 0x11, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xFF, 0xD9,
        };
        int64_t hid, id, pid;
        char *t = host(&hid), *d = driver(), *t2;
        unsigned char png[64];
        size_t n = png_header(png, 640, 480);
        struct api_resp r;
        int64_t h2;
        char *big;

        id = make_charger(&srv, t, TOKYO_LAT, TOKYO_LON, "");
        r = upload(t, id, "image/png", png, n);
        assert_int_equal(r.status, 201);
        assert_int_equal(api_json_int(r.json, "width", 0), 640);
        assert_int_equal(api_json_int(r.json, "height", 0), 480);
        assert_string_equal(api_json_str(r.json, "content_type"), "image/png");
        pid = api_json_int(r.json, "id", 0);
        api_resp_free(&r);
        r = upload(t, id, "image/jpeg", jpeg, sizeof(jpeg));
        assert_int_equal(r.status, 201);
        assert_int_equal(api_json_int(r.json, "width", 0), 640);
        assert_int_equal(api_json_int(r.json, "height", 0), 480);
        api_resp_free(&r);
        /* the listing serves the bytes to other members */
        r = call("GET", d, NULL, "/api/v1/chargers/%lld", id);
        assert_int_equal(json_array_size(api_json_get(r.json, "photos")), 2);
        api_resp_free(&r);
        char *ppath = api_printf("/api/v1/chargers/%lld/photos/%lld", (long long)id,
                                 (long long)pid);

        assert_int_equal(api_call(&srv, "GET", ppath, d, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.content_type, "image/png");
        assert_int_equal(r.len, n);
        assert_memory_equal(r.body, png, n);
        api_resp_free(&r);
        /* not an image, or not what it claims */
        r = upload(t, id, "image/png", "hello, world", 12);
        assert_problem(&r, 422, "not_an_image");
        api_resp_free(&r);
        r = upload(t, id, "image/png", jpeg, sizeof(jpeg));
        assert_problem(&r, 415, "not_an_image");
        api_resp_free(&r);
        r = upload(t, id, "text/plain", png, n);
        assert_problem(&r, 415, "not_an_image");
        api_resp_free(&r);
        r = upload(t, id, "image/gif", "GIF89a", 6);
        assert_problem(&r, 415, "not_an_image");
        api_resp_free(&r);
        /* oversize: refused with 413 (by the server's body limit or the handler) */
        big = calloc(1, 2 * 1024 * 1024 + 1);
        assert_non_null(big);
        memcpy(big, png, n);
        r = upload(t, id, "image/png", big, 2 * 1024 * 1024 + 1);
        assert_int_equal(r.status, 413);
        assert_true(strcmp(api_json_str(r.json, "code"), "photo_too_large") == 0 ||
                    strcmp(api_json_str(r.json, "code"), "body_too_large") == 0);
        api_resp_free(&r);
        r = upload(t, id, "image/png", big, 2 * 1024 * 1024);   /* exactly at the limit */
        assert_int_equal(r.status, 201);
        api_resp_free(&r);
        free(big);
        /* another host may not add photos */
        t2 = host(&h2);
        r = upload(t2, id, "image/png", png, n);
        assert_problem(&r, 403, "not_host_actor");
        api_resp_free(&r);
        /* at most charging_photos_max (10) */
        for (int i = 3; i < 10; i++) {
                r = upload(t, id, "image/png", png, n);
                assert_int_equal(r.status, 201);
                api_resp_free(&r);
        }
        r = upload(t, id, "image/png", png, n);
        assert_problem(&r, 409, "too_many_photos");
        api_resp_free(&r);
        /* deleting one makes room */
        assert_int_equal(api_call(&srv, "DELETE", ppath, t, NULL, &r), 0);
        assert_int_equal(r.status, 204);
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "GET", ppath, t, NULL, &r), 0);
        assert_problem(&r, 404, "photo_not_found");
        api_resp_free(&r);
        r = upload(t, id, "image/png", png, n);
        assert_int_equal(r.status, 201);
        api_resp_free(&r);
        free(ppath);
        free(t);
        free(t2);
        free(d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_create_returns_host_view),
                cmocka_unit_test(test_CS_9_compatible_fast_is_onsite_only),
                cmocka_unit_test(test_CS_11_not_bookable_until_code_attached),
                cmocka_unit_test(test_CS_11_rotated_token_stops_working),
                cmocka_unit_test(test_CS_10_operator_delists_with_reason),
                cmocka_unit_test(test_CS_40_public_listing_hides_host_data),
                cmocka_unit_test(test_member_acting_on_another_hosts_charger_403),
                cmocka_unit_test(test_bad_input_names_the_field),
                cmocka_unit_test(test_photos_sniffed_and_limited),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
