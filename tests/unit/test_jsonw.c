/*
 * test_jsonw.c - the streaming JSON writer: nesting and commas, RFC 8259
 * escaping (quotes, backslashes, control characters; UTF-8 passed through,
 * invalid UTF-8 refused), fixed-point numbers without floating point,
 * sticky errors (depth, unbalanced ends, the buf's cap), and that jansson
 * reads back exactly what was written.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "util/jsonw.h"

static void test_nesting_and_commas(void **state)
{
        struct buf b;
        struct jw w;

        buf_init(&b, 0);
        jw_init(&w, &b);
        jw_obj_begin(&w, NULL);
        jw_int(&w, "a", -5);
        jw_arr_begin(&w, "l");
        jw_int(&w, NULL, 1);
        jw_obj_begin(&w, NULL);
        jw_bool(&w, "t", true);
        jw_null(&w, "n");
        jw_obj_end(&w);
        jw_arr_begin(&w, NULL);
        jw_arr_end(&w);
        jw_arr_end(&w);
        jw_bool(&w, "f", false);
        jw_obj_end(&w);
        assert_int_equal(jw_error(&w), 0);
        assert_string_equal(b.data, "{\"a\":-5,\"l\":[1,{\"t\":true,\"n\":null},[]],\"f\":false}");
        buf_free(&b);
}

static void test_escaping_round_trips(void **state)
{
        const char *s = "q\"b\\s/ nl\n cr\r tab\t bell\x07 del\x7f 日本語 🚗";
        struct buf b;
        struct jw w;
        json_t *o;

        buf_init(&b, 0);
        jw_init(&w, &b);
        jw_obj_begin(&w, NULL);
        jw_str(&w, "k\"ey", s);
        jw_obj_end(&w);
        assert_int_equal(jw_error(&w), 0);
        assert_non_null(strstr(b.data, "\\u0007"));
        assert_non_null(strstr(b.data, "\\n"));
        o = json_loadb(b.data, b.len, JSON_REJECT_DUPLICATES, NULL);
        assert_non_null(o);
        assert_string_equal(json_string_value(json_object_get(o, "k\"ey")), s);
        json_decref(o);
        buf_free(&b);
}

static void test_invalid_utf8_is_an_error(void **state)
{
        static const char *bad[] = { "\xff", "a\xc3", "\xe2\x82", "\xed\xa0\x80",
                                     "\xc0\xaf", "\xf4\x90\x80\x80" };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct buf b;
                struct jw w;

                buf_init(&b, 0);
                jw_init(&w, &b);
                jw_arr_begin(&w, NULL);
                jw_str(&w, NULL, bad[i]);
                jw_arr_end(&w);
                assert_int_equal(jw_error(&w), -EILSEQ);
                buf_free(&b);
        }
}

static void test_fixed_point(void **state)
{
        static const struct { int64_t v; int d; const char *want; } t[] = {
                { 35680141, 6, "35.680141" }, { 50000, 3, "50" }, { 3200, 3, "3.2" },
                { -139767000, 6, "-139.767" }, { 5, 6, "0.000005" }, { 0, 3, "0" },
                { 42, 0, "42" }, { INT64_MIN, 6, "-9223372036854.775808" },
        };

        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                struct buf b;
                struct jw w;

                buf_init(&b, 0);
                jw_init(&w, &b);
                jw_fixed(&w, NULL, t[i].v, t[i].d);
                assert_int_equal(jw_error(&w), 0);
                assert_string_equal(b.data, t[i].want);
                buf_free(&b);
        }
}

static void test_sticky_errors(void **state)
{
        struct buf b;
        struct jw w;

        buf_init(&b, 0);
        jw_init(&w, &b);
        for (int i = 0; i < JW_DEPTH_MAX + 2; i++)
                jw_arr_begin(&w, NULL);
        assert_int_equal(jw_error(&w), -E2BIG);
        buf_free(&b);

        buf_init(&b, 0);
        jw_init(&w, &b);
        jw_obj_end(&w);
        assert_int_equal(jw_error(&w), -EINVAL);
        buf_free(&b);

        buf_init(&b, 0);
        jw_init(&w, &b);
        jw_obj_begin(&w, NULL);
        assert_int_equal(jw_error(&w), -EINVAL);        /* left open */
        buf_free(&b);

        buf_init(&b, 16);
        jw_init(&w, &b);
        jw_arr_begin(&w, NULL);
        jw_str(&w, NULL, "longer than sixteen bytes");
        jw_arr_end(&w);
        assert_int_equal(jw_error(&w), -E2BIG);
        buf_free(&b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_nesting_and_commas),
                cmocka_unit_test(test_escaping_round_trips),
                cmocka_unit_test(test_invalid_utf8_is_an_error),
                cmocka_unit_test(test_fixed_point),
                cmocka_unit_test(test_sticky_errors),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
