/*
 * test_rollup.c - unit tests of domain/rollup.c: bucket starts (UTC hours,
 * Asia/Tokyo days and months, HE-16), counter increases with wrap and reset
 * (HE-7), aggregation of points into hour cells, merging and coarsening.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "domain/rollup.h"

/* ---- helpers --------------------------------------------------------- */

#define H 3600LL
#define DAY (24 * H)
/* Tokyo midnights (unix s) */
#define DEC01_2026 1796050800LL
#define DEC03_2026 1796223600LL
#define JAN01_2027 1798729200LL
#define NOV01_2026 1793458800LL
#define FEB01_2028 1832943600LL
#define MAR01_2028 1835449200LL
/* 2026-12-03 10:00 Tokyo = 01:00 UTC */
#define T10 1796259600LL

static int64_t ms(int64_t s)
{
        return s * 1000;
}

/* ---- buckets ------------------------------------------------------------ */

static void test_hour_buckets_are_utc_hours(void **state)
{
        assert_int_equal(rollup_bucket(RU_HOUR, T10), T10);
        assert_int_equal(rollup_bucket(RU_HOUR, T10 + 3599), T10);
        assert_int_equal(rollup_bucket(RU_HOUR, T10 + 3600), T10 + H);
        assert_int_equal(rollup_bucket(RU_HOUR, -1), -H);
        assert_int_equal(rollup_next(RU_HOUR, T10), T10 + H);
}

static void test_HE_16_day_boundary_is_tokyo_midnight(void **state)
{
        /* 23:59:59 Tokyo (14:59:59 UTC) is still the 2nd; 00:00 is the 3rd */
        assert_int_equal(rollup_bucket(RU_DAY, DEC03_2026 - 1), DEC03_2026 - DAY);
        assert_int_equal(rollup_bucket(RU_DAY, DEC03_2026), DEC03_2026);
        assert_int_equal(rollup_bucket(RU_DAY, T10), DEC03_2026);
        assert_int_equal(rollup_bucket(RU_DAY, DEC03_2026 + DAY - 1), DEC03_2026);
        assert_int_equal(rollup_next(RU_DAY, DEC03_2026), DEC03_2026 + DAY);
        /* around and before 1970 (negative unix time) */
        assert_int_equal(rollup_bucket(RU_DAY, -1), -9 * H);    /* 1970-01-01 08:59:59 Tokyo */
        assert_int_equal(rollup_bucket(RU_DAY, -9 * H - 1), -118800);   /* 1969-12-31 */
        assert_int_equal(rollup_bucket(RU_DAY, -118800), -118800);
        assert_int_equal(rollup_bucket(RU_DAY, -118801), -118800 - DAY);
}

static void test_HE_16_month_boundary_is_tokyo_first_of_month(void **state)
{
        assert_int_equal(rollup_bucket(RU_MONTH, T10), DEC01_2026);
        assert_int_equal(rollup_bucket(RU_MONTH, DEC01_2026), DEC01_2026);
        assert_int_equal(rollup_bucket(RU_MONTH, DEC01_2026 - 1), NOV01_2026);
        assert_int_equal(rollup_bucket(RU_MONTH, JAN01_2027 - 1), DEC01_2026);
        assert_int_equal(rollup_bucket(RU_MONTH, JAN01_2027), JAN01_2027);
        assert_int_equal(rollup_next(RU_MONTH, NOV01_2026), DEC01_2026);
        assert_int_equal(rollup_next(RU_MONTH, DEC01_2026), JAN01_2027);
        /* leap February */
        assert_int_equal(rollup_next(RU_MONTH, FEB01_2028), MAR01_2028);
        assert_int_equal((MAR01_2028 - FEB01_2028) / DAY, 29);
        assert_int_equal(rollup_bucket(RU_MONTH, MAR01_2028 - 1), FEB01_2028);
}

/* ---- counters ------------------------------------------------------------ */

static void test_HE_7_counter_delta_increase_reset_and_wrap(void **state)
{
        assert_true(rollup_counter_delta(100, 150, 0) == 50);
        assert_true(rollup_counter_delta(100, 100, 0) == 0);
        /* reset to about zero: the new reading is the increase */
        assert_true(rollup_counter_delta(5000, 3, 0) == 3);
        assert_true(rollup_counter_delta(5000, 3, 99999) == 3);       /* far below wrap */
        /* wrap at 99999 from >= 90% of it */
        assert_true(rollup_counter_delta(99990, 5, 99999) == 14);
        assert_true(rollup_counter_delta(89999.1, 5, 99999) == (99999 - 89999.1) + 5);
        assert_true(rollup_counter_delta(89999, 5, 99999) == 5);       /* just under 90% */
}

