/*
 * test_resv_domain.c - unit tests of the pure reservation rules in
 * domain/resv.c (issue 5): one test per rule id with its boundaries
 * (exactly 48 h, 24 h, 168 h before start), the money rules with their
 * rounding and overflow refusals, and the whole transition table (every
 * legal transition, and every other state/event pair refused).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "domain/resv.h"
#include "domain/resv_money.h"

/* ---- helpers --------------------------------------------------------- */

#define H 3600LL
#define MIN 60LL
/* 2026-05-01 09:00 Tokyo (00:00 UTC): on the 15 min grid. */
#define T0 1777593600LL

static struct resv_rules rules(void)
{
        struct resv_rules r;

        resv_rules_default(&r);
        return r;
}

static struct slot sl(int64_t id, int64_t s, int64_t e, int64_t price)
{
        struct slot x = { .id = id, .starts_at = s, .ends_at = e, .hourly_price = price };

        return x;
}

/* ---- rules ----------------------------------------------------------- */

static void test_defaults_are_the_spec_numbers(void **state)
{
        struct resv_rules r = rules();

        assert_int_equal(r.user_free_before_s, 48 * H);
        assert_int_equal(r.user_half_before_s, 24 * H);
        assert_int_equal(r.user_half_pct, 50);
        assert_int_equal(r.user_late_pct, 100);
        assert_int_equal(r.host_self_before_s, 168 * H);
        assert_int_equal(r.host_cancel_fee, 2200);
        assert_int_equal(r.nonperformance_fee, 2200);
        assert_int_equal(r.substitute_within_s, 168 * H);
        assert_int_equal(r.platform_fee_pct, 10);
        assert_int_equal(r.penalty_share_pct, 20);
        assert_int_equal(r.overstay_multiplier, 2);
        assert_int_equal(r.unproven_overtime_s, 24 * H);
        assert_int_equal(r.unproven_max_booking_s, 24 * H);
        assert_int_equal(r.overdue_close_after_s, 24 * H);
        assert_int_equal(r.request_expiry_s, 24 * H);
        assert_int_equal(r.grid_s, 15 * MIN);
        assert_int_equal(r.checkin_distance_m, 200);
        assert_int_equal(resv_rules_check(&r), 0);
}

static void test_rules_check_refuses_nonsense(void **state)
{
        struct resv_rules r = rules();

        r.platform_fee_pct = 101;
        assert_int_equal(resv_rules_check(&r), -EINVAL);
        r = rules();
        r.penalty_share_pct = -1;
        assert_int_equal(resv_rules_check(&r), -EINVAL);
        r = rules();
        r.user_half_before_s = 49 * H;  /* 24 h tier above the 48 h tier */
        assert_int_equal(resv_rules_check(&r), -EINVAL);
        r = rules();
        r.grid_s = 7 * MIN;             /* does not divide a day */
        assert_int_equal(resv_rules_check(&r), -EINVAL);
        r = rules();
        r.request_expiry_s = 0;
        assert_int_equal(resv_rules_check(&r), -EINVAL);
        r = rules();
        r.host_cancel_fee = -1;
        assert_int_equal(resv_rules_check(&r), -EINVAL);
}

/* ---- state machine ---------------------------------------------------- */

/* The expected table, written out independently of resv.c. */
static const struct {
        enum resv_state from;
        enum resv_event ev;
        enum resv_state to;
} legal[] = {
        { RESV_REQUESTED, RESV_EV_APPROVE, RESV_CONFIRMED },
        { RESV_REQUESTED, RESV_EV_REJECT, RESV_REJECTED },
        { RESV_REQUESTED, RESV_EV_EXPIRE, RESV_EXPIRED },
        { RESV_REQUESTED, RESV_EV_WITHDRAW, RESV_WITHDRAWN },
        { RESV_CONFIRMED, RESV_EV_CANCEL_USER, RESV_CANCELLED_BY_USER },
        { RESV_CONFIRMED, RESV_EV_CANCEL_HOST, RESV_CANCELLED_BY_HOST },
        { RESV_CONFIRMED, RESV_EV_CANCEL_NONPERFORMANCE, RESV_CANCELLED_NONPERFORMANCE },
        { RESV_CONFIRMED, RESV_EV_CANCEL_UNUSABLE, RESV_CANCELLED_UNUSABLE },
        { RESV_CONFIRMED, RESV_EV_CHECK_IN, RESV_CHECKED_IN },
        { RESV_CONFIRMED, RESV_EV_EARLY_USE, RESV_CONFIRMED },
        { RESV_CONFIRMED, RESV_EV_NO_SHOW, RESV_COMPLETED },
        { RESV_CHECKED_IN, RESV_EV_CHECK_OUT, RESV_COMPLETED },
        { RESV_CHECKED_IN, RESV_EV_EXTEND, RESV_CHECKED_IN },
        { RESV_CHECKED_IN, RESV_EV_BECOME_OVERDUE, RESV_OVERDUE },
        { RESV_CHECKED_IN, RESV_EV_CANCEL_NONPERFORMANCE, RESV_CANCELLED_NONPERFORMANCE },
        { RESV_OVERDUE, RESV_EV_CHECK_OUT, RESV_COMPLETED },
        { RESV_OVERDUE, RESV_EV_CLOSE_OVERDUE, RESV_COMPLETED },
};
#define N_LEGAL (sizeof(legal) / sizeof(legal[0]))

static void test_every_legal_transition(void **state)
{
        for (size_t i = 0; i < N_LEGAL; i++) {
                enum resv_state next = _RESV_STATE_MAX;

                assert_int_equal(resv_next(legal[i].from, legal[i].ev, &next), 0);
                assert_int_equal(next, legal[i].to);
        }
}

