/*
 * store_resv.h - reservations in the store (issue 5, CS-14 to CS-35):
 * requests, every later step of the lifecycle, the money of each step,
 * the event log, debts, the schedule of time-driven steps and the hosts'
 * calendar feed tokens.
 *
 * Every step is ONE write job: it re-reads the reservation, asks the
 * domain (domain/resv.h) whether the event is legal and what it costs,
 * executes the ledger transfers built by domain/resv_money.h on the same
 * connection, updates the row, appends the event (actor, time, reason,
 * location) and writes the notifications (store_notify.h). Either all of
 * it is committed or none: a refused transfer rolls the step back.
 * Requests run on the single writer thread, so the overlap check and the
 * insert can never interleave with another request: no double booking.
 *
 * Schema (migration 8): new columns on reservations (state is the domain
 * state; status stays the coarse value the slot code reads, see
 * resv_state_slot_status), reservation_events, debts, and
 * hosts.ical_token_hash.
 *
 * Errors (negative errno, *why filled where it says):
 *   -ENOENT    no such reservation / charger / vehicle
 *   -EPERM     the event is not legal in the current state (why->state)
 *   -EACCES    a host cancellation from 168 h before start needs the operator (CS-17)
 *   -ENOSPC    the wallet cannot hold the amount (why->available, why->needed)
 *   -EADDRINUSE the range is taken (why->conflict_id); -EBUSY stays the
 *              store's "shutting down"
 *   -ERANGE    the range is not inside the charger's slots
 *   -EDQUOT    the site's simultaneous-use limit is reached (why->limit)
 *   -ETIME     too early or too late for the step (check-in outside the booking)
 *   -ENOLINK   the user owes a debt (CS-34: no new bookings until paid)
 *   -ENOTCONN  the charger cannot be booked (deleted, delisted, out of
 *              service, QR not attached, host not publishable: why->reason)
 *   -EINVAL    bad input (range off the grid, longer than allowed, ...)
 */
#ifndef ENEMANE_STORE_RESV_H
#define ENEMANE_STORE_RESV_H

#include <stdbool.h>
#include <stdint.h>

#include "domain/ledger.h"
#include "domain/resv.h"
#include "store/store.h"

extern const char store_m008_sql[];

#define RESV_MESSAGE_MAX 500            /* bytes of a host's or operator's message */

struct store_resv {
        int64_t id;
        int64_t charger_id;
        int64_t host_id;
        int64_t user_id;
        int64_t vehicle_id;
        int64_t starts_at;
        int64_t ends_at;
        int state;                      /* enum resv_state */
        bool onsite;
        int64_t fee;                    /* the booking's fee, frozen at request (CS-16, CS-24) */
        int64_t hourly_price;           /* price at the end of the range (CS-32, CS-33) */
        int64_t extension_fee;          /* added by extensions (CS-32) */
        int hold_version;               /* current hold "resv:<id>:h<v>", 0 = none yet */
        int64_t hold_amount;            /* on hold now; 0 once settled */
        int64_t expires_at;             /* a request's expiry (CS-14) */
        int64_t checked_in_at;
        int64_t checked_out_at;
        int64_t closed_at;              /* when it reached a final state */
        int64_t charged;                /* the user paid for the booking (fee or cancellation) */
        int64_t platform_fee;           /* of charged, the operator's (CS-19) */
        int64_t refunded;               /* held and returned to the user */
        int64_t overtime_s;
        int64_t penalty;                /* CS-33 */
        int64_t penalty_paid;           /* of penalty, paid so far */
        int64_t host_fee;               /* the host's handling fee (CS-17, CS-20) */
        char message[RESV_MESSAGE_MAX + 1];
        int64_t due_at;                 /* the schedule's next look, 0 = none */
        int64_t created_at;
        int64_t updated_at;
};

struct store_resv_why {
        int state;                      /* -EPERM: the current state */
        int64_t available;              /* -ENOSPC */
        int64_t needed;
        int64_t conflict_id;            /* -EBUSY: the reservation in the way, 0 = unknown */
        int64_t limit;                  /* -EDQUOT */
        const char *reason;             /* -ENOTCONN: static text */
        int ledger_result;              /* the transfer result when money failed */
};

