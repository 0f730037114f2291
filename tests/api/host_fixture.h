/*
 * host_fixture.h - test fixtures for charger sharing: a publishable host
 * (applied, verified, contract active) and a driver who can book (an
 * individual with declarations and one EV). Static inline like common.h;
 * every step asserts its HTTP answer, so a broken step fails the test at
 * the step that broke.
 *
 * The operator that verifies hosts is created once per server through the
 * CLI (fixture_operator) and its token is kept in a static for the life of
 * the test executable.
 */
#ifndef ENEMANE_TESTS_API_HOST_FIXTURE_H
#define ENEMANE_TESTS_API_HOST_FIXTURE_H

#include "common.h"

/* An operator token for server s (created on first use, one per server
 * port: a test that starts a second server gets a second operator). */
static inline const char *fixture_operator(struct api_server *s)
{
        static char *token;
        static int port;
        static int n;

        if (!token || port != s->port) {
                char *email = api_printf("fixture-op-%d-%d@hosts.test", s->port, ++n);

                free(token);
                token = operator_token(s, email);
                port = s->port;
                free(email);
        }
        return token;
}

/* Sends a JSON request and asserts the status; returns the answer (the
 * caller frees it with api_resp_free). */
static inline struct api_resp fixture_call(struct api_server *s, const char *method,
                                           const char *path, const char *token,
                                           const char *body, long status)
{
        struct api_resp r = { 0 };

        assert_int_equal(api_call(s, method, path, token, body, &r), 0);
        if (r.status != status)
                fprintf(stderr, "%s %s: expected %ld, got %ld %s\n", method, path, status,
                        r.status, r.body);
        assert_int_equal(r.status, status);
        return r;
}

/* Registers a member of kind "individual" or "corporation", applies as
 * host, has an operator verify it and activate its contract; returns the
 * host's session token (caller frees), *host_id = its member id. */
static inline char *make_host(struct api_server *s, const char *email, const char *kind,
                              int64_t *host_id)
{
        struct api_resp r = { 0 };
        int64_t id;
        char *token, *path;

        /* register_member's defaults are an individual's (name, birth_date),
         * which a corporation must not send: build its body here. */
        if (kind && strcmp(kind, "corporation") == 0) {
                char *consents = current_consents(s);
                char *body = api_printf(
                        "{%s\"email\":\"%s\",\"password\":\"%s\",\"name_kana\":\"カブシキガイシャテスト\","
                        "\"phone\":\"03-1234-5678\",\"address\":{\"postcode\":\"100-0001\","
                        "\"prefecture\":\"東京都\",\"city\":\"千代田区\",\"line1\":\"丸の内1-1\"},"
                        "\"consents\":%s}",
                        "\"kind\":\"corporation\",\"corporate_name\":\"株式会社テスト\","
                        "\"contact_person\":\"担当 花子\",", email, DEFAULT_PASSWORD, consents);

                r = fixture_call(s, "POST", "/api/v1/members", NULL, body, 201);
                free(body);
                free(consents);
        } else {
                assert_int_equal(register_member(s, email, "", &r), 201);
        }
        id = api_json_int(r.json, "id", 0);
        assert_true(id > 0);
        api_resp_free(&r);
        token = login(s, email, DEFAULT_PASSWORD);

        r = fixture_call(s, "POST", "/api/v1/me/host", token,
                         "{\"display_name\":\"テスト充電スポット\"}", 201);
        api_resp_free(&r);
        path = api_printf("/api/v1/hosts/%lld/verification", (long long)id);
        r = fixture_call(s, "PUT", path, fixture_operator(s), "{\"status\":\"verified\"}", 200);
        api_resp_free(&r);
        free(path);
        path = api_printf("/api/v1/hosts/%lld/contract", (long long)id);
        r = fixture_call(s, "PUT", path, fixture_operator(s), "{\"status\":\"active\"}", 200);
        assert_true(json_is_true(api_json_get(r.json, "publishable")));
        api_resp_free(&r);
        free(path);
        if (host_id)
                *host_id = id;
        return token;
}

/* Registers an individual with declarations (valid until 2099) and one EV;
 * returns its token (caller frees), *vehicle_id = the vehicle's id. */
static inline char *make_driver(struct api_server *s, const char *email, int64_t *vehicle_id)
{
        struct api_resp r = { 0 };
        char *token;

        assert_int_equal(register_member(s, email, "", NULL), 201);
        token = login(s, email, DEFAULT_PASSWORD);
        r = fixture_call(s, "PUT", "/api/v1/me/driver", token,
                         "{\"driving_licence_expires_on\":\"2099-12-31\","
                         "\"compulsory_insurance_expires_on\":\"2099-12-31\","
                         "\"voluntary_insurance_expires_on\":\"2099-12-31\"}", 200);
        api_resp_free(&r);
        r = fixture_call(s, "POST", "/api/v1/me/vehicles", token,
                         "{\"maker\":\"日産\",\"model\":\"リーフ\",\"plate\":\"品川 300 あ 12-34\","
                         "\"powertrain\":\"ev\",\"connector\":\"chademo\",\"battery_kwh\":40}",
                         201);
        if (vehicle_id)
                *vehicle_id = api_json_int(r.json, "id", 0);
        api_resp_free(&r);
        return token;
}

#endif