static void test_every_other_pair_is_illegal(void **state)
{
        size_t ok = 0;

        for (int s = 0; s < _RESV_STATE_MAX; s++) {
                for (int e = 0; e < _RESV_EVENT_MAX; e++) {
                        enum resv_state next = RESV_OVERDUE;
                        bool expected = false;

                        for (size_t i = 0; i < N_LEGAL; i++)
                                if ((int)legal[i].from == s && (int)legal[i].ev == e)
                                        expected = true;
                        if (expected) {
                                ok++;
                                continue;
                        }
                        assert_int_equal(resv_next((enum resv_state)s, (enum resv_event)e, &next),
                                         -EPERM);
                        assert_int_equal(next, RESV_OVERDUE);   /* untouched */
                }
        }
        assert_int_equal(ok, N_LEGAL);
}

static void test_sample_of_illegal_transitions(void **state)
{
        enum resv_state next;

        /* CS-14: a decision is final. */
        assert_int_equal(resv_next(RESV_REJECTED, RESV_EV_APPROVE, &next), -EPERM);
        assert_int_equal(resv_next(RESV_CONFIRMED, RESV_EV_REJECT, &next), -EPERM);
        assert_int_equal(resv_next(RESV_CONFIRMED, RESV_EV_APPROVE, &next), -EPERM);
        /* CS-27: withdrawal is for pending requests; cancellation for bookings. */
        assert_int_equal(resv_next(RESV_CONFIRMED, RESV_EV_WITHDRAW, &next), -EPERM);
        assert_int_equal(resv_next(RESV_REQUESTED, RESV_EV_CANCEL_USER, &next), -EPERM);
        /* No check-in before approval, no check-out before check-in. */
        assert_int_equal(resv_next(RESV_REQUESTED, RESV_EV_CHECK_IN, &next), -EPERM);
        assert_int_equal(resv_next(RESV_CONFIRMED, RESV_EV_CHECK_OUT, &next), -EPERM);
        /* No cancellation once in use (CS-30: no reduction). */
        assert_int_equal(resv_next(RESV_CHECKED_IN, RESV_EV_CANCEL_USER, &next), -EPERM);
        assert_int_equal(resv_next(RESV_CHECKED_IN, RESV_EV_CANCEL_HOST, &next), -EPERM);
        /* CS-32: extension only during use; CS-31 early use only before. */
        assert_int_equal(resv_next(RESV_CONFIRMED, RESV_EV_EXTEND, &next), -EPERM);
        assert_int_equal(resv_next(RESV_OVERDUE, RESV_EV_EXTEND, &next), -EPERM);
        assert_int_equal(resv_next(RESV_CHECKED_IN, RESV_EV_EARLY_USE, &next), -EPERM);
        /* Final states stay final. */
        assert_int_equal(resv_next(RESV_COMPLETED, RESV_EV_CHECK_OUT, &next), -EPERM);
        assert_int_equal(resv_next(RESV_CANCELLED_BY_USER, RESV_EV_CHECK_IN, &next), -EPERM);
        /* Out of range. */
        assert_int_equal(resv_next(_RESV_STATE_MAX, RESV_EV_APPROVE, &next), -EINVAL);
        assert_int_equal(resv_next(RESV_REQUESTED, _RESV_EVENT_MAX, &next), -EINVAL);
}

static void test_final_and_active_states(void **state)
{
        for (int s = 0; s < _RESV_STATE_MAX; s++) {
                bool has_exit = false;

                for (size_t i = 0; i < N_LEGAL; i++)
                        if ((int)legal[i].from == s)
                                has_exit = true;
                assert_int_equal(resv_state_final((enum resv_state)s), !has_exit);
                assert_int_equal(resv_state_active((enum resv_state)s), has_exit);
        }
        assert_int_equal(resv_state_slot_status(RESV_REQUESTED), SLOT_RES_PENDING);
        assert_int_equal(resv_state_slot_status(RESV_OVERDUE), SLOT_RES_CHECKED_IN);
        assert_int_equal(resv_state_slot_status(RESV_WITHDRAWN), SLOT_RES_CANCELLED);
        assert_int_equal(resv_state_slot_status(RESV_CANCELLED_UNUSABLE), SLOT_RES_CANCELLED);
        assert_int_equal(resv_state_slot_status(RESV_COMPLETED), SLOT_RES_COMPLETED);
        assert_true(slot_res_active(resv_state_slot_status(RESV_OVERDUE)));
}

static void test_names_are_stable_snake_case_and_round_trip(void **state)
{
        assert_string_equal(resv_state_name(RESV_CANCELLED_BY_USER), "cancelled_by_user");
        assert_string_equal(resv_state_name(RESV_CHECKED_IN), "checked_in");
        assert_string_equal(resv_state_name(RESV_CANCELLED_NONPERFORMANCE),
                            "cancelled_nonperformance");
        assert_string_equal(resv_event_name(RESV_EV_BECOME_OVERDUE), "become_overdue");
        assert_string_equal(resv_event_name(RESV_EV_EARLY_USE), "early_use");
        assert_string_equal(resv_state_name(_RESV_STATE_MAX), "unknown");
        assert_string_equal(resv_event_name(_RESV_EVENT_MAX), "unknown");
        for (int s = 0; s < _RESV_STATE_MAX; s++) {
                const char *n = resv_state_name((enum resv_state)s);

                assert_string_not_equal(n, "unknown");
                assert_int_equal(strspn(n, "abcdefghijklmnopqrstuvwxyz_"), strlen(n));
                assert_int_equal(resv_state_from_name(n), s);
        }
        for (int e = 0; e < _RESV_EVENT_MAX; e++) {
                const char *n = resv_event_name((enum resv_event)e);

                assert_string_not_equal(n, "unknown");
                assert_int_equal(strspn(n, "abcdefghijklmnopqrstuvwxyz_"), strlen(n));
                assert_int_equal(resv_event_from_name(n), e);
        }
        assert_int_equal(resv_state_from_name("Confirmed"), -EINVAL);
        assert_int_equal(resv_state_from_name(NULL), -EINVAL);
        assert_int_equal(resv_event_from_name("unknown"), -EINVAL);
}

