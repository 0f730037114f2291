/*
 * resv.c - reservation lifecycle rules (see resv.h): defaults, the
 * transition table, cancellation fees, platform fee and penalty share,
 * overstay, early use, extension and request expiry.
 */
#include "domain/resv.h"

#include <errno.h>
#include <string.h>

/* ---- rules ---------------------------------------------------------------------------- */

void resv_rules_default(struct resv_rules *r)
{
        memset(r, 0, sizeof(*r));
        r->user_free_before_s = 48 * RESV_HOUR_S;
        r->user_half_before_s = 24 * RESV_HOUR_S;
        r->user_half_pct = 50;
        r->user_late_pct = 100;
        r->host_self_before_s = 168 * RESV_HOUR_S;
        r->host_cancel_fee = 2200;
        r->nonperformance_fee = 2200;
        r->substitute_within_s = 168 * RESV_HOUR_S;
        r->platform_fee_pct = 10;
        r->penalty_share_pct = 20;
        r->overstay_multiplier = 2;
        r->unproven_overtime_s = 24 * RESV_HOUR_S;
        r->unproven_max_booking_s = 24 * RESV_HOUR_S;
        r->overdue_close_after_s = 24 * RESV_HOUR_S;
        r->request_expiry_s = 24 * RESV_HOUR_S;
        r->grid_s = 15 * 60;
        r->checkin_distance_m = 200;
}

static bool pct_ok(int64_t p)
{
        return p >= 0 && p <= 100;
}

/* A year: no duration of the rules is sensibly longer. */
#define RESV_DURATION_MAX (366LL * 86400)

static bool dur_ok(int64_t s)
{
        return s >= 0 && s <= RESV_DURATION_MAX;
}

int resv_rules_check(const struct resv_rules *r)
{
        if (!dur_ok(r->user_free_before_s) || !dur_ok(r->user_half_before_s) ||
            r->user_half_before_s > r->user_free_before_s)
                return -EINVAL;
        if (!pct_ok(r->user_half_pct) || !pct_ok(r->user_late_pct) ||
            r->user_half_pct > r->user_late_pct)
                return -EINVAL;
        if (!dur_ok(r->host_self_before_s) || !dur_ok(r->substitute_within_s))
                return -EINVAL;
        if (r->host_cancel_fee < 0 || r->nonperformance_fee < 0 ||
            r->host_cancel_fee > 1000000000LL || r->nonperformance_fee > 1000000000LL)
                return -EINVAL;
        if (!pct_ok(r->platform_fee_pct) || !pct_ok(r->penalty_share_pct))
                return -EINVAL;
        if (r->overstay_multiplier < 0 || r->overstay_multiplier > 100)
                return -EINVAL;
        if (!dur_ok(r->unproven_overtime_s) || !dur_ok(r->unproven_max_booking_s) ||
            !dur_ok(r->overdue_close_after_s) || r->request_expiry_s <= 0 ||
            !dur_ok(r->request_expiry_s))
                return -EINVAL;
        if (r->grid_s < 60 || r->grid_s % 60 != 0 || 86400 % r->grid_s != 0)
                return -EINVAL;
        if (r->checkin_distance_m < 0)
                return -EINVAL;
        return 0;
}

/* ---- the state machine ------------------------------------------------------------ */

/*
 * Every legal transition, and the flags that forbid it. Anything not in
 * this table is illegal. Preconditions about time and money (is it before
 * the start, is the new range free, ...) are the callers' through the
 * functions below; this table answers only "may this event happen in this
 * state for this kind of booking".
 */
