/*
 * resv.h - the reservation lifecycle rules (issue 5, CS-14 to CS-35):
 * the numbers of the rules with their defaults, the state machine as one
 * table, and every fee and penalty as a pure function.
 *
 * Pure: no I/O, no clock (`now` is passed in), no allocation. Times are
 * unix seconds (UTC), ranges half-open [starts_at, ends_at). Money is
 * integer yen >= 0; every product and sum is overflow-checked and refused
 * with -EOVERFLOW, never wrapped. Invalid input gives -EINVAL. Rounding is
 * always down to the yen (all amounts are non-negative, so floor and
 * truncation agree), as CS-19, CS-24 and CS-27 decide.
 */
#ifndef ENEMANE_DOMAIN_RESV_H
#define ENEMANE_DOMAIN_RESV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/slot.h"

#define RESV_HOUR_S 3600LL

/*
 * Every number of the rules. Durations are seconds, percentages are whole
 * percent (0..100), money is yen. resv_rules_default() gives the spec's
 * defaults; the configuration may override any of them (then check with
 * resv_rules_check()).
 */
struct resv_rules {
        /* CS-27 user cancellation, by seconds left before start. */
        int64_t user_free_before_s;             /* left >= this: free (48 h) */
        int64_t user_half_before_s;             /* left >= this: half_pct (24 h) */
        int64_t user_half_pct;                  /* 50 */
        int64_t user_late_pct;                  /* left < half_before: 100 */
        /* CS-17 host cancellation. */
        int64_t host_self_before_s;             /* left > this: self-service, free (168 h) */
        int64_t host_cancel_fee;                /* individual host from 168 h on: 2200 */
        /* CS-20 non-performance. */
        int64_t nonperformance_fee;             /* individual host, own cause: 2200 */
        /* CS-20, CS-28: substitutes offered when left <= this (168 h). */
        int64_t substitute_within_s;
        /* CS-19 platform fee, CS-21 penalty share. */
        int64_t platform_fee_pct;               /* 10 */
        int64_t penalty_share_pct;              /* 20 */
        /* CS-33 overstay. */
        int64_t overstay_multiplier;            /* 2 (x hourly price x overtime) */
        int64_t unproven_overtime_s;            /* 24 h ... */
        int64_t unproven_max_booking_s;         /* ... for bookings up to 24 h long */
        int64_t overdue_close_after_s;          /* system close after end: 24 h */
        /* CS-14 pending request expiry: earlier of start and sent + this. */
        int64_t request_expiry_s;               /* 24 h */
        /* CS-24 grid, CS-29 check-in presence. */
        int64_t grid_s;                         /* 15 min */
        int64_t checkin_distance_m;             /* 200 */
};

void resv_rules_default(struct resv_rules *r);
/* 0, or -EINVAL when a number is out of its domain (negative durations or
 * fees, percentages outside 0..100, grid not dividing a day, 24 h < 48 h
 * order broken, ...). */
int resv_rules_check(const struct resv_rules *r);

/* ---- the state machine ------------------------------------------------------------ */

enum resv_state {
        RESV_REQUESTED = 0,
        RESV_CONFIRMED,
        RESV_CHECKED_IN,
        RESV_COMPLETED,
        RESV_REJECTED,
        RESV_EXPIRED,
        RESV_WITHDRAWN,
        RESV_CANCELLED_BY_USER,
        RESV_CANCELLED_BY_HOST,
        RESV_CANCELLED_NONPERFORMANCE,
        RESV_CANCELLED_UNUSABLE,
        RESV_OVERDUE,
        _RESV_STATE_MAX,
};

enum resv_event {
        RESV_EV_APPROVE = 0,            /* host (or on-site auto-approval) */
        RESV_EV_REJECT,                 /* host */
        RESV_EV_EXPIRE,                 /* scheduler, CS-14 */
        RESV_EV_WITHDRAW,               /* user, before confirmation */
        RESV_EV_CANCEL_USER,            /* CS-27 */
        RESV_EV_CANCEL_HOST,            /* CS-17 (self-service or operator) */
        RESV_EV_CANCEL_NONPERFORMANCE,  /* CS-20, operator finding */
        RESV_EV_CANCEL_UNUSABLE,        /* CS-28, operator finding */
        RESV_EV_CHECK_IN,               /* CS-29 */
        RESV_EV_CHECK_OUT,              /* CS-29, CS-33 */
        RESV_EV_BECOME_OVERDUE,         /* scheduler: past end, not checked out */
        RESV_EV_CLOSE_OVERDUE,          /* scheduler: end + overdue_close_after_s */
        RESV_EV_EARLY_USE,              /* CS-31 */
        RESV_EV_EXTEND,                 /* CS-32 */
        RESV_EV_NO_SHOW,                /* scheduler: confirmed, never checked in, past end */
        _RESV_EVENT_MAX,
};