/* ---- CS-14 ------------------------------------------------------------ */

static void test_CS_14_request_expiry_earlier_of_start_and_24h(void **state)
{
        struct resv_rules r = rules();
        int64_t at;

        /* Start far ahead: sent + 24 h. */
        assert_int_equal(resv_request_expiry(&r, T0, T0 + 72 * H, &at), 0);
        assert_int_equal(at, T0 + 24 * H);
        /* Start sooner: the start. */
        assert_int_equal(resv_request_expiry(&r, T0, T0 + 3 * H, &at), 0);
        assert_int_equal(at, T0 + 3 * H);
        /* Exactly 24 h ahead: both agree. */
        assert_int_equal(resv_request_expiry(&r, T0, T0 + 24 * H, &at), 0);
        assert_int_equal(at, T0 + 24 * H);
        /* Configured time. */
        r.request_expiry_s = 2 * H;
        assert_int_equal(resv_request_expiry(&r, T0, T0 + 3 * H, &at), 0);
        assert_int_equal(at, T0 + 2 * H);
        assert_int_equal(resv_request_expiry(&r, INT64_MAX - 1, INT64_MAX, &at), -EOVERFLOW);
}

/* ---- CS-17 ------------------------------------------------------------ */

static void test_CS_17_host_cancel_more_than_168h_is_self_service_and_free(void **state)
{
        struct resv_rules r = rules();
        struct resv_host_cancel c;

        assert_int_equal(resv_host_cancel(&r, false, T0 + 168 * H + 1, T0, &c), 0);
        assert_true(c.self_service);
        assert_int_equal(c.fee, 0);
}

static void test_CS_17_host_cancel_exactly_168h_needs_operator_and_fee(void **state)
{
        struct resv_rules r = rules();
        struct resv_host_cancel c;

        assert_int_equal(resv_host_cancel(&r, false, T0 + 168 * H, T0, &c), 0);
        assert_false(c.self_service);
        assert_int_equal(c.fee, 2200);
        assert_int_equal(resv_host_cancel(&r, false, T0 + 1 * H, T0, &c), 0);
        assert_false(c.self_service);
        assert_int_equal(c.fee, 2200);
}

static void test_CS_17_corporate_host_pays_no_fee(void **state)
{
        struct resv_rules r = rules();
        struct resv_host_cancel c;

        assert_int_equal(resv_host_cancel(&r, true, T0 + 168 * H, T0, &c), 0);
        assert_false(c.self_service);
        assert_int_equal(c.fee, 0);
        assert_int_equal(resv_host_cancel(&r, true, T0 + 200 * H, T0, &c), 0);
        assert_true(c.self_service);
        assert_int_equal(c.fee, 0);
}

/* ---- CS-19, CS-20, CS-21, CS-28 ---------------------------------------- */

static void test_CS_19_platform_fee_rounds_down(void **state)
{
        struct resv_rules r = rules();
        int64_t p, net;

        assert_int_equal(resv_platform_fee(&r, 999, &p, &net), 0);
        assert_int_equal(p, 99);                /* 99.9 -> 99 */
        assert_int_equal(net, 900);
        assert_int_equal(resv_platform_fee(&r, 1000, &p, &net), 0);
        assert_int_equal(p, 100);
        assert_int_equal(net, 900);
        assert_int_equal(resv_platform_fee(&r, 9, &p, &net), 0);
        assert_int_equal(p, 0);
        assert_int_equal(net, 9);
        assert_int_equal(resv_platform_fee(&r, 0, &p, &net), 0);
        assert_int_equal(p, 0);
        assert_int_equal(net, 0);
        r.platform_fee_pct = 15;
        assert_int_equal(resv_platform_fee(&r, 1333, &p, &net), 0);
        assert_int_equal(p, 199);               /* 199.95 -> 199 */
        assert_int_equal(net, 1134);
        assert_int_equal(resv_platform_fee(&r, -1, &p, &net), -EINVAL);
        assert_int_equal(resv_platform_fee(&r, INT64_MAX / 10, &p, &net), -EOVERFLOW);
}

static void test_CS_20_nonperformance_fee(void **state)
{
        struct resv_rules r = rules();

        assert_int_equal(resv_nonperformance_fee(&r, false, false), 2200);
        assert_int_equal(resv_nonperformance_fee(&r, true, false), 0);
        assert_int_equal(resv_nonperformance_fee(&r, false, true), 0);
        assert_int_equal(resv_nonperformance_fee(&r, true, true), 0);
        r.nonperformance_fee = 3300;
        assert_int_equal(resv_nonperformance_fee(&r, false, false), 3300);
}

static void test_CS_20_CS_28_substitutes_offered_within_168h(void **state)
{
        struct resv_rules r = rules();

        assert_false(resv_offer_substitutes(&r, T0 + 168 * H + 1, T0));
        assert_true(resv_offer_substitutes(&r, T0 + 168 * H, T0));
        assert_true(resv_offer_substitutes(&r, T0 + 1, T0));
        assert_true(resv_offer_substitutes(&r, T0 - H, T0));   /* already started */
}

static void test_CS_21_penalty_share(void **state)
{
        struct resv_rules r = rules();
        int64_t op, host;

        assert_int_equal(resv_penalty_share(&r, 1000, &op, &host), 0);
        assert_int_equal(op, 200);
        assert_int_equal(host, 800);
        assert_int_equal(resv_penalty_share(&r, 33, &op, &host), 0);
        assert_int_equal(op, 6);                /* 6.6 -> 6 */
        assert_int_equal(host, 27);
        assert_int_equal(resv_penalty_share(&r, 4, &op, &host), 0);
        assert_int_equal(op, 0);
        assert_int_equal(host, 4);
        assert_int_equal(resv_penalty_share(&r, -5, &op, &host), -EINVAL);
        assert_int_equal(resv_penalty_share(&r, INT64_MAX / 2, &op, &host), -EOVERFLOW);
}

