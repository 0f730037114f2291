/*
 * test_api_content.c - electronic manuals (HE-12) and information
 * distribution (HE-15) over HTTP: a household sees exactly the manuals of
 * the models connected to its gateway (its own model and the devices of
 * its newest settings) and downloads them, other households and other
 * models get nothing; a distributor's API key is shown once, its sends are
 * held to its contract and to distribution.max_targets, every delivery is
 * recorded, gateways and members fetch theirs, members who opted out get
 * none, and a revoked or expired distributor is refused with 401.
 *
 * Every test makes its own members, gateways and model names (a sequence
 * number in each), so counts are exact although the tests share a server.
 * The server runs with distribution.max_targets = 3. The expiry test moves
 * the server clock forward and runs last.
 */
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

#define MAX_TARGETS 3
#define BIG_FILE (3 * 1024 * 1024)

static struct api_server srv;
static int seq;

static const char *const server_args[] = {
        "--no-log-requests",
        "--distribution-max-targets", "3",
        NULL,
};

/* ---- plumbing ---------------------------------------------------------------------- */

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

static char *new_member(const char *who)
{
        char *email = api_printf("%s-%d@content.test", who, ++seq);
        char *token = member_token(&srv, email);

        free(email);
        return token;
}

static int64_t member_id(const char *token)
{
        struct api_resp r = callf("GET", token, NULL, "/api/v1/me");
        int64_t id;

        expect(&r, 200);
        id = api_json_int(r.json, "id", 0);
        assert_true(id > 0);
        api_resp_free(&r);
        return id;
}

static const char *op(void)
{
        return fixture_operator(&srv);
}

/* ---- manuals ------------------------------------------------------------------------- */

/* Operator uploads a manual; returns the answer (caller frees). */
static struct api_resp upload_raw(const char *token, const char *ctype, const char *query,
                                  const char *body, size_t len)
{
        char *auth = api_printf("Authorization: Bearer %s", token);
        char *ct = api_printf("Content-Type: %s", ctype);
        char *path = api_printf("/api/v1/manuals?%s", query);
        const char *headers[] = { auth, ct, NULL };
        struct api_resp r = { 0 };

        assert_int_equal(api_call_raw(&srv, "POST", path, headers, body, len, &r), 0);
        free(auth);
        free(ct);
        free(path);
        return r;
}

/* Uploads a PDF (or HTML when html) manual for model; returns its id. */
static int64_t upload(const char *model, const char *title, const char *lang, bool html,
                      const char *file)
{
        char *q = api_printf("model=%s&title=%s&language=%s", model, title, lang);
        struct api_resp r = upload_raw(op(), html ? "text/html; charset=utf-8" :
                                       "application/pdf", q, file, strlen(file));
        int64_t id;

        expect(&r, 201);
        id = api_json_int(r.json, "id", 0);
        assert_true(id > 0);
        assert_string_equal(api_json_str(r.json, "model"), model);
        assert_int_equal(api_json_int(r.json, "size", 0), (json_int_t)strlen(file));
        assert_int_equal(strlen(api_json_str(r.json, "sha256")), 64);
        api_resp_free(&r);
        free(q);
        return id;
}

/* PUT /gateway/settings with these device models (NULL-ended; "" a device
 * without a model). */
static void put_devices(const struct energy_gateway *g, const char *const *models)
{
        json_t *devices = json_array(), *doc;
        struct api_resp r;
        char *text;

        for (int i = 0; models[i]; i++) {
                json_t *d = json_pack("{s:s}", "name", "device");

                if (*models[i])
                        json_object_set_new(d, "model", json_string(models[i]));
                json_array_append_new(devices, d);
        }
        doc = json_pack("{s:o, s:[{s:s}]}", "devices", devices, "rooms", "name", "Living");
        text = json_dumps(doc, JSON_COMPACT);
        r = energy_gateway_raw(&srv, g, "PUT", "/api/v1/gateway/settings", text);
        if (r.status != 201 && r.status != 200)
                fprintf(stderr, "settings: %ld %s\n", r.status, r.body);
        assert_true(r.status == 201 || r.status == 200);
        api_resp_free(&r);
        json_decref(doc);
        free(text);
}

