/*
 * test_slot_domain.c - domain/slot.c: the grid in Tokyo wall-clock time,
 * slot validation (CS-13), weekly patterns over Tokyo dates, overlap over a
 * sorted list, the CS-24 price of a range, the CS-16 guard on changing or
 * deleting a slot, the calendar (slots minus reservations), recruiting
 * (CS-13) and occupancy (CS-25). Tests carry the rule they prove.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "domain/slot.h"
#include "util/timeutil.h"

/* 2026-06-01T00:00:00+09:00 (a Monday) as unix seconds. */
#define D0 1780239600LL
#define H 3600LL
#define M 60LL

static const struct slot_rules rules = {
        .grid_minutes = 15,
        .max_hourly_price = 100000,
        .horizon_s = 366 * 86400LL,
        .pattern_max_slots = 1000,
};

static int64_t rfc(const char *s)
{
        int64_t t = 0;

        assert_int_equal(time_parse_rfc3339(s, &t), 0);
        return t;
}

static void test_local_time_helpers(void **state)
{
        int64_t day;
        int mins;

        assert_int_equal(rfc("2026-06-01T00:00:00+09:00"), D0);
        assert_int_equal(slot_parse_date("2026-06-01", &day), 0);
        assert_int_equal(slot_local_to_utc(day * 86400), D0);
        assert_int_equal(slot_local_day(D0), day);
        assert_int_equal(slot_local_day(D0 - 1), day - 1);      /* 23:59:59 the day before */
        assert_int_equal(slot_weekday(day), 0);                 /* Monday */
        assert_int_equal(slot_weekday(day + 6), 6);
        assert_int_equal(slot_weekday(0), 3);                   /* 1970-01-01 Thursday */
        assert_int_equal(slot_parse_date("2026-02-30", &day), -EINVAL);
        assert_int_equal(slot_parse_date("2026-6-01", &day), -EINVAL);
        assert_int_equal(slot_parse_date("2028-02-29", &day), 0);
        assert_int_equal(slot_parse_hhmm("09:30", false, &mins), 0);
        assert_int_equal(mins, 570);
        assert_int_equal(slot_parse_hhmm("24:00", false, &mins), -EINVAL);
        assert_int_equal(slot_parse_hhmm("24:00", true, &mins), 0);
        assert_int_equal(mins, 1440);
        assert_int_equal(slot_parse_hhmm("9:30", false, &mins), -EINVAL);
        assert_int_equal(slot_parse_hhmm("12:60", false, &mins), -EINVAL);
        assert_int_equal(slot_weekday_from_name("sun"), 6);
        assert_int_equal(slot_weekday_from_name("Sunday"), -1);
}

static void test_CS_24_grid_in_tokyo_wall_clock(void **state)
{
        assert_true(slot_on_grid(D0, 15));
        assert_true(slot_on_grid(D0 + 15 * M, 15));
        assert_true(slot_on_grid(D0 + 45 * M, 15));
        assert_false(slot_on_grid(D0 + 10 * M, 15));
        assert_false(slot_on_grid(D0 + 1, 15));
        /* 30-minute grid: :30 yes, :15 no. */
        assert_true(slot_on_grid(D0 + 30 * M, 30));
        assert_false(slot_on_grid(D0 + 15 * M, 30));
        /* A 90-minute grid counts from local midnight, not from UTC's:
         * 01:30 Tokyo is on it; 00:00 UTC (= 09:00 Tokyo) is too (540/90). */
        assert_true(slot_on_grid(D0 + 90 * M, 90));
        assert_false(slot_on_grid(D0 + 60 * M, 90));
        /* Before the epoch too (floor, not truncation). */
        assert_true(slot_on_grid(-15 * M - 9 * H, 15));
}

static int has_issue(const struct slot_issue *is, int n, const char *field, const char *code)
{
        for (int i = 0; i < n; i++)
                if (strcmp(is[i].field, field) == 0 && strcmp(is[i].code, code) == 0)
                        return 1;
        return 0;
}

