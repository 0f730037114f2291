/*
 * test_withdrawal.c - CS-4: the withdrawal blocker registry. Modules
 * register checks; every blocker found is reported; a failing check
 * refuses (never allows by default).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "domain/withdrawal.h"

static int check_reservation(void *ctx, int64_t member_id, int64_t now,
                             struct withdrawal_result *out)
{
        if (member_id == 1)
                return withdrawal_add(out, WITHDRAWAL_CONFIRMED_RESERVATION,
                                      "Reservation 9 on 2026-12-01 is confirmed.");
        return 0;
}

static int check_wallet(void *ctx, int64_t member_id, int64_t now,
                        struct withdrawal_result *out)
{
        int *calls = ctx;

        (*calls)++;
        if (member_id == 1 || member_id == 2)
                return withdrawal_add(out, WITHDRAWAL_WALLET_HOLD, "1,200 yen is held.");
        return 0;
}

static int check_broken(void *ctx, int64_t member_id, int64_t now,
                        struct withdrawal_result *out)
{
        return -EIO;
}

static int teardown(void **state)
{
        withdrawal_unregister_all();
        return 0;
}

static void test_CS_4_each_blocker_named(void **state)
{
        struct withdrawal_result r;
        int calls = 0;

        assert_int_equal(withdrawal_register("reservations", check_reservation), 0);
        assert_int_equal(withdrawal_register("wallet", check_wallet), 0);
        assert_int_equal(withdrawal_check(&calls, 1, 0, &r), 0);
        assert_int_equal(r.n, 2);
        assert_string_equal(r.b[0].code, "confirmed_reservation");
        assert_string_equal(r.b[1].code, "wallet_hold");
        assert_string_equal(r.b[1].detail, "1,200 yen is held.");
        assert_int_equal(withdrawal_check(&calls, 2, 0, &r), 0);
        assert_int_equal(r.n, 1);
        assert_int_equal(withdrawal_check(&calls, 3, 0, &r), 0);
        assert_int_equal(r.n, 0);
        assert_int_equal(calls, 3);
}

static void test_CS_4_failing_check_refuses(void **state)
{
        struct withdrawal_result r;

        withdrawal_register("broken", check_broken);
        assert_int_equal(withdrawal_check(NULL, 3, 0, &r), -EIO);
}

static void test_registry_limits(void **state)
{
        static char names[WITHDRAWAL_MAX_CHECKS + 1][8];

        assert_int_equal(withdrawal_register("x", check_broken), 0);
        assert_int_equal(withdrawal_register("x", check_broken), -EEXIST);
        for (int i = 1; i < WITHDRAWAL_MAX_CHECKS; i++) {
                names[i][0] = (char)('a' + i);
                assert_int_equal(withdrawal_register(names[i], check_broken), 0);
        }
        assert_int_equal(withdrawal_check_count(), WITHDRAWAL_MAX_CHECKS);
        assert_int_equal(withdrawal_register("overflow", check_broken), -ENOSPC);
}

static void test_blocker_list_bounded(void **state)
{
        struct withdrawal_result r = { .n = 0 };

        for (int i = 0; i < WITHDRAWAL_MAX_BLOCKERS; i++)
                assert_int_equal(withdrawal_add(&r, "c", "d"), 0);
        assert_int_equal(withdrawal_add(&r, "c", "d"), -ENOSPC);
        assert_int_equal(r.n, WITHDRAWAL_MAX_BLOCKERS);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_CS_4_each_blocker_named, teardown),
                cmocka_unit_test_teardown(test_CS_4_failing_check_refuses, teardown),
                cmocka_unit_test_teardown(test_registry_limits, teardown),
                cmocka_unit_test_teardown(test_blocker_list_bounded, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