/* The ids of GET /homes/{id}/manuals as a sorted list in ids (n items). */
static size_t home_manual_ids(const char *token, int64_t home, int64_t *ids, size_t max,
                              json_t **models)
{
        struct api_resp r = callf("GET", token, NULL, "/api/v1/homes/%lld/manuals",
                                  (long long)home);
        json_t *it;
        size_t i, n = 0;

        expect(&r, 200);
        json_array_foreach(api_json_get(r.json, "items"), i, it) {
                assert_true(n < max);
                ids[n++] = json_integer_value(json_object_get(it, "id"));
        }
        for (size_t a = 1; a < n; a++)
                for (size_t b = a; b > 0 && ids[b - 1] > ids[b]; b--) {
                        int64_t t = ids[b];

                        ids[b] = ids[b - 1];
                        ids[b - 1] = t;
                }
        if (models)
                *models = json_incref(api_json_get(r.json, "models"));
        api_resp_free(&r);
        return n;
}

static void test_HE_12_member_sees_exactly_connected_models(void **state)
{
        int k = ++seq;
        char gw_model[32], ac[32], ec[32], other[32];
        char *owner = new_member("owner"), *mate = new_member("mate");
        struct energy_gateway g;
        int64_t m_gw, m_ac, m_ac_en, m_ec, ids[16];
        json_t *models;
        size_t n;

        (void)state;
        snprintf(gw_model, sizeof(gw_model), "AISEG-%d", k);
        snprintf(ac, sizeof(ac), "AC-%d", k);
        snprintf(ec, sizeof(ec), "EC-%d", k);
        snprintf(other, sizeof(other), "OTHER-%d", k);
        m_gw = upload(gw_model, "Gateway+manual", "ja", false, "%PDF-1.4 gateway");
        m_ac = upload(ac, "Aircon", "ja", true, "<html><body>エアコン</body></html>");
        m_ac_en = upload(ac, "Aircon", "en", false, "%PDF-1.4 aircon en");
        m_ec = upload(ec, "Water+heater", "ja", false, "%PDF-1.4 water heater");
        (void)upload(other, "Other", "ja", false, "%PDF-1.4 other");

        energy_gateway_in_home(&srv, gw_model, "1.0", owner, &g);
        energy_home_add_member(&srv, g.home_id, owner, mate);

        /* No settings yet: the gateway's own model only. */
        n = home_manual_ids(owner, g.home_id, ids, 16, &models);
        assert_int_equal(n, 1);
        assert_int_equal(ids[0], m_gw);
        assert_int_equal(json_array_size(models), 1);
        json_decref(models);

        /* The devices of the settings connect their models. */
        put_devices(&g, (const char *const[]){ ac, ec, "", NULL });
        n = home_manual_ids(mate, g.home_id, ids, 16, &models);
        assert_int_equal(n, 4);
        assert_int_equal(ids[0], m_gw);
        assert_int_equal(ids[1], m_ac);
        assert_int_equal(ids[2], m_ac_en);
        assert_int_equal(ids[3], m_ec);
        assert_int_equal(json_array_size(models), 3);
        assert_string_equal(json_string_value(json_array_get(models, 0)), ac);
        assert_string_equal(json_string_value(json_array_get(models, 1)), gw_model);
        assert_string_equal(json_string_value(json_array_get(models, 2)), ec);
        json_decref(models);

        /* The newest settings decide: the water heater is gone. */
        put_devices(&g, (const char *const[]){ ac, NULL });
        n = home_manual_ids(owner, g.home_id, ids, 16, NULL);
        assert_int_equal(n, 3);
        assert_int_equal(ids[0], m_gw);
        assert_int_equal(ids[1], m_ac);
        assert_int_equal(ids[2], m_ac_en);
        free(owner);
        free(mate);
}