/* ---- CS-24 fee ----------------------------------------------------------- */

static void test_CS_24_fee_over_slots(void **state)
{
        struct slot s[2] = { sl(1, T0, T0 + 2 * H, 300), sl(2, T0 + 2 * H, T0 + 4 * H, 500) };
        struct slot huge[1] = { sl(3, T0, T0 + 4 * H, INT64_MAX / 1000) };
        struct slot neg[1] = { sl(4, T0, T0 + 4 * H, -1) };
        int64_t fee = -1;
        struct resv_rules r = rules();

        /* 1 h 15 min at 300 + 45 min at 500: 375 + 375. */
        assert_int_equal(resv_fee(s, 2, T0 + 45 * MIN, T0 + 2 * H + 45 * MIN, &fee), 0);
        assert_int_equal(fee, 375 + 375);
        /* 20 min at 500: 166.66 -> 166. */
        assert_int_equal(resv_fee(s, 2, T0 + 2 * H, T0 + 2 * H + 20 * MIN, &fee), 0);
        assert_int_equal(fee, 166);
        assert_int_equal(resv_fee(s, 2, T0 + 3 * H, T0 + 5 * H, &fee), -ENOENT);
        assert_int_equal(resv_fee(s, 2, T0 + H, T0 + H, &fee), -EINVAL);
        assert_int_equal(resv_fee(huge, 1, T0, T0 + 4 * H, &fee), -EOVERFLOW);
        assert_int_equal(resv_fee(neg, 1, T0, T0 + H, &fee), -EINVAL);
        assert_int_equal(resv_check_range(&r, T0, T0 + 15 * MIN), 0);
        assert_int_equal(resv_check_range(&r, T0, T0 + 10 * MIN), -EINVAL);
        assert_int_equal(resv_check_range(&r, T0 + 5 * MIN, T0 + H), -EINVAL);
        assert_int_equal(resv_check_range(&r, T0, T0), -EINVAL);
}

/* ---- CS-26 ----------------------------------------------------------------- */

static void test_CS_26_onsite_cannot_be_cancelled_or_moved(void **state)
{
        enum resv_state next = RESV_OVERDUE, st = resv_initial_state(true);

        /* Confirmed and started at once. */
        assert_int_equal(st, RESV_CHECKED_IN);
        assert_int_equal(resv_initial_state(false), RESV_REQUESTED);
        /* Even where the store passes it through confirmed, art 24, 25.1
         * and 26.2 do not apply. */
        assert_int_equal(resv_next_flags(RESV_CONFIRMED, RESV_EV_CANCEL_USER, RESV_F_ONSITE, &next),
                         -EPERM);
        assert_int_equal(resv_next_flags(RESV_CONFIRMED, RESV_EV_EARLY_USE, RESV_F_ONSITE, &next),
                         -EPERM);
        assert_int_equal(resv_next_flags(RESV_CONFIRMED, RESV_EV_CANCEL_UNUSABLE, RESV_F_ONSITE,
                                         &next),
                         -EPERM);
        assert_int_equal(next, RESV_OVERDUE);
        assert_int_equal(resv_next_flags(st, RESV_EV_CANCEL_USER, RESV_F_ONSITE, &next), -EPERM);
        assert_int_equal(resv_next_flags(st, RESV_EV_EARLY_USE, RESV_F_ONSITE, &next), -EPERM);
        /* What does apply: check-out, extension, non-performance. */
        assert_int_equal(resv_next_flags(st, RESV_EV_CHECK_OUT, RESV_F_ONSITE, &next), 0);
        assert_int_equal(next, RESV_COMPLETED);
        assert_int_equal(resv_next_flags(st, RESV_EV_EXTEND, RESV_F_ONSITE, &next), 0);
        assert_int_equal(next, RESV_CHECKED_IN);
        assert_int_equal(resv_next_flags(st, RESV_EV_CANCEL_NONPERFORMANCE, RESV_F_ONSITE, &next),
                         0);
        assert_int_equal(next, RESV_CANCELLED_NONPERFORMANCE);
        /* The same moves are legal for an ordinary booking. */
        assert_int_equal(resv_next_flags(RESV_CONFIRMED, RESV_EV_CANCEL_USER, 0, &next), 0);
        assert_int_equal(next, RESV_CANCELLED_BY_USER);
}

/* ---- CS-27 ------------------------------------------------------------------ */

static void test_CS_27_cancel_exactly_48h_is_free(void **state)
{
        struct resv_rules r = rules();
        int64_t c = -1;

        assert_int_equal(resv_user_cancel_fee(&r, 1001, T0 + 48 * H, T0, &c), 0);
        assert_int_equal(c, 0);
        assert_int_equal(resv_user_cancel_fee(&r, 1001, T0 + 500 * H, T0, &c), 0);
        assert_int_equal(c, 0);
}

static void test_CS_27_cancel_just_under_48h_is_half_rounded_down(void **state)
{
        struct resv_rules r = rules();
        int64_t c = -1;

        assert_int_equal(resv_user_cancel_fee(&r, 1001, T0 + 48 * H - 1, T0, &c), 0);
        assert_int_equal(c, 500);               /* 500.5 -> 500 */
        assert_int_equal(resv_user_cancel_fee(&r, 1, T0 + 30 * H, T0, &c), 0);
        assert_int_equal(c, 0);                 /* 0.5 -> 0 */
}