static void test_CS_13_slot_validation(void **state)
{
        struct slot_issue is[SLOT_ISSUES_MAX];
        int64_t now = D0 - 86400;
        int n;

        assert_int_equal(slot_validate(&rules, D0 + 9 * H, D0 + 18 * H, 300, now, is), 0);
        /* Price bounds inclusive. */
        assert_int_equal(slot_validate(&rules, D0, D0 + 15 * M, 0, now, is), 0);
        assert_int_equal(slot_validate(&rules, D0, D0 + 15 * M, 100000, now, is), 0);

        n = slot_validate(&rules, D0 + 9 * H + 7 * M, D0 + 18 * H + 1, -1, now, is);
        assert_int_equal(n, 3);
        assert_true(has_issue(is, n, "starts_at", "off_grid"));
        assert_true(has_issue(is, n, "ends_at", "off_grid"));
        assert_true(has_issue(is, n, "hourly_price", "out_of_range"));

        n = slot_validate(&rules, D0, D0, 100001, now, is);
        assert_true(has_issue(is, n, "ends_at", "not_after_start"));
        assert_true(has_issue(is, n, "hourly_price", "out_of_range"));

        /* In the past / starting now. */
        n = slot_validate(&rules, now, now + H, 100, now, is);
        assert_true(has_issue(is, n, "starts_at", "in_past"));
        /* Horizon: exactly at the horizon is fine, one step beyond is not. */
        assert_int_equal(slot_validate(&rules, now + H, now + rules.horizon_s, 1, now, is), 0);
        n = slot_validate(&rules, now + H, now + rules.horizon_s + 15 * M, 1, now, is);
        assert_int_equal(n, 1);
        assert_true(has_issue(is, n, "ends_at", "beyond_horizon"));
}

static void test_CS_13_pattern_expansion_in_tokyo_dates(void **state)
{
        struct slot_range out[64];
        struct slot_pattern p = { 0 };
        int64_t d;
        int n;

        assert_int_equal(slot_parse_date("2026-06-01", &d), 0);       /* Monday */
        p.from_day = d;
        p.to_day = d + 13;                      /* two weeks, inclusive */
        p.weekdays = (1u << 0) | (1u << 2) | (1u << 6);   /* mon, wed, sun */
        p.start_min = 9 * 60;
        p.end_min = 18 * 60;
        n = slot_pattern_expand(&p, out, 64);
        assert_int_equal(n, 6);
        assert_int_equal(out[0].starts_at, rfc("2026-06-01T09:00:00+09:00"));
        assert_int_equal(out[0].ends_at, rfc("2026-06-01T18:00:00+09:00"));
        assert_int_equal(out[1].starts_at, rfc("2026-06-03T09:00:00+09:00"));
        assert_int_equal(out[2].starts_at, rfc("2026-06-07T09:00:00+09:00"));
        assert_int_equal(out[5].ends_at, rfc("2026-06-14T18:00:00+09:00"));
        /* Early morning Tokyo is the previous UTC day: still the right date. */
        p.start_min = 0;
        p.end_min = 2 * 60;
        n = slot_pattern_expand(&p, out, 64);
        assert_int_equal(n, 6);
        assert_int_equal(out[0].starts_at, rfc("2026-05-31T15:00:00Z"));
        /* Up to midnight. */
        p.start_min = 22 * 60;
        p.end_min = 1440;
        assert_int_equal(slot_pattern_expand(&p, out, 64), 6);
        assert_int_equal(out[0].ends_at, rfc("2026-06-02T00:00:00+09:00"));
        /* Over the night, or empty: refused. */
        p.end_min = 22 * 60;
        assert_int_equal(slot_pattern_expand(&p, out, 64), -EINVAL);
        p.end_min = 6 * 60;
        assert_int_equal(slot_pattern_expand(&p, out, 64), -EINVAL);
        /* More than max. */
        p.start_min = 9 * 60;
        p.end_min = 10 * 60;
        p.weekdays = 0x7f;
        assert_int_equal(slot_pattern_expand(&p, out, 13), -E2BIG);
        assert_int_equal(slot_pattern_expand(&p, out, 14), 14);
        /* No weekday matches: zero slots. */
        p.weekdays = 0;
        assert_int_equal(slot_pattern_expand(&p, out, 14), 0);
        /* Backwards dates. */
        p.weekdays = 1;
        p.to_day = p.from_day - 1;
        assert_int_equal(slot_pattern_expand(&p, out, 14), -EINVAL);
}