static void test_HE_12_other_household_sees_none(void **state)
{
        int k = ++seq;
        char model_a[32], model_b[32];
        char *a = new_member("a"), *b = new_member("b");
        struct energy_gateway ga, gb;
        struct api_resp r;
        int64_t m, ids[4];

        (void)state;
        snprintf(model_a, sizeof(model_a), "GW-A-%d", k);
        snprintf(model_b, sizeof(model_b), "GW-B-%d", k);
        m = upload(model_a, "A", "ja", false, "%PDF-1.4 a");
        energy_gateway_in_home(&srv, model_a, NULL, a, &ga);
        energy_gateway_in_home(&srv, model_b, NULL, b, &gb);

        assert_int_equal(home_manual_ids(b, gb.home_id, ids, 4, NULL), 0);
        r = callf("GET", b, NULL, "/api/v1/homes/%lld/manuals", (long long)ga.home_id);
        assert_problem(&r, 404, "not_found");
        api_resp_free(&r);
        r = callf("GET", b, NULL, "/api/v1/homes/%lld/manuals/%lld", (long long)ga.home_id,
                  (long long)m);
        assert_problem(&r, 404, "not_found");
        api_resp_free(&r);
        r = callf("GET", b, NULL, "/api/v1/homes/%lld/manuals/%lld", (long long)gb.home_id,
                  (long long)m);
        assert_problem(&r, 404, "not_found");
        api_resp_free(&r);
        /* Only members of the household: not even the operator. */
        r = callf("GET", op(), NULL, "/api/v1/homes/%lld/manuals", (long long)ga.home_id);
        assert_problem(&r, 404, "not_found");
        api_resp_free(&r);
        r = callf("GET", NULL, NULL, "/api/v1/homes/%lld/manuals", (long long)ga.home_id);
        expect(&r, 401);
        api_resp_free(&r);
        free(a);
        free(b);
}

static void test_HE_12_download_and_404_for_unconnected_model(void **state)
{
        int k = ++seq;
        char gwm[32], dev[32], other[32];
        const char *pdf = "%PDF-1.7\n% a small manual\n%%EOF\n";
        const char *html = "<!doctype html><p>取扱説明書</p>";
        char *owner = new_member("dl");
        unsigned char digest[crypto_hash_sha256_BYTES];
        char hex[65];
        struct energy_gateway g;
        struct api_resp r;
        int64_t m_pdf, m_html, m_other, m_big;
        char *big, *q;
        json_t *it;
        size_t i;

        (void)state;
        snprintf(gwm, sizeof(gwm), "GW-DL-%d", k);
        snprintf(dev, sizeof(dev), "DEV-DL-%d", k);
        snprintf(other, sizeof(other), "OTHER-DL-%d", k);
        m_pdf = upload(gwm, "PDF", "ja", false, pdf);
        m_html = upload(dev, "HTML", "ja", true, html);
        m_other = upload(other, "Other", "ja", false, "%PDF-1.4 not yours");
        energy_gateway_in_home(&srv, gwm, NULL, owner, &g);
        put_devices(&g, (const char *const[]){ dev, NULL });

        r = callf("GET", owner, NULL, "/api/v1/homes/%lld/manuals/%lld", (long long)g.home_id,
                  (long long)m_pdf);
        expect(&r, 200);
        assert_string_equal(r.content_type, "application/pdf");
        assert_int_equal(r.len, strlen(pdf));
        assert_memory_equal(r.body, pdf, r.len);
        api_resp_free(&r);

        r = callf("GET", owner, NULL, "/api/v1/homes/%lld/manuals/%lld", (long long)g.home_id,
                  (long long)m_html);
        expect(&r, 200);
        assert_string_equal(r.content_type, "text/html; charset=utf-8");
        assert_string_equal(r.body, html);
        api_resp_free(&r);

        /* The listed SHA-256 is the file's. */
        r = callf("GET", owner, NULL, "/api/v1/homes/%lld/manuals", (long long)g.home_id);
        expect(&r, 200);
        crypto_hash_sha256(digest, (const unsigned char *)pdf, strlen(pdf));
        sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 2);
        json_array_foreach(api_json_get(r.json, "items"), i, it)
                if (json_integer_value(json_object_get(it, "id")) == m_pdf)
                        assert_string_equal(json_string_value(json_object_get(it, "sha256")),
                                            hex);
        api_resp_free(&r);

        /* A file larger than a JSON body may be (3 MiB) goes through whole. */
        big = malloc(BIG_FILE);
        assert_non_null(big);
        memcpy(big, "%PDF-1.7\n", 9);
        for (size_t b = 9; b < BIG_FILE; b++)
                big[b] = (char)('a' + b % 26);
        q = api_printf("model=%s&title=Big&language=en", gwm);
        r = upload_raw(op(), "application/pdf", q, big, BIG_FILE);
        expect(&r, 201);
        m_big = api_json_int(r.json, "id", 0);
        api_resp_free(&r);
        r = callf("GET", owner, NULL, "/api/v1/homes/%lld/manuals/%lld", (long long)g.home_id,
                  (long long)m_big);
        expect(&r, 200);
        assert_int_equal(r.len, BIG_FILE);
        assert_memory_equal(r.body, big, BIG_FILE);
        api_resp_free(&r);
        free(big);
        free(q);

        r = callf("GET", owner, NULL, "/api/v1/homes/%lld/manuals/%lld", (long long)g.home_id,
                  (long long)m_other);
        assert_problem(&r, 404, "not_found");
        api_resp_free(&r);
        r = callf("GET", owner, NULL, "/api/v1/homes/%lld/manuals/999999", (long long)g.home_id);
        assert_problem(&r, 404, "not_found");
        api_resp_free(&r);

        /* Deleted by the operator: gone for the household too. */
        r = callf("DELETE", op(), NULL, "/api/v1/manuals/%lld", (long long)m_pdf);
        expect(&r, 204);
        api_resp_free(&r);
        r = callf("GET", owner, NULL, "/api/v1/homes/%lld/manuals/%lld", (long long)g.home_id,
                  (long long)m_pdf);
        assert_problem(&r, 404, "not_found");
        api_resp_free(&r);
        free(owner);
}