static void test_CS_27_exactly_24h_is_half(void **state)
{
        struct resv_rules r = rules();
        int64_t c = -1;

        assert_int_equal(resv_user_cancel_fee(&r, 1001, T0 + 24 * H, T0, &c), 0);
        assert_int_equal(c, 500);
}

static void test_CS_27_under_24h_is_full(void **state)
{
        struct resv_rules r = rules();
        int64_t c = -1;

        assert_int_equal(resv_user_cancel_fee(&r, 1001, T0 + 24 * H - 1, T0, &c), 0);
        assert_int_equal(c, 1001);
        assert_int_equal(resv_user_cancel_fee(&r, 1001, T0, T0, &c), 0);
        assert_int_equal(c, 1001);
        assert_int_equal(resv_user_cancel_fee(&r, 1001, T0 - H, T0, &c), 0);
        assert_int_equal(c, 1001);
        assert_int_equal(resv_user_cancel_fee(&r, -1, T0, T0, &c), -EINVAL);
        assert_int_equal(resv_user_cancel_fee(&r, 1, INT64_MIN, INT64_MAX, &c), -EOVERFLOW);
}

static void test_CS_27_cancellation_fee_goes_to_host_less_platform_fee(void **state)
{
        struct resv_rules r = rules();
        int64_t c, p, net;

        assert_int_equal(resv_user_cancel_fee(&r, 1999, T0 + 30 * H, T0, &c), 0);
        assert_int_equal(c, 999);
        assert_int_equal(resv_platform_fee(&r, c, &p, &net), 0);
        assert_int_equal(p, 99);
        assert_int_equal(net, 900);
        assert_int_equal(1999 - c, 1000);       /* returned to the user */
}

/* ---- CS-29 ---------------------------------------------------------------------- */

static void test_CS_29_checkin_distance(void **state)
{
        struct resv_rules r = rules();

        assert_true(resv_checkin_distance_ok(&r, 0.0));
        assert_true(resv_checkin_distance_ok(&r, 200.0));
        assert_false(resv_checkin_distance_ok(&r, 200.01));
        assert_false(resv_checkin_distance_ok(&r, -1.0));
        assert_false(resv_checkin_distance_ok(&r, NAN));
}

/* ---- CS-31, CS-32 ----------------------------------------------------------------- */

static void test_CS_31_early_use_keeps_duration_and_settles_difference(void **state)
{
        struct resv_rules r = rules();
        /* 8:00-9:00 at 600, 9:00-12:00 at 300 (Tokyo). */
        struct slot s[2] = { sl(1, T0 - H, T0, 600), sl(2, T0, T0 + 3 * H, 300) };
        struct slot_reservation self = { .id = 7, .starts_at = T0, .ends_at = T0 + 2 * H,
                                         .status = SLOT_RES_CONFIRMED };
        struct slot_reservation others[2] = {
                self,
                { .id = 8, .starts_at = T0 + 2 * H, .ends_at = T0 + 3 * H,
                  .status = SLOT_RES_CONFIRMED },
        };
        struct slot_range m = { 0, 0 };
        int64_t diff = 0, old_fee = 600;        /* 9:00-11:00 at 300 */

        /* The spec's example: 9:00-11:00 used from 8:00 becomes 8:00-10:00;
         * 600 + 300 = 900, the user pays 300 more. */
        assert_int_equal(resv_early_use(&r, s, 2, others, 2, 7, T0, T0 + 2 * H, old_fee, T0 - H,
                                        T0 - H, &m, &diff),
                         0);
        assert_int_equal(m.starts_at, T0 - H);
        assert_int_equal(m.ends_at, T0 + H);
        assert_int_equal(diff, 300);
        /* Now 8:07: from 8:00 (the step holding now) is still allowed. */
        assert_int_equal(resv_early_use(&r, s, 2, others, 2, 7, T0, T0 + 2 * H, old_fee, T0 - H,
                                        T0 - H + 7 * MIN, &m, &diff),
                         0);
        assert_int_equal(diff, 300);
        /* Negative difference: a refund. Booked 9:00-10:00 at a frozen 900. */
        assert_int_equal(resv_early_use(&r, s, 2, others, 2, 7, T0, T0 + H, 900, T0 - 30 * MIN,
                                        T0 - H, &m, &diff),
                         0);
        assert_int_equal(m.starts_at, T0 - 30 * MIN);
        assert_int_equal(m.ends_at, T0 + 30 * MIN);
        assert_int_equal(diff, 300 + 150 - 900);
        /* Refusals. */
        assert_int_equal(resv_early_use(&r, s, 2, others, 2, 7, T0, T0 + 2 * H, old_fee, T0 - H,
                                        T0, &m, &diff),
                         -EPERM);        /* already started */
        assert_int_equal(resv_early_use(&r, s, 2, others, 2, 7, T0, T0 + 2 * H, old_fee, T0,
                                        T0 - H, &m, &diff),
                         -EPERM);        /* not earlier */
        assert_int_equal(resv_early_use(&r, s, 2, others, 2, 7, T0, T0 + 2 * H, old_fee, T0 - H,
                                        T0 - 30 * MIN, &m, &diff),
                         -EPERM);        /* new start in the past */
        assert_int_equal(resv_early_use(&r, s, 2, others, 2, 7, T0, T0 + 2 * H, old_fee,
                                        T0 - H + 5 * MIN, T0 - 2 * H, &m, &diff),
                         -EINVAL);       /* off grid */
        assert_int_equal(resv_early_use(&r, s, 2, others, 2, 7, T0, T0 + 2 * H, old_fee,
                                        T0 - 2 * H, T0 - 3 * H, &m, &diff),
                         -ENOENT);       /* 7:00 is outside the slots */
        /* Booked 11:00-12:00, moved to 10:00-11:00: reservation 8 now
         * covers 10:30-12:00 and takes part of the new range. */
        others[1].starts_at = T0 + H + 30 * MIN;
        assert_int_equal(resv_early_use(&r, s, 2, others, 2, 7, T0 + 2 * H, T0 + 3 * H, 300,
                                        T0 + H, T0 - H, &m, &diff),
                         -EBUSY);
        /* An inactive reservation does not block. */
        others[1].status = SLOT_RES_CANCELLED;
        assert_int_equal(resv_early_use(&r, s, 2, others, 2, 7, T0 + 2 * H, T0 + 3 * H, 300,
                                        T0 + H, T0 - H, &m, &diff),
                         0);
        assert_int_equal(diff, 0);
}

