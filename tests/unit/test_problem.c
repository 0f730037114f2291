/*
 * test_problem.c - RFC 9457 problem+json bodies: members, field errors
 * with JSON pointers, extension members, the error cap, NULL safety.
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "http/problem.h"

static json_t *render(struct problem *p, struct http_response *res)
{
        http_response_init(res);
        problem_render(p, res);
        assert_string_equal(res->content_type, "application/problem+json");
        return json_loadb(res->body.data, res->body.len, 0, NULL);
}

static void test_basic_members(void **state)
{
        struct http_response res;
        json_t *o = render(problem_new(404, "not_found", "No member %d.", 7), &res);

        assert_non_null(o);
        assert_int_equal(res.status, 404);
        assert_string_equal(json_string_value(json_object_get(o, "type")),
                            "urn:enemane:problem:not_found");
        assert_string_equal(json_string_value(json_object_get(o, "title")), "Not found");
        assert_int_equal(json_integer_value(json_object_get(o, "status")), 404);
        assert_string_equal(json_string_value(json_object_get(o, "detail")), "No member 7.");
        assert_string_equal(json_string_value(json_object_get(o, "code")), "not_found");
        assert_null(json_object_get(o, "errors"));
        json_decref(o);
        http_response_free(&res);
}

static void test_field_errors_and_pointer(void **state)
{
        struct http_response res;
        struct problem *p = problem_new(422, "validation_failed", "Bad.");
        json_t *o, *e;

        problem_add_error(p, "address.postcode", "invalid", "postcode %s", "is wrong");
        problem_add_error(p, "a/b~c", "invalid", "weird");
        assert_int_equal(problem_error_count(p), 2);
        o = render(p, &res);
        e = json_array_get(json_object_get(o, "errors"), 0);
        assert_string_equal(json_string_value(json_object_get(e, "field")), "address.postcode");
        assert_string_equal(json_string_value(json_object_get(e, "pointer")), "/address/postcode");
        assert_string_equal(json_string_value(json_object_get(e, "detail")), "postcode is wrong");
        e = json_array_get(json_object_get(o, "errors"), 1);
        assert_string_equal(json_string_value(json_object_get(e, "pointer")), "/a~1b~0c");
        json_decref(o);
        http_response_free(&res);
}

static void test_error_cap_counts_all(void **state)
{
        struct http_response res;
        struct problem *p = problem_new(422, "validation_failed", "Bad.");
        json_t *o;

        for (int i = 0; i < PROBLEM_MAX_ERRORS + 5; i++)
                problem_add_error(p, "f", "invalid", "x");
        o = render(p, &res);
        assert_int_equal(json_array_size(json_object_get(o, "errors")), PROBLEM_MAX_ERRORS);
        assert_int_equal(json_integer_value(json_object_get(o, "errors_total")),
                         PROBLEM_MAX_ERRORS + 5);
        json_decref(o);
        http_response_free(&res);
}

static void test_extensions(void **state)
{
        struct http_response res;
        struct problem *p = problem_new(429, "rate_limited", "Slow down.");
        json_t *o;

        problem_set_int(p, "retry_after", 30);
        problem_set_str(p, "hint", "wait");
        problem_set_json(p, "list", json_pack("[i,i]", 1, 2));
        problem_set_str(p, "code", "must-not-override");
        o = render(p, &res);
        assert_int_equal(json_integer_value(json_object_get(o, "retry_after")), 30);
        assert_string_equal(json_string_value(json_object_get(o, "hint")), "wait");
        assert_int_equal(json_array_size(json_object_get(o, "list")), 2);
        assert_string_equal(json_string_value(json_object_get(o, "code")), "rate_limited");
        json_decref(o);
        http_response_free(&res);
}

static void test_null_problem_is_500(void **state)
{
        struct http_response res;
        json_t *o = render(NULL, &res);

        assert_int_equal(res.status, 500);
        assert_string_equal(json_string_value(json_object_get(o, "code")), "internal_error");
        json_decref(o);
        http_response_free(&res);
        problem_free(NULL);
        assert_int_equal(problem_add_error(NULL, "f", "c", "x"), -22);
}

static void test_respond_escapes_detail(void **state)
{
        struct http_response res;
        json_t *o;

        http_response_init(&res);
        problem_respond(&res, 400, "bad", "quote \" and newline \n and 東京");
        o = json_loadb(res.body.data, res.body.len, 0, NULL);
        assert_non_null(o);
        assert_string_equal(json_string_value(json_object_get(o, "detail")),
                            "quote \" and newline \n and 東京");
        assert_string_equal(json_string_value(json_object_get(o, "title")), "Bad Request");
        json_decref(o);
        http_response_free(&res);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_basic_members),
                cmocka_unit_test(test_field_errors_and_pointer),
                cmocka_unit_test(test_error_cap_counts_all),
                cmocka_unit_test(test_extensions),
                cmocka_unit_test(test_null_problem_is_500),
                cmocka_unit_test(test_respond_escapes_detail),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