static void test_CS_13_overlap_detection(void **state)
{
        const struct slot_range r[] = {
                { D0 + 9 * H, D0 + 12 * H },
                { D0 + 12 * H, D0 + 13 * H },     /* adjacent: allowed */
                { D0 + 15 * H, D0 + 18 * H },
        };
        size_t a, b;

        assert_int_equal(slot_find_overlap(r, 3, D0 + 8 * H, D0 + 9 * H), -1);   /* adjacent */
        assert_int_equal(slot_find_overlap(r, 3, D0 + 8 * H, D0 + 9 * H + 1), 0);
        assert_int_equal(slot_find_overlap(r, 3, D0 + 12 * H, D0 + 12 * H + 60), 1);
        assert_int_equal(slot_find_overlap(r, 3, D0 + 13 * H, D0 + 15 * H), -1);  /* the gap */
        assert_int_equal(slot_find_overlap(r, 3, D0 + 13 * H, D0 + 20 * H), 2);
        assert_int_equal(slot_find_overlap(r, 3, D0, D0 + 30 * H), 0);            /* covers all */
        assert_int_equal(slot_find_overlap(r, 3, D0 + 18 * H, D0 + 19 * H), -1);
        assert_int_equal(slot_find_overlap(r, 0, D0, D0 + 30 * H), -1);
        assert_false(slot_ranges_overlap_sorted(r, 3, &a, &b));

        const struct slot_range bad[] = {
                { D0, D0 + 10 * H }, { D0 + 1 * H, D0 + 2 * H }, { D0 + 5 * H, D0 + 6 * H },
        };
        assert_true(slot_ranges_overlap_sorted(bad, 3, &a, &b));
        assert_int_equal(a, 0);
        assert_int_equal(b, 1);
}

static void test_CS_24_price_of_range_in_one_slot(void **state)
{
        const struct slot s[] = { { 1, D0 + 9 * H, D0 + 18 * H, 300 } };
        int64_t p = -1;

        assert_int_equal(slot_price_of_range(s, 1, D0 + 10 * H, D0 + 12 * H, &p), 0);
        assert_int_equal(p, 600);
        /* 15 minutes at 333 yen/h = 83.25 -> 83 (floor). */
        const struct slot odd[] = { { 1, D0, D0 + 4 * H, 333 } };
        assert_int_equal(slot_price_of_range(odd, 1, D0, D0 + 15 * M, &p), 0);
        assert_int_equal(p, 83);
        /* Free slot. */
        const struct slot zero[] = { { 1, D0, D0 + 4 * H, 0 } };
        assert_int_equal(slot_price_of_range(zero, 1, D0, D0 + 4 * H, &p), 0);
        assert_int_equal(p, 0);
}

static void test_CS_24_price_of_range_spanning_two_slots(void **state)
{
        /* 09:00-12:00 at 301 yen/h, 12:00-15:00 at 450 yen/h. */
        const struct slot s[] = {
                { 1, D0 + 9 * H, D0 + 12 * H, 301 },
                { 2, D0 + 12 * H, D0 + 15 * H, 450 },
        };
        int64_t p = -1;

        /* 11:15-12:45: 45 min x 301 + 45 min x 450 = (13545 + 20250) / 60
         * = 563.25 -> 563. The sum is floored once, not each part. */
        assert_int_equal(slot_price_of_range(s, 2, D0 + 11 * H + 15 * M, D0 + 12 * H + 45 * M,
                                             &p), 0);
        assert_int_equal(p, 563);
        /* Exactly both slots. */
        assert_int_equal(slot_price_of_range(s, 2, D0 + 9 * H, D0 + 15 * H, &p), 0);
        assert_int_equal(p, 301 * 3 + 450 * 3);
}