static void test_CS_32_extension_fee(void **state)
{
        struct resv_rules r = rules();
        int64_t fee;

        assert_int_equal(resv_extension_fee(&r, 500, T0, T0 + 45 * MIN, &fee), 0);
        assert_int_equal(fee, 375);
        assert_int_equal(resv_extension_fee(&r, 333, T0, T0 + 15 * MIN, &fee), 0);
        assert_int_equal(fee, 83);              /* 83.25 -> 83 */
        assert_int_equal(resv_extension_fee(&r, 500, T0, T0, &fee), -EINVAL);
        assert_int_equal(resv_extension_fee(&r, 500, T0, T0 + 10 * MIN, &fee), -EINVAL);
        assert_int_equal(resv_extension_fee(&r, INT64_MAX / 100, T0, T0 + H, &fee), -EOVERFLOW);
}

static void test_CS_32_not_extendable_charger(void **state)
{
        enum resv_state next = RESV_REQUESTED;

        assert_int_equal(resv_next_flags(RESV_CHECKED_IN, RESV_EV_EXTEND, RESV_F_NOT_EXTENDABLE,
                                         &next),
                         -EPERM);
        assert_int_equal(next, RESV_REQUESTED);
        assert_int_equal(resv_next_flags(RESV_CHECKED_IN, RESV_EV_CHECK_OUT, RESV_F_NOT_EXTENDABLE,
                                         &next),
                         0);
        assert_int_equal(next, RESV_COMPLETED);
}

/* ---- CS-33 ------------------------------------------------------------------------ */

static void test_CS_33_overtime_started_minutes(void **state)
{
        struct resv_rules r = rules();
        struct resv_end_facts f = { .starts_at = T0, .ends_at = T0 + 2 * H, .checked_out = true };
        int64_t ot = -1, min = -1, pen = -1;

        assert_int_equal(resv_started_minutes(0), 0);
        assert_int_equal(resv_started_minutes(-30), 0);
        assert_int_equal(resv_started_minutes(1), 1);
        assert_int_equal(resv_started_minutes(60), 1);
        assert_int_equal(resv_started_minutes(61), 2);
        assert_int_equal(resv_started_minutes(INT64_MAX), INT64_MAX / 60 + 1);

        /* Checked out exactly at the end: nothing. */
        f.checked_out_at = f.ends_at;
        assert_int_equal(resv_overtime(&r, &f, &ot), 0);
        assert_int_equal(ot, 0);
        assert_int_equal(resv_overstay_penalty(&r, true, 1000, ot, &min, &pen), 0);
        assert_int_equal(min, 0);
        assert_int_equal(pen, 0);
        /* Early check-out: nothing (and no reduction, CS-30, elsewhere). */
        f.checked_out_at = f.ends_at - 10 * MIN;
        assert_int_equal(resv_overtime(&r, &f, &ot), 0);
        assert_int_equal(ot, 0);
        /* One second over is one started minute: 2 x 1000 x 1 / 60 = 33.3 -> 33. */
        f.checked_out_at = f.ends_at + 1;
        assert_int_equal(resv_overtime(&r, &f, &ot), 0);
        assert_int_equal(ot, 1);
        assert_int_equal(resv_overstay_penalty(&r, true, 1000, ot, &min, &pen), 0);
        assert_int_equal(min, 1);
        assert_int_equal(pen, 33);
        /* 10 min 1 s: 11 minutes, 2 x 1000 x 11 / 60 = 366.6 -> 366
         * (rounded once on the total, not per minute: 11 x 33 = 363). */
        f.checked_out_at = f.ends_at + 10 * MIN + 1;
        assert_int_equal(resv_overtime(&r, &f, &ot), 0);
        assert_int_equal(resv_overstay_penalty(&r, true, 1000, ot, &min, &pen), 0);
        assert_int_equal(min, 11);
        assert_int_equal(pen, 366);
        /* Host has penalties off: minutes still reported, penalty 0. */
        assert_int_equal(resv_overstay_penalty(&r, false, 1000, ot, &min, &pen), 0);
        assert_int_equal(min, 11);
        assert_int_equal(pen, 0);
        /* Check-out wins over power evidence. */
        f.power_evidence = true;
        f.power_stopped_at = f.ends_at + 2 * MIN;
        assert_int_equal(resv_overtime(&r, &f, &ot), 0);
        assert_int_equal(ot, 10 * MIN + 1);
        /* Refusals. */
        assert_int_equal(resv_overstay_penalty(&r, true, -1, 60, &min, &pen), -EINVAL);
        assert_int_equal(resv_overstay_penalty(&r, true, INT64_MAX / 4, 3600, &min, &pen),
                         -EOVERFLOW);
        f.ends_at = f.starts_at;
        assert_int_equal(resv_overtime(&r, &f, &ot), -EINVAL);
}