static void test_HE_12_upload_checks(void **state)
{
        int k = ++seq;
        char q[128], *member = new_member("up");
        struct api_resp r;
        int64_t id;

        (void)state;
        snprintf(q, sizeof(q), "model=UP-%d&title=T&language=ja", k);
        r = upload_raw(op(), "application/json", q, "{}", 2);
        assert_problem(&r, 415, "unsupported_media_type");
        api_resp_free(&r);
        r = upload_raw(op(), "application/pdf", q, "<html>", 6);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "body", "not_a_pdf"));
        api_resp_free(&r);
        r = upload_raw(op(), "text/html", q, "\xff\xfe<html>", 8);
        assert_true(has_field_error(&r, "body", "invalid_utf8"));
        api_resp_free(&r);
        r = upload_raw(op(), "application/pdf", "title=T&language=japanese!", "%PDF-1", 6);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "model", "required"));
        assert_true(has_field_error(&r, "language", "invalid"));
        api_resp_free(&r);
        r = upload_raw(member, "application/pdf", q, "%PDF-1", 6);
        assert_problem(&r, 403, "forbidden");
        api_resp_free(&r);

        /* The same file again for the same model and language: the one stored. */
        r = upload_raw(op(), "application/pdf", q, "%PDF-1 same", 11);
        expect(&r, 201);
        id = api_json_int(r.json, "id", 0);
        api_resp_free(&r);
        r = upload_raw(op(), "application/pdf", q, "%PDF-1 same", 11);
        expect(&r, 200);
        assert_int_equal(api_json_int(r.json, "id", 0), id);
        api_resp_free(&r);

        r = callf("GET", op(), NULL, "/api/v1/manuals?model=UP-%d", k);
        expect(&r, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 1);
        assert_int_equal(api_json_int(r.json, "items.0.id", 0), id);
        api_resp_free(&r);
        r = callf("DELETE", op(), NULL, "/api/v1/manuals/%lld", (long long)id);
        expect(&r, 204);
        api_resp_free(&r);
        r = callf("DELETE", op(), NULL, "/api/v1/manuals/%lld", (long long)id);
        expect(&r, 404);
        api_resp_free(&r);
        free(member);
}

/* ---- distribution -------------------------------------------------------------------- */

struct distributor {
        int64_t id;
        char key[80];
};

static const char *in_days(int days)
{
        static char buf[4][40];
        static int n;
        char *b = buf[n++ % 4];
        time_t t = time(NULL) + (time_t)days * 86400;
        struct tm tm;

        gmtime_r(&t, &tm);
        strftime(b, 40, "%Y-%m-%dT%H:%M:%SZ", &tm);
        return b;
}

static void make_distributor(const char *contract, const char *expires,
                             struct distributor *d)
{
        char *body = api_printf("{\"name\":\"配信会社 %d\",\"contract\":%s,\"expires_at\":\"%s\"}",
                                ++seq, contract, expires);
        struct api_resp r = callf("POST", op(), body, "/api/v1/distributors");

        expect(&r, 201);
        d->id = api_json_int(r.json, "id", 0);
        assert_true(d->id > 0);
        assert_non_null(api_json_str(r.json, "api_key"));
        snprintf(d->key, sizeof(d->key), "%s", api_json_str(r.json, "api_key"));
        assert_string_equal(r.cache_control, "no-store");
        api_resp_free(&r);
        free(body);
}

