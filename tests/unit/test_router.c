/*
 * test_router.c - the router: literal and parameter segments, method
 * matching, 405 with Allow, HEAD on GET routes, percent-decoding of
 * parameters, and the real route table's invariants.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api/api.h"
#include "http/router.h"

static const struct route table[] = {
        { HTTP_GET, "/healthz", NULL, 0, "healthz" },
        { HTTP_GET, "/api/v1/me", NULL, 0, "me.get" },
        { HTTP_PATCH, "/api/v1/me", NULL, 0, "me.patch" },
        { HTTP_GET, "/api/v1/members/{id}", NULL, 0, "members.get" },
        { HTTP_POST, "/api/v1/members/{id}/suspension", NULL, 0, "members.suspend" },
        { HTTP_DELETE, "/api/v1/members/{id}/suspension", NULL, 0, "members.reinstate" },
        { HTTP_GET, "/a/{x}/b/{y}", NULL, 0, "two" },
};
#define N (sizeof(table) / sizeof(table[0]))

static int match(enum http_method m, const char *path, struct http_request *req, char *allow)
{
        http_request_init(req);
        req->method = m;
        req->path = strdup(path);
        return router_match(table, N, req, allow, 128);
}

static void test_literal_match(void **state)
{
        struct http_request req;
        char allow[128];

        assert_int_equal(match(HTTP_GET, "/healthz", &req, allow), 0);
        assert_int_equal(req.route_index, 0);
        http_request_free(&req);
        assert_int_equal(match(HTTP_PATCH, "/api/v1/me", &req, allow), 2);
        http_request_free(&req);
}

static void test_param_match_and_decode(void **state)
{
        struct http_request req;
        char allow[128];

        assert_int_equal(match(HTTP_GET, "/api/v1/members/42", &req, allow), 3);
        assert_string_equal(http_request_param(&req, "id"), "42");
        assert_null(http_request_param(&req, "i"));
        http_request_free(&req);
        assert_int_equal(match(HTTP_GET, "/a/%E6%9D%B1+x/b/q%2Fr", &req, allow), 6);
        assert_string_equal(http_request_param(&req, "x"), "東+x");
        assert_string_equal(http_request_param(&req, "y"), "q/r");
        http_request_free(&req);
}

static void test_not_found(void **state)
{
        struct http_request req;
        char allow[128];

        assert_int_equal(match(HTTP_GET, "/api/v1/members", &req, allow), -ENOENT);
        http_request_free(&req);
        assert_int_equal(match(HTTP_GET, "/api/v1/members/", &req, allow), -ENOENT);
        http_request_free(&req);
        assert_int_equal(match(HTTP_GET, "/healthz/", &req, allow), -ENOENT);
        http_request_free(&req);
        assert_int_equal(match(HTTP_GET, "/api/v1/members/1/suspension/x", &req, allow), -ENOENT);
        http_request_free(&req);
        assert_int_equal(match(HTTP_GET, "", &req, allow), -ENOENT);
        http_request_free(&req);
        assert_int_equal(req.route_index, -1);
}

static void test_method_not_allowed_lists_allow(void **state)
{
        struct http_request req;
        char allow[128];

        assert_int_equal(match(HTTP_PUT, "/api/v1/me", &req, allow), -EOPNOTSUPP);
        assert_string_equal(allow, "GET, HEAD, PATCH");
        http_request_free(&req);
        assert_int_equal(match(HTTP_GET, "/api/v1/members/7/suspension", &req, allow),
                         -EOPNOTSUPP);
        assert_string_equal(allow, "POST, DELETE");
        http_request_free(&req);
}

static void test_head_matches_get(void **state)
{
        struct http_request req;
        char allow[128];

        assert_int_equal(match(HTTP_HEAD, "/healthz", &req, allow), 0);
        http_request_free(&req);
}

static void test_bad_percent_encoding(void **state)
{
        struct http_request req;
        char allow[128];

        assert_int_equal(match(HTTP_GET, "/api/v1/members/%zz", &req, allow), -EINVAL);
        http_request_free(&req);
        assert_int_equal(match(HTTP_GET, "/api/v1/members/%00", &req, allow), -EINVAL);
        http_request_free(&req);
        assert_int_equal(match(HTTP_GET, "/api/v1/members/%4", &req, allow), -EINVAL);
        http_request_free(&req);
}

static void test_query_get(void **state)
{
        char *v = NULL;

        assert_int_equal(http_query_get("a=1&bb=x%20y+z&c", "bb", &v), 1);
        assert_string_equal(v, "x y z");
        free(v);
        assert_int_equal(http_query_get("a=1&bb=2&c", "c", &v), 1);
        assert_string_equal(v, "");
        free(v);
        assert_int_equal(http_query_get("a=1", "b", &v), 0);
        assert_null(v);
        assert_int_equal(http_query_get("a=%G1", "a", &v), -EINVAL);
}

/* The real table: every route unique, literal routes before a parameter
 * route that would shadow them, names unique. */
static void test_api_table_invariants(void **state)
{
        for (size_t i = 0; i < api_routes_count; i++) {
                assert_non_null(api_routes[i].handler);
                assert_non_null(api_routes[i].name);
                for (size_t j = i + 1; j < api_routes_count; j++) {
                        assert_false(api_routes[i].method == api_routes[j].method &&
                                     strcmp(api_routes[i].pattern, api_routes[j].pattern) == 0);
                        assert_string_not_equal(api_routes[i].name, api_routes[j].name);
                        /* a later literal route must not be shadowed by an earlier pattern */
                        if (api_routes[i].method == api_routes[j].method &&
                            strchr(api_routes[j].pattern, '{') == NULL)
                                assert_false(router_pattern_matches(api_routes[i].pattern,
                                                                    api_routes[j].pattern));
                }
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_literal_match),
                cmocka_unit_test(test_param_match_and_decode),
                cmocka_unit_test(test_not_found),
                cmocka_unit_test(test_method_not_allowed_lists_allow),
                cmocka_unit_test(test_head_matches_get),
                cmocka_unit_test(test_bad_percent_encoding),
                cmocka_unit_test(test_query_get),
                cmocka_unit_test(test_api_table_invariants),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