static void test_CS_33_unproven_overtime_24h(void **state)
{
        struct resv_rules r = rules();
        struct resv_end_facts f = { .starts_at = T0, .ends_at = T0 + 24 * H };
        int64_t ot = -1, min, pen, at;

        /* A 24 h booking never checked out, no evidence: 24 h. */
        assert_int_equal(resv_overtime(&r, &f, &ot), 0);
        assert_int_equal(ot, 24 * H);
        assert_int_equal(resv_overstay_penalty(&r, true, 300, ot, &min, &pen), 0);
        assert_int_equal(min, 1440);
        assert_int_equal(pen, 2 * 300 * 24);    /* 14,400 yen */
        /* A 1 h booking: also 24 h. */
        f.ends_at = T0 + H;
        assert_int_equal(resv_overtime(&r, &f, &ot), 0);
        assert_int_equal(ot, 24 * H);
        /* A longer booking (30 h): its own duration (decision). */
        f.ends_at = T0 + 30 * H;
        assert_int_equal(resv_overtime(&r, &f, &ot), 0);
        assert_int_equal(ot, 30 * H);
        /* Evidence of the real power stop sets the overtime instead. */
        f.ends_at = T0 + 2 * H;
        f.power_evidence = true;
        f.power_stopped_at = f.ends_at + 90 * MIN + 30;
        assert_int_equal(resv_overtime(&r, &f, &ot), 0);
        assert_int_equal(ot, 90 * MIN + 30);
        assert_int_equal(resv_started_minutes(ot), 91);
        f.power_stopped_at = f.ends_at - MIN;   /* stopped before the end */
        assert_int_equal(resv_overtime(&r, &f, &ot), 0);
        assert_int_equal(ot, 0);
        /* The system closes it 24 h after the end. */
        assert_int_equal(resv_overdue_close_at(&r, f.ends_at, &at), 0);
        assert_int_equal(at, T0 + 26 * H);
        assert_int_equal(resv_overdue_close_at(&r, INT64_MAX, &at), -EOVERFLOW);
}

/* ---- the money of each step (resv_money.h) ----------------------------------------------- */

static const struct resv_accounts ACC = { .user_wallet = 10, .user_debt = 11,
                                          .host_wallet = 20, .host_debt = 21, .escrow = 1,
                                          .fee_revenue = 2, .penalty_share = 3 };

static void test_CS_19_settle_posts_the_hold_and_splits_platform_fee(void **state)
{
        struct resv_rules r;
        struct resv_postings p;
        int64_t plat, net;

        resv_rules_default(&r);
        resv_postings_init(&p);
        assert_int_equal(resv_add_settle(&p, &r, 7, 2, 2400, 2400, LEDGER_FEE, "fee", &ACC,
                                         &plat, &net), 0);
        assert_int_equal(plat, 240);
        assert_int_equal(net, 2160);
        assert_int_equal(p.n, 3);
        assert_string_equal(p.t[0].id, "resv:7:h2:post");
        assert_string_equal(p.t[0].pending_id, "resv:7:h2");
        assert_int_equal(p.t[0].flags, LEDGER_POST_PENDING);
        assert_int_equal(p.t[0].amount, 2400);
        assert_int_equal(p.t[1].debit_account_id, ACC.escrow);
        assert_int_equal(p.t[1].credit_account_id, ACC.host_wallet);
        assert_int_equal(p.t[1].amount, 2160);
        assert_int_equal(p.t[2].credit_account_id, ACC.fee_revenue);
        assert_int_equal(p.t[2].amount, 240);
        assert_int_equal(p.t[2].code, LEDGER_PLATFORM_FEE);
        resv_postings_link(&p);
        assert_true(p.t[0].flags & LEDGER_LINKED);
        assert_false(p.t[2].flags & LEDGER_LINKED);
        /* CS-27: charging part of the hold posts only that part; nothing = void */
        resv_postings_init(&p);
        assert_int_equal(resv_add_settle(&p, &r, 7, 1, 1001, 500, LEDGER_CANCELLATION_FEE,
                                         "cxl", &ACC, &plat, &net), 0);
        assert_int_equal(p.t[0].amount, 500);
        assert_int_equal(plat, 50);
        resv_postings_init(&p);
        assert_int_equal(resv_add_settle(&p, &r, 7, 1, 1001, 0, LEDGER_CANCELLATION_FEE, "cxl",
                                         &ACC, &plat, &net), 0);
        assert_int_equal(p.n, 1);
        assert_int_equal(p.t[0].flags, LEDGER_VOID_PENDING);
        assert_int_equal(resv_add_settle(&p, &r, 7, 1, 1001, 1002, LEDGER_FEE, "fee", &ACC,
                                         &plat, &net), -EINVAL);
        /* a free booking has no hold: nothing to settle */
        resv_postings_init(&p);
        assert_int_equal(resv_add_settle(&p, &r, 7, 0, 0, 0, LEDGER_FEE, "fee", &ACC, &plat,
                                         &net), 0);
        assert_int_equal(p.n, 0);
}

static void test_CS_34_charge_takes_what_the_wallet_has_and_posts_the_rest_as_debt(void **state)
{
        struct resv_rules r;
        struct resv_postings p;
        struct resv_charge c = { .amount = 80, .available = 30, .payer_wallet = ACC.user_wallet,
                                 .payer_debt = ACC.user_debt, .creditor = ACC.host_wallet,
                                 .receivable = ACC.escrow, .code = LEDGER_PENALTY, .tag = "pen",
                                 .share_from = ACC.host_wallet, .share_to = ACC.penalty_share,
                                 .pay_share = 1 };
        int64_t paid, owed, share;

        resv_rules_default(&r);
        resv_postings_init(&p);
        assert_int_equal(resv_add_charge(&p, &r, 9, &c, &paid, &owed, &share), 0);
        assert_int_equal(paid, 30);
        assert_int_equal(owed, 50);
        assert_int_equal(share, 6);             /* CS-21: 20 % of what was paid */
        assert_int_equal(p.n, 3);
        assert_string_equal(p.t[0].id, "resv:9:pen");
        assert_int_equal(p.t[0].amount, 30);
        assert_string_equal(p.t[1].id, "resv:9:pen-share");
        assert_int_equal(p.t[1].amount, 6);
        assert_string_equal(p.t[2].id, "resv:9:pen-debt");
        assert_int_equal(p.t[2].debit_account_id, ACC.user_debt);
        assert_int_equal(p.t[2].credit_account_id, ACC.escrow);
        assert_int_equal(p.t[2].amount, 50);
        /* an empty wallet: all debt, no share yet */
        c.available = 0;
        resv_postings_init(&p);
        assert_int_equal(resv_add_charge(&p, &r, 9, &c, &paid, &owed, &share), 0);
        assert_int_equal(p.n, 1);
        assert_int_equal(share, 0);
        assert_int_equal(owed, 80);
}

