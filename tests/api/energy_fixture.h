/*
 * energy_fixture.h - test fixtures for the home energy service (issue 6):
 * an operator provisions a gateway (device code + secret), the gateway
 * registers (a home begins, HE-2) and shows a pairing code, a member links
 * to the home with it (the first linker owns it, HE-3), and the gateway
 * calls its own API with "Authorization: Basic base64(code:secret)".
 * Static inline like common.h; every step asserts its HTTP answer, so a
 * broken step fails the test at the step that broke.
 *
 * The operator is host_fixture.h's fixture_operator() (one per server).
 * The test executable must link libsodium (tests/meson.build does) and
 * call sodium_init() before the first gateway call.
 */
#ifndef ENEMANE_TESTS_API_ENERGY_FIXTURE_H
#define ENEMANE_TESTS_API_ENERGY_FIXTURE_H

#include <sodium.h>

#include "host_fixture.h"

struct energy_gateway {
        int64_t id;
        char device_code[64];
        char secret[128];
        char auth[300];                 /* "Authorization: Basic ..." */
        int64_t home_id;                /* after registration, 0 before */
};

/* The current terms version (what a gateway accepts when it registers). */
static inline char *energy_terms_version(struct api_server *s)
{
        struct api_resp r = fixture_call(s, "GET", "/api/v1/documents", NULL, NULL, 200);
        json_t *items = api_json_get(r.json, "items"), *it;
        char *v = NULL;
        size_t i;

        json_array_foreach(items, i, it) {
                const char *kind = json_string_value(json_object_get(it, "document"));

                if (!v && kind && strcmp(kind, "terms") == 0)
                        v = strdup(json_string_value(json_object_get(it, "version")));
        }
        api_resp_free(&r);
        assert_non_null(v);
        return v;
}

/* Fills g (zeroed first; home_id 0) from a gateway id, device code and
 * secret, with the "Authorization: Basic ..." header line in auth. For
 * gateways provisioned in bulk (CSV), and for wrong credentials. */
static inline void energy_gateway_credentials(struct energy_gateway *g, int64_t id,
                                              const char *code, const char *secret)
{
        char *pair, b64[256];

        memset(g, 0, sizeof(*g));
        g->id = id;
        snprintf(g->device_code, sizeof(g->device_code), "%s", code);
        snprintf(g->secret, sizeof(g->secret), "%s", secret);
        pair = api_printf("%s:%s", g->device_code, g->secret);
        sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)pair, strlen(pair),
                          sodium_base64_VARIANT_ORIGINAL);
        snprintf(g->auth, sizeof(g->auth), "Authorization: Basic %s", b64);
        free(pair);
}

/* Operator: POST /api/v1/gateways; fills id, code, secret and auth. */
static inline void energy_gateway_provision(struct api_server *s, const char *model,
                                            const char *firmware, struct energy_gateway *g)
{
        json_t *o = json_pack("{s:s}", "model", model);
        char *body;
        struct api_resp r;

        memset(g, 0, sizeof(*g));
        if (firmware)
                json_object_set_new(o, "firmware", json_string(firmware));
        body = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        r = fixture_call(s, "POST", "/api/v1/gateways", fixture_operator(s), body, 201);
        assert_true(api_json_int(r.json, "id", 0) > 0);
        assert_non_null(api_json_str(r.json, "device_code"));
        assert_non_null(api_json_str(r.json, "secret"));
        energy_gateway_credentials(g, api_json_int(r.json, "id", 0),
                                   api_json_str(r.json, "device_code"),
                                   api_json_str(r.json, "secret"));
        api_resp_free(&r);
        free(body);
}

/* One call as the gateway (JSON body when body is not NULL); the answer
 * is returned unchecked (caller frees). */
