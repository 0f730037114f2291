/*
 * test_api_errors.c - every kind of bad input gets an RFC 9457 answer
 * with a stable code: malformed JSON, duplicate keys, bad UTF-8, wrong
 * types, unknown fields, wrong or missing content type, oversize bodies,
 * unknown paths and methods, bad tokens. None of them changes anything.
 */
#include "common.h"

static struct api_server srv;

static int setup(void **state)
{
        static const char *const args[] = { "--http-max-body", "4k", NULL };

        return api_server_start(&srv, args) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
        return api_server_stop(&srv) == 0 ? 0 : -1;
}

static const char *const json_ct[] = { "Content-Type: application/json", NULL };

static void post_raw(const char *body, size_t len, struct api_resp *r)
{
        assert_int_equal(api_call_raw(&srv, "POST", "/api/v1/sessions", json_ct, body, len, r), 0);
}

static void test_malformed_json(void **state)
{
        struct api_resp r = { 0 };

        post_raw("{\"email\": ", 10, &r);
        assert_problem(&r, 400, "malformed_json");
        assert_true(api_json_int(r.json, "line", 0) >= 1);
        api_resp_free(&r);
}

static void test_duplicate_keys_rejected(void **state)
{
        struct api_resp r = { 0 };
        const char *b = "{\"email\":\"a@example.jp\",\"email\":\"b@example.jp\",\"password\":\"x\"}";

        post_raw(b, strlen(b), &r);
        assert_problem(&r, 400, "malformed_json");
        assert_non_null(strstr(api_json_str(r.json, "detail"), "duplicate"));
        api_resp_free(&r);
}

static void test_bad_utf8_rejected(void **state)
{
        struct api_resp r = { 0 };
        const char b[] = "{\"email\":\"\xff\xfe@example.jp\",\"password\":\"x\"}";

        post_raw(b, sizeof(b) - 1, &r);
        assert_problem(&r, 400, "malformed_json");
        api_resp_free(&r);
}

static void test_wrong_types_and_unknown_fields(void **state)
{
        struct api_resp r = { 0 };
        const char *b = "{\"email\":42,\"password\":[\"x\"],\"remember\":true}";

        post_raw(b, strlen(b), &r);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "email", "type"));
        assert_true(has_field_error(&r, "password", "type"));
        assert_true(has_field_error(&r, "remember", "unknown_field"));
        assert_non_null(api_json_str(r.json, "errors.0.pointer"));
        api_resp_free(&r);
}

static void test_body_must_be_object(void **state)
{
        struct api_resp r = { 0 };

        post_raw("[1,2]", 5, &r);
        assert_problem(&r, 400, "invalid_body");
        api_resp_free(&r);
        post_raw("", 0, &r);
        assert_problem(&r, 400, "invalid_body");
        api_resp_free(&r);
}

static void test_content_type_required(void **state)
{
        struct api_resp r = { 0 };
        const char *const ct[] = { "Content-Type: text/plain", NULL };
        const char *b = "{\"email\":\"a@example.jp\",\"password\":\"x\"}";

        assert_int_equal(api_call_raw(&srv, "POST", "/api/v1/sessions", ct, b, strlen(b), &r), 0);
        assert_problem(&r, 415, "unsupported_media_type");
        api_resp_free(&r);
}

static void test_oversize_body_413(void **state)
{
        struct api_resp r = { 0 };
        size_t n = 64 * 1024;
        char *big = malloc(n);

        memset(big, ' ', n);
        big[0] = '{';
        big[n - 1] = '}';
        post_raw(big, n, &r);
        assert_problem(&r, 413, "body_too_large");
        api_resp_free(&r);
        free(big);
        /* the server is still fine afterwards */
        assert_int_equal(api_call(&srv, "GET", "/healthz", NULL, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        api_resp_free(&r);
}

static void test_unknown_path_and_method(void **state)
{
        struct api_resp r = { 0 };

        assert_int_equal(api_call(&srv, "GET", "/api/v1/nothing-here", NULL, NULL, &r), 0);
        assert_problem(&r, 404, "not_found");
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "PUT", "/api/v1/sessions", NULL, "{}", &r), 0);
        assert_problem(&r, 405, "method_not_allowed");
        assert_string_equal(r.allow, "POST");
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "POST", "/api/v1/me", NULL, "{}", &r), 0);
        assert_problem(&r, 405, "method_not_allowed");
        assert_string_equal(r.allow, "GET, HEAD, PATCH, DELETE");
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "OPTIONS", "/api/v1/me", NULL, NULL, &r), 0);
        assert_int_equal(r.status, 204);
        assert_non_null(strstr(r.allow, "PATCH"));
        api_resp_free(&r);
}

static void test_bad_tokens_401(void **state)
{
        struct api_resp r = { 0 };
        const char *const basic[] = { "Authorization: Basic dXNlcjpwYXNz", NULL };

        assert_int_equal(api_call(&srv, "GET", "/api/v1/me", "ens_notarealtoken", NULL, &r), 0);
        assert_problem(&r, 401, "unauthorized");
        api_resp_free(&r);
        assert_int_equal(api_call_raw(&srv, "GET", "/api/v1/me", basic, NULL, 0, &r), 0);
        assert_problem(&r, 401, "unauthorized");
        api_resp_free(&r);
}

static void test_failed_registration_changes_nothing(void **state)
{
        struct api_resp r = { 0 };

        /* invalid -> nothing written: the same email registers fine afterwards */
        assert_int_equal(register_member(&srv, "atomic@example.jp", "\"phone\":\"1\",", &r), 422);
        api_resp_free(&r);
        assert_int_equal(register_member(&srv, "atomic@example.jp", "", NULL), 201);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_malformed_json),
                cmocka_unit_test(test_duplicate_keys_rejected),
                cmocka_unit_test(test_bad_utf8_rejected),
                cmocka_unit_test(test_wrong_types_and_unknown_fields),
                cmocka_unit_test(test_body_must_be_object),
                cmocka_unit_test(test_content_type_required),
                cmocka_unit_test(test_oversize_body_413),
                cmocka_unit_test(test_unknown_path_and_method),
                cmocka_unit_test(test_bad_tokens_401),
                cmocka_unit_test(test_failed_registration_changes_nothing),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