static void test_CS_24_price_needs_contiguous_slots(void **state)
{
        const struct slot s[] = {
                { 1, D0 + 9 * H, D0 + 12 * H, 300 },
                { 2, D0 + 13 * H, D0 + 15 * H, 300 },
        };
        int64_t p = 12345;

        assert_int_equal(slot_price_of_range(s, 2, D0 + 11 * H, D0 + 14 * H, &p), -ENOENT);
        assert_int_equal(slot_price_of_range(s, 2, D0 + 8 * H, D0 + 10 * H, &p), -ENOENT);
        assert_int_equal(slot_price_of_range(s, 2, D0 + 14 * H, D0 + 16 * H, &p), -ENOENT);
        assert_int_equal(slot_price_of_range(s, 2, D0 + 12 * H, D0 + 13 * H, &p), -ENOENT);
        assert_int_equal(slot_price_of_range(s, 0, D0, D0 + H, &p), -ENOENT);
        assert_int_equal(slot_price_of_range(s, 2, D0 + 10 * H, D0 + 10 * H, &p), -EINVAL);
        assert_int_equal(p, 12345);     /* untouched on failure */
}

static void test_CS_16_change_blocked_by_active_reservation(void **state)
{
        const struct slot_range old = { D0 + 9 * H, D0 + 18 * H };
        const struct slot_reservation res[] = {
                { 7, D0 + 10 * H, D0 + 11 * H, SLOT_RES_CANCELLED },
                { 8, D0 + 14 * H, D0 + 15 * H, SLOT_RES_PENDING },
        };
        struct slot_range nr;

        /* Delete: blocked by the pending one (not by the cancelled one). */
        assert_int_equal(slot_change_blocker(&old, NULL, false, res, 2), 1);
        /* Shrinking the morning away: allowed (only the cancelled one there). */
        nr = (struct slot_range){ D0 + 12 * H, D0 + 18 * H };
        assert_int_equal(slot_change_blocker(&old, &nr, false, res, 2), -1);
        /* Cutting the afternoon: blocked. */
        nr = (struct slot_range){ D0 + 9 * H, D0 + 14 * H + 30 * M };
        assert_int_equal(slot_change_blocker(&old, &nr, false, res, 2), 1);
        /* Ending exactly at the reservation's end keeps it: allowed. */
        nr = (struct slot_range){ D0 + 9 * H, D0 + 15 * H };
        assert_int_equal(slot_change_blocker(&old, &nr, false, res, 2), -1);
        /* Growing: allowed. */
        nr = (struct slot_range){ D0 + 8 * H, D0 + 20 * H };
        assert_int_equal(slot_change_blocker(&old, &nr, false, res, 2), -1);
        /* Moving entirely away: blocked. */
        nr = (struct slot_range){ D0 + 20 * H, D0 + 22 * H };
        assert_int_equal(slot_change_blocker(&old, &nr, false, res, 2), 1);
        /* Any price change while a reservation lies in the slot: blocked. */
        nr = old;
        assert_int_equal(slot_change_blocker(&old, &nr, true, res, 2), 1);
}

static void test_CS_16_each_active_status_blocks(void **state)
{
        const struct slot_range old = { D0, D0 + 4 * H };
        struct slot_reservation r = { 1, D0 + H, D0 + 2 * H, 0 };

        for (int st = SLOT_RES_PENDING; st <= SLOT_RES_EXPIRED; st++) {
                r.status = st;
                assert_int_equal(slot_change_blocker(&old, NULL, false, &r, 1),
                                 slot_res_active(st) ? 0 : -1);
        }
        assert_true(slot_res_active(SLOT_RES_PENDING));
        assert_true(slot_res_active(SLOT_RES_CONFIRMED));
        assert_true(slot_res_active(SLOT_RES_CHECKED_IN));
        assert_false(slot_res_active(SLOT_RES_COMPLETED));
        assert_int_equal(slot_res_status_from_name("checked_in"), SLOT_RES_CHECKED_IN);
        assert_string_equal(slot_res_status_name(SLOT_RES_EXPIRED), "expired");
        assert_int_equal(slot_res_status_from_name("nope"), -1);
        /* A reservation outside the slot never blocks. */
        r = (struct slot_reservation){ 1, D0 + 4 * H, D0 + 5 * H, SLOT_RES_CONFIRMED };
        assert_int_equal(slot_change_blocker(&old, NULL, true, &r, 1), -1);
}