static void test_HE_7_counter_hours_with_reset_and_wrap(void **state)
{
        /* 10:50 .. 12:10 every 10 min, wrap at 1000 Wh */
        int64_t ts[9];
        double v[9] = { 950, 980, 995, 10, 30, 40, 5, 15, 20 };
        struct rollup_cell *c = NULL;
        size_t n = 0;

        for (int i = 0; i < 9; i++)
                ts[i] = ms(T10 + 50 * 60 + i * 600);
        /* previous point 940 at 10:40 */
        assert_int_equal(rollup_hours(EK_COUNTER, 1000, 1, ms(T10 + 40 * 60), 940, ts, v, 9, &c,
                                      &n), 0);
        assert_int_equal(n, 3);
        /* 10:xx: 940->950 */
        assert_int_equal(c[0].bucket, T10);
        assert_true(c[0].total == 10);
        assert_int_equal(c[0].n, 1);
        /* 11:00..11:50: 950->980->995->(wrap)10->30->40->(reset)5 */
        assert_int_equal(c[1].bucket, T10 + H);
        assert_true(c[1].total == 30 + 15 + 15 + 20 + 10 + 5);
        assert_int_equal(c[1].n, 6);
        assert_true(c[1].first == 980 && c[1].last == 5);
        assert_true(c[1].min == 5 && c[1].max == 995);
        /* 12:00, 12:10 */
        assert_true(c[2].total == 10 + 5);
        free(c);
}

static void test_HE_7_increase_belongs_to_the_later_points_hour(void **state)
{
        int64_t ts[2] = { ms(T10 + H - 1), ms(T10 + H) };
        double v[2] = { 100, 160 };
        struct rollup_cell *c = NULL;
        size_t n = 0;

        assert_int_equal(rollup_hours(EK_COUNTER, 0, 0, 0, 0, ts, v, 2, &c, &n), 0);
        assert_int_equal(n, 2);
        assert_true(c[0].total == 0);   /* no previous point */
        assert_true(c[1].total == 60);
        free(c);
}

static void test_gauge_hours_statistics(void **state)
{
        int64_t ts[5] = { ms(T10), ms(T10 + 60), ms(T10 + 3599) + 999, ms(T10 + H),
                          ms(T10 + 3 * H) };
        double v[5] = { 1500, 1450, 1600, 10, -3 };
        struct rollup_cell *c = NULL;
        size_t n = 0;

        assert_int_equal(rollup_hours(EK_GAUGE, 0, 1, ms(T10 - 60), 9999, ts, v, 5, &c, &n), 0);
        assert_int_equal(n, 3);
        assert_int_equal(c[0].n, 3);
        assert_true(c[0].min == 1450 && c[0].max == 1600 && c[0].sum == 4550);
        assert_true(c[0].total == 0);
        assert_int_equal(c[0].first_ts, ms(T10));
        assert_int_equal(c[0].last_ts, ms(T10 + 3599) + 999);
        assert_true(c[0].first == 1500 && c[0].last == 1600);
        assert_int_equal(c[1].bucket, T10 + H);
        assert_int_equal(c[2].bucket, T10 + 3 * H);
        assert_true(c[2].min == -3);
        free(c);
}

static void test_hours_of_nothing_and_of_unsorted_points(void **state)
{
        int64_t ts[2] = { ms(T10), ms(T10) };
        double v[2] = { 1, 2 };
        struct rollup_cell *c = (struct rollup_cell *)ts;
        size_t n = 7;

        assert_int_equal(rollup_hours(EK_GAUGE, 0, 0, 0, 0, ts, v, 0, &c, &n), 0);
        assert_null(c);
        assert_int_equal(n, 0);
        assert_int_equal(rollup_hours(EK_GAUGE, 0, 0, 0, 0, ts, v, 2, &c, &n), -EINVAL);
        assert_null(c);
        /* a previous point not before the first */
        assert_int_equal(rollup_hours(EK_COUNTER, 0, 1, ms(T10), 0, ts, v, 1, &c, &n), -EINVAL);
}

/* ---- merge and coarsen ------------------------------------------------- */

static struct rollup_cell cell(int64_t bucket, int64_t n, double min, double max, double sum,
                               double total, int64_t fts, double first, int64_t lts, double last)
{
        struct rollup_cell c = { .bucket = bucket, .n = n, .min = min, .max = max, .sum = sum,
                                 .total = total, .first_ts = fts, .last_ts = lts,
                                 .first = first, .last = last };

        return c;
}