/* A new request or on-site booking (CS-24, CS-26). */
struct store_resv_new {
        int64_t charger_id;
        int64_t user_id;
        int64_t vehicle_id;
        int64_t starts_at;
        int64_t ends_at;
        bool onsite;                    /* confirmed and checked in at once */
};
int store_resv_request(struct store *st, const struct store_resv_new *n,
                       const struct resv_rules *r, int64_t now, struct store_resv *out,
                       struct store_resv_why *why);

/* Who does a step and with what. */
struct store_resv_step {
        enum resv_event ev;
        int64_t actor_id;               /* 0 = the system */
        const char *actor_role;         /* "user", "host", "operator", "system" */
        const char *reason;             /* message, finding; may be NULL */
        bool operator;                  /* CS-17: the operator acts for the host */
        bool third_party;               /* CS-20: caused by a third party's misuse */
        int64_t new_start;              /* early use (CS-31) */
        int64_t new_end;                /* extension (CS-32) */
        bool has_location;              /* check-in (CS-29): kept with the event */
        int64_t lat_e6, lon_e6;
        int64_t max_duration_s;         /* extension: the longest booking */
};
/* What a step moved (for the answer). */
struct store_resv_money {
        int64_t charged, platform_fee, host_net, refunded;
        int64_t penalty, penalty_paid, penalty_owed, penalty_share;
        int64_t host_fee, host_fee_paid, host_fee_owed;
        int64_t held_diff;              /* early use / extension: hold change (+ more held) */
};
int store_resv_apply(struct store *st, int64_t id, const struct store_resv_step *s,
                     const struct resv_rules *r, int64_t now, struct store_resv *out,
                     struct store_resv_money *money, struct store_resv_why *why);

/* The scheduler: runs the due step of reservation id when due at now
 * (expire, no_show, become_overdue, close_overdue); -EALREADY when nothing
 * is due (another tick or a user step came first: idempotent). */
int store_resv_tick(struct store *st, int64_t id, const struct resv_rules *r, int64_t now,
                    enum resv_event *done);
/* Up to max ids whose due_at <= now, earliest first. Returns the count. */
int store_resv_due(struct store *st, int64_t now, int64_t *ids, int max);

int store_resv_get(struct store *st, int64_t id, struct store_resv *out);

struct store_resv_filter {
        int64_t user_id;                /* one of user_id, host_id, charger_id */
        int64_t host_id;
        int64_t charger_id;
        int state;                      /* enum resv_state, -1 = any */
        bool active_only;               /* requested, confirmed, checked_in, overdue */
        int64_t from, to;               /* overlapping [from, to); 0 = no bound */
        int64_t after_id;               /* keyset, newest first: id < after_id (0 = none) */
        int limit;                      /* 1 .. 500 */
};
/* Newest first. Returns the count or <0. */
int store_resv_list(struct store *st, const struct store_resv_filter *f,
                    void (*cb)(const struct store_resv *r, void *ud), void *ud);

struct store_resv_event {
        int64_t id;
        int64_t reservation_id;
        char event[32];
        char from_state[32];            /* "" for the creation */
        char to_state[32];
        int64_t actor_id;
        char actor_role[16];
        char reason[RESV_MESSAGE_MAX + 1];
        bool has_location;
        int64_t lat_e6, lon_e6;
        int64_t at;
};
int store_resv_events(struct store *st, int64_t id,
                      void (*cb)(const struct store_resv_event *e, void *ud), void *ud);

/* CS-34: pays the member's open debts, oldest first, from what its wallet
 * has available (called after a top-up). *paid gets the yen paid back. */
int store_resv_settle_debts(struct store *st, int64_t member_id, const struct resv_rules *r,
                            int64_t now, int64_t *paid);
/* CS-34: what the member owes on open debts. */
int store_resv_debt(struct store *st, int64_t member_id, int64_t *owed);

/* CS-4: the member's live reservations as a user, and the live bookings
 * (confirmed or in use) on the chargers it hosts. */
int store_resv_blockers(struct store *st, int64_t member_id, int64_t *as_user,
                        int64_t *as_host);

/* The host's calendar feed: sets the token's hash (hex), replacing any
 * earlier one; looks a host up by it (-ENOENT). */
int store_resv_ical_set(struct store *st, int64_t host_id, const char *hash_hex);
int store_resv_ical_host(struct store *st, const char *hash_hex, int64_t *host_id);

#endif