static void test_CS_24_calendar_free_minus_reservations(void **state)
{
        const struct slot s[] = {
                { 1, D0 + 9 * H, D0 + 12 * H, 300 },
                { 2, D0 + 12 * H, D0 + 15 * H, 450 },
                { 3, D0 + 20 * H, D0 + 22 * H, 100 },
        };
        const struct slot_reservation res[] = {
                { 5, D0 + 11 * H, D0 + 13 * H, SLOT_RES_CONFIRMED },
                { 6, D0 + 9 * H, D0 + 10 * H, SLOT_RES_CANCELLED },
                { 7, D0 + 14 * H, D0 + 15 * H, SLOT_RES_PENDING },
        };
        struct slot_piece out[16];
        size_t n;

        n = slot_calendar(s, 3, res, 3, D0, D0 + 86400, out, 16);
        assert_int_equal(n, 6);
        assert_true(out[0].starts_at == D0 + 9 * H && out[0].ends_at == D0 + 11 * H &&
                    !out[0].taken && out[0].hourly_price == 300);
        assert_true(out[1].starts_at == D0 + 11 * H && out[1].ends_at == D0 + 12 * H &&
                    out[1].taken);
        assert_true(out[2].starts_at == D0 + 12 * H && out[2].ends_at == D0 + 13 * H &&
                    out[2].taken && out[2].hourly_price == 450);
        assert_true(out[3].starts_at == D0 + 13 * H && out[3].ends_at == D0 + 14 * H &&
                    !out[3].taken);
        assert_true(out[4].starts_at == D0 + 14 * H && out[4].ends_at == D0 + 15 * H &&
                    out[4].taken);
        assert_true(out[5].starts_at == D0 + 20 * H && !out[5].taken && out[5].slot_id == 3);
        /* Clipped to the window. */
        n = slot_calendar(s, 3, res, 3, D0 + 10 * H, D0 + 11 * H + 30 * M, out, 16);
        assert_int_equal(n, 2);
        assert_true(out[0].starts_at == D0 + 10 * H && !out[0].taken);
        assert_true(out[1].ends_at == D0 + 11 * H + 30 * M && out[1].taken);
        /* Too small an output: the total is still counted. */
        assert_int_equal(slot_calendar(s, 3, res, 3, D0, D0 + 86400, out, 2), 6);
}

static void test_CS_24_range_free(void **state)
{
        const struct slot s[] = {
                { 1, D0 + 9 * H, D0 + 12 * H, 300 },
                { 2, D0 + 12 * H, D0 + 15 * H, 450 },
        };
        const struct slot_reservation res[] = {
                { 5, D0 + 13 * H, D0 + 14 * H, SLOT_RES_CONFIRMED },
                { 6, D0 + 9 * H, D0 + 10 * H, SLOT_RES_EXPIRED },
        };
        int64_t p = 0;

        assert_true(slot_range_free(s, 2, res, 2, D0 + 9 * H, D0 + 13 * H, &p));
        assert_int_equal(p, 900 + 450);
        assert_false(slot_range_free(s, 2, res, 2, D0 + 12 * H, D0 + 14 * H, &p));
        assert_false(slot_range_free(s, 2, res, 2, D0 + 14 * H, D0 + 16 * H, &p));
        assert_true(slot_range_free(s, 2, res, 2, D0 + 14 * H, D0 + 15 * H, NULL));
}

static void test_CS_13_recruiting(void **state)
{
        struct slot_listing l = { .attached = true, .host_publishable = true };

        assert_true(slot_recruiting(&l, true));
        assert_false(slot_recruiting(&l, false));       /* no future slot */
        l.attached = false;                             /* QR not attached (CS-11) */
        assert_false(slot_recruiting(&l, true));
        l.attached = true;
        l.host_publishable = false;                     /* CS-8 */
        assert_false(slot_recruiting(&l, true));
        l.host_publishable = true;
        l.delisted = true;                              /* CS-10 */
        assert_false(slot_recruiting(&l, true));
        l.delisted = false;
        l.deleted = true;
        assert_false(slot_recruiting(&l, true));
        l.deleted = false;
        l.out_of_service = true;                        /* still recruiting: info only */
        assert_true(slot_recruiting(&l, true));
}

