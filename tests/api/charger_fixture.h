/*
 * charger_fixture.h - test fixture for chargers (issue 4): a bookable
 * charger of a host, its QR code mailed by the operator and attached by
 * the host (CS-11). Static inline like common.h; every step asserts its
 * HTTP answer.
 */
#ifndef ENEMANE_TESTS_API_CHARGER_FIXTURE_H
#define ENEMANE_TESTS_API_CHARGER_FIXTURE_H

#include "common.h"
#include "host_fixture.h"

/* A valid charger body at (lat, lon) with extra_json's members (an object
 * body without braces, e.g. "\"kind\":\"compatible_fast\"", or "")
 * replacing or adding to the defaults. Caller frees. */
static inline char *charger_body(double lat, double lon, const char *extra_json)
{
        char *base = api_printf(
                "{\"kind\":\"normal\",\"maker\":\"Panasonic\",\"model\":\"ELSEEV hybrid\","
                "\"output_kw\":6,\"connector\":\"type1\",\"address\":{\"postcode\":\"100-0005\","
                "\"prefecture\":\"東京都\",\"city\":\"千代田区\",\"line1\":\"丸の内1-9-1\"},"
                "\"latitude\":%.6f,\"longitude\":%.6f,\"surroundings\":\"屋外駐車場\","
                "\"access_notes\":\"正面入口から右\",\"onsite_reservation\":false,"
                "\"usage_notes\":\"ケーブルは元に戻してください\",\"penalty_enabled\":true,"
                "\"extendable\":true}", lat, lon);
        json_t *obj = json_loads(base, 0, NULL);
        char *body;

        assert_non_null(obj);
        if (extra_json && *extra_json) {
                char *ex = api_printf("{%s}", extra_json);
                json_t *o = json_loads(ex, 0, NULL);

                if (!o)
                        fprintf(stderr, "charger_body: bad extra_json %s\n", extra_json);
                assert_non_null(o);
                json_object_update(obj, o);
                json_decref(o);
                free(ex);
        }
        body = json_dumps(obj, JSON_COMPACT);
        json_decref(obj);
        free(base);
        return body;
}

/* The token of a charger's QR code while it is 'issued' (operator view);
 * caller frees. */
static inline char *charger_qr_token(struct api_server *s, int64_t charger_id)
{
        char *path = api_printf("/api/v1/chargers/%lld/qr", (long long)charger_id);
        struct api_resp r = fixture_call(s, "GET", path, fixture_operator(s), NULL, 200);
        const char *url = api_json_str(r.json, "url"), *t;
        char *token;

        assert_non_null(url);
        t = strstr(url, "?t=");
        assert_non_null(t);
        token = strdup(t + 3);
        api_resp_free(&r);
        free(path);
        return token;
}

/* The operator mails the code and the host attaches it (scans the token). */
static inline void charger_attach_qr(struct api_server *s, const char *host_token,
                                     int64_t charger_id)
{
        char *token = charger_qr_token(s, charger_id);
        char *path = api_printf("/api/v1/chargers/%lld/qr/mailed", (long long)charger_id);
        char *body = api_printf("{\"token\":\"%s\"}", token);
        struct api_resp r = fixture_call(s, "POST", path, fixture_operator(s), NULL, 200);

        api_resp_free(&r);
        free(path);
        path = api_printf("/api/v1/chargers/%lld/qr/attached", (long long)charger_id);
        r = fixture_call(s, "POST", path, host_token, body, 200);
        assert_string_equal(api_json_str(r.json, "qr.state"), "attached");
        api_resp_free(&r);
        free(path);
        free(body);
        free(token);
}

/* Creates a normal charger for the token's host (extra_json overrides
 * fields as in charger_body, "" for none), has the operator mark its QR
 * code mailed and the host confirm attachment; returns the charger id. */
static inline int64_t make_charger(struct api_server *s, const char *host_token, double lat,
                                   double lon, const char *extra_json)
{
        struct api_resp r = fixture_call(s, "GET", "/api/v1/me/host", host_token, NULL, 200);
        int64_t host_id = api_json_int(r.json, "id", 0), id;
        char *path = api_printf("/api/v1/hosts/%lld/chargers", (long long)host_id);
        char *body = charger_body(lat, lon, extra_json);

        assert_true(host_id > 0);
        api_resp_free(&r);
        r = fixture_call(s, "POST", path, host_token, body, 201);
        id = api_json_int(r.json, "id", 0);
        assert_true(id > 0);
        api_resp_free(&r);
        free(path);
        free(body);
        charger_attach_qr(s, host_token, id);
        return id;
}

#endif
