/*
 * test_buf.c - the growable buffer and the time helpers it is used with.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/buf.h"
#include "util/timeutil.h"

static void test_append_and_printf(void **state)
{
        struct buf b;

        buf_init(&b, 0);
        assert_int_equal(buf_puts(&b, "ab"), 0);
        assert_int_equal(buf_printf(&b, "%d-%s", 42, "x"), 0);
        assert_string_equal(b.data, "ab42-x");
        assert_int_equal(b.len, 6);
        for (int i = 0; i < 1000; i++)
                assert_int_equal(buf_puts(&b, "0123456789"), 0);
        assert_int_equal(b.len, 10006);
        buf_reset(&b);
        assert_int_equal(b.len, 0);
        assert_string_equal(b.data, "");
        buf_free(&b);
        buf_free(&b);
}

static void test_cap_is_enforced(void **state)
{
        struct buf b;

        buf_init(&b, 8);
        assert_int_equal(buf_puts(&b, "12345678"), 0);
        assert_int_equal(buf_puts(&b, "9"), -E2BIG);
        assert_string_equal(b.data, "12345678");
        assert_int_equal(buf_printf(&b, "%s", "x"), -E2BIG);
        buf_free(&b);
}

static void test_steal(void **state)
{
        struct buf b;
        size_t n = 0;
        char *s;

        buf_init(&b, 0);
        buf_puts(&b, "hello");
        s = buf_steal(&b, &n);
        assert_string_equal(s, "hello");
        assert_int_equal(n, 5);
        assert_null(b.data);
        free(s);
}

static void test_rfc3339_roundtrip_tokyo(void **state)
{
        char out[TIME_RFC3339_MAX];
        int64_t t;

        time_format_rfc3339(0, out);
        assert_string_equal(out, "1970-01-01T09:00:00+09:00");
        time_format_rfc3339(1795313712, out);   /* 2026-11-22T02:15:12Z */
        assert_string_equal(out, "2026-11-22T11:15:12+09:00");
        assert_int_equal(time_parse_rfc3339(out, &t), 0);
        assert_int_equal(t, 1795313712);
        assert_int_equal(time_parse_rfc3339("2026-11-22T02:15:12Z", &t), 0);
        assert_int_equal(t, 1795313712);
        assert_int_equal(time_parse_rfc3339("2026-11-21T21:15:12.250-05:00", &t), 0);
        assert_int_equal(t, 1795313712);
        assert_int_equal(time_parse_rfc3339("2024-02-29T00:00:00Z", &t), 0);
}

static void test_rfc3339_rejects(void **state)
{
        int64_t t;

        assert_int_equal(time_parse_rfc3339("2026-11-22 02:15:12Z", &t), -EINVAL);
        assert_int_equal(time_parse_rfc3339("2026-11-22T02:15:12", &t), -EINVAL);
        assert_int_equal(time_parse_rfc3339("2026-02-30T00:00:00Z", &t), -EINVAL);
        assert_int_equal(time_parse_rfc3339("2023-02-29T00:00:00Z", &t), -EINVAL);
        assert_int_equal(time_parse_rfc3339("2026-11-22T24:00:00Z", &t), -EINVAL);
        assert_int_equal(time_parse_rfc3339("2026-11-22T02:15:12+0900", &t), -EINVAL);
        assert_int_equal(time_parse_rfc3339("2026-11-22T02:15:12Zjunk", &t), -EINVAL);
        assert_int_equal(time_parse_rfc3339("", &t), -EINVAL);
}

static void test_civil_days(void **state)
{
        int64_t y;
        unsigned m, d;

        assert_int_equal(time_days_from_civil(1970, 1, 1), 0);
        assert_int_equal(time_days_from_civil(2000, 3, 1), 11017);
        time_civil_from_days(-1, &y, &m, &d);
        assert_int_equal(y, 1969);
        assert_int_equal(m, 12);
        assert_int_equal(d, 31);
        for (int64_t z = -800000; z < 800000; z += 97) {
                time_civil_from_days(z, &y, &m, &d);
                assert_int_equal(time_days_from_civil(y, m, d), z);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_append_and_printf),
                cmocka_unit_test(test_cap_is_enforced),
                cmocka_unit_test(test_steal),
                cmocka_unit_test(test_rfc3339_roundtrip_tokyo),
                cmocka_unit_test(test_rfc3339_rejects),
                cmocka_unit_test(test_civil_days),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