static void test_merge_adds_and_keeps_first_and_last_by_time(void **state)
{
        struct rollup_cell a = cell(T10, 2, 5, 9, 14, 3, ms(T10 + 600), 5, ms(T10 + 1200), 9);
        struct rollup_cell b = cell(T10, 3, 1, 7, 12, 4, ms(T10), 1, ms(T10 + 300), 7);
        struct rollup_cell later = cell(T10, 1, 20, 20, 20, 1, ms(T10 + 3000), 20,
                                        ms(T10 + 3000), 20);
        struct rollup_cell empty = { .bucket = T10 };

        rollup_merge(&a, &b);
        assert_int_equal(a.n, 5);
        assert_true(a.min == 1 && a.max == 9 && a.sum == 26 && a.total == 7);
        assert_int_equal(a.first_ts, ms(T10));
        assert_true(a.first == 1);
        assert_int_equal(a.last_ts, ms(T10 + 1200));
        assert_true(a.last == 9);
        rollup_merge(&a, &later);
        assert_true(a.last == 20 && a.max == 20 && a.total == 8);
        rollup_merge(&a, &empty);
        assert_int_equal(a.n, 6);
        rollup_merge(&empty, &b);
        assert_int_equal(empty.bucket, T10);
        assert_int_equal(empty.n, 3);
        assert_true(empty.first == 1 && empty.last == 7 && empty.total == 4);
}

static void test_HE_16_coarsen_hours_into_tokyo_days_and_months(void **state)
{
        /* 14:00 UTC = 23:00 Tokyo on the 2nd, 15:00 UTC = 00:00 on the 3rd */
        struct rollup_cell h[4] = {
                cell(DEC03_2026 - H, 1, 10, 10, 10, 1, ms(DEC03_2026 - H), 10,
                     ms(DEC03_2026 - H), 10),
                cell(DEC03_2026, 2, 3, 8, 11, 2, ms(DEC03_2026), 3, ms(DEC03_2026 + 60), 8),
                cell(DEC03_2026 + H, 1, 1, 1, 1, 4, ms(DEC03_2026 + H), 1, ms(DEC03_2026 + H), 1),
                cell(JAN01_2027, 1, 2, 2, 2, 8, ms(JAN01_2027), 2, ms(JAN01_2027), 2),
        };
        struct rollup_cell *d = NULL, *m = NULL, *m2 = NULL;
        size_t nd = 0, nm = 0, nm2 = 0;

        assert_int_equal(rollup_coarsen(RU_DAY, h, 4, &d, &nd), 0);
        assert_int_equal(nd, 3);
        assert_int_equal(d[0].bucket, DEC03_2026 - DAY);
        assert_true(d[0].total == 1);
        assert_int_equal(d[1].bucket, DEC03_2026);
        assert_int_equal(d[1].n, 3);
        assert_true(d[1].total == 6 && d[1].sum == 12 && d[1].min == 1 && d[1].max == 8);
        assert_true(d[1].first == 3 && d[1].last == 1);
        assert_int_equal(d[2].bucket, JAN01_2027);
        /* day -> month, and hour -> month directly agree */
        assert_int_equal(rollup_coarsen(RU_MONTH, d, nd, &m, &nm), 0);
        assert_int_equal(rollup_coarsen(RU_MONTH, h, 4, &m2, &nm2), 0);
        assert_int_equal(nm, 2);
        assert_int_equal(nm2, 2);
        assert_int_equal(m[0].bucket, DEC01_2026);
        assert_int_equal(m[1].bucket, JAN01_2027);
        assert_true(m[0].total == 7 && m2[0].total == 7);
        assert_int_equal(m[0].n, 4);
        assert_true(m[0].first == 10 && m[0].last == 1);
        assert_memory_equal(m, m2, 2 * sizeof(*m));
        free(d);
        free(m);
        free(m2);
        assert_int_equal(rollup_coarsen(RU_DAY, h, 0, &d, &nd), 0);
        assert_null(d);
        assert_int_equal(nd, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hour_buckets_are_utc_hours),
                cmocka_unit_test(test_HE_16_day_boundary_is_tokyo_midnight),
                cmocka_unit_test(test_HE_16_month_boundary_is_tokyo_first_of_month),
                cmocka_unit_test(test_HE_7_counter_delta_increase_reset_and_wrap),
                cmocka_unit_test(test_HE_7_counter_hours_with_reset_and_wrap),
                cmocka_unit_test(test_HE_7_increase_belongs_to_the_later_points_hour),
                cmocka_unit_test(test_gauge_hours_statistics),
                cmocka_unit_test(test_hours_of_nothing_and_of_unsorted_points),
                cmocka_unit_test(test_merge_adds_and_keeps_first_and_last_by_time),
                cmocka_unit_test(test_HE_16_coarsen_hours_into_tokyo_days_and_months),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