static const struct {
        enum resv_state from;
        enum resv_event ev;
        enum resv_state to;
        unsigned forbidden;
} transitions[] = {
        /* A request: decided once by the host (CS-14), or it lapses. */
        { RESV_REQUESTED, RESV_EV_APPROVE, RESV_CONFIRMED, 0 },
        { RESV_REQUESTED, RESV_EV_REJECT, RESV_REJECTED, 0 },
        { RESV_REQUESTED, RESV_EV_EXPIRE, RESV_EXPIRED, 0 },
        { RESV_REQUESTED, RESV_EV_WITHDRAW, RESV_WITHDRAWN, 0 },
        /* A confirmed booking before use. */
        { RESV_CONFIRMED, RESV_EV_CANCEL_USER, RESV_CANCELLED_BY_USER, RESV_F_ONSITE },
        { RESV_CONFIRMED, RESV_EV_CANCEL_HOST, RESV_CANCELLED_BY_HOST, 0 },
        { RESV_CONFIRMED, RESV_EV_CANCEL_NONPERFORMANCE, RESV_CANCELLED_NONPERFORMANCE, 0 },
        { RESV_CONFIRMED, RESV_EV_CANCEL_UNUSABLE, RESV_CANCELLED_UNUSABLE, RESV_F_ONSITE },
        { RESV_CONFIRMED, RESV_EV_CHECK_IN, RESV_CHECKED_IN, 0 },
        { RESV_CONFIRMED, RESV_EV_EARLY_USE, RESV_CONFIRMED, RESV_F_ONSITE },
        { RESV_CONFIRMED, RESV_EV_NO_SHOW, RESV_COMPLETED, 0 },
        /* In use. Non-performance can be found after check-in too (the user
         * is at the charger and it does not work as booked). */
        { RESV_CHECKED_IN, RESV_EV_CHECK_OUT, RESV_COMPLETED, 0 },
        { RESV_CHECKED_IN, RESV_EV_EXTEND, RESV_CHECKED_IN, RESV_F_NOT_EXTENDABLE },
        { RESV_CHECKED_IN, RESV_EV_BECOME_OVERDUE, RESV_OVERDUE, 0 },
        { RESV_CHECKED_IN, RESV_EV_CANCEL_NONPERFORMANCE, RESV_CANCELLED_NONPERFORMANCE, 0 },
        /* Past the end, not checked out (CS-33). */
        { RESV_OVERDUE, RESV_EV_CHECK_OUT, RESV_COMPLETED, 0 },
        { RESV_OVERDUE, RESV_EV_CLOSE_OVERDUE, RESV_COMPLETED, 0 },
};

int resv_next_flags(enum resv_state s, enum resv_event e, unsigned flags,
                    enum resv_state *next)
{
        if ((int)s < 0 || s >= _RESV_STATE_MAX || (int)e < 0 || e >= _RESV_EVENT_MAX)
                return -EINVAL;
        for (size_t i = 0; i < sizeof(transitions) / sizeof(transitions[0]); i++) {
                if (transitions[i].from != s || transitions[i].ev != e)
                        continue;
                if (transitions[i].forbidden & flags)
                        return -EPERM;
                *next = transitions[i].to;
                return 0;
        }
        return -EPERM;
}

int resv_next(enum resv_state s, enum resv_event e, enum resv_state *next)
{
        return resv_next_flags(s, e, 0, next);
}

enum resv_state resv_initial_state(bool onsite)
{
        return onsite ? RESV_CHECKED_IN : RESV_REQUESTED;
}

bool resv_state_final(enum resv_state s)
{
        return !resv_state_active(s) && (int)s >= 0 && s < _RESV_STATE_MAX;
}

bool resv_state_active(enum resv_state s)
{
        return s == RESV_REQUESTED || s == RESV_CONFIRMED || s == RESV_CHECKED_IN ||
               s == RESV_OVERDUE;
}

int resv_state_slot_status(enum resv_state s)
{
        switch (s) {
        case RESV_REQUESTED:
                return SLOT_RES_PENDING;
        case RESV_CONFIRMED:
                return SLOT_RES_CONFIRMED;
        case RESV_CHECKED_IN:
        case RESV_OVERDUE:
                return SLOT_RES_CHECKED_IN;
        case RESV_COMPLETED:
                return SLOT_RES_COMPLETED;
        case RESV_REJECTED:
                return SLOT_RES_REJECTED;
        case RESV_EXPIRED:
                return SLOT_RES_EXPIRED;
        default:
                return SLOT_RES_CANCELLED;
        }
}

static const char *const state_names[_RESV_STATE_MAX] = {
        [RESV_REQUESTED] = "requested",
        [RESV_CONFIRMED] = "confirmed",
        [RESV_CHECKED_IN] = "checked_in",
        [RESV_COMPLETED] = "completed",
        [RESV_REJECTED] = "rejected",
        [RESV_EXPIRED] = "expired",
        [RESV_WITHDRAWN] = "withdrawn",
        [RESV_CANCELLED_BY_USER] = "cancelled_by_user",
        [RESV_CANCELLED_BY_HOST] = "cancelled_by_host",
        [RESV_CANCELLED_NONPERFORMANCE] = "cancelled_nonperformance",
        [RESV_CANCELLED_UNUSABLE] = "cancelled_unusable",
        [RESV_OVERDUE] = "overdue",
};