/* Facts about a reservation that make some transitions illegal. */
enum {
        RESV_F_ONSITE = 1u << 0,        /* CS-26: no cancel_user, early_use, cancel_unusable */
        RESV_F_NOT_EXTENDABLE = 1u << 1, /* CS-32: charger model not extendable */
};

/*
 * The one transition table. 0 and *next, or -EPERM when e is not legal in
 * s (or is excluded by flags); -EINVAL for an out-of-range state or event.
 * *next is left untouched on error. resv_next() is resv_next_flags(.., 0).
 */
int resv_next(enum resv_state s, enum resv_event e, enum resv_state *next);
int resv_next_flags(enum resv_state s, enum resv_event e, unsigned flags,
                    enum resv_state *next);
/* The state a new reservation starts in: requested, or checked_in for an
 * on-site booking (CS-26: confirmed and started at once). */
enum resv_state resv_initial_state(bool onsite);
/* No event leaves a final state. */
bool resv_state_final(enum resv_state s);
/* Holds its range against other requests (CS-14): requested, confirmed,
 * checked_in, overdue (the car is still there). */
bool resv_state_active(enum resv_state s);
/* The reservations.status value the slot rules (slot.h) understand. */
int resv_state_slot_status(enum resv_state s);

/* Stable snake_case names ("cancelled_by_user", "check_in"); "unknown" for
 * an out-of-range value. The parsers return the value or -EINVAL. */
const char *resv_state_name(enum resv_state s);
int resv_state_from_name(const char *name);
const char *resv_event_name(enum resv_event e);
int resv_event_from_name(const char *name);

/* ---- ranges and fees ---------------------------------------------------------------- */

/* CS-24: from and to on the grid, to > from (so at least one step).
 * 0 or -EINVAL. */
int resv_check_range(const struct resv_rules *r, int64_t from, int64_t to);

/*
 * CS-24 fee of [from, to) over the charger's slots (sorted, non-overlapping):
 * slot_price_of_range(), after checking that the sum cannot overflow and
 * that no price is negative. 0, -EINVAL, -ENOENT (not covered), -EOVERFLOW.
 */
int resv_fee(const struct slot *slots, size_t n, int64_t from, int64_t to, int64_t *fee);

/* CS-27: what a user pays to cancel a confirmed booking of `fee` at now.
 * left = starts_at - now: >= 48 h free; >= 24 h floor(50 %); else 100 %
 * (also after the start). */
int resv_user_cancel_fee(const struct resv_rules *r, int64_t fee, int64_t starts_at,
                         int64_t now, int64_t *charge);

/* CS-17: host cancellation at now. */
struct resv_host_cancel {
        bool self_service;              /* left > 168 h: the host may do it itself */
        int64_t fee;                    /* handling fee the host pays the operator */
};
int resv_host_cancel(const struct resv_rules *r, bool corporate_host, int64_t starts_at,
                     int64_t now, struct resv_host_cancel *out);

/* CS-20: the host's handling fee for a non-performance finding. */
int64_t resv_nonperformance_fee(const struct resv_rules *r, bool corporate_host,
                                bool third_party_cause);

/* CS-20, CS-28: offer substitute chargers (left <= 168 h, or already started). */
bool resv_offer_substitutes(const struct resv_rules *r, int64_t starts_at, int64_t now);

/* CS-19: platform = floor(amount x pct / 100), host_net = amount - platform. */
int resv_platform_fee(const struct resv_rules *r, int64_t amount, int64_t *platform,
                      int64_t *host_net);

/* CS-21: of a paid penalty, the operator's share floor(penalty x pct / 100)
 * and what the host keeps. */
int resv_penalty_share(const struct resv_rules *r, int64_t penalty, int64_t *operator_share,
                       int64_t *host_keeps);