/* The distributor sends; returns the answer (caller frees). */
static struct api_resp send_content(const struct distributor *d, const char *title,
                                    const char *target)
{
        char *body = api_printf("{\"title\":\"%s\",\"body\":\"本文\\n2行目\","
                                "\"link\":\"https://example.com/x\",\"target\":%s}",
                                title, target);
        struct api_resp r = callf("POST", d->key, body, "/api/v1/distribution/contents");

        free(body);
        return r;
}

static int64_t send_ok(const struct distributor *d, const char *title, const char *target,
                       int64_t recipients)
{
        struct api_resp r = send_content(d, title, target);
        int64_t id;

        expect(&r, 201);
        assert_int_equal(api_json_int(r.json, "recipients", -1), recipients);
        id = api_json_int(r.json, "id", 0);
        assert_true(id > 0);
        api_resp_free(&r);
        return id;
}

static void test_HE_15_key_shown_once(void **state)
{
        struct distributor d;
        char *member = new_member("key");
        struct api_resp r;
        json_t *it;
        size_t i;
        bool found = false;

        (void)state;
        make_distributor("{\"kinds\":[\"all_gateways\"]}", in_days(30), &d);
        assert_memory_equal(d.key, "edk_", 4);

        r = callf("GET", op(), NULL, "/api/v1/distributors?limit=500");
        expect(&r, 200);
        assert_null(strstr(r.body, d.key));
        assert_null(strstr(r.body, "api_key"));
        json_array_foreach(api_json_get(r.json, "items"), i, it) {
                const char *hint = json_string_value(json_object_get(it, "key_hint"));

                if (json_integer_value(json_object_get(it, "id")) != d.id)
                        continue;
                found = true;
                assert_string_equal(hint + strlen(hint) - 4, d.key + strlen(d.key) - 4);
                assert_string_equal(json_string_value(json_object_get(it, "state")), "active");
        }
        assert_true(found);
        api_resp_free(&r);

        /* Only operators create distributors. */
        r = callf("POST", member, "{\"name\":\"x\",\"contract\":{\"kinds\":[\"members\"]},"
                  "\"expires_at\":\"2099-01-01T00:00:00Z\"}", "/api/v1/distributors");
        assert_problem(&r, 403, "forbidden");
        api_resp_free(&r);
        /* A member's session is no distributor key, and the key no session. */
        r = callf("GET", member, NULL, "/api/v1/distribution/contents");
        assert_problem(&r, 401, "distributor_auth_failed");
        api_resp_free(&r);
        r = callf("GET", d.key, NULL, "/api/v1/me");
        assert_problem(&r, 401, "unauthorized");
        api_resp_free(&r);
        r = callf("GET", "edk_not-a-real-key", NULL, "/api/v1/distribution/contents");
        assert_problem(&r, 401, "distributor_auth_failed");
        api_resp_free(&r);
        r = callf("GET", d.key, NULL, "/api/v1/distribution/contents");
        expect(&r, 200);
        api_resp_free(&r);
        /* Contract checks at creation. */
        r = callf("POST", op(), "{\"name\":\"x\",\"contract\":{\"kinds\":[\"everyone\"]},"
                  "\"expires_at\":\"2001-01-01T00:00:00Z\"}", "/api/v1/distributors");
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "contract.kinds.0", "invalid"));
        assert_true(has_field_error(&r, "expires_at", "not_future"));
        api_resp_free(&r);
        free(member);
}

