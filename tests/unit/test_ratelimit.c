/*
 * test_ratelimit.c - failed-login counters (CS-5 hardening): lock after
 * max failures in the window, window expiry, reset on success, bounded
 * table with eviction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "util/ratelimit.h"

static void test_locks_after_max_failures(void **state)
{
        struct ratelimit *rl = ratelimit_new(16, 3, 60, 300);

        assert_int_equal(ratelimit_blocked(rl, "a", 1000), 0);
        assert_int_equal(ratelimit_fail(rl, "a", 1000), 0);
        assert_int_equal(ratelimit_fail(rl, "a", 1001), 0);
        assert_int_equal(ratelimit_fail(rl, "a", 1002), 300);
        assert_int_equal(ratelimit_blocked(rl, "a", 1002), 300);
        assert_int_equal(ratelimit_blocked(rl, "a", 1301), 1);
        assert_int_equal(ratelimit_blocked(rl, "a", 1302), 0);
        assert_int_equal(ratelimit_blocked(rl, "b", 1002), 0);
        ratelimit_free(rl);
}

static void test_window_expires(void **state)
{
        struct ratelimit *rl = ratelimit_new(16, 3, 60, 300);

        ratelimit_fail(rl, "a", 1000);
        ratelimit_fail(rl, "a", 1010);
        assert_int_equal(ratelimit_fail(rl, "a", 1061), 0);     /* new window */
        assert_int_equal(ratelimit_blocked(rl, "a", 1061), 0);
        ratelimit_free(rl);
}

static void test_reset_forgets(void **state)
{
        struct ratelimit *rl = ratelimit_new(16, 2, 60, 300);

        ratelimit_fail(rl, "a", 1000);
        ratelimit_reset(rl, "a");
        assert_int_equal(ratelimit_fail(rl, "a", 1001), 0);
        assert_int_equal(ratelimit_size(rl), 1);
        ratelimit_free(rl);
}

static void test_bounded_table(void **state)
{
        struct ratelimit *rl = ratelimit_new(8, 5, 60, 300);
        char key[16];

        for (int i = 0; i < 100; i++) {
                snprintf(key, sizeof(key), "k%d", i);
                ratelimit_fail(rl, key, 1000 + i);
        }
        assert_true(ratelimit_size(rl) <= 8);
        ratelimit_free(rl);
        ratelimit_free(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_locks_after_max_failures),
                cmocka_unit_test(test_window_expires),
                cmocka_unit_test(test_reset_forgets),
                cmocka_unit_test(test_bounded_table),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