/* ---- overstay (CS-33) ----------------------------------------------------------------- */

/* What is known about the end of a booking. */
struct resv_end_facts {
        int64_t starts_at;              /* booked range, after extensions */
        int64_t ends_at;
        bool checked_out;
        int64_t checked_out_at;
        bool power_evidence;            /* charger/switch reported the real stop */
        int64_t power_stopped_at;
};

/*
 * Overtime in seconds after ends_at, by precedence:
 *   1. checked out: checked_out_at - ends_at (0 when on time or early);
 *   2. not checked out, with evidence of the real power stop:
 *      power_stopped_at - ends_at (0 when before the end);
 *   3. neither (unproven): unproven_overtime_s for bookings of at most
 *      unproven_max_booking_s, otherwise the booking's own duration.
 * -EINVAL when ends_at <= starts_at.
 */
int resv_overtime(const struct resv_rules *r, const struct resv_end_facts *f,
                  int64_t *overtime_s);
/* Started minutes: ceil(overtime_s / 60); 0 for overtime_s <= 0. */
int64_t resv_started_minutes(int64_t overtime_s);
/*
 * Penalty = floor(multiplier x hourly_price x started minutes / 60).
 * hourly_price is the one frozen on the reservation; where its range spans
 * slots with different prices, the caller passes the price of the last
 * piece (the price in force at the end, which the overtime continues).
 * 0 when !penalties_on (the host's setting). 0, -EINVAL, -EOVERFLOW.
 */
int resv_overstay_penalty(const struct resv_rules *r, bool penalties_on, int64_t hourly_price,
                          int64_t overtime_s, int64_t *minutes, int64_t *penalty);
/* When the scheduler closes an overdue booking: ends_at + overdue_close_after_s. */
int resv_overdue_close_at(const struct resv_rules *r, int64_t ends_at, int64_t *at);

/* ---- early use (CS-31) and extension (CS-32) ------------------------------------------- */

/*
 * Early use: move [starts_at, ends_at) to start at new_start, keeping the
 * duration. Legal when now < starts_at, new_start < starts_at, new_start on
 * the grid and not before the grid step holding now (so "from now" is
 * written as the current step), the new range is covered by slots and no
 * other active reservation (any id but self_id) overlaps it. Fills *moved
 * and *diff = new fee - old_fee (positive: the user pays more; negative:
 * refund). -EINVAL (bad input), -EPERM (too late / not earlier),
 * -ENOENT (not in slots), -EBUSY (taken), -EOVERFLOW.
 */
int resv_early_use(const struct resv_rules *r, const struct slot *slots, size_t n_slots,
                   const struct slot_reservation *others, size_t n_others, int64_t self_id,
                   int64_t starts_at, int64_t ends_at, int64_t old_fee, int64_t new_start,
                   int64_t now, struct slot_range *moved, int64_t *diff);

/* Extension: extra fee of moving ends_at to new_end at the reservation's
 * hourly price (CS-32), floor(hourly x extra seconds / 3600). new_end on the
 * grid and after ends_at; freeness is the caller's (store) check. */
int resv_extension_fee(const struct resv_rules *r, int64_t hourly_price, int64_t ends_at,
                       int64_t new_end, int64_t *fee);

/* ---- request expiry (CS-14) and presence (CS-29) ---------------------------------------- */

/* min(starts_at, sent_at + request_expiry_s). */
int resv_request_expiry(const struct resv_rules *r, int64_t sent_at, int64_t starts_at,
                        int64_t *expires_at);
/* ---- the schedule (time-driven transitions) ----------------------------------------- */

/*
 * When the scheduler must next look at a reservation in state s, and what
 * it does then: requested -> expire at expires_at (CS-14); confirmed ->
 * no_show at ends_at; checked_in -> become_overdue at ends_at; overdue ->
 * close_overdue at ends_at + overdue_close_after_s (CS-33). 0 and *ev
 * untouched for a final state (nothing is due).
 */
int64_t resv_due_at(const struct resv_rules *r, enum resv_state s, int64_t expires_at,
                    int64_t ends_at, enum resv_event *ev);

/* CS-29: a location within checkin_distance_m (inclusive) of the charger. */
bool resv_checkin_distance_ok(const struct resv_rules *r, double distance_m);

#endif