static void test_HE_15_target_inside_and_outside_contract(void **state)
{
        int k = ++seq;
        char m1[32], m2[32], m3[32], m4[32], contract[160], target[160];
        char *owner = new_member("tgt");
        struct energy_gateway g;
        struct distributor d, wide;
        struct api_resp r;

        (void)state;
        snprintf(m1, sizeof(m1), "T1-%d", k);
        snprintf(m2, sizeof(m2), "T2-%d", k);
        snprintf(m3, sizeof(m3), "T3-%d", k);
        snprintf(m4, sizeof(m4), "T4-%d", k);
        for (int i = 0; i < 2; i++)
                energy_gateway_in_home(&srv, m1, NULL, owner, &g);
        energy_gateway_in_home(&srv, m2, NULL, owner, &g);
        energy_gateway_in_home(&srv, m3, NULL, owner, &g);
        energy_gateway_provision(&srv, m1, NULL, &g);   /* not registered: no recipient */
        for (int i = 0; i < MAX_TARGETS + 1; i++)
                energy_gateway_in_home(&srv, m4, NULL, owner, &g);

        snprintf(contract, sizeof(contract), "{\"kinds\":[\"models\"],\"models\":[\"%s\",\"%s\"]}",
                 m1, m2);
        make_distributor(contract, in_days(30), &d);

        snprintf(target, sizeof(target), "{\"audience\":\"gateways\",\"models\":[\"%s\"]}", m1);
        (void)send_ok(&d, "inside", target, 2);
        snprintf(target, sizeof(target), "{\"audience\":\"gateways\",\"models\":[\"%s\",\"%s\"]}",
                 m1, m2);
        (void)send_ok(&d, "inside both", target, 3);

        snprintf(target, sizeof(target), "{\"audience\":\"gateways\",\"models\":[\"%s\"]}", m3);
        r = send_content(&d, "outside", target);
        assert_problem(&r, 403, "target_not_allowed");
        api_resp_free(&r);
        r = send_content(&d, "all", "{\"audience\":\"gateways\"}");
        assert_problem(&r, 403, "target_not_allowed");
        api_resp_free(&r);
        snprintf(target, sizeof(target), "{\"audience\":\"members\",\"models\":[\"%s\"]}", m1);
        r = send_content(&d, "members", target);
        assert_problem(&r, 403, "target_not_allowed");
        api_resp_free(&r);
        snprintf(target, sizeof(target), "{\"audience\":\"gateways\",\"models\":[\"%s\"],"
                 "\"prefectures\":[\"東京都\"]}", m1);
        r = send_content(&d, "prefectures", target);
        assert_problem(&r, 403, "target_not_allowed");
        api_resp_free(&r);
        r = send_content(&d, "bad", "{\"audience\":\"everyone\",\"models\":[]}");
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "target.audience", "invalid"));
        assert_true(has_field_error(&r, "target.models", "required"));
        api_resp_free(&r);

        /* Inside the contract but too many recipients: refused, nothing recorded. */
        make_distributor("{\"kinds\":[\"models\"]}", in_days(30), &wide);
        snprintf(target, sizeof(target), "{\"audience\":\"gateways\",\"models\":[\"%s\"]}", m4);
        r = send_content(&wide, "too many", target);
        assert_problem(&r, 422, "too_many_recipients");
        assert_int_equal(api_json_int(r.json, "max_recipients", 0), MAX_TARGETS);
        api_resp_free(&r);
        r = callf("GET", wide.key, NULL, "/api/v1/distribution/contents");
        expect(&r, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 0);
        api_resp_free(&r);
        r = callf("GET", d.key, NULL, "/api/v1/distribution/contents");
        expect(&r, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 2);
        assert_string_equal(api_json_str(r.json, "items.0.title"), "inside both");
        assert_int_equal(api_json_int(r.json, "items.0.recipients", 0), 3);
        api_resp_free(&r);
        free(owner);
}

/* Sets the household's prefecture (HE-10). */
static void set_prefecture(const char *owner, int64_t home, const char *pref)
{
        char *body = api_printf("{\"prefecture\":\"%s\"}", pref);
        struct api_resp r = callf("PUT", owner, body, "/api/v1/homes/%lld/household",
                                  (long long)home);

        expect(&r, 200);
        api_resp_free(&r);
        free(body);
}

static size_t feed_count(struct api_resp *r)
{
        return json_array_size(api_json_get(r->json, "items"));
}