static inline struct api_resp energy_gateway_raw(struct api_server *s,
                                                 const struct energy_gateway *g,
                                                 const char *method, const char *path,
                                                 const char *body)
{
        const char *headers[] = { g->auth, "Content-Type: application/json", NULL };
        struct api_resp r = { 0 };

        if (!body)
                headers[1] = NULL;
        assert_int_equal(api_call_raw(s, method, path, headers, body, body ? strlen(body) : 0,
                                      &r), 0);
        return r;
}

/* The same, asserting the status. */
static inline struct api_resp energy_gateway_call(struct api_server *s,
                                                  const struct energy_gateway *g,
                                                  const char *method, const char *path,
                                                  const char *body, long status)
{
        struct api_resp r = energy_gateway_raw(s, g, method, path, body);

        if (r.status != status)
                fprintf(stderr, "gateway %s %s: expected %ld, got %ld %s\n", method, path, status,
                        r.status, r.body);
        assert_int_equal(r.status, status);
        return r;
}

/* Gateway: POST /api/v1/gateway/registration (current terms); sets home_id. */
static inline void energy_gateway_register(struct api_server *s, struct energy_gateway *g)
{
        char *terms = energy_terms_version(s);
        char *body = api_printf("{\"terms_version\":\"%s\"}", terms);
        struct api_resp r = energy_gateway_call(s, g, "POST", "/api/v1/gateway/registration",
                                                body, 201);

        g->home_id = api_json_int(r.json, "home_id", 0);
        assert_true(g->home_id > 0);
        api_resp_free(&r);
        free(body);
        free(terms);
}

/* Gateway: DELETE /api/v1/gateway/registration?data=keep|delete. */
static inline void energy_gateway_deregister(struct api_server *s, struct energy_gateway *g,
                                             const char *data)
{
        char *path = api_printf("/api/v1/gateway/registration?data=%s", data);
        struct api_resp r = energy_gateway_call(s, g, "DELETE", path, NULL, 200);

        api_resp_free(&r);
        free(path);
}

/* Gateway shows a pairing code; the member links to its home with it.
 * Returns the home id (the member's role is owner when it was the first). */
static inline int64_t energy_home_link(struct api_server *s, const struct energy_gateway *g,
                                       const char *member_token)
{
        struct api_resp r = energy_gateway_call(s, g, "POST", "/api/v1/gateway/pairing-code",
                                                NULL, 201);
        char *body;
        int64_t home;

        assert_non_null(api_json_str(r.json, "pairing_code"));
        body = api_printf("{\"device_code\":\"%s\",\"pairing_code\":\"%s\"}", g->device_code,
                          api_json_str(r.json, "pairing_code"));
        api_resp_free(&r);
        r = fixture_call(s, "POST", "/api/v1/homes/link", member_token, body, 201);
        home = api_json_int(r.json, "id", 0);
        assert_int_equal(home, g->home_id);
        api_resp_free(&r);
        free(body);
        return home;
}

/* Owner invites, member joins: the member gets role member in the home. */
static inline void energy_home_add_member(struct api_server *s, int64_t home_id,
                                          const char *owner_token, const char *member_token)
{
        char *path = api_printf("/api/v1/homes/%lld/invitations", (long long)home_id);
        struct api_resp r = fixture_call(s, "POST", path, owner_token, "{}", 201);
        char *body;

        assert_non_null(api_json_str(r.json, "invitation_code"));
        body = api_printf("{\"invitation_code\":\"%s\"}", api_json_str(r.json, "invitation_code"));
        api_resp_free(&r);
        r = fixture_call(s, "POST", "/api/v1/homes/join", member_token, body, 201);
        assert_int_equal(api_json_int(r.json, "id", 0), home_id);
        api_resp_free(&r);
        free(body);
        free(path);
}

/* Provisions, registers and links in one go: a gateway in use by the
 * owner's home. */
static inline void energy_gateway_in_home(struct api_server *s, const char *model,
                                          const char *firmware, const char *owner_token,
                                          struct energy_gateway *g)
{
        energy_gateway_provision(s, model, firmware, g);
        energy_gateway_register(s, g);
        energy_home_link(s, g, owner_token);
}

#endif
