/*
 * common.h - member-level helpers shared by the API tests: register a
 * member with valid data, log in, create an operator through the CLI,
 * and assert the shape of a problem+json answer. Static inline so each
 * test executable carries its own copy; they only call the harness.
 */
#ifndef ENEMANE_TESTS_API_COMMON_H
#define ENEMANE_TESTS_API_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"

#define DEFAULT_PASSWORD "a-long-test-password-7"

/* The consents array for the current terms and privacy versions. */
static inline char *current_consents(struct api_server *s)
{
        struct api_resp r = { 0 };
        json_t *items, *out = json_array(), *it;
        size_t i;
        char *str;

        assert_int_equal(api_call(s, "GET", "/api/v1/documents", NULL, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        items = api_json_get(r.json, "items");
        assert_non_null(items);
        json_array_foreach(items, i, it)
                json_array_append_new(out, json_pack("{s:O, s:O}", "document",
                                                     json_object_get(it, "document"), "version",
                                                     json_object_get(it, "version")));
        str = json_dumps(out, JSON_COMPACT);
        json_decref(out);
        api_resp_free(&r);
        return str;
}

/* Registers an adult individual. extra is a list of JSON members that
 * replace or add to the defaults (e.g. "\"birth_date\":\"2016-04-01\","
 * with a trailing comma), or "". Returns the HTTP status; the response is
 * left in *out when non-NULL. */
static inline long register_member(struct api_server *s, const char *email, const char *extra,
                                   struct api_resp *out)
{
        struct api_resp r = { 0 };
        char *consents = current_consents(s);
        char *base = api_printf(
                "{\"kind\":\"individual\",\"email\":\"%s\",\"password\":\"%s\","
                "\"name\":\"山田 太郎\",\"name_kana\":\"ヤマダ タロウ\",\"phone\":\"090-1234-5678\","
                "\"birth_date\":\"1990-01-01\",\"address\":{\"postcode\":\"100-0001\","
                "\"prefecture\":\"東京都\",\"city\":\"千代田区\",\"line1\":\"千代田1-1\"},"
                "\"consents\":%s}", email, DEFAULT_PASSWORD, consents);
        json_t *obj = json_loads(base, 0, NULL);
        size_t elen = strlen(extra);
        char *body;
        long status;

        assert_non_null(obj);
        if (elen > 0) {
                char *ex = api_printf("{%.*s}", (int)(elen - 1), extra);
                json_t *o = json_loads(ex, 0, NULL);

                assert_non_null(o);
                json_object_update(obj, o);
                json_decref(o);
                free(ex);
        }
        body = json_dumps(obj, JSON_COMPACT);
        json_decref(obj);
        assert_int_equal(api_call(s, "POST", "/api/v1/members", NULL, body, &r), 0);
        status = r.status;
        if (out)
                *out = r;
        else
                api_resp_free(&r);
        free(body);
        free(base);
        free(consents);
        return status;
}

/* Logs in and returns the token (caller frees); fails the test if not 201. */
static inline char *login(struct api_server *s, const char *email, const char *password)
{
        struct api_resp r = { 0 };
        char *body = api_printf("{\"email\":\"%s\",\"password\":\"%s\"}", email, password);
        char *token;

        assert_int_equal(api_call(s, "POST", "/api/v1/sessions", NULL, body, &r), 0);
        if (r.status != 201)
                fprintf(stderr, "login %s: %ld %s\n", email, r.status, r.body);
        assert_int_equal(r.status, 201);
        token = strdup(api_json_str(r.json, "token"));
        api_resp_free(&r);
        free(body);
        return token;
}

/* Registers and logs in a member; returns the token. */
static inline char *member_token(struct api_server *s, const char *email)
{
        assert_int_equal(register_member(s, email, "", NULL), 201);
        return login(s, email, DEFAULT_PASSWORD);
}

/* Creates an operator with the CLI against the server's database and
 * returns a session token. */
static inline char *operator_token(struct api_server *s, const char *email)
{
        const char *args[] = { "admin", "create-operator", "--db-path", s->db_path,
                               "--email", email, "--password", DEFAULT_PASSWORD, NULL };
        char *out = NULL;
        int rc = api_cli(args, &out);

        if (rc != 0)
                fprintf(stderr, "create-operator: %s\n", out ? out : "");
        assert_int_equal(rc, 0);
        free(out);
        return login(s, email, DEFAULT_PASSWORD);
}

/* Registers a member and returns its wallet's ledger account id (the
 * operator's read creates the wallet; no login needed). */
static inline json_int_t member_wallet(struct api_server *s, const char *op_token,
                                       const char *email)
{
        struct api_resp r = { 0 };
        json_int_t id, wallet;
        char *path;

        assert_int_equal(register_member(s, email, "", &r), 201);
        id = api_json_int(r.json, "id", 0);
        api_resp_free(&r);
        path = api_printf("/api/v1/members/%lld/wallet", (long long)id);
        assert_int_equal(api_call(s, "GET", path, op_token, NULL, &r), 0);
        if (r.status != 200)
                fprintf(stderr, "GET %s: %ld %s\n", path, r.status, r.body);
        assert_int_equal(r.status, 200);
        wallet = api_json_int(r.json, "account_id", 0);
        assert_true(wallet > 4);        /* above the four system accounts */
        api_resp_free(&r);
        free(path);
        return wallet;
}

/* Asserts an RFC 9457 answer with this status and code. */
static inline void assert_problem(const struct api_resp *r, long status, const char *code)
{
        if (r->status != status || !r->json || !api_json_str(r->json, "code") ||
            strcmp(api_json_str(r->json, "code"), code) != 0)
                fprintf(stderr, "expected %ld %s, got %ld %s\n", status, code, r->status, r->body);
        assert_int_equal(r->status, status);
        assert_string_equal(r->content_type, "application/problem+json");
        assert_non_null(r->json);
        assert_string_equal(api_json_str(r->json, "code"), code);
        assert_int_equal(api_json_int(r->json, "status", 0), status);
        assert_non_null(api_json_str(r->json, "type"));
        assert_non_null(api_json_str(r->json, "title"));
        assert_non_null(api_json_str(r->json, "detail"));
}

/* True when errors[] has an entry for field with this code. */
static inline int has_field_error(const struct api_resp *r, const char *field, const char *code)
{
        json_t *errs = api_json_get(r->json, "errors"), *e;
        size_t i;

        json_array_foreach(errs, i, e) {
                const char *f = json_string_value(json_object_get(e, "field"));
                const char *c = json_string_value(json_object_get(e, "code"));

                if (f && c && strcmp(f, field) == 0 && (!code || strcmp(c, code) == 0))
                        return 1;
        }
        fprintf(stderr, "no error %s/%s in %s\n", field, code ? code : "*", r->body);
        return 0;
}

#endif