static void test_HE_15_deliveries_recorded(void **state)
{
        int k = ++seq;
        char model[32], p1[32], p2[32], target[160];
        char *a_owner = new_member("da"), *a_mate = new_member("dm"), *b_owner = new_member("db");
        int64_t a_owner_id = member_id(a_owner), a_mate_id = member_id(a_mate);
        struct energy_gateway ga, gb;
        struct distributor d;
        struct api_resp r;
        int64_t c1, c2, cursor;
        bool seen_owner = false, seen_mate = false;
        json_t *it;
        size_t i;

        (void)state;
        snprintf(model, sizeof(model), "DL-%d", k);
        snprintf(p1, sizeof(p1), "県A-%d", k);
        snprintf(p2, sizeof(p2), "県B-%d", k);
        energy_gateway_in_home(&srv, model, NULL, a_owner, &ga);
        energy_home_add_member(&srv, ga.home_id, a_owner, a_mate);
        energy_gateway_in_home(&srv, model, NULL, b_owner, &gb);
        set_prefecture(a_owner, ga.home_id, p1);
        set_prefecture(b_owner, gb.home_id, p2);

        /* B's owner opts out (PD-1): recorded with its time. */
        r = callf("GET", b_owner, NULL, "/api/v1/me/distribution-consent");
        expect(&r, 200);
        assert_true(json_is_true(api_json_get(r.json, "receive")));
        api_resp_free(&r);
        r = callf("PUT", b_owner, "{\"receive\":false}", "/api/v1/me/distribution-consent");
        expect(&r, 200);
        assert_true(json_is_false(api_json_get(r.json, "receive")));
        assert_non_null(api_json_str(r.json, "changed_at"));
        api_resp_free(&r);

        make_distributor("{\"kinds\":[\"prefectures\",\"members\",\"models\"]}", in_days(30), &d);
        snprintf(target, sizeof(target), "{\"audience\":\"gateways\",\"prefectures\":[\"%s\"]}",
                 p1);
        c1 = send_ok(&d, "to gateways", target, 1);
        snprintf(target, sizeof(target), "{\"audience\":\"members\",\"models\":[\"%s\"]}", model);
        c2 = send_ok(&d, "to members", target, 2);

        /* Gateway A got the first; gateway B nothing. */
        r = energy_gateway_call(&srv, &ga, "GET", "/api/v1/gateway/contents", NULL, 200);
        assert_int_equal(feed_count(&r), 1);
        assert_int_equal(api_json_int(r.json, "items.0.content_id", 0), c1);
        assert_string_equal(api_json_str(r.json, "items.0.title"), "to gateways");
        assert_string_equal(api_json_str(r.json, "items.0.body"), "本文\n2行目");
        assert_string_equal(api_json_str(r.json, "items.0.link"), "https://example.com/x");
        assert_int_equal(api_json_int(r.json, "items.0.from.distributor_id", 0), d.id);
        cursor = api_json_int(r.json, "next_cursor", 0);
        assert_int_equal(cursor, api_json_int(r.json, "items.0.id", -1));
        api_resp_free(&r);
        {
                char *path = api_printf("/api/v1/gateway/contents?cursor=%lld", (long long)cursor);

                r = energy_gateway_call(&srv, &ga, "GET", path, NULL, 200);
                assert_int_equal(feed_count(&r), 0);
                assert_int_equal(api_json_int(r.json, "next_cursor", 0), cursor);
                api_resp_free(&r);
                free(path);
        }
        r = energy_gateway_call(&srv, &gb, "GET", "/api/v1/gateway/contents", NULL, 200);
        assert_int_equal(feed_count(&r), 0);
        api_resp_free(&r);

        /* Members of A got the second; B's owner, who opted out, nothing. */
        r = callf("GET", a_mate, NULL, "/api/v1/me/contents");
        expect(&r, 200);
        assert_int_equal(feed_count(&r), 1);
        assert_int_equal(api_json_int(r.json, "items.0.content_id", 0), c2);
        api_resp_free(&r);
        r = callf("GET", b_owner, NULL, "/api/v1/me/contents");
        expect(&r, 200);
        assert_int_equal(feed_count(&r), 0);
        api_resp_free(&r);

        /* The operator's record: who sent what to whom, when. */
        r = callf("GET", op(), NULL, "/api/v1/deliveries?distributor_id=%lld", (long long)d.id);
        expect(&r, 200);
        assert_int_equal(feed_count(&r), 3);
        assert_int_equal(api_json_int(r.json, "items.0.content.id", 0), c1);
        assert_string_equal(api_json_str(r.json, "items.0.recipient.kind"), "gateway");
        assert_int_equal(api_json_int(r.json, "items.0.recipient.gateway_id", 0), ga.id);
        assert_int_equal(api_json_int(r.json, "items.0.recipient.home_id", 0), ga.home_id);
        assert_int_equal(api_json_int(r.json, "items.0.distributor.id", 0), d.id);
        assert_non_null(api_json_str(r.json, "items.0.delivered_at"));
        json_array_foreach(api_json_get(r.json, "items"), i, it) {
                int64_t who = json_integer_value(json_object_get(
                        json_object_get(it, "recipient"), "member_id"));

                if (i == 0)
                        continue;
                assert_int_equal(json_integer_value(json_object_get(
                        json_object_get(it, "content"), "id")), c2);
                seen_owner |= who == a_owner_id;
                seen_mate |= who == a_mate_id;
        }
        assert_true(seen_owner && seen_mate);
        api_resp_free(&r);
        r = callf("GET", a_owner, NULL, "/api/v1/deliveries");
        assert_problem(&r, 403, "forbidden");
        api_resp_free(&r);

        /* Opting back in counts for the next content. */
        r = callf("PUT", b_owner, "{\"receive\":true}", "/api/v1/me/distribution-consent");
        expect(&r, 200);
        api_resp_free(&r);
        (void)send_ok(&d, "again", target, 3);
        free(a_owner);
        free(a_mate);
        free(b_owner);
}