static const char *const event_names[_RESV_EVENT_MAX] = {
        [RESV_EV_APPROVE] = "approve",
        [RESV_EV_REJECT] = "reject",
        [RESV_EV_EXPIRE] = "expire",
        [RESV_EV_WITHDRAW] = "withdraw",
        [RESV_EV_CANCEL_USER] = "cancel_user",
        [RESV_EV_CANCEL_HOST] = "cancel_host",
        [RESV_EV_CANCEL_NONPERFORMANCE] = "cancel_nonperformance",
        [RESV_EV_CANCEL_UNUSABLE] = "cancel_unusable",
        [RESV_EV_CHECK_IN] = "check_in",
        [RESV_EV_CHECK_OUT] = "check_out",
        [RESV_EV_BECOME_OVERDUE] = "become_overdue",
        [RESV_EV_CLOSE_OVERDUE] = "close_overdue",
        [RESV_EV_EARLY_USE] = "early_use",
        [RESV_EV_EXTEND] = "extend",
        [RESV_EV_NO_SHOW] = "no_show",
};

const char *resv_state_name(enum resv_state s)
{
        if ((int)s < 0 || s >= _RESV_STATE_MAX)
                return "unknown";
        return state_names[s];
}

int resv_state_from_name(const char *name)
{
        for (int i = 0; name && i < _RESV_STATE_MAX; i++)
                if (strcmp(name, state_names[i]) == 0)
                        return i;
        return -EINVAL;
}

const char *resv_event_name(enum resv_event e)
{
        if ((int)e < 0 || e >= _RESV_EVENT_MAX)
                return "unknown";
        return event_names[e];
}

int resv_event_from_name(const char *name)
{
        for (int i = 0; name && i < _RESV_EVENT_MAX; i++)
                if (strcmp(name, event_names[i]) == 0)
                        return i;
        return -EINVAL;
}

/* ---- arithmetic helpers ----------------------------------------------------------------- */

/* floor(amount x pct / 100) for amount >= 0, pct in 0..100. */
static int pct_of(int64_t amount, int64_t pct, int64_t *out)
{
        int64_t p;

        if (amount < 0 || !pct_ok(pct))
                return -EINVAL;
        if (__builtin_mul_overflow(amount, pct, &p))
                return -EOVERFLOW;
        *out = p / 100;
        return 0;
}

/* starts_at - now, checked. */
static int left_before(int64_t starts_at, int64_t now, int64_t *left)
{
        if (__builtin_sub_overflow(starts_at, now, left))
                return -EOVERFLOW;
        return 0;
}

/* ---- ranges and fees ---------------------------------------------------------------- */

int resv_check_range(const struct resv_rules *r, int64_t from, int64_t to)
{
        if (to <= from)
                return -EINVAL;
        if (!slot_on_grid(from, r->grid_s / 60) || !slot_on_grid(to, r->grid_s / 60))
                return -EINVAL;
        return 0;
}

int resv_fee(const struct slot *slots, size_t n, int64_t from, int64_t to, int64_t *fee)
{
        int64_t dur, max_price = 0, bound;

        if (to <= from || (n > 0 && !slots))
                return -EINVAL;
        if (__builtin_sub_overflow(to, from, &dur))
                return -EOVERFLOW;
        /*
         * slot_price_of_range() sums price x seconds unchecked. The sum is
         * at most (highest price among the slots touching the range) x the
         * range's length, so proving that product fits proves the sum does.
         */
        for (size_t i = 0; i < n; i++) {
                if (slots[i].ends_at <= from || slots[i].starts_at >= to)
                        continue;
                if (slots[i].hourly_price < 0)
                        return -EINVAL;
                if (slots[i].hourly_price > max_price)
                        max_price = slots[i].hourly_price;
        }
        if (__builtin_mul_overflow(max_price, dur, &bound))
                return -EOVERFLOW;
        return slot_price_of_range(slots, n, from, to, fee);
}