static void test_CS_21_shares_of_repayments_add_up_to_the_floor_of_the_whole(void **state)
{
        struct resv_rules r;
        struct resv_postings p;
        struct resv_repay d = { .debt_id = 4, .penalty = 1, .payer_wallet = 10, .payer_debt = 11,
                                .escrow = 1, .host_wallet = 20, .penalty_share = 3 };
        int64_t share, total = 0, paid = 0;
        static const int64_t pays[] = { 3, 3, 3, 3, 3, 2, 2, 1 };     /* 20 in all */

        resv_rules_default(&r);
        for (size_t i = 0; i < sizeof(pays) / sizeof(pays[0]); i++) {
                resv_postings_init(&p);
                d.n = (int)i + 1;
                d.pay = pays[i];
                d.paid_before = paid;
                assert_int_equal(resv_add_repay(&p, &r, &d, &share), 0);
                assert_int_equal(p.t[0].amount, pays[i]);
                assert_int_equal(p.t[1].amount, pays[i]);
                total += share;
                paid += pays[i];
        }
        assert_int_equal(total, 4);             /* floor(20 x 20 %), not 0 from each piece */
        d.pay = 0;
        assert_int_equal(resv_add_repay(&p, &r, &d, &share), -EINVAL);
}

static void test_issue5_schedule_of_each_state(void **state)
{
        struct resv_rules r;
        enum resv_event ev = RESV_EV_APPROVE;

        resv_rules_default(&r);
        assert_int_equal(resv_due_at(&r, RESV_REQUESTED, 500, 900, &ev), 500);
        assert_int_equal(ev, RESV_EV_EXPIRE);
        assert_int_equal(resv_due_at(&r, RESV_CONFIRMED, 500, 900, &ev), 900);
        assert_int_equal(ev, RESV_EV_NO_SHOW);
        assert_int_equal(resv_due_at(&r, RESV_CHECKED_IN, 500, 900, &ev), 900);
        assert_int_equal(ev, RESV_EV_BECOME_OVERDUE);
        assert_int_equal(resv_due_at(&r, RESV_OVERDUE, 500, 900, &ev), 900 + 24 * 3600);
        assert_int_equal(ev, RESV_EV_CLOSE_OVERDUE);
        ev = RESV_EV_APPROVE;
        assert_int_equal(resv_due_at(&r, RESV_COMPLETED, 500, 900, &ev), 0);
        assert_int_equal(ev, RESV_EV_APPROVE);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults_are_the_spec_numbers),
                cmocka_unit_test(test_rules_check_refuses_nonsense),
                cmocka_unit_test(test_every_legal_transition),
                cmocka_unit_test(test_every_other_pair_is_illegal),
                cmocka_unit_test(test_sample_of_illegal_transitions),
                cmocka_unit_test(test_final_and_active_states),
                cmocka_unit_test(test_names_are_stable_snake_case_and_round_trip),
                cmocka_unit_test(test_CS_14_request_expiry_earlier_of_start_and_24h),
                cmocka_unit_test(test_CS_17_host_cancel_more_than_168h_is_self_service_and_free),
                cmocka_unit_test(test_CS_17_host_cancel_exactly_168h_needs_operator_and_fee),
                cmocka_unit_test(test_CS_17_corporate_host_pays_no_fee),
                cmocka_unit_test(test_CS_19_platform_fee_rounds_down),
                cmocka_unit_test(test_CS_20_nonperformance_fee),
                cmocka_unit_test(test_CS_20_CS_28_substitutes_offered_within_168h),
                cmocka_unit_test(test_CS_21_penalty_share),
                cmocka_unit_test(test_CS_24_fee_over_slots),
                cmocka_unit_test(test_CS_26_onsite_cannot_be_cancelled_or_moved),
                cmocka_unit_test(test_CS_27_cancel_exactly_48h_is_free),
                cmocka_unit_test(test_CS_27_cancel_just_under_48h_is_half_rounded_down),
                cmocka_unit_test(test_CS_27_exactly_24h_is_half),
                cmocka_unit_test(test_CS_27_under_24h_is_full),
                cmocka_unit_test(test_CS_27_cancellation_fee_goes_to_host_less_platform_fee),
                cmocka_unit_test(test_CS_29_checkin_distance),
                cmocka_unit_test(test_CS_31_early_use_keeps_duration_and_settles_difference),
                cmocka_unit_test(test_CS_32_extension_fee),
                cmocka_unit_test(test_CS_32_not_extendable_charger),
                cmocka_unit_test(test_CS_33_overtime_started_minutes),
                cmocka_unit_test(test_CS_33_unproven_overtime_24h),
                cmocka_unit_test(test_CS_19_settle_posts_the_hold_and_splits_platform_fee),
                cmocka_unit_test(test_CS_34_charge_takes_what_the_wallet_has_and_posts_the_rest_as_debt),
                cmocka_unit_test(test_CS_21_shares_of_repayments_add_up_to_the_floor_of_the_whole),
                cmocka_unit_test(test_issue5_schedule_of_each_state),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