static void test_HE_15_revoked_distributor_401(void **state)
{
        struct distributor d;
        struct api_resp r;

        (void)state;
        make_distributor("{\"kinds\":[\"members\",\"prefectures\"],\"prefectures\":[\"どこにもない県\"]}",
                         in_days(30), &d);
        (void)send_ok(&d, "before", "{\"audience\":\"members\",\"prefectures\":[\"どこにもない県\"]}",
                      0);
        r = callf("DELETE", op(), NULL, "/api/v1/distributors/%lld", (long long)d.id);
        expect(&r, 200);
        assert_string_equal(api_json_str(r.json, "state"), "revoked");
        assert_non_null(api_json_str(r.json, "revoked_at"));
        api_resp_free(&r);
        r = send_content(&d, "after", "{\"audience\":\"members\","
                         "\"prefectures\":[\"どこにもない県\"]}");
        assert_problem(&r, 401, "distributor_revoked");
        assert_string_equal(r.www_authenticate, "Bearer realm=\"enemane-distributor\"");
        api_resp_free(&r);
        r = callf("GET", d.key, NULL, "/api/v1/distribution/contents");
        assert_problem(&r, 401, "distributor_revoked");
        api_resp_free(&r);
        r = callf("DELETE", op(), NULL, "/api/v1/distributors/%lld", (long long)d.id);
        assert_problem(&r, 409, "already_revoked");
        api_resp_free(&r);
}

/* Runs last: moves the server clock two days on. */
static void test_HE_15_expired_distributor_401(void **state)
{
        struct distributor d;
        struct api_resp r;
        char *body;

        (void)state;
        make_distributor("{\"kinds\":[\"all_gateways\",\"members\"]}", in_days(1), &d);
        r = callf("GET", d.key, NULL, "/api/v1/distribution/contents");
        expect(&r, 200);
        api_resp_free(&r);
        body = api_printf("{\"now\":\"%s\"}", in_days(2));
        r = callf("PUT", op(), body, "/api/v1/_test/clock");
        expect(&r, 200);
        api_resp_free(&r);
        free(body);
        r = send_content(&d, "late", "{\"audience\":\"members\"}");
        assert_problem(&r, 401, "contract_expired");
        api_resp_free(&r);
        r = callf("GET", op(), NULL, "/api/v1/distributors?after=%lld&limit=1",
                  (long long)(d.id - 1));
        expect(&r, 200);
        assert_string_equal(api_json_str(r.json, "items.0.state"), "expired");
        api_resp_free(&r);
}

/* ---- setup ------------------------------------------------------------------------- */

static int setup(void **state)
{
        (void)state;
        if (sodium_init() < 0)
                return -1;
        return api_server_start(&srv, server_args) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
        (void)state;
        return api_server_stop(&srv) == 0 ? 0 : -1;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_HE_12_member_sees_exactly_connected_models),
                cmocka_unit_test(test_HE_12_other_household_sees_none),
                cmocka_unit_test(test_HE_12_download_and_404_for_unconnected_model),
                cmocka_unit_test(test_HE_12_upload_checks),
                cmocka_unit_test(test_HE_15_key_shown_once),
                cmocka_unit_test(test_HE_15_target_inside_and_outside_contract),
                cmocka_unit_test(test_HE_15_deliveries_recorded),
                cmocka_unit_test(test_HE_15_revoked_distributor_401),
                cmocka_unit_test(test_HE_15_expired_distributor_401),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