int resv_user_cancel_fee(const struct resv_rules *r, int64_t fee, int64_t starts_at,
                         int64_t now, int64_t *charge)
{
        int64_t left;
        int rc;

        if (fee < 0)
                return -EINVAL;
        rc = left_before(starts_at, now, &left);
        if (rc < 0)
                return rc;
        /* Boundaries are inclusive on the generous side: exactly 48 h
         * before is free, exactly 24 h before is the half rate. */
        if (left >= r->user_free_before_s) {
                *charge = 0;
                return 0;
        }
        if (left >= r->user_half_before_s)
                return pct_of(fee, r->user_half_pct, charge);
        return pct_of(fee, r->user_late_pct, charge);
}

int resv_host_cancel(const struct resv_rules *r, bool corporate_host, int64_t starts_at,
                     int64_t now, struct resv_host_cancel *out)
{
        int64_t left;
        int rc = left_before(starts_at, now, &left);

        if (rc < 0)
                return rc;
        /* "More than 168 h" is strict: at exactly 168 h the operator acts. */
        if (left > r->host_self_before_s) {
                out->self_service = true;
                out->fee = 0;
                return 0;
        }
        out->self_service = false;
        out->fee = corporate_host ? 0 : r->host_cancel_fee;
        return 0;
}

int64_t resv_nonperformance_fee(const struct resv_rules *r, bool corporate_host,
                                bool third_party_cause)
{
        if (corporate_host || third_party_cause)
                return 0;
        return r->nonperformance_fee;
}

bool resv_offer_substitutes(const struct resv_rules *r, int64_t starts_at, int64_t now)
{
        int64_t left;

        if (left_before(starts_at, now, &left) < 0)
                return starts_at < now;         /* far past: already started */
        return left <= r->substitute_within_s;
}

int resv_platform_fee(const struct resv_rules *r, int64_t amount, int64_t *platform,
                      int64_t *host_net)
{
        int64_t p;
        int rc = pct_of(amount, r->platform_fee_pct, &p);

        if (rc < 0)
                return rc;
        *platform = p;
        *host_net = amount - p;         /* 0 <= p <= amount */
        return 0;
}

int resv_penalty_share(const struct resv_rules *r, int64_t penalty, int64_t *operator_share,
                       int64_t *host_keeps)
{
        int64_t p;
        int rc = pct_of(penalty, r->penalty_share_pct, &p);

        if (rc < 0)
                return rc;
        *operator_share = p;
        *host_keeps = penalty - p;
        return 0;
}

/* ---- overstay ---------------------------------------------------------------------------- */

/* max(0, t - end), checked. */
static int after_end(int64_t t, int64_t end, int64_t *out)
{
        int64_t d;

        if (__builtin_sub_overflow(t, end, &d))
                return -EOVERFLOW;
        *out = d > 0 ? d : 0;
        return 0;
}

int resv_overtime(const struct resv_rules *r, const struct resv_end_facts *f,
                  int64_t *overtime_s)
{
        int64_t dur;

        if (f->ends_at <= f->starts_at)
                return -EINVAL;
        /* The user's own check-out is the record of when the charger was
         * freed; power evidence only replaces the unproven estimate. */
        if (f->checked_out)
                return after_end(f->checked_out_at, f->ends_at, overtime_s);
        if (f->power_evidence)
                return after_end(f->power_stopped_at, f->ends_at, overtime_s);
        if (__builtin_sub_overflow(f->ends_at, f->starts_at, &dur))
                return -EOVERFLOW;
        /* CS-33 fixes 24 h for bookings of 24 h or less; a longer booking
         * counts its own duration (see docs/decisions.md). */
        *overtime_s = dur <= r->unproven_max_booking_s ? r->unproven_overtime_s : dur;
        return 0;
}

int64_t resv_started_minutes(int64_t overtime_s)
{
        if (overtime_s <= 0)
                return 0;
        /* ceil without overflow near INT64_MAX */
        return overtime_s / 60 + (overtime_s % 60 != 0);
}

int resv_overstay_penalty(const struct resv_rules *r, bool penalties_on, int64_t hourly_price,
                          int64_t overtime_s, int64_t *minutes, int64_t *penalty)
{
        int64_t m = resv_started_minutes(overtime_s), x;

        if (hourly_price < 0 || r->overstay_multiplier < 0)
                return -EINVAL;
        *minutes = m;
        if (!penalties_on) {
                *penalty = 0;
                return 0;
        }
        /*
         * One division at the end: floor(mult x price x minutes / 60).
         * Rounding each minute (or the hourly rate per minute) would lose
         * up to a yen per minute; the total is rounded down once, in the
         * user's favour, as every other fee.
         */
        if (__builtin_mul_overflow(r->overstay_multiplier, hourly_price, &x) ||
            __builtin_mul_overflow(x, m, &x))
                return -EOVERFLOW;
        *penalty = x / 60;
        return 0;
}