static void test_CS_25_occupancy_states(void **state)
{
        struct slot_listing l = { .attached = true, .host_publishable = true };
        struct slot_reservation r[] = {
                { 1, D0 + 9 * H, D0 + 10 * H, SLOT_RES_CONFIRMED },
                { 2, D0 + 10 * H, D0 + 11 * H, SLOT_RES_CHECKED_IN },
                { 3, D0 + 11 * H, D0 + 12 * H, SLOT_RES_PENDING },
                { 4, D0 + 12 * H, D0 + 13 * H, SLOT_RES_CANCELLED },
                { 5, D0 + 13 * H, D0 + 14 * H, SLOT_RES_COMPLETED },
        };

        assert_int_equal(slot_occupancy(&l, r, 5, D0 + 8 * H), SLOT_OCC_AVAILABLE);
        assert_int_equal(slot_occupancy(&l, r, 5, D0 + 9 * H), SLOT_OCC_RESERVED);
        assert_int_equal(slot_occupancy(&l, r, 5, D0 + 10 * H), SLOT_OCC_IN_USE);
        assert_int_equal(slot_occupancy(&l, r, 5, D0 + 11 * H + 59 * M), SLOT_OCC_RESERVED);
        assert_int_equal(slot_occupancy(&l, r, 5, D0 + 12 * H + 30 * M), SLOT_OCC_AVAILABLE);
        assert_int_equal(slot_occupancy(&l, r, 5, D0 + 13 * H + 30 * M), SLOT_OCC_AVAILABLE);
        assert_int_equal(slot_occupancy(&l, r, 0, D0 + 9 * H), SLOT_OCC_AVAILABLE);
        /* Out of service wins over everything. */
        l.out_of_service = true;
        assert_int_equal(slot_occupancy(&l, r, 5, D0 + 10 * H), SLOT_OCC_OUT_OF_SERVICE);
        l.out_of_service = false;
        l.delisted = true;
        assert_int_equal(slot_occupancy(&l, r, 5, D0 + 8 * H), SLOT_OCC_OUT_OF_SERVICE);
        l.delisted = false;
        l.attached = false;
        assert_int_equal(slot_occupancy(&l, r, 5, D0 + 8 * H), SLOT_OCC_OUT_OF_SERVICE);
        l.attached = true;
        l.host_publishable = false;
        assert_int_equal(slot_occupancy(&l, r, 5, D0 + 8 * H), SLOT_OCC_OUT_OF_SERVICE);
        assert_string_equal(slot_occupancy_name(SLOT_OCC_AVAILABLE), "available");
        assert_string_equal(slot_occupancy_name(SLOT_OCC_RESERVED), "reserved");
        assert_string_equal(slot_occupancy_name(SLOT_OCC_IN_USE), "in_use");
        assert_string_equal(slot_occupancy_name(SLOT_OCC_OUT_OF_SERVICE), "out_of_service");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_local_time_helpers),
                cmocka_unit_test(test_CS_24_grid_in_tokyo_wall_clock),
                cmocka_unit_test(test_CS_13_slot_validation),
                cmocka_unit_test(test_CS_13_pattern_expansion_in_tokyo_dates),
                cmocka_unit_test(test_CS_13_overlap_detection),
                cmocka_unit_test(test_CS_24_price_of_range_in_one_slot),
                cmocka_unit_test(test_CS_24_price_of_range_spanning_two_slots),
                cmocka_unit_test(test_CS_24_price_needs_contiguous_slots),
                cmocka_unit_test(test_CS_16_change_blocked_by_active_reservation),
                cmocka_unit_test(test_CS_16_each_active_status_blocks),
                cmocka_unit_test(test_CS_24_calendar_free_minus_reservations),
                cmocka_unit_test(test_CS_24_range_free),
                cmocka_unit_test(test_CS_13_recruiting),
                cmocka_unit_test(test_CS_25_occupancy_states),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