int resv_overdue_close_at(const struct resv_rules *r, int64_t ends_at, int64_t *at)
{
        if (__builtin_add_overflow(ends_at, r->overdue_close_after_s, at))
                return -EOVERFLOW;
        return 0;
}

/* ---- early use and extension ---------------------------------------------------------------- */

int resv_early_use(const struct resv_rules *r, const struct slot *slots, size_t n_slots,
                   const struct slot_reservation *others, size_t n_others, int64_t self_id,
                   int64_t starts_at, int64_t ends_at, int64_t old_fee, int64_t new_start,
                   int64_t now, struct slot_range *moved, int64_t *diff)
{
        int64_t dur, new_end, fee, step_start, local;
        int rc;

        if (ends_at <= starts_at || old_fee < 0 || r->grid_s <= 0)
                return -EINVAL;
        if (!slot_on_grid(new_start, r->grid_s / 60))
                return -EINVAL;
        if (now >= starts_at || new_start >= starts_at)
                return -EPERM;
        /* The grid step holding now: new_start may not lie before it. */
        if (__builtin_add_overflow(now, slot_local_offset(now), &local))
                return -EOVERFLOW;
        step_start = now - ((local % r->grid_s) + r->grid_s) % r->grid_s;
        if (new_start < step_start)
                return -EPERM;
        if (__builtin_sub_overflow(ends_at, starts_at, &dur))
                return -EOVERFLOW;
        if (__builtin_add_overflow(new_start, dur, &new_end))
                return -EOVERFLOW;
        rc = resv_fee(slots, n_slots, new_start, new_end, &fee);
        if (rc < 0)
                return rc;
        for (size_t i = 0; i < n_others; i++) {
                if (others[i].id == self_id || !slot_res_active(others[i].status))
                        continue;
                if (others[i].starts_at < new_end && new_start < others[i].ends_at)
                        return -EBUSY;
        }
        if (__builtin_sub_overflow(fee, old_fee, diff))
                return -EOVERFLOW;
        moved->starts_at = new_start;
        moved->ends_at = new_end;
        return 0;
}

int resv_extension_fee(const struct resv_rules *r, int64_t hourly_price, int64_t ends_at,
                       int64_t new_end, int64_t *fee)
{
        int64_t extra, x;

        if (hourly_price < 0 || new_end <= ends_at)
                return -EINVAL;
        if (!slot_on_grid(new_end, r->grid_s / 60))
                return -EINVAL;
        if (__builtin_sub_overflow(new_end, ends_at, &extra) ||
            __builtin_mul_overflow(hourly_price, extra, &x))
                return -EOVERFLOW;
        *fee = x / RESV_HOUR_S;
        return 0;
}

/* ---- request expiry and presence ------------------------------------------------------------ */

int resv_request_expiry(const struct resv_rules *r, int64_t sent_at, int64_t starts_at,
                        int64_t *expires_at)
{
        int64_t t;

        if (r->request_expiry_s <= 0)
                return -EINVAL;
        if (__builtin_add_overflow(sent_at, r->request_expiry_s, &t))
                return -EOVERFLOW;
        *expires_at = t < starts_at ? t : starts_at;
        return 0;
}

bool resv_checkin_distance_ok(const struct resv_rules *r, double distance_m)
{
        /* NaN compares false: refused. */
        return distance_m >= 0 && distance_m <= (double)r->checkin_distance_m;
}

int64_t resv_due_at(const struct resv_rules *r, enum resv_state s, int64_t expires_at,
                    int64_t ends_at, enum resv_event *ev)
{
        int64_t at = 0;

        switch (s) {
        case RESV_REQUESTED:
                *ev = RESV_EV_EXPIRE;
                return expires_at;
        case RESV_CONFIRMED:
                *ev = RESV_EV_NO_SHOW;
                return ends_at;
        case RESV_CHECKED_IN:
                *ev = RESV_EV_BECOME_OVERDUE;
                return ends_at;
        case RESV_OVERDUE:
                if (resv_overdue_close_at(r, ends_at, &at) < 0)
                        at = INT64_MAX;
                *ev = RESV_EV_CLOSE_OVERDUE;
                return at;
        default:
                return 0;
        }
}
